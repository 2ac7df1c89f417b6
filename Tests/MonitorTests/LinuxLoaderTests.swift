import GuestMemory
import Testing
import VMM
import Monitor
import X86

/// The Linux boot protocol's bzImage loader, on a synthetic image built to the protocol
/// (Documentation/arch/x86/boot.rst): the header's checks, the zero page's loader fields,
/// the initrd's place and the 64-bit entry.
@Suite struct LinuxLoaderTests {
    /// A bzImage: 4 setup sectors (plus the boot sector), protocol 2.15, a 64-bit entry, a
    /// "payload" of `payload` bytes after the setup.
    static func image(version: UInt16 = 0x20F, xloadflags: UInt16 = 1, payload: Int = 8192) -> [UInt8] {
        var b = [UInt8](repeating: 0, count: 5 * 512 + payload)
        func put(_ o: Int, _ v: UInt64, _ n: Int) { for i in 0..<n { b[o + i] = UInt8(truncatingIfNeeded: v >> (8 * UInt64(i))) } }
        put(0x1F1, 4, 1)                     // setup_sects
        put(0x1FE, 0xAA55, 2)
        put(0x201, 0x6A, 1)                  // the header runs to 0x26c
        put(0x202, 0x5372_6448, 4)           // "HdrS"
        put(0x206, UInt64(version), 2)
        put(0x211, 1, 1)                     // LOADED_HIGH
        put(0x22C, 0x7FFF_FFFF, 4)           // initrd_addr_max
        put(0x230, 0x20_0000, 4)             // kernel_alignment
        put(0x234, 1, 1)                     // relocatable
        put(0x236, UInt64(xloadflags), 2)
        put(0x238, 2047, 4)                  // cmdline_size
        put(0x248, 0x100, 4); put(0x24C, UInt64(payload - 0x100), 4)
        put(0x258, 0x100_0000, 8)            // pref_address
        put(0x260, 0x80_0000, 4)             // init_size
        return b
    }

    static let memory = [BootMemoryRegion(base: 0, length: 0x9F000, available: true),
                         BootMemoryRegion(base: 0x9F000, length: 0x61000, available: false),
                         BootMemoryRegion(base: 0x100000, length: (64 << 20) - 0x100000, available: true)]

    @Test func planFollowsTheProtocol() throws {
        let image = LinuxLoaderTests.image()
        #expect(GuestLoader.isBzImage(image))
        let initrd = [UInt8](repeating: 7, count: 10_000)
        let plan = try GuestLoader.linux(image, commandLine: "console=ttyS0", initrd: initrd, memory: LinuxLoaderTests.memory)
        #expect(plan.mode == .linux64 && plan.entry == 0x100_0200 && plan.registers[6] == GuestLoader.zeroPage)
        let kernel = try #require(plan.segments.first { $0.address == 0x100_0000 })
        #expect(kernel.bytes == [UInt8](image[(5 * 512)...]))
        let zero = try #require(plan.segments.first { $0.address == GuestLoader.zeroPage }).bytes
        func u(_ o: Int, _ n: Int) -> UInt64 { (0..<n).reduce(0) { $0 | UInt64(zero[o + $1]) << (8 * UInt64($1)) } }
        #expect(u(0x202, 4) == 0x5372_6448 && u(0x206, 2) == 0x20F)   // the header, copied
        #expect(u(0x210, 1) == 0xFF && u(0x228, 4) == GuestLoader.linuxCommandLine)
        // The initrd: page-aligned, as high as RAM allows, above the kernel's init_size.
        let at = u(0x218, 4)
        #expect(u(0x21C, 4) == 10_000 && at & 0xFFF == 0 && at + 10_000 <= 64 << 20 && at + 10_000 + 0x1000 > 64 << 20)
        #expect(plan.segments.contains { $0.address == at && $0.bytes == initrd })
        // The e820 map: three entries, RAM type 1, the hole type 2.
        #expect(u(0x1E8, 1) == 3 && u(0x2D0 + 20, 8) == 0x9F000 && u(0x2E0 + 20, 4) == 2 && u(0x2E0 + 40, 4) == 1)
        let command = try #require(plan.segments.first { $0.address == GuestLoader.linuxCommandLine })
        #expect(command.bytes == Array("console=ttyS0".utf8) + [0])
    }

