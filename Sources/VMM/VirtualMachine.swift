#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import GuestMemory
import NestedPaging
import X86
@_spi(Translator) import X86CPU
@_spi(Translator) import X86JIT

extension VMMemory: NestedFaultResolver {
    /// The vCPU's MMU asks here when the pmap lacks a translation: RAM is entered (retry),
    /// anything else leaves the CPU as an exit.
    public func resolveNestedFault(_ gpa: GuestPhysicalAddress, _ access: AccessType) -> Bool {
        let outcome = handleNestedFault(gpa, access)
        switch outcome {
        case .entered, .copied, .accessedDirty, .spurious: return true
        case .mmioAssist, .protection, .unbacked:
            // The exit this becomes carries the classification (VirtualCPU.translate).
            unresolved = (gpa.rawValue, outcome)
            return false
        }
    }
}

/// Why `VirtualCPU.run` returned: vmm(4)'s exit reasons, NVMM's exit types.
public enum VMExit: Equatable, Sendable, CustomStringConvertible {
    /// IN/OUT/INS/OUTS: RIP still points at the instruction.
    case io(PortIOExit)
    /// An access to a device's range: the GPA, whether it writes, and the instruction (bytes
    /// at RIP, up to 15, as AMD's decode assist gives them).
    case mmio(MMIOExit)
    /// An access to guest-physical memory nothing backs (during the delivery of an exception,
    /// if `duringDelivery` is set).
    case unbacked(gpa: UInt64, access: MemoryAccess, linear: UInt64, duringDelivery: VCPUEvent?)
    /// HLT (RIP already past it): the vCPU waits for an interrupt.
    case halt
    /// A triple fault.
    case shutdown
    case rdmsr(index: UInt32)
    case wrmsr(index: UInt32, value: UInt64)
    case cpuid(leaf: UInt32, subleaf: UInt32)
    /// VMCALL under an Intel model, VMMCALL under an AMD one (KVM_EXIT_HYPERCALL's place):
    /// RIP still points at the 3-byte instruction; the arguments are in the registers.
    case hypercall
    /// The instruction budget of this `run` ran out.
    case limit
    /// The vCPU can take an external interrupt now (after `requestInterruptWindow`), or the
    /// monitor asked for it back (`requestExit`).
    case interruptWindow
    /// A debugger's breakpoint (`VirtualCPU.debuggerBreakpoints`): the instruction at RIP has
    /// not run.
    case breakpoint

    public var description: String {
        switch self {
        case .io(let e): "io: \(e)"
        case .mmio(let m): "mmio: \(m)"
        case .unbacked(let g, let a, let l, let d): "unbacked memory: \(a) at GPA \(hex(g)) (linear \(hex(l)))" + (d.map { " delivering \($0)" } ?? "")
        case .halt: "hlt"
        case .shutdown: "shutdown (triple fault)"
        case .rdmsr(let i): "rdmsr \(hex(UInt64(i)))"
        case .wrmsr(let i, let v): "wrmsr \(hex(UInt64(i))) = \(hex(v))"
        case .cpuid(let l, let s): "cpuid \(hex(UInt64(l))).\(s)"
        case .limit: "instruction limit"
        case .interruptWindow: "interrupt window"
        case .hypercall: "hypercall"
        case .breakpoint: "debugger breakpoint"
        }
    }

    /// A short name for statistics.
    public var kind: String { VMExit.kindNames[kindIndex] }

    /// The names of the exit kinds, in `kindIndex` order.
    public static let kindNames = ["io", "mmio", "unbacked", "hlt", "shutdown", "rdmsr", "wrmsr", "cpuid", "limit",
                                   "interrupt-window", "hypercall", "breakpoint"]

    /// The exit's kind as a number (an index into `kindNames`).
    public var kindIndex: Int {
        switch self {
        case .io: 0
        case .mmio: 1
        case .unbacked: 2
        case .halt: 3
        case .shutdown: 4
        case .rdmsr: 5
        case .wrmsr: 6
        case .cpuid: 7
        case .limit: 8
        case .interruptWindow: 9
        case .hypercall: 10
        case .breakpoint: 11
        }
    }
}

/// A port I/O instruction, as the exit reports it (AMD's IOIO exit information, with the
/// value of an OUT).
public struct PortIOExit: Equatable, Sendable, CustomStringConvertible {
    public var port: UInt16
    /// 1, 2 or 4 bytes.
    public var size: Int
    public var isIn: Bool
    /// INS/OUTS; `rep` with a REP prefix.
    public var string: Bool
    public var rep: Bool
    /// OUT's value (AL, AX or EAX).
    public var value: UInt32
    /// The instruction's length: the monitor advances RIP by it.
    public var length: Int

    public init(port: UInt16, size: Int, isIn: Bool, string: Bool = false, rep: Bool = false, value: UInt32 = 0, length: Int) {
        (self.port, self.size, self.isIn, self.string, self.rep, self.value, self.length) = (port, size, isIn, string, rep, value, length)
    }

