import X86

/// Guest-physical memory as a monitor's assist reaches it (NVMM's assist callbacks, vmd's MMIO
/// emulation): RAM, device ranges and open bus, by guest-physical address. The emulator
/// translates linear addresses itself, with the guest's paging (the entries through
/// `GuestPageTables`), before it calls here.
public protocol AssistPhysicalMemory: GuestPageTables {
    /// `size` bytes at `gpa`, little-endian, all in one page; nil if nothing can be read there
    /// (the emulation then fails with a nested-fault exit).
    func readPhysical(_ gpa: UInt64, size: Int) -> UInt64?
    /// Writes `size` bytes at `gpa`, all in one page; false if they cannot be written.
    func writePhysical(_ gpa: UInt64, size: Int, value: UInt64) -> Bool
}

/// What an emulated instruction (or delivery) came to.
public enum EmulationOutcome: Equatable, Sendable {
    case completed
    /// The guest's own fault: the monitor injects it.
    case fault(CPUException)
    /// The delivery escalated to a triple fault.
    case shutdown
    /// Something the emulator cannot do (an unbacked address, a bad instruction).
    case failed(String)
}

/// The CPU whose state an emulator works on: told when the emulator has changed it.
protocol EmulationOwner: AnyObject {
    var model: CPUModel { get }
    func stateChangedByEmulation(system: Bool)
}

extension CPU: EmulationOwner {
    /// The emulator changed this CPU's state: the TLB and decoded code are dropped only when
    /// something they depend on (control registers, segments, descriptor tables, CPL, mode)
    /// changed.
    func stateChangedByEmulation(system: Bool) {
        state.refreshCodeKey()
        if system {
            memory.flushTLB()
            invalidateDecodedInstructions()
            modeMaybeChanged()
        }
        syncWatchpoints()
    }

    /// The one-instruction emulation API for a monitor's assists: an interpreter over this
    /// CPU's own state (shared, never copied) and the monitor's memory and ports.
    public func makeEmulator<Physical: AssistPhysicalMemory>(physical: Physical, ports: PortIOHandler) -> InstructionEmulator<Physical> {
        InstructionEmulator(owner: self, state: state, physical: physical, ports: ports)
    }
}

/// Runs one instruction at a time for a monitor (the MMIO assist, REP string I/O, an exception
/// delivery whose frame or gate lies in a device's range) on a vCPU's own state, against the
/// monitor's memory: linear addresses through the guest's paging, then `AssistPhysicalMemory`.
/// The exit's own access (`exitAccess`) goes to the guest-physical address the kernel side
/// found, without a second walk.
public final class InstructionEmulator<Physical: AssistPhysicalMemory> {
    let cpu: CPU<EmulatorMemory<Physical>>
    let memory: EmulatorMemory<Physical>
    unowned let owner: any EmulationOwner
    /// The system words before an emulation (`RegisterFile.systemWordsEqual`).
    let before = UnsafeMutablePointer<RegisterFile>.allocate(capacity: 1)

    init(owner: any EmulationOwner, state: CPUState, physical: Physical, ports: PortIOHandler) {
        self.owner = owner
        memory = EmulatorMemory(physical: physical)
        cpu = CPU(memory: memory, model: CPUModel(), state: state)
        cpu.ioHandler = ports
        before.initialize(to: RegisterFile())
    }

    deinit { before.deallocate() }

    /// Runs `body` on the shared state, then tells the owner what changed (whatever the
    /// outcome: a REP string instruction's partial progress stands even when an element faulted).
    func run<T>(_ body: () -> T) -> T {
        // The vCPU's model decides the vendor's readings and semantics here too.
        if cpu.vendor != owner.model.vendor { cpu.model = owner.model }
        before.pointee = cpu.state.file.pointee
        cpu.modeMaybeChanged()
        let result = body()
        owner.stateChangedByEmulation(system: !RegisterFile.systemWordsEqual(before, cpu.state.file))
        return result
    }

    /// Emulates the instruction at RIP, decoded from `bytes` (an exit's, fetched at the linear
    /// RIP). `exitAccess`: the exit's own access, at a linear address whose guest-physical
    /// address the kernel side found.
    public func emulate(bytes: [UInt8], exitAccess: (linear: UInt64, gpa: UInt64)? = nil) -> EmulationOutcome {
        memory.exitAccess = exitAccess
        defer { memory.exitAccess = nil }
        return outcome(run {
            cpu.forgetDecoded(at: cpu.state.rip)
            memory.instructionAddress = cpu.state.linearRIP
            memory.instruction = bytes
            return cpu.step()
        })
    }

    /// Emulates an instruction the vCPU decoded (an MMIO exit's), exactly as `step` would
    /// have executed it.
    public func emulate(_ decoded: PreparedInstruction, exitAccess: (linear: UInt64, gpa: UInt64)? = nil) -> EmulationOutcome {
        memory.exitAccess = exitAccess
        defer { memory.exitAccess = nil }
        return outcome(run { cpu.emulate(decoded) })
    }

