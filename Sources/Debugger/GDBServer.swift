import Foundation
import Monitor
import VMM
import X86

/// Where a debugger connects: `tcp::PORT` (localhost) or `tcp:HOST:PORT`, as QEMU's -gdb.
public struct GDBEndpoint: Equatable, Sendable {
    public var host: String
    public var port: UInt16

    public init(parsing spec: String) throws(GDBServerError) {
        var s = Substring(spec)
        if s.hasPrefix("tcp:") { s = s.dropFirst(4) }
        let parts = s.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, let port = UInt16(parts[1]), port > 0 else { throw .badEndpoint(spec) }
        host = parts[0].isEmpty || parts[0] == "localhost" ? "127.0.0.1" : String(parts[0])
        self.port = port
    }
}

public enum GDBServerError: Error, Equatable, CustomStringConvertible {
    case badEndpoint(String)
    case socket(String)
    public var description: String {
        switch self {
        case .badEndpoint(let s): "--gdb \(s): give tcp::PORT or tcp:HOST:PORT (a port from 1 to 65535)"
        case .socket(let why): "the gdb server: \(why)"
        }
    }
}

/// A GDB remote-protocol server over a machine (GDB manual, appendix E): one client at a time,
/// one thread per vCPU, registers in the 64-bit layout (`RemoteRegisters`), memory by linear
/// address through the selected vCPU's page tables, breakpoints kept outside guest memory
/// (`VirtualCPU.debuggerBreakpoints`), continue and step, Ctrl-C, `monitor icount`.
public final class GDBServer {
    public let machine: Machine
    let listener: Int32
    var client: Int32 = -1
    var reader = RemotePacketReader()
    var acknowledging = true
    /// The thread (vCPU index) register and memory requests go to.
    var selected = 0
    var breakpoints: Set<UInt64> = []
    /// Z2 (write), Z3 (read) and Z4 (access) watchpoints by their packet's kind, in the order
    /// the vCPUs number them. A read watchpoint watches every access, as x86's debug registers
    /// do (gdb itself tells a read from a write by the value).
    var watchpoints: [(kind: Int, point: DebuggerWatchpoint)] = []
    var armedWatchpoints: [DebuggerWatchpoint] { watchpoints.map(\.point) }
    /// Whether a single step on a live run may deliver an interrupt (`monitor step-interrupts`).
    var stepTakesInterrupts = false
    /// Why the guest last stopped, as a stop reply.
    var lastStop = "S05"
    /// The run ended (the guest exited): later resumes answer with its status.
    public private(set) var ended: MachineStop?
    /// Log of the session's protocol errors (bad packets), for the user.
    public var log: (String) -> Void = { FileHandle.standardError.write(Data("softvmm: gdb: \($0)\n".utf8)) }
    /// A replay's timeline (`softvmm replay --gdb`): runs go through it, and the client may go
    /// backward (`bs`, `bc`, `monitor seek`).
    public let history: ReplayHistory?
    /// Writes a snapshot file of the machine now (`monitor snapshot FILE`), where the session
    /// can.
    public var saveSnapshot: ((String) throws -> Void)?