    init(_ io: IOExit) {
        self.init(port: io.port, size: io.size, isIn: io.isIn, string: io.string, rep: io.rep, value: io.value, length: io.length)
    }

    public var description: String {
        let name = (isIn ? "in" : "out") + (string ? "s" : "")
        return "\(rep ? "rep " : "")\(name) port \(hex(UInt64(port))) size \(size)" + (isIn || string ? "" : " value \(hex(UInt64(value)))")
    }
}

/// What a guest access that left the vCPU was doing.
public enum MemoryAccess: UInt8, Equatable, Sendable, CustomStringConvertible {
    /// `walk`: a read of a paging-structure entry by the guest page walk.
    case read, write, fetch, walk
    public var description: String { ["read", "write", "fetch", "page-walk read"][Int(rawValue)] }

    init(_ a: NestedAccess) {
        self = switch a {
        case .read: .read
        case .write: .write
        case .fetch: .fetch
        case .walk: .walk
        }
    }
}

public struct MMIOExit: Equatable, Sendable, CustomStringConvertible {
    public var gpa: UInt64
    public var linear: UInt64
    public var write: Bool
    /// The access was the guest page walk's read of a paging-structure entry (at `gpa`), on
    /// the way to `linear`.
    public var walk: Bool
    /// What the fault handler found: the memory map's range (its index) and the offset of the
    /// GPA in it. The monitor finds the device by the range; nothing classifies the GPA again.
    public var range: Int
    public var offset: UInt64
    /// The instruction as the vCPU decoded it (nil when its decoded copy is gone, or during a
    /// delivery): the assist executes it without fetching or decoding it again.
    public var decoded: PreparedInstruction?
    /// The instruction's bytes at RIP, fetched only when `decoded` is nil (up to 15, as AMD's
    /// decode assist gives them).
    public var instruction: [UInt8]
    /// The exception being delivered when the access happened (a frame pushed to a device's
    /// range, a gate read from one), or nil for an instruction's own access.
    public var duringDelivery: VCPUEvent? = nil
    public var description: String {
        "\(write ? "write" : "read") at GPA \(hex(gpa)) (range \(range) offset \(hex(offset))), instruction "
            + (decoded.map { "\($0)" } ?? instruction.map { String($0, radix: 16) }.joined(separator: " "))
    }
}

/// What backs a guest-physical address.
public enum PhysicalBacking: Equatable, Sendable {
    case ram
    /// A device's range: the map's range index and the offset in it.
    case device(range: Int, offset: UInt64)
    /// Reserved, or a hole in the map (open bus).
    case none
}

/// Host-side errors creating or using a VM.
public enum VMError: Error, Equatable, CustomStringConvertible {
    case memory(GuestMemoryError)
    case pmap(PmapError)
    case badVCPUCount(Int)
    case tornDown(String)
    case notRAM(gpa: UInt64, count: Int)

    public var description: String {
        switch self {
        case .memory(let e): "guest memory: \(e)"
        case .pmap(let e): "nested page tables: \(e)"
        case .badVCPUCount(let n): "a VM needs 1 to 64 vCPUs, not \(n)"
        case .tornDown(let name): "VM \(name) has been torn down"
        case .notRAM(let g, let n): "\(n) bytes at GPA \(hex(g)) do not lie in guest RAM"
        }
    }
}

/// A virtual machine, as vmm(4)'s vm_create makes one: a name, validated memory ranges
/// with their memory objects, a nested pmap, and vCPUs.
/// What runs a vCPU's instructions: the interpreter alone, or the interpreter with warm blocks
/// translated to host code (X86JIT; x86-64 hosts).
public enum ExecutionEngine: String, CaseIterable, Sendable {
    case interpreter = "interp"
    case jit
    /// The engine a machine gets unless told (`--engine`): SOFTVMM_ENGINE's (interp or jit)
    /// when set, otherwise `preferred`.
    public static var configured: ExecutionEngine {
        if let name = getenv("SOFTVMM_ENGINE"), let e = ExecutionEngine(rawValue: String(cString: name)) { return e }
        return preferred
    }

    /// The translator where the host is x86-64 and executable memory can be had.
    public static var preferred: ExecutionEngine {
        #if arch(x86_64)
        .jit
        #else
        .interpreter
        #endif
    }
}

public final class VirtualMachine {
    public let name: String
    public let memory: VMMemory
    public private(set) var vcpus: [VirtualCPU] = []
    public private(set) var isTornDown = false
    /// Which host frames hold code a vCPU decoded (shared by the vCPUs' MMUs).
    let codeFrames: CodeFrames
    /// The vCPUs' translator under `--engine jit` (nil: the interpreter, or no executable memory).
    let translator: FormTranslator?

