import Debugger
import FixtureSupport
import Foundation
import GuestMemory
import Monitor
import Replay
import Testing
import VMM
import X86

/// Reverse execution over a recorded run: whatever way the history reaches a count (forward,
/// back to a checkpoint and on, one step back after another), the machine is in the state a
/// plain replay has at that count, memory included; and gdb's `bs` and `bc` packets stop where
/// the forward run had its last breakpoint or watchpoint hit.
@Suite struct ReplayHistoryTests {
    /// A fixture guest's run, recorded, with the session that replays it.
    static func recorded(_ name: String) throws -> ReplaySession {
        let guest = try FixtureGuest(name)
        let host = try HostPhysicalMemory(frames: Int(guest.configuration.memorySize >> 12) + 4096)
        let machine = try Machine(configuration: guest.configuration, host: host) { _ in }
        let recorder = Recorder(header: TraceHeader(configuration: machine.configuration.encoded, images: [TraceImage(name: name, contents: guest.image)]))
        machine.observer = recorder
        try machine.boot(image: guest.image)
        _ = machine.run()
        let trace = try Trace(bytes: recorder.finished(icount: machine.icount))
        machine.teardown()
        return try ReplaySession(trace: trace, images: [(name, guest.image)])
    }

    /// The state a plain replay (strict: every event checked) has when it stops once, at
    /// `point` (`softvmm replay --to`).
    static func replayed(_ session: ReplaySession, to point: UInt64) throws -> String {
        let host = try HostPhysicalMemory(frames: Int(session.configuration.memorySize >> 12) + 4096)
        let (machine, replayer) = try session.makeMachine(host: host) { _ in }
        defer { machine.teardown() }
        machine.stopAt = point
        let stop = machine.run()
        guard replayer.divergence == nil, stop == .limit || point == session.trace.finalICount else { return "\(stop)" }
        return machine.finalState
    }

    /// Every instruction's RIP in the replay (a strict replay stepping one at a time would
    /// find interrupt-window exits it no longer needs: `Replayer.strict`).
    static func rips(_ session: ReplaySession) throws -> [UInt64] {
        let host = try HostPhysicalMemory(frames: Int(session.configuration.memorySize >> 12) + 4096)
        let (machine, _) = try session.makeMachine(host: host, strict: false) { _ in }
        defer { machine.teardown() }
        var rips: [UInt64] = []
        while machine.icount < session.trace.finalICount {
            rips.append(machine.vcpu.linearRIP)
            machine.stopAt = machine.icount + 1
            guard machine.run() == .limit else { break }
        }
        return rips
    }

    /// `budget`: the frames checkpoints may hold (by default five times guest memory, as
    /// `softvmm replay --gdb` gives them).
    static func history(_ session: ReplaySession, interval: UInt64, budget: Int? = nil) throws -> (ReplayHistory, Machine, HostPhysicalMemory) {
        let frames = Int(session.configuration.memorySize >> 12)
        let host = try HostPhysicalMemory(frames: ReplayHistory.hostFrames(guestFrames: frames))
        let (machine, replayer) = try session.makeMachine(host: host, strict: false) { _ in }
        return (try ReplayHistory(machine: machine, replayer: replayer, interval: interval,
                                  frameBudget: budget ?? ReplayHistory.frameBudget(guestFrames: frames)), machine, host)
    }

