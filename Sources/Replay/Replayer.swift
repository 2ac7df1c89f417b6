import VMM
import Monitor
import X86

/// Where a replay first differed from its trace.
public struct Divergence: Equatable, Sendable, CustomStringConvertible {
    /// The trace event that was expected (its index; the event count for the end record).
    public var index: Int
    /// The run's point and RIP when the difference showed.
    public var icount: UInt64
    public var rip: UInt64
    /// The vCPU that was running then (with several), which diverged first.
    public var vcpu: Int? = nil
    /// The trace's event, or nil where the trace had ended.
    public var expected: TraceEvent?
    /// What the run did instead, or nil where it ended without doing it.
    public var actual: TraceEvent?
    /// How the run ended, where it ended before the trace did (or at another count).
    public var ending: String?

    public var description: String {
        let e = expected.map { "\($0)" } ?? "the end of the trace"
        let a = actual.map { "\($0)" } ?? "the run ended" + (ending.map { " (\($0))" } ?? "")
        let who = vcpu.map { " on vCPU \($0)" } ?? ""
        return "divergence at event \(index)\(who), icount \(icount), RIP \(hex(rip)):\n  expected: \(e)\n  actual:   \(a)"
    }
}

/// Replays a trace through the machine's seam: it is the machine's input feed (each recorded
/// input at its recorded point) and its observer (each exit, fault and input checked against
/// the next event in the trace). The first difference stops the run.
public final class Replayer: MachineObserver, InputFeed, HostReplyFeed {
    public let trace: Trace
    /// The next trace event to match.
    public private(set) var position = 0
    public private(set) var divergence: Divergence?
    unowned let machine: Machine
    /// Whether every event is checked. A replay that stops at any count and takes checkpoints
    /// as it goes (a debugger's) is checked only for what the guest does: each checkpoint makes
    /// the next write to a page fault and copy it, and where the run is cut into slices decides
    /// whether the monitor waits for an interrupt window or delivers at the slice's start (the
    /// interrupt arrives at the same instruction either way). So nested faults and
    /// interrupt-window exits are left out of the trace it matches, and not checked.
    public let strict: Bool

    /// Plugs into `machine` as its observer and input feed.
    public init(trace: Trace, machine: Machine, strict: Bool = true) {
        var trace = trace
        if !strict { trace.events.removeAll { !Replayer.guestsDoing($0) } }
        self.trace = trace
        self.strict = strict
        self.machine = machine
        machine.observer = self
        machine.input = self
        machine.hostReplies = self
    }

    func check(_ actual: TraceEvent) {
        guard divergence == nil, strict || Replayer.guestsDoing(actual) else { return }
        if position < trace.events.count && trace.events[position] == actual {
            position += 1
            return
        }
        divergence = Divergence(index: position, icount: machine.icount, rip: machine.vcpu.rip, vcpu: runningVCPU,
                                expected: position < trace.events.count ? trace.events[position] : nil, actual: actual)
        machine.requestStop("the run differs from the trace at event \(position)")
    }

    /// Whether an event is the guest's doing, whatever the slicing and checkpoints (see
    /// `strict`): the one rule for the trace's events and the run's.
    static func guestsDoing(_ e: TraceEvent) -> Bool {
        switch e {
        case .fault: false
        case .exit(_, let kind, _, _, _): kind != UInt64(VMExit.interruptWindow.kindIndex)
        default: true
        }
    }

    public func exit(_ exit: VMExit, icount: UInt64, rip: UInt64) { check(TraceEvent(exit, icount: icount, rip: rip)) }

    public func fault(gpa: GuestPhysicalAddress, access: AccessType, outcome: NestedFaultOutcome, icount: UInt64) {
        check(TraceEvent(gpa: gpa, access: access, outcome: outcome, icount: icount))
    }

    public func input(_ input: ExternalInput) { check(TraceEvent(input)) }

    public func switched(to vcpu: Int, icount: UInt64) { check(.vcpu(icount: icount, index: UInt64(vcpu))) }

