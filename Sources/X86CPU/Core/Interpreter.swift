#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import X86
import X86ISA
import X86Decoder

/// What one step did.
public enum StepResult: Equatable, Sendable {
    case executed
    case exception(CPUException)
}

/// The interpreter: fetch, decode, execute, one instruction at a time. This first
/// version covers the general-purpose integer core in 64-bit mode; instructions it
/// does not implement raise #UD (and are absent from its CPUID once CPUID exists).
///
/// An instruction that raises an exception changes no architectural state: results
/// are computed first and written back only when every access has succeeded.
public final class CPU<Memory: CPUMemory> {
    public let state: CPUState
    public let memory: Memory
    /// Whose processor the CPU is, where Intel and AMD differ: the model's vendor.
    public var vendor: Vendor { model.vendor }
    /// One decoder per code-segment mode (16, 32, 64-bit), reading the encodings the vendors
    /// decode differently (66 on near branches, F3 REX.B 90, 66 63) as `vendor` does.
    private(set) var decoders: [X86Decoder]
    let fetchBuffer = UnsafeMutablePointer<UInt8>.allocate(capacity: 16)
    /// Decoded instructions by guest RIP (direct-mapped), so each code location is decoded once.
    /// An entry whose `rip` does not match is empty or belongs to another location.
    let cache: UnsafeMutablePointer<DecodedInstruction>
    /// Tags of the guest pages that hold cached instructions (direct-mapped): a write to one
    /// of them drops the cache (after the instruction that wrote), so self-modifying code
    /// sees its new bytes.
    let codePages: UnsafeMutablePointer<UInt64>
    static var cacheSize: Int { 131072 }
    /// The entry for `rip`: the low bits with the next ones folded in, so that a hot loop and
    /// a function it calls rarely share a slot, and 128 KiB of straight-line code has no
    /// conflict. (32K entries were too few for Linux's fork and exec paths: each process
    /// decoded a sixth of its instructions again.)
    @inline(__always) func cacheEntry(_ rip: UInt64) -> UnsafeMutablePointer<DecodedInstruction> {
        cache + cacheSlot(rip)
    }
    @inline(__always) func cacheSlot(_ rip: UInt64) -> Int {
        Int(truncatingIfNeeded: rip ^ (rip >> 17)) & (CPU.cacheSize - 1)
    }
    /// Frame-level code writes seen (`--stats`).
    public internal(set) var codeWrites: UInt64 = 0
    static var codePageSlots: Int { 256 }
    /// Straight-line runs of fast forms by starting RIP (direct-mapped; Blocks.swift), and their
    /// fast forms, each block's together, taken in order: the first `blockOpsUsed` are in use.
    let blocks: UnsafeMutablePointer<Block>
    let blockOps: UnsafeMutablePointer<FastForm>
    var blockOpsUsed = 0
    /// Where the code decoded from each frame went: the decoded-instruction cache's slots (n)
    /// and the block slots (~n) filled from it, so that a store into the frame drops those
    /// (`applyCodeWrites`) rather than scanning every slot. A slot may since hold other code
    /// (each is checked before it is dropped); a frame that filled more than
    /// `codeSlotLimit` slots is marked (`codeSlotsOverflow`) and scanned in full. Dropping
    /// everything clears the noted slots only, unless a frame overflowed
    /// (`codeSlotsOverflowed`).
    var codeSlots: [UInt64: [Int32]] = [:]
    var codeSlotsOverflowed = false
    static var codeSlotLimit: Int { 4096 }
    static var codeSlotsOverflow: [Int32] { [Int32.min] }
    /// Where a block is decoded before its MOVs are fused (`CPU.fuseMoves`), and which form
    /// takes which MOV.
    let blockScratch = UnsafeMutablePointer<FastForm>.allocate(capacity: CPU.blockCapacity)
    let blockTakers = UnsafeMutablePointer<Int>.allocate(capacity: CPU.blockCapacity)
    /// The instructions `runBlock` ran through the general path right after a block, by
    /// mnemonic ID (`--stats`: what ends blocks, so where a fast form would help next).
    let blockEnds: UnsafeMutablePointer<UInt64> = {
        let p = UnsafeMutablePointer<UInt64>.allocate(capacity: CPU.mnemonicSlots)
        p.initialize(repeating: 0, count: CPU.mnemonicSlots)
        return p
    }()
    static var mnemonicSlots: Int { 1 << 13 }

