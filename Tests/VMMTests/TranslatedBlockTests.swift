import GuestMemory
import Testing
@_spi(Testing) import VMM
import X86
import X86CPU
import X86JIT

/// Blocks run as host code (`--engine jit`) against the interpreter (`--engine interp`), in
/// two VMs in 64-bit mode over the same RAM: random programs of register and memory forms,
/// branches forward over the next instruction, pushes and pops, each run seven times from the
/// same random state (a block is translated after its fourth run; its memory forms miss the
/// TLB at first and hit it later). After every run the two must agree on every register,
/// RIP, RFLAGS (all of it: where a form's flags are read the translation computes them as the
/// interpreter does), the retired count, and the data and the stack. Each round writes its
/// program over the last one's (as a device's DMA would), which must drop the translations;
/// every fifth writes the same program again, whose blocks get their translations back.
@Suite struct TranslatedBlockTests {
    static let code: UInt64 = 0x10000, data: UInt64 = 0x100000, stack: UInt64 = 0x180000

    /// A VM of `vcpus` vCPUs in 64-bit mode at CPL 0, running: identity paging of 16 MiB with
    /// 2 MiB pages (PML4 0x1000, PDPT 0x2000, PD 0x3000).
    static func makeVM(_ engine: ExecutionEngine, vcpus: Int = 1, translationCache: Int = 64 << 20) throws -> (VirtualMachine, HostPhysicalMemory) {
        let host = try HostPhysicalMemory(frames: 4096 + 64)
        let vm = try VirtualMachine(name: "jit", map: try MemoryMap([MemoryRange(.ram, base: 0, size: 16 << 20)]), vcpuCount: vcpus,
                                    host: host, engine: engine, translationCache: translationCache)
        try vm.writePhysical(0x1000, le64(0x2003))
        try vm.writePhysical(0x2000, le64(0x3003))
        for i in 0..<8 { try vm.writePhysical(0x3000 + UInt64(8 * i), le64(UInt64(i) << 21 | 0x83)) }
        for v in vm.vcpus {
            var s = v.getState()
            s.cr0 = 0x8000_0011; s.cr3 = 0x1000; s.cr4 = 0x20; s.efer = 0x500
            s[.cs] = VCPUSegment(selector: 8, base: 0, limit: 0xFFFF_FFFF, attributes: 0xA09B)
            for r in [SegmentRegister.ds, .es, .ss] { s[r] = VCPUSegment(selector: 16, base: 0, limit: 0xFFFF_FFFF, attributes: 0xC093) }
            s.activity = 0
            v.setState(s)
        }
        return (vm, host)
    }

    /// A random program: R15 holds the data base and RSP the middle of the data (neither is
    /// written by the program but through PUSH and POP).
    /// Random register values (R15 the data, RSP the stack) and status flags, into both vCPUs,
    /// which start at the code, not halted.
    static func start(_ vcpus: [VirtualCPU], _ random: inout SplitMix64) {
        var values: [UInt64] = (0..<16).map { _ in random.next() >> (random.next() % 64) }
        values[15] = data
        values[4] = stack
        let flags = 2 | random.next() & 0x8D5
        for v in vcpus {
            var s = v.getState()
            s.gprs = values
            s.rflags = flags
            s.rip = code
            s.activity = 0
            v.setState(s)
        }
    }

    /// Both vCPUs at the code, not halted, RFLAGS `flags`, every register 0 but RSP (the
    /// stack) and those `registers` names.
    static func start(_ vcpus: [VirtualCPU], registers: [Int: UInt64], flags: UInt64) {
        for v in vcpus {
            var s = v.getState()
            s.gprs = [UInt64](repeating: 0, count: 16)
            s.gprs[4] = stack
            for (r, value) in registers { s.gprs[r] = value }
            s.rflags = flags
            s.rip = code
            s.activity = 0
            v.setState(s)
        }
    }

