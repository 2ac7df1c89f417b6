@testable import DecoderCheck
import Testing
import X86
import X86Decoder
import X86JIT

/// Every form the translator's encoder writes, over every register, memory operand shape
/// (each base including RSP, RBP, R12 and R13, with and without an index, each scale, zero,
/// byte and doubleword displacements, RIP-relative, no base) and immediate edge: softvmm's
/// decoder reads back exactly the instruction asked for, all of its bytes, and Capstone reads
/// the same instruction as softvmm (DecoderCheck's comparison).
@Suite struct AssemblerTests {
    typealias A = X86Assembler

    /// One request: what to emit and the instruction it must decode to.
    struct Case {
        var emit: (inout X86Assembler) -> Void
        var mnemonic: String
        var operands: [NormalizedOperand]
    }

    static func reg(_ n: Int, _ size: Int) -> NormalizedOperand {
        let kind: RegisterClass = [1: .gpr8, 2: .gpr16, 4: .gpr32, 8: .gpr64][size]!
        return .register(Register(kind, UInt8(n)).name)
    }

    static func mem(_ m: A.Memory, _ size: Int) -> NormalizedOperand {
        .memory(segment: nil, base: m.ripRelative ? "rip" : m.base.map { Register(.gpr64, UInt8($0)).name },
                index: m.index.map { Register(.gpr64, UInt8($0)).name }, scale: m.index == nil ? 1 : m.scale,
                displacement: UInt64(bitPattern: Int64(m.displacement)), size: size)
    }

    static func imm(_ v: Int64, _ size: Int) -> NormalizedOperand {
        .immediate(UInt64(bitPattern: v) & (size == 8 ? ~0 : (1 << UInt64(size * 8)) - 1), bits: size * 8)
    }

    static let sizes = [1, 2, 4, 8]
    static let displacements: [Int32] = [0, 1, -1, 127, -128, 128, -129, 0x1234_5678, Int32.min]
    static let immediates: [Int32] = [0, 1, -1, 127, -128, 128, -129, 0x7FFF, 0x1234_5678, Int32.max, Int32.min]

    /// Memory operands of every shape.
    static var memories: [A.Memory] {
        var out: [A.Memory] = []
        for base in 0..<16 {
            for d in displacements { out.append(A.Memory(base: base, displacement: d)) }
            for index in [0, 5, 9, 12, 13, 15] {
                for scale in [1, 2, 4, 8] { out.append(A.Memory(base: base, index: index, scale: scale, displacement: base % 2 == 0 ? 0 : 0x40)) }
            }
        }
        for d in displacements { out.append(.rip(d)) }
        out.append(A.Memory(base: nil, displacement: 0x1000))
        out.append(A.Memory(base: nil, index: 3, scale: 8, displacement: -8))
        return out
    }

