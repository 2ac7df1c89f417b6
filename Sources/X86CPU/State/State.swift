import X86

/// An exception an instruction raised: it changed no architectural state. `exit` is not an
/// exception: the instruction needs the VMM (an I/O port, an MMIO access, HLT, ...) and did not
/// retire; the VMM handles the exit and resumes.
public enum CPUException: Error, Equatable, Sendable, CustomStringConvertible {
    case divideError                 // #DE
    case debug                       // #DB
    case breakpoint                  // #BP
    case overflow                    // #OF
    case boundRange                  // #BR
    case invalidOpcode               // #UD
    case deviceNotAvailable          // #NM
    case doubleFault                 // #DF (error code 0)
    case invalidTSS(UInt32)          // #TS
    case segmentNotPresent(UInt32)   // #NP
    case stackFault(UInt32)          // #SS(error code)
    case generalProtection(UInt32)   // #GP(error code)
    case pageFault(address: UInt64, errorCode: UInt32)
    case x87FloatingPoint            // #MF
    case alignmentCheck              // #AC (error code 0)
    case simdFloatingPoint           // #XM
    case exit(CPUExit)

    /// The vector (-1 for an exit).
    public var vector: Int {
        switch self {
        case .divideError: 0
        case .debug: 1
        case .breakpoint: 3
        case .overflow: 4
        case .boundRange: 5
        case .invalidOpcode: 6
        case .deviceNotAvailable: 7
        case .doubleFault: 8
        case .invalidTSS: 10
        case .segmentNotPresent: 11
        case .stackFault: 12
        case .generalProtection: 13
        case .pageFault: 14
        case .x87FloatingPoint: 16
        case .alignmentCheck: 17
        case .simdFloatingPoint: 19
        case .exit: -1
        }
    }

    /// The error code delivery pushes, if the vector has one.
    public var errorCode: UInt32? {
        switch self {
        case .invalidTSS(let c), .segmentNotPresent(let c), .stackFault(let c), .generalProtection(let c): c
        case .pageFault(_, let c): c
        case .doubleFault, .alignmentCheck: 0
        default: nil
        }
    }

    /// Contributory exceptions (SDM vol. 3, table 6-5): two in a row make a double fault.
    public var isContributory: Bool {
        switch self {
        case .divideError, .invalidTSS, .segmentNotPresent, .stackFault, .generalProtection: true
        default: false
        }
    }

    public var description: String {
        switch self {
        case .divideError: "#DE"
        case .debug: "#DB"
        case .breakpoint: "#BP"
        case .overflow: "#OF"
        case .boundRange: "#BR"
        case .invalidOpcode: "#UD"
        case .deviceNotAvailable: "#NM"
        case .doubleFault: "#DF"
        case .invalidTSS(let c): "#TS(\(c))"
        case .segmentNotPresent(let c): "#NP(\(c))"
        case .stackFault(let c): "#SS(\(c))"
        case .generalProtection(let c): "#GP(\(c))"
        case .pageFault(let a, let c): "#PF(\(hex(a)), \(c))"
        case .x87FloatingPoint: "#MF"
        case .alignmentCheck: "#AC"
        case .simdFloatingPoint: "#XM"
        case .exit(let e): "exit: \(e)"
        }
    }
}

/// Why the CPU stopped for the VMM. Like a hardware VM exit, the instruction that caused it
/// (I/O, MMIO, HLT) has not retired: RIP still points at it. The VMM completes it (the I/O
/// and MMIO assists) or advances past it.
public enum CPUExit: Equatable, Sendable, CustomStringConvertible {
    /// IN, OUT, INS, OUTS after the I/O permission checks.
    case io(IOExit)
    /// A load, store or fetch reached a guest-physical address the nested fault handler could
    /// not back with RAM: a device's range (MMIO assist) or unbacked memory.
    /// With `access` `.walk`, the guest page walk's read of a paging-structure entry at `gpa`
    /// on the way to `linear` faulted, not the access to `linear` itself.
    case nestedFault(gpa: UInt64, access: NestedAccess, linear: UInt64)
    /// HLT at CPL 0.
    case halt
    /// A triple fault (or an exception while delivering a double fault).
    case shutdown
    /// RDMSR/WRMSR of an MSR configured to exit (`write` carries the value).
    case msr(index: UInt32, write: UInt64?)
    /// CPUID of a leaf configured to exit.
    case cpuid(leaf: UInt32, subleaf: UInt32)
    /// VMCALL (Intel model) or VMMCALL (AMD model) with `hypercallExiting`: RIP still points
    /// at the instruction (3 bytes), which the VMM completes.
    case hypercall
    /// The VMM asked for it: interrupts became deliverable (interrupt-window exiting), or
    /// the VMM wanted the vCPU back before the next instruction.
    case interruptWindow
    /// A debugger's breakpoint at the next instruction's linear address (`debuggerBreakpoints`):
    /// the instruction has not run; the guest sees nothing.
    case debuggerBreakpoint

