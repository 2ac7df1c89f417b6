import X86

/// An x86-64 encoder for the translator (issue 25): the general-purpose forms a translation
/// emits, each written as the SDM encodes it (REX, ModRM, SIB, displacement, immediate). Every
/// form is checked by decoding what it wrote with softvmm's decoder and with Capstone
/// (Tests/X86JITTests). Registers are numbered as in `GPR` (0 = RAX ... 15 = R15); a byte
/// register 4-7 is SPL, BPL, SIL, DIL (a REX prefix is always written for them), never AH-BH.
public struct X86Assembler {
    public private(set) var bytes: [UInt8] = []
    /// The branches `patch` aimed, by where their displacement sits (the last aim of each
    /// wins), for `split`.
    public private(set) var aimed: [(at: Int, target: Int)] = []
    /// The branches aimed at an address outside the code (`patch(_:toAddress:)`): written
    /// when the code's own address is known (`split`).
    public private(set) var aimedOut: [(at: Int, address: Int)] = []

    public init() { bytes.reserveCapacity(2048) }

    /// The eight ALU operations of opcodes 00-3F and group 1 (80-83 /n), in encoding order.
    public enum ALU: UInt8, CaseIterable, Sendable {
        case add, or, adc, sbb, and, sub, xor, cmp
        public var mnemonic: String { ["add", "or", "adc", "sbb", "and", "sub", "xor", "cmp"][Int(rawValue)] }
    }

    /// Group 2's shifts and rotates (D0-D3, C0-C1 /n; /6 is not used).
    public enum Shift: UInt8, CaseIterable, Sendable {
        case rol = 0, ror, rcl, rcr, shl, shr, sar = 7
        public var mnemonic: String { ["rol", "ror", "rcl", "rcr", "shl", "shr", "", "sar"][Int(rawValue)] }
    }

    /// Group 3's one-operand forms (F6/F7 /2, /3, /4: MUL into RDX:RAX) and group 4/5's
    /// (FE/FF /0, /1).
    public enum Unary: Sendable, CaseIterable {
        case not, neg, inc, dec, mul
        public var mnemonic: String { "\(self)" }
        /// The byte form's opcode and the ModRM reg field's extension.
        var encoding: (opcode: UInt8, extension: Int) {
            switch self {
            case .not: (0xF6, 2)
            case .neg: (0xF6, 3)
            case .mul: (0xF6, 4)
            case .inc: (0xFE, 0)
            case .dec: (0xFE, 1)
            }
        }
    }

    /// A condition code, as Jcc, SETcc and CMOVcc take it (the low nibble of their opcodes).
    public enum Condition: UInt8, CaseIterable, Sendable {
        case o, no, b, ae, e, ne, be, a, s, ns, p, np, l, ge, le, g
    }

    /// A memory operand: [base + index × scale + displacement], or [RIP + displacement].
    public struct Memory: Equatable, Sendable {
        public var base: Int?
        public var index: Int?
        public var scale: Int
        public var displacement: Int32
        public var ripRelative: Bool

        public init(base: Int?, index: Int? = nil, scale: Int = 1, displacement: Int32 = 0) {
            precondition(base.map { (0..<16).contains($0) } ?? true, "a base register is 0-15")
            precondition(index.map { (0..<16).contains($0) && $0 != GPR.rsp } ?? true, "RSP cannot be an index")
            precondition(X86Assembler.isOneTwoFourOrEight(scale), "the scale is 1, 2, 4 or 8")
            (self.base, self.index, self.scale, self.displacement, ripRelative) = (base, index, scale, displacement, false)
        }

        public static func rip(_ displacement: Int32) -> Memory {
            var m = Memory(base: nil, displacement: displacement)
            m.ripRelative = true
            return m
        }
    }

    // MARK: prefixes, ModRM, SIB