    /// A translator's VM and an interpreter's, each with `program` at `code` and its vCPU started
    /// there (`start`); the translator's translates a block once it has run `threshold` times.
    static func pair(_ program: [UInt8], registers: [Int: UInt64], threshold: Int = 1) throws
        -> (jit: VirtualMachine, interp: VirtualMachine, hosts: [HostPhysicalMemory]) {
        let (jit, jitHost) = try makeVM(.jit), (interp, interpHost) = try makeVM(.interpreter)
        jit.vcpus[0].translationThreshold = threshold
        for vm in [jit, interp] { #expect(vm.dmaWrite(code, program)) }
        start([jit.vcpus[0], interp.vcpus[0]], registers: registers, flags: 2)
        return (jit, interp, [jitHost, interpHost])
    }

    /// Runs both VMs' vCPU for `limit` instructions; nil when they agree (the exit, RIP, the
    /// retired count, RFLAGS, every register, the data and the stack), else what differs.
    static func runBoth(_ jit: VirtualMachine, _ interp: VirtualMachine, limit: UInt64) -> (same: Bool, report: String, exit: String) {
        var states: [String] = []
        for vm in [jit, interp] {
            let v = vm.vcpus[0]
            let exit = v.run(limit: limit)
            let e = v.getState()
            states.append("\(exit) rip \(hex(e.rip)) retired \(v.retired) rflags \(hex(e.rflags)) \(e.gprs.map { hex($0) })")
        }
        let memorySame = jit.readPhysical(data, count: 4096) == interp.readPhysical(data, count: 4096)
            && jit.readPhysical(stack - 4096, count: 8192) == interp.readPhysical(stack - 4096, count: 8192)
        return (states[0] == states[1] && memorySame,
                "translated:  \(states[0])\ninterpreter: \(states[1])\nmemory the same: \(memorySame)", states[0])
    }

    /// `reserved`: registers nothing writes but PUSH and POP (RSP); `branches`: whether forward
    /// branches come in.
    static func program(_ random: inout SplitMix64, reserved: Set<Int> = [4, 15], branches: Bool = true, stack: Bool = true) -> [UInt8] {
        var asm = X86Assembler()
        let count = Int(random.next() % 24 + 1)
        var pendingSkip: Int? = nil
        for _ in 0..<count {
            let size = random.next() % 2 == 0 ? 4 : 8
            var d = Int(random.next() % 16), s = Int(random.next() % 16)
            while reserved.contains(d) { d = Int(random.next() % 16) }
            if random.next() % 4 == 0 { s = d }
            let imm = Int32(truncatingIfNeeded: Int64(bitPattern: random.next()) >> Int64(random.next() % 63))
            let data = X86Assembler.Memory(base: 15, displacement: Int32(random.next() % 2048))
            let cc = X86Assembler.Condition(rawValue: UInt8(random.next() % 16))!
            let before = asm.bytes.count
            switch random.next() % 26 {
            case 0, 1, 2: asm.alu(X86Assembler.ALU(rawValue: UInt8(random.next() % 8))!, size: size, d, s)
            case 3, 4: asm.alu(X86Assembler.ALU(rawValue: UInt8(random.next() % 8))!, size: size, d, immediate: imm)
            case 5: asm.mov(size: size, d, s)
            case 6: asm.mov(size: [1, 2, 4, 8][Int(random.next() % 4)], d, immediate: Int64(bitPattern: random.next()))
            case 7: asm.test(size: size, d, s)
            case 8: asm.imul(size: size, d, s)
            case 9: asm.cmov(cc, size: size, d, s)
            case 10:
                let from = [1, 2, 4][Int(random.next() % 3)]
                asm.extend(signed: from == 4 || random.next() % 2 == 0, size: from == 4 ? 8 : size, d, from: from, s)
            case 11:
                let base = random.next() % 4 == 0 ? nil : Optional(Int(random.next() % 16))
                let index = random.next() % 2 == 0 ? nil : Optional([0, 3, 5, 9, 12, 13, 15][Int(random.next() % 7)])
                asm.lea(size: size, d, X86Assembler.Memory(base: base, index: index, scale: [1, 2, 4, 8][Int(random.next() % 4)], displacement: imm))
            case 12: asm.unary(X86Assembler.Unary.allCases[Int(random.next() % 4)], size: [1, 2, 4, 8][Int(random.next() % 4)], d)
            case 13:
                // By a constant, or by CL (whose count may be 0); of a register or of the data,
                // at any size (a byte's or word's count may pass its width).
                let op: X86Assembler.Shift = [.shl, .shr, .sar, .rol, .ror][Int(random.next() % 5)]
                let width = random.next() % 2 == 0 ? size : [1, 2][Int(random.next() % 2)]
                let count = random.next() % 2 == 0 ? UInt8(random.next() % 31 + 1) : nil
                if random.next() % 3 == 0 { asm.shift(op, size: width, data, by: count) } else { asm.shift(op, size: width, d, by: count) }
            case 14: asm.set(cc, d)
            case 15:
                // A load of any size (a byte or word keeps the rest), or one widened.
                if random.next() % 2 == 0 {
                    asm.mov(size: [1, 2, 4, 8][Int(random.next() % 4)], d, data)
                } else {
                    let from = [1, 2, 4][Int(random.next() % 3)]
                    asm.extend(signed: from == 4 || random.next() % 2 == 0, size: from == 4 ? 8 : size, d, from: from, data)
                }
            case 16: asm.mov(size: [1, 2, 4, 8][Int(random.next() % 4)], data, s == 4 ? 0 : s)
            case 17: asm.alu(X86Assembler.ALU(rawValue: UInt8(random.next() % 8))!, size: size, data, s == 4 ? 0 : s)
            case 21: asm.unary(random.next() % 2 == 0 ? .inc : .dec, size: [1, 2, 4, 8][Int(random.next() % 4)], data)
            case 22: asm.bswap(size: size, d)
            case 23: asm.imul(size: size, d, s, immediate: Int32(truncatingIfNeeded: Int64(imm)))
            case 24: asm.aluHigh(X86Assembler.ALU(rawValue: UInt8(random.next() % 8))!, [0, 2, 3][Int(random.next() % 3)], immediate: UInt8(truncatingIfNeeded: imm))
            case 18 where stack: asm.push(s)
            case 19 where stack: asm.pop(d)
            case 20 where branches:
                // A branch over the next instruction.
                pendingSkip = asm.jcc(cc, 0)
                continue
            default: asm.alu(X86Assembler.ALU(rawValue: UInt8(random.next() % 8))!, size: [1, 2][Int(random.next() % 2)], d, s)
            }
            if let at = pendingSkip, at < before { asm.patch(at, to: asm.bytes.count); pendingSkip = nil }
        }
        if let at = pendingSkip { asm.patch(at, to: asm.bytes.count) }
        return asm.bytes
    }

    @Test func randomProgramsMatchTheInterpreter() throws {
        #if arch(x86_64)
        var random = SplitMix64(seed: 2501)
        let (jit, jitHost) = try TranslatedBlockTests.makeVM(.jit), (interp, interpHost) = try TranslatedBlockTests.makeVM(.interpreter)
        let translated = jit.vcpus[0], interpreted = interp.vcpus[0]
        #expect(translated.engine == .jit && interpreted.engine == .interpreter)
        translated.translationThreshold = 4
        var code: [UInt8] = []
        for round in 0..<1500 {
            // Every fifth round writes the last program again: its blocks are dropped and built
            // again with the same forms, and get their kept translations back (`reattach`).
            if round % 5 != 4 { code = TranslatedBlockTests.program(&random) + [0xF4] }
            #expect(jit.dmaWrite(TranslatedBlockTests.code, code))
            #expect(interp.dmaWrite(TranslatedBlockTests.code, code))
            for run in 0..<7 {
                TranslatedBlockTests.start([translated, interpreted], &random)
                let (same, report, _) = TranslatedBlockTests.runBoth(jit, interp, limit: 10_000)
                #expect(same, "round \(round) run \(run): \(code.map { String($0, radix: 16) })\n\(report)")
                if !same { return }
            }
        }
        let t = try #require(translated.translation)
        #expect(t.blocks > 1000 && t.nativeForms > 5 * t.fallbackForms, "\(t)")
        #expect(translated.translationsReattached >= 200, "\(translated.translationsReattached) translations given back")
        jit.teardown()
        interp.teardown()
        #expect(jitHost.liveFrames == 0 && interpHost.liveFrames == 0)
        #endif
    }

    /// Loops: a random body (no branch of its own) run RCX times by DEC RCX; JNZ back to the
    /// block's start, which a translation runs again in host code while the budget holds a
    /// whole pass. The run is cut into random budgets, so passes end short of the loop's end
    /// and runs end mid-block; after each cut the two engines agree as above.
    @Test func loopsRunInHostCodeAndStopWhereTheBudgetEnds() throws {
        #if arch(x86_64)
        var random = SplitMix64(seed: 2502)
        let (jit, _) = try TranslatedBlockTests.makeVM(.jit), (interp, _) = try TranslatedBlockTests.makeVM(.interpreter)
        let translated = jit.vcpus[0], interpreted = interp.vcpus[0]
        translated.translationThreshold = 4
        var halted = 0
        for round in 0..<300 {
            // No RCX writes but the loop's own; half the bodies branch forward inside (their
            // blocks then go on into each other in host code).
            // Every third body is a function (no PUSH or POP: its RET must find the return
            // address; R14 may hold its address).
            let function = round % 3 == 1
            let body = TranslatedBlockTests.program(&random, reserved: function ? [1, 4, 14, 15] : [1, 4, 15], branches: round % 2 == 0,
                                                    stack: !function)
            var asm = X86Assembler()
            asm.mov(size: 8, 1, immediate: Int64(random.next() % 300 + 1))
            let top = asm.bytes.count
            var loop = X86Assembler()
            loop.unary(.dec, size: 8, 1)
            var code = asm.bytes + body + loop.bytes + [0x0F, 0x85] + TranslatedBlockTests.le32(Int32(top - (asm.bytes.count + body.count + loop.bytes.count + 6))) + [0xF4]
            if function {
                // The body as a function the loop calls (CALL rel32, or CALL through R14 every
                // other time): RET goes on into the caller's translation.
                let head = asm.bytes.count
                var call: [UInt8]
                var setup = X86Assembler()
                if round % 2 == 0 {
                    call = [0xE8, 0, 0, 0, 0]
                } else {
                    setup.mov(size: 8, 14, immediate: 0)
                    var c = X86Assembler()
                    c.call(register: 14)
                    call = c.bytes
                }
                let callerLength = setup.bytes.count + call.count + loop.bytes.count + 6 + 1
                let function = head + callerLength
                if round % 2 == 0 {
                    call = [0xE8] + TranslatedBlockTests.le32(Int32(function - (head + setup.bytes.count + 5)))
                } else {
                    setup = X86Assembler()
                    setup.mov(size: 8, 14, immediate: Int64(TranslatedBlockTests.code) + Int64(function))
                }
                let top = head + setup.bytes.count
                code = asm.bytes + setup.bytes + call + loop.bytes + [0x0F, 0x85]
                    + TranslatedBlockTests.le32(Int32(top - (head + setup.bytes.count + call.count + loop.bytes.count + 6))) + [0xF4]
                    + body + [0xC3]
            }
            #expect(jit.dmaWrite(TranslatedBlockTests.code, code))
            #expect(interp.dmaWrite(TranslatedBlockTests.code, code))
            TranslatedBlockTests.start([translated, interpreted], &random)
            for cut in 0..<10_000 {
                let limit = random.next() % 4 == 0 ? UInt64(random.next() % 5 + 1) : random.next() % 3000 + 1
                let (same, report, exit) = TranslatedBlockTests.runBoth(jit, interp, limit: limit)
                #expect(same, "round \(round) cut \(cut) (limit \(limit)): \(code.map { String($0, radix: 16) })\n\(report)")
                if !same { return }
                if exit.hasPrefix("hlt") { halted += 1 }
                if exit.hasPrefix("hlt") || exit.hasPrefix("shutdown") { break }
            }
        }
        let t = try #require(translated.translation)
        #expect(t.loops > 50 && t.chains > 100 && t.edges > 50, "\(t)")
        #expect(halted == 300, "\(halted) of 300 loops ran to their HLT")
        #endif
    }

    /// Another vCPU's store reaches code this vCPU runs as host code: vCPU 0 runs a loop that
    /// calls f (mov eax, imm32; ret) and sums what it returns, 150 of its 200 passes; vCPU 1
    /// stores a new immediate into f; vCPU 0's last 50 passes must return it. A fault planted
    /// in vCPU 0's translator on f (R12 += 1 on each pass as host code) shows f ran as host
    /// code before the store.
    @Test func anotherVCPUsStoreReachesTranslatedCode() throws {
        #if arch(x86_64)
        let (vm, host) = try TranslatedBlockTests.makeVM(.jit, vcpus: 2)
        let (v0, v1) = (vm.vcpus[0], vm.vcpus[1])
        let loop: [UInt8] = [0xE8] + TranslatedBlockTests.le32(0xFB) + [0x01, 0xC3, 0xFF, 0xC9, 0x75, 0xF5, 0xF4]   // call f; add ebx, eax; dec ecx; jnz; hlt
        let f: [UInt8] = [0xB8, 0x01, 0x00, 0x00, 0x00, 0xC3]                        // 0x10100: mov eax, 1; ret
        let store: [UInt8] = [0xC7, 0x04, 0x25, 0x01, 0x01, 0x01, 0x00, 0xE8, 0x03, 0x00, 0x00, 0xF4]   // mov dword [0x10101], 1000; hlt
        #expect(vm.dmaWrite(TranslatedBlockTests.code, loop))
        #expect(vm.dmaWrite(TranslatedBlockTests.code + 0x100, f))
        #expect(vm.dmaWrite(TranslatedBlockTests.code + 0x200, store))
        #expect(v0.plantTranslationFault(at: TranslatedBlockTests.code + 0x100, register: 12))
        for (v, rip) in [(v0, TranslatedBlockTests.code), (v1, TranslatedBlockTests.code + 0x200)] {
            var s = v.getState()
            s.gprs = [UInt64](repeating: 0, count: 16)
            s.gprs[1] = 200
            s.gprs[4] = TranslatedBlockTests.stack
            s.rip = rip
            v.setState(s)
        }
        #expect("\(v0.run(limit: 150 * 6))" == "instruction limit")
        #expect(v0.register(3) == 150)
        #expect(v0.register(12) > 0, "f never ran as host code")
        _ = v1.run(limit: 10)
        #expect(v1.halted)
        _ = v0.run(limit: 10_000)
        #expect(v0.halted)
        #expect(v0.register(3) == 150 + 50 * 1000)
        vm.teardown()
        #expect(host.liveFrames == 0)
        #endif
    }

    /// One translation cache for the vCPUs (issue 25, build item 3): vCPU 1 starts a loop
    /// (ADD EBX, ECX; DEC ECX; JNZ), two passes, not yet warm; vCPU 0 runs it all and
    /// translates it; vCPU 1 then goes on and, when its block is warm, gets vCPU 0's
    /// translation, translating nothing itself. A fault planted in the machine's translator on
    /// the loop (R12 += 1 on each pass as host code) shows vCPU 1 ran it as host code; both sum
    /// 100..1 all the same.
    @Test func theVCPUsShareTheirTranslations() throws {
        #if arch(x86_64)
        let (vm, host) = try TranslatedBlockTests.makeVM(.jit, vcpus: 2)
        let loop: [UInt8] = [0x01, 0xCB, 0xFF, 0xC9, 0x75, 0xFA, 0xF4]     // add ebx, ecx; dec ecx; jnz; hlt
        #expect(vm.dmaWrite(TranslatedBlockTests.code, loop))
        #expect(vm.vcpus[0].plantTranslationFault(at: TranslatedBlockTests.code, register: 12))
        TranslatedBlockTests.start(vm.vcpus, registers: [1: 100], flags: 2)
        for v in vm.vcpus { v.translationThreshold = 4 }
        #expect("\(vm.vcpus[1].run(limit: 6))" == "instruction limit")
        for v in vm.vcpus {
            _ = v.run(limit: 10_000)
            #expect(v.halted && v.register(3) == 5050 && v.register(1) == 0)
            #expect(v.register(12) > 0, "vCPU \(v.id) never ran the loop as host code")
        }
        #expect(vm.vcpus[0].blocksTranslated >= 1)
        #expect(vm.vcpus[1].blocksTranslated == 0 && vm.vcpus[1].translationsShared >= 1,
                "vCPU 1 translated \(vm.vcpus[1].blocksTranslated) blocks, got \(vm.vcpus[1].translationsShared) of vCPU 0's")
        vm.teardown()
        #expect(host.liveFrames == 0)
        #endif
    }