    /// The `n` commonest of `blockEnds`, by mnemonic and count.
    public func commonestBlockEnds(_ n: Int) -> [(String, UInt64)] {
        (0..<CPU.mnemonicSlots).filter { blockEnds[$0] > 0 }.sorted { blockEnds[$0] > blockEnds[$1] }.prefix(n).map { id in
            var ins = Instruction(mode: .bits64)
            ins.mnemonicID = UInt16(id)
            return (ins.mnemonic, blockEnds[id])
        }
    }

    /// CPUID's answers and the deterministic time and entropy sources. The monitor may
    /// change it (per-vCPU CPUID configuration) before or between runs.
    public var model: CPUModel {
        didSet {
            supportedCR4 = model.supportedCR4
            linearBits = model.linearAddressBits
            cpuidTable = CPUIDTable(model)
            if model.vendor != oldValue.vendor {
                msrs.vendor = model.vendor
                decoders = CPU.decoders(model.vendor)
                invalidateDecodedInstructions()
            }
        }
    }
    /// The model's CPUID answers for the common leaves, computed when the model is set.
    var cpuidTable: CPUIDTable
    /// What `model` allows, computed once: the settable CR4 bits and the processor's
    /// linear-address width (the canonical checks of MSRs, bases and TLB invalidations).
    var supportedCR4: UInt64
    var linearBits: Int
    /// Instructions retired: guest time (RDTSC) is derived from it.
    public var retired: UInt64 { state.retired }
    var entropy: SplitMix64
    /// The entropy generator's whole state (RDRAND, RDSEED): a snapshot saves it.
    public var entropyState: UInt64 {
        get { entropy.state }
        set { entropy.state = newValue }
    }
    /// The MSRs that have no field of their own (RegisterFile keeps FS/GS base and EFER).
    public var msrs = ModelSpecificRegisters() {
        didSet { if msrs.vendor != model.vendor { msrs.vendor = model.vendor } }
    }
    /// WRMSR to the TSC moves guest time by this much.
    public var tscOffset: UInt64 = 0
    /// Guest time that passed without instructions (a halted vCPU waiting for a timer), and
    /// the time instructions took beyond their tick each (`charge`).
    public var idleTicks: UInt64 = 0
    /// The guest time (`guestTicks`) of the VMM's next timer event: an instruction that takes
    /// extra time (`CPUModel.pauseTicks`) and reaches it ends the run after it retires, as
    /// `.interruptWindow`, so that the event is delivered on time.
    public var tickDeadline: UInt64 = .max
    /// RDMSR/WRMSR of these indices exit to the VMM instead.
    public var exitingMSRs: Set<UInt32> = []
    /// CPUID leaves that exit to the VMM instead of answering from the model.
    public var exitingCPUIDLeaves: Set<UInt32> = []
    /// The CPU runs in a VM (VMX non-root operation, or SVM with the VMMCALL intercept): the
    /// model's vendor's hypercall instruction (VMCALL for Intel, VMMCALL for AMD) exits to the
    /// VMM at any CPL. Off, both are #UD, as on a processor outside VMX and SVM.
    public var hypercallExiting = false
    /// A MOV to CR8 of a value below this exits (VMX's TPR threshold: the monitor sets the
    /// priority class of an interrupt the TPR holds back; 0 lets every CR8 write run on).
    public var tprThreshold: UInt64 = 0
    /// Pause-loop exiting (VMX's PAUSE exiting, SVM's PAUSE intercept): a PAUSE ends the run
    /// after it retires (`run` returns `.interruptWindow` with `pauseExited` set), so that a
    /// monitor running several vCPUs on one thread can give a spinning vCPU's turn to another.
    public var pauseExiting = false
    public var pauseExited = false
    /// Port I/O goes here when set (the monitor's assist); otherwise it exits.
    public var ioHandler: PortIOHandler?
    /// An event injected by the VMM, delivered when `run` next starts.
    public var pendingEvent: InjectedEvent?
    /// The exception whose delivery an exit interrupted (nil when the exit came from an
    /// instruction): the VMM completes the delivery.
    public internal(set) var interruptedDelivery: CPUException?
    /// The instruction just executed decides single-step by TF at its end (SYSCALL, SYSRET).
    var tfSampledAtEnd = false
    /// Linear addresses where a debugger stops the vCPU before the instruction (kept here, not
    /// in guest memory: the guest never sees them). While any is set (exit request bit 5), the
    /// run loop looks before each block and each instruction it runs alone, and blocks end
    /// before them.
    public var debuggerBreakpoints: Set<UInt64> = [] {
        didSet { debuggerChanged() }
    }
    /// Whether any debugger breakpoint is set (`debuggerChanged` keeps the exit request).
    @inline(__always) var debuggerBreakpointsArmed: Bool { state.exitRequests & RegisterFile.debuggerBreaking != 0 }
    /// Whether a debugger breakpoint is at `rip` (a linear address): blocks end before one.
    @inline(__always) func debuggerBreakpoint(at rip: UInt64) -> Bool {
        debuggerBreakpointsArmed && debuggerBreakpoints.contains(rip)
    }
    /// A debugger's data breakpoints (their `index` from 4: DR6 never shows them); the run
    /// stops after the instruction that touched one (`debuggerWatchHits` says which).
    public var debuggerWatchpoints: [Watchpoint] = [] {
        didSet { debuggerChanged(breakpointsChanged: false) }
    }
    /// The debugger's watchpoints hit (bit n for index n) since the debugger last looked.
    public var debuggerWatchHits: UInt64 = 0
    /// The breakpoint the vCPU stopped at, passed once when it resumes there (at this count).
    public var debuggerResume: (rip: UInt64, retired: UInt64)?
    /// DR0-DR3 and DR7 as last handed to the MMU (Debug.swift).
    var watchKey: (UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0)
    /// The mode and CS base the decoded-instruction cache was filled under.
    var decodedMode: CPUMode = .bits64
    var decodedCSBase: UInt64 = 0
    /// Statistics for `--stats`: instructions decoded (misses of the decoded-instruction cache)
    /// and drops of the whole cache.
    public internal(set) var decodes: UInt64 = 0
    public internal(set) var cacheDrops: UInt64 = 0
    /// Blocks built, and blocks checked again against their frames after a TLB flush or a
    /// change of CPL (`--stats`).
    public internal(set) var blocksBuilt: UInt64 = 0
    public internal(set) var blocksRechecked: UInt64 = 0
    /// Blocks translated to host code (`--stats`).
    public internal(set) var blocksTranslated: UInt64 = 0
    /// Those of them translated with the other blocks of a loop (`loopMembers`; `--stats`).
    public internal(set) var loopsTranslated: UInt64 = 0
    /// Blocks (built again, or warm) that got a kept translation (`reattach`; `--stats`).
    public internal(set) var translationsReattached: UInt64 = 0
    /// Those of them whose translation another CPU made (`--stats`).
    public internal(set) var translationsShared: UInt64 = 0
    /// The translator's kept translations (shared by the CPUs it serves), and its flush count's
    /// word (`noFlushes` without a translator) with the count this CPU last saw.
    var keptTranslations: KeptTranslations? = nil
    var translatorFlushes: UnsafePointer<UInt64>
    let noFlushes = UnsafeMutablePointer<UInt64>.allocate(capacity: 1)
    var seenFlushes: UInt64 = 0
    /// `runBlock`'s budget while host code runs (`runTranslated`).
    let translationBudget = UnsafeMutablePointer<UInt64>.allocate(capacity: 1)
    /// Whether any block got host code since translations were last forgotten.
    var anyTranslated = false