    public var description: String {
        switch self {
        case .debuggerBreakpoint: "debugger breakpoint"
        case .io(let e): "\(e)"
        case .nestedFault(let g, let a, let l): "nested fault (\(a)) at GPA \(hex(g)), linear \(hex(l))"
        case .halt: "hlt"
        case .shutdown: "shutdown"
        case .msr(let i, let w): w == nil ? "rdmsr \(hex(UInt64(i)))" : "wrmsr \(hex(UInt64(i))) = \(hex(w!))"
        case .cpuid(let l, let s): "cpuid \(hex(UInt64(l))).\(s)"
        case .hypercall: "hypercall"
        case .interruptWindow: "interrupt window"
        }
    }
}

/// An access that left the nested pmap.
public enum NestedAccess: UInt8, Equatable, Sendable, CustomStringConvertible {
    /// `walk`: a read of a paging-structure entry by the guest page walk.
    case read, write, fetch, walk
    public var description: String { ["read", "write", "fetch", "page-walk read"][Int(rawValue)] }
}

/// A port I/O instruction, as the exit reports it (AMD's IOIO exit information, with the
/// value of an OUT).
public struct IOExit: Equatable, Sendable, CustomStringConvertible {
    public var port: UInt16
    /// 1, 2 or 4 bytes.
    public var size: Int
    public var isIn: Bool
    /// INS/OUTS; `rep` with a REP prefix.
    public var string: Bool
    public var rep: Bool
    /// The string instruction's address size (2, 4, 8) and source segment (OUTS: DS or override).
    public var addressSize: Int
    public var segment: Int
    /// OUT's value (AL, AX or EAX).
    public var value: UInt32
    /// The instruction's length: the VMM advances RIP by it.
    public var length: Int

    public init(port: UInt16, size: Int, isIn: Bool, string: Bool = false, rep: Bool = false,
                addressSize: Int = 8, segment: Int = 3, value: UInt32 = 0, length: Int) {
        (self.port, self.size, self.isIn, self.string, self.rep) = (port, size, isIn, string, rep)
        (self.addressSize, self.segment, self.value, self.length) = (addressSize, segment, value, length)
    }

    public var description: String {
        let name = (isIn ? "in" : "out") + (string ? "s" : "")
        return "\(rep ? "rep " : "")\(name) port \(hex(UInt64(port))) size \(size)" + (isIn || string ? "" : " value \(hex(UInt64(value)))")
    }
}

/// RFLAGS bits.
public enum Flag {
    public static let iopl: UInt64 = 3 << 12
    public static let nt: UInt64 = 1 << 14
    public static let rf: UInt64 = 1 << 16
    public static let vm: UInt64 = 1 << 17
    public static let ac: UInt64 = 1 << 18
    public static let vif: UInt64 = 1 << 19
    public static let vip: UInt64 = 1 << 20
    public static let id: UInt64 = 1 << 21
    public static let cf: UInt64 = 1 << 0
    public static let pf: UInt64 = 1 << 2
    public static let af: UInt64 = 1 << 4
    public static let zf: UInt64 = 1 << 6
    public static let sf: UInt64 = 1 << 7
    public static let tf: UInt64 = 1 << 8
    public static let `if`: UInt64 = 1 << 9
    public static let df: UInt64 = 1 << 10
    public static let of: UInt64 = 1 << 11
    /// The six status flags.
    public static let status: UInt64 = cf | pf | af | zf | sf | of
}

