import Devices
import Foundation
import GuestMemory
import NestedPaging
import X86
import X86CPU

/// How a run ended.
public enum MachineStop: Equatable, Sendable, CustomStringConvertible {
    /// The guest wrote `code` to the debug-exit port.
    case debugExit(code: UInt32)
    /// A triple fault.
    case shutdown
    /// The guest reset the machine (the i8042's reset line); with no reboot, the run ends.
    case reset
    /// The guest turned the machine off (ACPI soft off, S5).
    case poweredOff
    /// HLT with nothing that could wake the vCPU (no timer armed, or IF clear).
    case halted(interruptsEnabled: Bool)
    /// The instruction limit.
    case limit
    /// The guest did something the VMM cannot serve (unbacked memory, an exit nobody handles).
    case error(String)
    /// The monitor's user asked the run to stop (a replayer that found a divergence).
    case stopped(String)

    /// The process exit status, as QEMU reports it: (code << 1) | 1 for the debug-exit port,
    /// 0 for a shutdown with -no-reboot; 2 and up for softvmm's own reasons.
    public var status: Int32 {
        switch self {
        case .debugExit(let c): Int32(truncatingIfNeeded: (c & 0x7FFF_FFFF) << 1 | 1)
        case .shutdown, .reset, .poweredOff: 0
        case .halted: 2
        case .limit: 3
        case .error: 4
        case .stopped: 6
        }
    }

    public var description: String {
        switch self {
        case .debugExit(let c): "debug exit \(c) (status \(status))"
        case .shutdown: "shutdown (triple fault)"
        case .reset: "reset by the guest (i8042)"
        case .poweredOff: "powered off by the guest (ACPI S5)"
        case .halted(let on): "halted with interrupts \(on ? "enabled and no interrupt source" : "disabled")"
        case .limit: "instruction limit reached"
        case .error(let e): "error: \(e)"
        case .stopped(let why): "stopped: \(why)"
        }
    }
}

/// The guest-physical layout of the PC softvmm builds: RAM from 0 up to the size asked
/// for (below the 3 GiB hole), and a test MMIO window.
public struct MachineConfiguration: Sendable {
    public var memorySize: UInt64 = 64 << 20
    public var commandLine = ""
    public var initrd: [UInt8]?
    public var maxInstructions: UInt64 = .max
    /// The test device's MMIO window (two pages; the MMIO fixture guest's target): by default
    /// above the 3 GiB hole's start; a base inside RAM cuts a hole in RAM for it.
    public var testDeviceBase: UInt64 = 0xFEB0_0000
    public static let testDeviceSize: UInt64 = 0x2000
    /// The vCPU's CPUID model (`--cpu max,-feature`).
    public var cpu = CPUModel()
    /// Guest time from the host's clock (`--realtime`) instead of the instruction count: the
    /// guest's timers then follow the wall clock, and runs are no longer repeatable.
    public var realtime = false
    /// Bytes for COM1's receiver, there from the start (`--serial-input FILE`): they enter
    /// as the guest makes room, at points fixed by the guest's own reads, so runs repeat.
    public var serialInput: [UInt8] = []
    /// Guest time one port access takes, in nanoseconds: about an ISA bus cycle, so that a
    /// guest polling a device through ports sees time pass as on hardware.
    public var portAccessTime: UInt64 = 1000
    /// QEMU's pc-testdev (`--device pc-testdev`): its ports and the IORAM window at 0xFF000000.
    public var pcTestDevice = false
    public init() {}

    /// The guest-physical map the machine is built on: RAM from 0 (with a hole where the test
    /// device lies inside it), the IOAPIC's and local APIC's pages, the test device's window.
    public func memoryMap() throws -> MemoryMap {
        let top = memorySize, test = testDeviceBase, testEnd = test + MachineConfiguration.testDeviceSize
        var ranges: [MemoryRange] = [MemoryRange(.mmio, base: IOAPIC.defaultBase, size: 0x1000),
                                     MemoryRange(.mmio, base: LocalAPIC.defaultBase, size: 0x1000)]
        if pcTestDevice {
            ranges.append(MemoryRange(.mmio, base: PCTestDevice.Layout.ioMemoryBase, size: PCTestDevice.Layout.ioMemorySize))
        }
        if test >= top {
            ranges += [MemoryRange(.ram, base: 0, size: top), MemoryRange(.mmio, base: test, size: MachineConfiguration.testDeviceSize)]
        } else {
            if test > 0 { ranges.append(MemoryRange(.ram, base: 0, size: test)) }
            ranges.append(MemoryRange(.mmio, base: test, size: MachineConfiguration.testDeviceSize))
            if testEnd < top { ranges.append(MemoryRange(.ram, base: testEnd, size: top - testEnd)) }
        }
        return try MemoryMap(ranges.sorted { $0.base < $1.base })
    }

    /// `cpu` in QEMU-style `-cpu` syntax, as `setCPU` was given it.
    public private(set) var cpuSpec = "max"

