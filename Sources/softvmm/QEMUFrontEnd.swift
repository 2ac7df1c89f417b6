import ArgumentParser
import Foundation
import VMM
import Monitor
import X86CPU

/// `qemu-system-x86_64` as CI scripts and kvm-unit-tests' `x86/run` call it: the softvmm
/// executable run under a name starting `qemu-system` or `softvmm-system` (the build makes
/// `.build/release/softvmm-system-x86_64`, a link to softvmm). QEMU's options are translated
/// to `softvmm run`'s; options that only shape QEMU's own host side (display, monitor, PIT
/// lost-tick policy, default devices) are accepted and change nothing; anything else is
/// refused with a message naming it and status 1, as QEMU refuses it. Exit status as QEMU's:
/// (code << 1) | 1 for the isa-debug-exit device, 0 when the guest shuts down, resets under
/// -no-reboot or powers off, 1 for an error.
enum QEMUFrontEnd {
    static let version = "7.2.0"
    nonisolated(unsafe) static var program = "qemu-system-x86_64"

    /// Devices `-device` takes, as `-device help` lists them.
    static let devices: [(name: String, bus: String, description: String)] = [
        ("isa-debug-exit", "ISA", "a write of v to its port ends the run with status (v << 1) | 1"),
        ("pc-testdev", "ISA", "kvm-unit-tests' test device: ports 0xe0-0xeb, IRQ lines at 0x2000, IORAM at 0xff000000"),
        ("virtio-rng-pci", "PCI", "virtio entropy device (virtio 1.x, from the seeded generator)"),
    ]

    /// Options that take no argument (QEMU accepts each with one dash or two).
    static let flags: Set<String> = ["nodefaults", "no-reboot", "nographic", "no-user-config", "no-shutdown", "enable-kvm",
                                     "S", "s", "no-hpet", "no-acpi", "snapshot"]
    /// Options that take an argument.
    static let valued: Set<String> = ["kernel", "initrd", "append", "m", "smp", "cpu", "machine", "M", "accel", "display",
                                      "serial", "device", "global", "chardev", "monitor", "vga", "name", "rtc", "d", "D",
                                      "gdb", "icount", "boot", "net", "parallel", "L", "bios", "overcommit", "object", "k", "drive",
                                      "virtfs"]

    struct Failure: Error, CustomStringConvertible {
        var description: String
        init(_ d: String) { description = d }
    }

    static func main(_ args: [String]) -> Int32 {
        do {
            guard let runArguments = try translate(args) else { return 0 }
            do {
                var command = try Run.parseAsRoot(runArguments)
                try command.run()
                return 0
            } catch {
                Run.exit(withError: error)
            }
        } catch {
            FileHandle.standardError.write(Data("\(program): \(error)\n".utf8))
            return 1
        }
    }

    static func usage() -> String {
        """
        QEMU emulator version \(version) (softvmm: x86-64 guests without hardware virtualization)
        usage: \(program) [options] -kernel FILE

        Standard options:
        -h, --help          display this help and exit
        -version            display version information and exit
        -machine [type=]pc[,accel=tcg]   the PC machine (accel=tcg: softvmm executes every instruction)
        -cpu model[,+feature|-feature|vendor=...]   max (the default), qemu64, Intel models
                            (Skylake-Server, ...): the Intel model; EPYC, Opteron_G*: the AMD model
        -smp [cpus=]n       n CPUs (1 to 64), run in turn on one thread
        -m [size=]megs[M|G] guest RAM
        -kernel FILE        a Multiboot or ELF kernel, a Linux bzImage or vmlinux
        -initrd FILE        the initial ramdisk (a Multiboot module for Multiboot kernels)
        -append STRING      the kernel command line
        -serial stdio|none|file:PATH   where COM1 goes
        -device isa-debug-exit,iobase=0xf4,iosize=0x4   the debug exit (always present at 0xf4)
        -device pc-testdev  kvm-unit-tests' test device
        -device virtio-rng-pci  a virtio entropy device
        -drive file=IMG,format=raw[,if=virtio][,readonly=on][,snapshot=on]   a virtio block device
        -virtfs local,path=DIR,mount_tag=TAG,security_model=none[,readonly=on]   a shared directory (virtio-9p)
        -s, -gdb tcp::PORT  wait for gdb (on port 1234 with -s) before the first instruction
        -display none, -nographic, -nodefaults, -no-reboot, -monitor none, -global ...   accepted
        """
    }

