import ArgumentParser
import Debugger
import Foundation
import GuestMemory
import Replay
import VMM
import Monitor
import X86
import X86Decoder

struct Record: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a guest as `softvmm run` does and write a trace of the run (Sources/Replay/Trace.swift).",
        discussion: "softvmm record -o TRACE -- IMAGE [run options]. The trace holds the run's settings, the images' SHA-256 and every exit with its instruction count and RIP.")

    @Option(name: .short, help: "The trace file to write.") var output: String
    @Argument(parsing: .captureForPassthrough, help: "The image and `softvmm run`'s options.") var arguments: [String] = []

    func run() throws {
        let args = arguments.first == "--" ? Array(arguments.dropFirst()) : arguments
        let command = try Run.parse(args + ["--record", output])
        if command.realtime {
            // Its guest time follows the host clock, whose reads do not go through the seam yet.
            throw ValidationError("a --realtime run cannot be recorded: its host-clock reads are not in the trace, so it would not replay")
        }
        try command.run()
    }
}

struct TraceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "trace", abstract: "Read traces.", subcommands: [Show.self])

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print a trace: its header, then one event a line.")
        @Argument(help: "The trace file.") var trace: String
        @Flag(help: "One JSON object a line.") var json = false

        func run() throws {
            guard let data = FileManager.default.contents(atPath: trace) else { throw ValidationError("cannot read \(trace)") }
            let t: Trace
            do { t = try Trace(bytes: [UInt8](data)) } catch { throw ValidationError("\(trace): \(error)") }
            if json {
                func quoted(_ s: String) -> String {
                    "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
                }
                let images = t.header.images.map { "{\"name\":\(quoted($0.name)),\"sha256\":\"\(SHA256.hex($0.sha256))\"}" }
                print("{\"version\":\(TraceFormat.version),\"configuration\":\(quoted(t.header.configuration)),\"images\":[\(images.joined(separator: ","))],\"events\":\(t.events.count),\"icount\":\(t.finalICount)}")
                for e in t.events { print(e.json) }
            } else {
                print("trace version \(TraceFormat.version): \(t.events.count) events, \(t.finalICount) instructions")
                print("configuration:")
                for line in t.header.configuration.split(separator: "\n") { print("  \(line)") }
                for image in t.header.images { print("image \(image.name): sha256 \(SHA256.hex(image.sha256))") }
                for e in t.events { print(e) }
            }
        }
    }
}

