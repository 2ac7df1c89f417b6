import Foundation
import Testing
import VMM
@testable import Monitor

/// ELF images built field by field, as the ELF specification lays them out.
func makeELF(is64: Bool, machine: UInt16? = nil, entry: UInt64,
             segments: [(paddr: UInt64, bytes: [UInt8], memsz: UInt64)]) -> [UInt8] {
    func le(_ v: UInt64, _ n: Int) -> [UInt8] { (0..<n).map { UInt8(truncatingIfNeeded: v >> (8 * UInt64($0))) } }
    let ehsize = is64 ? 64 : 52, phentsize = is64 ? 56 : 32
    let phoff = ehsize
    var dataOffset = phoff + phentsize * segments.count
    var header: [UInt8] = [0x7F, 0x45, 0x4C, 0x46, is64 ? 2 : 1, 1, 1, 0] + [UInt8](repeating: 0, count: 8)
    header += le(2, 2) + le(UInt64(machine ?? (is64 ? 62 : 3)), 2) + le(1, 4)
    let w = is64 ? 8 : 4
    header += le(entry, w) + le(UInt64(phoff), w) + le(0, w) + le(0, 4) + le(UInt64(ehsize), 2)
    header += le(UInt64(phentsize), 2) + le(UInt64(segments.count), 2) + le(0, 2) + le(0, 2) + le(0, 2)
    var tables: [UInt8] = [], contents: [UInt8] = []
    for s in segments {
        let offset = UInt64(dataOffset)
        if is64 {
            tables += le(1, 4) + le(7, 4) + le(offset, 8) + le(s.paddr, 8) + le(s.paddr, 8)
                + le(UInt64(s.bytes.count), 8) + le(s.memsz, 8) + le(0x1000, 8)
        } else {
            tables += le(1, 4) + le(offset, 4) + le(s.paddr, 4) + le(s.paddr, 4)
                + le(UInt64(s.bytes.count), 4) + le(s.memsz, 4) + le(7, 4) + le(0x1000, 4)
        }
        contents += s.bytes
        dataOffset += s.bytes.count
    }
    return header + tables + contents
}

@Suite struct LoaderTests {
    @Test func elf64SegmentsAndEntry() throws {
        let image = makeELF(is64: true, entry: 0x10_0010, segments: [(0x10_0000, [1, 2, 3, 4], 4), (0x20_0000, [9], 0x1000)])
        let plan = try GuestLoader.elf(image)
        #expect(plan.mode == .long64 && plan.entry == 0x10_0010)
        #expect(plan.segments == [LoadSegment(address: 0x10_0000, bytes: [1, 2, 3, 4], memorySize: 4),
                                  LoadSegment(address: 0x20_0000, bytes: [9], memorySize: 0x1000)])
        #expect(plan.end == 0x20_1000)
    }

    @Test func elf32IsProtectedMode() throws {
        let plan = try GuestLoader.elf(makeELF(is64: false, entry: 0x10_0000, segments: [(0x10_0000, [0xF4], 1)]))
        #expect(plan.mode == .protected32 && plan.segments.count == 1)
    }

    /// Every prefix of a valid image is refused with an error, never a crash or a plan.
    @Test func everyTruncationIsAnError() {
        let image = makeELF(is64: true, entry: 0x1000, segments: [(0x1000, [UInt8](repeating: 0x90, count: 40), 40)])
        for n in 0..<image.count {
            #expect(throws: LoaderError.self) { try GuestLoader.elf(Array(image.prefix(n))) }
        }
    }

    @Test func badImagesAreNamed() {
        func error(_ image: [UInt8]) -> String {
            do { _ = try GuestLoader.elf(image); return "" } catch { return error.description }
        }
        #expect(error([0x4D, 0x5A, 0, 0] + [UInt8](repeating: 0, count: 60)).contains("not an ELF file"))
        #expect(error(makeELF(is64: true, machine: 40, entry: 0, segments: [(0, [1], 1)])).contains("e_machine 40"))
        #expect(error(makeELF(is64: true, entry: 0, segments: [(0, [1, 2], 1)])).contains("p_filesz"))
        #expect(error(makeELF(is64: true, entry: 0, segments: [(0x1000, [1], 0x100), (0x1080, [2], 1)])).contains("overlap"))
        #expect(error(makeELF(is64: true, entry: 0, segments: [])).contains("no loadable segments"))
        var truncated = makeELF(is64: true, entry: 0, segments: [(0x1000, [1, 2, 3], 3)])
        truncated.removeLast()
        #expect(error(truncated).contains("truncated") && error(truncated).contains("segment 0"))
    }

    @Test func flatImage() throws {
        let plan = try GuestLoader.flat([0xEB, 0xFE], at: 0x7C00)
        #expect(plan.entry == 0x7C00 && plan.mode == .real && plan.end == 0x7C02)
        #expect(throws: LoaderError.self) { try GuestLoader.flat([], at: 0) }
    }
}