    /// The operand-size prefix and REX. `reg`, `index`, `rm`: the registers whose fourth bit
    /// goes into REX.R, X, B; `byteRegister`, `otherByteRegister`: register operands of a byte
    /// instruction (-1: none; 4-7 need REX to mean SPL-DIL).
    mutating func prefixes(size: Int, reg: Int = 0, index: Int = 0, rm: Int = 0, byteRegister: Int = -1, otherByteRegister: Int = -1,
                           rexW: Bool? = nil) {
        if size == 2 { bytes.append(0x66) }
        let w = rexW ?? (size == 8)
        let rex = UInt8(w ? 8 : 0) | UInt8(reg >> 3 & 1) << 2 | UInt8(index >> 3 & 1) << 1 | UInt8(rm >> 3 & 1)
        if rex != 0 || (4...7).contains(byteRegister) || (4...7).contains(otherByteRegister) { bytes.append(0x40 | rex) }
    }

    /// A one-byte opcode, or a two-byte one (0F xx) written as 0x0Fxx.
    mutating func opcode(_ op: UInt16) {
        if op > 0xFF { bytes.append(UInt8(op >> 8)) }
        bytes.append(UInt8(truncatingIfNeeded: op))
    }

    /// ModRM with a register in r/m.
    mutating func modrm(reg: Int, rm: Int) {
        bytes.append(0xC0 | UInt8(reg & 7) << 3 | UInt8(rm & 7))
    }

    /// ModRM (and SIB and displacement) for a memory operand. `trailing`: immediate bytes that
    /// follow (a RIP-relative displacement counts from the instruction's end).
    mutating func modrm(reg: Int, _ m: Memory) {
        let r = UInt8(reg & 7) << 3
        if m.ripRelative {
            bytes.append(0x05 | r)
            appendLittle(UInt64(UInt32(bitPattern: m.displacement)), 4)
            return
        }
        let d = m.displacement
        guard let base = m.base else {
            // No base: SIB with base 101 and mod 00 is [index × scale + disp32] (or [disp32]).
            bytes.append(0x04 | r)
            bytes.append(scaleBits(m.scale) << 6 | UInt8((m.index ?? GPR.rsp) & 7) << 3 | 5)
            appendLittle(UInt64(UInt32(bitPattern: d)), 4)
            return
        }
        // RBP and R13 as a base have no mod-00 form (it means disp32 or RIP): a zero disp8.
        let mod: UInt8 = d == 0 && base & 7 != 5 ? 0 : (Int32(Int8(truncatingIfNeeded: d)) == d ? 1 : 2)
        if m.index != nil || base & 7 == 4 {
            bytes.append(mod << 6 | r | 4)
            bytes.append(scaleBits(m.scale) << 6 | UInt8((m.index ?? GPR.rsp) & 7) << 3 | UInt8(base & 7))
        } else {
            bytes.append(mod << 6 | r | UInt8(base & 7))
        }
        if mod == 1 { bytes.append(UInt8(bitPattern: Int8(truncatingIfNeeded: d))) }
        if mod == 2 { appendLittle(UInt64(UInt32(bitPattern: d)), 4) }
    }

    func scaleBits(_ s: Int) -> UInt8 {
        precondition(X86Assembler.isOneTwoFourOrEight(s), "a scale is 1, 2, 4 or 8")
        return UInt8(s.trailingZeroBitCount)
    }

    mutating func appendLittle(_ v: UInt64, _ n: Int) {
        for i in 0..<n { bytes.append(UInt8(truncatingIfNeeded: v >> (8 * UInt64(i)))) }
    }

    /// The opcode for a byte form (`base`) or the wider one (`base + 1`).
    func sized(_ base: UInt8, _ size: Int) -> UInt8 { size == 1 ? base : base + 1 }

    static func checkSize(_ size: Int) { precondition(isOneTwoFourOrEight(size), "an operand size is 1, 2, 4 or 8 bytes") }

    /// An operand size in bytes, or a SIB scale (without building an array per check).
    static func isOneTwoFourOrEight(_ n: Int) -> Bool { n > 0 && n <= 8 && n & (n - 1) == 0 }

    // MARK: register and memory forms shared by many instructions

