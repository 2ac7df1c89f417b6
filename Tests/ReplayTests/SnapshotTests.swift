import FixtureSupport
import Foundation
import GuestMemory
import Replay
import Testing
import VMM
import Monitor
import X86

/// Snapshots: taken mid-run (copy-on-write, so the run goes on unchanged), written to a file,
/// restored by `softvmm restore` in a new process, which continues to the uninterrupted run's
/// final state and serial output. Damaged, truncated and mismatched files are refused with
/// the problem and its offset.
@Suite struct SnapshotTests {
    struct Run {
        var output: [UInt8]
        var finalState: String
        var stop: MachineStop
    }

    static func machine(_ guest: FixtureGuest, _ host: HostPhysicalMemory, _ output: @escaping (UInt8) -> Void) throws -> Machine {
        let machine = try Machine(configuration: guest.configuration, host: host, serialOutput: output)
        try machine.boot(image: guest.image)
        return machine
    }

    /// The run without a snapshot.
    static func uninterrupted(_ guest: FixtureGuest) throws -> (Run, UInt64) {
        let host = try HostPhysicalMemory(frames: 32768)
        var output: [UInt8] = []
        let m = try machine(guest, host) { output.append($0) }
        let stop = m.run()
        let run = Run(output: output, finalState: m.finalState, stop: stop), retired = m.icount
        m.teardown()
        return (run, retired)
    }

    /// A snapshot file of a fixture guest at an instruction count.
    static func snapshotFile(_ name: String, at icount: UInt64) throws -> [UInt8] {
        let guest = try FixtureGuest(name)
        let host = try HostPhysicalMemory(frames: 32768)
        let m = try machine(guest, host) { _ in }
        m.stopAt = icount
        _ = m.run()
        let snapshot = try m.snapshot()
        let bytes = SnapshotFile.encode(snapshot, images: [TraceImage(name: name, contents: guest.image)])
        snapshot.release()
        m.teardown()
        return bytes
    }