    public func hostReply(share: Int, request: [UInt8], reply: [UInt8], icount: UInt64) {
        check(TraceEvent(share: share, request: request, reply: reply, icount: icount))
    }

    /// The recorded reply, when the next event is the share's: the host's directory is not
    /// consulted (the check that follows finds a request that differs).
    public func reply(share: Int, request: [UInt8]) -> [UInt8]? {
        guard divergence == nil, position < trace.events.count, case .host(_, let n, _, let reply) = trace.events[position],
              n == UInt64(share) else { return nil }
        return reply
    }

    /// Back to `position` (the replay's position when the machine's checkpoint was taken, the
    /// machine just rewound to it): matching goes on from there, a divergence forgotten.
    public func rewind(to position: Int) {
        self.position = position
        divergence = nil
        inputIndex = -1
    }

    /// The running vCPU, for a divergence report (nil with one vCPU).
    var runningVCPU: Int? { machine.vcpus.count > 1 ? machine.currentVCPU : nil }
    /// The next input in the trace (the machine ends its slices there), and whether every
    /// event recorded before it has been matched (only then may it be delivered: events
    /// before it can share its point).
    var nextInput: (index: Int, point: RunPoint)? {
        guard divergence == nil else { return nil }
        if inputIndex < position {
            // Each event is scanned once: the index moves on only past a consumed input.
            inputIndex = position
            while inputIndex < trace.events.count {
                if case .input = trace.events[inputIndex] { break }
                inputIndex += 1
            }
        }
        guard inputIndex < trace.events.count, case .input(let icount, let ticks, _, _) = trace.events[inputIndex] else { return nil }
        return (inputIndex, RunPoint(icount: icount, ticks: ticks))
    }
    var inputIndex = -1

    public var nextDue: RunPoint? { nextInput?.point }

    public func take() -> ExternalInput? {
        guard let next = nextInput, next.index == position,
              case .input(let i, let t, let d, let b) = trace.events[position] else { return nil }
        // An unknown device number is delivered to COM1; the check then finds the input the
        // machine reports different from the trace's.
        return ExternalInput(point: RunPoint(icount: i, ticks: t), device: InputDevice(rawValue: UInt8(truncatingIfNeeded: d)) ?? .serial, byte: b)
    }

    /// After the run: a trace with events left over, or with another final count, diverged
    /// where the run ended. Returns the divergence, if any.
    public func finish(_ stop: MachineStop) -> Divergence? {
        if divergence == nil {
            let icount = machine.icount
            if position < trace.events.count || icount != trace.finalICount {
                divergence = Divergence(index: position, icount: icount, rip: machine.vcpu.rip, vcpu: runningVCPU,
                                        expected: position < trace.events.count ? trace.events[position] : nil,
                                        actual: nil, ending: "\(stop) at icount \(icount); the trace ends at \(trace.finalICount)")
            }
        }
        return divergence
    }
}

/// One instruction of the run up to a divergence: its count (retired before it), RIP and bytes.
public struct ExecutedInstruction: Equatable, Sendable {
    public var icount: UInt64
    public var rip: UInt64
    public var bytes: [UInt8]
    public var mode: CPUMode
}

/// A trace and the images it names, checked against the recorded hashes: builds machines that
/// replay it.
public struct ReplaySession {
    public let trace: Trace
    public let configuration: MachineConfiguration
    let images: [[UInt8]]

    /// `images` in the trace's order (the kernel, then the initrd if there was one).
    public init(trace: Trace, images: [(name: String, contents: [UInt8])]) throws(TraceError) {
        try trace.check(images: images)
        self.trace = trace
        do { configuration = try MachineConfiguration(encoded: trace.header.configuration) } catch {
            throw .badConfiguration("\(error)", offset: Trace.configurationOffset)
        }
        self.images = images.map(\.contents)
    }

    /// A trace recorded from a restored snapshot names the snapshot file as its one image,
    /// with this prefix.
    public static let snapshotPrefix = "snapshot:"

