import ArgumentParser
import CPUCheck
import Debugger
import Foundation
import GuestMemory
import Replay
import VMM
import Monitor
import X86

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Boot a guest (Multiboot, ELF or a flat boot sector) and run it to its end.",
        discussion: """
            The exit status is the guest's debug-exit status as QEMU reports it ((code << 1) | 1 \
            for a write of code to port 0xf4), 0 after a triple fault (QEMU with -no-reboot), \
            2 for a halt nothing can end, 3 at the instruction limit, 4 for an error.
            """)

    @Argument(help: "The kernel image (or give it with --kernel).") var image: String?
    @Option(help: "The kernel image: a bzImage or vmlinux (Linux), Multiboot, ELF or a flat boot sector.") var kernel: String?
    @Option(name: .customShort("m"), help: "Guest RAM (suffix K, M or G).") var memory = "64M"
    @Option(help: "The kernel command line.") var append = ""
    @Option(help: "An initial ramdisk (a Multiboot module).") var initrd: String?
    @Option(help: "Where COM1's output goes: stdio or a file.") var serial = "stdio"
    @Option(help: "A file whose bytes COM1 receives (there from the start: runs repeat).") var serialInput: String?
    @Option(help: "Stop after this many instructions.") var maxInstructions: UInt64?
    @Flag(help: "Guest time from the host's clock instead of the instruction count (runs no longer repeat).") var realtime = false
    @Option(help: "Where the test MMIO device sits (two pages; inside RAM it cuts a hole).") var testDevice: String?
    @Option(help: "The CPU model, as QEMU's -cpu: max (Intel), EPYC (AMD) or host (the host's vendor), then ,-feature to hide one (such as max,-la57,-pcid).") var cpu = "max"
    @Flag(help: "Print instructions, MIPS, exits by kind, nested faults and the TLB hit rate.") var stats = false
    /// Set by `softvmm record`: the trace to write.
    @Option(help: .hidden) var record: String?
    @Option(help: "Take a snapshot once this many instructions have retired (with --snapshot), then run on.") var snapshotAt: UInt64?
    @Option(help: "The snapshot file --snapshot-at writes (softvmm restore runs it on).") var snapshot: String?
    @Option(help: "At the end, write the vCPU's state and a hash of guest memory to this file.") var dumpState: String?
    @Option(help: "Sample RIP every 9,973 instructions and write the guest's hottest places to this file.") var profile: String?
    @Option(help: "Name the profile's places by this symbol table (a System.map: address, type, name).") var symbols: String?
    @Option(help: ArgumentHelp("A virtio block device on a raw image: file=IMG[,format=raw][,readonly=on][,snapshot=on|off]. The guest's writes go to an overlay in memory unless snapshot=off asks for the file. Repeatable.", valueName: "drive")) var drive: [String] = []
    @Option(help: ArgumentHelp("Share a host directory over virtio-9p (9P2000.L): HOSTDIR[,tag=T][,readonly]. The guest mounts it with mount -t 9p -o trans=virtio,version=9p2000.L T DIR; nothing outside HOSTDIR is reachable. Tags default to share0, share1, ... Repeatable.", valueName: "share")) var share: [String] = []
    @Option(help: "Add a device: pc-testdev (QEMU's test device, which kvm-unit-tests drives) or virtio-rng (a virtio entropy device on PCI). Repeatable.") var device: [String] = []
    @Option(help: "The vCPUs (1 to 64): run in turn on one thread, deterministically.") var smp = 1
    @Option(help: "What runs the guest's instructions: jit (warm blocks translated to host code; x86-64 hosts), interp (the interpreter alone) or lockstep (the machine twice, one under each, compared as they run; the first difference is reported). Default: SOFTVMM_ENGINE, else jit where it can run.") var engine: RunEngine?
    @Option(help: "With --engine lockstep: instructions between comparisons of the vCPUs' state and the output.") var lockstepInterval: UInt64 = 10_000
    @Option(help: "With --engine lockstep: instructions between comparisons of guest memory.") var lockstepMemoryInterval: UInt64 = 1 << 24
    @Option(help: ArgumentHelp("Wait for gdb's remote protocol on tcp::PORT (localhost) or tcp:HOST:PORT before the first instruction; one thread per vCPU.", valueName: "endpoint")) var gdb: String?
    @Option(help: "Instructions each vCPU runs before the next takes its turn (with --smp).") var quantum = MachineConfiguration.defaultQuantum

    func run() throws {
        guard let image = kernel ?? image else { throw ValidationError("give the kernel image (an argument, or --kernel FILE)") }
        guard kernel == nil || self.image == nil else { throw ValidationError("give the kernel image once: an argument or --kernel") }
        guard let bytes = FileManager.default.contents(atPath: image) else { throw ValidationError("cannot read \(image)") }
        guard let ram = Run.parseSize(memory), ram >= 2 << 20, ram <= 3 << 30 else {
            throw ValidationError("-m \(memory): give a size from 2M to 3G, such as 256M")
        }
        var config = MachineConfiguration()
        config.memorySize = ram
        config.commandLine = append
        if let initrd {
            guard let d = FileManager.default.contents(atPath: initrd) else {
                throw ValidationError("cannot read the initrd \(initrd): \(FileManager.default.fileExists(atPath: initrd) ? "permission denied" : "no such file")")
            }
            config.initrd = [UInt8](d)
        }
        if let maxInstructions { config.maxInstructions = maxInstructions }
        guard (1...MachineConfiguration.maxProcessors).contains(smp) else {
            throw ValidationError("--smp \(smp): give 1 to \(MachineConfiguration.maxProcessors) vCPUs")
        }
        guard quantum > 0 else { throw ValidationError("--quantum 0: give at least one instruction") }
        config.processors = smp
        if let engine, let e = engine.executionEngine { config.engine = e }
        config.quantum = quantum
        config.realtime = realtime
        if let serialInput {
            guard let d = FileManager.default.contents(atPath: serialInput) else { throw ValidationError("cannot read \(serialInput)") }
            config.serialInput = [UInt8](d)
        }
        do { try config.setCPU(Run.resolvingHost(cpu)) } catch { throw ValidationError("--cpu \(cpu): \(error)") }
        if let testDevice {
            let digits = testDevice.hasPrefix("0x") ? String(testDevice.dropFirst(2)) : testDevice
            guard let base = UInt64(digits, radix: testDevice.hasPrefix("0x") ? 16 : 10), base & 0xFFF == 0 else {
                throw ValidationError("--test-device \(testDevice): give a page-aligned address such as 0x3f00000")
            }
            config.testDeviceBase = base
        }
        for d in device {
            switch d {
            case "pc-testdev": config.pcTestDevice = true
            case "virtio-rng": config.virtioRNG = true
            default: throw ValidationError("--device \(d): unknown device (softvmm has pc-testdev and virtio-rng)")
            }
        }
        let sink = try SerialSink(serial)
        if engine == .lockstep { return try runLockstep(config, image: image, bytes: [UInt8](bytes), sink: sink) }
        // A terminal on standard input, COM1 on standard output, and no scripted input: the
        // interactive console.
        let interactive = isatty(0) != 0 && serial == "stdio" && serialInput == nil
        let host = try HostPhysicalMemory(frames: Int(ram >> 12) + 4096)
        // Why a snapshot (--snapshot, or gdb's monitor snapshot) is refused, if it is: it does
        // not hold the disks' overlays yet, nor the share servers' open files (the host's).
        var unsnapshottable: String?
        let disks = try Run.openDrives(drive, recording: record != nil, into: &config)
        if !disks.isEmpty { unsnapshottable = "--drive cannot be snapshotted yet (the overlay is not saved)" }
        if let unsnapshottable, snapshot != nil { throw ValidationError(unsnapshottable) }
        let servers = try Run.openShares(share, into: &config)
        if !servers.isEmpty && unsnapshottable == nil { unsnapshottable = "--share cannot be snapshotted (the server's open files are the host's)" }
        if let unsnapshottable, snapshot != nil { throw ValidationError(unsnapshottable) }
        let machine = try Machine(configuration: config, host: host, disks: disks, shares: servers, serialOutput: sink.put)
        // The images' SHA-256 goes into a trace's or a snapshot's header; hashing a 65 MB vmlinux
        // takes most of a second, so only a run that writes one pays for it.
        let kernelBytes = bytes, initrdBytes = config.initrd, initrdName = initrd, kernelName = image
        let namedImages = { () throws -> [TraceImage] in
            var images = [TraceImage(name: kernelName, contents: [UInt8](kernelBytes))]
            if let initrdBytes, let initrdName { images.append(TraceImage(name: initrdName, contents: initrdBytes)) }
            // The disks after them, each hashed whole (the replay checks the image is the same).
            for disk in disks {
                guard let bytes = FileManager.default.contents(atPath: disk.path) else { throw ValidationError("cannot read \(disk.path)") }
                images.append(TraceImage(name: disk.path, contents: [UInt8](bytes)))
            }
            return images
        }
        let images = record != nil || snapshot != nil ? try namedImages() : []
        do {
            try machine.boot(image: [UInt8](bytes))
        } catch {
            throw ValidationError("\(image): \(error)")
        }
        var console: TerminalInput?
        if interactive {
            let c = TerminalInput(now: { [unowned machine] in machine.point },
                                  quit: { [unowned machine] in machine.requestStop("quit from the console (Ctrl-A X)") })
            machine.input = c
            sink.immediate = true
            c.enterRawMode()
            console = c
        }
        defer { console?.restore() }
        var session = RunSession(machine: machine, host: host, sink: sink, images: images, record: record, stats: stats,
                                 snapshotAt: snapshotAt, snapshotFile: snapshot, dumpState: dumpState,
                                 profile: try profile.map { try GuestProfile(output: $0, symbols: symbols) })
        if let gdb {
            guard snapshotAt == nil else { throw ValidationError("--gdb and --snapshot-at cannot be combined yet") }
            let server: GDBServer
            do { server = try GDBServer(machine: machine, endpoint: try GDBEndpoint(parsing: gdb)) } catch { throw ValidationError("\(error)") }
            // monitor snapshot FILE: the images named as a snapshot taken with --snapshot-at would.
            server.saveSnapshot = { [unowned machine, unsnapshottable] path in
                if let unsnapshottable { throw ValidationError(unsnapshottable) }
                try RunSession.writeSnapshot(machine, images: try namedImages(), to: path)
            }
            FileHandle.standardError.write(Data("softvmm: waiting for gdb on \(gdb)\n".utf8))
            session.showProgress = false
            session.debugSession = { server.serve() }
        }
        if let console {
            // Keys reach the guest within about 10 ms of guest work; no progress line on the
            // console; the terminal back to normal before the stop is reported.
            machine.progressInterval = 1 << 20
            session.showProgress = false
            session.afterRun = { console.restore() }
        }
        try session.run()
    }

    /// `--engine lockstep`: the machine under each engine, compared as they run (Monitor's
    /// `Lockstep`); the translator's output is the run's. The status is the stop's, or 4 when
    /// the engines differ.
    func runLockstep(_ config: MachineConfiguration, image: String, bytes: [UInt8], sink: SerialSink) throws {
        let refused: [(Bool, String)] = [(gdb != nil, "--gdb"), (record != nil, "record"), (snapshot != nil || snapshotAt != nil, "--snapshot"),
                                         (realtime, "--realtime"), (!share.isEmpty, "--share"), (profile != nil, "--profile"),
                                         (dumpState != nil, "--dump-state")]
        if let (_, what) = refused.first(where: { $0.0 }) { throw ValidationError("--engine lockstep cannot be combined with \(what)") }
        guard lockstepInterval > 0, lockstepMemoryInterval > 0 else { throw ValidationError("--lockstep-interval: give at least one instruction") }
        let drives = drive
        let lockstep = Lockstep(interval: lockstepInterval, memoryInterval: lockstepMemoryInterval) { engine, output in
            var c = config
            c.engine = engine
            // Each machine its own overlay over the images.
            let disks = try Run.openDrives(drives, recording: false, overlay: true, into: &c)
            let host = try HostPhysicalMemory(frames: Int(c.memorySize >> 12) + 4096)
            let machine = try Machine(configuration: c, host: host, disks: disks, serialOutput: output)
            do { try machine.boot(image: bytes) } catch {
                machine.teardown()
                throw ValidationError("\(image): \(error)")
            }
            return machine
        }
        lockstep.serialOutput = sink.put
        let terminal = isatty(2) != 0
        let start = Date()
        var last = start
        lockstep.onProgress = { icount in
            guard terminal, Date().timeIntervalSince(last) >= 1 else { return }
            last = Date()
            FileHandle.standardError.write(Data(String(format: "\rsoftvmm: lockstep, %.0f s, %llu instructions ", last.timeIntervalSince(start), icount).utf8))
        }
        let outcome = try lockstep.run()
        sink.flush()
        if terminal { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
        let seconds = String(format: "%.1f", Date().timeIntervalSince(start))
        switch outcome {
        case .alike(let stop, let icount):
            FileHandle.standardError.write(Data(("softvmm: \(stop)\nsoftvmm: lockstep: jit and interp alike over \(icount) instructions " +
                "(\(lockstep.comparisons) comparisons of every vCPU's state and the output, \(lockstep.memoryComparisons) of guest memory; \(seconds) s)\n").utf8))
            throw ExitCode(stop.status)
        case .differ(let d):
            FileHandle.standardError.write(Data("softvmm: lockstep: \(d)\nsoftvmm: lockstep: found in \(lockstep.comparisons) comparisons, narrowed in \(lockstep.narrowingRuns) runs from the start (\(seconds) s)\n".utf8))
            throw ExitCode(4)
        }
    }

    /// `--drive`'s value: the image, read-only, and whether writes reach the file.
    static func parseDrive(_ spec: String) throws -> (path: String, readOnly: Bool, writesToFile: Bool) {
        var path: String?, readOnly = false, toFile = false
        for part in spec.split(separator: ",") {
            let kv = part.split(separator: "=", maxSplits: 1).map(String.init)
            guard kv.count == 2 else { throw ValidationError("--drive \(spec): \"\(part)\" is not key=value") }
            switch (kv[0], kv[1]) {
            case ("file", let f): path = f
            case ("format", "raw"), ("if", "virtio"), ("media", "disk"): break
            case ("format", let f): throw ValidationError("--drive \(spec): format \(f): softvmm reads raw images only")
            case ("readonly", "on"): readOnly = true
            case ("readonly", "off"): readOnly = false
            case ("snapshot", "on"): toFile = false
            case ("snapshot", "off"): toFile = true
            default: throw ValidationError("--drive \(spec): \(part) is not an option softvmm knows")
            }
        }
        guard let path else { throw ValidationError("--drive \(spec): no file=") }
        return (path, readOnly, toFile)
    }

    /// The `--drive` images opened, each added to the configuration.
    /// `overlay`: the guest's writes stay in memory even where a drive asks for its file
    /// (snapshot=off), as each of lockstep's two machines needs.
    static func openDrives(_ specs: [String], recording: Bool, overlay: Bool = false, into config: inout MachineConfiguration) throws -> [DiskImage] {
        try specs.map { d in
            let (path, readOnly, asked) = try Run.parseDrive(d)
            let toFile = asked && !overlay
            // A trace holds each image's SHA-256 and its replay reads the image again: a run
            // that writes the file would change what it replays from.
            if toFile && recording { throw ValidationError("--drive \(d): a recorded run cannot write its image (snapshot=off)") }
            config.drives.append(readOnly)
            do { return try DiskImage(path: path, readOnly: readOnly, writesToFile: toFile) } catch { throw ValidationError("--drive \(d): \(error)") }
        }
    }

    /// The `--share` directories opened, each added to the configuration; `reserved`: tags the
    /// caller's own shares use.
    static func openShares(_ specs: [String], reserved: Set<String> = [], into config: inout MachineConfiguration) throws -> [HostShare] {
        try specs.enumerated().map { i, spec in
            let (server, tag) = try Run.openShare(spec, index: i)
            guard !reserved.contains(tag) else { throw ValidationError("--share \(spec): the tag \(tag) is taken") }
            config.shares.append(.init(tag: tag, readOnly: server.readOnly))
            return server
        }
    }

    /// `--share`'s value, its directory opened: the server and the tag.
    static func openShare(_ spec: String, index: Int) throws -> (HostShare, String) {
        var parts = spec.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        let path = parts.removeFirst()
        guard !path.isEmpty else { throw ValidationError("--share \(spec): no directory") }
        var tag = "share\(index)", readOnly = false
        for part in parts {
            switch part {
            case "readonly", "readonly=on", "ro": readOnly = true
            case "readonly=off", "rw": readOnly = false
            case _ where part.hasPrefix("tag="): tag = String(part.dropFirst(4))
            default: throw ValidationError("--share \(spec): \(part) is not an option softvmm knows (tag=T, readonly)")
            }
        }
        do {
            try HostShare.checkTag(tag)
            return (try HostShare(path: path, readOnly: readOnly), tag)
        } catch {
            throw ValidationError("--share \(spec): \(error)")
        }
    }

    /// `-cpu host...` names the model of the host's vendor (max or EPYC), resolved here so that a
    /// trace or snapshot records the model itself and replays alike on any host.
    static func resolvingHost(_ spec: String) -> String {
        guard spec == "host" || spec.hasPrefix("host,") else { return spec }
        return (hostVendor == .amd ? "EPYC" : "max") + spec.dropFirst(4)
    }

    static func parseSize(_ s: String) -> UInt64? {
        let units: [Character: UInt64] = ["K": 1 << 10, "M": 1 << 20, "G": 1 << 30]
        if let u = s.last.flatMap({ units[Character($0.uppercased())] }), let n = UInt64(s.dropLast()) { return n * u }
        return UInt64(s).map { $0 << 20 }
    }
}

