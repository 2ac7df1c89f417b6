import Devices
import VMM
import X86
import X86CPU

/// The monitor's view of guest memory for the MMIO and I/O assists (NVMM's assist callbacks,
/// vmd's MMIO emulation): linear addresses go through the guest's paging (read from guest RAM,
/// not through the kernel's pmap), then RAM is read and written through the memory objects
/// and a device's range through the MMIO bus. The instruction comes from the exit record.
final class AssistMemory: CPUMemory, GuestPageTables {
    let vm: VirtualMachine
    let bus: MMIOBus
    unowned(unsafe) var state: CPUState! = nil
    /// The exit's instruction bytes, at the linear RIP they were fetched from.
    var instruction: [UInt8] = []
    var instructionAddress: UInt64 = 0
    /// Device accesses this assist made (to count MMIO operations).
    var deviceAccesses = 0
    /// Accesses to guest-physical addresses nothing backs (open bus).
    var unbackedAccesses = 0
    /// The exit's access, as the kernel side classified it: its linear address, the device
    /// whose range holds it and the offset there. The instruction's access at that address
    /// goes straight to the device, with no second walk or lookup.
    var exitAccess: (linear: UInt64, device: MMIODevice, offset: UInt64)?

    init(vm: VirtualMachine, bus: MMIOBus) {
        self.vm = vm
        self.bus = bus
    }

    func attach(_ state: CPUState) { self.state = state }

    func physical(_ gpa: UInt64) -> PhysicalBacking { vm.backing(of: gpa) }

    /// Linear to guest-physical, with the guest's paging if it is on.
    func translate(_ address: UInt64, _ kind: PagingAccess.Kind) throws(CPUException) -> UInt64 {
        guard state.pagingEnabled else { return address }
        let access = state.pagingAccess(kind)
        let control = state.pagingControl(tables: self)
        switch GuestPaging.translate(address, control, access, tables: self) {
        case .translated(let gpa, _): return gpa
        case .pageFault(let code): throw .pageFault(address: address, errorCode: code)
        case .unreadable(let g): throw .exit(.nestedFault(gpa: g, access: .walk, linear: address))
        }
    }

    func readByte(_ gpa: UInt64) throws(CPUException) -> UInt8 {
        switch physical(gpa) {
        case .ram:
            guard let b = vm.loadPhysicalByte(gpa) else { throw .exit(.nestedFault(gpa: gpa, access: .read, linear: 0)) }
            return b
        case .device:
            deviceAccesses += 1
            return UInt8(truncatingIfNeeded: bus.read(gpa, size: 1))
        case .none:
            // Open bus: nothing answers, the byte reads as all ones (as on a PC, and as the
            // port bus does for unclaimed ports).
            unbackedAccesses += 1
            return 0xFF
        }
    }

    /// The guest-physical address of each byte of an access: one translation per page it
    /// touches, all made before any byte moves (so a fault leaves memory untouched).
    func physicalBytes(_ address: UInt64, _ size: Int, _ kind: PagingAccess.Kind) throws(CPUException) -> [UInt64] {
        let inFirstPage = min(size, 4096 - Int(address & 0xFFF))
        let first = try translate(address, kind)
        let second = inFirstPage < size ? try translate(address &+ UInt64(inFirstPage), kind) : 0
        return (0..<size).map { $0 < inFirstPage ? first &+ UInt64($0) : second &+ UInt64($0 - inFirstPage) }
    }

    /// The device and offset of the exit's own access: at the exit's linear address and within
    /// one page (counted as a device access).
    func exitDevice(_ address: UInt64, _ size: Int) -> (device: MMIODevice, offset: UInt64)? {
        guard let a = exitAccess, a.linear == address, (address & 0xFFF) + UInt64(size) <= 4096 else { return nil }
        deviceAccesses += 1
        return (a.device, a.offset)
    }

    /// The low `size` bytes of a device's answer.
    static func mask(_ size: Int) -> UInt64 { size >= 8 ? ~0 : (1 << UInt64(8 * size)) - 1 }

    func read(_ address: UInt64, size: Int) throws(CPUException) -> UInt64 {
        if let (device, offset) = exitDevice(address, size) {
            return device.mmioRead(offset: offset, size: size) & Self.mask(size)
        }
        let targets = try physicalBytes(address, size, .read)
        // Within one page and in a device: one access of the full size, as the device expects.
        if (address & 0xFFF) + UInt64(size) <= 4096, case .device = physical(targets[0]) {
            deviceAccesses += 1
            return bus.read(targets[0], size: size) & Self.mask(size)
        }
        var v: UInt64 = 0
        for (i, g) in targets.enumerated() { v |= UInt64(try readByte(g)) << UInt64(8 * i) }
        return v
    }

    func write(_ address: UInt64, size: Int, value: UInt64) throws(CPUException) {
        if let (device, offset) = exitDevice(address, size) {
            device.mmioWrite(offset: offset, size: size, value: value)
            return
        }
        let targets = try physicalBytes(address, size, .write)
        if (address & 0xFFF) + UInt64(size) <= 4096, case .device = physical(targets[0]) {
            deviceAccesses += 1
            bus.write(targets[0], size: size, value: value)
            return
        }
        for (i, g) in targets.enumerated() {
            let b = UInt8(truncatingIfNeeded: value >> UInt64(8 * i))
            switch physical(g) {
            case .ram:
                guard vm.storePhysicalByte(g, b) else { throw .exit(.nestedFault(gpa: g, access: .write, linear: address)) }
            case .device:
                deviceAccesses += 1
                bus.write(g, size: 1, value: UInt64(b))
            case .none:
                unbackedAccesses += 1 // open bus: the write goes nowhere
            }
        }
    }

