import CPUCheck
import Testing
import X86
@testable import X86CPU
import X86Decoder
import X86JIT

/// Translated register-only blocks against the interpreter, in lockstep: random blocks of every
/// form translated (ALU with a register or an immediate, MOV, TEST, IMUL, CMOVcc, MOVZX, MOVSX,
/// MOVSXD, LEA, NOT, NEG, INC, DEC) at 32 and 64 bits over random register values and flags,
/// run once by the interpreter and once as host code over a copy of the same state. Every register,
/// RIP, the retired count and the flags the instructions define must be the same.
@Suite struct BlockTranslatorTests {
    /// A CPU in 64-bit mode at CPL 0 with `code` at the code base.
    static func cpu(_ code: [UInt8]) -> CPU<FlatMemory> {
        let cpu = CPU(memory: FlatMemory(data: [UInt8](repeating: 0, count: FlatMemory.dataSize), code: code + [0xF4]),
                      model: CPUModel(vendor: hostVendor))
        cpu.state.setSegment(.cs, SegmentState(selector: 0x08, base: 0, limit: 0xFFFF_FFFF, attributes: 0xA09B))
        cpu.state.cpl = 0
        cpu.modeMaybeChanged()
        cpu.state.rip = FlatMemory.codeBase
        return cpu
    }

    @Test func randomBlocksMatchTheInterpreter() throws {
        #if arch(x86_64)
        var random = SplitMix64(seed: 25)
        let memory = try CodeMemory(capacity: 16 << 20)
        let decoder = X86Decoder(mode: .bits64)
        var blocks = 0, instructions = 0
        for round in 0..<2000 {
            // A block of 1-8 instructions.
            var asm = X86Assembler()
            // The flags the instructions so far leave undefined (AF after a logical operation; SF,
            // ZF, AF and PF after IMUL): not compared at the end, and no instruction that reads
            // flags (CMOVcc, ADC, SBB) comes while any is.
            var undefined: UInt64 = 0
            var emitted = 0
            while emitted < Int(random.next() % 8 + 1) {
                let size = random.next() % 2 == 0 ? 4 : 8
                let d = Int(random.next() % 16), s = Int(random.next() % 16)
                let imm = Int32(truncatingIfNeeded: Int64(bitPattern: random.next()) >> Int64(random.next() % 63))
                let kind = random.next() % 16
                let op = kind < 8 ? X86Assembler.ALU(rawValue: UInt8(kind))! : nil
                if undefined != 0 && (kind == 11 || op == .adc || op == .sbb) { continue }
                emitted += 1
                // RSP is a register like any other here (nothing is pushed).
                switch kind {
                case 0..<8:
                    if random.next() % 2 == 0 { asm.alu(op!, size: size, d, s) } else { asm.alu(op!, size: size, d, immediate: imm) }
                    undefined = op == .and || op == .or || op == .xor ? 0x10 : 0
                case 8: asm.mov(size: size, d, s)
                case 9: asm.test(size: size, d, s); undefined = 0x10
                case 10: asm.imul(size: size, d, s); undefined = 0xD4
                case 11: asm.cmov(X86Assembler.Condition(rawValue: UInt8(random.next() % 16))!, size: size, d, s)
                case 12:
                    let from = [1, 2, 4][Int(random.next() % 3)]
                    asm.extend(signed: from == 4 || random.next() % 2 == 0, size: from == 4 ? 8 : size, d, from: from, s)
                case 13:
                    let base = random.next() % 4 == 0 ? nil : Optional(Int(random.next() % 16))
                    let index = random.next() % 2 == 0 ? nil : Optional([0, 3, 5, 9, 12, 13, 15][Int(random.next() % 7)])
                    asm.lea(size: size, d, X86Assembler.Memory(base: base, index: index, scale: [1, 2, 4, 8][Int(random.next() % 4)], displacement: imm))
                default:
                    let u = X86Assembler.Unary.allCases[Int(random.next() % 4)]
                    asm.unary(u, size: size, d)
                    if u == .neg { undefined = 0 } else if u != .not { undefined &= 0x1 }
                }
            }
            let code = asm.bytes
            var decoded: [Instruction] = []
            var at = 0
            while at < code.count {
                let ins = decoder.decode(Array(code[at...]))
                decoded.append(ins)
                at += Int(ins.length)
            }
            let host = try #require(BlockTranslator.translate(decoded), "round \(round): not translated")
            let entry = try memory.install(host)
            let interpreted = BlockTranslatorTests.cpu(code), translated = BlockTranslatorTests.cpu(code)
            for n in 0..<16 {
                let v = random.next() >> (random.next() % 64)
                interpreted.state.gpr[n] = v
                translated.state.gpr[n] = v
            }
            let flags = 2 | random.next() & UInt64(BlockTranslator.arithmeticFlags)
            interpreted.state.rflags = flags
            translated.state.rflags = flags
            _ = interpreted.run(limit: UInt64(decoded.count))
            let run = unsafeBitCast(entry, to: (@convention(c) (UnsafeMutableRawPointer) -> Void).self)
            run(UnsafeMutableRawPointer(translated.state.file))
            let compared: UInt64 = ~undefined
            var same = interpreted.state.rip == translated.state.rip && interpreted.state.retired == translated.state.retired
                && interpreted.state.rflags & compared == translated.state.rflags & compared
            for n in 0..<16 { same = same && interpreted.state.gpr[n] == translated.state.gpr[n] }
            let listing = decoded.map { IntelFormatter().format($0, address: 0) }.joined(separator: "; ")
            #expect(same, """
                round \(round): \(listing)
                interpreter: rip \(hex(interpreted.state.rip)) retired \(interpreted.state.retired) rflags \(hex(interpreted.state.rflags)) \((0..<16).map { hex(interpreted.state.gpr[$0]) })
                translated:  rip \(hex(translated.state.rip)) retired \(translated.state.retired) rflags \(hex(translated.state.rflags)) \((0..<16).map { hex(translated.state.gpr[$0]) })
                """)
            if !same { break }
            blocks += 1
            instructions += decoded.count
        }
        #expect(blocks == 2000 && instructions > 5000)
        #endif
    }

    /// What is not translated yet is refused, not guessed: memory operands, other instructions,
    /// operand sizes 8 and 16, prefixes, RIP-relative LEA, shifts, three-operand IMUL.
    @Test func otherFormsAreLeftToTheInterpreter() {
        let decoder = X86Decoder(mode: .bits64)
        // add [rbx], rax; cpuid; add ax, cx; lock add [rbx], eax; add al, cl; lea rax, [rip+8];
        // shl rax, 3; imul rax, rcx, 5; mov rax, [rbx]
        for bytes: [UInt8] in [[0x48, 0x01, 0x03], [0x0F, 0xA2], [0x66, 0x01, 0xC8], [0xF0, 0x01, 0x03], [0x00, 0xC8],
                               [0x48, 0x8D, 0x05, 0x08, 0x00, 0x00, 0x00], [0x48, 0xC1, 0xE0, 0x03], [0x48, 0x6B, 0xC1, 0x05], [0x48, 0x8B, 0x03]] {
            #expect(BlockTranslator.translate([decoder.decode(bytes)]) == nil, "\(bytes)")
        }
    }
}