    /// Sets `cpu` from QEMU-style `-cpu` syntax (`max,-pcid,-invpcid`).
    public mutating func setCPU(_ spec: String) throws(CPUModelError) {
        cpu = try CPUModel(parsing: spec)
        cpuSpec = spec
    }

    /// The settings that make the machine, as text (one `key=value` a line; `%` escapes
    /// newlines and itself): what a trace's or a snapshot's header records, and `init(encoded:)`
    /// reads back. The images and the input are not settings: a trace hashes the images, and
    /// input goes through the seam.
    public var encoded: String {
        func escape(_ s: String) -> String {
            s.replacingOccurrences(of: "%", with: "%25").replacingOccurrences(of: "\n", with: "%0A")
        }
        return ["memory=\(memorySize)", "command-line=\(escape(commandLine))", "max-instructions=\(maxInstructions)",
                "test-device=\(testDeviceBase)", "cpu=\(escape(cpuSpec))", "realtime=\(realtime ? 1 : 0)",
                "port-access-ns=\(portAccessTime)", "pc-testdev=\(pcTestDevice ? 1 : 0)"].joined(separator: "\n")
    }

    /// Reads `encoded`'s text back; the error names the line and what is wrong with it.
    public init(encoded text: String) throws(ConfigurationError) {
        self.init()
        for (n, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            guard let eq = line.firstIndex(of: "=") else { throw ConfigurationError(line: n + 1, problem: "no '=' in \"\(line)\"") }
            let key = String(line[..<eq])
            let value = String(line[line.index(after: eq)...]).replacingOccurrences(of: "%0A", with: "\n")
                .replacingOccurrences(of: "%25", with: "%")
            func number() throws(ConfigurationError) -> UInt64 {
                guard let v = UInt64(value) else { throw ConfigurationError(line: n + 1, problem: "\(key): \"\(value)\" is not a number") }
                return v
            }
            switch key {
            case "memory": memorySize = try number()
            case "command-line": commandLine = value
            case "max-instructions": maxInstructions = try number()
            case "test-device": testDeviceBase = try number()
            case "realtime": realtime = try number() != 0
            case "port-access-ns": portAccessTime = try number()
            case "pc-testdev": pcTestDevice = try number() != 0
            case "cpu":
                do { try setCPU(value) } catch { throw ConfigurationError(line: n + 1, problem: "cpu \(value): \(error)") }
            default: throw ConfigurationError(line: n + 1, problem: "unknown setting \"\(key)\"")
            }
        }
    }
}

/// A machine configuration's text that cannot be read.
public struct ConfigurationError: Error, Equatable, CustomStringConvertible {
    public var line: Int
    public var problem: String
    public var description: String { "configuration line \(line): \(problem)" }
}

/// The monitor side (vmd(8)): the devices, the exit loop and the assists.
public final class Machine {
    public let vm: VirtualMachine
    public let ports = PortBus()
    public let mmio = MMIOBus()
    public let serial: UART16550
    public let debugExit = DebugExit()
    /// Guest time, as the timer devices read it.
    public let clock = GuestClock()
    public let pic = PICPair()
    public private(set) var pit: PIT8254!
    public private(set) var lapic: LocalAPIC!
    public let ioapic = IOAPIC()
    public private(set) var rtc: RTC!
    public let pci = PCIConfigurationSpace()
    public let keyboardController = I8042()
    /// An NMI (the IOAPIC's NMI delivery, the local APIC's ICR) waiting to be taken.
    var nmiPending = false
    /// The i8042 pulsed the reset line: the run ends as QEMU's does with -no-reboot.
    var resetRequested = false
    var powerOffRequested = false
    /// SLP_TYP \_S3 with SLP_EN was written: the machine suspends to RAM after the write.
    var suspendRequested = false
    public let acpiPower = ACPIPower()
    /// QEMU's fw_cfg: the RAM size and the CPU count, as kvm-unit-tests reads them.
    public private(set) lazy var firmwareConfig = FirmwareConfig(ramSize: configuration.memorySize, cpus: 1)
    /// QEMU's pc-testdev, when the configuration asks for it.
    public private(set) var pcTestDevice: PCTestDevice?
    /// Host time at the start, for `--realtime`.
    let hostStart = DispatchTime.now().uptimeNanoseconds
    /// `portAccessTime` in TSC ticks.
    lazy var portAccessTicks = vcpu.ticks(nanoseconds: configuration.portAccessTime)
    /// External interrupts delivered (for `--stats`).
    public internal(set) var interruptsDelivered = 0
    public let testDevice = TestDevice()
    let assist: InstructionAssist
    public var vcpu: VirtualCPU { vm.vcpus[0] }
    public let configuration: MachineConfiguration
    /// Statistics for `--stats`.
    public internal(set) var mmioOperations = 0
    public internal(set) var exits = 0
    /// Exits for guest-physical addresses nothing backs, and the first of them (for `--stats`
    /// and a warning).
    public internal(set) var unbacked = 0
    public private(set) var firstUnbacked: String?
    /// Called between slices of the run, at least every `progressInterval` instructions.
    public var onProgress: ((VirtualCPU) -> Void)?
    public var progressInterval: UInt64 = 1 << 24

