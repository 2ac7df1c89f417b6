import CPUCheck
import Testing
import X86
@_spi(Translator) @testable import X86CPU
import X86Decoder
@_spi(Translator) import X86JIT

/// Blocks translated by `FormTranslator` against the interpreter: random programs of register
/// and memory forms, branches forward over the next instruction, pushes and pops, each run
/// several times from the same random state by a CPU that translates warm blocks and by one
/// that does not. After every run the two must agree on every register, RIP, RFLAGS (all of
/// it: where a form's flags are read the translation computes them as the interpreter does),
/// the retired count and every byte of data memory.
@Suite struct FormTranslatorTests {
    static func cpu(_ code: [UInt8]) -> CPU<FlatMemory> {
        let cpu = CPU(memory: FlatMemory(data: [UInt8](repeating: 0, count: FlatMemory.dataSize), code: code + [0xF4]),
                      model: CPUModel(vendor: hostVendor))
        cpu.state.setSegment(.cs, SegmentState(selector: 0x08, base: 0, limit: 0xFFFF_FFFF, attributes: 0xA09B))
        cpu.state.cpl = 0
        cpu.modeMaybeChanged()
        return cpu
    }

    /// A random program: R15 holds the data base and RSP the middle of the data (neither is
    /// written by the program but through PUSH and POP).
    static func program(_ random: inout SplitMix64) -> [UInt8] {
        var asm = X86Assembler()
        let count = Int(random.next() % 24 + 1)
        var pendingSkip: Int? = nil
        for _ in 0..<count {
            let size = random.next() % 2 == 0 ? 4 : 8
            var d = Int(random.next() % 16), s = Int(random.next() % 16)
            while d == 4 || d == 15 { d = Int(random.next() % 16) }
            if random.next() % 4 == 0 { s = d }
            let imm = Int32(truncatingIfNeeded: Int64(bitPattern: random.next()) >> Int64(random.next() % 63))
            let data = X86Assembler.Memory(base: 15, displacement: Int32(random.next() % 2048))
            let cc = X86Assembler.Condition(rawValue: UInt8(random.next() % 16))!
            let before = asm.bytes.count
            switch random.next() % 22 {
            case 0, 1, 2: asm.alu(X86Assembler.ALU(rawValue: UInt8(random.next() % 8))!, size: size, d, s)
            case 3, 4: asm.alu(X86Assembler.ALU(rawValue: UInt8(random.next() % 8))!, size: size, d, immediate: imm)
            case 5: asm.mov(size: size, d, s)
            case 6: asm.mov(size: 8, d, immediate: Int64(bitPattern: random.next()))
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
            case 13: asm.shift([.shl, .shr, .sar, .rol, .ror][Int(random.next() % 5)], size: size, d, by: UInt8(random.next() % 31 + 1))
            case 14: asm.set(cc, d)
            case 15: asm.mov(size: size, d, data)
            case 16: asm.mov(size: [1, 2, 4, 8][Int(random.next() % 4)], data, s == 4 ? 0 : s)
            case 17: asm.alu(X86Assembler.ALU(rawValue: UInt8(random.next() % 8))!, size: size, data, s == 4 ? 0 : s)
            case 18: asm.push(s)
            case 19: asm.pop(d)
            case 20:
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
        let translator = try FormTranslator(capacity: 16 << 20)
        var translatedRuns = 0
        for round in 0..<3000 {
            let code = FormTranslatorTests.program(&random)
            let interpreted = FormTranslatorTests.cpu(code), translated = FormTranslatorTests.cpu(code)
            translated.translator = translator
            let blocksBefore = translated.blocksTranslated
            for run in 0..<7 {
                var values: [UInt64] = (0..<16).map { _ in random.next() >> (random.next() % 64) }
                values[15] = FlatMemory.dataBase
                values[4] = FlatMemory.dataBase + UInt64(FlatMemory.dataSize / 2)
                let flags = 2 | random.next() & 0x8D5
                for cpu in [interpreted, translated] {
                    for n in 0..<16 { cpu.state.gpr[n] = values[n] }
                    cpu.state.rflags = flags
                    cpu.state.rip = FlatMemory.codeBase
                    cpu.state.activity = .active
                    _ = cpu.run(limit: 10_000)
                }
                var same = interpreted.state.rip == translated.state.rip && interpreted.state.retired == translated.state.retired
                    && interpreted.state.rflags == translated.state.rflags && interpreted.memory.data == translated.memory.data
                for n in 0..<16 { same = same && interpreted.state.gpr[n] == translated.state.gpr[n] }
                let decoder = X86Decoder(mode: .bits64)
                var listing: [String] = [], at = 0
                while at < code.count {
                    let ins = decoder.decode(Array(code[at...]))
                    listing.append(IntelFormatter().format(ins, address: FlatMemory.codeBase + UInt64(at)))
                    at += max(1, Int(ins.length))
                }
                #expect(same, """
                    round \(round) run \(run): \(listing.joined(separator: "; "))
                    interpreter: rip \(hex(interpreted.state.rip)) retired \(interpreted.state.retired) rflags \(hex(interpreted.state.rflags)) \((0..<16).map { hex(interpreted.state.gpr[$0]) })
                    translated:  rip \(hex(translated.state.rip)) retired \(translated.state.retired) rflags \(hex(translated.state.rflags)) \((0..<16).map { hex(translated.state.gpr[$0]) })
                    """)
                if !same { return }
            }
            if translated.blocksTranslated > blocksBefore { translatedRuns += 1 }
        }
        // Most programs ran translated (a block is translated on its fourth run).
        #expect(translatedRuns > 2500 && translator.nativeForms > translator.fallbackForms)
        #endif
    }
}
