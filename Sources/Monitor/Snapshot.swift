import Devices
import VMM
import X86
import X86CPU

/// A whole machine as it was between two slices of its run: the vCPU, the devices, the
/// machine's own counters and guest memory (the VMM's `GuestMemorySnapshot`: the nested
/// pmap's leaves and a copy-on-write copy of RAM). Taking one costs no page copies.
/// `release` (or deinit) gives the shared frames back.
public final class MachineSnapshot {
    public let configuration: MachineConfiguration
    public let point: RunPoint
    /// The vCPU, the machine and every device, in `StateCoder`'s encoding.
    public let state: [UInt8]
    public let memory: GuestMemorySnapshot

    init(configuration: MachineConfiguration, point: RunPoint, state: [UInt8], memory: GuestMemorySnapshot) {
        (self.configuration, self.point, self.state, self.memory) = (configuration, point, state, memory)
    }

    /// Drops the snapshot's share of guest memory.
    public func release() { memory.release() }

    /// The snapshot's body: state, then the pmap's leaves and pages (`Machine.restore(body:)`
    /// reads it).
    public func body() -> [UInt8] {
        var s = StateCoder()
        var state = self.state
        s.raw(&state)
        memory.encode(&s)
        return s.bytes
    }
}

extension Machine {
    /// The machine's own state and every device's, as one description (StateCoder).
    func stateCoding(_ s: inout StateCoder) {
        s.section("machine") { s in
            s.field(&interruptsDelivered); s.field(&mmioOperations); s.field(&exits); s.field(&unbacked)
            let bsp = processors[0]
            s.field(&bsp.cr8Shown); s.field(&bsp.extINTRequested); s.field(&resetRequested); s.field(&bsp.nmiPending)
            bsp.vcpu.exitCountsCoding(&s)
        }
        s.section("vcpu") { s in processors[0].vcpu.state(&s) }
        let devices: [(String, StateCoding)] = [("clock", clock), ("com1", serial), ("debug-exit", debugExit), ("pic", pic),
                                                ("pit", pit), ("rtc", rtc), ("local-apic", processors[0].lapic), ("ioapic", ioapic),
                                                ("pci", pci), ("i8042", keyboardController), ("acpi-pm1", acpiPower), ("test-device", testDevice)]
        for (name, device) in devices { s.section(name) { s in device.state(&s) } }
        for (i, uart) in moreSerialPorts.enumerated() { s.section("com\(i + 2)") { s in uart.state(&s) } }
        if !virtio.isEmpty { s.section("pci-lines") { s in for i in pciLines.indices { s.field(&pciLines[i]) } } }
        if !moreSerialPorts.isEmpty { s.section("serial-lines") { s in for i in serialLines.indices { s.field(&serialLines[i]) } } }
        if !s.isSaving {
            // Which ports drive each line, from the ports themselves (a machine with COM1 alone
            // keeps no section for it): a line left high by the state replaced would hide the
            // next rising edge from the 8259.
            serialLines = [UInt64](repeating: 0, count: serialLines.count)
            for (port, uart) in ([serial] + moreSerialPorts).enumerated() where uart.interruptAsserted {
                serialLines[Machine.serialLine(port: port)] |= 1 << UInt64(port)
            }
        }
        // The virtio functions, when the configuration has any.
        for (i, t) in virtio.enumerated() { s.section("virtio \(i)") { s in t.state(&s) } }
        // The other vCPUs (a one-vCPU machine's layout is as before SMP): each with its local
        // APIC and the monitor's state for it, then which vCPU runs.
        guard processors.count > 1 else { return }
        for p in processors {
            s.section("vcpu \(p.index)") { s in
                if p.index > 0 {
                    p.interruptStateCoding(&s)
                    p.vcpu.exitCountsCoding(&s)
                    p.vcpu.state(&s)
                }
                p.turnCoding(&s)
            }
            if p.index > 0 { s.section("local-apic \(p.index)") { s in p.lapic.state(&s) } }
        }
        s.section("smp") { s in
            var running = UInt64(ctx.index)
            s.field(&running)
            if !s.isSaving && s.error == nil {
                if running < UInt64(processors.count) { ctx = processors[Int(running)] } else { s.fail("running vCPU \(running) of \(processors.count)") }
            }
        }
    }

