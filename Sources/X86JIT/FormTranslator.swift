import Glibc
@_spi(Translator) import X86CPU
import X86

/// Blocks of fast forms as host code (issue 25): what `CPU.runBlock` runs in place of the
/// interpreter's loop once a block is warm. The forms it knows are emitted as host
/// instructions over the vCPU's `RegisterFile` (RBX points at it); every other form is a call
/// into the interpreter for that one form (`runFastFormEntry`), so every block translates.
///
/// The host's flags are the guest's: an ALU operation run on the host leaves exactly the
/// status flags the guest's would, and they stay in the host's RFLAGS (not written back)
/// until something can see them: a call into the interpreter, the block's end, a branch out.
/// Where a form reads the flags (ADC, SBB, Jcc, CMOVcc, SETcc, INC and DEC, which keep CF)
/// and the host's are not the guest's, the guest's status flags are loaded (never TF, DF or
/// AC). Where the host leaves a flag undefined and someone reads it (`FastForm.flags`), the
/// translation sets the interpreter's value (`shiftFlags`, `productFlags`, `aluExact`).
///
/// Register use: RBX the register file (the `TranslationWords` after it: the code keys, where
/// the vCPU's blocks, TLB and interpreter are); RBP and R14 the TLB (`MemoryForms.swift`);
/// R12, R13, R15, RDI, R9 and R11 cached guest registers (`RegisterCache`); RAX, RCX, RDX, RSI,
/// R8 and R10 scratch. [RSP] holds the budget, [RSP+8] its address (the budget goes back there in
/// the epilogue). The code names nothing of one vCPU: one translator serves a machine's vCPUs,
/// and each runs what any of them translated (`KeptTranslations`).
@_spi(Translator) public final class FormTranslator: BlockTranslating {
    public let memory: CodeMemory
    /// The translations kept for the CPUs this translator serves.
    public let kept = KeptTranslations()
    /// Blocks translated, forms emitted as host code and forms run through the interpreter
    /// (as translated, not as run), code bytes written: `--stats`.
    public private(set) var translations: UInt64 = 0
    public private(set) var nativeForms: UInt64 = 0
    public private(set) var fallbackForms: UInt64 = 0
    public private(set) var codeBytes: UInt64 = 0
    /// Blocks that branch back to their own start and run again in host code.
    public private(set) var selfLoops: UInt64 = 0
    /// Branches and block ends that go on into the next block's translation.
    public private(set) var chains: UInt64 = 0
    /// Branches from one of a loop's blocks into another in the same translation
    /// (`TranslationContext.members`).
    public private(set) var memberEdges: UInt64 = 0
    /// Forms run through the interpreter, by kind (as translated): where coverage grows next.
    public private(set) var fallbacksByKind = [UInt64](repeating: 0, count: 256)

    /// A fault planted on purpose, to prove that `--engine lockstep` finds one: the translation
    /// of the block at `rip` adds 1 to guest register `register` on each pass, as a
    /// translator bug would. Tests only.
    public var plantedFault: (rip: UInt64, register: UInt8)?

    /// With SOFTVMM_PERF_MAP set, each translation is named in /tmp/perf-PID.map (`perf report`
    /// then names host code by the guest RIP of its block: "guest 0xRIP").
    let perfMap: UnsafeMutablePointer<FILE>? = getenv("SOFTVMM_PERF_MAP") == nil ? nil : fopen("/tmp/perf-\(getpid()).map", "a")
    /// With SOFTVMM_PERF_MAP=code, each translation's code up to its slow paths also goes to
    /// /tmp/perf-PID-ADDRESS.bin (`objdump -D -b binary -m i386:x86-64 --adjust-vma=0xADDRESS`).
    let dumpsCode = getenv("SOFTVMM_PERF_MAP").map { String(cString: $0) == "code" } ?? false

    /// The code every translation shares (`SharedCode`), for every CPU that runs them;
    /// installed again after a flush.
    var stubs: SharedCode? = nil

    public init(capacity: Int = 64 << 20) throws(CodeMemoryError) {
        memory = try CodeMemory(capacity: capacity)
        // perf names code in a memfd by its offset in the file: where the file starts.
        if let perfMap { fputs("\(String(UInt(bitPattern: memory.base), radix: 16)) 0 softvmm-translations-base\n", perfMap) }
    }

    deinit { if let perfMap { fclose(perfMap) } }

    public func translate(_ forms: UnsafePointer<FastForm>, count: Int, context: TranslationContext) -> Translation? {
        // The forms the code's calls into the interpreter name are a copy in the code memory,
        // which lives as long as the code: a block built again at the RIP gets the code back
        // (`CPU.reattach`) wherever its own forms are.
        // They go among the cold code, as do the slow paths: the code that runs (each block's
        // up to its epilogue) sits together. (In fork+exec, where the kernel runs much code a
        // few times, blocks were 1.9 KB of code apart, 1.2 KB of it what runs.)
        var flushed = false
        for _ in 0..<2 {
            do throws(CodeMemoryError) {
                let stubs = try sharedCode(for: context)
                let copy = try install(forms, count: count)
                var members: [TranslationMember] = []
                for m in context.members {
                    members.append(TranslationMember(forms: try install(m.forms, count: m.count), count: m.count, context: m.context))
                }
                let (emitter, coldFrom) = emit(copy, count: count, context: context, members: members, stubs: stubs)
                let size = emitter.asm.bytes.count
                let hot = try memory.reserve(coldFrom), cold = size > coldFrom ? try memory.reserve(size - coldFrom, cold: true) : 0
                let base = Int(bitPattern: memory.base)
                let parts = emitter.asm.split(at: coldFrom, first: base + hot, second: base + cold)
                try memory.write(parts.first, at: hot)
                try memory.write(parts.second, at: cold)
                let code = UnsafeRawPointer(memory.base + hot)
                tally(emitter, bytes: size)
                if let perfMap {
                    fputs("\(String(UInt(bitPattern: code), radix: 16)) \(String(coldFrom, radix: 16)) guest 0x\(String(context.rip, radix: 16))\n", perfMap)
                    if size > coldFrom {
                        fputs("\(String(base + cold, radix: 16)) \(String(size - coldFrom, radix: 16)) guest 0x\(String(context.rip, radix: 16)) (slow paths)\n", perfMap)
                    }
                    fflush(perfMap)
                    if dumpsCode, let f = fopen("/tmp/perf-\(getpid())-\(String(UInt(bitPattern: code), radix: 16)).bin", "w") {
                        _ = parts.first.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, f) }
                        fclose(f)
                    }
                }
                return Translation(code: code, forms: copy, entry: UnsafeRawPointer(bitPattern: stubs.entry)!)
            } catch {
                guard case .full = error, !flushed, (try? memory.flush()) != nil else { return nil }
                flushed = true
                stubs = nil
                kept.flushed()
            }
        }
        return nil
    }

    /// A copy of the `count` forms at `forms` among the cold code.
    func install(_ forms: UnsafePointer<FastForm>, count: Int) throws(CodeMemoryError) -> UnsafePointer<FastForm> {
        let bytes = UnsafeRawBufferPointer(start: UnsafeRawPointer(forms), count: count * MemoryLayout<FastForm>.stride)
        return UnsafePointer(try memory.install(Array(bytes), cold: true).assumingMemoryBound(to: FastForm.self))
    }

    /// The host code for the forms at `forms` (where the code's calls name them), then the
    /// loop's other blocks (`members`, their forms' copies), and where its cold part (the slow
    /// paths) starts.
    func emit(_ forms: UnsafePointer<FastForm>, count: Int, context: TranslationContext, members: [TranslationMember] = [],
              stubs: SharedCode) -> (FormEmitter, Int) {
        let head = TranslationMember(forms: forms, count: count, context: context)
        var emitter = FormEmitter(head, members: members, stubs: stubs)
        if let p = plantedFault, p.rip == context.rip {
            emitter.asm.alu(.add, size: 8, FormEmitter.gpr(p.register), immediate: 1)
        }
        for i in 0..<count { emitter.emit(forms + i, index: i) }
        for (m, member) in members.enumerated() {
            // A block no branch went into is left out.
            guard emitter.enterMember(m) else { continue }
            for i in 0..<member.count { emitter.emit(member.forms + i, index: i) }
        }
        let cold = emitter.finish()
        return (emitter, cold)
    }

    /// The shared code for blocks like `context`'s (the same blocks' and TLB's shape), installed
    /// if it is not yet.
    func sharedCode(for context: TranslationContext) throws(CodeMemoryError) -> SharedCode {
        if let s = stubs, s.serves(context) { return s }
        var asm = X86Assembler()
        let entry = SharedCode.emitEntry(&asm, context)
        let epilogue = SharedCode.emitEpilogue(&asm)
        let slot = SharedCode.emitSlot(&asm, context)
        let check = SharedCode.emitCheck(&asm, context)
        let interpret = SharedCode.emitInterpret(&asm, context, epilogue: epilogue)
        let storeFlags = asm.bytes.count
        FormEmitter.storeFlagsFromAX(&asm)
        asm.ret()
        let code = Int(bitPattern: try memory.install(asm.bytes))
        let s = SharedCode(blockStride: context.blockStride, blockSlots: context.blockSlots, tlb: context.tlb,
                           entry: code + entry, epilogue: code + epilogue, slot: code + slot, check: code + check,
                           interpret: code + interpret, storeFlags: code + storeFlags)
        stubs = s
        kept.entry = UnsafeRawPointer(bitPattern: s.entry)
        return s
    }

    func tally(_ emitter: FormEmitter, bytes: Int) {
        translations &+= 1
        nativeForms &+= UInt64(emitter.native)
        selfLoops &+= UInt64(emitter.loops)
        chains &+= UInt64(emitter.chains)
        memberEdges &+= UInt64(emitter.edges)
        fallbackForms &+= UInt64(emitter.fallbacks)
        for k in emitter.fallbackKinds { fallbacksByKind[Int(k.rawValue)] &+= 1 }
        codeBytes &+= UInt64(bytes)
    }
}