/// Guest memory as the CPU sees it at user level: linear addresses (segment bases
/// already applied). Accesses are little-endian; a failed access throws the fault.
public protocol CPUMemory: AnyObject {
    func read(_ address: UInt64, size: Int) throws(CPUException) -> UInt64
    func write(_ address: UInt64, size: Int, value: UInt64) throws(CPUException)
    /// Copies up to `max` instruction bytes at `address` into `buffer`; returns how many
    /// could be fetched (fewer at the end of executable memory), or throws if none.
    func fetch(_ address: UInt64, into buffer: UnsafeMutablePointer<UInt8>, max: Int) throws(CPUException) -> Int
    /// REP MOVS/STOS fast path: copies `count` bytes from `source` to `destination` (or, with
    /// `source` nil, stores `count / size` copies of the `size`-byte `pattern`) when the whole
    /// block is plain memory that neither faults nor belongs to a device; returns false, having
    /// done nothing, otherwise. The blocks never overlap and never cross a 4 KiB page.
    func block(to destination: UInt64, from source: UInt64?, pattern: UInt64, size: Int, count: Int) -> Bool
    /// The CPU hands its state to the memory once (paging depends on CR0, CR3, CR4, EFER, CPL).
    func attach(_ state: CPUState)
    /// Guest TLB maintenance: everything, or one page, or everything but global translations
    /// (MOV CR3).
    func flushTLB()
    func flushTLB(page address: UInt64)
    func flushNonGlobalTLB()
    /// The data breakpoints to report (Debug.swift): accesses that overlap one set its bit in
    /// `CPUState.watchHits`. Memories without a TLB may ignore them.
    func watch(_ points: [Watchpoint])
    /// Whether the memory notices stores to code itself, by host frame (a store to a frame
    /// holding decoded code sets `CPUState.codeWritten`) and moves the code epoch on every TLB
    /// flush, whole or of one page (`CPUState.newCodeEpoch`), so that decoded instructions
    /// survive address-space switches and aliases are caught; otherwise the CPU compares each
    /// store's linear page with the code's and drops decoded code when paging changes.
    static var tracksCodeFrames: Bool { get }
    /// The frame holding the instruction byte at `address` (fetched through the TLB, with its
    /// faults): the identity a decoded instruction is checked against after a TLB flush.
    /// Memories that track frames mark it as holding code.
    func codeFrame(_ address: UInt64) throws(CPUException) -> UInt64
    /// Whether the translation the last `codeFrame` used is global (code there may keep
    /// `CPUState.globalCodeKey`). Memories without paging say false.
    var lastCodeFrameGlobal: Bool { get }
    /// The host address of a `size`-byte data access at `address` (0 read, 1 write) when the
    /// memory can serve it at once with nothing left to check, the canonical check included;
    /// nil sends it through `read` or `write`.
    func probe(_ address: UInt64, _ size: Int, _ kind: Int) -> UnsafeMutableRawPointer?
}

extension CPUMemory {
    public func probe(_ address: UInt64, _ size: Int, _ kind: Int) -> UnsafeMutableRawPointer? { nil }
}

extension CPUMemory {
    /// Memories without a fast path: the interpreter moves element by element.
    public func block(to destination: UInt64, from source: UInt64?, pattern: UInt64, size: Int, count: Int) -> Bool { false }
    /// Memories without paging (user-level checks) ignore the system state and TLB operations.
    public func attach(_ state: CPUState) {}
    public func flushTLB() {}
    public func flushTLB(page address: UInt64) {}
    public func flushNonGlobalTLB() { flushTLB() }
    public var lastCodeFrameGlobal: Bool { false }
    public func watch(_ points: [Watchpoint]) {}
    public static var tracksCodeFrames: Bool { false }
    /// Without paging, the linear page is the frame.
    public func codeFrame(_ address: UInt64) throws(CPUException) -> UInt64 { address >> 12 }
}