    /// `translationCache`: the bytes of host code the translator (`engine` jit) holds before
    /// it flushes them all.
    public init(name: String, map: MemoryMap, vcpuCount: Int = 1, host: HostPhysicalMemory,
                format: PmapFormat = .ept, adMode: AccessedDirtyMode = .hardware, model: CPUModel = CPUModel(),
                engine: ExecutionEngine = .interpreter, translationCache: Int = 64 << 20) throws(VMError) {
        guard (1...64).contains(vcpuCount) else { throw .badVCPUCount(vcpuCount) }
        self.name = name
        do {
            memory = try VMMemory(map: map, host: host, format: format, adMode: adMode)
        } catch let e as GuestMemoryError {
            throw .memory(e)
        } catch let e as PmapError {
            throw .pmap(e)
        } catch {
            throw .tornDown(name)
        }
        // The vCPUs share the VM's code-frame bits: a store by one to code another decoded is
        // seen by both. Each has its own APIC ID (its index); all but vCPU 0 are APs.
        codeFrames = CodeFrames(host: host)
        // One translator, and so one translation cache, for all the vCPUs: a block one of
        // them translated runs as host code on the others.
        #if arch(x86_64)
        translator = engine == .jit ? try? FormTranslator(capacity: translationCache) : nil
        #else
        translator = nil
        #endif
        for i in 0..<vcpuCount {
            var m = model
            m.processors = vcpuCount
            m.apicID = UInt32(i)
            vcpus.append(VirtualCPU(id: i, vm: memory, model: m, codeFrames: codeFrames, translator: translator))
        }
    }

    /// Copies bytes into guest-physical memory (RAM only), for loaders.
    public func writePhysical(_ gpa: UInt64, _ bytes: [UInt8]) throws(VMError) {
        var offset = 0
        while offset < bytes.count {
            let a = gpa + UInt64(offset)
            guard case .ram(let object, let objectOffset) = memory.memory.backing(GuestPhysicalAddress(a)) else {
                throw .notRAM(gpa: a, count: bytes.count - offset)
            }
            let n = min(bytes.count - offset, Int(object.size - objectOffset))
            do {
                try object.write(at: objectOffset, bytes: Array(bytes[offset..<offset + n]))
            } catch { throw .memory(error) }
            offset += n
        }
    }

    /// A device's write to guest RAM (DMA): all of it in RAM or nothing written; like a
    /// vCPU's store, it reaches every vCPU that decoded code in the frames it wrote.
    public func dmaWrite(_ gpa: UInt64, _ bytes: [UInt8]) -> Bool {
        guard !bytes.isEmpty else { return true }
        let last = gpa &+ UInt64(bytes.count - 1)
        guard last >= gpa else { return false }
        var page = gpa & ~0xFFF
        while true {
            guard case .ram = memory.memory.backing(GuestPhysicalAddress(page)) else { return false }
            if page >= last & ~0xFFF { break }
            page += 0x1000
        }
        guard (try? writePhysical(gpa, bytes)) != nil else { return false }
        page = gpa & ~0xFFF
        while true {
            if case .ram(let object, let offset) = memory.memory.backing(GuestPhysicalAddress(page)),
               let hpa = try? object.frame(at: offset & ~0xFFF, create: false) {
                codeFrames.written(frame: hpa.rawValue >> 12)
            }
            if page >= last & ~0xFFF { break }
            page += 0x1000
        }
        return true
    }

    /// Reads guest-physical RAM (device models and tests).
    public func readPhysical(_ gpa: UInt64, count: Int) -> [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity(count)
        while out.count < count {
            let a = gpa + UInt64(out.count)
            guard case .ram(let object, let objectOffset) = memory.memory.backing(GuestPhysicalAddress(a)) else { return nil }
            let n = min(count - out.count, Int(object.size - objectOffset))
            guard let bytes = try? object.read(at: objectOffset, count: n) else { return nil }
            out += bytes
        }
        return out
    }

    /// What backs a guest-physical address, as the memory map says (the assists' view of
    /// memory: RAM through the objects, a device's range by its index and offset).
    public func backing(of gpa: UInt64) -> PhysicalBacking {
        switch memory.memory.backing(GuestPhysicalAddress(gpa)) {
        case .ram: .ram
        case .mmio(let range, let offset): .device(range: range, offset: offset)
        case .reserved: .none
        }
    }

    /// `size` bytes (1-8) of guest RAM at `gpa`, little-endian; nil unless they all lie in one
    /// RAM range.
    public func loadPhysical(_ gpa: UInt64, size: Int) -> UInt64? { VirtualMachine.load(memory, gpa, size: size) }

    static func load(_ memory: VMMemory, _ gpa: UInt64, size: Int) -> UInt64? {
        guard size <= 8, case .ram(let object, let offset) = memory.memory.backing(GuestPhysicalAddress(gpa)),
              offset + UInt64(size) <= object.size else { return nil }
        var v: UInt64 = 0
        let ok = withUnsafeMutableBytes(of: &v) { raw in
            (try? object.read(at: offset, into: UnsafeMutableRawBufferPointer(rebasing: raw[0..<size]))) != nil
        }
        return ok ? v : nil
    }