/// Code every translation shares rather than a copy of its own: the entry (the prologue, then
/// a jump to the block's code) and the epilogue, and what a block calls where it goes on into
/// another. (A chain was about 190 bytes of each block's code, three chains a block in
/// fork+exec's kernel code, and the prologue and epilogue 104 bytes: where the kernel runs
/// much code a few times, how much code runs counts more than how fast.)
struct SharedCode {
    /// What it was made for: the blocks' and the TLB's shape (the vCPU's own tables the code
    /// finds through the register file, `TranslationWords`).
    var blockStride: Int, blockSlots: Int
    var tlb: TranslationTLB?
    /// Where each part is.
    var entry: Int, epilogue: Int, slot: Int, check: Int, interpret: Int
    /// `FormEmitter.storeFlagsFromAX`, returning.
    var storeFlags: Int

    func serves(_ c: TranslationContext) -> Bool {
        blockStride == c.blockStride && blockSlots == c.blockSlots && (tlb == nil) == (c.tlb == nil)
            && tlb?.entries == c.tlb?.entries && tlb?.noMatch == c.tlb?.noMatch && tlb?.pagesOffset == c.tlb?.pagesOffset
    }

    /// `entry`, a `TranslatedBlock` (register file in RDI, the block's code in RSI, the
    /// budget's address in RDX): saves the registers the C calling convention keeps, keeps the
    /// budget at [RSP] and its address at [RSP+8] (the stack 16-byte aligned for calls), the
    /// register file in RBX, the vCPU's TLB tags (its pages after them) in R14, the probe key
    /// in RBP, and jumps to the code.
    static func emitEntry(_ asm: inout X86Assembler, _ context: TranslationContext) -> Int {
        let at = asm.bytes.count
        for r in FormEmitter.saved { asm.push(r) }
        // Six pushes after the return address: 24 bytes more keep calls 16-byte aligned.
        asm.alu(.sub, size: 8, GPR.rsp, immediate: 24)
        asm.mov(size: 8, FormEmitter.budgetAddress, GPR.rdx)
        asm.mov(size: 8, GPR.rax, X86Assembler.Memory(base: GPR.rdx))
        asm.mov(size: 8, FormEmitter.budget, GPR.rax)
        asm.mov(size: 8, FormEmitter.file, GPR.rdi)
        if let tlb = context.tlb {
            asm.mov(size: 8, FormEmitter.tagsRegister, FormEmitter.word(\.tlbTags))
            FormEmitter.loadProbeKey(&asm, tlb)
        }
        asm.jmp(register: GPR.rsi)
        return at
    }

    /// `epilogue`: the budget back where `entry` found it, and back to `entry`'s caller, RAX
    /// the result. Clobbers RCX and RDX.
    static func emitEpilogue(_ asm: inout X86Assembler) -> Int {
        let at = asm.bytes.count
        asm.mov(size: 8, GPR.rcx, FormEmitter.budgetAddress)
        asm.mov(size: 8, GPR.rdx, FormEmitter.budget)
        asm.mov(size: 8, X86Assembler.Memory(base: GPR.rcx), GPR.rdx)
        asm.alu(.add, size: 8, GPR.rsp, immediate: 24)
        for r in FormEmitter.saved.reversed() { asm.pop(r) }
        asm.ret()
        return at
    }

    /// `interpret`: the form at RSI through the interpreter (`runFastFormEntry`); back to the
    /// caller when it says 0, the probe key loaded again (`FormEmitter.loadProbeKey`: the
    /// interpreter may have changed what it holds); otherwise out of the code through the
    /// epilogue, its answer or'ed with the exit word in RDX. Clobbers every register the C
    /// calling convention does not keep. (Each call into the interpreter was about 90 bytes
    /// inline; it is 25 now, and fork+exec, where translation was a fifth of the time, makes
    /// thousands of them.)
    static func emitInterpret(_ asm: inout X86Assembler, _ context: TranslationContext, epilogue: Int) -> Int {
        let at = asm.bytes.count, a = GPR.rax, d = GPR.rdx
        asm.push(d)                                     // the exit word, and the stack aligned for the call
        asm.mov(size: 8, GPR.rdi, FormEmitter.word(\.runner))
        asm.mov(size: 8, a, immediate: Int64(bitPattern: UInt64(FormEmitter.entry)))
        asm.call(register: a)
        asm.pop(d)
        asm.test(size: 4, a, a)
        let leave = asm.jcc(.ne, 0)
        if let tlb = context.tlb { FormEmitter.loadProbeKey(&asm, tlb) }
        asm.ret()
        asm.patch(leave, to: asm.bytes.count)
        asm.mov(size: 4, a, a)                          // the answer is 32 bits: the rest zeroed
        asm.alu(.or, size: 8, a, d)
        asm.alu(.add, size: 8, GPR.rsp, immediate: 8)   // the return address dropped
        asm.patch(asm.jmp(0), to: epilogue)
        return at
    }

    /// `slot`: where the slot of the block at the RIP in R10 is among the blocks into R8, as
    /// `runBlock` finds it (blockSlotIndex: the top bits of RIP times the golden ratio, times
    /// the stride). Clobbers R11 and the flags.
    static func emitSlot(_ asm: inout X86Assembler, _ context: TranslationContext) -> Int {
        let at = asm.bytes.count, t = GPR.r11, r8 = GPR.r8, r10 = GPR.r10
        asm.mov(size: 8, t, immediate: Int64(bitPattern: blockSlotMultiplier))
        asm.imul(size: 8, t, r10)
        asm.shift(.shr, size: 8, t, by: UInt8(64 - context.blockSlots.trailingZeroBitCount))
        asm.imul(size: 8, r8, t, immediate: Int32(context.blockStride))
        asm.ret()
        return at
    }