    /// The softvmm binary built beside the tests.
    static var softvmm: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("softvmm")
    }

    static func temporary(_ name: String) -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("softvmm-snapshot-\(getpid())-\(name)")
    }

    /// Runs `softvmm restore` on a snapshot file; returns its serial output, final state and status.
    static func restoreInNewProcess(_ file: URL, _ name: String) throws -> (output: [UInt8], state: String, status: Int32, stderr: String) {
        let out = temporary("\(name).out"), state = temporary("\(name).state")
        defer { try? FileManager.default.removeItem(at: out); try? FileManager.default.removeItem(at: state) }
        let p = Process()
        p.executableURL = softvmm
        p.arguments = ["restore", file.path, "--serial", out.path, "--dump-state", state.path]
        let err = Pipe()
        p.standardError = err
        try p.run()
        let errText = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        return ([UInt8]((try? Data(contentsOf: out)) ?? Data()), (try? String(contentsOf: state, encoding: .utf8)) ?? "",
                p.terminationStatus, errText)
    }

    @Test(arguments: FixtureGuest.names)
    func snapshotRestoredInANewProcessContinuesToTheSameEnd(_ name: String) throws {
        try #require(FileManager.default.isExecutableFile(atPath: SnapshotTests.softvmm.path), "no softvmm binary beside the tests")
        let guest = try FixtureGuest(name)
        let (full, retired) = try SnapshotTests.uninterrupted(guest)
        let host = try HostPhysicalMemory(frames: 32768)
        var output: [UInt8] = []
        let m = try SnapshotTests.machine(guest, host) { output.append($0) }
        m.stopAt = retired / 2
        #expect(m.run() == .limit && m.icount == retired / 2)
        let before = output
        let snapshot = try m.snapshot()
        let file = SnapshotTests.temporary("\(name).snap")
        defer { try? FileManager.default.removeItem(at: file) }
        try Data(SnapshotFile.encode(snapshot, images: [TraceImage(name: name, contents: guest.image)])).write(to: file)
        // The snapshotted machine runs on, writing pages the snapshot shares: it ends as the
        // uninterrupted run did, and the snapshot still holds memory as it was.
        let snapshotHash = SnapshotFile.encode(snapshot, images: [])
        m.stopAt = nil
        let stop = m.run()
        let same = stop == full.stop && output == full.output && m.finalState == full.finalState
        #expect(same, "\(name): the run on after the snapshot")
        let unchanged = SnapshotFile.encode(snapshot, images: []) == snapshotHash
        #expect(unchanged, "\(name): the snapshot changed as the run went on")
        snapshot.release()
        m.teardown()
        #expect(host.liveFrames == 0, "\(name): \(host.liveFrames) frames live")
        // A new process restores it and runs to the same end.
        let restored = try SnapshotTests.restoreInNewProcess(file, name)
        #expect(restored.status == full.stop.status, "\(name): \(restored.stderr)")
        let sameOutput = before + restored.output == full.output
        #expect(sameOutput, "\(name): serial output")
        #expect(restored.state == full.finalState, "\(name): final state")
    }

    /// A trace recorded from a restored snapshot replays (the replay restores it again).
    @Test func traceFromASnapshotReplays() throws {
        let bytes = try SnapshotTests.snapshotFile("serial", at: 3000)
        let host2 = try HostPhysicalMemory(frames: 32768)
        let (restored, _) = try SnapshotFile.restore(bytes, host: host2) { _ in }
        let images = [TraceImage(name: ReplaySession.snapshotPrefix + "serial.snap", contents: bytes)]
        let recorder = Recorder(header: TraceHeader(configuration: restored.configuration.encoded, images: images))
        restored.observer = recorder
        _ = restored.run()
        let trace = try Trace(bytes: recorder.finished(icount: restored.icount))
        restored.teardown()
        #expect(trace.events.count > 0 && trace.events.allSatisfy { $0.icount >= 3000 })
        let session = try ReplaySession(trace: trace, images: [("serial.snap", bytes)])
        let host3 = try HostPhysicalMemory(frames: 32768)
        let (machine, replayer) = try session.makeMachine(host: host3) { _ in }
        let d = replayer.finish(machine.run())
        machine.teardown()
        #expect(d == nil, "\(d.map { "\($0)" } ?? "")")
    }

    /// Every truncation, a damaged page, a damaged state byte, a wrong version or magic: a
    /// `StateError` naming the problem and an offset inside the file, never a crash.
    @Test func damagedSnapshotsAreRefusedWithTheOffset() throws {
        let good = try SnapshotTests.snapshotFile("paging", at: 20000)
        func refusal(_ bytes: [UInt8]) -> StateError? {
            let host = try! HostPhysicalMemory(frames: 32768)
            do {
                let (machine, _) = try SnapshotFile.restore(bytes, host: host) { _ in }
                machine.teardown()
                return nil
            } catch let e as StateError {
                #expect(host.liveFrames == 0)
                return e
            } catch {
                Issue.record("not a StateError: \(error)")
                return nil
            }
        }
        #expect(refusal(good) == nil)
        for cut in stride(from: 0, to: good.count, by: max(1, good.count / 97)) {
            let e = refusal(Array(good[0..<cut]))
            #expect(e != nil && e!.offset <= cut, "cut at \(cut): \(e.map { "\($0)" } ?? "accepted")")
        }
        var wrongMagic = good
        wrongMagic[0] = 0x58
        #expect(refusal(wrongMagic) == StateError(offset: 0, problem: "not a softvmm snapshot: the first 8 bytes are not \"SVMSNAPS\""))
        var wrongVersion = good
        wrongVersion[8] = 2   // a file of the previous format (the interpreter's register file, word by word)
        #expect(refusal(wrongVersion)?.problem
                == "snapshot format version 2: this softvmm reads version 3 (an older softvmm wrote it: take the snapshot again with this one)")
        // A byte inside the last page: the page's checksum names where it starts.
        var damagedPage = good
        damagedPage[good.count - 40 - 100] ^= 0xFF
        let pageError = try #require(refusal(damagedPage))
        #expect(pageError.problem.contains("is damaged") && pageError.offset < good.count - 40 - 100 && pageError.offset > good.count - 4200,
                "\(pageError)")
        // Any other byte: refused, at an offset inside the file.
        var rng = SplitMix64(seed: 7)
        for _ in 0..<200 {
            var b = good
            let i = Int(rng.next() % UInt64(b.count))
            b[i] ^= UInt8(truncatingIfNeeded: rng.next()) | 1
            let e = refusal(b)
            #expect(e != nil && e!.offset <= b.count, "byte \(i): \(e.map { "\($0)" } ?? "accepted")")
        }
    }
}
