import ArgumentParser
import Foundation
import GuestMemory
import Monitor
import VMM
import Replay

/// `softvmm exec -- COMMAND [ARGS...]`: runs a command in a guest, as virtme-ng's `vng --exec`
/// and vmtest do under KVM. The guest is the Debian kernel `make run` uses (or `--kernel`),
/// with an initramfs made here: busybox, the kernel's virtio, 9p and overlay modules, and
/// the project's own init (`ExecInit.script`). The init mounts the host's root directory,
/// shared read-only over virtio-9p, under a writable tmpfs overlay as the guest's root, the
/// current directory at the same path (shared read-write unless `--readonly`), then runs the
/// command there with the caller's environment. The command's standard output and error
/// leave through COM2 and COM3 and are streamed to softvmm's own; its exit status comes back
/// through the debug-exit port and is softvmm's status. The kernel's console (COM1) is kept
/// and shown if the guest fails before the command ends (or with `--console`).
struct Exec: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a command in a guest with the host's files, and exit with its status.",
        discussion: """
            softvmm exec [options] -- COMMAND [ARGS...]. The guest sees the host's root directory read-only, with a \
            writable overlay in guest memory, and the current directory at the same path, writable (--readonly: not). \
            The command runs there with the caller's environment; its output is streamed; softvmm exits with its status \
            (128+N when a signal N ended it, 127 when it was not found, 124 at --timeout, 125 when softvmm or the guest \
            could not run it). A recorded run (--record TRACE) replays with `softvmm replay TRACE` after the host's files changed.
            """)

    @Option(help: "The kernel (a bzImage or vmlinux with virtio, 9p and overlayfs, built in or as the guest kit's modules). Default: the Debian kernel `make run` uses.") var kernel: String?
    @Option(name: .customShort("m"), help: "Guest RAM (suffix K, M or G); the overlay's writes live in it.") var memory = "1G"
    @Option(help: "The vCPUs (1 to 64).") var smp = 1
    @Option(help: "What runs the guest's instructions: jit (warm blocks translated to host code; x86-64 hosts) or interp (the interpreter alone). Default: SOFTVMM_ENGINE, else jit where it can run.") var engine: ExecutionEngine?
    @Option(help: ArgumentHelp("A virtio block device, as softvmm run's --drive (the guest sees /dev/vda, ...).", valueName: "drive")) var drive: [String] = []
    @Option(help: ArgumentHelp("Another shared directory, as softvmm run's --share (mount it with mount -t 9p -o trans=virtio TAG DIR).", valueName: "share")) var share: [String] = []
    @Flag(help: "Share the current directory read-only (writes there go to the overlay and are lost).") var readonly = false
    @Option(help: "Record the run to this trace (the initramfs is written beside it, TRACE.initrd).") var record: String?
    @Option(help: "Stop the guest after this many seconds of guest time (deterministic: guest time runs with the instruction count, not the host's clock); exit status 124.") var timeout: Double?
    @Option(help: "The CPU model, as softvmm run's --cpu.") var cpu = "max"
    @Option(help: "More kernel command-line arguments.") var append = ""
    @Flag(help: "Show the kernel's console (COM1) on standard error as the guest runs.") var console = false
    @Flag(help: "Print the run's time, instructions and exits at the end.") var stats = false
    @Option(help: "The guest kit: the directory with vmlinuz, busybox and modules/ (default: the repository's .cache/linux-guest, fetched when missing).") var guestDir: String?
    @Argument(parsing: .captureForPassthrough, help: "-- COMMAND [ARGS...]") var command: [String] = []

    /// Exit statuses of softvmm's own: the guest could not run the command; the timeout.
    static let guestFailed: Int32 = 125, timedOut: Int32 = 124

    /// softvmm's own errors (a missing directory or image, a bad option's value) end with 125,
    /// as env's and docker run's do, apart from any status the command could give.
    func run() throws {
        do { try execute() } catch let e as ValidationError {
            FileHandle.standardError.write(Data("softvmm exec: \(e.message)\n".utf8))
            throw ExitCode(Exec.guestFailed)
        }
    }

    func execute() throws {
        let argv = command.first == "--" ? Array(command.dropFirst()) : command
        guard !argv.isEmpty else { throw ValidationError("give the command to run: softvmm exec [options] -- COMMAND [ARGS...]") }
        guard let ram = Run.parseSize(memory), ram >= 64 << 20, ram <= 3 << 30 else {
            throw ValidationError("-m \(memory): give a size from 64M to 3G")
        }
        guard (1...MachineConfiguration.maxProcessors).contains(smp) else {
            throw ValidationError("--smp \(smp): give 1 to \(MachineConfiguration.maxProcessors) vCPUs")
        }
        if let timeout, !(timeout > 0) { throw ValidationError("--timeout \(timeout): give a number of seconds above 0") }
        let kit = try GuestKit.locate(guestDir)
        let kernelPath = kernel ?? kit.vmlinux
        guard let kernelBytes = FileManager.default.contents(atPath: kernelPath) else { throw ValidationError("cannot read the kernel \(kernelPath)") }
        let cwd = FileManager.default.currentDirectoryPath
        let initramfs = try kit.execInitramfs(ExecInit(command: argv, directory: cwd, environment: ProcessInfo.processInfo.environment,
                                                       readOnly: readonly, disks: !drive.isEmpty))

        var config = MachineConfiguration()
        config.memorySize = ram
        config.processors = smp
        if let engine { config.engine = engine }
        config.serialPorts = 3
        // The guest's clock starts at the host's time, so that make compares the host's files'
        // times with the guest's own sensibly.
        config.rtcEpoch = UInt64(Date().timeIntervalSince1970)
        config.commandLine = "console=ttyS0 quiet panic=-1 rdinit=/init" + (append.isEmpty ? "" : " " + append)
        config.initrd = initramfs
        do { try config.setCPU(Run.resolvingHost(cpu)) } catch { throw ValidationError("--cpu \(cpu): \(error)") }
        // The host's root, read-only, and the current directory: the init mounts them by these tags.
        var servers: [HostShare] = []
        func serve(_ path: String, tag: String, readOnly: Bool) throws {
            do { servers.append(try HostShare(path: path, readOnly: readOnly)) } catch { throw ValidationError("\(error)") }
            config.shares.append(.init(tag: tag, readOnly: readOnly))
        }
        try serve("/", tag: ExecInit.rootTag, readOnly: true)
        if cwd != "/" { try serve(cwd, tag: ExecInit.directoryTag, readOnly: readonly) }
        servers += try Run.openShares(share, reserved: [ExecInit.rootTag, ExecInit.directoryTag], into: &config)
        let disks = try Run.openDrives(drive, recording: record != nil, into: &config)

        // COM1 is the console, kept; COM2 the command's standard output, COM3 its standard error.
        let consoleLog = ConsoleLog(echo: console)
        let host = try HostPhysicalMemory(frames: Int(ram >> 12) + 4096)
        let machine = try Machine(configuration: config, host: host, disks: disks, shares: servers, serialOutput: consoleLog.put)
        let (out, err) = StreamSink.commandOutput(machine)
        if let timeout { machine.stopAtTime = UInt64(timeout * 1e9) }

        var images: [TraceImage] = []
        if let record {
            let initrdPath = record + ".initrd"
            guard FileManager.default.createFile(atPath: initrdPath, contents: Data(initramfs)) else { throw ValidationError("cannot write \(initrdPath)") }
            images = [TraceImage(name: kernelPath, contents: [UInt8](kernelBytes)), TraceImage(name: initrdPath, contents: initramfs)]
            for disk in disks {
                guard let bytes = FileManager.default.contents(atPath: disk.path) else { throw ValidationError("cannot read \(disk.path)") }
                images.append(TraceImage(name: disk.path, contents: [UInt8](bytes)))
            }
        }
        do { try machine.boot(image: [UInt8](kernelBytes)) } catch { throw ValidationError("\(kernelPath): \(error)") }
        var session = RunSession(machine: machine, host: host, sink: consoleLog.sink, images: images, record: record, stats: stats,
                                 snapshotAt: nil, snapshotFile: nil, dumpState: nil, profile: nil)
        session.showProgress = false
        session.afterRun = { out.flush(); err.flush() }
        // The output reaches the host's streams as the guest writes it, a line at a time, and
        // whatever is pending at least at every slice's end.
        machine.onProgress = { _ in out.flush(); err.flush() }
        session.status = { stop in
            switch stop {
            case .debugExit(let code): return Int32(code & 0xFF)
            case .stopped(let why) where why == Machine.timeLimitReason:
                FileHandle.standardError.write(Data("softvmm exec: the guest ran past --timeout \(timeout ?? 0) s of guest time\n".utf8))
                return Exec.timedOut
            default:
                FileHandle.standardError.write(Data("softvmm exec: the guest ended before the command did: \(stop)\n".utf8))
                FileHandle.standardError.write(Data(("softvmm exec: the end of the guest's console:\n" + consoleLog.tail(lines: 30)).utf8))
                return Exec.guestFailed
            }
        }
        try session.run()
    }
}

