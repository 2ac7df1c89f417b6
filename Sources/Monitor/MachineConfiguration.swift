import Devices
import Foundation
import VMM
import X86
import X86CPU

// What a machine is made of (MachineConfiguration, its text form for traces and snapshots)
// and how a run ends (MachineStop).

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
    /// A debugger's breakpoint stopped vCPU `vcpu` before an instruction.
    case breakpoint(vcpu: Int)

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
        case .breakpoint: 7
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
        case .breakpoint(let v): "a debugger breakpoint on vCPU \(v)"
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
    public static let testDeviceSize: UInt64 = TestDevice.size
    /// The vCPU's CPUID model (`--cpu max,-feature`).
    public var cpu = CPUModel()
    /// What runs the guest's instructions (`--engine`): the same guest behaviour either way.
    public var engine = ExecutionEngine.configured
    /// Guest time from the host's clock (`--realtime`) instead of the instruction count: the
    /// guest's timers then follow the wall clock, and runs are no longer repeatable.
    public var realtime = false
    /// Bytes for COM1's receiver, there from the start (`--serial-input FILE`): they enter
    /// as the guest makes room, at points fixed by the guest's own reads, so runs repeat.
    public var serialInput: [UInt8] = []
    /// Guest time one port access takes, in nanoseconds: about an ISA bus cycle, so that a
    /// guest polling a device through ports sees time pass as on hardware.
    public var portAccessTime: UInt64 = 1000
    /// Guest time one access to a local APIC register takes (the xAPIC page, the x2APIC
    /// MSRs), in nanoseconds: what an exit to an emulated APIC costs under a hardware VMM
    /// without APIC virtualization (KVM without APICv), so that a guest polling the timer's
    /// current count sees time pass as it would there.
    public var apicAccessTime: UInt64 = 1000
    /// A virtio entropy device on PCI (`--device virtio-rng`, QEMU's `-device virtio-rng-pci`).
    public var virtioRNG = false
    /// Where the virtio functions' BARs lie (one `VirtioPCI.Layout.barSize` each, in PCI
    /// slot order from 3): below the test device, above any RAM softvmm gives a guest.
    public static let virtioBase: UInt64 = 0xFE00_0000
    /// Virtio block devices, in order (`--drive`): whether each is read-only. Their images
    /// are not settings: the machine is given a backend for each.
    public var drives: [Bool] = []
    /// Shared host directories, in order (`--share`): each one's mount tag and whether it is
    /// read-only. The directories are not settings: the machine is given a server for each
    /// (a replay answers from its trace instead).
    public var shares: [Share] = []
    public struct Share: Equatable, Sendable {
        public var tag: String
        public var readOnly: Bool
        public init(tag: String, readOnly: Bool) { (self.tag, self.readOnly) = (tag, readOnly) }
    }
    /// The virtio functions, in slot order: the entropy device, the drives, the shares.
    var virtioFunctions: Int { (virtioRNG ? 1 : 0) + drives.count + shares.count }
    /// The PC's serial ports, 1 to 4: COM1 at 0x3F8 (IRQ 4), COM2 at 0x2F8 (IRQ 3), COM3 at
    /// 0x3E8 (IRQ 4), COM4 at 0x2E8 (IRQ 3). `softvmm exec` takes the command's output from
    /// COM2 and COM3.
    public var serialPorts = 1
    /// The RTC's date and time at guest time 0, in seconds since 1970 (UTC): 2000-01-01 by
    /// default, so that runs repeat; `softvmm exec` gives the host's time at its start (kept in
    /// a trace's configuration, so a replay keeps it too).
    public var rtcEpoch: UInt64 = MachineConfiguration.defaultRTCEpoch
    public static let defaultRTCEpoch: UInt64 = 946_684_800
    /// QEMU's pc-testdev (`--device pc-testdev`): its ports and the IORAM window at 0xFF000000.
    public var pcTestDevice = false
    /// The vCPUs (`--smp N`, 1 to `maxProcessors`), and the instructions each runs before the
    /// next takes its turn (`--quantum`): one host thread runs them in turn, so the order is a
    /// function of instruction counts.
    public var processors = 1
    public var quantum: UInt64 = MachineConfiguration.defaultQuantum
    public static let maxProcessors = 64
    public static let defaultQuantum: UInt64 = 10_000
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
        for i in 0..<virtioFunctions {
            ranges.append(MemoryRange(.mmio, base: Self.virtioBase + UInt64(i) * VirtioPCI.Layout.barSize, size: VirtioPCI.Layout.barSize))
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
        return (["memory=\(memorySize)", "command-line=\(escape(commandLine))", "max-instructions=\(maxInstructions)",
                "test-device=\(testDeviceBase)", "cpu=\(escape(cpuSpec))", "realtime=\(realtime ? 1 : 0)",
                "port-access-ns=\(portAccessTime)", "apic-access-ns=\(apicAccessTime)", "pc-testdev=\(pcTestDevice ? 1 : 0)"]
            // Several vCPUs only: a one-vCPU configuration reads as it did before SMP.
            + (processors > 1 ? ["smp=\(processors)", "quantum=\(quantum)"] : [])
            + (virtioRNG ? ["virtio-rng=1"] : [])
            + drives.map { "drive=\($0 ? "ro" : "rw")" }
            + shares.map { "share=\($0.tag),\($0.readOnly ? "ro" : "rw")" }
            + (serialPorts > 1 ? ["serial-ports=\(serialPorts)"] : [])
            + (rtcEpoch != Self.defaultRTCEpoch ? ["rtc-epoch=\(rtcEpoch)"] : []))
            .joined(separator: "\n")
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
            case "apic-access-ns": apicAccessTime = try number()
            case "pc-testdev": pcTestDevice = try number() != 0
            case "virtio-rng": virtioRNG = try number() != 0
            case "drive":
                guard value == "ro" || value == "rw" else { throw ConfigurationError(line: n + 1, problem: "drive: \"\(value)\" (ro or rw)") }
                drives.append(value == "ro")
            case "share":
                let parts = value.split(separator: ",").map(String.init)
                guard parts.count == 2, !parts[0].isEmpty, parts[1] == "ro" || parts[1] == "rw" else {
                    throw ConfigurationError(line: n + 1, problem: "share: \"\(value)\" (TAG,ro or TAG,rw)")
                }
                shares.append(Share(tag: parts[0], readOnly: parts[1] == "ro"))
            case "rtc-epoch": rtcEpoch = try number()
            case "serial-ports":
                let count = try number()
                guard (1...4).contains(count) else { throw ConfigurationError(line: n + 1, problem: "serial-ports: \(count) (1 to 4)") }
                serialPorts = Int(count)
            case "smp":
                let count = try number()
                guard (1...UInt64(Self.maxProcessors)).contains(count) else {
                    throw ConfigurationError(line: n + 1, problem: "smp: \(count) vCPUs (1 to \(Self.maxProcessors))")
                }
                processors = Int(count)
            case "quantum":
                quantum = try number()
                guard quantum > 0 else { throw ConfigurationError(line: n + 1, problem: "quantum: 0 instructions") }
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