    /// `-virtfs local,path=DIR,mount_tag=TAG,security_model=none|passthrough|mapped-xattr[,readonly=on]`
    /// as `--share`'s value. The security models differ in how ownership is kept on the host;
    /// softvmm's server is "none" (passthrough where the host allows it), and a mapped model,
    /// which keeps guest ownership in extended attributes, is refused.
    static func share(_ v: String) throws(Failure) -> String {
        var parts = v.split(separator: ",").map(String.init)
        guard parts.first == "local" else { throw Failure("-virtfs \(v): softvmm has the local file system driver only (-virtfs local,...)") }
        parts.removeFirst()
        var path: String?, tag: String?, readOnly = false
        for p in parts {
            let kv = p.split(separator: "=", maxSplits: 1).map(String.init)
            switch (kv[0], kv.count == 2 ? kv[1] : "") {
            case ("path", let d): path = d
            case ("mount_tag", let t): tag = t
            case ("security_model", "none"), ("security_model", "passthrough"), ("id", _), ("multidevs", _), ("writeout", _): break
            case ("security_model", let m): throw Failure("-virtfs \(v): security_model=\(m): softvmm's server is none or passthrough")
            case ("readonly", "on"), ("readonly", ""): readOnly = true
            case ("readonly", "off"): readOnly = false
            default: throw Failure("-virtfs \(v): \(p) is not an option softvmm knows")
            }
        }
        guard let path, let tag else { throw Failure("-virtfs \(v): give path= and mount_tag=") }
        return "\(path),tag=\(tag)" + (readOnly ? ",readonly" : "")
    }

    /// The `softvmm run` arguments for QEMU's, or nil when the request was answered here (help).
    static func translate(_ args: [String]) throws(Failure) -> [String]? {
        // QEMU's defaults: 128 MiB of RAM, COM1 to a virtual console (nowhere, here).
        var run = ["--serial", "none", "-m", "128M"]
        var kernel: String?
        var cpu = "max"
        var append = ""
        var i = 0
        var serialSet = false
        func value(_ name: String) throws(Failure) -> String {
            i += 1
            guard i < args.count else { throw Failure("-\(name): requires an argument") }
            return args[i]
        }
        while i < args.count {
            let arg = args[i]
            guard arg.hasPrefix("-"), arg.count > 1 else { throw Failure("\(arg): invalid option") }
            let name = String(arg.drop(while: { $0 == "-" }))
            switch name {
            case "h", "help":
                print(usage())
                return nil
            case "version":
                print("QEMU emulator version \(version) (softvmm)")
                return nil
            default: break
            }
            guard flags.contains(name) || valued.contains(name) else { throw Failure("\(arg): invalid option") }
            switch name {
            case "kernel": kernel = try value(name)
            case "initrd": run += ["--initrd=" + (try value(name))]
            case "append": append = try value(name)
            case "m": run += ["-m", try memory(try value(name))]
            case "smp": run += ["--smp", String(try smp(try value(name)))]
            case "cpu": cpu = try value(name)
            case "machine", "M": try machine(try value(name))
            case "accel": try accelerator(try value(name))
            case "enable-kvm": throw Failure("-enable-kvm: KVM is not available here (softvmm executes every instruction; use -accel tcg)")
            case "serial":
                let v = try value(name)
                serialSet = true
                switch v {
                case "stdio": run += ["--serial", "stdio"]
                case "none", "null", "vc": run += ["--serial", "none"]
                default:
                    guard v.hasPrefix("file:") else { throw Failure("-serial \(v): softvmm takes stdio, none or file:PATH") }
                    run += ["--serial", String(v.dropFirst(5))]
                }
            case "nographic":
                if !serialSet { run += ["--serial", "stdio"] }
            case "drive":
                run += ["--drive", try value(name)]
            case "virtfs":
                run += ["--share", try share(try value(name))]
            case "device":
                let v = try value(name)
                let driver = v.split(separator: ",").first.map(String.init) ?? ""
                if driver == "?" || driver == "help" {
                    for d in devices { print("name \"\(d.name)\", bus \(d.bus), desc \"\(d.description)\"") }
                    return nil
                }
                switch driver {
                case "isa-debug-exit":
                    for p in v.split(separator: ",").dropFirst() {
                        let kv = p.split(separator: "=", maxSplits: 1).map(String.init)
                        if kv[0] == "iobase", kv.count == 2, Self.number(kv[1]) != 0xF4 {
                            throw Failure("-device \(v): softvmm's debug exit is at iobase 0xf4")
                        }
                    }
                case "pc-testdev": run += ["--device", "pc-testdev"]
                case "virtio-rng-pci": run += ["--device", "virtio-rng"]
                default: throw Failure("-device \(v): '\(driver)' is not a valid device model name")
                }
            case "display":
                let v = try value(name)
                guard v == "none" else { throw Failure("-display \(v): softvmm has no display (use -display none)") }
            case "monitor", "vga", "name", "global", "chardev", "overcommit", "rtc", "k", "boot", "L":
                _ = try value(name) // the host side of QEMU, or settings with no effect on this machine
            case "s":
                run += ["--gdb", "tcp::1234"]
            case "gdb":
                run += ["--gdb", try value(name)]
            case "S":
                break // with a debugger softvmm waits for it before the first instruction, as -S does
            case "nodefaults", "no-reboot", "no-user-config", "no-shutdown", "no-hpet", "no-acpi":
                break // softvmm adds no default devices, and a reset or triple fault ends the run
            default:
                throw Failure("\(arg): not supported by softvmm yet")
            }
            i += 1
        }
        guard let kernel else { throw Failure("no -kernel given: softvmm boots a kernel image (-kernel FILE)") }
        // Every option is checked before the kernel is loaded, as QEMU does: a runner that probes
        // with a missing kernel tells "cannot start at all" from "started and found no kernel".
        let (model, warnings) = try cpuModel(cpu)
        guard FileManager.default.fileExists(atPath: kernel) else {
            throw Failure("could not load kernel '\(kernel)': No such file or directory")
        }
        // QEMU hands a Multiboot kernel "FILE APPEND" as its command line (kvm-unit-tests reads
        // its arguments from the words after the first); Linux gets APPEND alone.
        if isMultiboot(kernel) { append = kernel + " " + append }
        if !append.isEmpty { run.append("--append=" + append) } // one argument, even when it starts with -
        for w in warnings { FileHandle.standardError.write(Data("\(program): warning: \(w)\n".utf8)) }
        return run + ["--cpu", model, kernel]
    }

