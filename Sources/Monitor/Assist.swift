import Devices
import VMM
import X86
import X86CPU

/// The monitor's view of guest-physical memory for the MMIO and I/O assists (NVMM's assist
/// callbacks, vmd's MMIO emulation): RAM through the VM's memory objects, a device's range
/// through the MMIO bus, open bus elsewhere. The emulator (X86CPU's `InstructionEmulator`)
/// has translated linear addresses before it calls here.
final class AssistMemory: AssistPhysicalMemory {
    let vm: VirtualMachine
    let bus: MMIOBus
    /// Device accesses this assist made (to count MMIO operations).
    var deviceAccesses = 0
    /// Accesses to guest-physical addresses nothing backs (open bus).
    var unbackedAccesses = 0
    /// The exit's access, as the kernel side classified it: its guest-physical address, the
    /// device whose range holds it and the offset there. The instruction's access there goes
    /// straight to the device, with no second lookup.
    var exitAccess: (gpa: UInt64, device: MMIODevice, offset: UInt64)?
    /// The vCPU and its local APIC, for an APIC page IA32_APIC_BASE moved.
    unowned let vcpu: VirtualCPU
    unowned let lapic: LocalAPIC

    init(vm: VirtualMachine, bus: MMIOBus, vcpu: VirtualCPU, lapic: LocalAPIC) {
        (self.vm, self.bus, self.vcpu, self.lapic) = (vm, bus, vcpu, lapic)
    }

    /// The offset in the vCPU's local APIC page of `gpa`, where IA32_APIC_BASE moved the page
    /// away from 0xFEE00000 (SDM vol. 3, 11.4.4) to addresses nothing else backs (a page moved
    /// onto RAM stays RAM: accesses there never leave the CPU, as under KVM).
    func movedAPICOffset(_ gpa: UInt64) -> UInt64? {
        let base = vcpu.localAPICPage
        guard base != LocalAPIC.defaultBase, gpa & ~0xFFF == base else { return nil }
        return gpa & 0xFFF
    }

    /// The low `size` bytes of a device's answer.
    static func mask(_ size: Int) -> UInt64 { size >= 8 ? ~0 : (1 << UInt64(8 * size)) - 1 }

    func readByte(_ gpa: UInt64) -> UInt8? {
        switch vm.backing(of: gpa) {
        case .ram:
            return vm.loadPhysical(gpa, size: 1).map { UInt8(truncatingIfNeeded: $0) }
        case .device:
            deviceAccesses += 1
            return UInt8(truncatingIfNeeded: bus.read(gpa, size: 1))
        case .none:
            if let offset = movedAPICOffset(gpa) {
                deviceAccesses += 1
                return UInt8(truncatingIfNeeded: lapic.mmioRead(offset: offset, size: 1))
            }
            // Open bus: nothing answers, the byte reads as all ones (as on a PC, and as the
            // port bus does for unclaimed ports).
            unbackedAccesses += 1
            return 0xFF
        }
    }

    /// One byte to RAM, a device or open bus; false if RAM could not be written.
    func writeByte(_ gpa: UInt64, _ byte: UInt8) -> Bool {
        switch vm.backing(of: gpa) {
        case .ram:
            return vm.storePhysical(gpa, size: 1, value: UInt64(byte))
        case .device:
            deviceAccesses += 1
            bus.write(gpa, size: 1, value: UInt64(byte))
        case .none:
            if let offset = movedAPICOffset(gpa) {
                deviceAccesses += 1
                lapic.mmioWrite(offset: offset, size: 1, value: UInt64(byte))
                return true
            }
            unbackedAccesses += 1 // open bus: the write goes nowhere
        }
        return true
    }

    func readPhysical(_ gpa: UInt64, size: Int) -> UInt64? {
        if let a = exitAccess, a.gpa == gpa {
            deviceAccesses += 1
            return a.device.mmioRead(offset: a.offset, size: size) & Self.mask(size)
        }
        switch vm.backing(of: gpa) {
        case .device:
            // In a device: one access of the full size, as the device expects.
            deviceAccesses += 1
            return bus.read(gpa, size: size) & Self.mask(size)
        case .ram:
            if let v = vm.loadPhysical(gpa, size: size) { return v }
        case .none:
            if let offset = movedAPICOffset(gpa) {
                deviceAccesses += 1
                return lapic.mmioRead(offset: offset, size: size) & Self.mask(size)
            }
        }
        // Byte by byte where the access leaves RAM for open bus or a device.
        var v: UInt64 = 0
        for i in 0..<size {
            guard let b = readByte(gpa + UInt64(i)) else { return nil }
            v |= UInt64(b) << UInt64(8 * i)
        }
        return v
    }