    public init(configuration: MachineConfiguration, host: HostPhysicalMemory, serialOutput: @escaping (UInt8) -> Void) throws {
        self.configuration = configuration
        vm = try VirtualMachine(name: "softvmm", map: try configuration.memoryMap(), host: host, model: configuration.cpu)
        serial = UART16550(output: serialOutput)
        try ports.insert(serial, name: "com1", base: 0x3F8, count: 8)
        try ports.insert(debugExit, name: "debug-exit", base: 0xF4, count: 4)
        try mmio.insert(testDevice, name: "test-device", base: configuration.testDeviceBase, size: MachineConfiguration.testDeviceSize)
        assist = InstructionAssist(vm: vm, mmio: mmio, ports: ports)
        try attachPlatform()
    }

    /// The PC's interrupt controllers and timers on the port bus, with their IRQ lines.
    func attachPlatform() throws {
        pit = PIT8254(clock: clock, irq0: isaIRQ(0))
        lapic = LocalAPIC(clock: clock, busFrequency: configuration.cpu.crystalFrequency)
        serial.irq = isaIRQ(4)
        serial.clock = clock
        rtc = RTC(clock: clock, irq: isaIRQ(8))
        try ports.insert(rtc, name: "rtc", base: 0x70, count: 2)
        try ports.insert(pci, name: "pci-config", base: 0xCF8, count: 8)
        try ports.insert(keyboardController.dataPort, name: "i8042-data", base: 0x60, count: 1)
        try ports.insert(keyboardController.commandPort, name: "i8042-command", base: 0x64, count: 1)
        keyboardController.onReset = { [unowned self] in resetRequested = true }
        try ports.insert(acpiPower, name: "acpi-pm1", base: ACPITables.pm1EventBlock, count: 6)
        acpiPower.onPowerOff = { [unowned self] in powerOffRequested = true }
        acpiPower.onSuspend = { [unowned self] in suspendRequested = true }
        keyboardController.keyboardIRQ = isaIRQ(1)
        keyboardController.mouseIRQ = isaIRQ(12)
        let lapic = self.lapic!, ioapic = self.ioapic, vcpu = self.vcpu
        ioapic.deliver = { vector, level in lapic.accept(vector: vector, level: level) }
        ioapic.deliverExtINT = { [unowned self] in extINTRequested = true }
        ioapic.deliverNMI = { [unowned self] in nmiPending = true }
        lapic.onNMI = { [unowned self] in nmiPending = true }
        lapic.onEOI = { ioapic.endOfInterrupt($0) }
        try mmio.insert(lapic, name: "local-apic", base: LocalAPIC.defaultBase, size: 0x1000)
        try mmio.insert(ioapic, name: "ioapic", base: IOAPIC.defaultBase, size: 0x1000)
        // IA32_APIC_BASE, the TSC deadline and the x2APIC registers are the local APIC's.
        vcpu.exitingMSRs = Set([MSRIndex.apicBase, MSRIndex.tscDeadline] + Array(0x800...0x8FF))
        try ports.insert(pic.chip(slave: false), name: "pic-master", base: 0x20, count: 2)
        try ports.insert(pic.chip(slave: true), name: "pic-slave", base: 0xA0, count: 2)
        try ports.insert(pic.edgeLevelControl, name: "elcr", base: 0x4D0, count: 2)
        try ports.insert(pit, name: "pit", base: 0x40, count: 4)
        try ports.insert(pit.systemControlPortB, name: "port-b", base: 0x61, count: 1)
        try ports.insert(firmwareConfig, name: "fw-cfg", base: FirmwareConfig.Port.selector, count: 2)
        if configuration.pcTestDevice {
            let testdev = PCTestDevice()
            testdev.setIRQ = { [unowned self] line, level in isaIRQ(line)(level) }
            try ports.insert(testdev.registerPorts, name: "pc-testdev", base: PCTestDevice.Layout.registerPort, count: 12)
            try ports.insert(testdev.irqPorts, name: "pc-testdev-irq", base: PCTestDevice.Layout.irqLinePort,
                             count: UInt16(PCTestDevice.Layout.irqLines))
            try mmio.insert(testdev.ioMemoryWindow, name: "pc-testdev-ioram", base: PCTestDevice.Layout.ioMemoryBase,
                            size: PCTestDevice.Layout.ioMemorySize)
            pcTestDevice = testdev
        }
    }

    // MARK: time and interrupts