    /// `opcode` with r/m a register and reg `reg` (or an opcode extension).
    mutating func rr(_ op: UInt16, size: Int, reg: Int, rm: Int, byteOperands: Bool = false) {
        prefixes(size: size, reg: reg, rm: rm, byteRegister: byteOperands ? reg : -1, otherByteRegister: byteOperands ? rm : -1)
        opcode(op)
        modrm(reg: reg, rm: rm)
    }

    /// `opcode` with r/m memory and reg `reg` (or an opcode extension).
    mutating func rm(_ op: UInt16, size: Int, reg: Int, _ m: Memory, byteRegister: Bool = false) {
        prefixes(size: size, reg: reg, index: m.index ?? 0, rm: m.base ?? 0, byteRegister: byteRegister ? reg : -1)
        opcode(op)
        modrm(reg: reg, m)
    }

    /// An immediate of the operand size, at most four bytes (sign-extended to 64 bits).
    mutating func immediate(_ v: Int32, size: Int) {
        appendLittle(UInt64(UInt32(bitPattern: v)), min(size, 4))
    }

    // MARK: ALU

    /// `op dst, src` between registers (00-3B with r/m = dst).
    public mutating func alu(_ op: ALU, size: Int, _ dst: Int, _ src: Int) {
        Self.checkSize(size)
        rr(UInt16(sized(op.rawValue << 3, size)), size: size, reg: src, rm: dst, byteOperands: size == 1)
    }

    /// `op [m], src`.
    public mutating func alu(_ op: ALU, size: Int, _ m: Memory, _ src: Int) {
        Self.checkSize(size)
        rm(UInt16(sized(op.rawValue << 3, size)), size: size, reg: src, m, byteRegister: size == 1)
    }

    /// `op dst, [m]`.
    public mutating func alu(_ op: ALU, size: Int, _ dst: Int, _ m: Memory) {
        Self.checkSize(size)
        rm(UInt16(sized(op.rawValue << 3 | 2, size)), size: size, reg: dst, m, byteRegister: size == 1)
    }

    /// `op dst, imm` (83 /n with a byte immediate when it fits, else 81 /n; 80 /n for bytes).
    public mutating func alu(_ op: ALU, size: Int, _ dst: Int, immediate v: Int32) {
        Self.checkSize(size)
        let short = size > 1 && Int32(Int8(truncatingIfNeeded: v)) == v
        rr(UInt16(size == 1 ? 0x80 : (short ? 0x83 : 0x81)), size: size, reg: Int(op.rawValue), rm: dst, byteOperands: size == 1)
        immediate(short ? Int32(Int8(truncatingIfNeeded: v)) : v, size: short ? 1 : size)
    }

    /// `op [m], imm`.
    public mutating func alu(_ op: ALU, size: Int, _ m: Memory, immediate v: Int32) {
        Self.checkSize(size)
        let short = size > 1 && Int32(Int8(truncatingIfNeeded: v)) == v
        rm(UInt16(size == 1 ? 0x80 : (short ? 0x83 : 0x81)), size: size, reg: Int(op.rawValue), m)
        immediate(short ? Int32(Int8(truncatingIfNeeded: v)) : v, size: short ? 1 : size)
    }

    /// `test a, b` between registers (84/85).
    public mutating func test(size: Int, _ a: Int, _ b: Int) {
        Self.checkSize(size)
        rr(UInt16(sized(0x84, size)), size: size, reg: b, rm: a, byteOperands: size == 1)
    }

    // MARK: moves

    /// `mov dst, src` between registers (88/89).
    public mutating func mov(size: Int, _ dst: Int, _ src: Int) {
        Self.checkSize(size)
        rr(UInt16(sized(0x88, size)), size: size, reg: src, rm: dst, byteOperands: size == 1)
    }

    /// `mov [m], src` (88/89).
    public mutating func mov(size: Int, _ m: Memory, _ src: Int) {
        Self.checkSize(size)
        rm(UInt16(sized(0x88, size)), size: size, reg: src, m, byteRegister: size == 1)
    }