    /// `check`: whether the block in the slot R8 says (where it is among the vCPU's blocks; its
    /// address once checked) is the one at the RIP in R10, valid, with a whole pass of it within
    /// the budget left in RDX, and translated (as `runBlock` would go on into it): its
    /// translation into R11, or 0. (While a debugger's breakpoints are armed, `runBlock` gives
    /// host code no budget beyond its own block, and nothing goes on.) Clobbers the flags.
    static func emitCheck(_ asm: inout X86Assembler, _ context: TranslationContext) -> Int {
        let at = asm.bytes.count, t = GPR.r11, r8 = GPR.r8
        asm.alu(.add, size: 8, r8, FormEmitter.word(\.blocks))
        let fail = emitSlotChecks(&asm, slot: 0)
        asm.mov(size: 8, t, X86Assembler.Memory(base: r8, displacement: Int32(BlockLayout.native)))
        asm.ret()
        for f in fail { asm.patch(f, to: asm.bytes.count) }
        asm.alu(.xor, size: 4, t, t)
        asm.ret()
        return at
    }

    /// The checks of `check` on the slot at R8 + `slot`, each a jump (returned) taken where it
    /// fails: the block there is the one at the RIP in R10, its key is current, and a whole
    /// pass of it fits in the budget left in RDX. Clobbers R11 and the flags.
    static func emitSlotChecks(_ asm: inout X86Assembler, slot: Int) -> [Int] {
        let t = GPR.r11
        var fail = emitSlotHolds(&asm, slot: slot, temporary: t)
        asm.extend(signed: false, size: 4, t, from: 1, X86Assembler.Memory(base: GPR.r8, displacement: Int32(slot + BlockLayout.instructions)))
        asm.alu(.cmp, size: 8, GPR.rdx, t)
        fail.append(asm.jcc(.b, 0))
        return fail
    }

    /// The first two of them: the slot at R8 + `slot` holds the block at the RIP in R10, and
    /// its key is current (read into `temporary`, which may be R10). Clobbers the flags.
    static func emitSlotHolds(_ asm: inout X86Assembler, slot: Int, temporary t: Int) -> [Int] {
        func field(_ offset: Int) -> X86Assembler.Memory { X86Assembler.Memory(base: GPR.r8, displacement: Int32(slot + offset)) }
        asm.alu(.cmp, size: 8, GPR.r10, field(BlockLayout.rip))
        let notThere = asm.jcc(.ne, 0)
        asm.mov(size: 8, t, field(BlockLayout.key))
        return [notThere, FormEmitter.keyIsNotCurrent(&asm, t)]
    }
}

/// One block's host code, form by form (`FormTranslator`).
struct FormEmitter {
    var asm = X86Assembler()
    /// Whether the host's status flags are the guest's, and whether the register file's are
    /// stale (the host's are newer).
    var hostFlags = false, dirtyFlags = false
    /// Whether the host's flags are the guest's but for AF, which the guest has clear: after
    /// AND, OR, XOR or TEST, whose AF the host leaves undefined and the interpreter clears.
    /// Where the flags are taken from the host (`saveFlagsInAX`, or a form that keeps AF), AF
    /// is cleared then: a logical operation whose flags only a fault could show (a memory form
    /// after it) costs nothing more on the way that does not fault.
    var afClear = false
    /// Whether the guest's flags are in AX (as `saveFlagsInAX` leaves them), newer than the
    /// register file's, and not in the host's: after a memory form that does not write them
    /// (its probe clobbers the host's), until a form needs them there (`settleParkedFlags`).
    var parked = false
    /// The current form is a logical operation whose flags are read (`aluExact`): `flagsWritten`
    /// sets `afClear`.
    var logicalFlags = false
    /// Jumps to the epilogue, patched at the end.
    var exits: [Int] = []
    /// The guest registers host registers hold.
    var cache = RegisterCache()
    var native = 0, fallbacks = 0, loops = 0, chains = 0
    var fallbackKinds: [FastKind] = []
    /// Memory forms' slow paths, emitted after the epilogue, and the current form's jumps to
    /// its slow path.
    var slowPaths: [SlowPath] = []
    var missGroups: [(jumps: [Int], cache: RegisterCache)] = []

    static let file = GPR.rbx
    static let a = GPR.rax, c = GPR.rcx, d = GPR.rdx
    static let gprs = MemoryLayout<RegisterFile>.offset(of: \.gprs)!
    static let rip = MemoryLayout<RegisterFile>.offset(of: \.rip)!
    static let rflags = MemoryLayout<RegisterFile>.offset(of: \.rflags)!
    /// CF, PF, AF, ZF, SF, OF.
    static let status = Int32(Flag.status)
    static let carry = UInt16(Flag.cf), carryAndOverflow = UInt16(Flag.cf | Flag.of)
    static let formStride = MemoryLayout<FastForm>.stride
    static let entry = unsafeBitCast(runFastFormEntry, to: UInt.self)

    static func field(_ offset: Int) -> X86Assembler.Memory { X86Assembler.Memory(base: file, displacement: Int32(offset)) }
    /// `runBlock`'s budget while host code runs, and its address (written back there by the
    /// shared epilogue): the entry's stack slots.
    static let budget = X86Assembler.Memory(base: GPR.rsp), budgetAddress = X86Assembler.Memory(base: GPR.rsp, displacement: 8)
    /// A word of the vCPU's after the register file (`TranslationWords`).
    static func word(_ w: PartialKeyPath<TranslationWords>) -> X86Assembler.Memory { field(TranslationWords.offset(w)) }
    /// General register `n` (16: `RegisterFile.noRegister`, always 0).
    static func gpr(_ n: UInt8) -> X86Assembler.Memory { field(gprs + 8 * Int(n)) }

    /// The TLB memory forms probe inline (nil: they run through the interpreter).
    let tlb: TranslationTLB?
    static let userAccess = MemoryLayout<RegisterFile>.offset(of: \.userAccess)!
    static let segmentBases = MemoryLayout<RegisterFile>.offset(of: \.segmentBases)!
    /// RFLAGS.AC: the memory's own probe decides (`GuestMMU.probeWithAC`).
    static let alignmentCheck: Int32 = 1 << 18

    /// R14 holds the TLB's read tags (the write tags follow at `entries` words, the pages at
    /// `TranslationTLB.pagesOffset`), RBP what every tag holds besides its page
    /// (`loadProbeKey`). (With the arrays' addresses as constants in each probe, the syscall
    /// workload ran 10% slower: more code.)
    static let keyRegister = GPR.rbp, tagsRegister = GPR.r14
    static let saved = [GPR.rbx, GPR.rbp, GPR.r12, GPR.r13, GPR.r14, GPR.r15]

    /// The block whose forms are being emitted (the first, or one of the loop's `members`),
    /// and the first.
    var context: TranslationContext
    let head: TranslationContext
    /// Whether the first block's forms write every flag before anything reads one (a pass
    /// that starts again needs none from the last).
    let flagsDeadAtStart: Bool

    /// The forms of the block being emitted (the interpreter's calls name one by its address),
    /// and which block that is (0 the first, then the members' from 1).
    var formsBase: UnsafeRawPointer
    var block = 0
    let headForms: UnsafeRawPointer

    /// The loop's other blocks (`TranslationContext.members`), and for each, once a branch went
    /// into it, the state its code starts from (`enter`), where that code is, and the jumps to
    /// patch to it.
    let members: [TranslationMember]
    var memberEntries: [MemberEntry?]
    var memberCode: [Int?]
    var memberJumps: [[Int]]
    var edges = 0

    let stubs: SharedCode

    init(_ head: TranslationMember, members: [TranslationMember] = [], stubs: SharedCode) {
        self.context = head.context
        self.head = head.context
        self.stubs = stubs
        formsBase = UnsafeRawPointer(head.forms)
        headForms = formsBase
        tlb = head.context.tlb
        flagsDeadAtStart = FormEmitter.flagsDead(head.forms)
        self.members = members
        memberEntries = Array(repeating: nil, count: members.count)
        memberCode = Array(repeating: nil, count: members.count)
        memberJumps = Array(repeating: [], count: members.count)
        // The prologue is the shared entry's (`SharedCode`): the code starts with the first
        // form, where a block that runs itself again jumps back to (offset 0).
    }