    /// Writes `size` bytes (1-8) of guest RAM at `gpa`; false unless they all lie in one RAM
    /// range (then nothing is written).
    public func storePhysical(_ gpa: UInt64, size: Int, value: UInt64) -> Bool {
        guard size <= 8, case .ram(let object, let offset) = memory.memory.backing(GuestPhysicalAddress(gpa)),
              offset + UInt64(size) <= object.size else { return false }
        var v = value
        return withUnsafeBytes(of: &v) { raw in
            (try? object.write(at: offset, from: UnsafeRawBufferPointer(rebasing: raw[0..<size]))) != nil
        }
    }

    /// vmm(4)'s teardown: the vCPUs stop, the pmap is emptied and destroyed, the objects'
    /// references dropped. Afterwards the host frame allocator counts no frame of this VM.
    public func teardown() {
        guard !isTornDown else { return }
        isTornDown = true
        vcpus.removeAll()
        memory.teardown()
    }

    deinit { teardown() }
}

/// One vCPU: the interpreter over the VM's nested pmap. `run` executes until an exit.
public final class VirtualCPU {
    public let id: Int
    let cpu: CPU<GuestMMU>
    let mmu: GuestMMU
    unowned let vm: VMMemory
    /// Exits by kind and nested faults, for `--stats`.
    /// Exits by kind (`VMExit.kindNames`), counted in a fixed array: the count costs nothing
    /// on the exit path.
    public var exitsByKind = [Int](repeating: 0, count: VMExit.kindNames.count)
    /// The exit counts in a snapshot. One written before a kind existed has fewer: those
    /// kinds read as 0.
    public func exitCountsCoding(_ s: inout StateCoder) {
        s.field(&exitsByKind)
        let missing = VMExit.kindNames.count - exitsByKind.count
        if missing > 0 { exitsByKind += [Int](repeating: 0, count: missing) }
    }
    public var exitCounts: [String: Int] {
        var counts: [String: Int] = [:]
        for (i, n) in exitsByKind.enumerated() where n > 0 { counts[VMExit.kindNames[i]] = n }
        return counts
    }

    /// The engine this vCPU runs with (the interpreter when no executable memory could be had).
    public let engine: ExecutionEngine
    let translator: FormTranslator?

    /// `translator`: the machine's, shared by its vCPUs (nil: the interpreter).
    init(id: Int, vm: VMMemory, model: CPUModel, codeFrames: CodeFrames, translator: FormTranslator?) {
        self.id = id
        self.vm = vm
        mmu = GuestMMU(pmap: vm.pmap, host: vm.memory.host, resolver: vm, codeFrames: codeFrames)
        cpu = CPU(memory: mmu, model: model)
        self.translator = translator
        self.engine = translator == nil ? .interpreter : .jit
        cpu.translator = translator
        cpu.state.resetToPowerOn()
        cpu.modeMaybeChanged()
        cpu.hypercallExiting = true
        // IA32_APIC_BASE.BSP (bit 8) only on the bootstrap processor.
        if id > 0, let base = cpu.msrs[MSRIndex.apicBase] { cpu.msrs[MSRIndex.apicBase] = base & ~(1 << 8) }
    }

    /// Runs until an exit or `limit` instructions.
    public func run(limit: UInt64) -> VMExit {
        let wasHalted = cpu.state.activity == .halted
        mmu.syncWithPmap()
        let exit = translate(cpu.run(limit: limit), wasHalted: wasHalted)
        exitsByKind[exit.kindIndex] &+= 1
        return exit
    }

    /// `wasHalted`: the vCPU was halted before the run (a HLT exit then comes from no
    /// instruction, and RIP is already past the HLT).
    func translate(_ stop: RunStop, wasHalted: Bool) -> VMExit {
        switch stop {
        case .limit: return .limit
        case .exit(let x):
            switch x {
            case .io(let io): return .io(PortIOExit(io))
            case .halt:
                if !wasHalted { completeInstruction(length: 1) } // HLT leaves RIP at itself
                return .halt
            case .shutdown: return .shutdown
            case .msr(let i, let w): return w.map { .wrmsr(index: i, value: $0) } ?? .rdmsr(index: i)
            case .cpuid(let l, let s): return .cpuid(leaf: l, subleaf: s)
            case .hypercall: return .hypercall
            case .interruptWindow: return .interruptWindow
            case .debuggerBreakpoint: return .breakpoint
            case .nestedFault(let gpa, let access, let linear):
                let delivering = cpu.interruptedDelivery.map(VCPUEvent.init)
                // The fault handler classified the GPA's page when the access faulted: the exit
                // carries what it found.
                if let (faulted, outcome) = vm.unresolved, faulted & ~0xFFF == gpa & ~0xFFF,
                   case .mmioAssist(let range, let faultedOffset) = outcome {
                    let decoded = delivering == nil ? cpu.decodedInstruction(at: cpu.state.rip) : nil
                    return .mmio(MMIOExit(gpa: gpa, linear: linear, write: access == .write, walk: access == .walk, range: range,
                                          offset: faultedOffset &+ (gpa &- faulted), decoded: decoded,
                                          instruction: delivering == nil && decoded == nil ? instructionBytes() : [],
                                          duringDelivery: delivering))
                }
                return .unbacked(gpa: gpa, access: MemoryAccess(access), linear: linear, duringDelivery: delivering)
            }
        }
    }