    /// The platform as a PC's firmware (SeaBIOS, under QEMU) leaves it for a boot loader:
    /// the 8259As at vectors 0x08 and 0x70 with IRQs 0, 1, 2, 6, 8, 12 and 14 unmasked; the
    /// PIT's counter 0 as an 18.2 Hz square wave; the local APIC software-enabled (spurious
    /// vector 0xFF) in virtual-wire mode: LINT0 ExtINT, LINT1 NMI.
    func setFirmwareState() {
        // The timer first: the PICs' initialization then clears the request its start made
        // (the firmware took its interrupts before it handed over).
        for (offset, value) in [(3, 0x36), (0, 0), (0, 0)] as [(UInt16, UInt32)] { pit.portWrite(offset: offset, size: 1, value: value) }
        let master = pic.chip(slave: false), slave = pic.chip(slave: true)
        for (chip, bytes) in [(master, [0x11, 0x08, 0x04, 0x01, 0xB8]), (slave, [0x11, 0x70, 0x02, 0x01, 0x8E])] {
            chip.portWrite(offset: 0, size: 1, value: UInt32(bytes[0]))
            for b in bytes.dropFirst() { chip.portWrite(offset: 1, size: 1, value: UInt32(b)) }
        }
        lapic.mmioWrite(offset: 0xF0, size: 4, value: 0x1FF)
        lapic.mmioWrite(offset: 0x350, size: 4, value: 0x8700)
        lapic.mmioWrite(offset: 0x360, size: 4, value: 0x8400)
    }

    /// An ISA interrupt line: to the 8259A pair and to the IOAPIC (IRQ 0 on pin 2, as on
    /// QEMU's PC and in the interrupt source override a firmware would describe).
    func isaIRQ(_ n: Int) -> IRQLine {
        IRQLine { [unowned self] level in
            pic.setIRQ(n, level)
            ioapic.setPin(n == 0 ? 2 : n, level)
        }
    }
    /// CR8 as the machine last set it from the TPR.
    var cr8Shown: UInt64 = 0
    /// An IOAPIC entry in ExtINT mode fired: the 8259A's vector goes to the CPU.
    var extINTRequested = false

    /// Brings the clock to the vCPU's time (or the host's, with `--realtime`) and the timer
    /// devices up to it.
    func advanceTime() {
        if configuration.realtime {
            let host = hostElapsed
            if host > vcpu.nanoseconds { vcpu.idle(ticks: vcpu.ticks(nanoseconds: host - vcpu.nanoseconds)) }
        }
        clock.now = vcpu.nanoseconds
        pit.advance()
        lapic.advance()
        rtc.advance()
        serial.advance()
    }

    /// The earliest timer event, in guest nanoseconds (the timed devices called directly, not
    /// through an array of existentials: this runs on every exit).
    func nextEvent() -> UInt64? {
        var next = UInt64.max
        if let t = pit.nextEvent() { next = min(next, t) }
        if let t = lapic.nextEvent() { next = min(next, t) }
        if let t = rtc.nextEvent() { next = min(next, t) }
        if let t = serial.nextEvent() { next = min(next, t) }
        return next == .max ? nil : next
    }

    /// An interrupt the controllers present: injected if the vCPU can take it now, or an
    /// interrupt window asked for (the INTA cycle happens only at injection).
    func offerInterrupt() {
        synchronizeTPR()
        vcpu.tprThreshold = UInt64(lapic.tprThreshold)
        // An NMI first: it waits only for the previous NMI's handler (its IRET) and the shadow.
        if nmiPending {
            if vcpu.nmiDeliverable {
                vcpu.inject(InjectedEvent(.nmi, vector: 2))
                nmiPending = false
                interruptsDelivered += 1
            } else if vcpu.nmiBlocked {
                vcpu.requestNMIWindow()
            } else {
                vcpu.requestExit()
            }
        }
        guard let source = interruptSource else {
            vcpu.cancelInterruptWindow()
            return
        }
        if vcpu.interruptible {
            let vector = source == .localAPIC ? lapic.acknowledge() : pic.acknowledge()
            if source == .pic { extINTRequested = false }
            vcpu.inject(InjectedEvent(.externalInterrupt, vector: Int(vector)))
            interruptsDelivered += 1
        } else {
            vcpu.requestInterruptWindow()
        }
    }

    /// CR8 and the local APIC's TPR are one register: a CR8 the guest changed sets the TPR
    /// (its low nibble clears); otherwise CR8 shows the TPR (written through the APIC). A MOV
    /// to CR8 exits only below the TPR threshold, so this runs after every exit, before the
    /// exit's handler can read the TPR.
    @inline(__always) func synchronizeTPR() {
        if vcpu.cr8 != cr8Shown { lapic.tpr = UInt32(vcpu.cr8) << 4 }
        cr8Shown = UInt64(lapic.tpr >> 4)
        vcpu.cr8 = cr8Shown
    }

