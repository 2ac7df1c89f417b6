import FixtureSupport
import Foundation
import GuestMemory
import Monitor
import Testing
import VMM

/// Checkpoints in memory (`Machine.checkpoint`, `Machine.rewind(to:)`), what reverse execution
/// stands on: taking them leaves the run unchanged, and a machine taken back to one runs to
/// the same states, output and end as it did the first time.
@Suite struct CheckpointTests {
    static func machine(_ guest: FixtureGuest, _ host: HostPhysicalMemory, _ output: @escaping (UInt8) -> Void) throws -> Machine {
        let machine = try Machine(configuration: guest.configuration, host: host, serialOutput: output)
        try machine.boot(image: guest.image)
        return machine
    }

    /// Checkpoints at the start and at every eighth of the run: the run ends as the run without
    /// them did. (The system guest's user code is written after the start into a page the
    /// first checkpoint shares; its fetch must reach the copy the write made.)
    @Test(arguments: FixtureGuest.names)
    func checkpointsLeaveTheRunUnchanged(_ name: String) throws {
        let guest = try FixtureGuest(name)
        let (full, retired) = try SnapshotTests.uninterrupted(guest)
        let host = try HostPhysicalMemory(frames: 65536)
        var output: [UInt8] = []
        let m = try CheckpointTests.machine(guest, host) { output.append($0) }
        var kept: [MachineCheckpoint] = [try m.checkpoint()]
        for k in UInt64(1)...7 {
            m.stopAt = retired * k / 8
            _ = m.run()
            kept.append(try m.checkpoint())
        }
        m.stopAt = nil
        let stop = m.run()
        #expect(stop == full.stop && output == full.output, "\(name): \(stop), output \(output.count) bytes of \(full.output.count)")
        #expect(m.finalState == full.finalState, "\(name): final state")
        for c in kept { c.release() }
        m.teardown()
        #expect(host.liveFrames == 0, "\(name): \(host.liveFrames) frames live")
    }

    /// To a checkpoint a third of the way and on again, twice, from the end and from two thirds:
    /// the same state at two thirds and the same end, output included; then back to the start.
    /// (Input the serial guest reads after a third of its run is delivered at its start.)
    @Test(arguments: FixtureGuest.names)
    func aRewoundMachineRunsTheSameAgain(_ name: String) throws {
        let guest = try FixtureGuest(name)
        let (full, retired) = try SnapshotTests.uninterrupted(guest)
        let host = try HostPhysicalMemory(frames: 65536)
        var output: [UInt8] = []
        let m = try CheckpointTests.machine(guest, host) { output.append($0) }
        let start = try m.checkpoint()
        m.stopAt = retired / 3
        _ = m.run()
        let third = try m.checkpoint(), outputAtThird = output.count
        m.stopAt = retired * 2 / 3
        _ = m.run()
        let twoThirds = m.finalState, outputAtTwoThirds = output.count
        m.stopAt = nil
        _ = m.run()
        for round in 0..<2 {
            try m.rewind(to: third)
            #expect(m.icount == retired / 3 && m.finalState != full.finalState, "\(name) round \(round): rewound")
            output.removeSubrange(outputAtThird...)
            m.stopAt = retired * 2 / 3
            _ = m.run()
            #expect(m.finalState == twoThirds && output.count == outputAtTwoThirds, "\(name) round \(round): the state at two thirds")
            m.stopAt = nil
            let stop = m.run()
            #expect(stop == full.stop && output == full.output && m.finalState == full.finalState, "\(name) round \(round): the end")
        }
        // Outside input is not the machine's: its feed starts again too (a replay's history
        // takes its replayer back to the checkpoint's place in the trace).
        try m.rewind(to: start)
        if !guest.configuration.serialInput.isEmpty { m.input = ScheduledInput(serial: guest.configuration.serialInput) }
        output = []
        let stop = m.run()
        #expect(stop == full.stop && output == full.output && m.finalState == full.finalState, "\(name): from the start again")
        for c in [start, third] { c.release() }
        m.teardown()
        #expect(host.liveFrames == 0, "\(name): \(host.liveFrames) frames live")
    }
}

/// A debugger's breakpoints and watchpoints that are never hit leave the run as it was: the
/// vCPU runs one instruction at a time while they are armed, and must reach the same states
/// at the same counts as it does in blocks.
@Suite struct ArmedDebuggerTests {
    @Test(arguments: FixtureGuest.names)
    func armedButUnhitLeavesTheRunUnchanged(_ name: String) throws {
        let guest = try FixtureGuest(name)
        let (full, _) = try SnapshotTests.uninterrupted(guest)
        for arm in ["breakpoint", "watchpoint"] {
            let host = try HostPhysicalMemory(frames: 65536)
            var output: [UInt8] = []
            let m = try CheckpointTests.machine(guest, host) { output.append($0) }
            for v in m.vcpus {
                if arm == "breakpoint" { v.debuggerBreakpoints = [0xFFFF_FFFF_FFFF_F000] }
                else { v.debuggerWatchpoints = [DebuggerWatchpoint(address: 0xFFFF_FFFF_FFFF_F000, length: 8, writesOnly: false)] }
            }
            let stop = m.run()
            #expect(stop == full.stop && output == full.output, "\(name), \(arm) armed: \(stop), output \(output.count) bytes of \(full.output.count)")
            #expect(m.finalState == full.finalState, "\(name), \(arm) armed: final state\n\(m.finalState)\nexpected\n\(full.finalState)")
            m.teardown()
        }
    }
}
