import Monitor
import Replay
import VMM

/// A recorded run as a timeline a debugger moves along both ways (`softvmm replay --gdb`):
/// forward by replaying, backward by going back to the nearest checkpoint before the point
/// sought and replaying from there. The replay is deterministic, so the state reached is the
/// state the forward run had at that count, whatever way it was reached.
///
/// Checkpoints (`Machine.checkpoint`, copy-on-write, no page copied when taken) come in two
/// kinds: one at every multiple of `interval` the replay passes, kept for the session; and
/// finer ones taken on the way to a point sought (every eighth of the way, down to
/// `finestSpacing`), the most recent `fineLimit` of them kept, so that a run of reverse steps
/// replays a few thousand instructions each rather than up to `interval`.
public final class ReplayHistory {
    public let machine: Machine
    let replayer: Replayer
    /// Instructions between the lasting checkpoints (it doubles when they outgrow
    /// `frameBudget`).
    public private(set) var interval: UInt64
    /// The counts the history spans: where the replay starts and where the trace ends.
    public let begin: UInt64
    public let end: UInt64
    /// The furthest count the replay has reached: output the guest produces before it was seen
    /// already (`isNew`).
    public private(set) var frontier: UInt64
    /// How the recorded run ended, once the replay has been there.
    public private(set) var ending: MachineStop?
    /// The host frames checkpoints may hold beyond the machine's own; past it, every other
    /// lasting checkpoint goes.
    public var frameBudget: Int
    /// Host frames for a replay with checkpoints of a guest of `guestFrames` pages: the
    /// machine's own, and room for checkpoints to hold four times guest memory besides
    /// (`frameBudget`); the reservation is address space only until used.
    public static func hostFrames(guestFrames: Int) -> Int { guestFrames * 6 + 8192 }
    /// The default `frameBudget`: five times guest memory, the machine's own frames included.
    public static func frameBudget(guestFrames: Int) -> Int { guestFrames * 5 + 4096 }
    static let finestSpacing: UInt64 = 2048
    static let fineLimit = 24

    struct Mark {
        var checkpoint: MachineCheckpoint
        /// The replayer's position in the trace there.
        var position: Int
        var icount: UInt64 { checkpoint.icount }
    }
    /// Sorted by count; the first is the start.
    var lasting: [Mark] = []
    /// Oldest first.
    var fine: [Mark] = []
    /// Restores and checkpoints, for `monitor history`.
    public private(set) var rewinds = 0

    /// `machine` is the replay's, at its start; `replayer` its replayer (not strict: checkpoints
    /// change how memory faults, and seeks how the run is sliced).
    public init(machine: Machine, replayer: Replayer, interval: UInt64, frameBudget: Int) throws {
        precondition(!replayer.strict, "a replay with checkpoints cannot check nested faults")
        self.machine = machine
        self.replayer = replayer
        self.interval = max(interval, ReplayHistory.finestSpacing)
        self.frameBudget = frameBudget
        begin = machine.icount
        end = replayer.trace.finalICount
        frontier = begin
        lasting = [try mark()]
    }

    /// A checkpoint here, with the replayer's place in the trace.
    func mark() throws -> Mark { Mark(checkpoint: try machine.checkpoint(), position: replayer.position) }

    deinit { release() }

    /// Drops every checkpoint (before the machine's teardown).
    public func release() {
        for m in lasting + fine { m.checkpoint.release() }
        lasting = []
        fine = []
    }

    /// Whether the guest's output now is beyond what the replay showed already.
    public var isNew: Bool { machine.icount >= frontier }
    /// The replay stands at the trace's end.
    public var atEnd: Bool { machine.icount >= end }
    /// How many checkpoints are held.
    public var checkpoints: (lasting: Int, fine: Int) { (lasting.count, fine.count) }

    /// Replays forward to count `target` (the trace's end when nil or beyond it), or until a
    /// breakpoint, a watchpoint, a requested stop or the recorded end; lasting checkpoints are
    /// taken on the way, and finer ones every `spacing` instructions from here when given.
    /// Returns `.limit` at the target.
    public func run(to target: UInt64?, spacing: UInt64? = nil) throws -> MachineStop {
        let goal = min(target ?? end, end)
        let start = machine.icount
        defer {
            frontier = max(frontier, machine.icount)
            machine.stopAt = nil
        }
        while true {
            let now = machine.icount
            if now >= goal { return now >= end ? (ending ?? .limit) : .limit }
            var next = (now / interval + 1) * interval
            if let spacing { next = min(next, start + ((now - start) / spacing + 1) * spacing) }
            machine.stopAt = min(goal, next)
            let stop = machine.run()
            guard stop == .limit, machine.icount == machine.stopAt else {
                if machine.icount >= end, !isPause(stop) { ending = stop }
                return stop
            }
            if machine.icount == next && machine.icount < end { try checkpoint(lastingOnly: spacing == nil) }
        }
    }

    /// A stop the debugger or the user asked for: the replay can go on from it.
    func isPause(_ stop: MachineStop) -> Bool {
        switch stop {
        case .breakpoint, .limit: true
        case .stopped(let why): why == GDBServer.interruptReason
        default: false
        }
    }

    /// Goes to count `target` (within the history): back to the nearest checkpoint at or before
    /// it unless the replay stands between that checkpoint and the target already, then
    /// forward, leaving finer checkpoints on the way. The caller disarms breakpoints.
    public func seek(to target: UInt64) throws -> MachineStop {
        let target = min(max(target, begin), end)
        let now = machine.icount
        let nearest = (lasting + fine).filter { $0.icount <= target }.max { $0.icount < $1.icount }!
        if now > target || now < nearest.icount {
            try machine.rewind(to: nearest.checkpoint)
            replayer.rewind(to: nearest.position)
            rewinds += 1
        }
        let distance = target - machine.icount
        let spacing = max(ReplayHistory.finestSpacing, distance / 8)
        return try run(to: target, spacing: distance > ReplayHistory.finestSpacing ? spacing : nil)
    }

    /// The count of the last lasting checkpoint before `icount` (the history's start at worst).
    public func checkpointBefore(_ icount: UInt64) -> UInt64 {
        lasting.last { $0.icount < icount }?.icount ?? begin
    }

    /// Takes a checkpoint here: a lasting one at a multiple of the interval (once), otherwise a
    /// fine one unless `lastingOnly`.
    func checkpoint(lastingOnly: Bool) throws {
        let here = machine.icount
        if here % interval == 0 {
            let i = lasting.firstIndex { $0.icount >= here } ?? lasting.count
            guard i == lasting.count || lasting[i].icount != here else { return }
            lasting.insert(try mark(), at: i)
        } else {
            guard !lastingOnly, !fine.contains(where: { $0.icount == here }) else { return }
            fine.append(try mark())
            if fine.count > ReplayHistory.fineLimit { fine.removeFirst().checkpoint.release() }
        }
        keepWithinBudget()
    }

    /// Past the frame budget: the fine checkpoints go, then every other lasting one (the
    /// interval doubles).
    func keepWithinBudget() {
        let host = machine.vm.memory.memory.host
        guard host.liveFrames > frameBudget else { return }
        for m in fine { m.checkpoint.release() }
        fine = []
        while host.liveFrames > frameBudget && lasting.count > 1 {
            interval *= 2
            var kept: [Mark] = []
            for m in lasting {
                if m.icount == begin || m.icount % interval == 0 { kept.append(m) } else { m.checkpoint.release() }
            }
            if kept.count == lasting.count { break }
            lasting = kept
        }
    }
}
