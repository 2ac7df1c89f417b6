import VMM
import X86

// The Linux x86 boot protocol (the kernel's Documentation/arch/x86/boot.rst), as a boot loader
// follows it for a bzImage and the 64-bit entry: the real-mode setup's header is read and
// checked, the protected-mode kernel is placed at its preferred address, the "zero page"
// (struct boot_params) gets a copy of the header with the loader's fields filled in (loader
// type, command line, initrd, the e820 map), and the CPU enters at the kernel's load address
// + 0x200 in 64-bit mode, with RSI pointing at the zero page, flat __BOOT_CS (0x10) and
// __BOOT_DS (0x18) segments, and identity-mapped paging.

/// What a bzImage's setup header says, checked.
public struct LinuxSetupHeader: Equatable, Sendable {
    public var version: UInt16
    public var setupSectors: Int
    public var loadFlags: UInt8
    public var extendedLoadFlags: UInt16
    public var preferredAddress: UInt64
    public var initSize: UInt64
    public var kernelAlignment: UInt64
    public var relocatable: Bool
    public var commandLineSize: UInt64
    public var initrdAddressMax: UInt64
    /// Where the header ends in the file (0x202 + the byte at 0x201).
    public var headerEnd: Int
    /// The protected-mode kernel's offset in the file.
    public var kernelOffset: Int { (setupSectors + 1) * 512 }
}

extension GuestLoader {
    /// Fixed places in low memory: the zero page, the command line, the loader's GDT and page
    /// tables (seven pages from 0x9000: GDT, PML4, PDPT, four page directories).
    public static let zeroPage: UInt64 = 0x7000
    public static let linuxTables: UInt64 = 0x9000
    public static let linuxCommandLine: UInt64 = 0x20000

    /// Whether `image` looks like a bzImage (the boot sector's 0xAA55 and the header's "HdrS").
    public static func isBzImage(_ image: [UInt8]) -> Bool {
        image.count > 0x206 && image[0x1FE] == 0x55 && image[0x1FF] == 0xAA && Array(image[0x202..<0x206]) == Array("HdrS".utf8)
    }

    /// Reads and checks a bzImage's setup header (protocol 2.12 or later: the 64-bit entry
    /// and the extended load flags).
    public static func linuxHeader(_ image: [UInt8]) throws(LoaderError) -> LinuxSetupHeader {
        let r = ImageReader(bytes: image)
        guard try r.u(0x1FE, 2, "the boot sector signature") == 0xAA55 else { throw .badMagic(what: "a Linux bzImage (no 0xAA55 at 0x1fe)") }
        guard try r.u(0x202, 4, "the setup header magic") == 0x5372_6448 else { throw .badMagic(what: "a Linux bzImage (no \"HdrS\" at 0x202)") }
        let version = UInt16(try r.u(0x206, 2, "the boot protocol version"))
        guard version >= 0x20C else {
            throw .unsupported("boot protocol \(version >> 8).\(String(format: "%02d", version & 0xFF)): the 64-bit entry needs 2.12 or later")
        }
        var sectors = Int(try r.u(0x1F1, 1, "setup_sects"))
        if sectors == 0 { sectors = 4 }
        let h = LinuxSetupHeader(
            version: version, setupSectors: sectors, loadFlags: UInt8(try r.u(0x211, 1, "loadflags")),
            extendedLoadFlags: UInt16(try r.u(0x236, 2, "xloadflags")), preferredAddress: try r.u(0x258, 8, "pref_address"),
            initSize: try r.u(0x260, 4, "init_size"), kernelAlignment: try r.u(0x230, 4, "kernel_alignment"),
            relocatable: try r.u(0x234, 1, "relocatable_kernel") != 0, commandLineSize: try r.u(0x238, 4, "cmdline_size"),
            initrdAddressMax: try r.u(0x22C, 4, "initrd_addr_max"), headerEnd: 0x202 + Int(try r.u(0x201, 1, "the header length")))
        guard h.loadFlags & 1 != 0 else { throw .unsupported("a zImage (loaded low): only bzImages are") }
        guard h.extendedLoadFlags & 1 != 0 else { throw .unsupported("a kernel without the 64-bit entry (xloadflags bit 0)") }
        guard h.kernelOffset < image.count else {
            throw .truncated(what: "the protected-mode kernel", offset: h.kernelOffset, needed: 1, size: image.count)
        }
        // The payload's length and offset (0x248, 0x24C) must lie in the file: a cut-short image
        // fails here rather than in the guest's decompressor.
        let payloadOffset = try r.u(0x248, 4, "payload_offset"), payloadLength = try r.u(0x24C, 4, "payload_length")
        _ = try r.slice(UInt64(h.kernelOffset) + payloadOffset, payloadLength, "the compressed kernel (payload_offset, payload_length)")
        return h
    }