    /// With every checkpoint over its frame budget (none allowed): the fine ones go and the
    /// lasting ones thin out (the interval doubles) down to the start; every count is still
    /// reached exactly, replaying from further back.
    @Test(arguments: ["system:budget", "system", "smp", "serial", "pit"])
    func everyWayToACountReachesTheSameState(_ argument: String) throws {
        let name = String(argument.split(separator: ":")[0]), tight = argument.hasSuffix(":budget")
        let session = try ReplayHistoryTests.recorded(name)
        let end = session.trace.finalICount
        // Points all over the run, in a scrambled order (back and forth), then a run of single
        // steps back from two thirds.
        var random = SplitMix64(seed: 24)
        var order = (0..<24).map { _ in random.next() % (end + 1) } + [0, end, end / 2]
        let stepsFrom = end * 2 / 3
        order += (0..<24).map { stepsFrom - UInt64($0) }
        var states: [UInt64: String] = [:]
        for point in Set(order) { states[point] = try ReplayHistoryTests.replayed(session, to: point) }
        let (history, machine, host) = try ReplayHistoryTests.history(session, interval: max(end / 5, 2048), budget: tight ? 0 : nil)
        for (i, point) in order.enumerated() {
            let stop = try history.seek(to: point)
            #expect(stop == .limit || point == end, "\(name): seek \(point): \(stop)")
            let same = machine.icount == point && machine.finalState == states[point]
            #expect(same, "\(name): seek number \(i), to \(point): at \(machine.icount)\n\(machine.finalState)\nexpected\n\(states[point] ?? "none")")
            if !same { break }
        }
        #expect(history.rewinds > 24, "\(name): \(history.rewinds) rewinds")
        if tight { #expect(history.checkpoints == (1, 0) && history.interval > max(end / 5, 2048), "\(history.checkpoints), every \(history.interval)") }
        history.release()
        machine.teardown()
        #expect(host.liveFrames == 0, "\(name): \(host.liveFrames) frames live")
    }

    /// gdb's packets over the history: `bs` at the start says the history begins there;
    /// `c` runs to the trace's end ("replaylog:end"); `bc` with a breakpoint goes to the
    /// forward run's last hit of it, and again to the one before; `bs` is one instruction back;
    /// a write watchpoint's `bc` stops before the last instruction that wrote it.
    @Test func reversePacketsOverTheSystemGuest() throws {
        let session = try ReplayHistoryTests.recorded("system")
        let end = session.trace.finalICount
        let rips = try ReplayHistoryTests.rips(session)
        #expect(UInt64(rips.count) == end)
        let (history, machine, _) = try ReplayHistoryTests.history(session, interval: 8192)
        defer { history.release(); machine.teardown() }
        // An address the run reaches at least three times, late in the run.
        var hits: [UInt64: [UInt64]] = [:]
        for (i, rip) in rips.enumerated() { hits[rip, default: []].append(UInt64(i)) }
        let (address, counts) = try #require(hits.filter { $0.value.count >= 3 }.max { $0.value.last! < $1.value.last! })
        let port = UInt16(30000 + (Int(getpid()) + 7) % 20000)
        let box = GDBServerTests.Session(try GDBServer(machine: machine, endpoint: GDBEndpoint(parsing: "tcp::\(port)"), history: history))
        let c = try GDBServerTests.Client(port: port)
        #expect(c.ask("qSupported:swbreak+")?.contains("ReverseStep+;ReverseContinue+") == true)
        #expect(c.ask("bs") == "T05thread:1;replaylog:begin;")
        #expect(c.ask("c") == "T05thread:1;replaylog:end;")
        #expect(machine.icount == end)
        let a = String(address, radix: 16)
        #expect(c.ask("Z0,\(a),1") == "OK")
        #expect(c.ask("bc") == "T05thread:1;swbreak:;")
        #expect(machine.icount == counts[counts.count - 1] && machine.vcpu.linearRIP == address)
        #expect(c.ask("bc") == "T05thread:1;swbreak:;")
        #expect(machine.icount == counts[counts.count - 2])
        #expect(c.ask("bs") == "T05thread:1;")
        #expect(machine.icount == counts[counts.count - 2] - 1)
        // Forward from there: the breakpoint again, at the hit after.
        #expect(c.ask("c") == "T05thread:1;swbreak:;")
        #expect(machine.icount == counts[counts.count - 2])
        #expect(c.ask("z0,\(a),1") == "OK")
        // A watchpoint on the stack slot below the stack pointer: the last write to it, going
        // back from the end, is the instruction the stop stands before.
        let slot = machine.vcpu.register(GPR.rsp) &- 8
        #expect(c.ask("c") == "T05thread:1;replaylog:end;")
        #expect(c.ask("Z2,\(String(slot, radix: 16)),8") == "OK")
        let reply = c.ask("bc")
        #expect(reply == "T05thread:1;watch:\(String(slot, radix: 16));", "\(reply ?? "none")")
        let before = machine.icount
        #expect(c.ask("s")?.hasPrefix("T05thread:1;watch:") == true && machine.icount == before + 1)
        c.send(remotePacket("D"))
        #expect(box.ended())
    }

    /// A breakpoint stops before the first instruction at its address, wherever that lies in a
    /// block (blocks end before breakpoints; the run loop looks before each block): for
    /// addresses all over the system guest, the count of the stop is the count at which a
    /// run stepping one instruction at a time first reaches it.
    @Test(arguments: ["system", "smp"])
    func breakpointsStopAtTheFirstHit(_ name: String) throws {
        let session = try ReplayHistoryTests.recorded(name)
        let rips = try ReplayHistoryTests.rips(session)
        var first: [UInt64: UInt64] = [:]
        for (i, rip) in rips.enumerated() where first[rip] == nil { first[rip] = UInt64(i) }
        var random = SplitMix64(seed: 7)
        let addresses = (0..<40).map { _ in rips[Int(random.next() % UInt64(rips.count))] }
        let (history, machine, _) = try ReplayHistoryTests.history(session, interval: 4096)
        defer { history.release(); machine.teardown() }
        for a in addresses {
            _ = try history.seek(to: 0)
            for v in machine.vcpus { v.debuggerBreakpoints = [a] }
            let stop = try history.run(to: nil)
            for v in machine.vcpus { v.debuggerBreakpoints = [] }
            #expect(stop == .breakpoint(vcpu: machine.currentVCPU) && machine.icount == first[a]! && machine.vcpu.linearRIP == a,
                    "\(name): a breakpoint at \(String(a, radix: 16)) stopped at \(machine.icount) (\(stop)), first reached at \(first[a]!)")
        }
    }
}
