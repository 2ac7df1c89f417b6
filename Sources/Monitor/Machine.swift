import Devices
import Foundation
import VMM
import X86
import X86CPU

/// The monitor side (vmd(8)): the devices, the exit loop and the assists.
public final class Machine {
    public let vm: VirtualMachine
    public let ports = PortBus()
    public let mmio = MMIOBus()
    /// COM1: the console, and the one port input from outside reaches.
    public let serial: UART16550
    /// COM2 to COM4, as many as the configuration has (`serialPorts`); their output goes
    /// nowhere until a caller sets it.
    public private(set) var moreSerialPorts: [UART16550] = []
    /// Which serial ports drive each ISA line (COM1 and COM3 share IRQ 4, COM2 and COM4 IRQ 3):
    /// the line is high while any of them drives it.
    var serialLines = [UInt64](repeating: 0, count: 16)
    /// Which PCI functions assert each line (by virtio index), and each function's slot and GSI
    /// for the DSDT's _PRT.
    var pciLines = [UInt64](repeating: 0, count: 16)
    var pciInterrupts: [(slot: Int, gsi: Int)] = []
    public let debugExit = DebugExit()
    /// Guest time, as the timer devices read it.
    public let clock = GuestClock()
    public let pic = PICPair()
    public private(set) var pit: PIT8254!
    /// The running vCPU's local APIC (each vCPU has its own: `processors`).
    public var lapic: LocalAPIC { ctx.lapic }
    public let ioapic = IOAPIC()
    /// The local APICs, by vCPU, and the messages between them and from the IOAPIC.
    public let apicBus = APICBus()
    public private(set) var rtc: RTC!
    public let pci = PCIConfigurationSpace()
    public let keyboardController = I8042()
    /// An NMI (the IOAPIC's NMI delivery, the local APIC's ICR) waiting for the running vCPU.
    var nmiPending: Bool {
        get { ctx.nmiPending }
        set { ctx.nmiPending = newValue }
    }
    /// The i8042 pulsed the reset line: the run ends as QEMU's does with -no-reboot.
    var resetRequested = false
    var powerOffRequested = false
    /// SLP_TYP \_S3 with SLP_EN was written: the machine suspends to RAM after the write.
    var suspendRequested = false
    public let acpiPower = ACPIPower()
    /// QEMU's fw_cfg: the RAM size and the CPU count, as kvm-unit-tests reads them.
    public private(set) lazy var firmwareConfig = FirmwareConfig(ramSize: configuration.memorySize, cpus: UInt16(configuration.processors))
    /// QEMU's pc-testdev, when the configuration asks for it.
    public private(set) var pcTestDevice: PCTestDevice?
    /// Host time at the start, for `--realtime`.
    let hostStart = DispatchTime.now().uptimeNanoseconds
    /// `portAccessTime` in TSC ticks.
    lazy var portAccessTicks = vcpu.ticks(nanoseconds: configuration.portAccessTime)
    /// `apicAccessTime` in TSC ticks.
    lazy var apicAccessTicks = vcpu.ticks(nanoseconds: configuration.apicAccessTime)

    /// A local APIC register access (MMIO or x2APIC MSR) takes `apicAccessTime` of guest time.
    func chargeAPICAccess() {
        vcpu.idle(ticks: apicAccessTicks)
        clock.now = vcpu.nanoseconds
    }
    /// External interrupts delivered (for `--stats`).
    public internal(set) var interruptsDelivered = 0
    public let testDevice = TestDevice()
    /// The virtio functions on PCI, in slot order.
    public private(set) var virtio: [VirtioPCI] = []
    /// The drives' images (the block devices' backends).
    let disks: [BlockBackend]
    /// The shared directories' servers (none in a replay: its trace answers).
    let shareServers: [NinePServer]
    /// Where a replay's host replies come from (Seam.swift); nil asks the servers.
    public var hostReplies: HostReplyFeed?
    /// The device of each of the memory map's MMIO ranges, by range index (nil for other
    /// ranges): an MMIO exit names its range, so its device is found without a lookup.
    var mmioDevices: [MMIODevice?] = []
    /// Each vCPU with its local APIC and the monitor's state for it; `ctx` is the one running
    /// (or last run). With one vCPU `ctx` never changes.
    var processors: [ProcessorContext] = []
    var ctx: ProcessorContext
    /// The running vCPU.
    public var vcpu: VirtualCPU { ctx.vcpu }
    /// The vCPUs (`--smp`).
    public var vcpus: [VirtualCPU] { vm.vcpus }
    /// The index of the running vCPU.
    public var currentVCPU: Int { ctx.index }
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