    /// Plants a fault in this vCPU's translator (`FormTranslator.plantedFault`; the machine's,
    /// shared by its vCPUs): the block at `rip`, once translated, adds 1 to `register` on each
    /// pass. For tests of the lockstep engine, which must find it; false under the interpreter.
    @_spi(Testing) public func plantTranslationFault(at rip: UInt64, register: Int) -> Bool {
        guard let translator else { return false }
        translator.plantedFault = (rip, UInt8(register))
        return true
    }

    /// Up to 15 bytes at CS:RIP (fewer at the end of fetchable memory).
    public func instructionBytes() -> [UInt8] {
        let linear = cpu.state.linearRIP
        var buffer = [UInt8](repeating: 0, count: 15)
        let n = buffer.withUnsafeMutableBufferPointer { b in (try? mmu.fetch(linear, into: b.baseAddress!, max: 15)) ?? 0 }
        return Array(buffer[0..<n])
    }

    /// X86CPU's one-instruction emulator over this vCPU's state, for the monitor's assists:
    /// it works on the vCPU's registers in place and drops the TLB and decoded code when an
    /// emulated instruction changed what they depend on.
    public func makeEmulator<P: AssistPhysicalMemory>(physical: P, ports: PortIOHandler) -> InstructionEmulator<P> {
        cpu.makeEmulator(physical: physical, ports: ports)
    }

    // MARK: state, as vmm(4)'s VMM_IOC_READREGS/WRITEREGS and NVMM's state get/set give it

    /// An MSR the vCPU holds in its table (not EFER, the FS/GS bases or PKRS, which are state
    /// words), nil if never written.
    public func msr(_ index: UInt32) -> UInt64? { cpu.msrs[index] }
    /// Sets an MSR in the vCPU's table, as the monitor's MSR handlers do.
    public func setMSR(_ index: UInt32, _ value: UInt64) {
        cpu.msrs[index] = value
        stateChanged()
    }
    /// MAXPHYADDR, the width of guest-physical addresses.
    public var physicalAddressBits: Int { cpu.msrs.physicalAddressBits }

    /// Registers by encoding number (0 rax ... 15 r15), RIP and RFLAGS.
    public func register(_ n: Int) -> UInt64 { cpu.state.gpr[n] }
    public func setRegister(_ n: Int, _ v: UInt64) { cpu.state.gpr[n] = v }
    public var rip: UInt64 {
        get { cpu.state.rip }
        set { cpu.state.rip = newValue }
    }
    public var rflags: UInt64 {
        get { cpu.state.rflags }
        set { cpu.state.rflags = newValue | 2; stateChanged() }
    }
    /// One segment register (the whole set: `getState(.segments)`).
    public func segment(_ r: SegmentRegister) -> VCPUSegment {
        let x = cpu.state.segment(r)
        return VCPUSegment(selector: x.selector, base: x.base, limit: x.limit, attributes: x.attributes)
    }
    public var retired: UInt64 { cpu.retired }

    /// Completes the instruction that exited (an I/O port access, an MSR access, HLT) the way
    /// a VMM's "skip the emulated instruction" does: RIP moves past it and it counts as
    /// retired, as the hardware's instruction counter counts it (guest time includes it).
    public func completeInstruction(length: Int) {
        cpu.state.rip &+= UInt64(length)
        cpu.state.retired &+= 1
        instructionCompletedOutside()
    }

    /// An instruction the monitor completed (port I/O, MSR, CPUID, an MMIO assist) ends as the
    /// CPU's own do: RF set as it began lets only that one instruction past a breakpoint, and
    /// TF set as it began owes a single-step trap, taken before the next instruction.
    public func instructionCompletedOutside(rflagsBefore: UInt64? = nil) {
        let flags = rflagsBefore ?? cpu.state.rflags
        if flags & Flag.rf != 0 { cpu.state.rflags &= ~Flag.rf }
        if flags & Flag.tf != 0 { cpu.state.pendingSingleStep = true }
    }

