// User-level interpreter throughput (release build): guest MIPS on register-only,
// call-heavy and memory-heavy loops, and MB/s for rep movsb / rep stosq.
// Results: Benchmarks/RESULTS.md. (qemu-x86_64 comparison: when it is installed.)
import Foundation
import X86
import X86CPU

/// One flat region of guest memory at `base`, read-write-execute.
final class BenchMemory: CPUMemory {
    let base: UInt64 = 0x40_0000
    let size = 64 << 20
    let bytes: UnsafeMutableRawPointer
    init() { bytes = .allocate(byteCount: size, alignment: 4096); bytes.initializeMemory(as: UInt8.self, repeating: 0, count: size) }
    @inline(__always) func offset(_ a: UInt64, _ n: Int) throws(CPUException) -> Int {
        let o = a &- base
        guard o &+ UInt64(n) <= UInt64(size) else { throw .pageFault(address: a, errorCode: 4) }
        return Int(o)
    }
    func read(_ a: UInt64, size n: Int) throws(CPUException) -> UInt64 {
        let o = try offset(a, n)
        switch n {
        case 1: return UInt64(bytes.load(fromByteOffset: o, as: UInt8.self))
        case 2: return UInt64(bytes.loadUnaligned(fromByteOffset: o, as: UInt16.self))
        case 4: return UInt64(bytes.loadUnaligned(fromByteOffset: o, as: UInt32.self))
        default: return bytes.loadUnaligned(fromByteOffset: o, as: UInt64.self)
        }
    }
    func write(_ a: UInt64, size n: Int, value: UInt64) throws(CPUException) {
        let o = try offset(a, n)
        switch n {
        case 1: bytes.storeBytes(of: UInt8(truncatingIfNeeded: value), toByteOffset: o, as: UInt8.self)
        case 2: bytes.storeBytes(of: UInt16(truncatingIfNeeded: value), toByteOffset: o, as: UInt16.self)
        case 4: bytes.storeBytes(of: UInt32(truncatingIfNeeded: value), toByteOffset: o, as: UInt32.self)
        default: bytes.storeBytes(of: value, toByteOffset: o, as: UInt64.self)
        }
    }
    func block(to destination: UInt64, from source: UInt64?, pattern: UInt64, size n: Int, count: Int) -> Bool {
        guard let d = try? offset(destination, count) else { return false }
        if let source {
            guard let s = try? offset(source, count) else { return false }
            (bytes + d).copyMemory(from: bytes + s, byteCount: count)
        } else if n == 1 {
            (bytes + d).initializeMemory(as: UInt8.self, repeating: UInt8(truncatingIfNeeded: pattern), count: count)
        } else {
            for i in stride(from: 0, to: count, by: n) {
                switch n {
                case 2: (bytes + d + i).storeBytes(of: UInt16(truncatingIfNeeded: pattern), as: UInt16.self)
                case 4: (bytes + d + i).storeBytes(of: UInt32(truncatingIfNeeded: pattern), as: UInt32.self)
                default: (bytes + d + i).storeBytes(of: pattern, as: UInt64.self)
                }
            }
        }
        return true
    }
    func fetch(_ a: UInt64, into b: UnsafeMutablePointer<UInt8>, max: Int) throws(CPUException) -> Int {
        let o = try offset(a, 1)
        let n = min(max, size - o)
        b.update(from: bytes.advanced(by: o).assumingMemoryBound(to: UInt8.self), count: n)
        return n
    }
}