    /// `disks`: a backend for each of the configuration's drives, in order; `shares`: a
    /// server for each of its shares, or none at all (a replay, whose trace answers).
    public init(configuration: MachineConfiguration, host: HostPhysicalMemory, disks: [BlockBackend] = [],
                shares: [NinePServer] = [], serialOutput: @escaping (UInt8) -> Void) throws {
        guard disks.count == configuration.drives.count else {
            throw MachineError.disks(given: disks.count, configured: configuration.drives.count)
        }
        guard shares.isEmpty || shares.count == configuration.shares.count else {
            throw MachineError.shares(given: shares.count, configured: configuration.shares.count)
        }
        self.disks = disks
        self.shareServers = shares
        self.configuration = configuration
        vm = try VirtualMachine(name: "softvmm", map: try configuration.memoryMap(), vcpuCount: configuration.processors, host: host,
                                model: configuration.cpu, engine: configuration.engine)
        serial = UART16550(output: serialOutput)
        try ports.insert(serial, name: "com1", base: 0x3F8, count: 8)
        try ports.insert(debugExit, name: "debug-exit", base: 0xF4, count: 4)
        try mmio.insert(testDevice, name: "test-device", base: configuration.testDeviceBase, size: MachineConfiguration.testDeviceSize)
        let vm = self.vm, mmio = self.mmio, ports = self.ports, clock = self.clock
        processors = vm.vcpus.enumerated().map { i, v in
            let lapic = LocalAPIC(clock: clock, busFrequency: configuration.cpu.crystalFrequency)
            lapic.initialID = UInt32(i)
            return ProcessorContext(index: i, vcpu: v, lapic: lapic, assist: InstructionAssist(vcpu: v, vm: vm, mmio: mmio, ports: ports, lapic: lapic))
        }
        ctx = processors[0]
        try attachPlatform()
        mmioDevices = vm.memory.memory.map.ranges.map { $0.kind == .mmio ? mmio.device(at: $0.base.rawValue) : nil }
    }

    /// The PC's interrupt controllers and timers on the port bus, with their IRQ lines.
    func attachPlatform() throws {
        pit = PIT8254(clock: clock, irq0: isaIRQ(0))
        serial.irq = serialIRQ(Machine.serialLine(port: 0), port: 0)
        serial.clock = clock
        for i in 1..<max(1, min(configuration.serialPorts, 4)) {
            let uart = UART16550(output: { _ in })
            uart.irq = serialIRQ(Machine.serialLine(port: i), port: i)
            uart.clock = clock
            try ports.insert(uart, name: "com\(i + 1)", base: [0x3F8, 0x2F8, 0x3E8, 0x2E8][i], count: 8)
            moreSerialPorts.append(uart)
        }
        rtc = RTC(clock: clock, irq: isaIRQ(8), epoch: configuration.rtcEpoch)
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
        let ioapic = self.ioapic, apicBus = self.apicBus
        ioapic.deliver = { apicBus.send($0, from: nil) }
        for p in processors {
            apicBus.attach(p.lapic)
            p.lapic.onNMI = { [unowned p] in p.nmiPending = true }
            p.lapic.onExtINT = { [unowned p] in p.extINTRequested = true }
            p.lapic.onEOI = { ioapic.endOfInterrupt($0) }
            p.lapic.onINIT = { [unowned self, unowned p] in initialize(p) }
            p.lapic.onStartup = { [unowned self, unowned p] vector in startup(p, vector: vector) }
            // IA32_APIC_BASE, the TSC deadline and the x2APIC registers are the local APIC's.
            p.vcpu.exitingMSRs = Set([MSRIndex.apicBase, MSRIndex.tscDeadline] + Array(0x800...0x8FF))
        }
        // One page at 0xFEE00000 for every vCPU, each reaching its own local APIC.
        try mmio.insert(RunningLocalAPIC(machine: self), name: "local-apic", base: LocalAPIC.defaultBase, size: 0x1000)
        try mmio.insert(ioapic, name: "ioapic", base: IOAPIC.defaultBase, size: 0x1000)
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
        if configuration.virtioRNG {
            // Its own stream, from the machine's entropy seed.
            try attachVirtio(VirtioRNG(seed: configuration.cpu.entropySeed ^ 0x7669_7274_696F_726E), name: "virtio-rng")
        }
        for (i, disk) in disks.enumerated() { try attachVirtio(VirtioBlock(backend: disk), name: "virtio-blk \(i)") }
        for (i, share) in configuration.shares.enumerated() {
            try attachVirtio(Virtio9P(tag: share.tag) { [unowned self] request, room in serveShare(i, request, room: room) },
                             name: "virtio-9p \(i)")
        }
    }