    /// After the monitor changed state behind the CPU's back: the TLB and decoded code may
    /// no longer apply.
    /// The state after RESET (SDM vol. 3, 9.1.1), then real mode at `selector`:`ip`: where
    /// firmware hands control to a kernel's waking vector on resume from S3. Pending events
    /// are dropped; the local APIC and the devices are the monitor's to reset.
    public func resetToRealMode(selector: UInt16, ip: UInt64) {
        cpu.state.resetToPowerOn(signature: UInt64(cpu.model.cpuid(1, 0).0))
        cpu.state.setSegment(.cs, .real(selector, code: true))
        cpu.state.rip = ip
        cpu.pendingEvent = nil
        stateChanged()
    }

    /// INIT (SDM vol. 3, 9.1.1 and 10.4.7.3): the state after RESET, with the x87 and SSE
    /// state and the MSRs kept; pending events are dropped. The monitor then holds an AP in
    /// wait-for-SIPI (and the local APIC is its to reset).
    public func initialize() {
        cpu.state.resetToPowerOn(signature: UInt64(cpu.model.cpuid(1, 0).0))
        cpu.pendingEvent = nil
        stateChanged()
    }

    func stateChanged() {
        mmu.flushTLB()
        cpu.invalidateDecodedInstructions()
        cpu.modeMaybeChanged()
    }

    // MARK: configuration and events

    /// Injects an event, delivered before the next instruction.
    public func inject(_ event: VCPUEvent) { cpu.pendingEvent = event.injected }

    /// Whether an external interrupt injected now would be taken before the next instruction:
    /// RFLAGS.IF set, no STI or MOV SS shadow, no event already waiting.
    public var interruptible: Bool {
        cpu.state.rflags & Flag.if != 0 && !cpu.state.interruptShadow && cpu.pendingEvent == nil
    }
    /// Interrupt-window exiting: `run` returns `.interruptWindow` once the guest can take an
    /// external interrupt (at once if it already can).
    public func requestInterruptWindow() { cpu.state.exitRequests |= 1 }
    public func cancelInterruptWindow() { cpu.state.exitRequests &= ~1 }
    /// `run` returns `.interruptWindow` before the next instruction.
    public func requestExit() { cpu.state.exitRequests |= 2 }

    // MARK: a debugger's view

    /// Linear addresses where the vCPU stops before the instruction (`VMExit.breakpoint`),
    /// outside guest memory.
    public var debuggerBreakpoints: Set<UInt64> {
        get { cpu.debuggerBreakpoints }
        set { cpu.debuggerBreakpoints = newValue }
    }
    /// Data breakpoints, outside the guest's debug registers: the vCPU stops
    /// (`VMExit.breakpoint`) after the instruction that touched one.
    public var debuggerWatchpoints: [DebuggerWatchpoint] {
        get { cpu.debuggerWatchpoints.map { DebuggerWatchpoint(address: $0.address, length: $0.length, writesOnly: $0.writesOnly) } }
        set {
            cpu.debuggerWatchpoints = newValue.enumerated().map {
                Watchpoint(index: 4 + $0.offset, address: $0.element.address, length: $0.element.length, writesOnly: $0.element.writesOnly)
            }
        }
    }
    /// The debugger's watchpoints hit since the last call, by their place in `debuggerWatchpoints`.
    public func takeWatchHits() -> [Int] {
        defer { cpu.debuggerWatchHits = 0 }
        let hits = cpu.debuggerWatchHits >> 4
        return (0..<60).filter { hits >> UInt64($0) & 1 != 0 }
    }
    /// Lets the instruction at RIP run once though a breakpoint is there (resuming from it).
    public func resumeFromBreakpoint() { cpu.debuggerResume = (cpu.state.linearRIP, cpu.state.retired) }
    /// CS:RIP as a linear address.
    public var linearRIP: UInt64 { cpu.state.linearRIP }