    enum InterruptSource { case localAPIC, pic }
    /// Where the interrupt waiting for the vCPU comes from (a halted one wakes for it): the
    /// local APIC's IRR first, then the 8259A's INTR if it reaches the CPU (as QEMU orders them).
    var interruptSource: InterruptSource? {
        if lapic.deliverableVector != nil { return .localAPIC }
        return pic.interruptRequested && (lapic.acceptsPICInterrupts || extINTRequested) ? .pic : nil
    }

    /// Host nanoseconds since the machine was made (`--realtime`).
    var hostElapsed: UInt64 { DispatchTime.now().uptimeNanoseconds - hostStart }

    /// RDMSR/WRMSR of the local APIC's MSRs; a refused access is #GP(0).
    func handleMSR(_ index: UInt32, write value: UInt64?) {
        var result: UInt64? = nil
        var ok = true
        switch index {
        case MSRIndex.apicBase:
            var msrs = vcpu.msrs
            if let value {
                // BSP (8), EXTD (10), EN (11), the base (12 up to MAXPHYADDR).
                let allowed: UInt64 = ((1 << UInt64(msrs.physicalAddressBits)) - 1) & ~0xFFF | 1 << 8 | 1 << 10 | 1 << 11
                let old = msrs.values[index] ?? 0
                ok = value & ~allowed == 0 && (value ^ old) & (1 << 8) == 0
                    && lapic.setBase(enabled: value & 1 << 11 != 0, x2APIC: value & 1 << 10 != 0)
                if ok { msrs.values[index] = value; vcpu.msrs = msrs }
            } else {
                result = msrs.values[index] ?? 0
            }
        case MSRIndex.tscDeadline:
            if let value {
                let tsc = vcpu.timeStampCounter
                let wait = value > tsc ? value - tsc : 0
                lapic.setTSCDeadline(value, at: clock.now &+ vcpu.nanoseconds(ticks: wait))
            } else {
                result = lapic.tscDeadline
            }
        default:
            if let value { ok = lapic.writeMSR(index, value) } else { result = lapic.readMSR(index); ok = result != nil }
        }
        guard ok else {
            vcpu.inject(InjectedEvent(.exception, vector: 13, errorCode: 0))
            return
        }
        if let result {
            vcpu.setRegister(0, result & 0xFFFF_FFFF)
            vcpu.setRegister(2, result >> 32)
        }
        vcpu.completeInstruction(length: 2)
    }

    /// How many instructions the vCPU may run before the next timer event is due.
    func instructionsUntil(_ event: UInt64) -> UInt64 {
        let now = clock.now
        guard event > now else { return 1 }
        let ticks = vcpu.ticks(nanoseconds: event - now)
        return max(1, (ticks + vcpu.ticksPerInstruction - 1) / vcpu.ticksPerInstruction)
    }

    /// A halted vCPU: guest time jumps to the next timer event or input (or, with `--realtime`,
    /// waits for it). Returns false when nothing can ever wake it.
    func idleUntilNextEvent() -> Bool {
        guard vcpu.rflags & Flag.if != 0 else { return false }
        let now = vcpu.guestTicks
        var wait: UInt64?
        if let next = nextEvent() {
            if configuration.realtime {
                let host = hostElapsed
                if next > host { usleep(UInt32(min((next - host) / 1000, 1_000_000))) }
            }
            let ns = vcpu.nanoseconds
            wait = next > ns ? max(1, vcpu.ticks(nanoseconds: next - ns)) : 0
        }
        let due = input?.nextDue
        if due == nil, let feed = input, feed.wait(nanoseconds: wait.map { vcpu.nanoseconds(ticks: $0) }) {
            // A live feed's input came during the halt: it is due now.
            return true
        }
        if let due {
            let ticks = due.ticks > now ? due.ticks - now : 0
            wait = min(wait ?? ticks, ticks)
        }
        guard let wait else { return false }
        vcpu.idle(ticks: wait)
        return true
    }

    /// Loads a plan and sets the vCPU to the protocol's entry state.
    public func load(_ plan: LoadPlan) throws {
        for s in plan.segments {
            try vm.writePhysical(s.address, s.bytes)
        }
        let s = vcpu.state()
        for (n, v) in plan.registers { s.gpr[n] = v }
        s.rip = plan.entry
        s.rflags = 2
        switch plan.mode {
        case .real:
            s.setSegment(.cs, SegmentState.real(0, code: true))
        case .protected32:
            // Multiboot's state: flat 4 GiB 32-bit code and data segments, PE on, paging off.
            s.cr0 = CR0Bit.pe | CR0Bit.et
            let code = SegmentState(selector: 0x10, base: 0, limit: 0xFFFF_FFFF, attributes: 0xC09B)
            let data = SegmentState(selector: 0x18, base: 0, limit: 0xFFFF_FFFF, attributes: 0xC093)
            for r in [SegmentRegister.ds, .es, .fs, .gs, .ss] { s.setSegment(r, data) }
            s.setSegment(.cs, code)
        case .long64:
            try buildLongModeTables(s, at: (plan.end + 0xFFF) & ~0xFFF)
        case .linux64:
            try buildLongModeTables(s, at: GuestLoader.linuxTables, linux: true)
        }
        vcpu.setState(s)
    }

