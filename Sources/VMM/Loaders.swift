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