    /// A Multiboot header (magic 0x1BADB002, flags and checksum summing to 0) 4-aligned in
    /// the first 8 KiB.
    static func isMultiboot(_ path: String) -> Bool {
        guard let data = FileManager.default.contents(atPath: path) else { return false }
        let bytes = [UInt8](data.prefix(8192))
        func word(_ o: Int) -> UInt32 { (0..<4).reduce(0) { $0 | UInt32(bytes[o + $1]) << (8 * UInt32($1)) } }
        for o in stride(from: 0, to: bytes.count - 11, by: 4) where word(o) == 0x1BAD_B002 {
            if word(o) &+ word(o + 4) &+ word(o + 8) == 0 { return true }
        }
        return false
    }

    static func number(_ s: String) -> UInt64? {
        s.hasPrefix("0x") ? UInt64(s.dropFirst(2), radix: 16) : UInt64(s)
    }

    /// QEMU's -m: megabytes without a suffix, `size=` optional.
    static func memory(_ v: String) throws(Failure) -> String {
        var s = v.split(separator: ",").first.map(String.init) ?? v
        if s.hasPrefix("size=") { s = String(s.dropFirst(5)) }
        if let last = s.last, last.isNumber { s += "M" }
        guard let bytes = Run.parseSize(s) else { throw Failure("-m \(v): invalid RAM size") }
        guard bytes >= 2 << 20, bytes <= 3 << 30 else {
            throw Failure("-m \(v): softvmm's RAM is from 2 MiB to 3 GiB (below the PCI hole; nothing above 4 GiB yet)")
        }
        return s
    }

