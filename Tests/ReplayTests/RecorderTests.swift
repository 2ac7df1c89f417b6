import FixtureSupport
import Foundation
import GuestMemory
import Replay
import Testing
import VMM
import Monitor
import X86

/// Recording through the machine's seam, and the recordings of fixture guests used by the
/// replay tests.
@Suite struct RecorderTests {
    struct Recording {
        var trace: [UInt8]
        var output: [UInt8]
        var stop: MachineStop
        var retired: UInt64
        var exits: [String: Int]
        var faults: Int
    }

    /// Records a fixture guest; `input`, when given, is its whole input schedule (in place of
    /// NAME.input at the start).
    static func record(_ guest: FixtureGuest, input: [ExternalInput]? = nil) throws -> Recording {
        var config = guest.configuration
        config.maxInstructions = 50_000_000
        if input != nil { config.serialInput = [] }
        let host = try HostPhysicalMemory(frames: 32768)
        var output: [UInt8] = []
        let machine = try Machine(configuration: config, host: host) { output.append($0) }
        let recorder = Recorder(header: TraceHeader(configuration: config.encoded, images: [TraceImage(name: guest.name, contents: guest.image)]))
        machine.observer = recorder
        if let input { machine.input = ScheduledInput(input) }
        try machine.boot(image: guest.image)
        let stop = machine.run()
        let retired = machine.icount, exits = machine.vcpu.exitCounts, faults = machine.vm.memory.faultCount
        machine.teardown()
        #expect(host.liveFrames == 0)
        return Recording(trace: recorder.finished(icount: retired), output: output, stop: stop, retired: retired, exits: exits, faults: faults)
    }

    @Test(arguments: ["serial", "pit", "paging"])
    func traceHoldsEveryExitFaultAndInputAndRepeats(_ name: String) throws {
        let guest = try FixtureGuest(name)
        let a = try RecorderTests.record(guest), b = try RecorderTests.record(guest)
        #expect(a.trace == b.trace)
        let trace = try Trace(bytes: a.trace)
        #expect(trace.finalICount == a.retired)
        var byKind: [String: Int] = [:], faults = 0, inputs: [UInt8] = []
        for e in trace.events {
            switch e {
            case .exit(_, let kind, _, _, _): byKind[TraceEvent.exitKinds[Int(kind)], default: 0] += 1
            case .fault: faults += 1
            case .input(_, _, _, let byte): inputs.append(byte)
            case .vcpu: Issue.record("a vCPU switch in a one-vCPU trace")
            case .host: Issue.record("a host reply in a trace without shares")
            }
        }
        var expected = a.exits
        expected["limit"] = nil
        #expect(byKind == expected)
        #expect(faults == a.faults && faults > 0)
        #expect(inputs == guest.configuration.serialInput)
        // Instruction counts never go backwards.
        let counts = trace.events.map(\.icount)
        #expect(counts == counts.sorted())
    }
}

/// The paging layer's fault-sequence replay reads a whole-run trace's nested faults: a fresh
/// memory system on the recorded map gives the same outcomes, and a changed one is found.
@Suite struct FaultSequenceFromTraceTests {
    @Test(arguments: ["paging", "mmio", "system"])
    func wholeRunFaultsReplayAtThePagingLayer(_ name: String) throws {
        let recording = try RecorderTests.record(try FixtureGuest(name))
        let trace = try Trace(bytes: recording.trace)
        let sequence = try trace.faultSequence()
        #expect(sequence.faults.count == recording.faults)
        #expect(try FaultLog.replay(sequence, hostFrames: 32768) == nil)
        // The first fault's outcome changed: the replay names it.
        var changed = sequence
        let first = try #require(changed.faults.first)
        changed.faults[0].outcome = first.outcome == .spurious ? .accessedDirty : .spurious
        #expect(try FaultLog.replay(changed, hostFrames: 32768)?.index == 0)
    }
}