    /// The translator that turns warm blocks into host code (nil: the interpreter alone). One
    /// translator may serve several CPUs (a machine's vCPUs): they share its translations.
    @_spi(Translator) public var translator: (any BlockTranslating)? {
        didSet { attach(translator) }
    }
    /// Blocks run this many times through the interpreter before they are translated: code
    /// run a few times, most of a boot's, is not worth the translation. (Measured on the Linux
    /// boot and 200 fork+exec: 2, 4, 16, 64 and 256 runs gave 7.0, 6.4, 5.1, 4.4 and 4.5 s for
    /// the processes, 3.4, 3.2, 2.9, 2.8 and 2.8 s for the boot.)
    @_spi(Translator) public var translationThreshold: UInt16 = 64
    /// What host code calls for the forms it runs through the interpreter, and what such a
    /// form raised (`FastExit.threw`).
    var formRunner: FormRunner?
    var runnerEntry = UnsafeMutableRawPointer(bitPattern: 1)!
    /// The translator's entry into translated code (`Translation.entry`; set with the first).
    var translationEntry = UnsafeRawPointer(bitPattern: 1)!
    var translatedException = CPUException.invalidOpcode

    static func decoders(_ vendor: Vendor) -> [X86Decoder] {
        [X86Decoder(mode: .bits16, vendor: vendor), X86Decoder(mode: .bits32, vendor: vendor), X86Decoder(mode: .bits64, vendor: vendor)]
    }