    /// The ISA line of serial port `port` (0 for COM1): COM1 and COM3 on IRQ 4, COM2 and COM4
    /// on IRQ 3.
    static func serialLine(port: Int) -> Int { port % 2 == 1 ? 3 : 4 }

    /// A serial port's interrupt on ISA line `line`, which other ports may drive too.
    func serialIRQ(_ line: Int, port: Int) -> IRQLine {
        let wire = isaIRQ(line)
        return IRQLine { [unowned self] level in
            if let high = Machine.drive(&serialLines[line], source: port, level) { wire(high) }
        }
    }

    /// Source `source` of a line several drive (a wired OR, one bit per source in `sources`)
    /// goes to `level`; returns the line's new level when it changed.
    static func drive(_ sources: inout UInt64, source: Int, _ level: Bool) -> Bool? {
        let before = sources
        sources = level ? before | 1 << UInt64(source) : before & ~(1 << UInt64(source))
        return (before != 0) != (sources != 0) ? sources != 0 : nil
    }

    /// A request to share `index`'s 9P server, through the seam: a replay's trace answers it,
    /// otherwise the host's server; the observer sees the reply (a recorder keeps it).
    func serveShare(_ index: Int, _ request: [UInt8], room: Int) -> [UInt8] {
        let reply: [UInt8]
        if let feed = hostReplies {
            reply = feed.reply(share: index, request: request) ?? HostShare.errorReply(to: request, EIO)
        } else if index < shareServers.count {
            reply = shareServers[index].handle(request, room: room)
        } else {
            reply = HostShare.errorReply(to: request, EIO)
        }
        observer?.hostReply(share: index, request: request, reply: reply, icount: icount)
        return reply
    }

    /// A virtio device on PCI: the next slot from 3 and the next BAR from `virtioBase`, its
    /// INTA# on GSI 11 or 10 (the interrupt line register and the DSDT's _PRT say which), its
    /// DMA to guest RAM.
    func attachVirtio(_ device: VirtioDevice, name: String) throws {
        let index = virtio.count
        let base = MachineConfiguration.virtioBase + UInt64(index) * VirtioPCI.Layout.barSize
        let irq = index % 2 == 0 ? 11 : 10
        let transport = VirtioPCI(device: device, memory: GuestRAM(vm: vm))
        // A PCI interrupt is active low on its wire (the IOAPIC pin the kernel programs so, from
        // _PRT) and reaches the 8259 pair as an active-high level (the ELCR's level mode), as
        // through a PC's interrupt router. Functions that share a line drive it together.
        let line = irq
        transport.setInterruptLine = { [unowned self] asserted in
            guard let high = Machine.drive(&pciLines[line], source: index, asserted) else { return }
            pic.setIRQ(line, high)
            ioapic.setPin(line, !high)
        }
        if pciLines[line] == 0 { ioapic.setPin(line, true) }     // the wire's idle level
        try mmio.insert(transport, name: name, base: base, size: VirtioPCI.Layout.barSize)
        try pci.add(device: UInt32(3 + index), transport.pciFunction(barBase: base, irq: UInt8(irq)))
        pic.setLevelTriggered(irq: irq)
        pciInterrupts.append((slot: 3 + index, gsi: irq))
        virtio.append(transport)
    }

    /// CR8 as the machine last set it from the running vCPU's TPR.
    var cr8Shown: UInt64 {
        get { ctx.cr8Shown }
        set { ctx.cr8Shown = newValue }
    }
    /// An ExtINT message came for the running vCPU: it takes the 8259A's vector.
    var extINTRequested: Bool {
        get { ctx.extINTRequested }
        set { ctx.extINTRequested = newValue }
    }
    /// Sees every exit (but the instruction-budget ones, which only slice the run), every
    /// nested fault and every input: the seam a recorder or a replayer plugs into (Seam.swift).
    public var observer: MachineObserver? {
        didSet {
            guard let observer else { vm.memory.onFault = nil; return }
            vm.memory.onFault = { [unowned self, unowned observer] gpa, access, outcome in
                observer.fault(gpa: gpa, access: access, outcome: outcome, icount: icount)
            }
        }
    }
    /// Where input from outside comes from (Seam.swift); `boot` makes `--serial-input`'s bytes
    /// a feed when none is set.
    public var input: InputFeed?
    /// The run stops (as at its limit) once the vCPUs have retired this many instructions
    /// (`icount`), exactly; `run` again continues from there.
    public var stopAt: UInt64?
    /// The run stops (`.stopped(timeLimitReason)`) once guest time reaches this many
    /// nanoseconds (`softvmm exec --timeout`): a timer event like any other, so a halted
    /// guest's time jumps to it and the stop is at the same point every run.
    public var stopAtTime: UInt64?
    public static let timeLimitReason = "the guest-time limit"
    var pastTimeLimit: Bool { stopAtTime.map { vcpu.nanoseconds >= $0 } ?? false }
    var stopRequest: String?
    /// Only this vCPU runs while set (a debugger stepping one thread): the scheduler gives it
    /// every turn, and the others' instruction counts stay as they are.
    public var pinnedVCPU: Int?
    /// External interrupts and NMIs wait while set (a debugger's single step runs the
    /// instruction, not the handler of an interrupt that came meanwhile).
    public var holdsInterrupts = false
    /// Forgets a stop that was asked for and taken (a debugger's Ctrl-C), so the run can go on.
    public func clearStopRequest() { stopRequest = nil }
    /// Ends the run before the next instruction (an observer's request).
    public func requestStop(_ reason: String) {
        stopRequest = reason
        vcpu.requestExit()
    }