    /// A GDT and identity-mapped page tables (4 GiB in 2 MiB pages) in seven pages at `base`,
    /// and the vCPU in 64-bit mode at CPL 0. ELF64 puts them after the image, with code at
    /// selector 0x08 and data at 0x10; Linux's protocol wants __BOOT_CS 0x10 and __BOOT_DS 0x18.
    func buildLongModeTables(_ s: CPUState, at base: UInt64, linux: Bool = false) throws {
        let gdt = base, pml4 = base + 0x1000, pdpt = base + 0x2000, pd = base + 0x3000
        var tables = [UInt8](repeating: 0, count: 0x7000)
        func put(_ offset: Int, _ v: UInt64) {
            for i in 0..<8 { tables[offset + i] = UInt8(truncatingIfNeeded: v >> UInt64(8 * i)) }
        }
        let codeSelector: UInt16 = linux ? 0x10 : 0x08, dataSelector: UInt16 = linux ? 0x18 : 0x10
        put(0x08, 0x00AF_9B00_0000_FFFF) // 64-bit code
        put(Int(codeSelector), 0x00AF_9B00_0000_FFFF)
        put(Int(dataSelector), 0x00CF_9300_0000_FFFF) // data
        put(0x1000, pdpt | 3)
        for i in 0..<4 { put(0x2000 + 8 * i, (pd + UInt64(i) * 0x1000) | 3) }
        for i in 0..<2048 { put(0x3000 + 8 * i, UInt64(i) << 21 | 0x83) }
        try vm.writePhysical(base, tables)
        s.gdtr = TableRegister(base: gdt, limit: UInt16(dataSelector + 7))
        s.cr3 = pml4
        s.cr4 = CR4Bit.pae
        s.efer = EFERBit.lme | EFERBit.lma
        s.cr0 = CR0Bit.pe | CR0Bit.et | CR0Bit.pg
        let data = SegmentState(selector: dataSelector, base: 0, limit: 0xFFFF_FFFF, attributes: 0xC093)
        for r in [SegmentRegister.ds, .es, .fs, .gs, .ss] { s.setSegment(r, data) }
        s.setSegment(.cs, SegmentState(selector: codeSelector, base: 0, limit: 0xFFFF_FFFF, attributes: 0xA09B))
    }

    /// Sees every exit (but the instruction-budget ones, which only slice the run), every
    /// nested fault and every input: the seam a recorder or a replayer plugs into (Seam.swift).
    public var observer: MachineObserver? {
        didSet {
            guard let observer else { vm.memory.onFault = nil; return }
            vm.memory.onFault = { [unowned self, unowned observer] gpa, access, outcome in
                observer.fault(gpa: gpa, access: access, outcome: outcome, icount: vcpu.retired)
            }
        }
    }
    /// Where input from outside comes from (Seam.swift); `boot` makes `--serial-input`'s bytes
    /// a feed when none is set.
    public var input: InputFeed?
    /// The run stops (as at its limit) once the vCPU has retired this many instructions,
    /// exactly; `run` again continues from there.
    public var stopAt: UInt64?
    var stopRequest: String?
    /// Ends the run before the next instruction (an observer's request).
    public func requestStop(_ reason: String) {
        stopRequest = reason
        vcpu.requestExit()
    }

    /// The run's current point.
    public var point: RunPoint { RunPoint(icount: vcpu.retired, ticks: vcpu.guestTicks) }

    /// Delivers every input whose point the run has reached (a halted vCPU's count aside).
    func deliverInputs() {
        guard let feed = input else { return }
        while let due = feed.nextDue, due.ticks <= vcpu.guestTicks, vcpu.halted || due.icount <= vcpu.retired,
              var e = feed.take() {
            switch e.device {
            case .serial: serial.receive([e.byte])
            }
            e.point = point
            observer?.input(e)
        }
    }

    /// How many instructions the vCPU may run before the next input is due.
    func instructionsUntilInput() -> UInt64? {
        guard let due = input?.nextDue else { return nil }
        let byCount = due.icount > vcpu.retired ? due.icount - vcpu.retired : 0
        let now = vcpu.guestTicks, perInstruction = max(vcpu.ticksPerInstruction, 1)
        let byTime = due.ticks > now ? (due.ticks - now + perInstruction - 1) / perInstruction : 0
        return max(1, byCount, byTime)
    }