    public convenience init(memory: Memory, model: CPUModel = CPUModel()) {
        self.init(memory: memory, model: model, state: CPUState())
    }

    /// A CPU over `state`: its own, or another CPU's when it emulates for that one
    /// (`InstructionEmulator`).
    init(memory: Memory, model: CPUModel, state: CPUState) {
        self.state = state
        self.memory = memory
        self.model = model
        supportedCR4 = model.supportedCR4
        linearBits = model.linearAddressBits
        cpuidTable = CPUIDTable(model)
        entropy = SplitMix64(seed: model.entropySeed)
        decoders = CPU.decoders(model.vendor)
        // Zeroed memory the kernel hands out page by page as entries are first used, so that
        // a CPU costs no megabytes of stores to make (cpu-check makes one per case). A zero entry
        // holds RIP 0 and so misses every lookup but RIP 0's, whose slot gets the empty entry.
        precondition(_isPOD(DecodedInstruction.self), "a zeroed entry must be a valid one")
        precondition(MemoryLayout<DecodedInstruction>.offset(of: \.fast) == 0, "the fast form must come first")
        noFlushes.initialize(to: 0)
        translatorFlushes = UnsafePointer(noFlushes)
        cache = zeroedMemory(DecodedInstruction.self, CPU.cacheSize, "decoded-instruction cache")
        codePages = .allocate(capacity: CPU.codePageSlots)
        codePages.initialize(repeating: ~0, count: CPU.codePageSlots)
        // Zeroed too: a zero block holds RIP 0, whose slot gets the empty block, and no other
        // RIP's lookup finds it.
        precondition(_isPOD(Block.self), "zeroed entries must be valid ones")
        blocks = zeroedMemory(Block.self, CPU.blockSlots, "blocks")
        blocks[blockSlotIndex(0, CPU.blockSlots)] = Block()
        blockOps = zeroedMemory(FastForm.self, CPU.blockOpCapacity, "blocks' operations")
        cacheEntry(0).pointee = .empty
        memory.attach(state)
    }

    /// After anything that may change the code segment's mode or base (far transfers, events,
    /// MOV CR0, WRMSR EFER, the VMM setting state): decoded instructions belong to one mode and
    /// one CS base, so a change drops them.
    public func modeMaybeChanged() {
        state.updateMode()
        let mode = state.mode, base = state.mode == .bits64 ? 0 : state.segmentBase(1)
        if mode != decodedMode || base != decodedCSBase {
            decodedMode = mode
            decodedCSBase = base
            invalidateDecodedInstructions()
        }
    }

    deinit {
        fetchBuffer.deallocate()
        releaseZeroed(cache, CPU.cacheSize)
        codePages.deallocate()
        releaseZeroed(blocks, CPU.blockSlots)
        releaseZeroed(blockOps, CPU.blockOpCapacity)
        blockScratch.deallocate()
        noFlushes.deallocate()
        translationBudget.deallocate()
        blockTakers.deallocate()
        blockEnds.deallocate()
    }

    /// Executes one instruction.
    public func step() -> StepResult {
        do throws(CPUException) {
            let rip = state.rip
            let entry = cacheEntry(rip)
            if entry.pointee.rip != rip {
                entry.pointee = try decode(at: rip)
            } else if !state.isCurrentCode(entry.pointee.key), try !stillValid(entry) {
                entry.pointee = try decode(at: rip)
            }
            try executeAndRetire(entry)
            return .executed
        } catch {
            return .exception(error)
        }
    }

    /// Executes a decoded instruction and retires it; a store to decoded code drops what it
    /// wrote, whether the instruction completed or faulted.
    @inline(__always) func executeAndRetire(_ entry: UnsafeMutablePointer<DecodedInstruction>) throws(CPUException) {
        defer { if state.invalidationPending { applyCodeWrites() } }
        if entry.pointee.fast.kind == .none {
            try execute(entry)
        } else {
            _ = try executeFast(fastForm(entry), at: entry.pointee.rip)
        }
        state.retired &+= 1
    }