    /// The run's current point.
    public var point: RunPoint { RunPoint(icount: icount, ticks: vcpu.guestTicks) }

    /// The instructions every vCPU has retired, together: the run's count (a trace's icount,
    /// `stopAt`, the instruction limit). With one vCPU, its own count.
    public var icount: UInt64 {
        if processors.count == 1 { return vcpu.retired }
        return processors.reduce(0) { $0 &+ $1.vcpu.retired }
    }

    /// Delivers every input whose point the run has reached (a halted vCPU's count aside).
    func deliverInputs() {
        guard let feed = input else { return }
        while let due = feed.nextDue, due.ticks <= vcpu.guestTicks, vcpu.halted || due.icount <= icount,
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
        let count = icount
        let byCount = due.icount > count ? due.icount - count : 0
        let now = vcpu.guestTicks, perInstruction = max(vcpu.ticksPerInstruction, 1)
        let byTime = due.ticks > now ? (due.ticks - now + perInstruction - 1) / perInstruction : 0
        // Whichever comes first: stopping early only costs another slice, and instructions
        // that take extra time (PAUSE) reach the due time in fewer than `byTime`. A replay's
        // input has both, and reaches its recorded time exactly at its recorded count.
        return max(1, byCount == 0 ? byTime : byTime == 0 ? byCount : min(byCount, byTime))
    }