    /// A flush of the shared translation cache reaches every vCPU: vCPU 1's loop is translated
    /// and stopped halfway; vCPU 0 then runs 600 blocks (ADD RAX, 1; JMP to the next) twice,
    /// which do not fit in a 64 KiB cache, so the translator flushes and fills the memory again
    /// with other code. vCPU 1 must not run its loop's old code: it goes on, and sums 100..1
    /// as the interpreter does.
    @Test func aFlushByOneVCPUReachesTheOthers() throws {
        #if arch(x86_64)
        let (vm, host) = try TranslatedBlockTests.makeVM(.jit, vcpus: 2, translationCache: 64 << 10)
        let (v0, v1) = (vm.vcpus[0], vm.vcpus[1])
        let blocks = 600
        var many: [UInt8] = []
        for _ in 0..<blocks { many += [0x48, 0x83, 0xC0, 0x01, 0xEB, 0x00] }      // add rax, 1; jmp +0
        many += [0xFF, 0xC9, 0x0F, 0x85] + TranslatedBlockTests.le32(Int32(-(many.count + 8))) + [0xF4]  // dec ecx; jnz start; hlt
        let loop: [UInt8] = [0x01, 0xCB, 0xFF, 0xC9, 0x75, 0xFA, 0xF4]
        #expect(vm.dmaWrite(TranslatedBlockTests.code, many))
        #expect(vm.dmaWrite(TranslatedBlockTests.code + 0x4000, loop))
        TranslatedBlockTests.start([v0], registers: [1: 2], flags: 2)
        TranslatedBlockTests.start([v1], registers: [1: 100], flags: 2)
        var s = v1.getState()
        s.rip = TranslatedBlockTests.code + 0x4000
        v1.setState(s)
        for v in [v0, v1] { v.translationThreshold = 1 }
        #expect("\(v1.run(limit: 150))" == "instruction limit")
        #expect(v1.blocksTranslated >= 1 && v1.register(1) == 50)
        _ = v0.run(limit: 100_000)
        #expect(v0.halted && v0.register(0) == UInt64(2 * blocks))
        let t = try #require(v0.translation)
        #expect(t.flushes > 0, "\(t.blocks) blocks, \(t.codeBytes) bytes of code and no flush")
        _ = v1.run(limit: 100_000)
        #expect(v1.halted && v1.register(3) == 5050 && v1.register(1) == 0)
        vm.teardown()
        #expect(host.liveFrames == 0)
        #endif
    }