    /// Whether the block of `forms` writes every flag before anything reads one (or can fault).
    static func flagsDead(_ forms: UnsafePointer<FastForm>) -> Bool {
        let (reads, writes) = forms[0].flagMasks
        return forms[0].liveAfter & ~writes | reads == 0
    }

    /// Into RBP, what a TLB tag holds besides its page: the register file's `userAccess` and
    /// the epoch, or with RFLAGS.AC set a value that matches no entry (every probe misses, and
    /// the interpreter decides: `GuestMMU.probeWithAC`). Only the interpreter changes any of
    /// them: this runs as the code starts and after every call into it. Clobbers RCX.
    mutating func loadProbeKey() {
        guard let tlb else { return }
        FormEmitter.loadProbeKey(&asm, tlb)
    }

    static func loadProbeKey(_ asm: inout X86Assembler, _ tlb: TranslationTLB) {
        let c = FormEmitter.c, key = FormEmitter.keyRegister
        asm.mov(size: 8, c, FormEmitter.word(\.tlbEpoch))
        asm.mov(size: 8, key, X86Assembler.Memory(base: c))
        asm.alu(.or, size: 8, key, FormEmitter.field(FormEmitter.userAccess))
        asm.mov(size: 4, c, FormEmitter.field(FormEmitter.rflags))
        asm.alu(.and, size: 4, c, immediate: FormEmitter.alignmentCheck)
        let clear = asm.jcc(.e, 0)
        asm.mov(size: 8, key, immediate: Int64(bitPattern: tlb.noMatch))
        asm.patch(clear, to: asm.bytes.count)
    }

    /// Goes on into the translated block at `target` (not this one) when it is valid, a whole
    /// pass of it fits in the budget once this block's `executed` instructions are taken out,
    /// as `runBlock` would go on; otherwise on to what follows (this block's exit). Its code is
    /// jumped to (the shared entry's prologue stands for every translation), with the flags and
    /// registers written back.
    mutating func chain(to target: UInt64, executed: Int) { chain(to: .constant(target), executed: executed) }

    /// Where a chained branch goes: a RIP known when translating, or one in a host register
    /// (RET, JMP and CALL through a register), whose block slot is found as `runBlock` finds it.
    enum ChainTarget {
        case constant(UInt64)
        case register(Int)
    }

    mutating func chain(to target: ChainTarget, executed: Int) {
        let d = FormEmitter.d, r8 = FormEmitter.r8, r10 = GPR.r10, t = GPR.r11
        // (A target in a register goes to R10 first.) The cached registers go back to the
        // register file, and then serve as temporaries (the code leaves either way). The guest's
        // flags, where the host's are newer, go to AX (LAHF, SETO) and from there to the
        // register file only when the target needs them (`Block.flagsDeadAtStart`: its forms
        // write them all before anything reads one or anything can fault) or the chain fails:
        // in gzip's longest_match loop, two blocks a pass, their write-back was a quarter of
        // each chain.
        if case .register(let r) = target { asm.mov(size: 8, r10, r) }
        let pending = dirtyFlags
        if pending { saveFlagsInAX() }
        writeBack()
        // A target known here in the block's own page (a loop's other blocks, as in gzip's
        // longest_match) is checked inline, its slot a displacement from the vCPU's blocks;
        // any other through the shared code (`slot`, `check`): inline, each chain is 70 bytes
        // longer, and fork+exec, where the kernel runs much code a few times, ran 2.5% slower.
        var failed: [Int] = [], slot = 0
        switch target {
        case .constant(let rip) where rip >> 12 == context.rip >> 12:
            slot = context.blockOffset(at: rip)
            asm.mov(size: 8, r8, FormEmitter.word(\.blocks))
            asm.mov(size: 8, r10, immediate: Int64(bitPattern: rip))
            budgetAfter(executed)
            failed = SharedCode.emitSlotChecks(&asm, slot: slot)
            asm.mov(size: 8, t, X86Assembler.Memory(base: r8, displacement: Int32(slot + BlockLayout.native)))
        case .constant(let rip):
            asm.mov(size: 4, r8, immediate: Int64(context.blockOffset(at: rip)))
            asm.mov(size: 8, r10, immediate: Int64(bitPattern: rip))
            budgetAfter(executed)
            asm.patch(asm.call(0), toAddress: stubs.check)
        case .register:
            asm.patch(asm.call(0), toAddress: stubs.slot)
            budgetAfter(executed)
            asm.patch(asm.call(0), toAddress: stubs.check)
        }
        asm.test(size: 8, t, t)
        failed.append(asm.jcc(.e, 0))
        if pending {
            asm.alu(.cmp, size: 1, X86Assembler.Memory(base: r8, displacement: Int32(slot + BlockLayout.flagsDeadAtStart)), immediate: 0)
            let dead = asm.jcc(.ne, 0)
            storeFlagsFromAX(inline: true)
            asm.patch(dead, to: asm.bytes.count)
        }
        asm.mov(size: 8, FormEmitter.budget, d)     // the budget taken
        asm.jmp(register: t)
        for f in failed { asm.patch(f, to: asm.bytes.count) }
        if pending { storeFlagsFromAX() }
        dirtyFlags = false
        parked = false
        chains += 1
    }

    /// A jump (returned) taken unless the block key in `key` is current: the code key or the
    /// global code key (`CPUState.isCurrentCode`).
    mutating func keyIsNotCurrent(_ key: Int) -> Int { FormEmitter.keyIsNotCurrent(&asm, key) }

    static func keyIsNotCurrent(_ asm: inout X86Assembler, _ key: Int) -> Int {
        asm.alu(.cmp, size: 8, key, FormEmitter.word(\.codeKey))
        let current = asm.jcc(.e, 0)
        asm.alu(.cmp, size: 8, key, FormEmitter.word(\.globalCodeKey))
        let not = asm.jcc(.ne, 0)
        asm.patch(current, to: asm.bytes.count)
        return not
    }

    /// What is left of the budget once `executed` instructions of this pass are taken out,
    /// into RDX (written back only when the run goes on).
    mutating func budgetAfter(_ executed: Int) {
        asm.mov(size: 8, FormEmitter.d, FormEmitter.budget)
        asm.alu(.sub, size: 8, FormEmitter.d, immediate: Int32(executed))
    }

    /// A branch taken back to the block's own start, by form `f` at index `i`: the block runs
    /// again here while a whole pass fits in the budget (this pass taken out of it), it is
    /// still valid (its key is the code key); otherwise on to what follows (the block's exit).
    /// The flags go back to the register file first.
    mutating func loopBack(executed: Int) {
        let d = FormEmitter.d, r8 = FormEmitter.r8
        // Where the block's first forms overwrite the flags before anything reads them, the
        // next pass needs none: they are kept in AX for the way out instead of written back.
        let keepInAX = flagsDeadAtStart && dirtyFlags
        if keepInAX { saveFlagsInAX() } else { syncFlags() }
        writeBack()
        var out: [Int] = []
        budgetAfter(executed)
        asm.alu(.cmp, size: 8, d, immediate: Int32(head.instructions))
        out.append(asm.jcc(.b, 0))
        // Only a call into the interpreter can change the code key: a pass that made none
        // needs no look (runBlock looked before the block). (A loop's blocks look always: a
        // block emitted later may call.)
        if fallbacks > 0 || !slowPaths.isEmpty || !members.isEmpty {
            asm.mov(size: 8, r8, FormEmitter.word(\.blocks))
            asm.mov(size: 8, r8, X86Assembler.Memory(base: r8, displacement: Int32(head.blockOffset(at: head.rip) + BlockLayout.key)))
            out.append(keyIsNotCurrent(r8))
        }
        asm.mov(size: 8, FormEmitter.budget, d)     // the budget taken
        asm.patch(asm.jmp(0), to: 0)
        for o in out { asm.patch(o, to: asm.bytes.count) }
        if keepInAX {
            restoreFlagsFromAX()
            hostFlags = true
        }
        loops += 1
    }

