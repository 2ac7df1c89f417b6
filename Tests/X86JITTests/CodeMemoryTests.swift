import Foundation
import Testing
import X86JIT

/// The translation cache's memory: code the encoder wrote runs from it, its pages are never
/// writable and executable at once (the kernel's own view, /proc/self/maps), it refuses what
/// does not fit, and a flush empties it.
@Suite struct CodeMemoryTests {
    /// The permissions of the mappings inside [start, end), from /proc/self/maps. Other tests
    /// change mappings meanwhile (translations being installed), and a read of the file that
    /// races with that can miss lines: it is read again until two reads agree and show the
    /// range (which is always mapped).
    static func protections(_ start: UnsafeRawPointer, _ length: Int) throws -> [String] {
        let lo = UInt(bitPattern: start), hi = lo + UInt(length)
        func read() throws -> [String] {
            // Read to the end: the file's size reads as 0, and a read of a fixed size misses
            // mappings past it when there are many (each vCPU's tables are mappings of their own).
            guard let handle = FileHandle(forReadingAtPath: "/proc/self/maps") else { return [] }
            defer { try? handle.close() }
            let maps = String(decoding: try handle.readToEnd() ?? Data(), as: UTF8.self)
            return maps.split(separator: "\n").compactMap { line in
                let f = line.split(separator: " ")
                let range = f[0].split(separator: "-").compactMap { UInt($0, radix: 16) }
                guard range.count == 2, range[0] < hi, range[1] > lo else { return nil }
                return String(f[1])
            }
        }
        var last = try read()
        for attempt in 0..<2000 {
            let again = try read()
            if again == last && !again.isEmpty { break }
            last = again
            // Other tests map and unmap their CPUs' tables all the time: wait a little.
            if attempt > 10 { usleep(500) }
        }
        return last
    }

    @Test(arguments: [true, false])
    func encodedCodeRunsAndIsNeverWritableAndExecutable(twoViews: Bool) throws {
        let memory = try CodeMemory(capacity: 1 << 20, twoViews: twoViews)
        #expect(memory.hasTwoViews == twoViews)
        var a = X86Assembler()
        a.mov(size: 8, 0, 7)                    // mov rax, rdi
        a.alu(.add, size: 8, 0, 6)              // add rax, rsi
        a.alu(.xor, size: 4, 1, 1)              // xor ecx, ecx (a caller-saved register)
        a.ret()
        let code = try memory.install(a.bytes)
        // Where code runs, nothing is writable; and no mapping of the process is writable and
        // executable (the writable view of the code, where there is one, is not executable).
        let region = try CodeMemoryTests.protections(memory.base, memory.capacity)
        #expect(!region.isEmpty && region.allSatisfy { !$0.contains("w") }, "\(region)")
        #expect(try CodeMemoryTests.protections(code, 1).map { $0.prefix(3) } == ["r-x"])
        let all = try CodeMemoryTests.protections(UnsafeRawPointer(bitPattern: 1)!, Int.max / 2)
        #expect(!all.isEmpty && !all.contains { $0.contains("w") && $0.contains("x") }, "\(all)")
        #if arch(x86_64)
        let add = unsafeBitCast(code, to: (@convention(c) (Int, Int) -> Int).self)
        #expect(add(7, 35) == 42)
        #expect(add(-1, 1) == 0)
        #endif
        // A second installation goes after the first, 16-byte aligned, on the same page; the
        // first still runs, and the page is still not writable.
        let second = try memory.install([0xC3])
        #expect(second == code + 16 && memory.used == 17)
        #expect(try CodeMemoryTests.protections(code, 1).map { $0.prefix(3) } == ["r-x"])
        #if arch(x86_64)
        #expect(add(40, 2) == 42)
        #endif
    }

