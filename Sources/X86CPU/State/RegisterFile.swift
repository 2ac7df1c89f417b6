import X86

/// Eight 64-bit values, indexed by a register's number (segment registers, DR0-DR7).
public typealias Quads8 = (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64)
/// Sixteen 64-bit values (the general registers by encoding number; the x87's eight registers
/// as significand and sign-exponent pairs).
public typealias Quads16 = (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64,
                            UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64)
/// Thirty-two 64-bit values (XMM0-XMM15 as low and high quadwords).
public typealias Quads32 = (Quads16, Quads16)

/// Everything one CPU holds, as plain words in one block: the architectural registers and the
/// interpreter's own per-CPU bookkeeping. `CPUState` owns one and reaches it through a single
/// unsafe pointer, so the hot path pays no reference counting, copy-on-write or exclusivity
/// checks; the fields the hot loop touches come first. Narrow registers (CPL, selectors,
/// MXCSR, the x87 words) are kept zero-extended in 64-bit words so that the block is a flat
/// array of words: a copy is one move, and a translator finds any field at
/// `MemoryLayout<RegisterFile>.offset(of:)`. The typed views (`cpl`, `segment(_:)`, `fcw`,
/// ...) are on `CPUState`.
public struct RegisterFile {
    // MARK: hot: every instruction

    /// RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI, R8-R15: by their encoding numbers.
    public var gprs: Quads16 = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
    /// Always 0: the general registers' slot 16, which a fast form's absent base or index
    /// register (`FastAddress.none`) reads, so that an effective address is summed without
    /// a branch.
    public let noRegister: UInt64 = 0
    public var rip: UInt64 = 0
    /// Bit 1 is always set.
    public var rflags: UInt64 = 2
    /// The current privilege level, 0-3.
    public var cpl: UInt64 = 0
    /// Nonzero while the CPU reads or writes descriptor tables, the TSS or an interrupt stack on
    /// behalf of a privilege change: supervisor accesses whatever the CPL.
    public var implicitSupervisor: UInt64 = 0
    /// 1 when data accesses are user-mode accesses (CPL 3 and not `implicitSupervisor`), as
    /// the TLB's tags carry it; derived from the two by `CPUState`'s setters.
    public var userAccess: UInt64 = 0
    /// Instructions retired.
    public var retired: UInt64 = 0
    /// A store hit a frame holding decoded code: 0 none; `frame << 2 | 2` that frame's entries
    /// go after this instruction; 1 everything goes.
    public var codeInvalidation: UInt64 = 0

    // MARK: SSE and x87

    /// XMM0-XMM15, each as its low quadword then its high one.
    public var xmm: Quads32 = ((0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0),
                               (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0))
    public var mxcsr: UInt64 = 0x1F80
    /// The physical registers R0-R7 (not stack-relative), each as its 64-bit significand then
    /// its sign and 15-bit exponent.
    public var x87: Quads16 = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
    /// Control word (FNINIT: 0x37F), status word (TOP in bits 11-13), full tag word (two bits a
    /// register: 0 valid, 1 zero, 2 special, 3 empty).
    public var fcw: UInt64 = 0x37F
    public var fsw: UInt64 = 0
    public var ftw: UInt64 = 0xFFFF
    /// The last non-control x87 instruction's opcode (11 bits), instruction and data pointers.
    public var fop: UInt64 = 0
    public var fip: UInt64 = 0
    public var fdp: UInt64 = 0

    // MARK: mode and segments (what translation and decoding depend on, through `efer`)

    /// The code segment's mode as `CPUMode`'s raw value (16, 32, 64), derived by `updateMode`.
    public var mode: UInt64 = 0
    /// RSP's width as a mask (SS.B, or 64-bit mode), derived.
    public var stackMask: UInt64 = 0
    /// 1 outside 64-bit mode, where every segment's base applies; derived.
    public var legacySegmentation: UInt64 = 0
    /// ES, CS, SS, DS, FS, GS, LDTR, TR (`SegmentRegister` order): the hidden bases, limits (in
    /// bytes), the visible selectors and the attributes (descriptor bits 40-55).
    public var segmentBases: Quads8 = (0, 0, 0, 0, 0, 0, 0, 0)
    public var segmentLimits: Quads8 = (0, 0, 0, 0, 0, 0, 0, 0)
    public var selectors: Quads8 = (0, 0, 0, 0, 0, 0, 0, 0)
    public var segmentAttributes: Quads8 = (0, 0, 0, 0, 0, 0, 0, 0)
    public var gdtrBase: UInt64 = 0
    public var gdtrLimit: UInt64 = 0
    public var idtrBase: UInt64 = 0
    public var idtrLimit: UInt64 = 0
    public var cr0: UInt64 = 0
    public var cr2: UInt64 = 0
    public var cr3: UInt64 = 0
    public var cr4: UInt64 = 0
    public var efer: UInt64 = 0

