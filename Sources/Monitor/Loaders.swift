import VMM
import X86

// Guest image loaders (issue 5): a flat binary, an ELF file (32- or 64-bit), or a
// Multiboot v1 kernel, turned into a load plan: the bytes to place at guest physical
// addresses and the state the protocol enters in. Parsing is pure and checks every
// field against the file before use; a bad image is a LoaderError that names the
// problem and the offset where it was found.

/// A problem with a guest image, found before the guest starts.
public enum LoaderError: Error, Equatable, CustomStringConvertible {
    case truncated(what: String, offset: Int, needed: Int, size: Int)
    case badMagic(what: String)
    case unsupported(String)
    case badField(what: String, offset: Int, value: UInt64)
    case noLoadableSegments
    case overlappingSegments(UInt64, UInt64)

    public var description: String {
        switch self {
        case .truncated(let what, let offset, let needed, let size):
            "the image is truncated: \(what) needs \(needed) bytes at offset \(offset), but the file has \(size)"
        case .badMagic(let what): "not \(what): the magic number does not match"
        case .unsupported(let what): "unsupported image: \(what)"
        case .badField(let what, let offset, let value): "bad \(what) at offset \(offset): \(hex(value))"
        case .noLoadableSegments: "the ELF file has no loadable segments"
        case .overlappingSegments(let a, let b): "segments at \(hex(a)) and \(hex(b)) overlap"
        }
    }
}

/// Bytes for one guest physical range: `bytes` from the file, then zeros up to `memorySize`.
public struct LoadSegment: Equatable, Sendable {
    public var address: UInt64
    public var bytes: [UInt8]
    public var memorySize: UInt64
    public var end: UInt64 { address + memorySize }
}

/// The CPU mode a protocol enters in.
public enum EntryMode: Equatable, Sendable {
    /// 16-bit real mode (a flat binary loaded as a boot sector or at a reset vector).
    case real
    /// 32-bit protected mode, flat 4 GiB segments, paging off (ELF32 and Multiboot).
    case protected32
    /// 64-bit long mode with identity-mapped paging set up by the loader (ELF64).
    case long64
    /// The Linux 64-bit boot protocol: long mode, identity-mapped paging, CS = __BOOT_CS
    /// (0x10) and DS = ES = SS = __BOOT_DS (0x18), interrupts off, tables in low memory.
    case linux64
}

/// What to place in guest memory and how to start.
public struct LoadPlan: Equatable, Sendable {
    public var segments: [LoadSegment]
    public var entry: UInt64
    public var mode: EntryMode
    /// General registers the protocol defines at entry, by encoding number (0 = rax, 3 = rbx).
    public var registers: [Int: UInt64] = [:]
    /// The highest address any segment occupies (where a loader may put what comes next).
    public var end: UInt64 { segments.map(\.end).max() ?? 0 }
}

/// Little-endian field reads, each checked against the file.
struct ImageReader {
    let bytes: [UInt8]
    func u(_ offset: Int, _ size: Int, _ what: String) throws(LoaderError) -> UInt64 {
        guard offset >= 0, size <= bytes.count, offset <= bytes.count - size else {
            throw .truncated(what: what, offset: offset, needed: size, size: bytes.count)
        }
        var v: UInt64 = 0
        for i in 0..<size { v |= UInt64(bytes[offset + i]) << (8 * UInt64(i)) }
        return v
    }
    func slice(_ offset: UInt64, _ size: UInt64, _ what: String) throws(LoaderError) -> [UInt8] {
        let (end, overflow) = offset.addingReportingOverflow(size)
        guard !overflow, end <= UInt64(bytes.count) else {
            throw .truncated(what: what, offset: Int(clamping: offset), needed: Int(clamping: size), size: bytes.count)
        }
        return Array(bytes[Int(offset)..<Int(end)])
    }
}

public enum GuestLoader {
    /// A flat binary placed at `address`, entered at `address` in `mode`.
    public static func flat(_ image: [UInt8], at address: UInt64, mode: EntryMode = .real) throws(LoaderError) -> LoadPlan {
        guard !image.isEmpty else { throw .truncated(what: "a flat image", offset: 0, needed: 1, size: 0) }
        return LoadPlan(segments: [LoadSegment(address: address, bytes: image, memorySize: UInt64(image.count))],
                        entry: address, mode: mode)
    }