/// What `softvmm exec` runs in the guest: the init script (the project's own), and the
/// command, directory and environment it runs, as shell text the init reads.
struct ExecInit {
    static let rootTag = "hostroot", directoryTag = "hostcwd"
    var command: [String]
    var directory: String
    var environment: [String: String]
    var readOnly: Bool
    /// Drives are attached: the block and ext4 modules are loaded too.
    var disks: Bool

    /// Environment variables that describe the caller's session rather than its work: a guest
    /// has no display, agent or terminal multiplexer of the host's, and its own shell levels.
    static let sessionVariables: Set<String> = [
        "PWD", "OLDPWD", "SHLVL", "_", "DISPLAY", "WAYLAND_DISPLAY", "XAUTHORITY", "DBUS_SESSION_BUS_ADDRESS",
        "XDG_RUNTIME_DIR", "XDG_SESSION_ID", "XDG_SESSION_TYPE", "XDG_SEAT", "XDG_VTNR", "SSH_AUTH_SOCK", "SSH_AGENT_PID",
        "SSH_CONNECTION", "SSH_CLIENT", "SSH_TTY", "TMUX", "TMUX_PANE", "STY", "WINDOWID", "INVOCATION_ID", "JOURNAL_STREAM",
        "NOTIFY_SOCKET", "LISTEN_PID", "LISTEN_FDS", "MAIL",
    ]