/// The state of one CPU: a `RegisterFile` in unsafe storage owned by the object, with typed
/// views of its fields. The hot path pays no copy-on-write or exclusivity checks.
public final class CPUState {
    /// The whole block (RegisterFile.swift).
    public let file: UnsafeMutablePointer<RegisterFile>
    /// The words after it, for host code (`TranslationWords`).
    @_spi(Translator) public let words: UnsafeMutablePointer<TranslationWords>
    /// The general registers by encoding number (0 RAX ... 15 R15): `file`'s first words.
    public var gpr: UnsafeMutablePointer<UInt64> {
        @inline(__always) get { words(MemoryLayout<RegisterFile>.offset(of: \.gprs)!) }
    }
    /// The block's indexed fields as words: segment bases, limits, selectors and attributes
    /// (by `SegmentRegister`), DR0-7, XMM halves, x87 halves. Each is `file` plus an offset the
    /// compiler folds to a constant: no pointer of its own to load.
    var segmentBases: UnsafeMutablePointer<UInt64> { @inline(__always) get { words(MemoryLayout<RegisterFile>.offset(of: \.segmentBases)!) } }
    var segmentLimits: UnsafeMutablePointer<UInt64> { @inline(__always) get { words(MemoryLayout<RegisterFile>.offset(of: \.segmentLimits)!) } }
    var selectors: UnsafeMutablePointer<UInt64> { @inline(__always) get { words(MemoryLayout<RegisterFile>.offset(of: \.selectors)!) } }
    var segmentAttributes: UnsafeMutablePointer<UInt64> {
        @inline(__always) get { words(MemoryLayout<RegisterFile>.offset(of: \.segmentAttributes)!) }
    }
    var debugRegisters: UnsafeMutablePointer<UInt64> { @inline(__always) get { words(MemoryLayout<RegisterFile>.offset(of: \.dr)!) } }
    var xmmWords: UnsafeMutablePointer<UInt64> { @inline(__always) get { words(MemoryLayout<RegisterFile>.offset(of: \.xmm)!) } }
    var x87Words: UnsafeMutablePointer<UInt64> { @inline(__always) get { words(MemoryLayout<RegisterFile>.offset(of: \.x87)!) } }
    /// The block's word at a byte offset (every field is made of UInt64 words).
    @inline(__always) func words(_ offset: Int) -> UnsafeMutablePointer<UInt64> {
        (UnsafeMutableRawPointer(file) + offset).assumingMemoryBound(to: UInt64.self)
    }

    public init() {
        codePages = .allocate(capacity: CPUState.codePageWords)
        codePages.initialize(repeating: 0, count: CPUState.codePageWords)
        // The register file and the words host code reaches beside it, in one allocation that
        // starts a cache line.
        let raw = UnsafeMutableRawPointer.allocate(byteCount: MemoryLayout<RegisterFile>.stride + MemoryLayout<TranslationWords>.stride,
                                                   alignment: 64)
        file = raw.bindMemory(to: RegisterFile.self, capacity: 1)
        file.initialize(to: RegisterFile())
        words = (raw + MemoryLayout<RegisterFile>.stride).bindMemory(to: TranslationWords.self, capacity: 1)
        words.initialize(to: TranslationWords())
        codeKeyStorage = (UnsafeMutableRawPointer(words) + MemoryLayout<TranslationWords>.offset(of: \.codeKey)!)
            .assumingMemoryBound(to: UInt64.self)
        precondition(MemoryLayout<RegisterFile>.offset(of: \RegisterFile.noRegister) == 8 * Int(FastAddress.none),
                     "RegisterFile.noRegister must follow the sixteen general registers")
        setUserMode64()
    }

    /// Copies another CPU's whole state into this one (the code key follows the CPL).
    public func copy(from other: CPUState) {
        file.pointee = other.file.pointee
        refreshCodeKey()
    }

    /// Whether everything translation and decoding depend on (CPL, mode, segments, descriptor
    /// tables, CR0, CR2, CR3, CR4, EFER) is the same in `other`.
    public func sameSystemState(as other: CPUState) -> Bool {
        RegisterFile.systemWordsEqual(file, other.file)
    }

    // MARK: the general registers by name

    public var rax: UInt64 {
        @inline(__always) get { file.pointee.gprs.0 }
        @inline(__always) set { file.pointee.gprs.0 = newValue }
    }
    public var rcx: UInt64 {
        @inline(__always) get { file.pointee.gprs.1 }
        @inline(__always) set { file.pointee.gprs.1 = newValue }
    }
    public var rdx: UInt64 {
        @inline(__always) get { file.pointee.gprs.2 }
        @inline(__always) set { file.pointee.gprs.2 = newValue }
    }
    public var rbx: UInt64 {
        @inline(__always) get { file.pointee.gprs.3 }
        @inline(__always) set { file.pointee.gprs.3 = newValue }
    }
    public var rsp: UInt64 {
        @inline(__always) get { file.pointee.gprs.4 }
        @inline(__always) set { file.pointee.gprs.4 = newValue }
    }
    public var rbp: UInt64 {
        @inline(__always) get { file.pointee.gprs.5 }
        @inline(__always) set { file.pointee.gprs.5 = newValue }
    }
    public var rsi: UInt64 {
        @inline(__always) get { file.pointee.gprs.6 }
        @inline(__always) set { file.pointee.gprs.6 = newValue }
    }
    public var rdi: UInt64 {
        @inline(__always) get { file.pointee.gprs.7 }
        @inline(__always) set { file.pointee.gprs.7 = newValue }
    }
    public var r11: UInt64 {
        @inline(__always) get { file.pointee.gprs.11 }
        @inline(__always) set { file.pointee.gprs.11 = newValue }
    }