    /// The slow paths appended, and every exit aimed at the shared epilogue; returns where the
    /// slow paths start (the code before runs, the code after seldom does).
    mutating func finish() -> Int {
        let cold = asm.bytes.count
        emitSlowPaths()
        for at in exits { asm.patch(at, toAddress: stubs.epilogue) }
        return cold
    }

    // MARK: flags

    /// The host's status flags into AX (LAHF, SETO AL), and back (ADD AL, 7FH sets OF from
    /// AL; SAHF the rest from AH): around code that clobbers them.
    /// (AF cleared in AH where `afClear` says the guest's is; nothing where they are there
    /// already, `parked`.)
    mutating func saveFlagsInAX() {
        if parked { return }
        asm.lahf()
        asm.set(.o, FormEmitter.a)
        if afClear { asm.aluHigh(.and, 0, immediate: ~UInt8(Flag.af)) }
    }

    mutating func restoreFlagsFromAX() {
        asm.alu(.add, size: 1, FormEmitter.a, immediate: 0x7F)
        asm.sahf()
        afClear = false
        parked = false
    }

    /// `needFlags`, AF included: for code that takes every flag from the host (PUSHF after a
    /// shift by 0, a rotate, which keeps AF).
    mutating func needExactFlags() {
        needFlags()
        if afClear {
            saveFlagsInAX()
            restoreFlagsFromAX()
        }
    }

    /// The guest's status flags into the host's, unless they are there: as `restoreFlagsFromAX`
    /// does (SAHF for SF, ZF, AF, PF and CF, ADD AL, 7FH for OF), with AH the low byte of RFLAGS
    /// and AL its OF; POPF takes several times as long. Clobbers RAX and RDX.
    mutating func needFlags() {
        guard !hostFlags else { return }
        if !parked { loadFlagsIntoAX() }
        restoreFlagsFromAX()
        hostFlags = true
    }

    /// The register file's status flags into AX as `saveFlagsInAX` leaves them (AH the low
    /// byte of RFLAGS, AL its OF). Clobbers RDX.
    mutating func loadFlagsIntoAX() {
        let a = FormEmitter.a, d = FormEmitter.d
        asm.mov(size: 4, a, FormEmitter.field(FormEmitter.rflags))
        asm.mov(size: 4, d, a)
        asm.shift(.shr, size: 4, d, by: 11)
        asm.alu(.and, size: 4, d, immediate: 1)
        asm.shift(.shl, size: 4, a, by: 8)
        asm.alu(.or, size: 4, a, d)
    }

    /// Before form `f`, with the flags `parked` in AX: they stay there for a form that leaves
    /// RAX alone and reads none (`keepsParkedFlags`); an operation that writes them all, reads
    /// none and cannot fault drops them; for any other they go back into the host's.
    mutating func settleParkedFlags(_ f: FastForm) {
        guard parked, !FormEmitter.keepsParkedFlags(f.kind) else { return }
        let (reads, writes) = f.flagMasks
        switch f.kind {
        case .add64, .or64, .and64, .sub64, .xor64, .cmp64, .test64, .add32, .or32, .and32, .sub32, .xor32, .cmp32, .test32,
             .add64i, .or64i, .and64i, .sub64i, .xor64i, .cmp64i, .test64i, .add32i, .or32i, .and32i, .sub32i, .xor32i, .cmp32i, .test32i
            where reads == 0 && writes == FastForm.statusFlags:
            parked = false
        default:
            restoreFlagsFromAX()
            hostFlags = true
        }
    }

    /// Forms whose code leaves RAX alone and reads no flag (the memory forms among them take
    /// parked flags to their slow path): the flags stay in AX across them.
    static func keepsParkedFlags(_ k: FastKind) -> Bool {
        switch k {
        case .movRR, .movRI, .movRINarrow, .extend, .extendSigned, .bswap, .nop,
             .load, .load8, .load16, .load32, .load64, .loadSigned, .store, .storeImm, .push, .pushImm, .pop,
             .cmpMR, .cmpMI, .testMR, .testMI, .jmp, .blockEnd:
            true
        default: false
        }
    }

    /// The host's status flags into the register file, if they are newer.
    /// (LAHF and SETO: PUSHF stalls right after an instruction that wrote the flags.)
    /// Clobbers RAX and the host's flags.
    mutating func syncFlags() {
        guard dirtyFlags else { return }
        saveFlagsInAX()
        storeFlagsFromAX()
        dirtyFlags = false
        parked = false
    }

    /// The status flags in AX (AH as LAHF left it, AL the OF bit as SETO left it) into the
    /// register file's RFLAGS: AL's bit to bit 11 (SHL AL, 3; ROR AX, 8 puts it there and AH
    /// in AL), the rest masked off, then RFLAGS' status bits cleared and or'ed in memory.
    /// Clobbers RAX and the flags. (28 bytes; through two temporaries it was 56.) Off the
    /// way a chain goes on, a call to the shared copy (`SharedCode.storeFlags`, 5 bytes): every
    /// call into the interpreter and every way out does it.
    mutating func storeFlagsFromAX(inline: Bool = false) {
        if inline {
            FormEmitter.storeFlagsFromAX(&asm)
        } else {
            asm.patch(asm.call(0), toAddress: stubs.storeFlags)
        }
    }

    static func storeFlagsFromAX(_ asm: inout X86Assembler) {
        let a = FormEmitter.a, rflags = FormEmitter.field(FormEmitter.rflags)
        asm.shift(.shl, size: 1, a, by: 3)
        asm.shift(.ror, size: 2, a, by: 8)
        asm.alu(.and, size: 4, a, immediate: FormEmitter.status)
        asm.alu(.and, size: 4, rflags, immediate: ~FormEmitter.status)
        asm.alu(.or, size: 4, rflags, a)
    }

    /// A shift or rotate of guest register `form.d` by CL (32 or 64 bits: the masked count is
    /// below the width), its flags read: a count of 0 leaves every flag, the guest's loaded
    /// first; any other sets the defined ones on the host as the interpreter sets them
    /// (`CPU.shift`, `CPU.rotate`), and the undefined ones are then set as it sets them
    /// (`definedShiftFlags`).
    mutating func shiftByCLWithFlags(_ op: X86Assembler.Shift, _ form: FastForm) {
        let a = FormEmitter.a, c = FormEmitter.c, d = FormEmitter.d, r8 = FormEmitter.r8
        let size = Int(form.size)
        needExactFlags()
        load(1, into: c)
        load(form.d, into: a)
        if op == .shr { asm.mov(size: 8, r8, a) }
        asm.shift(op, size: size, a)
        store(form.d, from: a)
        asm.pushfq()
        asm.pop(d)
        asm.alu(.and, size: 4, c, immediate: size == 8 ? 63 : 31)
        let counted = asm.jcc(.ne, 0)
        asm.alu(.and, size: 4, d, immediate: FormEmitter.status)
        let merge = asm.jmp(0)
        asm.patch(counted, to: asm.bytes.count)
        if op == .shr { asm.mov(size: 8, c, r8) }
        definedShiftFlags(op, size: size)
        asm.patch(merge, to: asm.bytes.count)
        mergeFlags()
    }

    /// `op` of `a` and `b` (nil: TEST) at `size` bytes into `a`, with the interpreter's flags
    /// where they are read: AND, OR, XOR and TEST leave AF undefined on the host, and the
    /// interpreter clears it (`afClear`, set by the form's `flagsWritten`). TEST is done as AND
    /// (its result not kept).
    mutating func aluExact(_ op: X86Assembler.ALU?, size: Int, _ a: Int, _ b: Int, flags: Bool) {
        asm.alu(op ?? .and, size: size, a, b)
        noteLogical(op, flags: flags)
    }

    /// After `op` (nil: TEST) on the host, its flags read: AF is the guest's unless `op` is a
    /// logical operation (`afClear`).
    mutating func noteLogical(_ op: X86Assembler.ALU?, flags: Bool) {
        if flags && (op == nil || op == .and || op == .or || op == .xor) { logicalFlags = true }
    }