    /// Runs the guest until it ends (debug exit, shutdown, a halt nothing can end, an error),
    /// the instruction limit, `stopAt` or a stop an observer asked for.
    public func run() -> MachineStop {
        let limit = configuration.maxInstructions
        // Held for the run (set before it): no retain and release of it on every exit.
        let observer = self.observer
        while true {
            if let why = stopRequest { return .stopped(why) }
            // Exits count as work too: a guest can spin through exits and event deliveries
            // without retiring an instruction (a handler address in unbacked memory).
            let used = vcpu.retired &+ UInt64(exits)
            if used >= limit { return .limit }
            if let stopAt, vcpu.retired >= stopAt { return .limit }
            advanceTime()
            deliverInputs()
            offerInterrupt()
            var slice = min(limit - used, progressInterval)
            if let stopAt { slice = min(slice, stopAt - vcpu.retired) }
            if let next = nextEvent() { slice = min(slice, instructionsUntil(next)) }
            if let n = instructionsUntilInput() { slice = min(slice, n) }
            let exit = vcpu.run(limit: slice)
            clock.now = vcpu.nanoseconds
            synchronizeTPR()
            exits += 1
            if let observer, stopRequest == nil {
                if case .limit = exit {} else { observer.exit(exit, icount: vcpu.retired, rip: vcpu.rip) }
            }
            switch exit {
            case .limit:
                onProgress?(vcpu)
                continue
            case .interruptWindow:
                continue
            case .io(let io):
                if let stop = handleIO(io) { return stop }
            case .mmio(let m):
                mmioOperations += 1
                if let e = m.duringDelivery {
                    if let stop = finishDelivery(e) { return stop }
                } else if let stop = emulate(m.instruction) { return stop }
            case .unbacked(let gpa, let access, let linear, let delivering):
                // Nothing backs the address: like a PC's open bus, reads return all ones and
                // writes vanish (the assist does the instruction so); a fetch there runs into
                // 0xFF bytes, an invalid instruction (#UD).
                unbacked += 1
                if firstUnbacked == nil {
                    firstUnbacked = "\(access) at guest-physical \(hex(gpa)) (linear \(hex(linear)), RIP \(hex(vcpu.rip)))"
                }
                if let e = delivering {
                    if let stop = finishDelivery(e) { return stop }
                    continue
                }
                if access == .fetch {
                    vcpu.inject(InjectedEvent(.exception, vector: 6))
                    continue
                }
                if let stop = emulate(vcpu.instructionBytes()) { return stop }
            case .halt:
                advanceTime()
                if (interruptSource != nil && vcpu.rflags & Flag.if != 0) || nmiPending { continue }
                if !idleUntilNextEvent() { return .halted(interruptsEnabled: vcpu.rflags & Flag.if != 0) }
            case .shutdown:
                return .shutdown
            case .rdmsr(let index):
                handleMSR(index, write: nil)
            case .wrmsr(let index, let value):
                handleMSR(index, write: value)
            case .cpuid:
                return .error("unexpected exit: \(exit)")
            }
        }
    }

    /// I/O exits: a single IN/OUT goes to the port bus here; INS/OUTS run in the assist (the
    /// whole REP in one go, NVMM's batched string I/O).
    func handleIO(_ io: IOExit) -> MachineStop? {
        vcpu.idle(ticks: portAccessTicks)
        clock.now = vcpu.nanoseconds
        if io.string {
            if let stop = emulate(vcpu.instructionBytes()) { return stop }
        } else if io.isIn {
            let v = ports.read(io.port, size: io.size)
            let old = vcpu.register(0)
            let merged: UInt64 = switch io.size {
            case 1: old & ~0xFF | UInt64(v & 0xFF)
            case 2: old & ~0xFFFF | UInt64(v & 0xFFFF)
            default: UInt64(v)
            }
            vcpu.setRegister(0, merged)
            vcpu.completeInstruction(length: io.length)
        } else {
            ports.write(io.port, size: io.size, value: io.value)
            vcpu.completeInstruction(length: io.length)
        }
        if let code = debugExit.code { return .debugExit(code: code) }
        if resetRequested { return .reset }
        if powerOffRequested { return .poweredOff }
        if suspendRequested { return suspendToRAM() }
        return nil
    }

    /// S3 (ACPI 6.5, 16.1.3): the processor loses its context and RAM keeps its contents.
    /// The only wake event modelled is the RTC alarm (register B's AIE with PM1_EN.RTC_EN):
    /// guest time runs on, from one RTC event to the next, until the alarm; then, as firmware
    /// does on resume, the vCPU starts from RESET in real mode at the FACS waking vector (CS:IP
    /// = vector >> 4 : vector & 0xF) with PM1_STS.WAK_STS and RTC_STS set. With no wake event
    /// enabled the machine sleeps for good: the run ends as a halt nothing can end.
    func suspendToRAM() -> MachineStop? {
        suspendRequested = false
        guard acpiPower.alarmWakes, rtc.alarmInterruptEnabled else { return .halted(interruptsEnabled: false) }
        advanceTime()
        while !rtc.alarmFlag {
            guard let next = rtc.nextEvent() else { return .halted(interruptsEnabled: false) }
            let ns = vcpu.nanoseconds
            vcpu.idle(ticks: next > ns ? max(1, vcpu.ticks(nanoseconds: next - ns)) : 1)
            advanceTime()
        }
        acpiPower.wake(byAlarm: true)
        let vector = vm.readPhysical(ACPITables.wakingVector, count: 4).map {
            $0.enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        } ?? 0
        vcpu.resetToRealMode(selector: UInt16(truncatingIfNeeded: vector >> 4), ip: vector & 0xF)
        nmiPending = false
        return nil
    }