    /// Whether `image` is an uncompressed Linux kernel (a `vmlinux`): a 64-bit x86 ELF file
    /// with a note from "Linux" or a Xen guest-OS note saying "linux".
    public static func isLinuxELF(_ image: [UInt8]) -> Bool {
        let r = ImageReader(bytes: image)
        guard (try? r.u(0, 4, "")) == 0x464C_457F, (try? r.u(4, 1, "")) == 2, (try? r.u(18, 2, "")) == 62,
              let notes = try? elfNotes(image) else { return false }
        return notes.contains { $0.name == "Linux" || ($0.name == "Xen" && $0.type == 6 && $0.desc.starts(with: Array("linux".utf8))) }
    }

    /// The notes in a 64-bit ELF file's PT_NOTE segments.
    static func elfNotes(_ image: [UInt8]) throws(LoaderError) -> [(name: String, type: UInt64, desc: [UInt8])] {
        let r = ImageReader(bytes: image)
        let phoff = Int(clamping: try r.u(32, 8, "e_phoff")), phentsize = Int(try r.u(54, 2, "e_phentsize"))
        let phnum = Int(try r.u(56, 2, "e_phnum"))
        var notes: [(name: String, type: UInt64, desc: [UInt8])] = []
        for i in 0..<phnum where try r.u(phoff + i * phentsize, 4, "program header \(i)") == 4 {
            let h = phoff + i * phentsize
            let segment = try r.slice(try r.u(h + 8, 8, "p_offset"), try r.u(h + 32, 8, "p_filesz"), "the notes of segment \(i)")
            let n = ImageReader(bytes: segment)
            var at = 0
            func align(_ v: Int) -> Int { (v + 3) & ~3 }
            while at + 12 <= segment.count {
                let nameSize = Int(try n.u(at, 4, "n_namesz")), descSize = Int(try n.u(at + 4, 4, "n_descsz"))
                let type = try n.u(at + 8, 4, "n_type")
                let name = try n.slice(UInt64(at + 12), UInt64(nameSize), "a note's name")
                let desc = try n.slice(UInt64(at + 12 + align(nameSize)), UInt64(descSize), "a note's descriptor")
                notes.append((String(decoding: name.prefix { $0 != 0 }, as: UTF8.self), type, desc))
                at += 12 + align(nameSize) + align(descSize)
            }
        }
        return notes
    }

    /// The load plan for a kernel by what it is: a bzImage, or an uncompressed `vmlinux`.
    public static func linux(_ image: [UInt8], commandLine: String, initrd: [UInt8]?,
                             memory: [BootMemoryRegion]) throws(LoaderError) -> LoadPlan {
        if isBzImage(image) { return try bzImage(image, commandLine: commandLine, initrd: initrd, memory: memory) }
        guard isLinuxELF(image) else { throw .badMagic(what: "a Linux kernel (neither a bzImage nor a 64-bit vmlinux ELF file)") }
        return try vmlinux(image, commandLine: commandLine, initrd: initrd, memory: memory)
    }

    /// A bzImage: the protected-mode kernel at its preferred address, entered at + 0x200 (the
    /// decompressor's 64-bit entry), and its own setup header in the zero page.
    static func bzImage(_ image: [UInt8], commandLine: String, initrd: [UInt8]?,
                        memory: [BootMemoryRegion]) throws(LoaderError) -> LoadPlan {
        let h = try linuxHeader(image)
        let kernel = Array(image[h.kernelOffset...])
        let load = h.preferredAddress
        let header = Array(image[0x1F1..<min(h.headerEnd, image.count)])
        let segment = LoadSegment(address: load, bytes: kernel, memorySize: UInt64(kernel.count))
        return try bootPlan(kernel: [segment], end: load + max(h.initSize, UInt64(kernel.count)), entry: load + 0x200, header: header,
                            h: h, commandLine: commandLine, initrd: initrd, memory: memory)
    }