    public init(machine: Machine, endpoint: GDBEndpoint, history: ReplayHistory? = nil) throws(GDBServerError) {
        self.machine = machine
        self.history = history
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw .socket("socket: \(String(cString: strerror(errno)))") }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = endpoint.port.bigEndian
        guard inet_pton(AF_INET, endpoint.host, &address.sin_addr) == 1 else {
            close(fd)
            throw .socket("\(endpoint.host) is not an IPv4 address")
        }
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard bound == 0, listen(fd, 1) == 0 else {
            let why = String(cString: strerror(errno))
            close(fd)
            throw .socket("cannot listen on \(endpoint.host):\(endpoint.port): \(why)")
        }
        listener = fd
    }

    deinit {
        if client >= 0 { close(client) }
        close(listener)
    }

    /// Waits for the client, then serves it until it detaches, kills the guest or goes away;
    /// returns how the run ended (nil: the debugger left with the guest still running).
    public func serve() -> MachineStop? {
        client = accept(listener, nil, nil)
        guard client >= 0 else { log("accept: \(String(cString: strerror(errno)))"); return nil }
        var one: Int32 = 1
        setsockopt(client, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        defer { close(client); client = -1 }
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            // A second client is turned away as it comes (one at a time); the first is served.
            var fds = [pollfd(fd: client, events: Int16(POLLIN), revents: 0), pollfd(fd: listener, events: Int16(POLLIN), revents: 0)]
            guard poll(&fds, 2, -1) >= 0 || errno == EINTR else { return ended }
            if fds[1].revents != 0 { refuseSecondClient() }
            guard fds[0].revents != 0 else { continue }
            let n = read(client, &buffer, buffer.count)
            if n <= 0 { return ended }      // the client went away
            for event in reader.feed(buffer[0..<n]) {
                switch event {
                case .packet(let p):
                    if acknowledging { send([0x2B]) }
                    switch handle(p) {
                    case .reply(let text): send(remotePacket(text))
                    case .replyBytes(let bytes): send(remotePacket(bytes))
                    case .detach:
                        send(remotePacket("OK"))
                        return nil
                    case .kill:
                        return ended ?? .stopped("killed by the debugger")
                    }
                case .badChecksum, .oversized:
                    log(event == .oversized ? "a packet longer than \(reader.limit) bytes was dropped" : "a packet with a bad checksum")
                    if acknowledging { send([0x2D]) }
                case .interrupt, .acknowledged, .resend:
                    break       // no run is in progress; nothing to resend that gdb lacks
                }
            }
        }
    }

    enum Outcome { case reply(String), replyBytes([UInt8]), detach, kill }

    func send(_ bytes: [UInt8]) {
        var done = 0
        while done < bytes.count {
            let n = bytes[done...].withUnsafeBytes { write(client, $0.baseAddress, $0.count) }
            if n <= 0 { return }
            done += n
        }
    }

    var vcpu: VirtualCPU { machine.vcpus[selected] }

    /// A thread id: gdb's are 1-based; -1 and 0 mean any.
    func thread(_ text: Substring) -> Int? {
        if text == "-1" || text == "0" { return selected }
        guard let n = RemoteHex.number(Array(text.utf8)), n >= 1, n <= UInt64(machine.vcpus.count) else { return nil }
        return Int(n) - 1
    }

    func handle(_ packet: [UInt8]) -> Outcome {
        let text = String(decoding: packet, as: UTF8.self)
        let body = text.dropFirst()
        switch packet.first {
        case UInt8(ascii: "?"): return .reply(lastStop)
        case UInt8(ascii: "g"): return .reply(RemoteHex.encode(RemoteRegisters.encode(vcpu.getState())))
        case UInt8(ascii: "G"):
            guard let bytes = RemoteHex.decode(packet.dropFirst()) else { return .reply("E01") }
            var s = vcpu.getState()
            guard RemoteRegisters.decode(bytes, into: &s) else { return .reply("E01") }
            vcpu.setState(s)
            return .reply("OK")
        case UInt8(ascii: "p"):
            guard let n = RemoteHex.number(Array(body.utf8)), n < UInt64(RemoteRegisters.all.count) else { return .reply("E01") }
            return .reply(RemoteHex.encode(RemoteRegisters.value(RemoteRegisters.all[Int(n)], vcpu.getState())))
        case UInt8(ascii: "P"):
            let kv = body.split(separator: "=", maxSplits: 1)
            guard kv.count == 2, let n = RemoteHex.number(Array(kv[0].utf8)), n < UInt64(RemoteRegisters.all.count),
                  let bytes = RemoteHex.decode(Array(kv[1].utf8)), bytes.count == RemoteRegisters.all[Int(n)].bits / 8 else { return .reply("E01") }
            var s = vcpu.getState()
            RemoteRegisters.set(RemoteRegisters.all[Int(n)], bytes[...], &s)
            vcpu.setState(s)
            return .reply("OK")
        case UInt8(ascii: "m"):
            let f = body.split(separator: ",")
            guard f.count == 2, let address = RemoteHex.number(Array(f[0].utf8)), let length = RemoteHex.number(Array(f[1].utf8)),
                  length <= 0x1000 else { return .reply("E01") }
            let bytes = readMemory(address, Int(length))
            return .reply(bytes.isEmpty && length > 0 ? "E14" : RemoteHex.encode(bytes))
        case UInt8(ascii: "M"), UInt8(ascii: "X"):
            guard let colon = packet.firstIndex(of: UInt8(ascii: ":")) else { return .reply("E01") }
            let f = String(decoding: packet[1..<colon], as: UTF8.self).split(separator: ",")
            guard f.count == 2, let address = RemoteHex.number(Array(f[0].utf8)), let length = RemoteHex.number(Array(f[1].utf8)) else { return .reply("E01") }
            let data = packet.first == UInt8(ascii: "X") ? Array(packet[(colon + 1)...]) : RemoteHex.decode(packet[(colon + 1)...])
            guard let data, data.count == Int(length) else { return .reply("E01") }
            return .reply(writeMemory(address, data) ? "OK" : "E14")
        case UInt8(ascii: "Z"), UInt8(ascii: "z"):
            let f = body.split(separator: ",")
            guard f.count >= 2, let kind = Int(f[0]), let address = RemoteHex.number(Array(f[1].utf8)) else { return .reply("E01") }
            if (2...4).contains(kind) {
                guard f.count >= 3, let length = RemoteHex.number(Array(f[2].utf8)), (1...4096).contains(length) else { return .reply("E01") }
                let w = DebuggerWatchpoint(address: address, length: length, writesOnly: kind == 2)
                if packet.first == UInt8(ascii: "Z") {
                    if !watchpoints.contains(where: { $0.kind == kind && $0.point == w }) { watchpoints.append((kind, w)) }
                } else {
                    watchpoints.removeAll { $0.kind == kind && $0.point == w }
                }
                for v in machine.vcpus { v.debuggerWatchpoints = armedWatchpoints }
                return .reply("OK")
            }
            // Software and hardware breakpoints alike: outside guest memory, any number.
            guard kind == 0 || kind == 1 else { return .reply("") }
            if packet.first == UInt8(ascii: "Z") { breakpoints.insert(address) } else { breakpoints.remove(address) }
            for v in machine.vcpus { v.debuggerBreakpoints = breakpoints }
            return .reply("OK")
        case UInt8(ascii: "c"): return resume(step: false)
        case UInt8(ascii: "s"): return resume(step: true)
        case UInt8(ascii: "b"):
            guard history != nil else { return .reply("") }
            if text == "bs" { return reverseStep() }
            if text == "bc" { return reverseContinue() }
            return .reply("")
        case UInt8(ascii: "H"):
            guard let t = thread(body.dropFirst()) else { return .reply("E01") }
            selected = t
            return .reply("OK")
        case UInt8(ascii: "T"): return .reply(thread(body) != nil ? "OK" : "E01")
        case UInt8(ascii: "D"): return .detach
        case UInt8(ascii: "k"): return .kill
        case UInt8(ascii: "v"):
            if text == "vCont?" { return .reply("vCont;c;C;s;S") }
            if text.hasPrefix("vCont;") {
                // The first action decides (gdb sends one for the thread it steps, c for the rest).
                let action = text.dropFirst(6).split(separator: ";").first ?? ""
                if let colon = action.firstIndex(of: ":"), let t = thread(action[action.index(after: colon)...]) { selected = t }
                return resume(step: action.hasPrefix("s") || action.hasPrefix("S"))
            }
            return .reply("")
        case UInt8(ascii: "q"), UInt8(ascii: "Q"): return query(text)
        default: return .reply("")
        }
    }

    func query(_ q: String) -> Outcome {
        if q.hasPrefix("qSupported") {
            let reverse = history != nil ? ";ReverseStep+;ReverseContinue+" : ""
            return .reply("PacketSize=\(String(reader.limit, radix: 16));qXfer:features:read+;swbreak+;hwbreak+;vContSupported+;QStartNoAckMode+" + reverse)
        }
        if q == "QStartNoAckMode" { acknowledging = false; return .reply("OK") }
        if q.hasPrefix("qXfer:features:read:target.xml:") {
            let f = q.dropFirst("qXfer:features:read:target.xml:".count).split(separator: ",")
            guard f.count == 2, let offset = RemoteHex.number(Array(f[0].utf8)), let length = RemoteHex.number(Array(f[1].utf8)) else { return .reply("E01") }
            let xml = Array(RemoteRegisters.targetDescription.utf8)
            let start = min(Int(offset), xml.count), end = min(start + Int(length), xml.count)
            return .replyBytes([UInt8(ascii: end == xml.count ? "l" : "m")] + xml[start..<end])
        }
        if q.hasPrefix("qXfer:") { return .reply("E00") }
        if q == "qfThreadInfo" { return .reply("m" + (1...machine.vcpus.count).map { String($0, radix: 16) }.joined(separator: ",")) }
        if q == "qsThreadInfo" { return .reply("l") }
        if q == "qC" { return .reply("QC" + String(selected + 1, radix: 16)) }
        if q.hasPrefix("qAttached") { return .reply("1") }
        if q == "qSymbol::" { return .reply("OK") }
        if q.hasPrefix("qThreadExtraInfo,") {
            let t = thread(q.dropFirst("qThreadExtraInfo,".count)) ?? 0
            let v = machine.vcpus[t]
            return .reply(RemoteHex.encode(Array("vCPU \(t), \(v.retired) instructions".utf8)))
        }
        if q.hasPrefix("qRcmd,") {
            guard let raw = RemoteHex.decode(Array(q.dropFirst(6).utf8)) else { return .reply("E01") }
            let command = String(decoding: raw, as: UTF8.self).trimmingCharacters(in: .whitespaces)
            send(remotePacket("O" + RemoteHex.encode(Array(monitor(command).utf8))))
            return .reply("OK")
        }
        return .reply("")
    }

    /// A `monitor` command's answer.
    func monitor(_ command: String) -> String {
        let words = command.split(separator: " ", omittingEmptySubsequences: true)
        switch (words.first ?? "", words.count) {
        case ("icount", 1): return "\(machine.icount)\n"
        case ("info", 2) where words[1] == "registers": return vcpu.stateDump + "\n"
        case ("step-interrupts", 2) where words[1] == "on" || words[1] == "off":
            stepTakesInterrupts = words[1] == "on"
            return "single steps \(stepTakesInterrupts ? "take" : "hold back") interrupts\n"
        case ("state", 1): return machine.vcpuStates + "\n"
        case ("state", 2) where words[1] == "memory": return machine.finalState
        case ("seek", 2):
            guard let history else { return "softvmm: monitor seek needs a replay (softvmm replay TRACE --gdb)\n" }
            guard let target = UInt64(words[1]) else { return "softvmm: monitor seek ICOUNT: \"\(words[1])\" is not a count\n" }
            let stop = disarmed { try? history.seek(to: target) }
            _ = stoppedHere()
            let note = stop == .limit || stop == history.ending ? "" : " (\(stop.map { "\($0)" } ?? "failed"))"
            return "at icount \(machine.icount) of \(history.begin)-\(history.end)\(note); gdb's registers are stale until \"maintenance flush register-cache\"\n"
        case ("history", 1):
            guard let history else { return "softvmm: no history: this is a live run\n" }
            let c = history.checkpoints
            return "icount \(machine.icount) of \(history.begin)-\(history.end); checkpoints: \(c.lasting) every \(history.interval) instructions, \(c.fine) finer; \(history.rewinds) rewinds\n"
        case ("snapshot", 2):
            guard let saveSnapshot else { return "softvmm: monitor snapshot is not available in this session\n" }
            do { try saveSnapshot(String(words[1])) } catch { return "softvmm: snapshot \(words[1]): \(error)\n" }
            return "snapshot of icount \(machine.icount) written to \(words[1])\n"
        default:
            return "softvmm: unknown monitor command \"\(command)\" (icount, info registers, state [memory], snapshot FILE, step-interrupts on|off"
                + (history != nil ? ", seek ICOUNT, history" : "") + ")\n"
        }
    }

    // MARK: running

    /// Continues (or steps one instruction) until a breakpoint, Ctrl-C or the guest's end.
    func resume(step: Bool) -> Outcome {
        if let ended { return .reply(exitReply(ended)) }
        if let history, history.atEnd { return .reply(replayEnd) }
        for v in machine.vcpus { v.resumeFromBreakpoint() }
        // A live step runs the selected vCPU alone, and its next instruction rather than the
        // handler of an interrupt that came meanwhile (unless asked: monitor step-interrupts
        // on; a halted vCPU only an interrupt moves). A replay must go as it was recorded: its
        // step is the next instruction of whichever vCPU ran it.
        if step && history == nil {
            machine.pinnedVCPU = machine.vcpus.count > 1 ? selected : nil
            machine.holdsInterrupts = !stepTakesInterrupts && !machine.vcpus[selected].halted
        }
        defer { machine.pinnedVCPU = nil; machine.holdsInterrupts = false }
        let stop = execute(until: step ? machine.icount + 1 : nil)
        return .reply(stopReply(stop))
    }

    /// The stop reply at the end of a replay's history (either way): gdb says "No more
    /// reverse-execution history" and the session goes on.
    var replayEnd: String { stopPacket(selected, "replaylog:end;") }

    /// A stop reply for vCPU `v` (gdb's thread v + 1), the reason's fields after the thread.
    func stopPacket(_ v: Int, _ reason: String = "", signal: String = "05") -> String {
        "T\(signal)thread:\(String(v + 1, radix: 16));\(reason)"
    }

    /// The running vCPU becomes the selected thread, and its stop (with `reason`) the last.
    func stoppedHere(_ reason: String = "") -> Outcome {
        selected = machine.currentVCPU
        lastStop = stopPacket(selected, reason)
        return .reply(lastStop)
    }

    /// Runs the machine (through the history on a replay) until `target` or a stop, Ctrl-C
    /// reaching the run between slices.
    func execute(until target: UInt64?) -> MachineStop {
        let interval = machine.progressInterval, previous = machine.onProgress
        machine.progressInterval = 1 << 18
        machine.onProgress = { [unowned self] v in
            previous?(v)
            if interruptRequested() { machine.requestStop(GDBServer.interruptReason) }
        }
        defer {
            machine.progressInterval = interval
            machine.onProgress = previous
            machine.stopAt = nil
        }
        if let history {
            do { return try history.run(to: target) } catch { return .error("the replay's checkpoint: \(error)") }
        }
        machine.stopAt = target
        return machine.run()
    }

    /// Runs with the debugger's breakpoints and watchpoints out of the way (a seek).
    func disarmed<T>(_ body: () -> T) -> T {
        for v in machine.vcpus { v.debuggerBreakpoints = []; v.debuggerWatchpoints = [] }
        defer {
            for v in machine.vcpus {
                _ = v.takeWatchHits()
                v.debuggerBreakpoints = breakpoints
                v.debuggerWatchpoints = armedWatchpoints
            }
        }
        return body()
    }

    /// The stop reply for how a run stopped (and the selected thread becomes the one that
    /// stopped).
    func stopReply(_ stop: MachineStop) -> String {
        switch stop {
        case .breakpoint(let v):
            selected = v
            lastStop = stopPacket(v, watchHit(v) ?? "swbreak:;")
        case .limit:
            selected = machine.currentVCPU
            lastStop = history?.atEnd == true ? replayEnd : stopPacket(selected)
        case .stopped(let why) where why == GDBServer.interruptReason:
            machine.clearStopRequest()
            selected = machine.currentVCPU
            lastStop = stopPacket(selected, signal: "02")
        default:
            if let history {
                // The recorded run's end (or a divergence, reported): the history stays.
                selected = machine.currentVCPU
                if !history.atEnd { log("the replay stopped at icount \(machine.icount): \(stop)") }
                lastStop = history.atEnd ? replayEnd : stopPacket(selected)
            } else {
                ended = stop
                lastStop = exitReply(stop)
            }
        }
        return lastStop
    }

    /// The stop reply's reason when vCPU `v` stopped at a watchpoint (`watch:ADDR;`, `rwatch:`,
    /// `awatch:`), nil for a breakpoint.
    func watchHit(_ v: Int) -> String? {
        guard let i = machine.vcpus[v].takeWatchHits().first(where: { $0 < watchpoints.count }) else { return nil }
        let (kind, w) = watchpoints[i]
        return ["watch", "rwatch", "awatch"][kind - 2] + ":" + String(w.address, radix: 16) + ";"
    }

    // MARK: going backward (a replay)

    /// One instruction back: the state the run had one instruction earlier.
    func reverseStep() -> Outcome {
        guard let history else { return .reply("E01") }
        let now = machine.icount
        guard now > history.begin else { return .reply(stopPacket(selected, "replaylog:begin;")) }
        guard seek(history, to: now - 1) else { return .reply("E02") }
        return stoppedHere()
    }

    /// Goes to `icount` with the breakpoints and watchpoints out of the way; whether it got
    /// there.
    func seek(_ history: ReplayHistory, to icount: UInt64) -> Bool {
        disarmed { try? history.seek(to: icount) } == .limit && machine.icount == icount
    }

    /// Back to the last breakpoint or watchpoint hit before now: each stretch between lasting
    /// checkpoints, latest first, is replayed with them armed, and the last hit in it (before
    /// now) is where the run goes. A breakpoint stops before its instruction; a watchpoint
    /// stops before the instruction that touched it (going backward, the access is undone).
    /// With no hit, the history's start.
    func reverseContinue() -> Outcome {
        guard let history else { return .reply("E01") }
        let now = machine.icount
        var high = now
        while high > history.begin {
            let low = history.checkpointBefore(high)
            guard seek(history, to: low) else { return .reply("E02") }
            var last: (icount: UInt64, vcpu: Int, reason: String)?
            while machine.icount < high {
                for v in machine.vcpus { v.resumeFromBreakpoint() }
                let stop = execute(until: high)
                guard case .breakpoint(let v) = stop else {
                    if case .stopped(let why) = stop, why == GDBServer.interruptReason { return .reply(stopReply(stop)) }
                    break
                }
                if let hit = watchHit(v) {
                    last = (machine.icount - 1, v, hit)
                } else if machine.icount < now {
                    last = (machine.icount, v, "swbreak:;")
                }
            }
            if let last {
                guard seek(history, to: last.icount) else { return .reply("E02") }
                selected = machine.currentVCPU
                lastStop = stopPacket(last.vcpu, last.reason)
                return .reply(lastStop)
            }
            high = low
        }
        _ = seek(history, to: history.begin)
        return stoppedHere("replaylog:begin;")
    }

    static let interruptReason = "interrupted by the debugger (Ctrl-C)"

    /// The guest ended: W with the status softvmm would exit with.
    func exitReply(_ stop: MachineStop) -> String { "W" + String(format: "%02x", UInt8(truncatingIfNeeded: stop.status)) }

    /// Accepts a client that came while one is served and closes its connection at once.
    func refuseSecondClient() {
        let other = accept(listener, nil, nil)
        guard other >= 0 else { return }
        close(other)
        log("a second client was turned away (one client at a time)")
    }

    /// Whether the client sent Ctrl-C (read without waiting; other bytes are kept).
    func interruptRequested() -> Bool {
        var fds = [pollfd(fd: client, events: Int16(POLLIN), revents: 0), pollfd(fd: listener, events: Int16(POLLIN), revents: 0)]
        guard poll(&fds, 2, 0) > 0 else { return false }
        if fds[1].revents != 0 { refuseSecondClient() }
        guard fds[0].revents != 0 else { return false }
        var buffer = [UInt8](repeating: 0, count: 4096)
        let n = read(client, &buffer, buffer.count)
        guard n > 0 else { return true }        // the client went away: stop
        var interrupted = false
        for e in reader.feed(buffer[0..<n]) where e == .interrupt { interrupted = true }
        return interrupted
    }

    // MARK: memory

    /// Bytes at a linear address through the selected vCPU's paging, up to the first that
    /// cannot be read.
    func readMemory(_ address: UInt64, _ length: Int) -> [UInt8] {
        var out: [UInt8] = []
        var at = address
        while out.count < length {
            let n = min(length - out.count, Int(0x1000 - at & 0xFFF))
            guard let gpa = vcpu.debuggerTranslate(at), let bytes = machine.vm.readPhysical(gpa, count: n) else { break }
            out += bytes
            at &+= UInt64(n)
        }
        return out
    }

    /// Writes at a linear address (decoded code there is dropped, as for a device's DMA).
    func writeMemory(_ address: UInt64, _ data: [UInt8]) -> Bool {
        var done = 0, at = address
        while done < data.count {
            let n = min(data.count - done, Int(0x1000 - at & 0xFFF))
            guard let gpa = vcpu.debuggerTranslate(at), machine.vm.dmaWrite(gpa, Array(data[done..<done + n])) else { return false }
            done += n
            at &+= UInt64(n)
        }
        return true
    }
}