    /// The guest-physical address of `linear` under the vCPU's paging, as a debugger reads it:
    /// no accessed or dirty bit set, nothing cached; nil where the guest maps nothing.
    public func debuggerTranslate(_ linear: UInt64) -> UInt64? {
        guard cpu.state.pagingEnabled else { return linear & 0xFFFF_FFFF }
        final class Peek: GuestPageTables {
            unowned let memory: VMMemory
            init(_ m: VMMemory) { memory = m }
            func readEntry(_ gpa: UInt64) -> UInt64? { VirtualMachine.load(memory, gpa, size: 8) }
            func setEntryBits(_ gpa: UInt64, _ bits: UInt64) {}
        }
        let peek = Peek(vm)
        var access = PagingAccess(.read, user: false)
        access.alignmentCheckFlag = true       // SMAP does not hide user pages from a debugger
        if case .translated(let gpa, _) = GuestPaging.translate(linear, cpu.state.pagingControl(tables: peek), access, tables: peek) {
            return gpa
        }
        return nil
    }
    /// Pause-loop exiting: a PAUSE ends `run` (as `.interruptWindow`) once it retires;
    /// `takePauseExit` says whether the last such exit came from a PAUSE (and forgets it).
    public var pauseExiting: Bool {
        get { cpu.pauseExiting }
        set { cpu.pauseExiting = newValue }
    }
    public func takePauseExit() -> Bool {
        defer { cpu.pauseExited = false }
        return cpu.pauseExited
    }
    /// NMIs are blocked (an NMI handler runs until its IRET).
    public var nmiBlocked: Bool { cpu.state.nmiBlocked }
    /// Whether an NMI injected now would be taken before the next instruction: not blocked by
    /// an NMI handler or a MOV SS/STI shadow, no event already waiting.
    public var nmiDeliverable: Bool { !cpu.state.nmiBlocked && !cpu.state.interruptShadow && cpu.pendingEvent == nil }
    /// NMI-window exiting: `run` returns `.interruptWindow` when the IRET that ends NMI
    /// blocking completes.
    public func requestNMIWindow() { cpu.state.exitRequests |= 4 }
    /// An STI or MOV SS shadow covers the next instruction (interrupts and NMIs wait for it).
    public var interruptShadow: Bool { cpu.state.interruptShadow }
    /// `run` returns `.interruptWindow` before the first instruction the shadow does not
    /// cover (at once if there is none): where an NMI held back only by the shadow can be
    /// taken. An exit requested before the next instruction would come before the shadow's
    /// instruction ran, again and again.
    public func requestShadowWindow() { cpu.state.exitRequests |= 8 }
    /// CR8, the task priority the local APIC mirrors.
    public var cr8: UInt64 {
        get { cpu.state.cr8 }
        set { cpu.state.cr8 = newValue }
    }
    /// A MOV to CR8 below this class exits (the TPR threshold).
    public var tprThreshold: UInt64 {
        get { cpu.tprThreshold }
        set { cpu.tprThreshold = newValue }
    }
    /// The code segment's mode (what the decoder needs for the bytes at RIP).
    public var mode: CPUMode { cpu.state.mode }
    /// The current privilege level.
    public var cpl: Int { Int(cpu.state.cpl) }
    /// Whether the vCPU is halted (HLT), waiting for an interrupt.
    public var halted: Bool { cpu.state.activity == .halted }

    // MARK: guest time

    /// Guest time in TSC ticks: the retired instructions and the idle time the monitor let pass.
    public var guestTicks: UInt64 { cpu.guestTicks }
    /// Lets guest time pass without instructions (a halted vCPU waiting for a timer).
    public func idle(ticks: UInt64) { cpu.idleTicks &+= ticks }
    /// The guest time (`guestTicks`) of the monitor's next event: an instruction that takes
    /// extra time (PAUSE, MOV to CR0/CR4) and reaches it ends the run after it.
    public var tickDeadline: UInt64 {
        get { cpu.tickDeadline }
        set { cpu.tickDeadline = newValue }
    }
    /// Guest time in nanoseconds, at the model's stated TSC frequency.
    public var nanoseconds: UInt64 { nanoseconds(ticks: cpu.guestTicks) }
    /// The TSC ticks that make up `ns` nanoseconds of guest time.
    public func ticks(nanoseconds ns: UInt64) -> UInt64 { mulDiv(ns, cpu.model.tscFrequency, 1_000_000_000) }
    public var ticksPerInstruction: UInt64 { cpu.model.tscPerInstruction }
    /// The nanoseconds `ticks` TSC ticks last.
    public func nanoseconds(ticks: UInt64) -> UInt64 { mulDiv(ticks, 1_000_000_000, cpu.model.tscFrequency) }
    /// The guest's TSC (guest time plus its own WRMSR offset).
    public var timeStampCounter: UInt64 { cpu.timeStampCounter }
    public var exitingMSRs: Set<UInt32> {
        get { cpu.exitingMSRs }
        set { cpu.exitingMSRs = newValue }
    }
    /// The CPUID model (hidden features, overridden leaves, the stated TSC frequency); the
    /// CR4 bits of hidden features become reserved.
    public var model: CPUModel {
        get { cpu.model }
        set { cpu.model = newValue }
    }
    public var exitingCPUIDLeaves: Set<UInt32> {
        get { cpu.exitingCPUIDLeaves }
        set { cpu.exitingCPUIDLeaves = newValue }
    }

