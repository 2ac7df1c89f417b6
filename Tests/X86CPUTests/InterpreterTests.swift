import Testing
import X86
import X86CPU
import CPUCheck

@Suite struct InterpreterTests {
    func cpu(_ code: [UInt8]) -> CPU<FlatMemory> {
        let cpu = CPU(memory: FlatMemory(data: [UInt8](repeating: 0, count: FlatMemory.dataSize), code: code), model: CPUModel(vendor: hostVendor))
        cpu.state.rip = FlatMemory.codeBase
        cpu.state.gpr[4] = FlatMemory.dataBase + 0x1000
        return cpu
    }

    /// A small loop: sum 1..10 with LOOP, then store it.
    @Test func runsALoop() throws {
        // mov ecx, 10; xor eax, eax; L: add eax, ecx; loop L; mov [rsp - 8], rax
        let c = cpu([0xB9, 10, 0, 0, 0, 0x31, 0xC0, 0x01, 0xC8, 0xE2, 0xFC, 0x48, 0x89, 0x44, 0x24, 0xF8])
        for _ in 0..<23 { #expect(c.step() == .executed) }
        #expect(c.state.gpr[0] == 55)
        #expect(try c.memory.read(FlatMemory.dataBase + 0xFF8, size: 8) == 55)
    }

    /// A faulting instruction changes no architectural state.
    @Test func exceptionsChangeNothing() {
        // div rbx with rbx = 0; mov [rax], ecx with rax unmapped; push with rsp unmapped;
        // rol and shl byte [rax], 1 on the read-only code page (the read succeeds, the write faults).
        let codePage = FlatMemory.codeBase
        for (code, reg, value, expected) in [([UInt8]([0x48, 0xF7, 0xF3]), 3, UInt64(0), CPUException.divideError),
                                             ([0x89, 0x08], 0, 0x4000, .pageFault(address: 0x4000, errorCode: 6)),
                                             ([0x50], 4, 0x8, .pageFault(address: 0, errorCode: 6)),
                                             ([0xD0, 0x00], 0, codePage, .pageFault(address: codePage, errorCode: 6)),
                                             ([0xD0, 0x20], 0, codePage, .pageFault(address: codePage, errorCode: 6))] {
            let c = cpu(code)
            c.state.gpr[reg] = value
            c.state.rflags = 0x8D7
            let before = (0..<16).map { c.state.gpr[$0] }
            #expect(c.step() == .exception(expected))
            #expect((0..<16).map { c.state.gpr[$0] } == before)
            #expect(c.state.rflags == 0x8D7 && c.state.rip == FlatMemory.codeBase)
        }
    }

    /// LOCK XADD and LOCK CMPXCHG of the read-only code page (the read succeeds, the write
    /// faults) change nothing either: XADD's register keeps its value, CMPXCHG's RAX too, whether
    /// the compare matched (the register would be written) or not (the old value written back).
    @Test func atomicsThatFaultChangeNothing() {
        let codePage = FlatMemory.codeBase
        // lock xadd [rbx], ecx; lock xadd [rbx], rcx; lock cmpxchg [rbx], ecx; lock cmpxchg [rbx], rcx
        for code in [[UInt8]([0xF0, 0x0F, 0xC1, 0x0B]), [0xF0, 0x48, 0x0F, 0xC1, 0x0B], [0xF0, 0x0F, 0xB1, 0x0B], [0xF0, 0x48, 0x0F, 0xB1, 0x0B]] {
            // What the memory holds: the instruction's own bytes (then zeros), 4 or 8 of them.
            let bytes = code[1] == 0x48 ? 8 : 4
            let first = (code + [0, 0, 0, 0]).prefix(bytes).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
            for rax in [first, first ^ 1] {
                let c = cpu(code)
                c.state.gpr[3] = codePage
                c.state.gpr[1] = 0x1234_5678_9ABC_DEF0
                c.state.gpr[0] = rax
                c.state.rflags = 0x8D7
                let before = (0..<16).map { c.state.gpr[$0] }
                #expect(c.step() == .exception(.pageFault(address: codePage, errorCode: 6)), "\(code)")
                #expect((0..<16).map { c.state.gpr[$0] } == before, "\(code) rax \(rax)")
                #expect(c.state.rflags == 0x8D7 && c.state.rip == FlatMemory.codeBase)
            }
        }
    }

    /// CLI (a fast form in 64-bit mode, run here in a block by `run`) clears IF at CPL 0 and at
    /// CPL 3 with IOPL 3, where it stands among the block's instructions; at CPL 3 with IOPL 0
    /// it is #GP(0) (through `step`, the general path, too), changing nothing.
    @Test func cliClearsIFOrFaultsAboveIOPL() {
        // inc eax; cli; inc eax; hlt
        for (cpl, iopl, faults) in [(0, 0, false), (3, 3, false), (3, 0, true)] {
            for stepped in [false, true] {
                let c = cpu([0xFF, 0xC0, 0xFA, 0xFF, 0xC0, 0xF4])
                c.state.cpl = cpl
                c.state.rflags = 0x202 | UInt64(iopl) << 12
                if stepped {
                    #expect(c.step() == .executed)
                    #expect(c.step() == (faults ? .exception(.generalProtection(0)) : .executed))
                } else {
                    let stop = c.run(limit: 3)
                    #expect(stop == (faults ? .exit(.shutdown) : .limit), "\(stop)")
                }
                #expect(c.state.gpr[0] == (faults ? 1 : 2) || (stepped && !faults && c.state.gpr[0] == 1))
                if !faults { #expect(c.state.rflags == 0x2 | UInt64(iopl) << 12) }
            }
        }
    }

    /// Floating-point faults change nothing either: FSTP to the read-only code page leaves the
    /// status word, TOP and tags as they were; an unmasked SSE exception (#XM) leaves the
    /// destination as it was and records only the flags it raised.
    @Test func floatingPointExceptionsChangeNothing() {
        let codePage = FlatMemory.codeBase
        // fld1; fstp qword [rax] with rax on the code page.
        let c = cpu([0xD9, 0xE8, 0xDD, 0x18])
        c.state.gpr[0] = codePage
        #expect(c.step() == .executed)
        let image = c.state.fxsaveImage()
        #expect(c.step() == .exception(.pageFault(address: codePage, errorCode: 6)))
        #expect(c.state.fxsaveImage() == image)
        // divps xmm0, xmm1 with a zero divisor lane and ZE unmasked: #XM, xmm0 unchanged, ZE set.
        let d = cpu([0x0F, 0x5E, 0xC1])
        d.state.setXMM(0, (0x3F80_0000_3F80_0000, 0x3F80_0000_3F80_0000))
        d.state.setXMM(1, (0x3F80_0000_0000_0000, 0x3F80_0000_3F80_0000))
        d.state.mxcsr = 0x1F80 & ~0x200
        #expect(d.step() == .exception(.simdFloatingPoint))
        #expect(d.state.xmm(0).lo == 0x3F80_0000_3F80_0000 && d.state.mxcsr == 0x1D84)
        // With ZE pending in the x87 status word and unmasked, the next FADD raises #MF first.
        let e = cpu([0xD8, 0xC0])
        e.state.fcw = 0x37B
        e.state.fsw = 0x84 | 0x8000
        #expect(e.step() == .exception(.x87FloatingPoint))
    }

    /// A fixed-seed slice of the host-CPU comparison (the full runs: `softvmm cpu-check`).
    @Test func hostComparisonSlice() {
        let r = runCPUCampaign(count: 2000, seed: 42)
        #expect(r.mismatchCount == 0, "\(r.firstMismatches.map(\.description).joined(separator: "\n"))")
        #expect(r.perFamily.count == Family.allCases.count)
    }
}

@Suite struct SelfModifyingCode {
    /// A program rewrites an instruction it has already executed; the new one runs.
    @Test func rewrittenInstructionRuns() throws {
        // The code lives in the data pages here (FlatMemory's code page is read-only):
        //   0: mov eax, 1            b8 01 00 00 00
        //   5: cmp ebx, 1            83 fb 01
        //   8: je done (+14)         74 0e
        //  10: mov ebx, 1            bb 01 00 00 00
        //  15: mov byte [rip - 21], 2   c6 05 eb ff ff ff 02   (the immediate of the mov at 0)
        //  22: jmp 0                 eb e8
        //  24: done: nop             90
        let base = FlatMemory.dataBase + 0x100
        let program: [UInt8] = [0xB8, 1, 0, 0, 0, 0x83, 0xFB, 0x01, 0x74, 0x0E, 0xBB, 1, 0, 0, 0,
                                0xC6, 0x05, 0xEB, 0xFF, 0xFF, 0xFF, 0x02, 0xEB, 0xE8, 0x90]
        var data = [UInt8](repeating: 0, count: FlatMemory.dataSize)
        data.replaceSubrange(0x100..<0x100 + program.count, with: program)
        let memory = ExecutableData(data: data)
        let cpu = CPU(memory: memory)
        cpu.state.rip = base
        cpu.state.gpr[4] = FlatMemory.dataBase + 0x1000
        var steps = 0
        while cpu.state.rip != base + 24 && steps < 20 {
            #expect(cpu.step() == .executed)
            steps += 1
        }
        #expect(cpu.state.rip == base + 24)
        #expect(cpu.state.gpr[0] == 2, "the rewritten mov ran: eax = 2")
    }
}

/// Data pages that can also be executed (for self-modifying code).
final class ExecutableData: CPUMemory {
    let inner: FlatMemory
    init(data: [UInt8]) { inner = FlatMemory(data: data, code: []) }
    func read(_ a: UInt64, size: Int) throws(CPUException) -> UInt64 { try inner.read(a, size: size) }
    func write(_ a: UInt64, size: Int, value: UInt64) throws(CPUException) { try inner.write(a, size: size, value: value) }
    func fetch(_ a: UInt64, into b: UnsafeMutablePointer<UInt8>, max: Int) throws(CPUException) -> Int {
        guard let o = inner.dataOffset(a, 1) else { throw .pageFault(address: a, errorCode: 0x14) }
        let n = Swift.min(max, FlatMemory.dataSize - o)
        for i in 0..<n { b[i] = inner.data[o + i] }
        return n
    }
}

@Suite struct GuestMisbehaviour {
    /// Random bytes are a guest's business: every step ends in an instruction or an exception,
    /// never a host crash (unimplemented encodings are #UD).
    @Test func randomBytesNeverCrash() {
        var rng = SplitMix64(seed: 77)
        for _ in 0..<20_000 {
            let code = (0..<16).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            let cpu = CPU(memory: FlatMemory(data: [UInt8](repeating: 0, count: FlatMemory.dataSize), code: code))
            cpu.state.rip = FlatMemory.codeBase
            for i in 0..<16 { cpu.state.gpr[i] = rng.next() }
            cpu.state.gpr[4] = FlatMemory.dataBase + 0x1000
            for _ in 0..<4 { if case .exception = cpu.step() { break } }
        }
    }
}

@Suite struct Determinism {
    func run(_ code: [UInt8], steps: Int, model: CPUModel = CPUModel()) -> CPU<FlatMemory> {
        let cpu = CPU(memory: FlatMemory(data: [UInt8](repeating: 0, count: FlatMemory.dataSize), code: code), model: model)
        cpu.state.rip = FlatMemory.codeBase
        cpu.state.gpr[4] = FlatMemory.dataBase + 0x1000
        for _ in 0..<steps { #expect(cpu.step() == .executed) }
        return cpu
    }

    /// Guest time is the retired-instruction count: RDTSC twice, three instructions apart.
    @Test func timeStampCounterCountsInstructions() {
        // rdtsc; mov rbx, rax; nop; rdtsc; sub rax, rbx
        let code: [UInt8] = [0x0F, 0x31, 0x48, 0x89, 0xC3, 0x90, 0x0F, 0x31, 0x48, 0x29, 0xD8]
        let a = run(code, steps: 5), b = run(code, steps: 5)
        #expect(a.state.gpr[0] == 3)
        #expect(a.state.gpr[3] == b.state.gpr[3] && a.retired == 5)
        var fast = CPUModel()
        fast.tscPerInstruction = 10
        let f = run(code, steps: 5, model: fast)
        #expect(f.state.gpr[0] == 30, "rbx \(hex(f.state.gpr[3])) retired \(f.retired)")
    }

    /// RDRAND and RDSEED come from the seeded stream: the same seed, the same values; CF = 1.
    @Test func entropyIsSeeded() {
        // rdrand rax; rdseed ecx; rdrand dx
        let code: [UInt8] = [0x48, 0x0F, 0xC7, 0xF0, 0x0F, 0xC7, 0xF9, 0x66, 0x0F, 0xC7, 0xF2]
        let a = run(code, steps: 3), b = run(code, steps: 3)
        #expect((0..<3).map { a.state.gpr[$0] } == (0..<3).map { b.state.gpr[$0] })
        var stream = SplitMix64(seed: CPUModel().entropySeed)
        #expect(a.state.gpr[0] == stream.next())
        #expect(a.state.gpr[1] == stream.next() & 0xFFFF_FFFF)
        #expect(a.state.rflags & Flag.status == Flag.cf)
        var other = CPUModel()
        other.entropySeed = 1
        #expect(run(code, steps: 1, model: other).state.gpr[0] != a.state.gpr[0])
    }

    /// CPUID reports what the interpreter implements and nothing else: each feature bit is
    /// paired with an instruction that needs it, which must run when the bit is set and raise
    /// #UD when it is clear.
    @Test func cpuidReportsImplementedFeatures() {
        let m = CPUModel()
        let (max, b, c, d) = m.cpuid(0, 0)
        #expect(max == 0x16)
        let vendor = [b, d, c].flatMap { w in (0..<4).map { UInt8(truncatingIfNeeded: w >> (8 * UInt32($0))) } }
        #expect(String(decoding: vendor, as: UTF8.self) == "GenuineIntel")
        // (leaf, register index eax/ebx/ecx/edx, bit, an instruction using the feature)
        let features: [(UInt32, Int, Int, [UInt8], String)] = [
            (1, 3, 0, [0xD9, 0xE8], "x87 (fld1)"),
            (1, 3, 15, [0x0F, 0x44, 0xC1], "CMOV"),
            (1, 3, 24, [0x0F, 0xAE, 0x04, 0x24], "FXSR (fxsave [rsp])"),
            (1, 3, 25, [0x0F, 0x58, 0xC1], "SSE (addps)"),
            (1, 3, 26, [0x66, 0x0F, 0x58, 0xC1], "SSE2 (addpd)"),
            (1, 3, 23, [0x0F, 0xFC, 0xC1], "MMX (paddb mm0, mm1)"),
            (1, 2, 0, [0xF2, 0x0F, 0x7C, 0xC1], "SSE3 (haddps)"),
            (1, 2, 1, [0x66, 0x0F, 0x3A, 0x44, 0xC1, 0x00], "PCLMULQDQ"),
            (1, 2, 9, [0x66, 0x0F, 0x38, 0x00, 0xC1], "SSSE3 (pshufb)"),
            (1, 2, 19, [0x66, 0x0F, 0x38, 0x40, 0xC1], "SSE4.1 (pmulld)"),
            (1, 2, 20, [0x66, 0x0F, 0x38, 0x37, 0xC1], "SSE4.2 (pcmpgtq)"),
            (1, 2, 23, [0xF3, 0x0F, 0xB8, 0xC1], "POPCNT"),
            (1, 2, 26, [0x0F, 0xAE, 0x24, 0x24], "XSAVE (xsave [rsp])"),
            (1, 2, 28, [0xC5, 0xF4, 0x58, 0xC2], "AVX (vaddps)"),
            (1, 2, 12, [0xC4, 0xE2, 0x71, 0xA8, 0xC2], "FMA (vfmadd213ps)"),
            (1, 2, 25, [0x66, 0x0F, 0x38, 0xDC, 0xC1], "AES (aesenc)"),
            (7, 1, 3, [0xC4, 0xE2, 0x70, 0xF2, 0xC2], "BMI1 (andn)"),
            (7, 1, 5, [0xC5, 0xFD, 0xFE, 0xC1], "AVX2 (vpaddd ymm)"),
            (7, 1, 16, [0x62, 0xF1, 0x7C, 0x48, 0x58, 0xC1], "AVX-512F (vaddps zmm)"),
        ]
        for (leaf, register, bit, bytes, name) in features {
            let r = m.cpuid(leaf, 0)
            let word = [r.0, r.1, r.2, r.3][register]
            let reported = word >> UInt32(bit) & 1 != 0
            let cpu = CPU(memory: FlatMemory(data: [UInt8](repeating: 0, count: FlatMemory.dataSize), code: bytes), model: m)
            cpu.state.rip = FlatMemory.codeBase
            cpu.state.gpr[4] = FlatMemory.dataBase + 0x1000
            let ran = cpu.step() != .exception(.invalidOpcode)
            #expect(reported == ran, "\(name): CPUID says \(reported), the interpreter \(ran ? "runs it" : "raises #UD")")
        }
    }
}