/// `run --engine`: one of the VM's engines, or both side by side.
enum RunEngine: String, ExpressibleByArgument {
    case interp, jit, lockstep
    var executionEngine: ExecutionEngine? {
        switch self {
        case .interp: .interpreter
        case .jit: .jit
        case .lockstep: nil
        }
    }
}

/// Where COM1's output goes (stdio, none or a file), line-buffered.
final class SerialSink {
    let handle: FileHandle?
    var pending: [UInt8] = []
    /// Every byte at once (a console: prompts end without a newline).
    var immediate = false

    init(_ spec: String) throws {
        switch spec {
        case "stdio": handle = FileHandle.standardOutput
        case "none": handle = nil
        default:
            guard FileManager.default.createFile(atPath: spec, contents: nil), let h = FileHandle(forWritingAtPath: spec) else {
                throw ValidationError("cannot write \(spec)")
            }
            handle = h
        }
    }

    func put(_ byte: UInt8) {
        guard handle != nil else { return }
        pending.append(byte)
        if byte == 10 || immediate || pending.count >= 4096 { flush() }
    }

    func flush() {
        if !pending.isEmpty { handle?.write(Data(pending)); pending.removeAll(keepingCapacity: true) }
    }
}

/// Runs a booted or restored machine to its end as `softvmm run` does: progress on a
/// terminal, an optional trace and snapshot, the stop and statistics on stderr, the exit
/// status, and the teardown check.
struct RunSession {
    var machine: Machine
    var host: HostPhysicalMemory
    var sink: SerialSink
    /// The images for a trace's or snapshot's header.
    var images: [TraceImage]
    var record: String?
    var stats: Bool
    var snapshotAt: UInt64?
    var snapshotFile: String?
    var dumpState: String?
    var profile: GuestProfile?
    var showProgress = true
    var afterRun: () -> Void = {}
    /// The exit status for the stop (`softvmm exec`: the command's), which then reports the
    /// stop itself; by default `MachineStop.status`, with the stop on standard error.
    var status: ((MachineStop) -> Int32)?
    /// A debugger's session runs the machine first (`--gdb`): its stop, or nil when the
    /// debugger detached and the run goes on.
    var debugSession: (() -> MachineStop?)?

