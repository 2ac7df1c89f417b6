import ArgumentParser
import Foundation
import GuestMemory
import NestedPaging
import Replay
import VMM
import Monitor
import X86

struct Faults: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Record and replay nested page fault sequences (Sources/VMM/FaultLog.swift documents the format).",
        subcommands: [Record.self, Replay.self])

    struct Record: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a log of random nested faults against a PC-like memory map.")
        @Option(help: "Number of faults.") var count = 10_000
        @Option(help: "Seed.") var seed: UInt64 = 1
        @Option(help: "ept or npt.") var format: PmapFormat = .ept
        @Option(help: "hardware or emulated accessed/dirty bits.") var ad: AccessedDirtyMode = .hardware
        @Argument(help: "Output file.") var output: String

        func run() throws {
            let map = try MemoryMap([
                MemoryRange(.ram, base: 0, size: 0x9F000),
                MemoryRange(.reserved, base: 0x9F000, size: 0x61000),
                MemoryRange(.ram, base: 0x100000, size: 0x3FF0_0000),
                MemoryRange(.mmio, base: 0xFEC0_0000, size: 0x1000),
                MemoryRange(.mmio, base: 0xFEE0_0000, size: 0x1000),
            ])
            let text = try FaultLog.recordRandom(map: map, format: format, adMode: ad, count: count, seed: seed)
            try text.write(toFile: output, atomically: true, encoding: .utf8)
            print("faults: wrote \(count) faults to \(output)")
        }
    }

    struct Replay: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Drive a fresh memory system through a fault log and check every outcome and the final state.")
        @Argument(help: "A fault log, or a whole-run trace (softvmm record): its nested-fault events.") var log: String

        func run() throws {
            guard let data = FileManager.default.contents(atPath: log) else { throw ValidationError("cannot read \(log)") }
            let contents: FaultLog.Contents
            do {
                if data.starts(with: TraceFormat.magic) {
                    contents = try Trace(bytes: [UInt8](data)).faultSequence()
                } else {
                    contents = try FaultLog.parse(String(decoding: data, as: UTF8.self))
                }
            } catch {
                print("faults: \(log): \(error)")
                throw ExitCode(2)
            }
            if let d = try FaultLog.replay(contents) {
                print("faults: \(log): diverges at \(d)")
                throw ExitCode(1)
            }
            print("faults: \(log): \(contents.faults.count) faults replayed, every outcome"
                  + (contents.stateHash == nil ? " (host addresses aside) matches" : " and the final state match"))
        }
    }
}

extension PmapFormat: ExpressibleByArgument {}
extension AccessedDirtyMode: ExpressibleByArgument {}
