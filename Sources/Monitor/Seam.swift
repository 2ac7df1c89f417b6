import VMM
import X86

// The seam of DESIGN.md's "Determinism by default": everything from outside the guest enters
// the machine here (an `InputFeed`), and everything a recorder or replayer needs to see
// leaves it here (a `MachineObserver`). Guest time is the retired-instruction count plus the
// idle time the monitor let pass, so a run whose feed gives the same inputs at the same
// points is the same run.

/// A point in a run: the retired-instruction count and guest time in TSC ticks (which also
/// advances while the vCPU is halted, when the count does not).
public struct RunPoint: Equatable, Hashable, Sendable, CustomStringConvertible {
    public var icount: UInt64
    public var ticks: UInt64
    public init(icount: UInt64, ticks: UInt64 = 0) { (self.icount, self.ticks) = (icount, ticks) }
    public var description: String { "icount \(icount), tsc \(ticks)" }
}

/// Where an input from outside goes.
public enum InputDevice: UInt8, Sendable, CaseIterable, CustomStringConvertible {
    /// COM1's receiver.
    case serial = 0
    public var description: String { self == .serial ? "com1" : "device \(rawValue)" }
}

/// One byte from outside, and the point at which it arrives (a feed's schedule) or arrived
/// (what the observer is told).
public struct ExternalInput: Equatable, Sendable {
    public var point: RunPoint
    public var device: InputDevice
    public var byte: UInt8
    public init(point: RunPoint, device: InputDevice = .serial, byte: UInt8) {
        (self.point, self.device, self.byte) = (point, device, byte)
    }
}

/// The one way input from outside reaches the guest. The machine asks for the next input's
/// point between slices of the run, ends a slice there, and delivers the input once the run
/// has reached it: once both its instruction count and its time have come. A halted vCPU's
/// count does not advance, so an input whose count lies ahead of a halted vCPU arrives
/// during the halt, once its time has come (a byte typed while the guest waits for it).
public protocol InputFeed: AnyObject {
    /// The point the next input is due, or nil if none is (now, or ever).
    var nextDue: RunPoint? { get }
    /// The next input (the one `nextDue` described), once the run has reached its point; nil
    /// when it may not be delivered yet (a replayer waits for the events recorded before it,
    /// which can share its point).
    func take() -> ExternalInput?
    /// A live feed (a terminal) waits here while the vCPU is halted, up to `nanoseconds` of host
    /// time (nil: until input comes), so that an idle guest's time passes at the host's pace
    /// and a keystroke ends the wait; returns whether input is due now. A feed fixed in advance
    /// (a schedule, a replayed trace) returns false at once: the machine then jumps to its
    /// next event, and what a live run delivered at a point, a replay delivers at that point.
    func wait(nanoseconds: UInt64?) -> Bool
}

extension InputFeed {
    public func wait(nanoseconds: UInt64?) -> Bool { false }
}

/// Inputs fixed in advance, in order of their points: `--serial-input FILE` (every byte at
/// the start) or a test's random schedule.
public final class ScheduledInput: InputFeed {
    public private(set) var inputs: [ExternalInput]
    var next = 0

    public init(_ inputs: [ExternalInput]) {
        self.inputs = inputs.sorted { ($0.point.icount, $0.point.ticks) < ($1.point.icount, $1.point.ticks) }
    }

    /// Every byte at the start of the run, into COM1.
    public convenience init(serial bytes: [UInt8]) {
        self.init(bytes.map { ExternalInput(point: RunPoint(icount: 0), byte: $0) })
    }

    public var nextDue: RunPoint? { next < inputs.count ? inputs[next].point : nil }

    public func take() -> ExternalInput? {
        next += 1
        return inputs[next - 1]
    }
}

/// Sees what the machine does, for a recorder or a replayer: each exit (but the ones that only
/// slice the run at an instruction budget), each nested page fault and each input delivered,
/// with the instruction count (and RIP, for exits) at which it happened.
public protocol MachineObserver: AnyObject {
    func exit(_ exit: VMExit, icount: UInt64, rip: UInt64)
    func fault(gpa: GuestPhysicalAddress, access: AccessType, outcome: NestedFaultOutcome, icount: UInt64)
    func input(_ input: ExternalInput)
    /// Another vCPU's turn begins (several vCPUs only), at the run's count `icount`: the
    /// events after it are that vCPU's.
    func switched(to vcpu: Int, icount: UInt64)
    /// A shared directory's server answered a request (`icount`: the run's count then).
    func hostReply(share: Int, request: [UInt8], reply: [UInt8], icount: UInt64)
}

extension MachineObserver {
    public func switched(to vcpu: Int, icount: UInt64) {}
    public func hostReply(share: Int, request: [UInt8], reply: [UInt8], icount: UInt64) {}
}

/// Replies from the host's services (a shared directory's 9P server) are input from outside
/// too: what the guest reads of the host's files. A replay gives each from its trace instead
/// of asking the host, so it replays after the directory has changed.
public protocol HostReplyFeed: AnyObject {
    /// The reply to `request` sent to share `share`, or nil when there is none to give.
    func reply(share: Int, request: [UInt8]) -> [UInt8]?
}