    /// XMM register `n`: its low quadword, then its high one.
    public func xmm(_ n: Int) -> (lo: UInt64, hi: UInt64) { (xmmWords[2 * n], xmmWords[2 * n + 1]) }
    public func setXMM(_ n: Int, _ v: (lo: UInt64, hi: UInt64)) {
        xmmWords[2 * n] = v.lo
        xmmWords[2 * n + 1] = v.hi
    }
    /// MXCSR; 0x1F80 at reset.
    public var mxcsr: UInt32 {
        @inline(__always) get { UInt32(truncatingIfNeeded: file.pointee.mxcsr) }
        @inline(__always) set { file.pointee.mxcsr = UInt64(newValue) }
    }

    /// x87 physical register `n` (not stack-relative): its 64-bit significand and its sign and
    /// 15-bit exponent.
    public func x87Register(_ n: Int) -> (significand: UInt64, se: UInt16) {
        (x87Words[2 * n], UInt16(truncatingIfNeeded: x87Words[2 * n + 1]))
    }
    public func setX87Register(_ n: Int, _ v: (significand: UInt64, se: UInt16)) {
        x87Words[2 * n] = v.significand
        x87Words[2 * n + 1] = UInt64(v.se)
    }
    /// The x87 control word (FNINIT: 0x37F).
    public var fcw: UInt16 {
        @inline(__always) get { UInt16(truncatingIfNeeded: file.pointee.fcw) }
        @inline(__always) set { file.pointee.fcw = UInt64(newValue) }
    }
    /// The x87 status word, TOP (bits 11-13) included.
    public var fsw: UInt16 {
        @inline(__always) get { UInt16(truncatingIfNeeded: file.pointee.fsw) }
        @inline(__always) set { file.pointee.fsw = UInt64(newValue) }
    }
    /// The full tag word: two bits per physical register (0 valid, 1 zero, 2 special, 3 empty).
    public var ftw: UInt16 {
        @inline(__always) get { UInt16(truncatingIfNeeded: file.pointee.ftw) }
        @inline(__always) set { file.pointee.ftw = UInt64(newValue) }
    }
    /// The last non-control x87 instruction's opcode (11 bits), address and data address.
    public var fop: UInt16 {
        get { UInt16(truncatingIfNeeded: file.pointee.fop) }
        set { file.pointee.fop = UInt64(newValue) }
    }
    public var fip: UInt64 {
        get { file.pointee.fip }
        set { file.pointee.fip = newValue }
    }
    public var fdp: UInt64 {
        get { file.pointee.fdp }
        set { file.pointee.fdp = newValue }
    }
    /// The tag a register's contents call for (for FXRSTOR's and FLDENV's tags of full registers).
    static func tag(of v: (significand: UInt64, se: UInt16)) -> UInt16 {
        let e = v.se & 0x7FFF
        if e == 0 { return v.significand == 0 ? 1 : 2 }
        if e == 0x7FFF || v.significand >> 63 == 0 { return 2 }
        return 0
    }

