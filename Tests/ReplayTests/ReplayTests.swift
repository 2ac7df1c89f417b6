import FixtureSupport
import Foundation
import GuestMemory
import Replay
import Testing
import VMM
import Monitor
import X86

/// Replay against recordings: fixture guests with random input replay without divergence,
/// and a trace changed in one place is reported at exactly the event a fresh recording with
/// that change first differs from it.
@Suite struct ReplayTests {
    struct Replayed {
        var divergence: Divergence?
        var output: [UInt8]
        var stop: MachineStop
        var retired: UInt64
    }

    static func replay(_ traceBytes: [UInt8], _ guest: FixtureGuest) throws -> Replayed {
        let session = try ReplaySession(trace: try Trace(bytes: traceBytes), images: [(guest.name, guest.image)])
        let host = try HostPhysicalMemory(frames: 32768)
        var output: [UInt8] = []
        let (machine, replayer) = try session.makeMachine(host: host) { output.append($0) }
        let stop = machine.run()
        let d = replayer.finish(stop), retired = machine.icount
        machine.teardown()
        #expect(host.liveFrames == 0)
        return Replayed(divergence: d, output: output, stop: stop, retired: retired)
    }

    /// A random schedule: some bytes (at least `minimum`) at random instruction counts up to
    /// `span`, some at random guest times instead.
    static func randomInput(_ rng: inout SplitMix64, span: UInt64, minimum: Int) -> [ExternalInput] {
        let n = minimum + Int(rng.next() % 12)
        return (0..<n).map { _ in
            let at = rng.next() % max(span, 1)
            let point = rng.next() % 4 == 0 ? RunPoint(icount: 0, ticks: at * 4) : RunPoint(icount: at)
            return ExternalInput(point: point, byte: UInt8(truncatingIfNeeded: rng.next()))
        }
    }

    /// Input the guest waits for: the serial guest reads 16 bytes before it ends.
    static func minimumInput(_ name: String) -> Int { name == "serial" ? 16 : 0 }

    @Test(arguments: FixtureGuest.names)
    func fixtureGuestWithRandomInputReplaysWithoutDivergence(_ name: String) throws {
        let guest = try FixtureGuest(name)
        let plain = try RecorderTests.record(guest)
        var rng = SplitMix64(seed: name.utf8.reduce(0x5EED) { $0 &* 31 &+ UInt64($1) })
        var diverged = 0, inputsSeen = 0
        for run in 0..<100 {
            let schedule = ReplayTests.randomInput(&rng, span: plain.retired, minimum: ReplayTests.minimumInput(name))
            let recording = try RecorderTests.record(guest, input: schedule)
            let trace = try Trace(bytes: recording.trace)
            inputsSeen += trace.events.filter { if case .input = $0 { true } else { false } }.count
            let replayed = try ReplayTests.replay(recording.trace, guest)
            if replayed.divergence != nil || replayed.output != recording.output || replayed.retired != recording.retired
                || replayed.stop != recording.stop {
                diverged += 1
                if ProcessInfo.processInfo.environment["REPLAY_DEBUG"] != nil {
                    try Data(recording.trace).write(to: URL(fileURLWithPath: "/tmp/fail-\(name).trace"))
                }
                Issue.record("\(name) run \(run): \(replayed.divergence.map { "\($0)" } ?? "output or end differs")")
            }
        }
        #expect(diverged == 0, "\(name): \(diverged) of 100 replays diverged")
        #expect(inputsSeen > 0, "\(name): no input reached the guest")
    }
}

/// A trace changed in one place: replay reports exactly the first event at which the run
/// differs from it. The oracle for where that is: a fresh recording of the run the changed
/// trace describes (its inputs, changed, fed at their points), compared event by event.
@Suite struct DivergenceTests {
    static func inputs(of trace: Trace) -> [ExternalInput] {
        trace.events.compactMap {
            guard case .input(let i, let t, _, let b) = $0 else { return nil }
            return ExternalInput(point: RunPoint(icount: i, ticks: t), byte: b)
        }
    }

    static func firstDifference(_ a: [TraceEvent], _ b: [TraceEvent]) -> Int {
        (0..<min(a.count, b.count)).first { a[$0] != b[$0] } ?? min(a.count, b.count)
    }

    /// A recording of the serial guest with its 16 bytes spread over the run.
    static func spreadRecording() throws -> (FixtureGuest, RecorderTests.Recording, Trace) {
        let guest = try FixtureGuest("serial")
        let plain = try RecorderTests.record(guest)
        let schedule = (0..<16).map { n in
            ExternalInput(point: RunPoint(icount: plain.retired * UInt64(n) / 20), byte: Array("spread over time".utf8)[n])
        }
        let recording = try RecorderTests.record(guest, input: schedule)
        return (guest, recording, try Trace(bytes: recording.trace))
    }

    func expectReported(_ changed: Trace, _ guest: FixtureGuest, oracle: Trace, file: String) throws {
        let expectedIndex = DivergenceTests.firstDifference(changed.events, oracle.events)
        try #require(expectedIndex < changed.events.count, "\(file): the change made no difference")
        let writer = TraceWriter(header: changed.header)
        for e in changed.events { writer.append(e) }
        let replayed = try ReplayTests.replay(writer.finished(icount: changed.finalICount), guest)
        let d = try #require(replayed.divergence, "\(file): no divergence reported")
        #expect(d.index == expectedIndex, "\(file)")
        #expect(d.expected == changed.events[expectedIndex], "\(file)")
        #expect(d.actual == (expectedIndex < oracle.events.count ? oracle.events[expectedIndex] : nil), "\(file)")
    }