    /// Runs the guest until it ends (debug exit, shutdown, a halt nothing can end, an error),
    /// the instruction limit, `stopAt` or a stop an observer asked for.
    public func run() -> MachineStop {
        let limit = configuration.maxInstructions
        // Held for the run (set before it): no retain and release of it on every exit.
        let observer = self.observer
        let smp = processors.count > 1
        while true {
            if let why = stopRequest { return .stopped(why) }
            // Exits count as work too: a guest can spin through exits and event deliveries
            // without retiring an instruction (a handler address in unbacked memory).
            let count = icount
            let used = count &+ UInt64(exits)
            if used >= limit { return .limit }
            if let stopAt, count >= stopAt { return .limit }
            if pastTimeLimit { return .stopped(Machine.timeLimitReason) }
            if ctx.initPending { initializeRunning() }
            if smp, let stop = schedule(limit: limit) { return stop }
            advanceTime()
            deliverInputs()
            offerInterrupt()
            var slice = min(limit - used, progressInterval)
            if let stopAt { slice = min(slice, stopAt - count) }
            if smp {
                slice = min(slice, max(1, ctx.quantumEnd &- vcpu.retired))
                // A vCPU that spins (PAUSE) while another could run gives up its turn.
                vcpu.pauseExiting = processors.contains { $0 !== ctx && runnable($0) }
            }
            // The next timer event: the instructions until it (at least one), and its time for
            // instructions that take extra time (PAUSE, MOV CR0).
            var deadline = UInt64.max
            if let next = nextEvent() {
                let ticks = ticksUntil(next), perInstruction = vcpu.ticksPerInstruction
                slice = min(slice, max(1, (ticks + perInstruction - 1) / perInstruction))
                deadline = vcpu.guestTicks &+ ticks
            }
            if let n = instructionsUntilInput() { slice = min(slice, n) }
            vcpu.tickDeadline = deadline
            let exit = vcpu.run(limit: slice)
            clock.now = vcpu.nanoseconds
            synchronizeTPR()
            exits += 1
            if let observer, stopRequest == nil {
                // A debugger's breakpoint is not the guest's doing: a trace never holds one.
                switch exit {
                case .limit, .breakpoint: break
                default: observer.exit(exit, icount: icount, rip: vcpu.rip)
                }
            }
            switch exit {
            case .breakpoint:
                return .breakpoint(vcpu: currentVCPU)
            case .limit:
                onProgress?(vcpu)
                continue
            case .interruptWindow:
                if smp && vcpu.takePauseExit() { ctx.quantumEnd = vcpu.retired }
                continue
            case .io(let io):
                if let stop = handleIO(io) { return stop }
            case .mmio(let m):
                mmioOperations += 1
                if let e = m.duringDelivery {
                    if let stop = finishDelivery(e) { return stop }
                } else if let stop = emulate(m) { return stop }
            case .unbacked(let gpa, let access, let linear, let delivering):
                // Nothing backs the address: like a PC's open bus, reads return all ones and
                // writes vanish (the assist does the instruction so); a fetch there runs into
                // 0xFF bytes, an invalid instruction (#UD).
                // (Where the vCPU moved its local APIC page, the assist finds the APIC.)
                if ctx.assist.memory.movedAPICOffset(gpa) == nil {
                    unbacked += 1
                    if firstUnbacked == nil {
                        firstUnbacked = "\(access) at guest-physical \(hex(gpa)) (linear \(hex(linear)), RIP \(hex(vcpu.rip)))"
                    }
                }
                if let e = delivering {
                    if let stop = finishDelivery(e) { return stop }
                    continue
                }
                if access == .fetch {
                    vcpu.inject(VCPUEvent(.exception, vector: 6))
                    continue
                }
                if let stop = emulate(vcpu.instructionBytes()) { return stop }
            case .halt:
                advanceTime()
                if (interruptSource != nil && vcpu.rflags & Flag.if != 0) || nmiPending { continue }
                if smp {
                    // Another vCPU's turn (or, when all wait, the next event's time).
                    ctx.quantumEnd = vcpu.retired
                    continue
                }
                if !idleUntilNextEvent() { return .halted(interruptsEnabled: vcpu.rflags & Flag.if != 0) }
            case .shutdown:
                return .shutdown
            case .rdmsr(let index):
                handleMSR(index, write: nil)
            case .wrmsr(let index, let value):
                handleMSR(index, write: value)
            case .hypercall:
                handleHypercall()
            case .cpuid:
                return .error("unexpected exit: \(exit)")
            }
        }
    }

    /// I/O exits: a single IN/OUT goes to the port bus here; INS/OUTS run in the assist (the
    /// whole REP in one go, NVMM's batched string I/O).
    func handleIO(_ io: PortIOExit) -> MachineStop? {
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
        return finish(ctx.assist.emulate(bytes: bytes), rflagsBefore: flags)
    }

    /// Runs an MMIO exit's instruction in the assist against the device of the exit's range.
    func emulate(_ exit: MMIOExit) -> MachineStop? {
        let flags = vcpu.rflags
        let device = exit.range >= 0 && exit.range < mmioDevices.count ? mmioDevices[exit.range] : nil
        return finish(ctx.assist.emulate(exit: exit, device: device), rflagsBefore: flags)
    }

    /// Completes the instruction the assist ran, or injects the guest fault it raised.
    func finish(_ outcome: EmulationOutcome, rflagsBefore flags: UInt64) -> MachineStop? {
        switch outcome {
        case .completed:
            vcpu.instructionCompletedOutside(rflagsBefore: flags)
            return nil
        case .fault(let e):
            vcpu.inject(VCPUEvent(e))
            return nil
        case .shutdown: return .shutdown
        case .failed(let why): return .error(why)
        }
    }

    /// Completes an exception delivery the vCPU could not finish (its stack or IDT lies in a
    /// device's range or in unbacked memory).
    func finishDelivery(_ e: VCPUEvent) -> MachineStop? {
        switch ctx.assist.deliver(e) {
        case .completed: return nil
        case .shutdown, .fault: return .shutdown
        case .failed(let why): return .error(why)
        }
    }

    /// Tears the VM down; the host frame count for it drops to zero.
    public func teardown() { vm.teardown() }
}

/// A machine that cannot be made as configured.
public enum MachineError: Error, CustomStringConvertible {
    case disks(given: Int, configured: Int)
    case shares(given: Int, configured: Int)
    case checkpointWithWritableDrive(Int)
    public var description: String {
        switch self {
        case .disks(let g, let c): "the configuration has \(c) drives but \(g) disk images were given"
        case .shares(let g, let c): "the configuration has \(c) shared directories but \(g) servers were given"
        case .checkpointWithWritableDrive(let i): "drive \(i) is a writable file: a checkpoint could not take its writes back"
        }
    }
}
