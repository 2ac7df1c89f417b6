import Debugger
import FixtureSupport
import Foundation
import GuestMemory
import Monitor
import Testing

/// The server over a socket, as a hostile or careless client drives it: noise, a bad
/// checksum, an oversized packet, malformed requests, then a session that stops at a
/// breakpoint and kills the guest. Each bad packet gets `-` or an error reply; the guest is
/// unchanged by them.
@Suite struct GDBServerTests {
    final class Client {
        let fd: Int32
        var reader = RemotePacketReader(limit: 1 << 20)
        var acks: [RemoteEvent] = []
        var pending: [String] = []
        init(port: UInt16) throws {
            fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var a = sockaddr_in()
            a.sin_family = sa_family_t(AF_INET)
            a.sin_port = port.bigEndian
            inet_pton(AF_INET, "127.0.0.1", &a.sin_addr)
            var ok: Int32 = -1
            for _ in 0..<100 {
                ok = withUnsafePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
                if ok == 0 { break }
                usleep(20_000)
            }
            try #require(ok == 0)
            // A server that stops answering fails the test instead of hanging it.
            var limit = timeval(tv_sec: 20, tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        }
        deinit { close(fd) }
        func send(_ bytes: [UInt8]) { _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) } }
        /// The next reply packet (acks and naks are collected apart).
        func reply() -> String? {
            var buffer = [UInt8](repeating: 0, count: 65536)
            while pending.isEmpty {
                let n = read(fd, &buffer, buffer.count)
                guard n > 0 else { return nil }
                for e in reader.feed(buffer[0..<n]) {
                    if case .packet(let p) = e { pending.append(String(decoding: p, as: UTF8.self)) } else { acks.append(e) }
                }
            }
            return pending.removeFirst()
        }
        func ask(_ text: String) -> String? { send(remotePacket(text)); return reply() }
    }

    /// A session on its own thread (the machine is touched only there while it runs, and by
    /// the test only between replies): `stop` is how it ended, `done` once it has.
    final class Session: @unchecked Sendable {
        let server: GDBServer
        var stop: MachineStop?, done = false
        init(_ server: GDBServer) {
            self.server = server
            server.log = { _ in }
            Thread { [self] in stop = self.server.serve(); done = true }.start()
        }
        /// Waits up to two seconds for the session's end.
        func ended() -> Bool {
            for _ in 0..<200 where !done { usleep(10_000) }
            return done
        }
    }

    @Test func badPacketsAndASession() throws {
        let guest = try FixtureGuest("system")
        let host = try HostPhysicalMemory(frames: Int(guest.configuration.memorySize >> 12) + 4096)
        var output: [UInt8] = []
        let machine = try Machine(configuration: guest.configuration, host: host) { output.append($0) }
        defer { machine.teardown() }
        try machine.boot(image: guest.image)
        let port = UInt16(30000 + Int(getpid()) % 20000)
        let box = Session(try GDBServer(machine: machine, endpoint: GDBEndpoint(parsing: "tcp::\(port)")))
        let c = try Client(port: port)
        let rip = machine.vcpu.rip
        // Noise, a bad checksum, an unterminated packet cut by a good one.
        c.send(Array("garbage".utf8) + Array("$g#00".utf8))
        #expect(c.ask("qSupported:swbreak+")?.contains("qXfer:features:read+") == true)
        #expect(c.acks.contains(.resend))
        c.send(Array("$m100020".utf8))
        #expect(c.ask("?") == "S05")
        // Malformed and out-of-range requests: error replies, nothing changed.
        #expect(c.ask("m100020") == "E01")
        #expect(c.ask("mzz,4") == "E01")
        #expect(c.ask("m100020,100000") == "E01")
        #expect(c.ask("mf0000000,4") == "E14")                      // not RAM (paging is off)
        #expect(c.ask("G00") == "E01")
        #expect(c.ask("P999=00") == "E01")
        #expect(c.ask("Hg99") == "E01")
        // An unknown monitor command: its console output ("O" + hex), then OK.
        #expect(c.ask("qRcmd,7a7a")?.hasPrefix("O") == true && c.reply() == "OK")
        #expect(c.ask("qRcmd," + RemoteHex.encode(Array("icount".utf8))) == "O" + RemoteHex.encode(Array("0\n".utf8)) && c.reply() == "OK")
        #expect(c.ask("unknown-packet") == "")
        // A second client: turned away at once; the first goes on.
        let second = try Client(port: port)
        var byte: UInt8 = 0
        #expect(read(second.fd, &byte, 1) == 0)
        #expect(c.ask("qC") == "QC1")
        #expect(c.ask("Z2,10c000,0") == "E01")                      // a watchpoint of no bytes
        #expect(c.ask("Z5,10c000,4") == "")                         // an unknown kind
        // An oversized packet is dropped with "-".
        let before = c.acks.count
        c.send(remotePacket(String(repeating: "X", count: 0x5000)))
        #expect(c.ask("qC") == "QC1")
        #expect(c.acks[before...].contains(.resend))
        #expect(machine.vcpu.rip == rip && machine.icount == 0)
        // The target description, registers, memory and a breakpoint.
        #expect(c.ask("qXfer:features:read:target.xml:0,40")?.hasPrefix("m<?xml") == true)
        #expect(c.ask("g")?.count == 2 * RemoteRegisters.packetBytes)
        #expect(c.ask("m100020,1") == "fa")                          // cli
        #expect(c.ask("Z0,100026,1") == "OK")
        #expect(c.ask("c") == "T05thread:1;swbreak:;")
        #expect(machine.vcpu.rip == 0x100026 && machine.icount == 2)
        #expect(c.ask("s") == "T05thread:1;")
        #expect(machine.icount == 3)
        #expect(c.ask("z0,100026,1") == "OK")
        #expect(c.ask("c") == "W01")
        c.send(remotePacket("k"))
        #expect(box.ended() && box.stop == .debugExit(code: 0))
    }

    /// The SMP guest: one thread per vCPU; stepping one (vCont with its thread) runs that
    /// vCPU alone, one instruction, and the others' counts stay as they were.
    @Test func steppingOneVCPULeavesTheOthers() throws {
        let guest = try FixtureGuest("smp")
        let host = try HostPhysicalMemory(frames: Int(guest.configuration.memorySize >> 12) + 4096)
        let machine = try Machine(configuration: guest.configuration, host: host) { _ in }
        defer { machine.teardown() }
        try machine.boot(image: guest.image)
        // Into the run, where every vCPU has started.
        machine.stopAt = 100_000
        #expect(machine.run() == .limit)
        machine.stopAt = nil
        let n = machine.vcpus.count
        try #require(n >= 2)
        let port = UInt16(30000 + (Int(getpid()) + 13) % 20000)
        let box = Session(try GDBServer(machine: machine, endpoint: GDBEndpoint(parsing: "tcp::\(port)")))
        let c = try Client(port: port)
        #expect(c.ask("qfThreadInfo") == "m" + (1...n).map { String($0, radix: 16) }.joined(separator: ","))
        for round in 0..<3 {
            for t in (1...n).reversed() {
                let before = machine.vcpus.map(\.retired)
                #expect(c.ask("vCont;s:\(String(t, radix: 16));c") == "T05thread:\(String(t, radix: 16));", "round \(round), thread \(t)")
                let after = machine.vcpus.map(\.retired)
                for v in 0..<n {
                    #expect(after[v] == before[v] + (v == t - 1 ? 1 : 0), "round \(round): stepping thread \(t), vCPU \(v) went from \(before[v]) to \(after[v])")
                }
                #expect(c.ask("qC") == "QC" + String(t, radix: 16))
            }
        }
        c.send(remotePacket("D"))
        #expect(box.ended())
    }
}