    /// A machine booted (or restored from its snapshot) as the recorded one was, with a
    /// replayer plugged in.
    /// `strict`: see `Replayer.strict`.
    public func makeMachine(host: HostPhysicalMemory, strict: Bool = true,
                            serialOutput: @escaping (UInt8) -> Void) throws -> (Machine, Replayer) {
        let machine: Machine
        if trace.header.images.first?.name.hasPrefix(ReplaySession.snapshotPrefix) == true {
            machine = try SnapshotFile.restore(images[0], host: host, serialOutput: serialOutput).0
            return (machine, Replayer(trace: trace, machine: machine, strict: strict))
        }
        var config = configuration
        // The kernel, the initrd if there was one, then a disk image per drive.
        let drives = configuration.drives.count
        config.initrd = images.count - drives > 1 ? images[1] : nil
        let disks = zip(images.suffix(drives), configuration.drives).map { MemoryDisk(bytes: $0, readOnly: $1) }
        machine = try Machine(configuration: config, host: host, disks: disks, serialOutput: serialOutput)
        let replayer = Replayer(trace: trace, machine: machine, strict: strict)
        try machine.boot(image: images[0])
        return (machine, replayer)
    }

    /// The `count` instructions up to and including the one at `icount` (retired before it),
    /// found by replaying again: the run is deterministic, so a second replay passes the same
    /// points; it steps one instruction at a time over the last stretch.
    public func instructions(upTo icount: UInt64, count: Int) throws -> [ExecutedInstruction] {
        let host = try HostPhysicalMemory(frames: Int(configuration.memorySize >> 12) + 4096)
        let (machine, _) = try makeMachine(host: host) { _ in }
        defer { machine.teardown() }
        var out: [ExecutedInstruction] = []
        machine.stopAt = icount > UInt64(count - 1) ? icount - UInt64(count - 1) : 0
        while true {
            guard machine.run() == .limit, machine.icount == machine.stopAt else { break }
            let v = machine.vcpu, count = machine.icount
            out.append(ExecutedInstruction(icount: count, rip: v.rip, bytes: v.instructionBytes(), mode: v.mode))
            if count >= icount { break }
            machine.stopAt = count + 1
        }
        return out
    }
}

extension Trace {
    /// The nested-fault events of a whole-run trace as a fault sequence for the paging layer
    /// (`FaultLog.replay`): a fresh memory system on the recorded machine's map, driven
    /// through the same faults, must give the same outcomes (host addresses aside: the run
    /// also took frames for the images it loaded).
    public func faultSequence() throws(TraceError) -> FaultLog.Contents {
        let map: MemoryMap
        do { map = try MachineConfiguration(encoded: header.configuration).memoryMap() } catch {
            throw .badConfiguration("\(error)", offset: Trace.configurationOffset)
        }
        let faults = events.compactMap { e -> (gpa: GuestPhysicalAddress, access: AccessType, outcome: NestedFaultOutcome)? in
            guard case .fault(_, let g, let a, let o, let d) = e, let access = AccessType(rawValue: UInt8(truncatingIfNeeded: a)) else { return nil }
            let gpa = GuestPhysicalAddress(g)
            let outcome: NestedFaultOutcome
            switch o {
            case 0: outcome = .entered(hpa: HostPhysicalAddress(d))
            case 1: outcome = .accessedDirty
            case 2: outcome = .spurious
            case 3: outcome = .mmioAssist(range: map.rangeIndex(of: gpa) ?? -1, offset: d)
            case 4: outcome = .protection(gpa: gpa)
            case 6: outcome = .copied(hpa: HostPhysicalAddress(d))
            default: outcome = .unbacked(gpa: gpa)
            }
            return (gpa, access, outcome)
        }
        // The machine's pmap: EPT format, hardware accessed/dirty bits (VirtualMachine's defaults).
        return FaultLog.Contents(map: map, format: .ept, adMode: .hardware, faults: faults, stateHash: nil, compareHostAddresses: false)
    }
}