    /// `mov dst, [m]` (8A/8B).
    public mutating func mov(size: Int, _ dst: Int, _ m: Memory) {
        Self.checkSize(size)
        rm(UInt16(sized(0x8A, size)), size: size, reg: dst, m, byteRegister: size == 1)
    }

    /// `mov dst, imm`: B8+r with the operand size's immediate (a 64-bit one only where a
    /// sign-extended 32-bit one, C7 /0, cannot hold the value), B0+r for bytes.
    public mutating func mov(size: Int, _ dst: Int, immediate v: Int64) {
        Self.checkSize(size)
        if size == 8 && Int64(Int32(truncatingIfNeeded: v)) == v {
            rr(0xC7, size: 8, reg: 0, rm: dst)
            immediate(Int32(truncatingIfNeeded: v), size: 4)
            return
        }
        prefixes(size: size, rm: dst, byteRegister: size == 1 ? dst : -1)
        bytes.append((size == 1 ? 0xB0 : 0xB8) | UInt8(dst & 7))
        appendLittle(UInt64(bitPattern: v), size)
    }

    /// `mov [m], imm` (C6/C7 /0; a 64-bit store takes a sign-extended 32-bit immediate).
    public mutating func mov(size: Int, _ m: Memory, immediate v: Int32) {
        Self.checkSize(size)
        rm(UInt16(sized(0xC6, size)), size: size, reg: 0, m)
        immediate(v, size: size)
    }

    /// `lea dst, [m]` (8D) at 32 or 64 bits.
    public mutating func lea(size: Int, _ dst: Int, _ m: Memory) {
        precondition(size == 4 || size == 8, "LEA here writes 32 or 64 bits")
        rm(0x8D, size: size, reg: dst, m)
    }

    /// `movzx`/`movsx dst, src` from a byte or a word register (0F B6/B7/BE/BF), and
    /// `movsxd dst, src` (63) from a doubleword.
    public mutating func extend(signed: Bool, size: Int, _ dst: Int, from sourceSize: Int, _ src: Int) {
        precondition(sourceSize < size && (size == 4 || size == 8 || (size == 2 && sourceSize == 1)), "an extension widens")
        if sourceSize == 4 {
            precondition(signed && size == 8, "a doubleword is sign-extended to 64 bits (a 32-bit move zero-extends)")
            rr(0x63, size: 8, reg: dst, rm: src)
            return
        }
        prefixes(size: size, reg: dst, rm: src, byteRegister: sourceSize == 1 ? src : -1)
        opcode(0x0F00 | UInt16((signed ? 0xBE : 0xB6) + (sourceSize == 2 ? 1 : 0)))
        modrm(reg: dst, rm: src)
    }

    /// `movzx`/`movsx dst, [m]` from a byte or a word (0F B6/B7/BE/BF), and `movsxd dst, [m]`
    /// (63) from a doubleword.
    public mutating func extend(signed: Bool, size: Int, _ dst: Int, from sourceSize: Int, _ m: Memory) {
        precondition(sourceSize < size && (size == 4 || size == 8 || (size == 2 && sourceSize == 1)), "an extension widens")
        if sourceSize == 4 {
            precondition(signed && size == 8, "a doubleword is sign-extended to 64 bits (a 32-bit move zero-extends)")
            rm(0x63, size: 8, reg: dst, m)
            return
        }
        rm(0x0F00 | UInt16((signed ? 0xBE : 0xB6) + (sourceSize == 2 ? 1 : 0)), size: size, reg: dst, m)
    }

    /// `cmovcc dst, src` (0F 40+cc), 16 to 64 bits.
    public mutating func cmov(_ c: Condition, size: Int, _ dst: Int, _ src: Int) {
        precondition(size > 1, "CMOVcc has no byte form")
        rr(0x0F00 | UInt16(0x40 | c.rawValue), size: size, reg: dst, rm: src)
    }