    /// QEMU's -smp (`N`, `cpus=N`, `maxcpus=N`; sockets, cores and threads multiply when
    /// `cpus` is not given): the vCPU count. More than softvmm holds is refused with QEMU's
    /// message (kvm-unit-tests' runner reads the maximum from it and skips larger tests).
    static func smp(_ v: String) throws(Failure) -> Int {
        var cpus: UInt64?, maxCPUs: UInt64 = 0, topology: UInt64 = 1, topologyGiven = false
        for part in v.split(separator: ",") {
            let kv = part.split(separator: "=", maxSplits: 1).map(String.init)
            guard let n = UInt64(kv.count == 1 ? kv[0] : kv[1]) else { throw Failure("-smp \(v): \(part) is not a number") }
            switch kv.count == 1 ? "cpus" : kv[0] {
            case "cpus": cpus = n
            case "maxcpus": maxCPUs = n
            case "sockets", "cores", "threads", "dies":
                topology *= n
                topologyGiven = true
            default: throw Failure("-smp \(v): unknown part \(kv[0])")
            }
        }
        let count = cpus ?? (topologyGiven ? topology : 1)
        let most = UInt64(MachineConfiguration.maxProcessors)
        if max(count, maxCPUs) > most { throw Failure("Invalid SMP CPUs \(max(count, maxCPUs)). The max CPUs supported by machine 'pc' is \(most)") }
        guard count >= 1 else { throw Failure("Invalid SMP CPUs 0") }
        return Int(count)
    }

    static func machine(_ v: String) throws(Failure) {
        for part in v.split(separator: ",") {
            let kv = part.split(separator: "=", maxSplits: 1).map(String.init)
            switch kv[0] {
            case "accel": try accelerator(kv.count > 1 ? kv[1] : "")
            case "pc", "pc-i440fx-7.2", "q35", "type": if kv.count > 1 && kv[1] != "pc" { throw Failure("-machine \(v): softvmm is a PC (pc)") }
            case "pit", "vmport", "kernel-irqchip", "hpet", "smm", "usb", "graphics": break
            default: throw Failure("-machine \(v): property '\(kv[0])' not found")
            }
        }
    }

    static func accelerator(_ v: String) throws(Failure) {
        for a in v.split(separator: ":") where a != "tcg" {
            throw Failure("-accel \(a): not available (softvmm executes every instruction itself: accel=tcg)")
        }
    }

    /// QEMU's -cpu as a softvmm model: QEMU's Intel models (Skylake-Server, IvyBridge, ...), max,
    /// and its generic qemu64 and kvm64 are the Intel model (softvmm's default; QEMU gives
    /// qemu64 AMD's vendor string, which `vendor=AuthenticAMD` asks for), its AMD ones (EPYC,
    /// Opteron_G*) the AMD model; `vendor=` overrides; +feature for one softvmm lacks is dropped with
    /// a warning, as QEMU's TCG drops what it cannot do; other properties change nothing.
    static func cpuModel(_ spec: String) throws(Failure) -> (String, [String]) {
        var parts = spec.split(separator: ",").map(String.init)
        guard !parts.isEmpty else { throw Failure("-cpu: no model given") }
        var warnings: [String] = []
        let name = parts.removeFirst()
        var vendor: String
        switch name {
        case "host": throw Failure("CPU model 'host' requires KVM or HVF")
        case "max", "base": vendor = "max"
        case "Opteron_G1", "Opteron_G2", "Opteron_G3", "Opteron_G4", "Opteron_G5", "phenom", "athlon":
            vendor = "EPYC"
        default:
            if name.hasPrefix("EPYC") { vendor = "EPYC" } else if name.first?.isUppercase == true || name.hasPrefix("qemu") || name.hasPrefix("kvm") {
                vendor = "max"
            } else {
                throw Failure("unable to find CPU model '\(name)'")
            }
        }
        var features: [String] = []
        for p in parts {
            if let sign = p.first, sign == "+" || sign == "-" {
                let f = String(p.dropFirst())
                if CPUModel.featureNames[f] != nil {
                    features.append(p)
                } else if sign == "+" {
                    warnings.append("TCG doesn't support requested feature: \(f)")
                }
                continue
            }
            let kv = p.split(separator: "=", maxSplits: 1).map(String.init)
            if kv[0] == "vendor", kv.count == 2 {
                switch kv[1] {
                case "GenuineIntel": vendor = "max"
                case "AuthenticAMD": vendor = "EPYC"
                default: throw Failure("-cpu \(spec): vendor \(kv[1]) is not GenuineIntel or AuthenticAMD")
                }
            }
            // phys-bits, host-phys-bits, migratable, ...: accepted, no effect.
        }
        return (([vendor] + features).joined(separator: ","), warnings)
    }
}