    @Test func badKernelsAreNamedBeforeTheGuestStarts() {
        let good = LinuxLoaderTests.image()
        #expect(!GuestLoader.isBzImage(Array("#!/bin/sh\necho not a kernel\n".utf8)))
        #expect(throws: LoaderError.unsupported("boot protocol 2.11: the 64-bit entry needs 2.12 or later")) {
            try GuestLoader.linuxHeader(LinuxLoaderTests.image(version: 0x20B))
        }
        #expect(throws: LoaderError.unsupported("a kernel without the 64-bit entry (xloadflags bit 0)")) {
            try GuestLoader.linuxHeader(LinuxLoaderTests.image(xloadflags: 0))
        }
        // Cut anywhere before the payload's end: a truncation error, never a plan.
        for cut in stride(from: 0x210, to: good.count, by: 97) {
            #expect(throws: LoaderError.self) { try GuestLoader.linux(Array(good[0..<cut]), commandLine: "", initrd: nil, memory: LinuxLoaderTests.memory) }
        }
        // Too little RAM for init_size, a command line too long, an initrd with no room.
        let small = [BootMemoryRegion(base: 0, length: 0x9F000, available: true), BootMemoryRegion(base: 0x100000, length: 0x80_0000, available: true)]
        #expect(throws: LoaderError.self) { try GuestLoader.linux(good, commandLine: "", initrd: nil, memory: small) }
        #expect(throws: LoaderError.self) {
            try GuestLoader.linux(good, commandLine: String(repeating: "x", count: 3000), initrd: nil, memory: LinuxLoaderTests.memory)
        }
        #expect(throws: LoaderError.self) {
            try GuestLoader.linux(good, commandLine: "", initrd: [UInt8](repeating: 0, count: 60 << 20), memory: LinuxLoaderTests.memory)
        }
    }
}

/// Runs `bytes` at 0x100000 as a 64-bit ELF guest (the loader sets up long mode) to its end.
func runLongMode(_ bytes: [UInt8]) throws -> MachineStop {
    let image = makeELF(is64: true, entry: 0x100000, segments: [(0x100000, bytes, UInt64(bytes.count))])
    let host = try HostPhysicalMemory(frames: 8192)
    let machine = try Machine(configuration: MachineConfiguration(), host: host) { _ in }
    try machine.boot(image: image)
    let stop = machine.run()
    machine.teardown()
    #expect(host.liveFrames == 0)
    return stop
}