    /// A snapshot file of the machine now.
    static func writeSnapshot(_ machine: Machine, images: [TraceImage], to path: String) throws {
        let snapshot = try machine.snapshot()
        let bytes = SnapshotFile.encode(snapshot, images: images)
        snapshot.release()
        guard FileManager.default.createFile(atPath: path, contents: Data(bytes)) else {
            throw ValidationError("cannot write the snapshot to \(path)")
        }
    }

    func run() throws {
        var recorder: Recorder?
        var traceFile: FileHandle?
        if let record {
            guard FileManager.default.createFile(atPath: record, contents: nil), let h = FileHandle(forWritingAtPath: record) else {
                throw ValidationError("cannot write the trace to \(record)")
            }
            traceFile = h
            let fd = h.fileDescriptor
            // Chunks go straight to the file as the run records them.
            recorder = Recorder(header: TraceHeader(configuration: machine.configuration.encoded, images: images)) { chunk in
                var done = 0
                while done < chunk.count {
                    let n = write(fd, chunk.baseAddress! + done, chunk.count - done)
                    if n <= 0 { break }
                    done += n
                }
            }
            machine.observer = recorder
        }
        let terminal = showProgress && isatty(2) != 0
        let start = Date()
        var lastStatus = start
        if let profile { machine.progressInterval = GuestProfile.interval }
        machine.onProgress = { [unowned machine] vcpu in
            profile?.sample(vcpu.rip)
            guard terminal, Date().timeIntervalSince(lastStatus) >= 1 else { return }
            lastStatus = Date()
            let seconds = lastStatus.timeIntervalSince(start)
            FileHandle.standardError.write(Data(String(format: "\rsoftvmm: %.0f s, %llu instructions, %.0f MIPS ",
                                                       seconds, machine.icount, Double(machine.icount) / seconds / 1e6).utf8))
        }
        var stop: MachineStop
        if let snapshotAt {
            guard let snapshotFile else { throw ValidationError("--snapshot-at needs --snapshot FILE") }
            machine.stopAt = snapshotAt
            stop = machine.run()
            if stop == .limit && machine.icount == snapshotAt {
                try RunSession.writeSnapshot(machine, images: images, to: snapshotFile)
                machine.stopAt = nil
                stop = machine.run()
            } else {
                FileHandle.standardError.write(Data("softvmm: the run ended before icount \(snapshotAt): no snapshot\n".utf8))
            }
        } else if let debugSession {
            stop = debugSession() ?? machine.run()
        } else {
            stop = machine.run()
        }
        sink.flush()
        afterRun()
        try profile?.write()
        if let dumpState, !FileManager.default.createFile(atPath: dumpState, contents: Data(machine.finalState.utf8)) {
            throw ValidationError("cannot write \(dumpState)")
        }
        if let recorder, let traceFile {
            recorder.writer.flush()
            traceFile.write(Data(recorder.finished(icount: machine.icount)))
            try traceFile.close()
        }
        let seconds = Date().timeIntervalSince(start)
        if terminal && seconds >= 1 { FileHandle.standardError.write(Data("\n".utf8)) }
        if (stop.status != 1 && status == nil) || stats {
            FileHandle.standardError.write(Data("softvmm: \(stop)\n".utf8))
        }
        let exitStatus = status?(stop) ?? stop.status
        if let first = machine.firstUnbacked {
            FileHandle.standardError.write(Data("softvmm: warning: \(machine.unbacked) accesses to unbacked guest-physical memory (read as all ones, writes dropped); the first: \(first)\n".utf8))
        }
        if stats {
            let v = machine.vcpu, total = machine.icount
            var lines = ["instructions: \(total)",
                         String(format: "time: %.3f s, %.1f MIPS", seconds, Double(total) / max(seconds, 1e-9) / 1e6)]
            for (i, c) in machine.vcpus.enumerated() where machine.vcpus.count > 1 {
                lines.append("vcpu \(i): \(c.retired) instructions, exits " + c.exitCounts.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
            }
            lines.append("exits: " + v.exitCounts.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
            lines.append("mmio: \(machine.mmioOperations) assisted instructions, test device \(machine.testDevice.reads) reads, \(machine.testDevice.writes) writes")
            lines.append("nested faults: \(machine.vm.memory.faultCount)")
            // (Accesses are not counted: a counter in memory bumped by every access chains them.)
            lines.append(String(format: "tlb: %llu misses (%.2f per 1000 instructions), %llu flushes", v.tlbMisses,
                                1000 * Double(v.tlbMisses) / Double(max(v.retired, 1)), v.tlbFlushes))
            lines.append("decoded-instruction cache: \(v.decodes) decodes, \(v.decodedCacheDrops) drops, \(v.codeWrites) writes to code")
            lines.append("blocks: \(v.blocksBuilt) built, \(v.blocksRechecked) checked again")
            lines.append("through the general path after a block: " + v.commonestBlockEnds.map { "\($0.0) \($0.1)" }.joined(separator: ", "))
            if let t = v.translation {
                // The translator is the machine's: its figures are every vCPU's.
                let forms = max(t.nativeForms + t.fallbackForms, 1)
                let reattached = machine.vcpus.reduce(0) { $0 + $1.translationsReattached }
                let shared = machine.vcpus.reduce(0) { $0 + $1.translationsShared }
                let loops = machine.vcpus.reduce(0) { $0 + $1.loopsTranslated }
                lines.append(String(format: "engine: jit, %llu blocks translated (%.1f%% of their forms as host code, the rest through the interpreter; %llu loop back to their start in host code, %llu ways on into another translation; %llu with the other blocks of a loop, %llu branches among them), %llu blocks given a translation already made (%llu of them by another vCPU), %.1f KiB of code, %d flushes",
                                    t.blocks, 100 * Double(t.nativeForms) / Double(forms), t.loops, t.chains, loops, t.edges, reattached, shared,
                                    Double(t.codeBytes) / 1024, t.flushes))
                lines.append("interpreted in translations: " + v.commonestFallbacks.map { "\($0.0) \($0.1)" }.joined(separator: ", "))
            } else {
                lines.append("engine: interp")
            }
            FileHandle.standardError.write(Data((lines.joined(separator: "\n") + "\n").utf8))
        }
        machine.teardown()
        if host.liveFrames != 0 {
            FileHandle.standardError.write(Data("softvmm: teardown left \(host.liveFrames) frames live\n".utf8))
            throw ExitCode(5)
        }
        throw ExitCode(exitStatus)
    }
}

struct Restore: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Restore a snapshot (softvmm run --snapshot-at N --snapshot FILE) in this process and run it to its end.",
        discussion: "The exit status is softvmm run's. With --record, the trace starts from the snapshot (softvmm replay restores it again).")