    @Test(arguments: [true, false])
    func fullThenFlushed(twoViews: Bool) throws {
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let memory = try CodeMemory(capacity: 2 * page, twoViews: twoViews)
        _ = try memory.install([UInt8](repeating: 0xC3, count: page))
        #expect(throws: CodeMemoryError.full(capacity: 2 * page, needed: page + 1)) {
            _ = try memory.install([UInt8](repeating: 0xC3, count: page + 1))
        }
        try memory.flush()
        #expect(memory.used == 0 && memory.flushes == 1)
        #expect(try CodeMemoryTests.protections(memory.base, memory.capacity).allSatisfy { !$0.contains("w") })
        _ = try memory.install([UInt8](repeating: 0xC3, count: 2 * page))
        #expect(memory.used == 2 * page)
    }

    /// Cold code goes from the end down, hot code from the start up; where they would meet the
    /// memory is full, and a flush empties both.
    @Test(arguments: [true, false])
    func hotFromTheStartColdFromTheEnd(twoViews: Bool) throws {
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let memory = try CodeMemory(capacity: 2 * page, twoViews: twoViews)
        let hot = try memory.install([0xC3])
        let cold = try memory.install([UInt8](repeating: 0xC3, count: 100), cold: true)
        #expect(hot == UnsafeRawPointer(memory.base))
        // 16-byte aligned, its end at most 15 bytes before the memory's.
        #expect(cold == UnsafeRawPointer(memory.base + (2 * page - 100) / 16 * 16))
        #expect(memory.used == 1 && memory.coldUsed == 2 * page - (2 * page - 100) / 16 * 16)
        // Room for both: what is left between them, and not a byte more.
        let left = 2 * page - memory.coldUsed - 16
        #expect(throws: CodeMemoryError.full(capacity: 2 * page, needed: left + 1)) {
            _ = try memory.install([UInt8](repeating: 0xC3, count: left + 1))
        }
        #expect(throws: CodeMemoryError.full(capacity: 2 * page, needed: left + 16)) {
            _ = try memory.install([UInt8](repeating: 0xC3, count: left + 16), cold: true)
        }
        _ = try memory.install([UInt8](repeating: 0xC3, count: left))
        #expect(memory.used == 2 * page - memory.coldUsed)
        try memory.flush()
        #expect(memory.used == 0 && memory.coldUsed == 0)
        #expect(try memory.install([0xC3], cold: true) == UnsafeRawPointer(memory.base + 2 * page - 16))
    }

    /// Code split in two and placed apart runs as it did whole: the branches from one part
    /// into the other are aimed again (a jump out to the cold part, which sets the result and
    /// jumps back; a conditional jump taken into it and one back).
    @Test(arguments: [true, false])
    func splitCodeRunsWithItsBranchesAimedAgain(twoViews: Bool) throws {
        let memory = try CodeMemory(capacity: 1 << 20, twoViews: twoViews)
        var a = X86Assembler()
        a.mov(size: 8, 0, 7)                    // mov rax, rdi
        a.alu(.cmp, size: 8, 0, immediate: 5)
        let toCold = a.jcc(.e, 0)               // je cold
        let back = a.bytes.count
        a.alu(.add, size: 8, 0, immediate: 1)   // add rax, 1
        a.ret()
        let split = a.bytes.count
        a.patch(toCold, to: split)
        a.mov(size: 8, 0, immediate: 1000)      // cold: mov rax, 1000
        a.patch(a.jmp(0), to: back)             //       jmp back
        // The hot part at the start, the cold part 64 KiB on.
        let hot = try memory.reserve(split), cold = try memory.reserve(a.bytes.count - split, cold: true)
        #expect(cold - hot > 60_000)
        let base = Int(bitPattern: memory.base)
        let parts = a.split(at: split, first: base + hot, second: base + cold)
        #expect(parts.first.count == split && parts.first.count + parts.second.count == a.bytes.count)
        try memory.write(parts.first, at: hot)
        try memory.write(parts.second, at: cold)
        #if arch(x86_64)
        let f = unsafeBitCast(memory.base + hot, to: (@convention(c) (Int) -> Int).self)
        #expect(f(1) == 2)
        #expect(f(5) == 1001)
        #endif
        // Placed whole (the second part right after the first), the bytes are the assembler's.
        let whole = a.split(at: split, first: 0, second: split)
        #expect(whole.first + whole.second == a.bytes)
    }
}