    /// A debugger's breakpoint stops translated code that would go on past it: a loop of two
    /// blocks (ADD EBX, ECX; JMP to DEC ECX; JNZ back), translated at its first run and going
    /// on from one into the other in host code, gets a breakpoint on its second block halfway.
    /// The next run stops there, before the DEC; resumed, it passes the breakpoint once (the
    /// block is checked again and runs) and must stop there on the next pass, although the
    /// first block's translation could go on into the second's: each stop exactly where the
    /// interpreter stops (RIP, the count, EBX, ECX).
    @Test func aBreakpointStopsChainedTranslations() throws {
        #if arch(x86_64)
        let (jit, _) = try TranslatedBlockTests.makeVM(.jit), (interp, _) = try TranslatedBlockTests.makeVM(.interpreter)
        let loop: [UInt8] = [0x01, 0xCB, 0xEB, 0x00, 0xFF, 0xC9, 0x75, 0xF8, 0xF4]   // add ebx, ecx; jmp +0; dec ecx; jnz; hlt
        let second = TranslatedBlockTests.code + 4
        var seen: [String] = []
        for vm in [jit, interp] {
            let v = vm.vcpus[0]
            v.translationThreshold = 1
            #expect(vm.dmaWrite(TranslatedBlockTests.code, loop))
            TranslatedBlockTests.start([v], registers: [1: 100], flags: 2)
            #expect("\(v.run(limit: 61))" == "instruction limit")
            v.debuggerBreakpoints = [second]
            var runs: [String] = []
            for _ in 0..<3 {
                let exit = v.run(limit: 1000)
                runs.append("\(exit) rip \(hex(v.getState().rip)) retired \(v.retired) ebx \(v.register(3)) ecx \(v.register(1))")
                v.resumeFromBreakpoint()
            }
            seen.append(runs.joined(separator: "; "))
        }
        #expect(seen[0] == seen[1], "translated: \(seen[0])\ninterpreter: \(seen[1])")
        #expect(seen[0].hasPrefix("debugger breakpoint rip \(hex(second)) retired 62 ebx \((85...100).reduce(0, +)) ecx 85; "
                                  + "debugger breakpoint rip \(hex(second)) retired 66 ebx \((84...100).reduce(0, +)) ecx 84"), "\(seen[0])")
        #expect(try #require(jit.vcpus[0].translation).chains > 0)
        #endif
    }

    /// A memory form that writes the flags but faults leaves the flags before it, as the
    /// interpreter does: AND R8D, 7FFFH (ZF set) then CMP EDX, [RSI] with RSI unmapped. The
    /// probe's own compare must not stand for the guest's flags on the way to the fault.
    @Test func aFaultingCompareLeavesTheFlagsBeforeIt() throws {
        #if arch(x86_64)
        let program: [UInt8] = [0x41, 0x81, 0xE0, 0xFF, 0x7F, 0x00, 0x00, 0x3B, 0x16, 0xF4]   // and r8d, 7fffh; cmp edx, [rsi]; hlt
        let (jit, interp, _) = try TranslatedBlockTests.pair(program, registers: [8: 0x10000, 6: 0x200_0000])
        let (same, report, _) = TranslatedBlockTests.runBoth(jit, interp, limit: 100)
        #expect(same, "\(report)")
        #expect(try #require(jit.vcpus[0].translation).blocks > 0)
        #endif
    }

    /// Flags kept in AX across memory forms (`FormEmitter.parked`) and a logical operation's AF
    /// (`afClear`) reach a fault as the interpreter leaves them: a CMP or an AND whose flags a
    /// load after it parks, then a load from an unmapped page (RSI). On the slow path the flags
    /// must come from AX, not the register file (stale) or the probe's compare.
    @Test func flagsKeptInAXReachAFault() throws {
        #if arch(x86_64)
        let programs: [[UInt8]] = [
            [0x39, 0xD8, 0x8B, 0x0F, 0x8B, 0x16, 0xF4],                     // cmp eax, ebx; mov ecx, [rdi]; mov edx, [rsi]; hlt
            [0x39, 0xD8, 0x8B, 0x0F, 0x89, 0xC8, 0x88, 0x16, 0xF4],         // cmp eax, ebx; mov ecx, [rdi]; mov eax, ecx; mov [rsi], dl; hlt
            [0x04, 0x01, 0x21, 0xD8, 0x8B, 0x0F, 0x3B, 0x16, 0xF4],         // add al, 1; and eax, ebx; mov ecx, [rdi]; cmp edx, [rsi]; hlt
            [0x0C, 0x00, 0x8B, 0x0F, 0x8B, 0x16, 0xF4],                     // or al, 0; mov ecx, [rdi]; mov edx, [rsi]; hlt
        ]
        for program in programs {
            let (jit, interp, hosts) = try TranslatedBlockTests.pair(program, registers: [0: 0x0F, 3: 0x8F, 7: TranslatedBlockTests.data, 6: 0x200_0000])
            let (same, report, _) = TranslatedBlockTests.runBoth(jit, interp, limit: 100)
            #expect(same, "\(program): \(report)")
            #expect(try #require(jit.vcpus[0].translation).blocks > 0)
            for vm in [jit, interp] { vm.teardown() }
            #expect(hosts.allSatisfy { $0.liveFrames == 0 })
        }
        #endif
    }

    /// A loop's translation whose other block must be checked again (`FormEmitter.enter`): an
    /// outer loop writes CR3 (a new code epoch: every block's key is stale) before each run of
    /// an inner loop of two blocks translated together; the branch into the other block finds
    /// its key stale, leaves to `runBlock`, which checks it again, and the loop goes on. Run in
    /// pieces of random length, the state after each is the interpreter's.
    @Test func aLoopsBlocksAreCheckedAgainAfterAFlush() throws {
        #if arch(x86_64)
        let program: [UInt8] = [
            0x0F, 0x22, 0xD8,                   // outer: mov cr3, rax
            0xBA, 0x32, 0x00, 0x00, 0x00,       // mov edx, 50
            0x01, 0xD3, 0xEB, 0x00,             // a: add ebx, edx; jmp b
            0xFF, 0xCA, 0x75, 0xF8,             // b: dec edx; jnz a
            0xFF, 0xC9, 0x75, 0xEC,             // dec ecx; jnz outer
            0xF4,                               // hlt
        ]
        let (jit, interp, hosts) = try TranslatedBlockTests.pair(program, registers: [0: 0x1000, 1: 30], threshold: 2)
        var random = SplitMix64(seed: 2515)
        var exit = ""
        while !exit.hasPrefix("hlt") {
            let (same, report, e) = TranslatedBlockTests.runBoth(jit, interp, limit: random.next() % 400 + 1)
            #expect(same, "\(report)")
            if !same || e.hasPrefix("shutdown") { break }
            exit = e
        }
        #expect(jit.vcpus[0].register(3) == 30 * (50 * 51 / 2))
        #expect(jit.vcpus[0].loopsTranslated > 0)
        #expect(try #require(jit.vcpus[0].translation).edges > 0)
        for vm in [jit, interp] { vm.teardown() }
        #expect(hosts.allSatisfy { $0.liveFrames == 0 })
        #endif
    }

    /// Flags carried from one block into the next: block A's CMP sets CF and jumps to B,
    /// whose ADC reads it (B needs the flags A leaves); B jumps to C, whose ADD writes every flag
    /// before anything reads one (C needs none: they stay in the host until a branch out fails
    /// or the code leaves). 200 passes, CF set in the 99 with ECX below 100: EBX = 99, EDX = 200,
    /// and the same RFLAGS and count under both engines.
    @Test func chainedTranslationsCarryTheFlags() throws {
        #if arch(x86_64)
        // ECX = 200, EBX = EDX = 0 as it starts (A is the first block built, and warm first:
        // B and C go into its translation, B taking A's flags in AX).
        let program: [UInt8] = [
            0x83, 0xF9, 0x64, 0xEB, 0x01, 0x90,                     // top: cmp ecx, 100; jmp b; nop
            0x83, 0xD3, 0x00, 0xEB, 0x01, 0x90,                     // b: adc ebx, 0; jmp c; nop
            0x83, 0xC2, 0x01, 0xFF, 0xC9, 0x75, 0xED, 0xF4,         // c: add edx, 1; dec ecx; jnz top; hlt
        ]
        var results: [[UInt64]] = []
        for engine in [ExecutionEngine.jit, .interpreter] {
            let (vm, host) = try TranslatedBlockTests.makeVM(engine)
            let v = vm.vcpus[0]
            v.translationThreshold = 4
            #expect(vm.dmaWrite(TranslatedBlockTests.code, program))
            var s = v.getState()
            s.rip = TranslatedBlockTests.code
            s.gprs = [UInt64](repeating: 0, count: 16)
            s.gprs[1] = 200
            v.setState(s)
            _ = v.run(limit: 100_000)
            #expect(v.halted)
            #expect(v.register(3) == 99 && v.register(2) == 200)
            if engine == .jit {
                // The three blocks are a loop in one page: translated together, B's flags
                // carried in AX from A, C's dead where it starts.
                #expect(try #require(v.translation).edges > 0)
                #expect(v.loopsTranslated > 0)
            }
            results.append([v.register(3), v.register(2), v.rflags, v.retired])
            vm.teardown()
            #expect(host.liveFrames == 0)
        }
        #expect(results[0] == results[1])
        #endif
    }

    /// SHL, SHR, SAR, ROL and ROR by CL whose flags are read (the block ends after them): for
    /// every count from 0 to 65 (masked to 5 or 6 bits; 0 leaves every flag, 1 defines OF,
    /// others leave OF and AF to the interpreter's choice), 32 and 64 bits, from flags all set
    /// and all clear, the translation leaves what the interpreter leaves, RFLAGS whole.
    @Test func shiftsByCLLeaveTheInterpretersFlags() throws {
        #if arch(x86_64)
        let (jit, jitHost) = try TranslatedBlockTests.makeVM(.jit), (interp, interpHost) = try TranslatedBlockTests.makeVM(.interpreter)
        let translated = jit.vcpus[0], interpreted = interp.vcpus[0]
        translated.translationThreshold = 1
        var random = SplitMix64(seed: 2512)
        for op in [X86Assembler.Shift.shl, .shr, .sar, .rol, .ror] {
            for size in [4, 8] {
                var asm = X86Assembler()
                asm.shift(op, size: size, 3)       // RBX by CL
                let code = asm.bytes + [0xF4]
                #expect(jit.dmaWrite(TranslatedBlockTests.code, code))
                #expect(interp.dmaWrite(TranslatedBlockTests.code, code))
                for count: UInt64 in 0...65 {
                    for flags: UInt64 in [2, 2 | 0x8D5] {
                        let value = random.next() | (count % 2 == 0 ? 1 << 63 | 1 << 31 : 0)
                        TranslatedBlockTests.start([translated, interpreted], registers: [1: count | 0x100, 3: value], flags: flags)
                        let (same, report, _) = TranslatedBlockTests.runBoth(jit, interp, limit: 100)
                        #expect(same, "\(op) \(size * 8) bits by \(count) of \(hex(value)), flags \(hex(flags))\n\(report)")
                        if !same { return }
                    }
                }
            }
        }
        let t = try #require(translated.translation)
        #expect(t.blocks >= 10 && t.fallbackForms == 0, "\(t)")
        jit.teardown()
        interp.teardown()
        #expect(jitHost.liveFrames == 0 && interpHost.liveFrames == 0)
        #endif
    }

    /// SHL, SHR and SAR by a constant whose flags are read (the block ends after them), of a
    /// register and of memory, 8 to 64 bits, every count the encoding's mask leaves (a byte's
    /// or word's count past its width takes the general path in both engines), from flags all
    /// set and all clear: the translation leaves what the interpreter leaves, RFLAGS whole, and
    /// the same memory. Each case runs twice, the second time with the TLB holding the page (a
    /// translation's probe misses the first time and runs the interpreter).
    @Test func shiftsByAConstantLeaveTheInterpretersFlags() throws {
        #if arch(x86_64)
        let (jit, jitHost) = try TranslatedBlockTests.makeVM(.jit), (interp, interpHost) = try TranslatedBlockTests.makeVM(.interpreter)
        let translated = jit.vcpus[0], interpreted = interp.vcpus[0]
        translated.translationThreshold = 1
        var random = SplitMix64(seed: 2513)
        let operand = X86Assembler.Memory(base: 15, displacement: 8)
        for op in [X86Assembler.Shift.shl, .shr, .sar] {
            for size in [1, 2, 4, 8] {
                for inMemory in [false, true] {
                    for count in 1...UInt8(size == 8 ? 63 : 31) {
                        var asm = X86Assembler()
                        if inMemory { asm.shift(op, size: size, operand, by: count) } else { asm.shift(op, size: size, 3, by: count) }
                        let code = asm.bytes + [0xF4]
                        #expect(jit.dmaWrite(TranslatedBlockTests.code, code))
                        #expect(interp.dmaWrite(TranslatedBlockTests.code, code))
                        for flags: UInt64 in [2, 2 | 0x8D5] {
                            let value = random.next() ^ (count % 2 == 0 ? 0x8000_8000_8000_8080 : 0)
                            for _ in 0..<2 {
                                TranslatedBlockTests.start([translated, interpreted], registers: [3: value, 15: TranslatedBlockTests.data], flags: flags)
                                let bytes = TranslatedBlockTests.le64(value)
                                try jit.writePhysical(TranslatedBlockTests.data + 8, bytes)
                                try interp.writePhysical(TranslatedBlockTests.data + 8, bytes)
                                let (same, report, _) = TranslatedBlockTests.runBoth(jit, interp, limit: 100)
                                #expect(same, "\(op) \(size * 8) bits \(inMemory ? "of memory" : "") by \(count) of \(hex(value)), flags \(hex(flags))\n\(report)")
                                if !same { return }
                            }
                        }
                    }
                }
            }
        }
        let t = try #require(translated.translation)
        #expect(t.blocks >= 100 && t.fallbackForms == 0, "\(t)")
        jit.teardown()
        interp.teardown()
        #expect(jitHost.liveFrames == 0 && interpHost.liveFrames == 0)
        #endif
    }

    /// RFLAGS.AC at CPL 3 under CR0.AM: a misaligned load must raise #AC (no IDT: the machine
    /// shuts down on it) even where the TLB holds the page, so a translation's inline probe
    /// must not serve it. POPF sets AC and ends a block; the next block's code, translated
    /// and entered with AC set, runs the load. Both engines end in the same state.
    @Test func alignmentCheckStopsTheInlineProbe() throws {
        #if arch(x86_64)
        let (jit, jitHost) = try TranslatedBlockTests.makeVM(.jit), (interp, interpHost) = try TranslatedBlockTests.makeVM(.interpreter)
        let translated = jit.vcpus[0], interpreted = interp.vcpus[0]
        translated.translationThreshold = 1
        var asm = X86Assembler()
        asm.mov(size: 8, 3, X86Assembler.Memory(base: 15))       // the data page into the TLB (aligned)
        asm.pushfq()
        asm.alu(.or, size: 8, X86Assembler.Memory(base: 4), immediate: 0x40000)
        var after = X86Assembler()
        after.mov(size: 8, 0, X86Assembler.Memory(base: 15, displacement: 1))
        let code = asm.bytes + [0x9D] + after.bytes + [0xF4]     // POPFQ (AC set) before the load
        var exits: [String] = []
        for (vm, v) in [(jit, translated), (interp, interpreted)] {
            // User pages (U in every level), CPL 3, CR0.AM.
            try vm.writePhysical(0x1000, TranslatedBlockTests.le64(0x2007))
            try vm.writePhysical(0x2000, TranslatedBlockTests.le64(0x3007))
            for i in 0..<8 { try vm.writePhysical(0x3000 + UInt64(8 * i), TranslatedBlockTests.le64(UInt64(i) << 21 | 0x87)) }
            #expect(vm.dmaWrite(TranslatedBlockTests.code, code))
            var s = v.getState()
            s.cr0 |= 0x4_0000
            s.cpl = 3
            s[.cs] = VCPUSegment(selector: 0x33, base: 0, limit: 0xFFFF_FFFF, attributes: 0xA0FB)
            for r in [SegmentRegister.ds, .es, .ss] { s[r] = VCPUSegment(selector: 0x2B, base: 0, limit: 0xFFFF_FFFF, attributes: 0xC0F3) }
            v.setState(s)
        }
        for run in 0..<4 {
            TranslatedBlockTests.start([translated, interpreted], registers: [15: TranslatedBlockTests.data], flags: 2)
            let (same, report, exit) = TranslatedBlockTests.runBoth(jit, interp, limit: 100)
            #expect(same, "run \(run)\n\(report)")
            exits.append(exit)
        }
        // The load never completed: RAX is still 0 and RIP is not past it.
        #expect(exits.allSatisfy { !$0.contains("rip \(hex(TranslatedBlockTests.code + UInt64(code.count)))") }, "\(exits)")
        let t = try #require(translated.translation)
        #expect(t.blocks >= 2, "\(t)")
        jit.teardown()
        interp.teardown()
        #expect(jitHost.liveFrames == 0 && interpHost.liveFrames == 0)
        #endif
    }

    /// `--stats`' count of what ends blocks: an instruction without a fast form (CLD) after a
    /// block, in a loop of 100 passes, runs through the general path from `runBlock` on nearly
    /// every pass (the first perhaps not: its decoded entry may not be at hand), under either
    /// engine.
    @Test func instructionsEndingBlocksAreCounted() throws {
        #if arch(x86_64)
        var first = X86Assembler(), second = X86Assembler()
        first.alu(.add, size: 4, 3, immediate: 1)
        second.unary(.dec, size: 4, 1)
        // JNZ back to the start (rel8 from the end of the two bytes).
        let back = first.bytes.count + 1 + second.bytes.count + 2
        let code = first.bytes + [0xFC] + second.bytes + [0x75, UInt8(truncatingIfNeeded: -back), 0xF4]   // CLD; ...; JNZ; HLT
        for engine in [ExecutionEngine.jit, .interpreter] {
            let (vm, host) = try TranslatedBlockTests.makeVM(engine)
            let v = vm.vcpus[0]
            v.translationThreshold = 4
            #expect(vm.dmaWrite(TranslatedBlockTests.code, code))
            TranslatedBlockTests.start([v], registers: [1: 100], flags: 2)
            _ = v.run(limit: 10_000)
            #expect(v.halted && v.register(3) == 100)
            let ends = v.commonestBlockEnds
            // (And HLT once, after the last pass.)
            #expect(ends.count == 2 && ends[0].0 == "cld" && (98...100).contains(ends[0].1) && ends[1] == ("hlt", 1), "\(engine): \(ends)")
            vm.teardown()
            #expect(host.liveFrames == 0)
        }
        #endif
    }

    static func le64(_ v: UInt64) -> [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: v >> (8 * UInt64($0))) } }
    static func le32(_ v: Int32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: UInt32(bitPattern: v) >> (8 * UInt32($0))) } }
}