    /// An uncompressed kernel (`vmlinux`, as `softvmm extract-vmlinux` writes it): its PT_LOAD
    /// segments at their physical addresses, entered at e_entry (startup_64) through the same
    /// 64-bit protocol, skipping the decompressor; with no setup code to copy, the zero page
    /// gets the header a boot loader writes for such a kernel (Firecracker does the same).
    static func vmlinux(_ image: [UInt8], commandLine: String, initrd: [UInt8]?,
                        memory: [BootMemoryRegion]) throws(LoaderError) -> LoadPlan {
        let elf = try elf(image)
        guard elf.mode == .long64 else { throw .unsupported("a 32-bit Linux ELF kernel") }
        let start = elf.segments.map(\.address).min() ?? 0
        let h = LinuxSetupHeader(version: 0x20F, setupSectors: 0, loadFlags: 1, extendedLoadFlags: 0x3, preferredAddress: start,
                                 initSize: elf.end - start, kernelAlignment: 0x20_0000, relocatable: false,
                                 commandLineSize: 2047, initrdAddressMax: 0x7FFF_FFFF, headerEnd: 0x268)
        var header = [UInt8](repeating: 0, count: h.headerEnd - 0x1F1)
        func put(_ offset: Int, _ v: UInt64, _ size: Int) {
            for i in 0..<size { header[offset - 0x1F1 + i] = UInt8(truncatingIfNeeded: v >> (8 * UInt64(i))) }
        }
        put(0x1FE, 0xAA55, 2); put(0x202, 0x5372_6448, 4); put(0x206, UInt64(h.version), 2)
        put(0x211, UInt64(h.loadFlags), 1); put(0x22C, h.initrdAddressMax, 4); put(0x230, h.kernelAlignment, 4)
        put(0x236, UInt64(h.extendedLoadFlags), 2); put(0x238, h.commandLineSize, 4)
        put(0x258, h.preferredAddress, 8); put(0x260, h.initSize, 4)
        return try bootPlan(kernel: elf.segments, end: elf.end, entry: elf.entry, header: header, h: h,
                            commandLine: commandLine, initrd: initrd, memory: memory)
    }

    /// What both kinds share: the zero page (the header, then the loader's fields: loader type,
    /// command line, initrd, e820 map), the command line, the initrd as high as the kernel
    /// allows, and the 64-bit entry with RSI = the zero page.
    static func bootPlan(kernel: [LoadSegment], end kernelEnd: UInt64, entry: UInt64, header: [UInt8], h: LinuxSetupHeader,
                         commandLine: String, initrd: [UInt8]?, memory: [BootMemoryRegion]) throws(LoaderError) -> LoadPlan {
        let ramTop = memory.filter(\.available).map { $0.base + $0.length }.max() ?? 0
        guard kernelEnd <= ramTop else {
            throw .badField(what: "init_size (the kernel needs more memory than the guest has)", offset: 0x260, value: h.initSize)
        }
        let command = Array(commandLine.utf8) + [0]
        guard UInt64(command.count) <= h.commandLineSize + 1 else {
            throw .badField(what: "command line length (cmdline_size is smaller)", offset: 0x238, value: UInt64(command.count))
        }
        var zero = [UInt8](repeating: 0, count: 4096)
        zero.replaceSubrange(0x1F1..<0x1F1 + header.count, with: header)
        func put(_ offset: Int, _ v: UInt64, _ size: Int) {
            for i in 0..<size { zero[offset + i] = UInt8(truncatingIfNeeded: v >> (8 * UInt64(i))) }
        }
        put(0x210, 0xFF, 1)                                  // type_of_loader: undefined
        put(0x211, UInt64(h.loadFlags | 0x80), 1)            // loadflags: CAN_USE_HEAP
        put(0x224, 0xFE00, 2)                                // heap_end_ptr
        put(0x228, linuxCommandLine, 4)                      // cmd_line_ptr
        var segments = kernel + [LoadSegment(address: linuxCommandLine, bytes: command, memorySize: UInt64(command.count))]
        if let initrd, !initrd.isEmpty {
            let limit = min(ramTop, h.initrdAddressMax + 1)
            let size = UInt64(initrd.count)
            guard size + 0x1000 <= limit, (limit - size) & ~0xFFF >= kernelEnd else {
                throw .badField(what: "initrd size (no room above the kernel and below initrd_addr_max)", offset: 0x22C, value: size)
            }
            let at = (limit - size) & ~0xFFF
            put(0x218, at, 4); put(0x21C, size, 4)            // ramdisk_image, ramdisk_size
            put(0x0C0, at >> 32, 4); put(0x0C4, size >> 32, 4) // ext_ramdisk_image, ext_ramdisk_size
            segments.append(LoadSegment(address: at, bytes: initrd, memorySize: size))
        }
        // The e820 map: the regions given, RAM as type 1, the rest reserved (2).
        for (i, region) in memory.prefix(128).enumerated() {
            put(0x2D0 + 20 * i, region.base, 8); put(0x2D8 + 20 * i, region.length, 8); put(0x2E0 + 20 * i, region.available ? 1 : 2, 4)
        }
        put(0x1E8, UInt64(min(memory.count, 128)), 1)
        segments.append(LoadSegment(address: zeroPage, bytes: zero, memorySize: 4096))
        try checkOverlaps(segments)
        return LoadPlan(segments: segments, entry: entry, mode: .linux64, registers: [6: zeroPage])
    }
}