/// Runs `code` (placed at the memory base) until RIP reaches its end; returns instructions and seconds.
func run(_ name: String, _ code: [UInt8], setup: (CPU<BenchMemory>) -> Void = { _ in }) -> (Int, Double) {
    let memory = BenchMemory()
    memory.bytes.copyMemory(from: code, byteCount: code.count)
    let cpu = CPU(memory: memory)
    cpu.state.rip = memory.base
    cpu.state.gpr[4] = memory.base + UInt64(memory.size) - 4096
    setup(cpu)
    let end = memory.base + UInt64(code.count)
    let start = DispatchTime.now().uptimeNanoseconds
    let (n, r) = cpu.run(until: end)
    if case .exception(let e) = r { fatalError("\(name): \(e) at \(hex(cpu.state.rip))") }
    return (n, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
}

let iterations: UInt32 = 10_000_000
func imm32(_ v: UInt32) -> [UInt8] { withUnsafeBytes(of: v.littleEndian) { Array($0) } }

// mov ecx, N; L: add eax, ecx; xor edx, eax; sub ebx, edx; dec ecx; jnz L
let registerLoop: [UInt8] = [0xB9] + imm32(iterations) + [0x01, 0xC8, 0x31, 0xC2, 0x29, 0xD3, 0xFF, 0xC9, 0x75, 0xF6]
// mov ecx, N; L: call f; dec ecx; jnz L; jmp end; f: add eax, 1; ret; end:
let callLoop: [UInt8] = [0xB9] + imm32(iterations) + [0xE8, 0x06, 0, 0, 0, 0xFF, 0xC9, 0x75, 0xF7, 0xEB, 0x04,
                                                    0x83, 0xC0, 0x01, 0xC3]
// (4 million iterations: 32 MiB of data.) mov ecx, N; lea rsi, [rip + 0x100000]; L: mov rax, [rsi + rcx*8 - 8]; add [rsi + rcx*8 - 8], rax; dec ecx; jnz L
let memoryLoop: [UInt8] = [0xB9] + imm32(4_000_000) + [0x48, 0x8D, 0x35, 0x00, 0x00, 0x10, 0x00,
                                                      0x48, 0x8B, 0x44, 0xCE, 0xF8, 0x48, 0x01, 0x44, 0xCE, 0xF8,
                                                      0xFF, 0xC9, 0x75, 0xF2]

// Floating point (2 million iterations). SSE2: mov ecx, N; L: cvtsi2sd xmm1, ecx; addsd xmm0, xmm1;
// mulsd xmm1, xmm0; dec ecx; jnz L. x87: mov ecx, N; fld1; fldz; L: fadd st(0), st(1); fld st(0);
// fstp st(0); dec ecx; jnz L.
let sseLoop: [UInt8] = [0xB9] + imm32(2_000_000) + [0xF2, 0x0F, 0x2A, 0xC9, 0xF2, 0x0F, 0x58, 0xC1, 0xF2, 0x0F, 0x59, 0xC8,
                                                    0xFF, 0xC9, 0x75, 0xF0]
let x87Loop: [UInt8] = [0xB9] + imm32(2_000_000) + [0xD9, 0xE8, 0xD9, 0xEE, 0xD8, 0xC1, 0xD9, 0xC0, 0xDD, 0xD8,
                                                    0xFF, 0xC9, 0x75, 0xF6]
let loops = [("register-only", registerLoop), ("call-heavy", callLoop), ("memory-heavy", memoryLoop),
             ("sse2-float", sseLoop), ("x87", x87Loop)]

// `cpu-bench LOOP` runs one loop only (for perf and callgrind).
let only = CommandLine.arguments.dropFirst().first
for (name, code) in loops where only == nil || only == name {
    let (n, t) = run(name, code)
    print(String(format: "%-14@ %6.1f guest MIPS  (%d instructions, %.2f s)", name as NSString, Double(n) / t / 1e6, n, t))
}
if only != nil { exit(0) }
// rep movsb / rep stosq of 16 MiB.
let bytes = 16 << 20
for (name, code) in [("rep movsb", [UInt8]([0xF3, 0xA4])), ("rep stosq", [UInt8]([0xF3, 0x48, 0xAB]))] {
    let (_, t) = run(name, code) { cpu in
        cpu.state.gpr[6] = cpu.memory.base + 0x100_0000
        cpu.state.gpr[7] = cpu.memory.base + 0x200_0000
        cpu.state.gpr[1] = UInt64(name == "rep movsb" ? bytes : bytes / 8)
    }
    print(String(format: "%-14@ %6.0f MB/s", name as NSString, Double(bytes) / t / 1e6))
}
// The same loops under qemu-x86_64 (TCG), in the same run, when it is installed: each loop
// becomes a static ELF that exits when done; time includes qemu's start-up.
func elf(_ code: [UInt8]) -> [UInt8] {
    let base: UInt64 = 0x40_0000, codeOffset: UInt64 = 0x78
    func le<T: FixedWidthInteger>(_ v: T) -> [UInt8] { withUnsafeBytes(of: v.littleEndian) { Array($0) } }
    let exit: [UInt8] = [0xB8, 0x3C, 0, 0, 0, 0x31, 0xFF, 0x0F, 0x05] // mov eax, 60; xor edi, edi; syscall
    let body = code + exit
    var f: [UInt8] = [0x7F, 0x45, 0x4C, 0x46, 2, 1, 1, 0] + [UInt8](repeating: 0, count: 8)
    f += le(UInt16(2)) + le(UInt16(0x3E)) + le(UInt32(1)) + le(base + codeOffset) + le(UInt64(64)) + le(UInt64(0))
    f += le(UInt32(0)) + le(UInt16(64)) + le(UInt16(56)) + le(UInt16(1)) + le(UInt16(0)) + le(UInt16(0)) + le(UInt16(0))
    let fileSize = codeOffset + UInt64(body.count)
    f += le(UInt32(1)) + le(UInt32(7)) + le(UInt64(0)) + le(base) + le(base) + le(fileSize) + le(UInt64(64 << 20)) + le(UInt64(0x1000))
    return f + body
}

func qemuSeconds(_ code: [UInt8]) -> Double? {
    let path = NSTemporaryDirectory() + "softvmm-bench-\(getpid()).elf"
    guard FileManager.default.createFile(atPath: path, contents: Data(elf(code)), attributes: [.posixPermissions: 0o755]) else { return nil }
    defer { try? FileManager.default.removeItem(atPath: path) }
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/qemu-x86_64")
    p.arguments = [path]
    let start = DispatchTime.now().uptimeNanoseconds
    guard (try? p.run()) != nil else { return nil }
    p.waitUntilExit()
    guard p.terminationStatus == 0 else { return nil }
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}

if FileManager.default.isExecutableFile(atPath: "/usr/bin/qemu-x86_64") {
    for (name, code) in loops {
        let (n, t) = run(name, code)
        guard let q = qemuSeconds(code) else { print("\(name): qemu-x86_64 did not run the loop"); continue }
        print(String(format: "%-14@ softvmm %6.1f, qemu-x86_64 %7.1f guest MIPS: softvmm at %.2fx", name as NSString,
                     Double(n) / t / 1e6, Double(n) / q / 1e6, q / t))
    }
} else {
    print("qemu-x86_64 is not installed: no side-by-side figures")
}