    /// The x87, MXCSR and XMM state in FXSAVE's 64-bit layout (SDM vol. 1, table 10-2): 512
    /// bytes, the abridged tag byte, FOP/FIP/FDP, and zeros where the layout is reserved.
    public func fxsaveImage() -> [UInt8] {
        var image = [UInt8](repeating: 0, count: 512)
        func put(_ offset: Int, _ v: UInt64, _ size: Int) {
            for i in 0..<size { image[offset + i] = UInt8(truncatingIfNeeded: v >> (8 * UInt64(i))) }
        }
        put(0, UInt64(fcw), 2)
        put(2, UInt64(fsw), 2)
        var abridged: UInt64 = 0
        for i in 0..<8 where (ftw >> UInt16(2 * i)) & 3 != 3 { abridged |= 1 << UInt64(i) }
        put(4, abridged, 1)
        put(6, UInt64(fop), 2)
        put(8, fip, 8)
        put(16, fdp, 8)
        put(24, UInt64(mxcsr), 4)
        put(28, 0xFFFF, 4)   // MXCSR_MASK: DAZ and every defined bit are supported
        let top = Int(fsw >> 11) & 7
        for i in 0..<8 {
            // Stack order: ST(i) is physical register (TOP + i) mod 8.
            let r = x87Register((top + i) & 7)
            put(32 + 16 * i, r.significand, 8)
            put(40 + 16 * i, UInt64(r.se), 2)
        }
        for i in 0..<16 {
            put(160 + 16 * i, xmm(i).lo, 8)
            put(168 + 16 * i, xmm(i).hi, 8)
        }
        return image
    }

    /// Loads an FXSAVE image (the caller has checked MXCSR's reserved bits): full tags are
    /// rebuilt from the abridged byte and the registers' contents.
    public func loadFXSAVEImage(_ image: [UInt8]) {
        func get(_ offset: Int, _ size: Int) -> UInt64 {
            var v: UInt64 = 0
            for i in 0..<size { v |= UInt64(image[offset + i]) << (8 * UInt64(i)) }
            return v
        }
        fcw = UInt16(get(0, 2))
        fsw = UInt16(get(2, 2))
        fop = UInt16(get(6, 2) & 0x7FF)
        fip = get(8, 8)
        fdp = get(16, 8)
        mxcsr = UInt32(get(24, 4))
        let top = Int(fsw >> 11) & 7
        for i in 0..<8 {
            setX87Register((top + i) & 7, (get(32 + 16 * i, 8), UInt16(get(40 + 16 * i, 2))))
        }
        var tags: UInt16 = 0
        let abridged = get(4, 1)
        for i in 0..<8 {
            let t = abridged >> UInt64(i) & 1 == 0 ? 3 : CPUState.tag(of: x87Register(i))
            tags |= t << UInt16(2 * i)
        }
        ftw = tags
        for i in 0..<16 { setXMM(i, (get(160 + 16 * i, 8), get(168 + 16 * i, 8))) }
    }

    /// Instructions retired.
    public var retired: UInt64 {
        @inline(__always) get { file.pointee.retired }
        @inline(__always) set { file.pointee.retired = newValue }
    }
    /// A store hit a page holding decoded code: drop the cache after this instruction.
    /// 1 drops everything; `frame << 2 | 2` (set by `codeWritten`) drops one frame's entries.
    var invalidationPending: Bool {
        @inline(__always) get { file.pointee.codeInvalidation != 0 }
        @inline(__always) set { file.pointee.codeInvalidation = newValue ? 1 : 0 }
    }

    /// A store went to `frame`, which holds decoded code: its entries go after this instruction
    /// (a second frame in the same instruction drops everything).
    public func codeWritten(frame: UInt64) {
        let v = frame << 2 | 2
        file.pointee.codeInvalidation = file.pointee.codeInvalidation == 0 || file.pointee.codeInvalidation == v ? v : 1
    }