    /// The instruction at `rip` as this CPU decoded it, if its decoded-instruction cache still
    /// holds it and it is valid for the current code key: what an exit hands the monitor, so
    /// that its assist need not fetch and decode the instruction again.
    public func decodedInstruction(at rip: UInt64) -> PreparedInstruction? {
        let entry = cacheEntry(rip)
        guard entry.pointee.rip == rip, state.isCurrentCode(entry.pointee.key) else { return nil }
        return PreparedInstruction(decoded: entry.pointee)
    }

    /// The one-instruction emulation API (the monitor's MMIO assist): executes an instruction
    /// another CPU decoded at this CPU's RIP, with this CPU's state and memory, exactly as
    /// `step` would have executed it.
    public func emulate(_ instruction: PreparedInstruction) -> StepResult {
        guard instruction.decoded.rip == state.rip else { return step() }
        var decoded = instruction.decoded
        return withUnsafeMutablePointer(to: &decoded) { entry in
            do throws(CPUException) {
                try executeAndRetire(entry)
                return .executed
            } catch {
                return .exception(error)
            }
        }
    }

    /// Runs until RIP reaches `stop`, an exception, or `limit` instructions; returns how many
    /// instructions retired and why it stopped (`.executed`: the stop address or the limit).
    public func run(until stop: UInt64, limit: Int = .max) -> (retired: Int, result: StepResult) {
        var n = 0
        while n < limit && state.rip != stop {
            let r = step()
            if case .exception = r { return (n, r) }
            n += 1
        }
        return (n, .executed)
    }

    @inline(never)
    func decode(at rip: UInt64, linear: UInt64? = nil) throws(CPUException) -> DecodedInstruction {
        decodes &+= 1
        let mode = state.mode
        let linearRIP = linear ?? state.linearRIP
        // A fetch at a non-canonical address is #GP(0): execution that runs on past the top of
        // the lower half (a branch checks its target itself), or an instruction that crosses it.
        if mode == .bits64 && !isCanonical(linearRIP) { throw .generalProtection(0) }
        let n = try memory.fetch(linearRIP, into: fetchBuffer, max: 15)
        let ins = decoders[mode == .bits16 ? 0 : (mode == .bits32 ? 1 : 2)].decode(fetchBuffer, count: n)
        if mode == .bits64 && ins.status == .valid && !isCanonical(linearRIP &+ UInt64(ins.length) &- 1) {
            throw .generalProtection(0)
        }
        switch ins.status {
        case .valid: break
        case .truncated:
            // The bytes ran out at a page the fetch could not reach: fetch it again to raise its fault.
            var byte: UInt8 = 0
            _ = try memory.fetch(linearRIP &+ UInt64(n), into: &byte, max: 1)
            throw .pageFault(address: linearRIP &+ UInt64(n), errorCode: 0x14)
        case .invalid: throw ins.length >= 15 ? .generalProtection(0) : .invalidOpcode
        }
        // What the interpreter does not implement is #UD (and absent from its CPUID).
        guard interpreterImplements(ins) else { throw .invalidOpcode }
        let operandsList = ins.operands(address: rip)
        // The SSE mnemonics also name MMX forms (an mm register operand): those run as MMX.
        let onMMX = operandsList.contains(where: { if case .register(let r) = $0 { r.kind == .mmx } else { false } })
        // Both pages an instruction spans count as code.
        markCode(linearRIP)
        markCode(linearRIP &+ UInt64(ins.length) &- 1)
        let frame0 = try memory.codeFrame(linearRIP)
        let global0 = memory.lastCodeFrameGlobal
        let frame1 = try memory.codeFrame(linearRIP &+ UInt64(ins.length) &- 1)
        let global = global0 && memory.lastCodeFrameGlobal
        let op = interpreterOp(ins)
        let id = Int(ins.mnemonicID)
        let traits = op == interpreterOps[id] ? interpreterTraits[id] : OpTraits(op)
        let kind = traits.conditionKind
        let operands = operandsList
        let condition = traits.condition
        let onSystemRegister = operandsList.contains(where: {
            if case .register(let r) = $0 { r.kind == .segment || r.kind == .control || r.kind == .debug } else { false }
        })
        // 66 on a near branch differs between vendors: such branches take the general path.
        let fast = (ins.prefixes.contains(.operandSize) && condition >= 0) || onSystemRegister ? FastForm.none
            : FastForm(op, operands, ins: ins, rip: rip, condition: condition, conditionKind: kind)
        let unit: ExecutionUnit = traits.x87 ? .x87 : (traits.mmxOnly || (onMMX && traits.sse)) ? .mmx
            : traits.sseFloat ? .sseFloat : traits.sse ? .sse
            : (traits.system || (onSystemRegister && (op == .mov || op == .push || op == .pop))) ? .system : .general
        var d = DecodedInstruction(rip: rip, ins: ins, operands: OperandList(operands), op: op,
                                   condition: condition, conditionKind: kind, fast: fast, unit: unit)
        (d.key, d.frame0, d.frame1) = (state.codeKey(global: global), frame0, frame1)
        state.noteCode(from: linearRIP, to: linearRIP &+ UInt64(ins.length) &- 1)
        // The callers put it in the slot for `rip`.
        let slot = Int32(truncatingIfNeeded: cacheSlot(rip))
        noteCodeSlot(frame0, slot)
        if frame1 != frame0 { noteCodeSlot(frame1, slot) }
        return d
    }