    func fetch(_ address: UInt64, into buffer: UnsafeMutablePointer<UInt8>, max: Int) throws(CPUException) -> Int {
        guard address == instructionAddress, !instruction.isEmpty else { throw .exit(.nestedFault(gpa: address, access: .fetch, linear: address)) }
        let n = min(max, instruction.count)
        for i in 0..<n { buffer[i] = instruction[i] }
        return n
    }

    /// A paging-structure entry: RAM, a device (read as it answers) or open bus (all ones:
    /// reserved bits set, so the walk ends in a #PF with RSVD).
    func readEntry(_ gpa: UInt64) -> UInt64? {
        var v: UInt64 = 0
        for i in 0..<8 {
            let b: UInt8 = (try? readByte(gpa + UInt64(i))) ?? 0xFF
            v |= UInt64(b) << UInt64(8 * i)
        }
        return v
    }

    func setEntryBits(_ gpa: UInt64, _ bits: UInt64) {
        guard let e = readEntry(gpa) else { return }
        let v = UInt32(truncatingIfNeeded: e | bits)
        for i in 0..<4 {
            vm.storePhysicalByte(gpa + UInt64(i), UInt8(truncatingIfNeeded: v >> UInt32(8 * i)))
        }
    }
}

/// Port I/O for the I/O assist's string instructions.
final class PortAdapter: PortIOHandler {
    let bus: PortBus
    init(_ bus: PortBus) { self.bus = bus }
    func portRead(_ port: UInt16, size: Int) -> UInt32 { bus.read(port, size: size) }
    func portWrite(_ port: UInt16, size: Int, value: UInt32) { bus.write(port, size: size, value: value) }
}

/// The monitor's instruction emulator: softvmm's decoder and interpreter, run for one
/// instruction against a copy of the vCPU's state, the MMIO bus and guest RAM.
final class InstructionAssist {
    let memory: AssistMemory
    let cpu: CPU<AssistMemory>

    init(vm: VirtualMachine, mmio: MMIOBus, ports: PortBus) {
        memory = AssistMemory(vm: vm, bus: mmio)
        cpu = CPU(memory: memory)
        cpu.ioHandler = PortAdapter(ports)
    }

    enum Outcome {
        case completed
        /// The guest's own fault: deliver it.
        case fault(CPUException)
        /// The delivery escalated to a triple fault.
        case shutdown
        /// Something the assist cannot do (an unbacked address, a bad instruction).
        case failed(String)
    }

    /// Runs `body` on a copy of the vCPU's state, then writes the state back (whatever the
    /// outcome: a REP string instruction's partial progress stands even when an element faulted).
    func onCopy<T>(of vcpu: VirtualCPU, _ body: (CPUState) -> T) -> T {
        let s = vcpu.state()
        // The vCPU's model decides the vendor's readings and semantics here too.
        if cpu.vendor != vcpu.model.vendor { cpu.model = vcpu.model }
        cpu.state.copy(from: s)
        cpu.modeMaybeChanged()
        let result = body(s)
        s.copy(from: cpu.state)
        vcpu.setState(s)
        return result
    }

    /// Finishes delivering an exception whose delivery left the vCPU (its frame or gate lies in a
    /// device's range or in unbacked memory).
    func deliver(_ vcpu: VirtualCPU, _ e: CPUException) -> Outcome {
        let exit = onCopy(of: vcpu) { _ in cpu.deliverException(e) }
        if exit == .shutdown { return .shutdown }
        if let exit { return .failed("the assist could not deliver \(e): \(exit)") }
        return .completed
    }

    /// Emulates the instruction at the vCPU's RIP (`bytes` from the exit).
    func emulate(_ vcpu: VirtualCPU, bytes: [UInt8]) -> Outcome {
        let result = onCopy(of: vcpu) { s in
            cpu.forgetDecoded(at: s.rip)
            memory.instructionAddress = s.linearRIP
            memory.instruction = bytes
            return cpu.step()
        }
        return outcome(result)
    }

    /// Emulates an MMIO exit's instruction: decoded by the vCPU when it could hand over its
    /// copy, and its faulting access sent to `device` (the one whose range the kernel side
    /// found) at the exit's offset.
    func emulate(_ vcpu: VirtualCPU, exit: MMIOExit, device: MMIODevice?) -> Outcome {
        // A page walk's entry read in the device's range says nothing of where the access goes.
        memory.exitAccess = exit.walk ? nil : device.map { (exit.linear, $0, exit.offset) }
        defer { memory.exitAccess = nil }
        guard let decoded = exit.decoded else { return emulate(vcpu, bytes: exit.instruction) }
        return outcome(onCopy(of: vcpu) { _ in cpu.emulate(decoded) })
    }

    func outcome(_ result: StepResult) -> Outcome {
        switch result {
        case .executed: return .completed
        case .exception(let e):
            if case .exit(let x) = e { return .failed("the MMIO assist could not complete the instruction: \(x)") }
            return .fault(e)
        }
    }
}