    /// An ELF executable (ELFCLASS32 with EM_386, or ELFCLASS64 with EM_X86_64): its PT_LOAD
    /// segments at their physical addresses, entered at e_entry.
    public static func elf(_ image: [UInt8]) throws(LoaderError) -> LoadPlan {
        let r = ImageReader(bytes: image)
        guard try r.u(0, 4, "the ELF identification") == 0x464C_457F else { throw .badMagic(what: "an ELF file") }
        let elfClass = try r.u(4, 1, "EI_CLASS"), data = try r.u(5, 1, "EI_DATA")
        guard elfClass == 1 || elfClass == 2 else { throw .badField(what: "EI_CLASS", offset: 4, value: elfClass) }
        guard data == 1 else { throw .unsupported("big-endian ELF (EI_DATA \(data))") }
        let is64 = elfClass == 2
        let machine = try r.u(18, 2, "e_machine")
        guard machine == (is64 ? 62 : 3) else {
            throw .unsupported("e_machine \(machine) in a \(is64 ? 64 : 32)-bit ELF file (x86 wants \(is64 ? 62 : 3))")
        }
        let type = try r.u(16, 2, "e_type")
        guard type == 2 || type == 3 else { throw .unsupported("e_type \(type) (not an executable)") }
        let entry = try is64 ? r.u(24, 8, "e_entry") : r.u(24, 4, "e_entry")
        let phoff = try is64 ? r.u(32, 8, "e_phoff") : r.u(28, 4, "e_phoff")
        let phentsize = Int(try r.u(is64 ? 54 : 42, 2, "e_phentsize"))
        let phnum = Int(try r.u(is64 ? 56 : 44, 2, "e_phnum"))
        guard phentsize >= (is64 ? 56 : 32) else { throw .badField(what: "e_phentsize", offset: is64 ? 54 : 42, value: UInt64(phentsize)) }
        guard phoff <= UInt64(image.count) else { throw .badField(what: "e_phoff", offset: is64 ? 32 : 28, value: phoff) }
        var segments: [LoadSegment] = []
        for i in 0..<phnum {
            let h = Int(phoff) + i * phentsize
            guard try r.u(h, 4, "program header \(i)") == 1 else { continue } // PT_LOAD
            let offset = try is64 ? r.u(h + 8, 8, "p_offset") : r.u(h + 4, 4, "p_offset")
            let paddr = try is64 ? r.u(h + 24, 8, "p_paddr") : r.u(h + 12, 4, "p_paddr")
            let filesz = try is64 ? r.u(h + 32, 8, "p_filesz") : r.u(h + 16, 4, "p_filesz")
            let memsz = try is64 ? r.u(h + 40, 8, "p_memsz") : r.u(h + 20, 4, "p_memsz")
            guard filesz <= memsz else { throw .badField(what: "p_filesz (larger than p_memsz) of segment \(i)", offset: h, value: filesz) }
            guard paddr.addingReportingOverflow(memsz).overflow == false else {
                throw .badField(what: "p_paddr + p_memsz of segment \(i)", offset: h, value: paddr)
            }
            if memsz == 0 { continue }
            segments.append(LoadSegment(address: paddr, bytes: try r.slice(offset, filesz, "the contents of segment \(i)"),
                                        memorySize: memsz))
        }
        guard !segments.isEmpty else { throw .noLoadableSegments }
        try checkOverlaps(segments)
        return LoadPlan(segments: segments, entry: entry, mode: is64 ? .long64 : .protected32)
    }

    static func checkOverlaps(_ segments: [LoadSegment]) throws(LoaderError) {
        let sorted = segments.sorted { $0.address < $1.address }
        for (a, b) in zip(sorted, sorted.dropFirst()) where a.end > b.address {
            throw .overlappingSegments(a.address, b.address)
        }
    }
}

/// A region for the Multiboot memory map: `available` RAM or not.
public struct BootMemoryRegion: Equatable, Sendable {
    public var base: UInt64
    public var length: UInt64
    public var available: Bool
    public init(base: UInt64, length: UInt64, available: Bool) {
        (self.base, self.length, self.available) = (base, length, available)
    }
}

/// A Multiboot module: its contents and its command line.
public struct BootModule: Equatable, Sendable {
    public var bytes: [UInt8]
    public var commandLine: String
    public init(bytes: [UInt8], commandLine: String) { (self.bytes, self.commandLine) = (bytes, commandLine) }
}

extension GuestLoader {
    /// The Multiboot v1 header's magic, and what the loader leaves in EAX.
    public static let multibootMagic: UInt64 = 0x1BAD_B002
    public static let multibootBootloaderMagic: UInt64 = 0x2BAD_B002