/// The vmlinux path: an ELF64 kernel with a "Linux" note, loaded at its physical addresses and
/// entered at e_entry through the 64-bit protocol, with the header a loader writes for it.
@Suite struct VmlinuxLoaderTests {
    /// An ELF64 x86-64 executable: one PT_LOAD of `code` at physical 0x1000000 (virtual
    /// 0xffffffff81000000, as Linux links it) with `bss` more bytes, and a PT_NOTE holding a
    /// note from `owner`.
    static func vmlinux(owner: String = "Linux", code: [UInt8] = [UInt8](repeating: 0x90, count: 4096), bss: UInt64 = 0x2000) -> [UInt8] {
        var b = [UInt8](repeating: 0, count: 0x1000)
        func put(_ o: Int, _ v: UInt64, _ n: Int) { for i in 0..<n { b[o + i] = UInt8(truncatingIfNeeded: v >> (8 * UInt64(i))) } }
        b.replaceSubrange(0..<4, with: [0x7F, 0x45, 0x4C, 0x46]); b[4] = 2; b[5] = 1; b[6] = 1
        put(16, 2, 2); put(18, 62, 2); put(20, 1, 4); put(24, 0x100_0000, 8)   // ET_EXEC, x86-64, e_entry
        put(32, 64, 8); put(52, 64, 2); put(54, 56, 2); put(56, 2, 2)          // e_phoff, sizes, two headers
        // PT_LOAD: file offset 0x1000.
        put(64, 1, 4); put(68, 5, 4); put(72, 0x1000, 8); put(80, 0xFFFF_FFFF_8100_0000, 8); put(88, 0x100_0000, 8)
        put(96, UInt64(code.count), 8); put(104, UInt64(code.count) + bss, 8); put(112, 0x1000, 8)
        // PT_NOTE at 0x200: namesz, descsz, type, name (padded to 4), descriptor.
        let name = Array(owner.utf8) + [0]
        let note = [UInt8](repeating: 0, count: 12 + (name.count + 3) / 4 * 4 + 4)
        put(120, 4, 4); put(128, 0x200, 8); put(152, UInt64(note.count), 8)
        put(0x200, UInt64(name.count), 4); put(0x204, 4, 4); put(0x208, 0x100, 4)
        for (i, c) in name.enumerated() { b[0x20C + i] = c }
        return b + code
    }

    @Test func planEntersStartup64WithALoaderHeader() throws {
        let image = VmlinuxLoaderTests.vmlinux()
        #expect(GuestLoader.isLinuxELF(image) && !GuestLoader.isBzImage(image))
        let plan = try GuestLoader.linux(image, commandLine: "console=ttyS0", initrd: [1, 2, 3], memory: LinuxLoaderTests.memory)
        #expect(plan.mode == .linux64 && plan.entry == 0x100_0000 && plan.registers[6] == GuestLoader.zeroPage)
        let kernel = try #require(plan.segments.first { $0.address == 0x100_0000 })
        #expect(kernel.bytes == [UInt8](repeating: 0x90, count: 4096) && kernel.memorySize == 0x3000)
        let zero = try #require(plan.segments.first { $0.address == GuestLoader.zeroPage }).bytes
        func u(_ o: Int, _ n: Int) -> UInt64 { (0..<n).reduce(0) { $0 | UInt64(zero[o + $1]) << (8 * UInt64($1)) } }
        // boot_flag, "HdrS", protocol 2.15, LOADED_HIGH | CAN_USE_HEAP, 64-bit xloadflags, the
        // kernel's place and size, the command line and the initrd.
        #expect(u(0x1FE, 2) == 0xAA55 && u(0x202, 4) == 0x5372_6448 && u(0x206, 2) == 0x20F)
        #expect(u(0x211, 1) == 0x81 && u(0x236, 2) & 1 == 1 && u(0x258, 8) == 0x100_0000 && u(0x260, 4) == 0x3000)
        #expect(u(0x228, 4) == GuestLoader.linuxCommandLine && u(0x21C, 4) == 3 && u(0x218, 4) >= 0x100_3000)
    }

    @Test func otherELFFilesAndDamagedOnesAreNotTakenForLinux() {
        #expect(!GuestLoader.isLinuxELF(VmlinuxLoaderTests.vmlinux(owner: "GNU")))
        let good = VmlinuxLoaderTests.vmlinux()
        #expect(throws: LoaderError.badMagic(what: "a Linux kernel (neither a bzImage nor a 64-bit vmlinux ELF file)")) {
            try GuestLoader.linux(VmlinuxLoaderTests.vmlinux(owner: "GNU"), commandLine: "", initrd: nil, memory: LinuxLoaderTests.memory)
        }
        // Cut inside the code: still a Linux ELF by its note, and a truncation error.
        #expect(throws: LoaderError.truncated(what: "the contents of segment 0", offset: 0x1000, needed: 4096, size: 0x1800)) {
            try GuestLoader.linux(Array(good[0..<0x1800]), commandLine: "", initrd: nil, memory: LinuxLoaderTests.memory)
        }
    }
}