    static var cases: [Case] {
        var out: [Case] = []
        for op in A.ALU.allCases {
            for size in sizes {
                for (d, s) in [(0, 1), (7, 8), (4, 5), (6, 13), (15, 2), (12, 12)] {
                    out.append(Case(emit: { $0.alu(op, size: size, d, s) }, mnemonic: op.mnemonic, operands: [reg(d, size), reg(s, size)]))
                }
                for v in immediates {
                    let value = size == 1 ? Int64(Int8(truncatingIfNeeded: v)) : (size == 2 ? Int64(Int16(truncatingIfNeeded: v)) : Int64(v))
                    out.append(Case(emit: { $0.alu(op, size: size, 9, immediate: Int32(value)) }, mnemonic: op.mnemonic, operands: [reg(9, size), imm(value, size)]))
                    out.append(Case(emit: { $0.alu(op, size: size, A.Memory(base: 4, displacement: 8), immediate: Int32(value)) },
                                    mnemonic: op.mnemonic, operands: [mem(A.Memory(base: 4, displacement: 8), size), imm(value, size)]))
                }
            }
        }
        for m in memories {
            for size in sizes {
                out.append(Case(emit: { $0.alu(.add, size: size, m, 6) }, mnemonic: "add", operands: [mem(m, size), reg(6, size)]))
                out.append(Case(emit: { $0.alu(.sub, size: size, 10, m) }, mnemonic: "sub", operands: [reg(10, size), mem(m, size)]))
                out.append(Case(emit: { $0.mov(size: size, m, 7) }, mnemonic: "mov", operands: [mem(m, size), reg(7, size)]))
                out.append(Case(emit: { $0.mov(size: size, 14, m) }, mnemonic: "mov", operands: [reg(14, size), mem(m, size)]))
                out.append(Case(emit: { $0.mov(size: size, m, immediate: -2) }, mnemonic: "mov", operands: [mem(m, size), imm(-2, size)]))
            }
            for size in sizes {
                for u in A.Unary.allCases { out.append(Case(emit: { $0.unary(u, size: size, m) }, mnemonic: u.mnemonic, operands: [mem(m, size)])) }
                for s in A.Shift.allCases {
                    out.append(Case(emit: { $0.shift(s, size: size, m) }, mnemonic: s.mnemonic, operands: [mem(m, size), .register("cl")]))
                    out.append(Case(emit: { $0.shift(s, size: size, m, by: 1) }, mnemonic: s.mnemonic, operands: [mem(m, size), imm(1, 1)]))
                    out.append(Case(emit: { $0.shift(s, size: size, m, by: 7) }, mnemonic: s.mnemonic, operands: [mem(m, size), imm(7, 1)]))
                }
            }
            out.append(Case(emit: { $0.lea(size: 8, 3, m) }, mnemonic: "lea", operands: [reg(3, 8), mem(m, 0)]))
            for (size, from) in [(2, 1), (4, 1), (8, 1), (4, 2), (8, 2)] {
                out.append(Case(emit: { $0.extend(signed: false, size: size, 9, from: from, m) }, mnemonic: "movzx", operands: [reg(9, size), mem(m, from)]))
                out.append(Case(emit: { $0.extend(signed: true, size: size, 7, from: from, m) }, mnemonic: "movsx", operands: [reg(7, size), mem(m, from)]))
            }
            out.append(Case(emit: { $0.extend(signed: true, size: 8, 12, from: 4, m) }, mnemonic: "movsxd", operands: [reg(12, 8), mem(m, 4)]))
            out.append(Case(emit: { $0.lea(size: 4, 11, m) }, mnemonic: "lea", operands: [reg(11, 4), mem(m, 0)]))
        }
        for size in sizes {
            for r in 0..<16 {
                out.append(Case(emit: { $0.mov(size: size, r, 15 - r) }, mnemonic: "mov", operands: [reg(r, size), reg(15 - r, size)]))
                out.append(Case(emit: { $0.test(size: size, r, 3) }, mnemonic: "test", operands: [reg(r, size), reg(3, size)]))
                for u in A.Unary.allCases { out.append(Case(emit: { $0.unary(u, size: size, r) }, mnemonic: u.mnemonic, operands: [reg(r, size)])) }
                for s in A.Shift.allCases {
                    out.append(Case(emit: { $0.shift(s, size: size, r) }, mnemonic: s.mnemonic, operands: [reg(r, size), .register("cl")]))
                    out.append(Case(emit: { $0.shift(s, size: size, r, by: 1) }, mnemonic: s.mnemonic, operands: [reg(r, size), imm(1, 1)]))
                    out.append(Case(emit: { $0.shift(s, size: size, r, by: 5) }, mnemonic: s.mnemonic, operands: [reg(r, size), imm(5, 1)]))
                }
            }
            let values: [Int64] = [0, 1, -1, 0x7F, 0x80, 0x7FFF_FFFF, -0x8000_0000, 0x1_0000_0000, -0x8000_0001, Int64.max, Int64.min]
            for v in values {
                let value = size == 8 ? v : Int64(bitPattern: UInt64(bitPattern: v) & ((1 << UInt64(size * 8)) - 1))
                for r in [0, 4, 8, 13] {
                    out.append(Case(emit: { $0.mov(size: size, r, immediate: value) }, mnemonic: "mov", operands: [reg(r, size), imm(value, size)]))
                }
            }
        }
        for op in A.ALU.allCases {
            for high in 0..<4 {
                for v: UInt8 in [0, 1, 0x7F, 0x80, 0xFF] {
                    out.append(Case(emit: { $0.aluHigh(op, high, immediate: v) }, mnemonic: op.mnemonic,
                                    operands: [.register(["ah", "ch", "dh", "bh"][high]), imm(Int64(v), 1)]))
                }
            }
        }
        for r in 0..<16 {
            out.append(Case(emit: { $0.push(r) }, mnemonic: "push", operands: [reg(r, 8)]))
            out.append(Case(emit: { $0.pop(r) }, mnemonic: "pop", operands: [reg(r, 8)]))
            out.append(Case(emit: { $0.call(register: r) }, mnemonic: "call", operands: [reg(r, 8)]))
            out.append(Case(emit: { $0.jmp(register: r) }, mnemonic: "jmp", operands: [reg(r, 8)]))
            out.append(Case(emit: { $0.bswap(size: 4, r) }, mnemonic: "bswap", operands: [reg(r, 4)]))
            out.append(Case(emit: { $0.bswap(size: 8, r) }, mnemonic: "bswap", operands: [reg(r, 8)]))
            for size in [2, 4, 8] {
                out.append(Case(emit: { $0.imul(size: size, r, 15 - r) }, mnemonic: "imul", operands: [reg(r, size), reg(15 - r, size)]))
                for v: Int32 in [0, 1, -1, 127, -128, 128, 0x7FFF, -0x8000, 0x1234_5678, Int32.min] where size > 2 || Int32(Int16(truncatingIfNeeded: v)) == v {
                    out.append(Case(emit: { $0.imul(size: size, r, 15 - r, immediate: v) }, mnemonic: "imul",
                                    operands: [reg(r, size), reg(15 - r, size), imm(Int64(v), size)]))
                }
                for c in A.Condition.allCases {
                    out.append(Case(emit: { $0.cmov(c, size: size, r, 5) }, mnemonic: "cmov\(c)", operands: [reg(r, size), reg(5, size)]))
                }
            }
            for c in A.Condition.allCases { out.append(Case(emit: { $0.set(c, r) }, mnemonic: "set\(c)", operands: [reg(r, 1)])) }
            for (size, from) in [(2, 1), (4, 1), (8, 1), (4, 2), (8, 2)] {
                out.append(Case(emit: { $0.extend(signed: false, size: size, r, from: from, 15 - r) }, mnemonic: "movzx", operands: [reg(r, size), reg(15 - r, from)]))
                out.append(Case(emit: { $0.extend(signed: true, size: size, r, from: from, 15 - r) }, mnemonic: "movsx", operands: [reg(r, size), reg(15 - r, from)]))
            }
            out.append(Case(emit: { $0.extend(signed: true, size: 8, r, from: 4, 15 - r) }, mnemonic: "movsxd", operands: [reg(r, 8), reg(15 - r, 4)]))
        }
        for d: Int32 in [0, 5, -5, 0x100, -0x1000_0000] {
            out.append(Case(emit: { $0.jmp(d) }, mnemonic: "jmp", operands: [.immediate(UInt64(bitPattern: Int64(5 + d)), bits: 64)]))
            out.append(Case(emit: { $0.call(d) }, mnemonic: "call", operands: [.immediate(UInt64(bitPattern: Int64(5 + d)), bits: 64)]))
            for c in A.Condition.allCases {
                out.append(Case(emit: { $0.jcc(c, d) }, mnemonic: "j\(c)", operands: [.immediate(UInt64(bitPattern: Int64(6 + d)), bits: 64)]))
            }
        }
        for (emit, name) in [({ (a: inout A) in a.pushfq() }, "pushfq"), ({ (a: inout A) in a.popfq() }, "popfq"),
                             ({ (a: inout A) in a.lahf() }, "lahf"), ({ (a: inout A) in a.sahf() }, "sahf"), ({ (a: inout A) in a.ret() }, "ret")] {
            out.append(Case(emit: emit, mnemonic: name, operands: []))
        }
        return out
    }

