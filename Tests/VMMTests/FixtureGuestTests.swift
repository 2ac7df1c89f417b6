import Foundation
import GuestMemory
import Testing
import VMM

/// Every fixture guest in Fixtures/guests/NAME/NAME.bin runs in softvmm; its serial output and
/// exit status must equal what QEMU's TCG produced (NAME.expected, NAME.status, made by
/// Fixtures/guests/expect.sh), and teardown must leave no host frame live.
@Suite struct FixtureGuests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures/guests")

    static var names: [String] {
        let all = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return all.filter { FileManager.default.fileExists(atPath: directory.appendingPathComponent("\($0)/\($0).bin").path) }.sorted()
    }

    /// Runs a guest; returns its serial output, the stop, and the frames live after teardown.
    static func run(_ name: String, maxInstructions: UInt64 = 200_000_000) throws -> (String, MachineStop, Int) {
        let image = try Data(contentsOf: directory.appendingPathComponent("\(name)/\(name).bin"))
        var config = MachineConfiguration()
        config.maxInstructions = maxInstructions
        let host = try HostPhysicalMemory(frames: 32768)
        var output: [UInt8] = []
        let machine = try Machine(configuration: config, host: host) { output.append($0) }
        try machine.boot(image: [UInt8](image))
        let stop = machine.run()
        machine.teardown()
        return (String(decoding: output, as: UTF8.self), stop, host.liveFrames)
    }

    @Test func thereAreFixtureGuests() {
        #expect(FixtureGuests.names.count >= 1)
    }

    @Test(arguments: FixtureGuests.names)
    func matchesQEMU(_ name: String) throws {
        let dir = FixtureGuests.directory.appendingPathComponent(name)
        let expected = try String(contentsOf: dir.appendingPathComponent("\(name).expected"), encoding: .utf8)
        let status = Int32(try String(contentsOf: dir.appendingPathComponent("\(name).status"), encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines))
        let (output, stop, live) = try FixtureGuests.run(name)
        // Line by line, so a failure names the first check that differs.
        let ours = output.split(separator: "\n", omittingEmptySubsequences: false)
        let theirs = expected.split(separator: "\n", omittingEmptySubsequences: false)
        for (i, line) in theirs.enumerated() {
            let got = i < ours.count ? String(ours[i]) : "<no output: \(stop)>"
            try #require(got == String(line), "\(name): serial line \(i + 1) differs from QEMU's")
        }
        #expect(ours.count == theirs.count, "\(name): \(ours.count) lines, QEMU printed \(theirs.count)")
        #expect(stop.status == status, "\(name): \(stop), QEMU's status was \(status.map(String.init) ?? "?")")
        #expect(live == 0, "\(name): \(live) host frames live after teardown")
    }
}