    /// The status flags in RDX into the register file (the host's are not the guest's after).
    mutating func mergeFlags() {
        let c = FormEmitter.c, d = FormEmitter.d
        asm.mov(size: 8, c, FormEmitter.field(FormEmitter.rflags))
        asm.alu(.and, size: 8, c, immediate: ~FormEmitter.status)
        asm.alu(.or, size: 8, c, d)
        asm.mov(size: 8, FormEmitter.field(FormEmitter.rflags), c)
        hostFlags = false
        dirtyFlags = false
        afClear = false
    }

    /// After a shift or rotate by a constant of RAX (`size` bytes; a right shift's operand in
    /// RCX), the flags the interpreter gives it, where the host's may differ (OF past a count
    /// of 1, AF): SHL's OF is SF xor CF, SHR's the operand's sign, SAR's 0, AF 0; a rotate
    /// changes CF and OF only, OF as for a count of 1 (ROL: the result's sign xor CF; ROR: its
    /// two top bits' xor).
    mutating func shiftFlags(_ op: X86Assembler.Shift, size: Int) {
        asm.pushfq()
        asm.pop(FormEmitter.d)
        definedShiftFlags(op, size: size)
        mergeFlags()
    }

    /// The flags in RDX (as PUSHF left them after a shift or rotate by a count that is not 0)
    /// with those the host leaves undefined set as the interpreter sets them: AF clear after a
    /// shift, OF as for a count of 1 (`shiftFlags`). RAX holds the result, RCX the operand (SHR).
    mutating func definedShiftFlags(_ op: X86Assembler.Shift, size: Int) {
        let a = FormEmitter.a, c = FormEmitter.c, d = FormEmitter.d, r8 = FormEmitter.r8
        let w = UInt8(size * 8)
        asm.alu(.and, size: 4, d, immediate: op == .rol || op == .ror ? FormEmitter.status & ~0x800 : 0xC5)
        switch op {
        case .shl:
            asm.mov(size: 4, c, d)
            asm.shift(.shr, size: 4, c, by: 7)
            asm.alu(.xor, size: 4, c, d)
        case .shr:
            asm.shift(.shr, size: size, c, by: w - 1)
        case .rol:
            asm.mov(size: 8, c, a)
            asm.shift(.shr, size: size, c, by: w - 1)
            asm.alu(.xor, size: 4, c, a)
        case .ror:
            asm.mov(size: 8, c, a)
            asm.shift(.shr, size: size, c, by: w - 2)
            asm.mov(size: 4, r8, c)
            asm.shift(.shr, size: 4, r8, by: 1)
            asm.alu(.xor, size: 4, c, r8)
        default:
            asm.alu(.xor, size: 4, c, c)
        }
        asm.alu(.and, size: 4, c, immediate: 1)
        asm.shift(.shl, size: 4, c, by: 11)
        asm.alu(.or, size: 4, d, c)
    }

    /// After IMUL or MUL (the low half of the product in RAX, `size` bytes), the flags the
    /// interpreter gives it: CF and OF the host's, ZF, SF and PF of the low half, AF 0.
    mutating func productFlags(size: Int) {
        let a = FormEmitter.a, c = FormEmitter.c, d = FormEmitter.d
        asm.pushfq()
        asm.pop(d)
        asm.alu(.and, size: 4, d, immediate: 0x801)
        asm.test(size: size, a, a)
        asm.pushfq()
        asm.pop(c)
        asm.alu(.and, size: 4, c, immediate: 0xC4)
        asm.alu(.or, size: 4, d, c)
        mergeFlags()
    }

    /// A guest instruction just set the host's flags (as the interpreter sets the guest's, or
    /// where no one reads them before they are overwritten).
    mutating func flagsWritten() {
        hostFlags = true
        dirtyFlags = true
        afClear = logicalFlags
        logicalFlags = false
        parked = false
    }

    /// What the code returns beside the `FastExit` bits when form `index` says them: the
    /// index, the block's slot, and the instructions retired up to and with the form
    /// (`TranslatedBlock`).
    func exitWord(_ index: Int) -> Int64 {
        let f = (formsBase + index * FormEmitter.formStride).assumingMemoryBound(to: FastForm.self).pointee
        return Int64(index) << 8 | Int64(context.slot) << 16 | Int64(Int(f.ordinal) + f.retires) << 48
    }

    /// `rip` into the register file's RIP: a sign-extended 32-bit immediate where it fits (the
    /// kernel's code and a program's low code do), else through `scratch`.
    mutating func storeRIP(_ rip: UInt64, through scratch: Int = FormEmitter.a) {
        let v = Int64(bitPattern: rip), field = FormEmitter.field(FormEmitter.rip)
        if Int64(Int32(truncatingIfNeeded: v)) == v {
            asm.mov(size: 8, field, immediate: Int32(truncatingIfNeeded: v))
        } else {
            asm.mov(size: 8, scratch, immediate: v)
            asm.mov(size: 8, field, scratch)
        }
    }

    /// Returns `bits` and form `index`'s `exitWord` from the block (the flags written back first).
    mutating func exit(_ bits: UInt8, index: Int) {
        syncFlags()
        writeBack()
        asm.mov(size: 8, FormEmitter.a, immediate: Int64(bits) | exitWord(index))
        exits.append(asm.jmp(0))
    }

    // MARK: forms

    static func alu(_ k: FastKind, from first: FastKind) -> (X86Assembler.ALU?, Bool) {
        let i = k.rawValue - first.rawValue
        // FastOp order: add, or, adc, sbb, and, sub, xor, cmp, test (8: TEST, not an ALU group op).
        return i == 8 ? (nil, false) : (X86Assembler.ALU(rawValue: i)!, i != 7)
    }

    static func condition(_ cc: UInt8) -> X86Assembler.Condition { X86Assembler.Condition(rawValue: cc & 15)! }

    /// Base + index × scale + displacement into `r` (not RCX, which it uses), no flags touched.
    mutating func effectiveAddress(_ ad: FastAddress, into r: Int) {
        let c = FormEmitter.c, none = FastAddress.none
        let disp = Int64(bitPattern: ad.displacement)
        let short = ad.address32 || Int64(Int32(truncatingIfNeeded: disp)) == disp
        // The base and index straight from the host registers caching them.
        let base: Int? = ad.base == none ? nil : operand(ad.base, scratch: r)
        let index: Int? = ad.index == none ? nil : operand(ad.index, scratch: c)
        if base == nil && index == nil {
            asm.mov(size: 8, r, immediate: short ? Int64(Int32(truncatingIfNeeded: disp)) : disp)
        } else if short {
            asm.lea(size: 8, r, X86Assembler.Memory(base: base, index: index, scale: 1 << Int(ad.scale), displacement: Int32(truncatingIfNeeded: disp)))
        } else {
            asm.lea(size: 8, r, X86Assembler.Memory(base: base, index: index, scale: 1 << Int(ad.scale)))
            asm.mov(size: 8, c, immediate: disp)
            asm.lea(size: 8, r, X86Assembler.Memory(base: r, index: c))
        }
    }