    /// Runs the instruction at RIP in the assist; a guest fault it raises is injected.
    func emulate(_ bytes: [UInt8]) -> MachineStop? {
        let flags = vcpu.rflags
        switch assist.emulate(vcpu, bytes: bytes) {
        case .completed:
            vcpu.instructionCompletedOutside(rflagsBefore: flags)
            return nil
        case .fault(let e):
            var event = InjectedEvent(.exception, vector: e.vector, errorCode: e.errorCode)
            if case .pageFault(let a, _) = e { event.faultAddress = a }
            vcpu.inject(event)
            return nil
        case .shutdown: return .shutdown
        case .failed(let why): return .error(why)
        }
    }

    /// Completes an exception delivery the vCPU could not finish (its stack or IDT lies in a
    /// device's range or in unbacked memory).
    func finishDelivery(_ e: CPUException) -> MachineStop? {
        switch assist.deliver(vcpu, e) {
        case .completed: return nil
        case .shutdown, .fault: return .shutdown
        case .failed(let why): return .error(why)
        }
    }

    /// Tears the VM down; the host frame count for it drops to zero.
    public func teardown() { vm.teardown() }
}

/// A test device for the MMIO fixture: storage that reads back what was written, as RAM
/// would (so QEMU with RAM at the same addresses is the oracle for every instruction's
/// result), counting the reads and writes that reached it.
public final class TestDevice: MMIODevice {
    var storage = [UInt8](repeating: 0, count: Int(MachineConfiguration.testDeviceSize))
    public internal(set) var writes: UInt64 = 0
    public internal(set) var reads: UInt64 = 0

    public init() {}

    public func mmioRead(offset: UInt64, size: Int) -> UInt64 {
        reads += 1
        var v: UInt64 = 0
        for i in 0..<size where Int(offset) + i < storage.count { v |= UInt64(storage[Int(offset) + i]) << UInt64(8 * i) }
        return v
    }

    public func mmioWrite(offset: UInt64, size: Int, value: UInt64) {
        writes += 1
        for i in 0..<size where Int(offset) + i < storage.count {
            storage[Int(offset) + i] = UInt8(truncatingIfNeeded: value >> UInt64(8 * i))
        }
    }
}

extension Machine {
    /// Loads a kernel image by what it is: a Linux kernel (a bzImage or a vmlinux ELF file), a
    /// Multiboot kernel (header in the first 8 KiB), another ELF file, or else a flat binary run as a boot sector (real mode at 0000:7C00).
    static let takesInitrd = "a kernel that takes an initrd (a Linux bzImage or vmlinux, or a Multiboot kernel)"

    public func boot(image: [UInt8]) throws {
        let ramTop = configuration.memorySize
        let memory = [BootMemoryRegion(base: 0, length: 0x9F000, available: true),
                      BootMemoryRegion(base: 0x100000, length: ramTop - 0x100000, available: true)]
        let modules = configuration.initrd.map { [BootModule(bytes: $0, commandLine: "initrd")] } ?? []
        let plan: LoadPlan
        if GuestLoader.isBzImage(image) || GuestLoader.isLinuxELF(image) {
            // The e820 map: low RAM, the legacy hole (VGA, option ROMs, BIOS), RAM above 1 MiB.
            let e820 = [memory[0], BootMemoryRegion(base: 0x9F000, length: 0x100000 - 0x9F000, available: false), memory[1]]
            plan = try GuestLoader.linux(image, commandLine: configuration.commandLine, initrd: configuration.initrd, memory: e820)
        } else if let multiboot = try? GuestLoader.multiboot(image, commandLine: configuration.commandLine, modules: modules, memory: memory) {
            plan = multiboot
        } else if image.starts(with: [0x7F, 0x45, 0x4C, 0x46]) {
            plan = try GuestLoader.elf(image)
            if configuration.initrd != nil { throw LoaderError.badMagic(what: Self.takesInitrd) }
        } else if configuration.initrd != nil {
            // Only a Linux or Multiboot kernel takes an initrd: anything else given one is a mistake.
            throw LoaderError.badMagic(what: Self.takesInitrd)
        } else {
            plan = try GuestLoader.flat(image, at: 0x7C00)
        }
        // Firmware's part: the ACPI tables in the BIOS area, for power-off and suspend.
        let tables = ACPITables.build()
        try vm.writePhysical(ACPITables.base, tables)
        try load(plan)
        setFirmwareState()
        if input == nil && !configuration.serialInput.isEmpty { input = ScheduledInput(serial: configuration.serialInput) }
    }
}