    /// A snapshot of the machine now (between runs): cheap, see `MachineSnapshot`.
    public func snapshot() throws -> MachineSnapshot {
        var s = StateCoder()
        stateCoding(&s)
        return MachineSnapshot(configuration: configuration, point: point, state: s.bytes, memory: try vm.memorySnapshot())
    }

    /// Restores a snapshot's body (`MachineSnapshot.body`) into this machine, freshly made
    /// from the snapshot's configuration and not yet run. `base` is the body's offset in its
    /// file, for error messages.
    public func restore(body: [UInt8], base: Int = 0) throws(StateError) {
        var s = StateCoder(restoring: body, base: base)
        var state: [UInt8] = []
        let stateOffset = base + s.offset
        s.raw(&state)
        try vm.restoreMemory(&s, base: base)
        try restoreState(state, base: stateOffset)
    }

    /// The vCPUs, the machine and every device from `MachineSnapshot.state`'s bytes (guest
    /// memory restored already); `base` is their offset in a file, for error messages.
    func restoreState(_ state: [UInt8], base: Int = 0) throws(StateError) {
        var s = StateCoder(restoring: state, base: base)
        stateCoding(&s)
        if let e = s.error { throw e }
        guard s.atEnd else { throw StateError(offset: base + s.offset, problem: "state left over (another layout?)") }
        for p in processors { p.cr8Shown = p.vcpu.cr8 }
    }
}

extension Machine {
    /// The vCPU's state and a hash of guest memory's contents, as text: what a restored
    /// snapshot must reach to count as the same run (`softvmm run --dump-state`).
    public var finalState: String { vcpuStates + "\nmemory contents fnv1a \(String(vm.memory.contentHash(), radix: 16))\n" }

    /// Every vCPU's state as text (`VirtualCPU.stateDump`; with several, each headed by its
    /// index).
    public var vcpuStates: String {
        processors.count == 1 ? vcpu.stateDump
            : processors.map { "vcpu \($0.index)\($0.waitingForSIPI ? " (waiting for STARTUP)" : ""): \($0.vcpu.stateDump)" }.joined(separator: "\n")
    }
}

/// A machine's state kept in memory so that the run can go back to it (a debugger's reverse
/// execution, `Machine.rewind(to:)`): a snapshot, and the contents of the drives held in memory
/// (a replay's), whose arrays share their storage until one side writes.
public final class MachineCheckpoint {
    public let snapshot: MachineSnapshot
    let disks: [[UInt8]?]

    init(snapshot: MachineSnapshot, disks: [[UInt8]?]) { (self.snapshot, self.disks) = (snapshot, disks) }

    /// The run's instruction count when it was taken.
    public var icount: UInt64 { snapshot.point.icount }
    /// Drops the checkpoint's share of guest memory.
    public func release() { snapshot.release() }
}

extension Machine {
    /// A checkpoint of the machine now (between runs), as cheap as a snapshot. A drive the
    /// guest can write that is not held in memory cannot be taken back: refused.
    public func checkpoint() throws -> MachineCheckpoint {
        var contents: [[UInt8]?] = []
        for (i, d) in disks.enumerated() {
            if let m = d as? MemoryDisk { contents.append(m.bytes); continue }
            guard d.readOnly else { throw MachineError.checkpointWithWritableDrive(i) }
            contents.append(nil)
        }
        return MachineCheckpoint(snapshot: try snapshot(), disks: contents)
    }

    /// Takes the whole machine back to `checkpoint` (one of its own): guest memory, every vCPU
    /// and device, the drives held in memory. A stop asked for and the run's end are forgotten.
    public func rewind(to checkpoint: MachineCheckpoint) throws {
        try vm.revertMemory(to: checkpoint.snapshot.memory)
        try restoreState(checkpoint.snapshot.state)
        for (d, bytes) in zip(disks, checkpoint.disks) { if let m = d as? MemoryDisk, let bytes { m.bytes = bytes } }
        stopRequest = nil
        powerOffRequested = false
        suspendRequested = false
    }
}
