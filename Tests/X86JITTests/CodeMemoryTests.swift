import Foundation
import Testing
import X86JIT

/// The translation cache's memory: code the encoder wrote runs from it, its pages are never
/// writable and executable at once (the kernel's own view, /proc/self/maps), it refuses what
/// does not fit, and a flush empties it.
@Suite struct CodeMemoryTests {
    /// The permissions of the mappings inside [start, end), from /proc/self/maps.
    static func protections(_ start: UnsafeRawPointer, _ length: Int) throws -> [String] {
        let maps = try String(contentsOfFile: "/proc/self/maps", encoding: .utf8)
        let lo = UInt(bitPattern: start), hi = lo + UInt(length)
        return maps.split(separator: "\n").compactMap { line in
            let f = line.split(separator: " ")
            let range = f[0].split(separator: "-").compactMap { UInt($0, radix: 16) }
            guard range.count == 2, range[0] < hi, range[1] > lo else { return nil }
            return String(f[1])
        }
    }

    @Test func encodedCodeRunsAndIsNeverWritableAndExecutable() throws {
        let memory = try CodeMemory(capacity: 1 << 20)
        var a = X86Assembler()
        a.mov(size: 8, 0, 7)                    // mov rax, rdi
        a.alu(.add, size: 8, 0, 6)              // add rax, rsi
        a.alu(.xor, size: 4, 1, 1)              // xor ecx, ecx (a caller-saved register)
        a.ret()
        let code = try memory.install(a.bytes)
        let region = try CodeMemoryTests.protections(memory.base, memory.capacity)
        #expect(!region.isEmpty && region.allSatisfy { !($0.contains("w") && $0.contains("x")) }, "\(region)")
        #expect(try CodeMemoryTests.protections(code, 1) == ["r-xp"])
        #if arch(x86_64)
        let add = unsafeBitCast(code, to: (@convention(c) (Int, Int) -> Int).self)
        #expect(add(7, 35) == 42)
        #expect(add(-1, 1) == 0)
        #endif
        // A second installation goes after the first, 16-byte aligned, on the same page; the
        // first still runs, and the page is still not writable.
        let second = try memory.install([0xC3])
        #expect(second == code + 16 && memory.used == 17)
        #expect(try CodeMemoryTests.protections(code, 1) == ["r-xp"])
        #if arch(x86_64)
        #expect(add(40, 2) == 42)
        #endif
    }

    @Test func fullThenFlushed() throws {
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let memory = try CodeMemory(capacity: 2 * page)
        _ = try memory.install([UInt8](repeating: 0xC3, count: page))
        #expect(throws: CodeMemoryError.full(capacity: 2 * page, needed: page + 1)) {
            _ = try memory.install([UInt8](repeating: 0xC3, count: page + 1))
        }
        try memory.flush()
        #expect(memory.used == 0 && memory.flushes == 1)
        #expect(try CodeMemoryTests.protections(memory.base, memory.capacity).allSatisfy { $0 == "---p" })
        _ = try memory.install([UInt8](repeating: 0xC3, count: 2 * page))
        #expect(memory.used == 2 * page)
    }
}