    @Test func oneInputByteChanged() throws {
        let (guest, _, trace) = try DivergenceTests.spreadRecording()
        let inputIndices = trace.events.indices.filter { if case .input = trace.events[$0] { true } else { false } }
        #expect(inputIndices.count == 16)
        for k in [inputIndices[0], inputIndices[7], inputIndices[15]] {
            var changed = trace
            guard case .input(let i, let t, let d, let b) = changed.events[k] else { continue }
            changed.events[k] = .input(icount: i, ticks: t, device: d, byte: b ^ 0x20)
            let oracle = try Trace(bytes: RecorderTests.record(guest, input: DivergenceTests.inputs(of: changed)).trace)
            try expectReported(changed, guest, oracle: oracle, file: "input byte at event \(k)")
        }
    }

    @Test func oneInstructionCountChanged() throws {
        let (guest, recording, trace) = try DivergenceTests.spreadRecording()
        // An exit's count: the run itself is unchanged, so the original recording is the oracle.
        let exits = trace.events.indices.filter { if case .exit = trace.events[$0] { true } else { false } }
        for k in [exits[0], exits[exits.count / 2], exits[exits.count - 1]] {
            var changed = trace
            guard case .exit(let i, let kind, let rip, let a, let b) = changed.events[k] else { continue }
            changed.events[k] = .exit(icount: i + 1, kind: kind, rip: rip, a: a, b: b)
            try expectReported(changed, guest, oracle: try Trace(bytes: recording.trace), file: "exit count at event \(k)")
        }
        // An input's count: the input arrives later; the oracle records that run.
        let inputIndices = trace.events.indices.filter { if case .input = trace.events[$0] { true } else { false } }
        for k in [inputIndices[3], inputIndices[12]] {
            var changed = trace
            guard case .input(let i, let t, let d, let b) = changed.events[k] else { continue }
            changed.events[k] = .input(icount: i + 7, ticks: t, device: d, byte: b)
            let oracle = try Trace(bytes: RecorderTests.record(guest, input: DivergenceTests.inputs(of: changed)).trace)
            try expectReported(changed, guest, oracle: oracle, file: "input count at event \(k)")
        }
    }

    /// Several vCPUs: the trace marks each turn; an exit changed on an AP is reported at that
    /// event, naming the vCPU whose turn it was (the last `vcpu` event before it).
    @Test func divergenceOnAnAPNamesIt() throws {
        let guest = try FixtureGuest("smp")
        let recording = try RecorderTests.record(guest)
        let trace = try Trace(bytes: recording.trace)
        var running = 0, onAP: [(Int, Int)] = []
        for (k, e) in trace.events.enumerated() {
            switch e {
            case .vcpu(_, let n): running = Int(n)
            case .exit where running > 0: onAP.append((k, running))
            default: break
            }
        }
        let (k, vcpu) = try #require(onAP.dropFirst(onAP.count / 2).first, "no exit on an AP")
        var changed = trace
        guard case .exit(let i, let kind, let rip, let a, let b) = changed.events[k] else { return }
        changed.events[k] = .exit(icount: i, kind: kind, rip: rip &+ 1, a: a, b: b)
        let writer = TraceWriter(header: changed.header)
        for e in changed.events { writer.append(e) }
        let replayed = try ReplayTests.replay(writer.finished(icount: changed.finalICount), guest)
        let d = try #require(replayed.divergence)
        #expect(d.index == k && d.vcpu == vcpu && d.actual == trace.events[k])
        #expect("\(d)".contains("on vCPU \(vcpu)"))
        // The unchanged trace replays to its end.
        #expect(try ReplayTests.replay(recording.trace, guest).divergence == nil)
    }

    /// The report's instruction listing: a second replay stepped to the divergence, ending at
    /// the instruction that made the differing exit.
    @Test func reportListsTheInstructionsBeforeTheDivergence() throws {
        let (guest, _, trace) = try DivergenceTests.spreadRecording()
        let outs = trace.events.indices.filter { if case .exit(_, 0, _, _, _) = trace.events[$0] { true } else { false } }
        let k = outs[outs.count / 2]
        var changed = trace
        guard case .exit(let i, let kind, let rip, let a, let b) = changed.events[k] else { return }
        changed.events[k] = .exit(icount: i, kind: kind, rip: rip, a: a, b: b ^ 1)
        let writer = TraceWriter(header: changed.header)
        for e in changed.events { writer.append(e) }
        let bytes = writer.finished(icount: changed.finalICount)
        let d = try #require(try ReplayTests.replay(bytes, guest).divergence)
        #expect(d.index == k && d.icount == i && d.rip == rip)
        let session = try ReplaySession(trace: try Trace(bytes: bytes), images: [(guest.name, guest.image)])
        let listed = try session.instructions(upTo: d.icount, count: 8)
        #expect(listed.count == 8)
        #expect(listed.map(\.icount) == Array(d.icount - 7...d.icount))
        #expect(listed.last?.rip == rip)
        // The exit was an I/O instruction: IN or OUT (E4-E7, EC-EF).
        #expect([0xE4, 0xE5, 0xE6, 0xE7, 0xEC, 0xED, 0xEE, 0xEF].contains(listed.last?.bytes.first ?? 0))
    }
}