    @Argument(help: "The snapshot file.") var snapshot: String
    @Option(help: "Where COM1's output goes: stdio, none or a file.") var serial = "stdio"
    @Flag(help: "Print instructions, MIPS, exits by kind, nested faults and the TLB hit rate.") var stats = false
    @Option(help: "Write a trace of the restored run.") var record: String?
    @Option(help: "At the end, write the vCPU's state and a hash of guest memory to this file.") var dumpState: String?

    func run() throws {
        guard let data = FileManager.default.contents(atPath: snapshot) else { throw ValidationError("cannot read \(snapshot)") }
        let bytes = [UInt8](data)
        let sink = try SerialSink(serial)
        let host: HostPhysicalMemory
        let machine: Machine
        do {
            let contents = try SnapshotFile.decode(bytes)
            host = try HostPhysicalMemory(frames: Int(contents.configuration.memorySize >> 12) + 4096)
            (machine, _) = try SnapshotFile.restore(bytes, host: host, serialOutput: sink.put)
        } catch let e as StateError {
            FileHandle.standardError.write(Data("softvmm: \(snapshot): \(e)\n".utf8))
            throw ExitCode(2)
        }
        try RunSession(machine: machine, host: host, sink: sink,
                       images: [TraceImage(name: ReplaySession.snapshotPrefix + snapshot, contents: bytes)],
                       record: record, stats: stats, snapshotAt: nil, snapshotFile: nil, dumpState: dumpState, profile: nil).run()
    }
}