    /// A word the shell reads back exactly.
    static func quote(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'" }

    static func isName(_ s: String) -> Bool {
        guard let f = s.unicodeScalars.first, f == "_" || (f.isASCII && CharacterSet.letters.contains(f)) else { return false }
        return s.unicodeScalars.allSatisfy { $0 == "_" || ($0.isASCII && CharacterSet.alphanumerics.contains($0)) }
    }

    /// The script the init runs in the new root (with the host's /bin/sh): into the
    /// directory, the caller's environment, then the command in the shell's place.
    var runScript: String {
        var lines = ["cd \(ExecInit.quote(directory)) || exit 125"]
        for (k, v) in environment.sorted(by: { $0.key < $1.key }) where ExecInit.isName(k) && !ExecInit.sessionVariables.contains(k) {
            lines.append("export \(k)=\(ExecInit.quote(v))")
        }
        lines.append("exec " + command.map(ExecInit.quote).joined(separator: " "))
        return lines.joined(separator: "\n") + "\n"
    }

    /// The settings the init reads (shell assignments).
    var settings: String {
        ["CWD=\(ExecInit.quote(directory == "/" ? "" : directory))", "CWD_RO=\(readOnly ? 1 : 0)", "DISKS=\(disks ? 1 : 0)",
         "ROOT_TAG=\(ExecInit.rootTag)", "CWD_TAG=\(ExecInit.directoryTag)"].joined(separator: "\n") + "\n"
    }

    /// The modules the init loads, each after what it needs (the guest kit's files).
    var modules: [String] {
        ["virtio_ring", "virtio", "virtio_pci_modern_dev", "virtio_pci_legacy_dev", "virtio_pci", "netfs", "fscache", "9pnet",
         "9pnet_virtio", "9p", "overlay"]
            + (disks ? ["virtio_blk", "crc16", "crc32c_generic", "mbcache", "jbd2", "ext4"] : [])
    }

    /// /init: busybox's shell. The exit status reaches the monitor through the debug-exit port
    /// (/dev/port at 0xf4): the run ends there, with the command's output drained first (the
    /// serial ports' last close waits until their bytes are sent).
    static let script = #"""
        #!/bin/sh
        # softvmm exec's init: the host's root (9p, read-only) under a tmpfs overlay as the new
        # root, the caller's directory (9p) at its own path, then the command in it.
        /bin/busybox --install -s /bin
        export PATH=/bin
        mount -t proc proc /proc
        mount -t sysfs sysfs /sys
        mount -t devtmpfs devtmpfs /dev
        status() { printf "\\$(printf %03o "$1")" | dd of=/dev/port bs=1 seek=244 count=1 2>/dev/null; poweroff -f; }
        fail() { echo "softvmm-init: $*"; status 125; }
        . /exec/settings
        for m in $(cat /lib/modules/load-order); do insmod "/lib/modules/$m.ko" || fail "cannot load the module $m"; done
        opts=trans=virtio,version=9p2000.L,msize=524288
        mkdir -p /lower /upper /newroot
        mount -t 9p -o "$opts,cache=loose,ro" "$ROOT_TAG" /lower || fail "cannot mount the host's root directory (9p)"
        mount -t tmpfs -o mode=0755 tmpfs /upper && mkdir -p /upper/data /upper/work || fail "cannot make the overlay's tmpfs"
        mount -t overlay -o lowerdir=/lower,upperdir=/upper/data,workdir=/upper/work overlay /newroot ||
            fail "cannot mount the overlay on the host's root"
        mount -t proc proc /newroot/proc
        mount -t sysfs sysfs /newroot/sys
        mount -t devtmpfs devtmpfs /newroot/dev
        mkdir -p /newroot/dev/pts /newroot/dev/shm
        mount -t devpts devpts /newroot/dev/pts
        mount -t tmpfs tmpfs /newroot/dev/shm
        mount -t tmpfs tmpfs /newroot/tmp
        mount -t tmpfs tmpfs /newroot/run
        if [ -n "$CWD" ]; then
            ro=; [ "$CWD_RO" = 1 ] && ro=,ro
            mkdir -p "/newroot$CWD" && mount -t 9p -o "$opts,cache=mmap$ro" "$CWD_TAG" "/newroot$CWD" ||
                fail "cannot mount the current directory $CWD (9p)"
        fi
        cp /exec/run /newroot/run/softvmm-exec || fail "cannot place the command's script"
        exec 3>/dev/ttyS1 4>/dev/ttyS2
        stty raw -echo <&3 && stty raw -echo <&4 || fail "cannot set up the output ports"
        chroot /newroot /bin/sh /run/softvmm-exec </dev/null >&3 2>&4
        s=$?
        exec 3>&- 4>&-
        status "$s"
        """#
}

/// Where the guest's kernel, busybox and modules come from: the directory
/// scripts/fetch-linux-guest.sh fills (`.cache/linux-guest` in the repository the softvmm
/// binary was built in), fetched when a file is missing.
struct GuestKit {
    var directory: String

    var vmlinux: String { directory + "/vmlinux" }

    static func locate(_ given: String?) throws -> GuestKit {
        let fm = FileManager.default
        if let given {
            guard fm.fileExists(atPath: given + "/busybox") else { throw ValidationError("--guest-dir \(given): no busybox there (see scripts/fetch-linux-guest.sh)") }
            return try GuestKit(directory: given).withVmlinux()
        }
        if let env = ProcessInfo.processInfo.environment["SOFTVMM_GUEST_DIR"], !env.isEmpty { return try locate(env) }
        // The repository: up from the executable to the directory with scripts/fetch-linux-guest.sh.
        var dir = URL(fileURLWithPath: (try? fm.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0])
            .deletingLastPathComponent()
        while dir.path != "/" && !fm.fileExists(atPath: dir.path + "/scripts/fetch-linux-guest.sh") { dir.deleteLastPathComponent() }
        guard dir.path != "/" else {
            throw ValidationError("no guest kit: give --guest-dir or SOFTVMM_GUEST_DIR (a directory scripts/fetch-linux-guest.sh filled), or --kernel")
        }
        let kit = GuestKit(directory: dir.path + "/.cache/linux-guest")
        if !fm.fileExists(atPath: kit.directory + "/modules/overlay.ko") || !fm.fileExists(atPath: kit.directory + "/busybox") {
            FileHandle.standardError.write(Data("softvmm exec: fetching the guest kernel and busybox (scripts/fetch-linux-guest.sh)\n".utf8))
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/bin/sh")
            p.arguments = [dir.path + "/scripts/fetch-linux-guest.sh"]
            p.standardOutput = FileHandle.standardError
            try p.run()
            p.waitUntilExit()
            guard p.terminationStatus == 0 else { throw ValidationError("scripts/fetch-linux-guest.sh failed (status \(p.terminationStatus))") }
        }
        return try kit.withVmlinux()
    }

    /// The kit with its vmlinux, taken out of the bzImage once, and again when the bzImage is
    /// newer (the guest then skips its decompressor).
    func withVmlinux() throws -> GuestKit {
        let fm = FileManager.default
        func modified(_ p: String) -> Date? { (try? fm.attributesOfItem(atPath: p))?[.modificationDate] as? Date }
        if let have = modified(vmlinux), have >= modified(directory + "/vmlinuz") ?? have { return self }
        guard let image = fm.contents(atPath: directory + "/vmlinuz") else { throw ValidationError("\(directory): no vmlinuz or vmlinux") }
        let bytes = try KernelPayload.vmlinux(fromBzImage: [UInt8](image))
        guard fm.createFile(atPath: vmlinux, contents: Data(bytes)) else { throw ValidationError("cannot write \(vmlinux)") }
        return self
    }

    /// The initramfs for `exec`: uncompressed (the guest copies it rather than inflating it).
    func execInitramfs(_ e: ExecInit) throws -> [UInt8] {
        var cpio = CPIOArchive()
        for d in ["bin", "dev", "proc", "sys", "tmp", "lib", "lib/modules", "exec"] { cpio.directory(d) }
        cpio.characterDevice("dev/console", major: 5, minor: 1)
        guard let busybox = FileManager.default.contents(atPath: directory + "/busybox") else { throw ValidationError("\(directory): no busybox") }
        cpio.file("bin/busybox", [UInt8](busybox), mode: 0o755)
        cpio.symlink("bin/sh", to: "busybox")
        cpio.file("init", Array(ExecInit.script.utf8), mode: 0o755)
        for m in e.modules {
            let path = directory + "/modules/\(m).ko"
            guard let ko = FileManager.default.contents(atPath: path) else {
                throw ValidationError("the guest kit has no \(m).ko (run scripts/fetch-linux-guest.sh again)")
            }
            cpio.file("lib/modules/\(m).ko", [UInt8](ko), mode: 0o644)
        }
        cpio.file("lib/modules/load-order", Array(e.modules.joined(separator: "\n").utf8) + [10], mode: 0o644)
        cpio.file("exec/settings", Array(e.settings.utf8), mode: 0o644)
        cpio.file("exec/run", Array(e.runScript.utf8), mode: 0o755)
        return cpio.finished()
    }
}

/// A cpio archive in the kernel's "newc" format (Documentation/driver-api/early-userspace/
/// buffer-format.rst), with fixed times and owners: the same inputs give the same bytes.
struct CPIOArchive {
    var bytes: [UInt8] = []
    var inode = 1

    mutating func entry(_ name: String, mode: UInt32, data: [UInt8] = [], major: UInt32 = 0, minor: UInt32 = 0) {
        inode += 1
        let fields: [UInt32] = [UInt32(inode), mode, 0, 0, 1, 0, UInt32(data.count), 0, 0, major, minor, UInt32(name.utf8.count + 1), 0]
        bytes += Array(("070701" + fields.map { String(format: "%08x", $0) }.joined()).utf8) + Array(name.utf8) + [0]
        bytes += [UInt8](repeating: 0, count: (4 - bytes.count % 4) % 4)
        bytes += data
        bytes += [UInt8](repeating: 0, count: (4 - bytes.count % 4) % 4)
    }
    mutating func directory(_ name: String) { entry(name, mode: 0o040755) }
    mutating func file(_ name: String, _ data: [UInt8], mode: UInt32) { entry(name, mode: 0o100000 | mode, data: data) }
    mutating func symlink(_ name: String, to target: String) { entry(name, mode: 0o120777, data: Array(target.utf8)) }
    mutating func characterDevice(_ name: String, major: UInt32, minor: UInt32) { entry(name, mode: 0o020600, major: major, minor: minor) }
    func finished() -> [UInt8] {
        var c = self
        c.entry("TRAILER!!!", mode: 0)
        return c.bytes
    }
}

/// The kernel's console in exec: kept (its tail is shown when the guest fails), and echoed to
/// standard error with `--console`.
final class ConsoleLog {
    var lines: [String] = []
    var current: [UInt8] = []
    let echo: Bool
    // RunSession flushes a sink; this one writes nowhere.
    let sink = try! SerialSink("none")
    init(echo: Bool) { self.echo = echo }

    func put(_ b: UInt8) {
        if echo { FileHandle.standardError.write(Data([b])) }
        if b == 10 {
            lines.append(String(decoding: current, as: UTF8.self))
            if lines.count > 200 { lines.removeFirst(lines.count - 200) }
            current.removeAll(keepingCapacity: true)
        } else if b != 13 {
            current.append(b)
        }
    }

    func tail(lines n: Int) -> String {
        (lines.suffix(n) + (current.isEmpty ? [] : [String(decoding: current, as: UTF8.self)])).map { "  " + $0 + "\n" }.joined()
    }
}

/// A host stream the guest's output goes to, a line at a time (and on `flush`).
extension StreamSink {
    /// COM2 and COM3, where a machine has them (`softvmm exec`'s command output, and its
    /// replay's), to standard output and error, while `shown` says so.
    static func commandOutput(_ machine: Machine, shown: @escaping () -> Bool = { true }) -> (StreamSink, StreamSink) {
        let out = StreamSink(FileHandle.standardOutput), errors = StreamSink(FileHandle.standardError)
        for (port, stream) in zip(machine.moreSerialPorts, [out, errors]) { port.output = { if shown() { stream.put($0) } } }
        return (out, errors)
    }
}

final class StreamSink {
    let handle: FileHandle
    var pending: [UInt8] = []
    init(_ handle: FileHandle) { self.handle = handle }
    func put(_ b: UInt8) {
        pending.append(b)
        if b == 10 || pending.count >= 4096 { flush() }
    }
    func flush() {
        if !pending.isEmpty { handle.write(Data(pending)); pending.removeAll(keepingCapacity: true) }
    }
}