    /// Immediates and displacements compared at the width of the expectation.
    static func comparable(_ ops: [NormalizedOperand], like expected: [NormalizedOperand]) -> [NormalizedOperand] {
        zip(ops, expected).map { op, e in
            switch (op, e) {
            case (.immediate(let v, _), .immediate(_, let bits)):
                return .immediate(v & (bits >= 64 ? ~0 : (1 << UInt64(bits)) - 1), bits: bits)
            default: return op
            }
        } + ops.dropFirst(expected.count)
    }

    @Test func everyFormDecodesToWhatWasAsked() throws {
        let capstone = CapstoneOracle(mode: .bits64)
        let decoder = X86Decoder(mode: .bits64)
        var checked = 0, failures: [String] = []
        for c in AssemblerTests.cases {
            var a = X86Assembler()
            c.emit(&a)
            let bytes = a.bytes
            let hexBytes = bytes.map { String(format: "%02x", $0) }.joined(separator: " ")
            let ins = decoder.decode(bytes)
            guard ins.status == .valid, Int(ins.length) == bytes.count else {
                failures.append("\(hexBytes): softvmm reads \(ins.status), \(ins.length) of \(bytes.count) bytes (wanted \(c.mnemonic))")
                continue
            }
            var ours = NormalizedInstruction(ins, address: 0)
            ours.operands = AssemblerTests.comparable(ours.operands, like: c.operands)
            let wanted = NormalizedInstruction(length: bytes.count, mnemonic: c.mnemonic, operands: c.operands)
            if ours != wanted { failures.append("\(hexBytes): softvmm reads \(ours), wanted \(wanted)") }
            guard let cs = bytes.withUnsafeBufferPointer({ capstone.decode($0, address: 0) }) else {
                failures.append("\(hexBytes): Capstone rejects it (softvmm: \(ours))")
                continue
            }
            let (x, y) = Normalization.pair(NormalizedInstruction(ins, address: 0), cs, mode: .bits64, instruction: ins)
            if x != y { failures.append("\(hexBytes): Capstone reads \(y), softvmm \(x)") }
            checked += 1
        }
        let report = "\(failures.count) of \(AssemblerTests.cases.count):\n" + failures.prefix(30).joined(separator: "\n")
        #expect(failures.isEmpty, "\(report)")
        #expect(checked > 5000)
    }

    /// A branch patched to a later offset reaches it.
    @Test func patchedBranchesReachTheirTargets() {
        var a = X86Assembler()
        let j = a.jcc(.ne, 0)
        a.alu(.add, size: 8, 0, immediate: 1)
        let target = a.bytes.count
        a.ret()
        a.patch(j, to: target)
        let ins = X86Decoder(mode: .bits64).decode(a.bytes)
        #expect(ins.operands(address: 0) == [.relative(target: UInt64(target))])
    }
}