    /// Notes that cache slot `slot` (n), or block slot `~slot`, holds code from `frame`.
    func noteCodeSlot(_ frame: UInt64, _ slot: Int32) {
        guard var slots = codeSlots.removeValue(forKey: frame) else {
            codeSlots[frame] = [slot]
            return
        }
        if slots != CPU.codeSlotsOverflow {
            if slots.count < CPU.codeSlotLimit {
                slots.append(slot)
            } else {
                slots = CPU.codeSlotsOverflow
                codeSlotsOverflowed = true
            }
        }
        codeSlots[frame] = slots
    }

    /// After a TLB flush or a change of privilege: whether the entry's bytes are still the ones
    /// at its RIP (the same frames, still executable at this CPL, by a fetch through the TLB).
    @inline(never)
    func stillValid(_ entry: UnsafeMutablePointer<DecodedInstruction>, linear: UInt64? = nil) throws(CPUException) -> Bool {
        let linear = linear ?? state.linearRIP
        guard let key = try keyIfStillHeld(linear, linear &+ UInt64(entry.pointee.length) &- 1,
                                           entry.pointee.frame0, entry.pointee.frame1) else { return false }
        entry.pointee.key = key
        return true
    }

    /// Whether the bytes from `first` to `last` (linear) still come from frames `frame0` and
    /// `frame1`, fetched through the TLB now (faults included): then the key the code there
    /// takes (the global one when both pages are global), its pages noted as holding code of
    /// this epoch; nil if not. What an instruction's entry and a block are checked by.
    func keyIfStillHeld(_ first: UInt64, _ last: UInt64, _ frame0: UInt64, _ frame1: UInt64) throws(CPUException) -> UInt64? {
        guard try memory.codeFrame(first) == frame0 else { return nil }
        let global = memory.lastCodeFrameGlobal
        guard try memory.codeFrame(last) == frame1 else { return nil }
        state.noteCode(from: first, to: last)
        return state.codeKey(global: global && memory.lastCodeFrameGlobal)
    }

    /// At the end of an instruction that stored to code: drops the entries of the frame it
    /// wrote, or all of them.
    func applyCodeWrites() {
        let v = state.file.pointee.codeInvalidation
        guard v & 2 != 0 else { return invalidateDecodedInstructions() }
        state.file.pointee.codeInvalidation = 0
        codeWrites &+= 1
        let frame = v >> 2
        guard let slots = codeSlots.removeValue(forKey: frame) else { return }
        if slots == CPU.codeSlotsOverflow {
            for i in 0..<CPU.cacheSize where cache[i].frame0 == frame || cache[i].frame1 == frame { cache[i] = .empty }
            for i in 0..<CPU.blockSlots where blocks[i].frame0 == frame || blocks[i].frame1 == frame { blocks[i] = Block() }
            return
        }
        for s in slots {
            if s >= 0 {
                let i = Int(s)
                if cache[i].frame0 == frame || cache[i].frame1 == frame { cache[i] = .empty }
            } else {
                let i = Int(~s)
                if blocks[i].frame0 == frame || blocks[i].frame1 == frame { blocks[i] = Block() }
            }
        }
    }

    @inline(__always) func markCode(_ address: UInt64) {
        if Memory.tracksCodeFrames { return }
        let page = address >> 12
        codePages[Int(truncatingIfNeeded: page) & (CPU.codePageSlots - 1)] = page
    }