@Suite struct MultibootTests {
    func le32(_ v: UInt64) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: v >> (8 * UInt64($0))) } }

    /// A kernel whose header carries its load addresses (flag 16), as small assembly kernels do;
    /// load_end_addr is explicit, so a truncated file is detectable.
    func kernel(flags: UInt64 = 0x1_0003, code: [UInt8] = [0xFA, 0xF4, 0xEB, 0xFD]) -> [UInt8] {
        let checksum = (0 &- (GuestLoader.multibootMagic &+ flags)) & 0xFFFF_FFFF
        let size = UInt64(32 + code.count)
        return le32(GuestLoader.multibootMagic) + le32(flags) + le32(checksum)
            + le32(0x10_0000) + le32(0x10_0000) + le32(0x10_0000 + size) + le32(0x10_0000 + size + 0x1000) + le32(0x10_0020) + code
    }

    let memory = [BootMemoryRegion(base: 0, length: 0x9_FC00, available: true),
                  BootMemoryRegion(base: 0x9_FC00, length: 0x400, available: false),
                  BootMemoryRegion(base: 0x10_0000, length: 0x3F0_0000, available: true)]

    @Test func informationStructure() throws {
        let image = kernel()
        let plan = try GuestLoader.multiboot(image, commandLine: "console=ttyS0",
                                             modules: [BootModule(bytes: [7, 7, 7], commandLine: "initrd")], memory: memory)
        #expect(plan.mode == .protected32 && plan.entry == 0x10_0020)
        #expect(plan.segments[0] == LoadSegment(address: 0x10_0000, bytes: image, memorySize: UInt64(image.count) + 0x1000))
        // The module at the next page, the information structure at the page after it.
        #expect(plan.segments[1].address == 0x10_2000 && plan.segments[1].bytes == [7, 7, 7])
        let info = plan.segments[2]
        #expect(plan.registers == [0: 0x2BAD_B002, 3: info.address] && info.address == 0x10_3000)
        func u32(_ address: UInt64) -> UInt64 {
            let o = Int(address - info.address)
            return (0..<4).reduce(0) { $0 | UInt64(info.bytes[o + $1]) << (8 * UInt64($1)) }
        }
        func string(_ address: UInt64) -> String {
            let o = Int(address - info.address)
            return String(decoding: info.bytes[o...].prefix { $0 != 0 }, as: UTF8.self)
        }
        #expect(u32(info.address) == 1 << 0 | 1 << 2 | 1 << 3 | 1 << 6)
        #expect(u32(info.address + 4) == 639 && u32(info.address + 8) == 0x3F0_0000 >> 10)
        #expect(string(u32(info.address + 16)) == "console=ttyS0")
        #expect(u32(info.address + 20) == 1)
        let module = u32(info.address + 24)
        #expect(u32(module) == 0x10_2000 && u32(module + 4) == 0x10_2003 && string(u32(module + 8)) == "initrd")
        // The memory map: three 24-byte entries (size 20, base, length, type).
        #expect(u32(info.address + 44) == 72)
        let mmap = u32(info.address + 48)
        #expect(u32(mmap) == 20 && u32(mmap + 20) == 1 && u32(mmap + 24 + 20) == 2 && u32(mmap + 48 + 4) == 0x10_0000)
    }

    @Test func elfKernel() throws {
        // Flag 16 clear: the ELF program headers say where it goes (the header sits in the contents).
        let flags: UInt64 = 0x3, checksum = (0 &- (GuestLoader.multibootMagic &+ flags)) & 0xFFFF_FFFF
        let body = le32(GuestLoader.multibootMagic) + le32(flags) + le32(checksum) + [0xF4]
        let plan = try GuestLoader.multiboot(makeELF(is64: false, entry: 0x20_000C, segments: [(0x20_0000, body, 0x100)]),
                                             memory: memory)
        #expect(plan.entry == 0x20_000C && plan.segments[0].address == 0x20_0000 && plan.segments.last!.address == 0x20_1000)
    }

    @Test func badKernelsAreNamed() {
        func error(_ image: [UInt8]) -> String {
            do { _ = try GuestLoader.multiboot(image, memory: memory); return "" } catch { return error.description }
        }
        #expect(error([UInt8](repeating: 0x90, count: 100)).contains("Multiboot"))
        var badChecksum = kernel()
        badChecksum[8] ^= 1
        #expect(error(badChecksum).contains("no valid header"))
        #expect(error(kernel(flags: 0x1_0007)).contains("video"))
        for n in 0..<kernel().count { #expect(!error(Array(kernel().prefix(n))).isEmpty) }
    }
}

/// The committed fixture guests load: QEMU ran the same images to make their expectations.
@Suite struct FixtureGuestLoading {
    static let guests = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures/guests")

    @Test func helloIsAMultibootKernel() throws {
        let image = try [UInt8](Data(contentsOf: Self.guests.appendingPathComponent("hello/hello.bin")))
        let plan = try GuestLoader.multiboot(image, memory: [BootMemoryRegion(base: 0, length: 64 << 20, available: true)])
        #expect(plan.mode == .protected32 && plan.entry == 0x10_0020)
        #expect(plan.segments[0].address == 0x10_0000 && plan.segments[0].memorySize >= UInt64(plan.segments[0].bytes.count))
        #expect(plan.registers[0] == 0x2BAD_B002)
        let expected = try String(contentsOf: Self.guests.appendingPathComponent("hello/hello.expected"), encoding: .utf8)
        #expect(expected == "hello from 32-bit protected mode\n")
    }
}