    mutating func emit(_ f: UnsafePointer<FastForm>, index i: Int) {
        let form = f.pointee
        settleParkedFlags(form)
        let a = FormEmitter.a, c = FormEmitter.c
        let k = form.kind
        switch k {
        case .add64, .or64, .adc64, .sbb64, .and64, .sub64, .xor64, .cmp64, .test64,
             .add32, .or32, .adc32, .sbb32, .and32, .sub32, .xor32, .cmp32, .test32:
            let size = k.rawValue >= FastKind.add32.rawValue ? 4 : 8
            let (op, writes) = FormEmitter.alu(k, from: size == 8 ? .add64 : .add32)
            if op == .adc || op == .sbb { needFlags() }
            // On the host registers caching the operands; the result into the one caching `d`
            // (through RAX where `d` is the second operand's and not the first's).
            let hx = operand(form.x, scratch: a), hs = operand(form.s, scratch: c)
            if writes && (form.d != form.s || form.d == form.x) {
                let hd = destination(form.d)
                if hd != hx { asm.mov(size: 8, hd, hx) }
                aluExact(op, size: size, hd, hs, flags: form.flags)
            } else if writes {
                asm.mov(size: 8, a, hx)
                aluExact(op, size: size, a, hs, flags: form.flags)
                store(form.d, from: a)
            } else if let op {
                asm.alu(op, size: size, hx, hs)
            } else if form.flags {
                asm.mov(size: 8, a, hx)
                aluExact(nil, size: size, a, hs, flags: true)
            } else {
                asm.test(size: size, hx, hs)
            }
            flagsWritten()
        case .add64i, .or64i, .adc64i, .sbb64i, .and64i, .sub64i, .xor64i, .cmp64i, .test64i,
             .add32i, .or32i, .adc32i, .sbb32i, .and32i, .sub32i, .xor32i, .cmp32i, .test32i:
            let size = k.rawValue >= FastKind.add32i.rawValue ? 4 : 8
            let (op, writes) = FormEmitter.alu(k, from: size == 8 ? .add64i : .add32i)
            let imm = Int64(bitPattern: form.imm)
            // A 64-bit immediate is a sign-extended 32-bit one (as decoded); a 32-bit one is
            // its low half.
            let fits = size == 4 || Int64(Int32(truncatingIfNeeded: imm)) == imm
            if op == .adc || op == .sbb { needFlags() }
            let hx = operand(form.x, scratch: a)
            // The result straight into the host register caching `d`; TEST through RAX.
            let r: Int
            if writes {
                r = destination(form.d)
                if r != hx { asm.mov(size: 8, r, hx) }
            } else if op == .cmp {
                r = hx
            } else {
                r = a
                asm.mov(size: 8, a, hx)
            }
            if let op, fits {
                asm.alu(op, size: size, r, immediate: Int32(truncatingIfNeeded: imm))
                noteLogical(op, flags: form.flags)
            } else {
                asm.mov(size: 8, c, immediate: size == 4 ? Int64(UInt32(truncatingIfNeeded: imm)) : imm)
                aluExact(op, size: size, r, c, flags: form.flags)
            }
            flagsWritten()
        case .aluRR, .aluRI:
            // Bytes and words (low-byte registers only): the rest of the register stays.
            let size = Int(form.size), op = X86Assembler.ALU(rawValue: form.op.rawValue)
            if op == .adc || op == .sbb { needFlags() }
            load(form.d, into: a)
            if k == .aluRR { load(form.s, into: c) } else { asm.mov(size: 8, c, immediate: Int64(bitPattern: form.imm)) }
            aluExact(op, size: size, a, c, flags: form.flags)
            if form.op.writesResult { store(form.d, from: a) }
            flagsWritten()
        case .movRR:
            let hs = operand(form.s, scratch: c)
            asm.mov(size: form.size == 4 ? 4 : 8, destination(form.d), hs)
        case .movRI:
            asm.mov(size: 8, destination(form.d), immediate: Int64(bitPattern: form.imm))
        case .movRINarrow:
            asm.mov(size: Int(form.size), modified(form.d), immediate: Int64(bitPattern: form.imm))
        case .extend, .extendSigned:
            // MOVZX from a byte or word, MOV of a doubleword (MOVSXD r32), MOVSX, MOVSXD.
            let from = Int(form.x)
            let hs = operand(form.s, scratch: c), hd = destination(form.d)
            if k == .extend {
                if from == 4 { asm.mov(size: 4, hd, hs) } else { asm.extend(signed: false, size: 4, hd, from: from, hs) }
            } else {
                asm.extend(signed: true, size: Int(form.size), hd, from: from, hs)
            }
        case .lea:
            effectiveAddress(form.address, into: a)
            asm.mov(size: form.address.address32 || form.size == 4 ? 4 : 8, destination(form.d), a)
        case .inc, .dec:
            // CF stays: the guest's, if anyone reads it.
            if form.liveAfter & FormEmitter.carry != 0 { needFlags() }
            asm.unary(k == .inc ? .inc : .dec, size: Int(form.size), modified(form.d))
            flagsWritten()
        case .not:
            let hx = operand(form.x, scratch: a), hd = destination(form.d)
            if hd != hx { asm.mov(size: 8, hd, hx) }
            asm.unary(.not, size: Int(form.size), hd)
        case .neg:
            asm.unary(.neg, size: Int(form.size), modified(form.d))
            flagsWritten()
        case .shl64, .shr64, .sar64, .rol64, .ror64, .rol32, .ror32, .shift:
            let op: X86Assembler.Shift = switch k {
            case .shl64: .shl
            case .shr64: .shr
            case .sar64: .sar
            case .rol64, .rol32: .rol
            case .ror64, .ror32: .ror
            default: form.op == .shr ? .shr : form.op == .sar ? .sar : .shl
            }
            let size = k == .rol32 || k == .ror32 ? 4 : k == .shift ? Int(form.size) : 8
            let rotate = op == .rol || op == .ror
            // A rotate keeps all but CF and OF: the guest's must be in the host's where it
            // computes those, or someone reads the others.
            if rotate && (form.flags || form.liveAfter & ~FormEmitter.carryAndOverflow & FastForm.statusFlags != 0) { needExactFlags() }
            load(form.s, into: a)
            if form.flags && op == .shr { asm.mov(size: 8, c, a) }
            asm.shift(op, size: size, a, by: form.x)
            store(form.d, from: a)
            if form.flags { shiftFlags(op, size: size) } else {
                // (A rotate keeps AF, and `afClear` with it.)
                let keep = afClear
                flagsWritten()
                if rotate { afClear = keep }
            }
        case .imul, .mul:
            if k == .imul {
                load(form.x, into: a)
                load(form.s, into: c)
                asm.imul(size: Int(form.size), a, c)
            } else {
                load(0, into: a)
                load(form.s, into: c)
                asm.unary(.mul, size: Int(form.size), c)
                store(2, from: FormEmitter.d)
            }
            store(k == .imul ? form.d : 0, from: a)
            if form.flags { productFlags(size: Int(form.size)) } else { flagsWritten() }
        case .cmov:
            needFlags()
            let hs = operand(form.s, scratch: c)
            asm.cmov(FormEmitter.condition(form.x), size: Int(form.size), modified(form.d), hs)
        case .setcc:
            needFlags()
            asm.set(FormEmitter.condition(form.x), modified(form.d))
        case .imulImm:
            load(form.s, into: c)
            asm.imul(size: Int(form.size), a, c, immediate: Int32(truncatingIfNeeded: Int64(bitPattern: form.imm)))
            store(form.d, from: a)
            if form.flags { productFlags(size: Int(form.size)) } else { flagsWritten() }
        case .aluHighRI:
            // AH, CH, DH or BH of register `d` (0-3): bits 15:8 of RAX once it is loaded.
            let op = X86Assembler.ALU(rawValue: form.op.rawValue)
            if op == .adc || op == .sbb { needFlags() }
            load(form.d, into: a)
            asm.aluHigh(op ?? .and, 0, immediate: UInt8(truncatingIfNeeded: form.imm))
            noteLogical(op, flags: form.flags)
            if form.op.writesResult { store(form.d, from: a) }
            flagsWritten()
        case .bswap:
            asm.bswap(size: Int(form.size), modified(form.d))
        case .shiftCL:
            // By CL: a count of 0 leaves the flags (and a 32-bit register's upper half
            // clears, on the host as in the interpreter); other counts leave some undefined.
            let op: X86Assembler.Shift = switch form.op {
            case .shl: .shl
            case .shr: .shr
            case .sar: .sar
            case .rol: .rol
            default: .ror
            }
            guard form.flags else {
                // (Its flags, whatever the count, are read by no one.)
                load(1, into: c)
                load(form.d, into: a)
                asm.shift(op, size: Int(form.size), a)
                store(form.d, from: a)
                flagsWritten()
                break
            }
            // Read flags: 32 and 64 bits on the host (8 and 16 bits can shift by the width or
            // more, where the host leaves CF undefined).
            guard form.size >= 4 else { return fallback(f, index: i) }
            shiftByCLWithFlags(op, form)
        case .cdqe:
            load(0, into: c)
            asm.extend(signed: true, size: 8, a, from: 4, c)
            store(0, from: a)
        case .nop:
            break
        case .jmp:
            goOn(to: form.imm, executed: Int(form.ordinal) + form.retires)
            storeRIP(form.imm)
            exit(FastExit.jumped, index: i)
        case .jo, .jno, .jb, .jae, .je, .jne, .jbe, .ja, .js, .jns, .jp, .jnp, .jl, .jge, .jle, .jg:
            needFlags()
            // Not taken: on in the block, the flags as they are; taken: RIP, the flags written
            // back, out.
            let skip = asm.jcc(FormEmitter.condition((k.rawValue - FastKind.jo.rawValue) ^ 1), 0)
            let (host, dirty, cached, clear, inAX) = (hostFlags, dirtyFlags, cache, afClear, parked)
            goOn(to: form.imm, executed: Int(form.ordinal) + form.retires)
            storeRIP(form.imm)
            exit(FastExit.jumped, index: i)
            (hostFlags, dirtyFlags, cache, afClear, parked) = (host, dirty, cached, clear, inAX)
            asm.patch(skip, to: asm.bytes.count)
        case .blockEnd:
            if let next = context.next { goOn(to: next, executed: context.instructions) }
            exit(FastExit.end, index: i)
            return
        case .load, .load8, .load16, .load32, .load64, .loadSigned, .store, .storeImm, .cmpMR, .cmpMI, .testMR, .testMI,
             .aluRM, .aluMR, .aluMI, .incM, .decM, .shiftM, .push, .pushImm, .pop, .leave, .call, .ret, .jmpReg, .callReg:
            guard memoryForm(f, index: i) else { return fallback(f, index: i) }
        default:
            fallback(f, index: i)
            return
        }
        native += 1
    }