    /// Drops the decoded instruction cached for `rip`, if any (the monitor's assist, whose
    /// instruction bytes come from each exit, decodes afresh).
    public func forgetDecoded(at rip: UInt64) {
        cacheEntry(rip).pointee = .empty
        let b = blockEntry(rip)
        if b.pointee.rip == rip { b.pointee = Block() }
    }

    /// Drops every decoded instruction (after the guest, or a device, wrote to code).
    public func invalidateDecodedInstructions() {
        cacheDrops &+= 1
        state.invalidationPending = false
        state.refreshCodeKey()
        for i in 0..<CPU.codePageSlots { codePages[i] = ~0 }
        if codeSlotsOverflowed {
            for i in 0..<CPU.cacheSize { cache[i] = .empty }
            dropBlocks()
        } else {
            // Every slot filled since the last drop is noted: clearing those is clearing all
            // (a mode switch drops everything, and 128K entries are 30 MiB).
            for slots in codeSlots.values {
                for s in slots {
                    if s >= 0 { cache[Int(s)] = .empty } else { blocks[Int(~s)] = Block() }
                }
            }
            blockOpsUsed = 0
        }
        codeSlots = [:]
        codeSlotsOverflowed = false
    }

    /// Called for every store the CPU makes: a store into a page holding decoded code drops the
    /// cache once the current instruction is done (it may still be reading its own entry).
    @inline(__always) func noteStore(_ address: UInt64, _ size: Int) {
        if Memory.tracksCodeFrames { return }
        let first = address >> 12, last = (address &+ UInt64(size) &- 1) >> 12
        if codePages[Int(truncatingIfNeeded: first) & (CPU.codePageSlots - 1)] == first
            || codePages[Int(truncatingIfNeeded: last) & (CPU.codePageSlots - 1)] == last {
            state.invalidationPending = true
        }
    }

    var opTable: [Op] { interpreterOps }

    /// A decoded instruction's fast form, in place.
    @inline(__always) func fastForm(_ entry: UnsafeMutablePointer<DecodedInstruction>) -> UnsafePointer<FastForm> {
        UnsafeRawPointer(entry).assumingMemoryBound(to: FastForm.self)
    }
}

/// One decoded instruction, with its operands resolved once (a register, a memory
/// operand's parts, an immediate, a branch target for this RIP).
///
/// What the fast path reads (the tag, the fast form, the length) comes first, in the entry's
/// first cache line; the general path's instruction and operands follow.
struct DecodedInstruction {
    /// The shortcut for the commonest shapes, or `.none`; first, so that a pointer to the
    /// entry is one to its fast form (`CPU.fastForm`).
    var fast: FastForm
    var rip: UInt64
    /// `CPUState.codeKey` (or `globalCodeKey`, when its pages are global) when the entry was last
    /// known to hold the bytes at `rip`.
    var key: UInt64 = 0
    /// The frames of the first and last byte (`CPUMemory.codeFrame`).
    var frame0: UInt64 = ~0, frame1: UInt64 = ~0
    var length: UInt8
    var ins: Instruction
    var operands: OperandList
    var op: Op
    /// Jcc/SETcc/CMOVcc: the condition (0-15) and which of the three (0, 1, 2); -1 otherwise.
    var condition: Int8
    var conditionKind: UInt8
    /// Which handler runs it (decided once, at decode).
    var unit: ExecutionUnit = .general

    init(rip: UInt64, ins: Instruction, operands: OperandList, op: Op, condition: Int8, conditionKind: UInt8,
         fast: FastForm, unit: ExecutionUnit = .general) {
        (self.rip, self.fast, self.length, self.ins, self.operands) = (rip, fast, UInt8(ins.length), ins, operands)
        (self.op, self.condition, self.conditionKind, self.unit) = (op, condition, conditionKind, unit)
    }

    static let empty = DecodedInstruction(rip: ~0, ins: Instruction(mode: .bits64), operands: OperandList([]), op: .unimplemented,
                                          condition: -1, conditionKind: 0, fast: .none)
}