    /// What a decoded instruction must carry to run without a check (or `globalCodeKey`): the
    /// code epoch (bits 1 and up: moved by every TLB flush, after which an entry is checked
    /// against its frame once; INVLPG moves it only for a page holding code, `codePages`) and
    /// whether it runs at CPL 3 (bit 0: a supervisor page's instruction is checked again before
    /// user code runs it).
    public var codeKey: UInt64 {
        @inline(__always) get { codeKeyStorage.pointee }
    }
    /// The key of code whose pages are all global (their translations, leaves with G set under
    /// CR4.PGE, survive MOV CR3 as the hardware's TLB keeps them): the same CPL bit, bit 63 set
    /// so that it never equals a `codeKey`, and an epoch of its own, which only flushes of
    /// global translations move (`newCodeEpoch`; MOV CR3 moves only `codeKey`'s,
    /// `newLocalCodeEpoch`). The word after `codeKey`'s (translated code reads both).
    public var globalCodeKey: UInt64 {
        @inline(__always) get { codeKeyStorage[1] }
    }
    /// Whether an entry or block holding `key` is valid without a check.
    @inline(__always) public func isCurrentCode(_ key: UInt64) -> Bool {
        key == codeKeyStorage[0] || key == codeKeyStorage[1]
    }
    /// The key to give code just checked: the global one when every page it lies in is global.
    @inline(__always) func codeKey(global: Bool) -> UInt64 { global ? codeKeyStorage[1] : codeKeyStorage[0] }
    /// `codeKey` then `globalCodeKey`: in `words`, where host code reads them.
    let codeKeyStorage: UnsafeMutablePointer<UInt64>
    /// A TLB flush, global translations included: every decoded instruction is checked against
    /// its frame before it runs again.
    public func newCodeEpoch() {
        codeKeyStorage[0] &+= 2
        codeKeyStorage[1] &+= 2
        codePages.update(repeating: 0, count: CPUState.codePageWords)
    }
    /// A flush of the non-global translations (MOV CR3): code on global pages stays valid.
    public func newLocalCodeEpoch() {
        codeKeyStorage[0] &+= 2
    }

    /// The linear pages that decoded instructions or blocks valid in the current epoch lie in,
    /// one bit per page number modulo 2^12 (a shared bit only costs an epoch that was not needed).
    /// INVLPG of a page none of them lies in changes nothing any of them depends on, so it
    /// leaves the epoch alone: a test that invalidates one data page after another (kvm-unit-tests'
    /// `access` did 150 million checks of warm blocks in 2·10^9 instructions) keeps its code.
    let codePages: UnsafeMutablePointer<UInt64>
    static let codePageWords = 64

    /// An entry decoded at, or checked again for, the bytes from `first` to `last` (linear)
    /// holds the current key: their pages keep code of this epoch.
    @inline(__always) func noteCode(from first: UInt64, to last: UInt64) {
        let (w0, b0) = CPUState.codePageBit(first), (w1, b1) = CPUState.codePageBit(last)
        codePages[w0] |= b0
        codePages[w1] |= b1
    }

    /// INVLPG of the page holding `address`: a new code epoch if code of this one lies there.
    public func newCodeEpoch(page address: UInt64) {
        let (w, b) = CPUState.codePageBit(address)
        if codePages[w] & b != 0 { newCodeEpoch() }
    }

    /// The word and bit of `codePages` for the page holding linear `address`.
    @inline(__always) static func codePageBit(_ address: UInt64) -> (word: Int, bit: UInt64) {
        let n = Int(truncatingIfNeeded: address >> 12) & (64 * codePageWords - 1)
        return (n >> 6, 1 << UInt64(n & 63))
    }
    /// The key's CPL bit and `userAccess` from the current CPL (after anything that set
    /// `file.pointee.cpl` directly).
    public func refreshCodeKey() {
        let user: UInt64 = file.pointee.cpl == 3 ? 1 : 0
        codeKeyStorage[0] = codeKeyStorage[0] & ~1 | user
        codeKeyStorage[1] = codeKeyStorage[1] & ~1 | user
        refreshUserAccess()
    }
    /// `RegisterFile.userAccess` from the CPL and `implicitSupervisor`.
    @inline(__always) func refreshUserAccess() {
        file.pointee.userAccess = file.pointee.cpl == 3 && file.pointee.implicitSupervisor == 0 ? 1 : 0
    }

    deinit {
        UnsafeMutableRawPointer(file).deallocate()
        codePages.deallocate()
    }

    public var rip: UInt64 {
        @inline(__always) get { file.pointee.rip }
        @inline(__always) set { file.pointee.rip = newValue }
    }
    /// Always has bit 1 set.
    public var rflags: UInt64 {
        @inline(__always) get { file.pointee.rflags }
        @inline(__always) set { file.pointee.rflags = newValue }
    }
    public var fsBase: UInt64 {
        @inline(__always) get { segmentBases[4] }
        @inline(__always) set { segmentBases[4] = newValue }
    }
    public var gsBase: UInt64 {
        @inline(__always) get { segmentBases[5] }
        @inline(__always) set { segmentBases[5] = newValue }
    }

    @inline(__always) public func flag(_ f: UInt64) -> Bool { rflags & f != 0 }
    @inline(__always) public func set(_ f: UInt64, _ on: Bool) { rflags = on ? rflags | f : rflags & ~f }
}