    // MARK: the rest of the system state

    /// The task priority (bits 3:0).
    public var cr8: UInt64 = 0
    public var dr: Quads8 = (0, 0, 0, 0, 0, 0, 0, 0)
    public var xcr0: UInt64 = 0
    public var pkru: UInt64 = 0
    /// The STI / MOV SS interrupt shadow: the retired count it covers plus one; 0 when none.
    public var interruptShadowEnd: UInt64 = 0
    /// `CPUState.Activity`'s raw value: 0 active, 1 halted, 2 shut down.
    public var activity: UInt64 = 0
    /// DR6's B0-B3 for the data breakpoints the current instruction hit.
    public var watchHits: UInt64 = 0
    /// What the VMM asked the run loop to stop for (`CPUState.exitRequests`).
    public var exitRequests: UInt64 = 0
    /// The exit request a debugger's watchpoints keep set (bit 4: the run loop looks after
    /// every instruction) and its breakpoints (bit 5: it looks before each block): the CPU's
    /// own, not the guest's state.
    public static let debuggerWatching: UInt64 = 16, debuggerBreaking: UInt64 = 32
    public static let debuggerRequests: UInt64 = debuggerWatching | debuggerBreaking
    /// A single-step trap SYSCALL or SYSRET owes (nonzero).
    public var pendingSingleStep: UInt64 = 0
    /// NMIs blocked until the next IRET (nonzero).
    public var nmiBlocked: UInt64 = 0
    /// The MOV SS / POP SS debug shadow, encoded as `interruptShadowEnd`.
    public var movSSShadowEnd: UInt64 = 0
    /// Debug conditions the MOV SS shadow held back: DR6's B0-B3 and BS.
    public var deferredDebugStatus: UInt64 = 0
    /// IA32_PKRS: the supervisor-page protection keys' rights (two bits a key, as PKRU).
    public var pkrs: UInt64 = 0

    public init() {}

    /// How many 64-bit words the block holds.
    public static var words: Int { MemoryLayout<RegisterFile>.size / 8 }

    /// The words that translation and decoding depend on, from `cpl`'s through `efer`'s except
    /// the hot, SSE and x87 ones in between: equal ranges mean the TLB and decoded code stand.
    public static func systemWordsEqual(_ a: UnsafePointer<RegisterFile>, _ b: UnsafePointer<RegisterFile>) -> Bool {
        guard a.pointee.cpl == b.pointee.cpl else { return false }
        let first = MemoryLayout<RegisterFile>.offset(of: \RegisterFile.mode)! / 8
        let end = MemoryLayout<RegisterFile>.offset(of: \RegisterFile.efer)! / 8 + 1
        let x = UnsafeRawPointer(a).assumingMemoryBound(to: UInt64.self)
        let y = UnsafeRawPointer(b).assumingMemoryBound(to: UInt64.self)
        return (first..<end).allSatisfy { x[$0] == y[$0] }
    }
}

/// The words that follow a CPU's `RegisterFile` in the same allocation (`CPUState.words`), for
/// host code that reaches everything of its vCPU through the register file's address (RBX): the
/// code keys, and where the CPU's blocks, interpreter entry and TLB are. A translation then
/// names nothing of one vCPU, and every vCPU of a machine can run it (X86JIT: one translation
/// cache for the vCPUs). Not state: `RegisterFile` copies and resets leave them alone.
@_spi(Translator) public struct TranslationWords {
    /// `CPUState.codeKey` and `globalCodeKey`, in this order.
    public var codeKey: UInt64 = 0
    public var globalCodeKey: UInt64 = 1 << 63
    /// The CPU's `FormRunner` (`runFastFormEntry`'s first argument), its blocks' slots, and its
    /// memory's TLB (`TranslationTLB`: the tags, with the pages after them, and the epoch's word); 0 until the CPU
    /// has a translator.
    public var runner: UInt = 0
    public var blocks: UInt = 0
    public var tlbTags: UInt = 0
    public var tlbEpoch: UInt = 0

    /// Where a field is from the register file's address.
    public static func offset(_ field: PartialKeyPath<TranslationWords>) -> Int {
        MemoryLayout<RegisterFile>.stride + MemoryLayout<TranslationWords>.offset(of: field)!
    }
}

/// A field of the block seen as consecutive words: the general registers, the segment arrays,
/// DR0-7, XMM and x87 halves. `RegisterFile`'s words are all `UInt64`, so a pointer to a
/// tuple field is a pointer to its first word.
@inline(__always)
func words<T>(_ p: UnsafeMutablePointer<T>) -> UnsafeMutablePointer<UInt64> {
    UnsafeMutableRawPointer(p).assumingMemoryBound(to: UInt64.self)
}