    /// A form with no host code of its own: a call into the interpreter for it.
    mutating func fallback(_ f: UnsafePointer<FastForm>, index i: Int) {
        call(index: i)
        fallbacks += 1
        fallbackKinds.append(f.pointee.kind)
    }

    /// A call into the interpreter for form `i`: the flags written back first; out of the
    /// block with its answer unless that is 0.
    mutating func call(index i: Int) {
        syncFlags()
        writeBack()
        asm.mov(size: 8, GPR.rsi, immediate: Int64(Int(bitPattern: formsBase + i * FormEmitter.formStride)))
        asm.mov(size: 8, FormEmitter.d, immediate: exitWord(i))
        asm.patch(asm.call(0), toAddress: stubs.interpret)
        cache = RegisterCache()
        hostFlags = false
        afClear = false
        parked = false
    }

    // MARK: cached registers

    /// Guest register `n` into host register `r`: from the host register caching it, or from
    /// the register file (then cached).
    mutating func load(_ n: UInt8, into r: Int) {
        if n == FastAddress.none {
            asm.mov(size: 4, r, immediate: 0)
            return
        }
        let h = cache.slot(n) ?? allocate(n, loading: true)
        cache.touch(h)
        asm.mov(size: 8, r, RegisterCache.hosts[h])
    }

    /// The host register holding guest register `n` (loaded into the cache if need be), to
    /// read; for `FastAddress.none`, `scratch` set to 0. A form takes every operand before its
    /// destination: the least recently used cached register is the one a new one takes, never
    /// one the form has just taken (a form names at most three, and six are cached).
    mutating func operand(_ n: UInt8, scratch: Int) -> Int {
        if n == FastAddress.none {
            asm.mov(size: 4, scratch, immediate: 0)
            return scratch
        }
        let h = cache.slot(n) ?? allocate(n, loading: true)
        cache.touch(h)
        return RegisterCache.hosts[h]
    }

    /// The host register to hold guest register `n`'s new value, written whole (not loaded
    /// from the register file); dirty.
    mutating func destination(_ n: UInt8) -> Int {
        let h = cache.slot(n) ?? allocate(n, loading: false)
        cache.touch(h)
        cache.setDirty(h, true)
        return RegisterCache.hosts[h]
    }

    /// The host register holding guest register `n`, loaded, to be changed in place (a byte or
    /// word written, a condition's move); dirty.
    mutating func modified(_ n: UInt8) -> Int {
        let h = cache.slot(n) ?? allocate(n, loading: true)
        cache.touch(h)
        cache.setDirty(h, true)
        return RegisterCache.hosts[h]
    }

    /// Host register `r` into guest register `n`: into the host register caching it (written
    /// back to the register file later).
    mutating func store(_ n: UInt8, from r: Int) {
        let h = cache.slot(n) ?? allocate(n, loading: false)
        cache.touch(h)
        asm.mov(size: 8, RegisterCache.hosts[h], r)
        cache.setDirty(h, true)
    }

    /// A host register for guest register `n`: a free one, or the least recently used one
    /// (written back if dirty).
    mutating func allocate(_ n: UInt8, loading: Bool) -> Int {
        let h = cache.victim()
        if cache.holds(h) && cache.isDirty(h) { asm.mov(size: 8, FormEmitter.gpr(UInt8(cache.guest[h])), RegisterCache.hosts[h]) }
        cache.guest[h] = Int8(n)
        cache.setDirty(h, false)
        cache.touch(h)
        if loading { asm.mov(size: 8, RegisterCache.hosts[h], FormEmitter.gpr(n)) }
        return h
    }

    /// The dirty cached registers into the register file (they stay cached).
    mutating func writeBack() {
        for h in RegisterCache.indices where cache.holds(h) && cache.isDirty(h) {
            asm.mov(size: 8, FormEmitter.gpr(UInt8(cache.guest[h])), RegisterCache.hosts[h])
            cache.setDirty(h, false)
        }
    }

    /// Loads every register `target` caches from the register file, and takes its state.
    mutating func reload(_ target: RegisterCache) {
        for h in RegisterCache.indices where target.holds(h) {
            asm.mov(size: 8, RegisterCache.hosts[h], FormEmitter.gpr(UInt8(target.guest[h])))
        }
        cache = target
    }
}

/// Which guest registers host registers hold within a translation: R12, R13 and R15 (kept
/// across calls), RDI, R9 and R11 (not: every call writes the cached ones back and forgets
/// them).
/// A dirty one is newer than the register file; it is written back before anything outside
/// the host code can look (a call into the interpreter, the block's exit, a loop back).
///
/// Fixed-size lanes, not arrays: the emitter copies the state at every slow path and branch,
/// and arrays made each copy an allocation (translation was a quarter of fork+exec's time).
struct RegisterCache {
    static let hosts = [GPR.r12, GPR.r13, GPR.r15, GPR.rdi, GPR.r9, GPR.r11]
    /// The host registers' slots (lanes past them stay unused).
    static let indices = 0..<hosts.count
    /// The guest register each slot holds (-1: none), whether it is dirty, when it was last used.
    var guest = SIMD8<Int8>(repeating: -1)
    var dirty = SIMD8<Int8>(repeating: 0)
    var used = SIMD8<Int32>(repeating: 0)
    var clock: Int32 = 0

    func slot(_ n: UInt8) -> Int? {
        for h in RegisterCache.indices where guest[h] == Int8(n) { return h }
        return nil
    }
    func holds(_ h: Int) -> Bool { guest[h] >= 0 }
    func isDirty(_ h: Int) -> Bool { dirty[h] != 0 }
    mutating func setDirty(_ h: Int, _ d: Bool) { dirty[h] = d ? 1 : 0 }
    /// A slot that holds nothing, else the least recently used.
    func victim() -> Int {
        var best = 0
        for h in RegisterCache.indices {
            if guest[h] < 0 { return h }
            if used[h] < used[best] { best = h }
        }
        return best
    }
    mutating func touch(_ h: Int) {
        clock += 1
        used[h] = clock
    }
}
