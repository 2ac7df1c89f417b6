import Foundation
import GuestMemory
import Testing
import VMM
import Monitor

/// The benchmark guest (Benchmarks/guests/bench.bin) at small counts: each loop's report equals
/// QEMU's (bench.expected, from Benchmarks/guests/expect.sh), and the loop retires exactly the
/// instructions its source states per iteration, which is what Benchmarks/run-guests.sh divides
/// by when it prints MIPS.
@Suite struct BenchmarkGuest {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Benchmarks/guests")

    /// Instructions per iteration (bench.asm's header), and I/O exits per iteration.
    static let perIteration: [String: (instructions: UInt64, exits: Int)] = [
        "reg": (8, 0), "sweep": (98_308, 0), "call": (251, 0), "movs": (6, 0), "stos": (6, 0), "io": (3, 1), "mul": (21, 0),
    ]

    static var expected: [(commandLine: String, report: String)] {
        let text = (try? String(contentsOf: directory.appendingPathComponent("bench.expected"), encoding: .utf8)) ?? ""
        return text.split(separator: "\n").map { line in
            let parts = line.split(separator: "\t", maxSplits: 1)
            return (String(parts[0]), parts.count > 1 ? String(parts[1]) : "")
        }
    }

    struct Result {
        var output: String
        var status: Int32
        var instructions: UInt64
        var ioExits: Int
        var liveFrames: Int
    }

    static func run(_ commandLine: String) throws -> Result {
        let image = try Data(contentsOf: directory.appendingPathComponent("bench.bin"))
        var config = MachineConfiguration()
        config.memorySize = 128 << 20
        config.commandLine = commandLine
        config.maxInstructions = 50_000_000
        let host = try HostPhysicalMemory(frames: 40000)
        var output: [UInt8] = []
        let machine = try Machine(configuration: config, host: host) { output.append($0) }
        try machine.boot(image: [UInt8](image))
        let stop = machine.run()
        let instructions = machine.icount, ioExits = machine.vcpu.exitCounts["io"] ?? 0
        machine.teardown()
        return Result(output: String(decoding: output, as: UTF8.self), status: stop.status,
                      instructions: instructions, ioExits: ioExits, liveFrames: host.liveFrames)
    }

    @Test func everyLoopHasAnExpectation() {
        #expect(Set(BenchmarkGuest.expected.map { String($0.commandLine.split(separator: " ")[0]) })
                == Set(BenchmarkGuest.perIteration.keys))
    }

    @Test(arguments: BenchmarkGuest.expected.map(\.commandLine))
    func loopMatchesQEMUAndItsInstructionCount(_ commandLine: String) throws {
        let words = commandLine.split(separator: " ")
        let name = String(words[0]), count = try #require(UInt64(words[1]))
        let per = try #require(BenchmarkGuest.perIteration[name])
        let report = try #require(BenchmarkGuest.expected.first { $0.commandLine == commandLine }?.report)
        // The same number of digits, all zero: the guest parses its command line digit by digit.
        let zeros = name + " " + String(repeating: "0", count: words[1].count)
        let full = try BenchmarkGuest.run(commandLine), none = try BenchmarkGuest.run(zeros)
        #expect(full.output == report + "\n")
        #expect(full.status == 1 && none.status == 1)
        #expect(full.instructions - none.instructions == count * per.instructions)
        #expect(full.ioExits - none.ioExits == Int(count) * per.exits)
        #expect(full.liveFrames == 0)
    }
}