    /// `setcc dst` (0F 90+cc) into a byte register.
    public mutating func set(_ c: Condition, _ dst: Int) {
        rr(0x0F00 | UInt16(0x90 | c.rawValue), size: 1, reg: 0, rm: dst, byteOperands: true)
    }

    // MARK: one-operand, shifts, multiply

    /// NOT, NEG, MUL (F6/F7 /2, /3, /4), INC, DEC (FE/FF /0, /1) on a register.
    public mutating func unary(_ op: Unary, size: Int, _ r: Int) {
        Self.checkSize(size)
        let (opcode, ext) = op.encoding
        rr(UInt16(sized(opcode, size)), size: size, reg: ext, rm: r, byteOperands: size == 1)
    }

    /// NOT, NEG, INC, DEC of memory (F6/F7 /2, /3; FE/FF /0, /1).
    public mutating func unary(_ op: Unary, size: Int, _ m: Memory) {
        Self.checkSize(size)
        let (opcode, ext) = op.encoding
        rm(UInt16(sized(opcode, size)), size: size, reg: ext, m)
    }

    /// `bswap r` (0F C8+r) at 32 or 64 bits.
    public mutating func bswap(size: Int, _ r: Int) {
        precondition(size == 4 || size == 8, "BSWAP swaps 32 or 64 bits")
        prefixes(size: size, rm: r)
        opcode(0x0F00 | UInt16(0xC8 | UInt8(r & 7)))
    }

    /// A shift or rotate of a register by CL (D2/D3 /n), or by an immediate (C0/C1 /n; D0/D1 /n
    /// for a count of 1).
    public mutating func shift(_ op: Shift, size: Int, _ r: Int, by count: UInt8? = nil) {
        Self.checkSize(size)
        switch count {
        case nil: rr(UInt16(sized(0xD2, size)), size: size, reg: Int(op.rawValue), rm: r, byteOperands: size == 1)
        case 1?: rr(UInt16(sized(0xD0, size)), size: size, reg: Int(op.rawValue), rm: r, byteOperands: size == 1)
        case let n?:
            rr(UInt16(sized(0xC0, size)), size: size, reg: Int(op.rawValue), rm: r, byteOperands: size == 1)
            bytes.append(n)
        }
    }

    /// A shift or rotate of memory, as `shift` of a register.
    public mutating func shift(_ op: Shift, size: Int, _ m: Memory, by count: UInt8? = nil) {
        Self.checkSize(size)
        switch count {
        case nil: rm(UInt16(sized(0xD2, size)), size: size, reg: Int(op.rawValue), m)
        case 1?: rm(UInt16(sized(0xD0, size)), size: size, reg: Int(op.rawValue), m)
        case let n?:
            rm(UInt16(sized(0xC0, size)), size: size, reg: Int(op.rawValue), m)
            bytes.append(n)
        }
    }

    /// `imul dst, src, imm` (6B /r ib when the immediate fits a byte, else 69 /r with the
    /// operand size's immediate), 16 to 64 bits.
    public mutating func imul(size: Int, _ dst: Int, _ src: Int, immediate v: Int32) {
        precondition(size > 1, "IMUL has no byte form")
        let short = Int32(Int8(truncatingIfNeeded: v)) == v
        rr(UInt16(short ? 0x6B : 0x69), size: size, reg: dst, rm: src)
        immediate(short ? Int32(Int8(truncatingIfNeeded: v)) : v, size: short ? 1 : size)
    }

    /// `op ah|ch|dh|bh, imm8` (80 /n with r/m 4-7 and no REX): `high` 0-3 names AH-BH.
    public mutating func aluHigh(_ op: ALU, _ high: Int, immediate v: UInt8) {
        precondition((0..<4).contains(high), "AH, CH, DH or BH")
        bytes.append(0x80)
        bytes.append(0xC0 | op.rawValue << 3 | UInt8(4 + high))
        bytes.append(v)
    }

    /// `imul dst, src` (0F AF), 16 to 64 bits.
    public mutating func imul(size: Int, _ dst: Int, _ src: Int) {
        precondition(size > 1, "two-operand IMUL has no byte form")
        rr(0x0FAF, size: size, reg: dst, rm: src)
    }