    /// Finishes delivering an exception whose delivery left the vCPU: its vector, error code
    /// and (for a #PF) linear address.
    public func deliverException(vector: Int, errorCode: UInt32?, faultAddress: UInt64) -> EmulationOutcome {
        let e = type(of: cpu).exception(vector: vector, errorCode: errorCode, faultAddress: faultAddress)
        let exit = run { cpu.deliverException(e) }
        if exit == .shutdown { return .shutdown }
        if let exit { return .failed("the assist could not deliver \(e): \(exit)") }
        return .completed
    }

    func outcome(_ result: StepResult) -> EmulationOutcome {
        switch result {
        case .executed: return .completed
        case .exception(let e):
            if case .exit(let x) = e { return .failed("the MMIO assist could not complete the instruction: \(x)") }
            return .fault(e)
        }
    }
}

/// The emulator's view of memory: linear addresses through the guest's paging (entries read
/// through the monitor), then the monitor's guest-physical accesses; instruction bytes from
/// the exit.
final class EmulatorMemory<Physical: AssistPhysicalMemory>: CPUMemory {
    let physical: Physical
    unowned(unsafe) var state: CPUState! = nil
    var instruction: [UInt8] = []
    var instructionAddress: UInt64 = 0
    var exitAccess: (linear: UInt64, gpa: UInt64)?

    init(physical: Physical) { self.physical = physical }

    func attach(_ state: CPUState) { self.state = state }

    /// Linear to guest-physical, with the guest's paging if it is on.
    func translate(_ address: UInt64, _ kind: PagingAccess.Kind) throws(CPUException) -> UInt64 {
        guard state.pagingEnabled else { return address }
        let access = state.pagingAccess(kind)
        let control = state.pagingControl(tables: physical)
        switch GuestPaging.translate(address, control, access, tables: physical) {
        case .translated(let gpa, _): return gpa
        case .pageFault(let code): throw .pageFault(address: address, errorCode: code)
        case .unreadable(let g): throw .exit(.nestedFault(gpa: g, access: .walk, linear: address))
        }
    }

    /// The guest-physical address of an access within one page, or nil if it crosses one: the
    /// exit's own access needs no walk.
    func inOnePage(_ address: UInt64, _ size: Int, _ kind: PagingAccess.Kind) throws(CPUException) -> UInt64? {
        guard (address & 0xFFF) + UInt64(size) <= 4096 else { return nil }
        if let a = exitAccess, a.linear == address { return a.gpa }
        return try translate(address, kind)
    }

    /// The guest-physical address of each byte of an access crossing a page: one translation
    /// per page, both made before any byte moves (so a fault leaves memory untouched).
    func physicalBytes(_ address: UInt64, _ size: Int, _ kind: PagingAccess.Kind) throws(CPUException) -> [UInt64] {
        let inFirstPage = min(size, 4096 - Int(address & 0xFFF))
        let first = try translate(address, kind)
        let second = inFirstPage < size ? try translate(address &+ UInt64(inFirstPage), kind) : 0
        return (0..<size).map { $0 < inFirstPage ? first &+ UInt64($0) : second &+ UInt64($0 - inFirstPage) }
    }

    func read(_ address: UInt64, size: Int) throws(CPUException) -> UInt64 {
        if let gpa = try inOnePage(address, size, .read) {
            guard let v = physical.readPhysical(gpa, size: size) else { throw .exit(.nestedFault(gpa: gpa, access: .read, linear: 0)) }
            return v
        }
        var v: UInt64 = 0
        for (i, g) in try physicalBytes(address, size, .read).enumerated() {
            guard let b = physical.readPhysical(g, size: 1) else { throw .exit(.nestedFault(gpa: g, access: .read, linear: 0)) }
            v |= (b & 0xFF) << UInt64(8 * i)
        }
        return v
    }

    func write(_ address: UInt64, size: Int, value: UInt64) throws(CPUException) {
        if let gpa = try inOnePage(address, size, .write) {
            guard physical.writePhysical(gpa, size: size, value: value) else { throw .exit(.nestedFault(gpa: gpa, access: .write, linear: address)) }
            return
        }
        for (i, g) in try physicalBytes(address, size, .write).enumerated() {
            guard physical.writePhysical(g, size: 1, value: value >> UInt64(8 * i) & 0xFF) else {
                throw .exit(.nestedFault(gpa: g, access: .write, linear: address))
            }
        }
    }

    func fetch(_ address: UInt64, into buffer: UnsafeMutablePointer<UInt8>, max: Int) throws(CPUException) -> Int {
        guard address == instructionAddress, !instruction.isEmpty else { throw .exit(.nestedFault(gpa: address, access: .fetch, linear: address)) }
        let n = min(max, instruction.count)
        for i in 0..<n { buffer[i] = instruction[i] }
        return n
    }
}