struct ReplayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Run a recorded guest again, feeding its inputs back, and check every exit, nested fault and input against the trace.",
        discussion: """
            The first difference stops the run and is reported: the event's index, the instruction count and RIP, the \
            expected and the actual event, and the instructions before it. Exit status 0 when the run matches the trace \
            to its end, 1 on a divergence, 2 when the trace or an image cannot be used.
            """)

    @Argument(help: "The trace file.") var trace: String
    @Option(name: .customLong("image"), help: "An image, where it is not at the path the trace names (give one per recorded image, in order).")
    var images: [String] = []
    @Option(help: "Stop once this many instructions have retired and print the vCPU's state.") var to: UInt64?
    @Option(help: "Where COM1's output goes: stdio, none or a file.") var serial = "stdio"
    @Option(help: "How many instructions to list before a divergence.") var last = 16
    @Option(help: ArgumentHelp("Serve gdb's remote protocol over the replay on tcp::PORT (localhost) or tcp:HOST:PORT, with reverse execution (reverse-stepi, reverse-continue, monitor seek ICOUNT).", valueName: "endpoint"))
    var gdb: String?
    @Option(help: "With --gdb: instructions between the checkpoints reverse execution goes back to.")
    var checkpointInterval: UInt64 = ReplayCommand.defaultCheckpointInterval

    /// Replaying this many instructions takes well under a second here (about 250 million a
    /// second on a Linux boot), the most a reverse step replays from a lasting checkpoint.
    static let defaultCheckpointInterval: UInt64 = 20_000_000

    func run() throws {
        guard let data = FileManager.default.contents(atPath: trace) else { throw ValidationError("cannot read \(trace)") }
        let session: ReplaySession
        do {
            let t = try Trace(bytes: [UInt8](data))
            guard images.isEmpty || images.count == t.header.images.count else {
                throw ValidationError("the trace names \(t.header.images.count) images; --image was given \(images.count) times")
            }
            let paths = images.isEmpty ? t.header.images.map { name in
                name.name.hasPrefix(ReplaySession.snapshotPrefix) ? String(name.name.dropFirst(ReplaySession.snapshotPrefix.count)) : name.name
            } : images
            let contents = try paths.map { path in
                guard let d = FileManager.default.contents(atPath: path) else {
                    throw ValidationError("cannot read the image \(path) (give its path with --image)")
                }
                return (name: path, contents: [UInt8](d))
            }
            session = try ReplaySession(trace: t, images: contents)
        } catch let e as TraceError {
            FileHandle.standardError.write(Data("softvmm: \(trace): \(e)\n".utf8))
            throw ExitCode(2)
        }
        let sink = try SerialSink(serial)
        if let gdb { return try debug(session, endpoint: gdb, sink: sink) }
        let host = try HostPhysicalMemory(frames: Int(session.configuration.memorySize >> 12) + 4096)
        let (machine, replayer) = try session.makeMachine(host: host, serialOutput: sink.put)
        defer { machine.teardown() }
        let (out, errors) = StreamSink.commandOutput(machine)
        defer { out.flush(); errors.flush() }
        machine.stopAt = to
        let stop = machine.run()
        sink.flush()
        out.flush()
        errors.flush()
        let err = FileHandle.standardError
        if let to, stop == .limit, machine.icount == to, replayer.divergence == nil {
            print("softvmm: replay reached icount \(to) (\(replayer.position) of \(session.trace.events.count) events matched)")
            print(machine.finalState, terminator: "")
            return
        }
        guard let d = replayer.finish(stop) else {
            err.write(Data("softvmm: replay matched all \(session.trace.events.count) events; the run ended as recorded at icount \(machine.icount) (\(stop))\n".utf8))
            if let to { err.write(Data("softvmm: the run ended before icount \(to)\n".utf8)) }
            return
        }
        var report = "softvmm: replay \(d)\n"
        if last > 0 {
            let executed = try session.instructions(upTo: d.icount, count: last)
            report += "  the last \(executed.count) instructions (icount: the count retired before each):\n"
            for e in executed {
                report += "    \(e.icount)  \(instructionListing(rip: e.rip, bytes: e.bytes, mode: e.mode))\n"
            }
        }
        err.write(Data(report.utf8))
        throw ExitCode(1)
    }

    /// `--gdb`: the replay as a history gdb moves along both ways. Output the guest produced
    /// before is not shown again when the replay passes it a second time.
    func debug(_ session: ReplaySession, endpoint: String, sink: SerialSink) throws {
        let frames = Int(session.configuration.memorySize >> 12)
        // Checkpoints hold the pages written after them.
        let host = try HostPhysicalMemory(frames: ReplayHistory.hostFrames(guestFrames: frames))
        var history: ReplayHistory?
        let isNew = { history?.isNew ?? true }
        let (machine, replayer) = try session.makeMachine(host: host, strict: false) { byte in if isNew() { sink.put(byte) } }
        defer { machine.teardown() }
        let (out, errors) = StreamSink.commandOutput(machine, shown: isNew)
        defer { sink.flush(); out.flush(); errors.flush() }
        let h = try ReplayHistory(machine: machine, replayer: replayer, interval: checkpointInterval,
                                  frameBudget: ReplayHistory.frameBudget(guestFrames: frames))
        history = h
        defer { h.release() }
        let server: GDBServer
        do { server = try GDBServer(machine: machine, endpoint: try GDBEndpoint(parsing: endpoint), history: h) } catch {
            throw ValidationError("\(error)")
        }
        FileHandle.standardError.write(Data("softvmm: waiting for gdb on \(endpoint): the replay of \(trace), icount \(h.begin) to \(h.end)\n".utf8))
        _ = server.serve()
    }
}