    /// A Multiboot v1 kernel (the header in its first 8 KiB): loaded by the header's address
    /// fields (flag 16) or as an ELF file; modules page-aligned after it; then the information
    /// structure (memory sizes, command line, modules, memory map). Entered in 32-bit protected
    /// mode with EAX = 0x2BADB002 and EBX = the information structure's address.
    public static func multiboot(_ image: [UInt8], commandLine: String = "", modules: [BootModule] = [],
                                 memory: [BootMemoryRegion]) throws(LoaderError) -> LoadPlan {
        let r = ImageReader(bytes: image)
        var headerOffset: Int?
        var offset = 0
        while offset + 12 <= min(image.count, 8192) {
            if try r.u(offset, 4, "the Multiboot header") == multibootMagic {
                let flags = try r.u(offset + 4, 4, "the Multiboot flags"), checksum = try r.u(offset + 8, 4, "the Multiboot checksum")
                if (multibootMagic &+ flags &+ checksum) & 0xFFFF_FFFF == 0 { headerOffset = offset; break }
            }
            offset += 4
        }
        guard let h = headerOffset else { throw .badMagic(what: "a Multiboot kernel (no valid header in the first 8 KiB)") }
        let flags = try r.u(h + 4, 4, "the Multiboot flags")
        // Required features (bits 0-15): page-aligned modules (0) and memory information (1) are provided.
        if flags & 0xFFFC != 0 {
            throw .unsupported("Multiboot required flags \(hex(flags & 0xFFFC)) (video modes and later features)")
        }
        var plan: LoadPlan
        if flags & (1 << 16) != 0 {
            let headerAddr = try r.u(h + 12, 4, "header_addr"), loadAddr = try r.u(h + 16, 4, "load_addr")
            let loadEnd = try r.u(h + 20, 4, "load_end_addr"), bssEnd = try r.u(h + 24, 4, "bss_end_addr")
            let entry = try r.u(h + 28, 4, "entry_addr")
            guard headerAddr >= loadAddr, headerAddr - loadAddr <= UInt64(h) else {
                throw .badField(what: "header_addr (below load_addr, or before the file)", offset: h + 12, value: headerAddr)
            }
            let fileStart = UInt64(h) - (headerAddr - loadAddr)
            let loadSize = loadEnd == 0 ? UInt64(image.count) - fileStart : loadEnd &- loadAddr
            guard loadEnd == 0 || loadEnd > loadAddr else { throw .badField(what: "load_end_addr", offset: h + 20, value: loadEnd) }
            let memorySize = bssEnd == 0 ? loadSize : bssEnd &- loadAddr
            guard memorySize >= loadSize, memorySize <= 0xFFFF_FFFF else {
                throw .badField(what: "bss_end_addr", offset: h + 24, value: bssEnd)
            }
            plan = LoadPlan(segments: [LoadSegment(address: loadAddr, bytes: try r.slice(fileStart, loadSize, "the load region"),
                                                   memorySize: memorySize)], entry: entry, mode: .protected32)
        } else {
            plan = try elf(image)
            plan.mode = .protected32
        }
        // Modules, then the information structure, page-aligned after the kernel.
        func pageAlign(_ v: UInt64) -> UInt64 { (v + 0xFFF) & ~0xFFF }
        var next = pageAlign(plan.end)
        var moduleEntries: [(start: UInt64, end: UInt64)] = []
        for m in modules {
            plan.segments.append(LoadSegment(address: next, bytes: m.bytes, memorySize: UInt64(m.bytes.count)))
            moduleEntries.append((next, next + UInt64(m.bytes.count)))
            next = pageAlign(next + UInt64(max(m.bytes.count, 1)))
        }
        let info = next
        var blob = [UInt8](repeating: 0, count: 88)
        func put(_ offset: Int, _ v: UInt64) { for i in 0..<4 { blob[offset + i] = UInt8(truncatingIfNeeded: v >> (8 * UInt64(i))) } }
        func append(_ bytes: [UInt8]) -> UInt64 {
            let address = info + UInt64(blob.count)
            blob += bytes
            return address
        }
        var infoFlags: UInt64 = 1 << 0 | 1 << 2 | 1 << 6
        // mem_lower: KiB of RAM from 0 (at most 640); mem_upper: KiB of RAM from 1 MiB to the first hole.
        let lower = memory.first { $0.available && $0.base == 0 }.map { min($0.length, 640 << 10) >> 10 } ?? 0
        var upperEnd: UInt64 = 1 << 20
        while let region = memory.first(where: { $0.available && $0.base <= upperEnd && $0.base + $0.length > upperEnd }) {
            upperEnd = region.base + region.length
        }
        put(4, lower)
        put(8, (upperEnd - (1 << 20)) >> 10)
        put(16, append(Array(commandLine.utf8) + [0]))
        if !modules.isEmpty {
            infoFlags |= 1 << 3
            var table: [UInt8] = []
            let strings = modules.map { append(Array($0.commandLine.utf8) + [0]) }
            for (i, m) in moduleEntries.enumerated() {
                for v in [m.start, m.end, strings[i], 0] { for k in 0..<4 { table.append(UInt8(truncatingIfNeeded: v >> (8 * UInt64(k)))) } }
            }
            put(20, UInt64(modules.count))
            put(24, append(table))
        }
        var mmap: [UInt8] = []
        for region in memory {
            let fields: [(UInt64, Int)] = [(20, 4), (region.base, 8), (region.length, 8), (region.available ? 1 : 2, 4)]
            for (v, n) in fields { for k in 0..<n { mmap.append(UInt8(truncatingIfNeeded: v >> (8 * UInt64(k)))) } }
        }
        put(44, UInt64(mmap.count))
        put(48, append(mmap))
        put(0, infoFlags)
        plan.segments.append(LoadSegment(address: info, bytes: blob, memorySize: UInt64(blob.count)))
        try checkOverlaps(plan.segments)
        plan.registers = [0: multibootBootloaderMagic, 3: info]
        return plan
    }
}