/// An instruction decoded by one CPU, for another to execute (`CPU.emulate`). A reference,
/// so that the exit records carrying one stay a few words long.
public final class PreparedInstruction: Equatable, @unchecked Sendable, CustomStringConvertible {
    let decoded: DecodedInstruction
    init(decoded: DecodedInstruction) { self.decoded = decoded }
    /// Where it was decoded, and its length.
    public var rip: UInt64 { decoded.rip }
    public var length: Int { Int(decoded.length) }
    public var instruction: Instruction { decoded.ins }
    public var description: String { "\(decoded.ins.mnemonic) (\(length) bytes at \(hex(rip)))" }
    public static func == (a: PreparedInstruction, b: PreparedInstruction) -> Bool {
        a.decoded.rip == b.decoded.rip && a.decoded.length == b.decoded.length && a.decoded.ins.mnemonicID == b.decoded.ins.mnemonicID
    }
}

/// The handler families an instruction can go to.
enum ExecutionUnit: UInt8 {
    case general, x87, sseFloat, sse, mmx, system
}

/// Up to four operands stored inline (plain values: copying one costs no reference counting).
struct OperandList {
    let count: Int
    let o0, o1, o2, o3: Operand

    init(_ list: [Operand]) {
        // Implemented instructions have at most four (checked by interpreterImplements' callers).
        precondition(list.count <= 4, "more than four operands")
        let none = Operand.immediate(0, size: 0)
        count = list.count
        o0 = list.count > 0 ? list[0] : none
        o1 = list.count > 1 ? list[1] : none
        o2 = list.count > 2 ? list[2] : none
        o3 = list.count > 3 ? list[3] : none
    }

    @inline(__always) subscript(_ i: Int) -> Operand {
        switch i {
        case 0: o0
        case 1: o1
        case 2: o2
        default: o3
        }
    }

    var first: Operand? { count > 0 ? o0 : nil }
    var last: Operand? { count > 0 ? self[count - 1] : nil }
}

/// Per mnemonic ID, the operation that executes it: the description's mnemonic, or the one it
/// runs as. ENDBR32/ENDBR64 are hint NOPs on a processor without CET (CPUID.7.0:EDX[20]
/// clear): compilers put them at every indirect branch target (Debian's busybox starts its
/// functions with them).
let interpreterOps: [Op] = Instruction.mnemonicCodes.map { $0.facts.executes }

/// What decoding derives from an operation (its condition and handler family), worked out
/// once per mnemonic: the names' string tests and the family sets' hashing cost more than the
/// rest of a decode.
struct OpTraits {
    let condition: Int8
    /// Jcc 0, SETcc 1, CMOVcc 2.
    let conditionKind: UInt8
    let x87, mmxOnly, sse, sseFloat, system: Bool

    init(_ op: Op) {
        condition = Int8(op.condition ?? -1)
        conditionKind = op.facts.conditionKind.rawValue
        (x87, mmxOnly, sse, sseFloat, system) = (op.isX87, op.isMMXOnly, op.isSSE, op.isSSEFloat, op.isSystem)
    }
}

/// `OpTraits` of `interpreterOps`, by mnemonic ID.
let interpreterTraits: [OpTraits] = interpreterOps.map(OpTraits.init)

/// The operation for a decoded instruction.
@inline(__always) func interpreterOp(_ ins: Instruction) -> Op { interpreterOps[Int(ins.mnemonicID)] }

/// Whether the interpreter implements this decoded instruction.
public func interpreterImplements(_ ins: Instruction) -> Bool {
    guard ins.status == .valid else { return false }
    let op = interpreterOp(ins)
    guard op != .unimplemented, ins.map != .amd3DNow, !ins.map.isEVEX, !ins.map.isXOP else { return false }
    if ins.map.isVEX { return op.isBMI }
    return true
}

/// `count` zeroed `T`s, the kernel's pages handed out as they are first touched: a CPU costs
/// no megabytes of stores to make (cpu-check makes one per case).
func zeroedMemory<T>(_: T.Type, _ count: Int, _ what: String) -> UnsafeMutablePointer<T> {
    let p = mmap(nil, count * MemoryLayout<T>.stride, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
    precondition(p != MAP_FAILED, "no memory for the \(what)")
    return p!.bindMemory(to: T.self, capacity: count)
}

/// Zeroes what `zeroedMemory` made: its pages go back to the host, and read as zero.
func zeroAgain<T>(_ p: UnsafeMutablePointer<T>, _ count: Int) {
    precondition(madvise(p, count * MemoryLayout<T>.stride, MADV_DONTNEED) == 0, "madvise failed")
}

/// Gives back what `zeroedMemory` made.
func releaseZeroed<T>(_ p: UnsafeMutablePointer<T>, _ count: Int) { munmap(p, count * MemoryLayout<T>.stride) }