    func writePhysical(_ gpa: UInt64, size: Int, value: UInt64) -> Bool {
        if let a = exitAccess, a.gpa == gpa {
            deviceAccesses += 1
            a.device.mmioWrite(offset: a.offset, size: size, value: value)
            return true
        }
        switch vm.backing(of: gpa) {
        case .device:
            deviceAccesses += 1
            bus.write(gpa, size: size, value: value)
            return true
        case .ram:
            if vm.storePhysical(gpa, size: size, value: value) { return true }
        case .none:
            if let offset = movedAPICOffset(gpa) {
                deviceAccesses += 1
                lapic.mmioWrite(offset: offset, size: size, value: value)
                return true
            }
        }
        // Byte by byte where the access leaves RAM for open bus or a device.
        for i in 0..<size {
            guard writeByte(gpa + UInt64(i), UInt8(truncatingIfNeeded: value >> UInt64(8 * i))) else { return false }
        }
        return true
    }

    /// A paging-structure entry: RAM, a device (read as it answers) or open bus (all ones:
    /// reserved bits set, so the walk ends in a #PF with RSVD).
    func readEntry(_ gpa: UInt64) -> UInt64? {
        if let v = vm.loadPhysical(gpa, size: 8) { return v }
        var v: UInt64 = 0
        for i in 0..<8 {
            let b: UInt8 = readByte(gpa + UInt64(i)) ?? 0xFF
            v |= UInt64(b) << UInt64(8 * i)
        }
        return v
    }

    func setEntryBits(_ gpa: UInt64, _ bits: UInt64) {
        guard let e = readEntry(gpa) else { return }
        let v = UInt32(truncatingIfNeeded: e | bits)
        if vm.storePhysical(gpa, size: 4, value: UInt64(v)) { return }
        // Only the bytes in RAM take the bits (a device's or open bus's entry stays as it reads).
        for i in 0..<4 {
            _ = vm.storePhysical(gpa + UInt64(i), size: 1, value: UInt64(v >> UInt32(8 * i)) & 0xFF)
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

/// The monitor's instruction assist: X86CPU's one-instruction emulator over the vCPU's state,
/// with the MMIO bus, the port bus and guest RAM.
final class InstructionAssist {
    let memory: AssistMemory
    let emulator: InstructionEmulator<AssistMemory>

    init(vcpu: VirtualCPU, vm: VirtualMachine, mmio: MMIOBus, ports: PortBus, lapic: LocalAPIC) {
        memory = AssistMemory(vm: vm, bus: mmio, vcpu: vcpu, lapic: lapic)
        emulator = vcpu.makeEmulator(physical: memory, ports: PortAdapter(ports))
    }

    /// Finishes delivering an exception whose delivery left the vCPU (its frame or gate lies in a
    /// device's range or in unbacked memory).
    func deliver(_ e: VCPUEvent) -> EmulationOutcome {
        emulator.deliverException(vector: Int(e.vector), errorCode: e.errorCode, faultAddress: e.faultAddress)
    }

    /// Emulates the instruction at the vCPU's RIP (`bytes` from the exit).
    func emulate(bytes: [UInt8]) -> EmulationOutcome { emulator.emulate(bytes: bytes) }

    /// Emulates an MMIO exit's instruction: decoded by the vCPU when it could hand over its
    /// copy, and its faulting access sent to `device` (the one whose range the kernel side
    /// found) at the exit's offset.
    func emulate(exit: MMIOExit, device: MMIODevice?) -> EmulationOutcome {
        // A page walk's entry read in the device's range says nothing of where the access goes.
        let access = exit.walk ? nil : device.map { (exit.gpa, $0, exit.offset) }
        memory.exitAccess = access
        defer { memory.exitAccess = nil }
        let at = access.map { _ in (linear: exit.linear, gpa: exit.gpa) }
        guard let decoded = exit.decoded else { return emulator.emulate(bytes: exit.instruction, exitAccess: at) }
        return emulator.emulate(decoded, exitAccess: at)
    }
}

/// Guest RAM as a device's DMA sees it: RAM only, a write reaching every vCPU that decoded
/// code in what it wrote (`VirtualMachine.dmaWrite`).
final class GuestRAM: GuestPhysicalAccess {
    unowned let vm: VirtualMachine
    init(vm: VirtualMachine) { self.vm = vm }
    func read(_ gpa: UInt64, count: Int) -> [UInt8]? { vm.readPhysical(gpa, count: count) }
    func write(_ gpa: UInt64, _ bytes: [UInt8]) -> Bool { vm.dmaWrite(gpa, bytes) }
}
