import Foundation
import GuestMemory
import Replay
import Testing
import VMM

/// Recording through the machine's seam: a fixture guest's trace holds every exit (the
/// instruction-budget slices aside), and two recordings of the same run are the same bytes.
@Suite struct RecorderTests {
    static let guests = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures/guests")

    static func record(_ name: String) throws -> (trace: [UInt8], exits: [String: Int], retired: UInt64) {
        let image = [UInt8](try Data(contentsOf: guests.appendingPathComponent("\(name)/\(name).bin")))
        var config = MachineConfiguration()
        if let input = try? Data(contentsOf: guests.appendingPathComponent("\(name)/\(name).input")) {
            config.serialInput = [UInt8](input)
        }
        let host = try HostPhysicalMemory(frames: 32768)
        let machine = try Machine(configuration: config, host: host) { _ in }
        let recorder = Recorder(header: TraceHeader(configuration: "-m 64M", images: [TraceImage(name: name, contents: image)]))
        machine.observer = recorder
        try machine.boot(image: image)
        _ = machine.run()
        let retired = machine.vcpu.retired, exits = machine.vcpu.exitCounts
        machine.teardown()
        return (recorder.finished(icount: retired), exits, retired)
    }

    @Test(arguments: ["serial", "pit"])
    func traceHoldsEveryExitAndRepeats(_ name: String) throws {
        let a = try RecorderTests.record(name), b = try RecorderTests.record(name)
        #expect(a.trace == b.trace)
        let trace = try Trace(bytes: a.trace)
        #expect(trace.finalICount == a.retired)
        var byKind: [String: Int] = [:]
        for case .exit(_, let kind, _, _, _) in trace.events { byKind[TraceEvent.exitKinds[Int(kind)], default: 0] += 1 }
        var expected = a.exits
        expected["limit"] = nil
        #expect(byKind == expected)
        // Instruction counts never go backwards.
        let counts = trace.events.map(\.icount)
        #expect(counts == counts.sorted())
    }
}