    // MARK: stack, flags, control transfer

    /// `push r64` (50+r).
    public mutating func push(_ r: Int) {
        prefixes(size: 4, rm: r)
        bytes.append(0x50 | UInt8(r & 7))
    }

    /// `pop r64` (58+r).
    public mutating func pop(_ r: Int) {
        prefixes(size: 4, rm: r)
        bytes.append(0x58 | UInt8(r & 7))
    }

    public mutating func pushfq() { bytes.append(0x9C) }
    public mutating func popfq() { bytes.append(0x9D) }
    public mutating func lahf() { bytes.append(0x9F) }
    public mutating func sahf() { bytes.append(0x9E) }
    public mutating func ret() { bytes.append(0xC3) }

    /// `jmp rel32` (E9) to `displacement` bytes past its own end; returns where the
    /// displacement sits, for patching.
    @discardableResult
    public mutating func jmp(_ displacement: Int32) -> Int {
        bytes.append(0xE9)
        appendLittle(UInt64(UInt32(bitPattern: displacement)), 4)
        return bytes.count - 4
    }

    /// `jcc rel32` (0F 80+cc); returns where the displacement sits.
    @discardableResult
    public mutating func jcc(_ c: Condition, _ displacement: Int32) -> Int {
        opcode(0x0F00 | UInt16(0x80 | c.rawValue))
        appendLittle(UInt64(UInt32(bitPattern: displacement)), 4)
        return bytes.count - 4
    }

    /// `call rel32` (E8); returns where the displacement sits.
    @discardableResult
    public mutating func call(_ displacement: Int32) -> Int {
        bytes.append(0xE8)
        appendLittle(UInt64(UInt32(bitPattern: displacement)), 4)
        return bytes.count - 4
    }

    /// `call r64` (FF /2) and `jmp r64` (FF /4).
    public mutating func call(register r: Int) { rr(0xFF, size: 4, reg: 2, rm: r) }
    public mutating func jmp(register r: Int) { rr(0xFF, size: 4, reg: 4, rm: r) }

    /// Writes a 32-bit displacement at `at` (as `jmp`, `jcc` and `call` returned it) so that
    /// the branch reaches `target` (an offset in `bytes`).
    public mutating func patch(_ at: Int, to target: Int) {
        X86Assembler.aim(&bytes, at, from: at, to: target)
        aimed.append((at, target))
    }

    /// Aims the branch whose displacement sits at `at` at `address`, outside the code (its
    /// displacement is written by `split`, once the code's address is known).
    public mutating func patch(_ at: Int, toAddress address: Int) { aimedOut.append((at, address)) }

    /// Writes into `bytes` at `at` the displacement of a branch whose displacement sits at
    /// address `from` (it counts from `from + 4`) to address `target`.
    static func aim(_ bytes: inout [UInt8], _ at: Int, from: Int, to target: Int) {
        let d = UInt32(bitPattern: Int32(target - (from + 4)))
        for i in 0..<4 { bytes[at + i] = UInt8(truncatingIfNeeded: d >> (8 * UInt32(i))) }
    }

    /// The code in two parts to be placed apart: the bytes before `at` to run from address
    /// `first`, the rest from `second`, every branch `patch` aimed from one part into the other
    /// aimed again, and every branch aimed outside the code aimed. (Only `patch`'s branches are
    /// relative: whatever else the code reaches it reaches by absolute address.)
    public func split(at: Int, first: Int, second: Int) -> (first: [UInt8], second: [UInt8]) {
        var code = bytes
        func address(_ offset: Int) -> Int { offset < at ? first + offset : second + offset - at }
        for (site, target) in aimed where (site < at) != (target < at) {
            X86Assembler.aim(&code, site, from: address(site), to: address(target))
        }
        for (site, target) in aimedOut { X86Assembler.aim(&code, site, from: address(site), to: target) }
        return (Array(code[..<at]), Array(code[at...]))
    }
}