    /// TLB statistics.
    public var tlbMisses: UInt64 { mmu.misses }
    public var tlbFlushes: UInt64 { mmu.flushes }
    /// Decoded-instruction cache statistics: decodes (misses) and whole-cache drops.
    public var decodes: UInt64 { cpu.decodes }
    public var decodedCacheDrops: UInt64 { cpu.cacheDrops }
    public var codeWrites: UInt64 { cpu.codeWrites }
    /// Blocks built and checked again after a TLB flush or a change of CPL.
    public var blocksBuilt: UInt64 { cpu.blocksBuilt }
    public var blocksRechecked: UInt64 { cpu.blocksRechecked }
    /// Blocks (built again, or warm) that got a translation already made, and those of them
    /// another vCPU had made.
    public var translationsReattached: UInt64 { cpu.translationsReattached }
    public var translationsShared: UInt64 { cpu.translationsShared }
    /// Blocks this vCPU translated.
    public var blocksTranslated: UInt64 { cpu.blocksTranslated }
    /// Those of them translated with the other blocks of a loop in their page.
    public var loopsTranslated: UInt64 { cpu.loopsTranslated }
    /// The instructions run through the general path right after a block most often, by
    /// mnemonic and count (what ends blocks).
    public var commonestBlockEnds: [(String, UInt64)] { cpu.commonestBlockEnds(6) }
    /// The translator's statistics (nil under the interpreter; the machine's, shared by its
    /// vCPUs): blocks translated, their forms
    /// emitted as host code and run through the interpreter, code bytes written, cache flushes.
    public var translation: (blocks: UInt64, nativeForms: UInt64, fallbackForms: UInt64, codeBytes: UInt64, flushes: Int, loops: UInt64,
                             chains: UInt64, edges: UInt64)? {
        translator.map { ($0.translations, $0.nativeForms, $0.fallbackForms, $0.codeBytes, $0.memory.flushes, $0.selfLoops, $0.chains,
                          $0.memberEdges) }
    }
    /// Runs of a block before it is translated (tests make it small).
    public var translationThreshold: Int {
        get { Int(cpu.translationThreshold) }
        set { cpu.translationThreshold = UInt16(clamping: max(1, newValue)) }
    }
    /// The forms translations leave to the interpreter most often, by kind's name and count.
    public var commonestFallbacks: [(String, UInt64)] {
        guard let t = translator else { return [] }
        return t.fallbacksByKind.enumerated().filter { $0.element > 0 }.sorted { $0.element > $1.element }.prefix(6)
            .map { (FastKind(rawValue: UInt8($0.offset)).map { "\($0)" } ?? "?", $0.element) }
    }
}

extension VirtualCPU: StateCoding {
    /// The vCPU's whole state (`VCPUState`'s encoding), for snapshots. A restore replaces
    /// everything: decoded code and TLB entries are derived, and go.
    public func state(_ s: inout StateCoder) {
        var v = s.isSaving ? getState() : VCPUState()
        v.encode(&s)
        guard !s.isSaving, s.error == nil else { return }
        setState(v)
        cpu.stateWasReplaced()
    }
}

extension VirtualCPU {
    /// The architectural state as text, one group a line (`softvmm replay --to`).
    public var stateDump: String {
        let s = getState()
        func pad(_ name: String) -> String { name + String(repeating: " ", count: max(0, 4 - name.count)) }
        func r(_ name: String, _ v: UInt64) -> String { pad(name) + "=" + paddedHex(v, 16, prefix: false) }
        let names = ["rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15"]
        let activity = ["running", "halted", "shutdown"][Int(min(s.activity, 2))]
        var lines = ["icount \(retired), tsc \(guestTicks), \(activity), CPL \(s.cpl), \(mode)"]
        for row in stride(from: 0, to: 16, by: 4) { lines.append((row..<row + 4).map { r(names[$0], s.gprs[$0]) }.joined(separator: " ")) }
        lines.append(r("rip", s.rip) + " " + r("rfl", s.rflags))
        for seg in [SegmentRegister.es, .cs, .ss, .ds, .fs, .gs, .ldtr, .tr] {
            let x = s[seg]
            lines.append(pad("\(seg)")
                         + " selector \(paddedHex(UInt64(x.selector), 4, prefix: false)) base \(paddedHex(x.base, 16, prefix: false)) limit \(paddedHex(UInt64(x.limit), 8, prefix: false)) attributes \(paddedHex(UInt64(x.attributes), 4, prefix: false))")
        }
        lines.append("gdtr base \(paddedHex(s.gdtr.base, 16, prefix: false)) limit \(paddedHex(UInt64(s.gdtr.limit), 4, prefix: false)); idtr base \(paddedHex(s.idtr.base, 16, prefix: false)) limit \(paddedHex(UInt64(s.idtr.limit), 4, prefix: false))")
        lines.append(r("cr0", s.cr0) + " " + r("cr2", s.cr2) + " " + r("cr3", s.cr3) + " " + r("cr4", s.cr4))
        lines.append(r("cr8", s.cr8) + " " + r("efer", s.efer))
        return lines.joined(separator: "\n")
    }
}

/// A debugger's data breakpoint: `length` bytes from `address` (linear), on writes only or on
/// reads and writes.
public struct DebuggerWatchpoint: Equatable, Sendable {
    public var address: UInt64, length: UInt64
    public var writesOnly: Bool
    public init(address: UInt64, length: UInt64, writesOnly: Bool) { (self.address, self.length, self.writesOnly) = (address, length, writesOnly) }
}
