import X86
import X86Decoder

/// A memory operand resolved at decode, for 64-bit mode: displacement (a RIP-relative
/// address already made absolute: the cache entry belongs to one RIP), base and index register
/// numbers (`none` when absent), the index's scale as a shift, FS or GS (4, 5) or 0 for a
/// segment without a base, a 32-bit address size, and whether the SS segment applies (RSP or
/// RBP base: a non-canonical address is then #SS, not #GP).
struct FastAddress {
    static let none: UInt8 = 16
    var displacement: UInt64
    var base: UInt8
    var index: UInt8
    var scale: UInt8
    var segment: UInt8
    var address32: Bool
    var stack: Bool

    /// Nil for what the fast path does not resolve (16-bit addressing).
    init?(_ m: MemoryOperand, rip: UInt64, length: Int) {
        guard m.addressSize == 8 || m.addressSize == 4 else { return nil }
        displacement = UInt64(bitPattern: m.displacement)
        base = FastAddress.none
        index = FastAddress.none
        if let b = m.base {
            if b.kind == .instructionPointer {
                displacement &+= rip &+ UInt64(length)
            } else {
                base = b.number
            }
        }
        if let i = m.index { index = i.number }
        scale = UInt8(m.scale.trailingZeroBitCount)
        segment = m.segment.map { $0.number >= 4 ? $0.number : 0 } ?? 0
        address32 = m.addressSize == 4
        if address32 { displacement &= 0xFFFF_FFFF }
        stack = base == 4 || base == 5
    }
}

/// The commonest instruction shapes, resolved at decode so that executing them needs no
/// operand resolution: register, immediate and (in 64-bit mode) memory forms of the ALU
/// family, MOV, MOVZX/MOVSX, LEA, INC/DEC, shifts and rotates by a constant, PUSH/POP of a
/// register, near CALL/RET, and relative Jcc/JMP. Everything else takes the general path.
///
/// Register numbers carry their size: an operand size of 1, 2, 4 or 8 bytes (8-bit forms
/// only with the low-byte registers; AH-BH take the general path).
enum FastForm {
    case none
    /// op, destination, source register, operand size.
    case aluRegReg(Op, UInt8, UInt8, UInt8)
    /// The same for 64- and 32-bit operands (the size a constant in the executed code).
    case alu64(Op, UInt8, UInt8)
    case alu32(Op, UInt8, UInt8)
    case alu64Imm(Op, UInt8, UInt64)
    case alu32Imm(Op, UInt8, UInt64)
    /// op, destination, immediate (already sign-extended), operand size.
    case aluRegImm(Op, UInt8, UInt64, UInt8)
    /// op, destination register, memory source, operand size.
    case aluRegMem(Op, UInt8, FastAddress, UInt8)
    /// op, memory destination, source register, operand size.
    case aluMemReg(Op, FastAddress, UInt8, UInt8)
    /// op, memory destination, immediate, operand size.
    case aluMemImm(Op, FastAddress, UInt64, UInt8)
    case movRegReg(UInt8, UInt8, UInt8)
    case movRegImm(UInt8, UInt64, UInt8)
    /// MOV/MOVZX/MOVSX/MOVSXD register, memory: destination, its size, source, source size,
    /// sign-extend.
    case load(UInt8, UInt8, FastAddress, UInt8, Bool)
    /// MOVZX/MOVSX/MOVSXD register, register: the same with a register source.
    case extend(UInt8, UInt8, UInt8, UInt8, Bool)
    /// MOV memory, register: source, size.
    case store(FastAddress, UInt8, UInt8)
    case storeImm(FastAddress, UInt64, UInt8)
    /// LEA: destination, address (unsegmented), operand size.
    case lea(UInt8, FastAddress, UInt8)
    case incDec(inc: Bool, UInt8, UInt8)
    /// SHL/SHR/SAR/ROL/ROR register, constant: op, register, masked count (not 0), size.
    case shift(Op, UInt8, UInt8, UInt8)
    /// IMUL register, register (two operands) and IMUL register, register, immediate (the
    /// immediate sign-extended): destination, source, operand size (4 or 8).
    case imul(UInt8, UInt8, UInt8)
    case imulImm(UInt8, UInt8, UInt64, UInt8)
    /// MUL of a register into EDX:EAX or RDX:RAX: source, operand size (4 or 8).
    case mul(UInt8, UInt8)
    /// 64-bit PUSH/POP of a register.
    case push(UInt8)
    case pop(UInt8)
    /// 64-bit near CALL rel32 (target) and RET.
    case call(UInt64)
    case ret
    /// Condition, target (not taken: fall through).
    case jcc(UInt8, UInt64)
    case jmp(UInt64)
    /// NOP in any of its lengths (ENDBR32/ENDBR64 run as NOP too).
    case nop
    /// SETcc of a low-byte register: condition, register.
    case setcc(UInt8, UInt8)
    /// CMOVcc register, register and register, memory (32- or 64-bit): condition, destination,
    /// source, operand size.
    case cmov(UInt8, UInt8, UInt8, UInt8)
    case cmovLoad(UInt8, UInt8, FastAddress, UInt8)
    /// NOT and NEG of a register: register, operand size.
    case not(UInt8, UInt8)
    case neg(UInt8, UInt8)
    /// SHL/SHR/SAR/ROL/ROR of a 32- or 64-bit register by CL: op, register, size.
    case shiftCL(Op, UInt8, UInt8)
    /// BSWAP of a 32- or 64-bit register: register, size.
    case bswap(UInt8, UInt8)
    /// 64-bit near JMP and CALL through a register.
    case jmpReg(UInt8)
    case callReg(UInt8)
    /// 64-bit PUSH of an immediate (sign-extended).
    case pushImm(UInt64)
    /// CDQE (RAX from EAX) and CQO (RDX from RAX's sign).
    case cdqe
    case cqo

    init(_ op: Op, _ operands: [Operand], ins: Instruction, rip: UInt64, condition: Int8, conditionKind: UInt8) {
        self = .none
        let bits64 = ins.mode == .bits64
        func gpr(_ o: Operand) -> (UInt8, UInt8)? {
            guard case .register(let r) = o else { return nil }
            switch r.kind {
            case .gpr8: return (r.number, 1)
            case .gpr16: return (r.number, 2)
            case .gpr32: return (r.number, 4)
            case .gpr64: return (r.number, 8)
            default: return nil
            }
        }
        // Memory forms: 64-bit mode only (no segment limits or bases but FS's and GS's).
        func mem(_ o: Operand) -> (FastAddress, UInt8)? {
            guard bits64, case .memory(let m) = o, let a = FastAddress(m, rip: rip, length: Int(ins.length)) else { return nil }
            return (a, UInt8(m.size))
        }
        if condition >= 0 && conditionKind == 0, operands.count == 1, case .relative(let t) = operands[0] {
            self = .jcc(UInt8(condition), t)
            return
        }
        if condition >= 0 && conditionKind == 1 {
            if operands.count == 1, let (d, size) = gpr(operands[0]), size == 1 { self = .setcc(UInt8(condition), d) }
            return
        }
        if condition >= 0 && conditionKind == 2 {
            guard operands.count == 2, let (d, size) = gpr(operands[0]), size >= 4 else { return }
            if let (s, size2) = gpr(operands[1]), size2 == size {
                self = .cmov(UInt8(condition), d, s, size)
            } else if let (a, size2) = mem(operands[1]), size2 == size {
                self = .cmovLoad(UInt8(condition), d, a, size)
            }
            return
        }
        let two = operands.count == 2
        switch op {
        case .add, .or, .adc, .sbb, .and, .sub, .xor, .cmp, .test:
            guard two else { return }
            if let (d, size) = gpr(operands[0]) {
                if let (s, size2) = gpr(operands[1]), size2 == size {
                    self = size == 8 ? .alu64(op, d, s) : size == 4 ? .alu32(op, d, s) : .aluRegReg(op, d, s, size)
                } else if case .immediate(let v, let isz) = operands[1] {
                    let imm = signExtend(v, isz) & sizeMask(Int(size))
                    self = size == 8 ? .alu64Imm(op, d, imm) : size == 4 ? .alu32Imm(op, d, imm) : .aluRegImm(op, d, imm, size)
                } else if let (a, size2) = mem(operands[1]), size2 == size {
                    self = .aluRegMem(op, d, a, size)
                }
            } else if let (a, size) = mem(operands[0]) {
                if let (s, size2) = gpr(operands[1]), size2 == size {
                    self = .aluMemReg(op, a, s, size)
                } else if case .immediate(let v, let isz) = operands[1] {
                    self = .aluMemImm(op, a, signExtend(v, isz) & sizeMask(Int(size)), size)
                }
            }
        case .mov:
            guard two else { return }
            if let (d, size) = gpr(operands[0]) {
                if let (s, size2) = gpr(operands[1]), size2 == size, size >= 4 {
                    self = .movRegReg(d, s, size)
                } else if case .immediate(let v, let isz) = operands[1], size >= 4 {
                    self = .movRegImm(d, signExtend(v, isz) & sizeMask(Int(size)), size)
                } else if let (a, size2) = mem(operands[1]), size2 == size {
                    self = .load(d, size, a, size, false)
                }
            } else if let (a, size) = mem(operands[0]) {
                if let (s, size2) = gpr(operands[1]), size2 == size {
                    self = .store(a, s, size)
                } else if case .immediate(let v, let isz) = operands[1] {
                    self = .storeImm(a, signExtend(v, isz) & sizeMask(Int(size)), size)
                }
            }
        case .movzx, .movsx, .movsxd:
            guard two, let (d, size) = gpr(operands[0]), size >= 4 else { return }
            let signed = op != .movzx
            if let (s, size2) = gpr(operands[1]), size2 < size || (size2 == 4 && size == 4) {
                self = .extend(d, size, s, size2, signed && size2 < size)
            } else if let (a, size2) = mem(operands[1]) {
                self = .load(d, size, a, size2, signed && size2 < size)
            }
        case .lea:
            guard two, let (d, size) = gpr(operands[0]), size >= 4, case .memory(let m) = operands[1],
                  let a = FastAddress(m, rip: rip, length: Int(ins.length)) else { return }
            var plain = a
            plain.segment = 0
            self = .lea(d, plain, size)
        case .inc, .dec:
            guard operands.count == 1, let (d, size) = gpr(operands[0]) else { return }
            self = .incDec(inc: op == .inc, d, size)
        case .not, .neg:
            guard operands.count == 1, let (d, size) = gpr(operands[0]) else { return }
            self = op == .not ? .not(d, size) : .neg(d, size)
        case .shl, .sal, .shr, .sar, .rol, .ror:
            guard let (d, size) = gpr(operands[0]), size >= 4 else { return }
            var count: UInt64 = 1
            if two, case .register(let r) = operands[1], r.kind == .gpr8, r.number == 1 {
                self = .shiftCL(op == .sal ? .shl : op, d, size)
                return
            }
            if two {
                guard case .immediate(let v, _) = operands[1] else { return }
                count = v
            }
            let c = count & (size == 8 ? 0x3F : 0x1F)
            guard c != 0 else { return }
            self = .shift(op == .sal ? .shl : op, d, UInt8(c), size)
        case .imul:
            guard operands.count >= 2, let (d, size) = gpr(operands[0]), size >= 4,
                  let (s, size2) = gpr(operands[1]), size2 == size else { return }
            if operands.count == 2 {
                self = .imul(d, s, size)
            } else if case .immediate(let v, let isz) = operands[2] {
                self = .imulImm(d, s, signExtend(v, isz), size)
            }
        case .mul:
            guard operands.count == 1, let (s, size) = gpr(operands[0]), size >= 4 else { return }
            self = .mul(s, size)
        case .push:
            guard bits64, ins.operandSize == 8, operands.count == 1 else { return }
            if case .immediate(let v, let isz) = operands[0] {
                self = .pushImm(signExtend(v, isz))
            } else if let (r, size) = gpr(operands[0]), size == 8 {
                self = .push(r)
            }
        case .pop:
            guard bits64, ins.operandSize == 8, operands.count == 1, let (r, size) = gpr(operands[0]), size == 8 else { return }
            self = .pop(r)
        case .call:
            guard bits64, ins.operandSize == 8, operands.count == 1 else { return }
            if case .relative(let t) = operands[0] {
                self = .call(t)
            } else if let (r, size) = gpr(operands[0]), size == 8 {
                self = .callReg(r)
            }
        case .ret:
            guard bits64, ins.operandSize == 8, operands.isEmpty else { return }
            self = .ret
        case .jmp:
            guard operands.count == 1 else { return }
            if case .relative(let t) = operands[0] {
                self = .jmp(t)
            } else if bits64, ins.operandSize == 8, let (r, size) = gpr(operands[0]), size == 8 {
                self = .jmpReg(r)
            }
        case .nop:
            self = .nop
        case .bswap:
            guard operands.count == 1, let (d, size) = gpr(operands[0]), size >= 4 else { return }
            self = .bswap(d, size)
        case .cdqe:
            self = .cdqe
        case .cqo:
            self = .cqo
        default:
            break
        }
    }
}

extension CPU {
    /// A register's value at `size` bytes (the low byte, word, dword or all of it).
    @inline(__always) func gpr(_ n: UInt8, _ size: UInt8) -> UInt64 {
        state.gpr[Int(n)] & sizeMask(Int(size))
    }

    /// Writes a register at `size` bytes: 8- and 16-bit writes keep the rest, 32-bit writes
    /// clear the upper half.
    @inline(__always) func setGPR(_ n: UInt8, _ v: UInt64, _ size: UInt8) {
        let g = state.gpr, i = Int(n)
        switch size {
        case 8: g[i] = v
        case 4: g[i] = v & 0xFFFF_FFFF
        default:
            let m = sizeMask(Int(size))
            g[i] = (g[i] & ~m) | (v & m)
        }
    }

    /// The linear address of a resolved memory operand for a `size`-byte access, checked for
    /// canonical form (#SS through RSP/RBP, #GP otherwise).
    @_transparent func address(_ a: FastAddress, _ size: UInt8) throws(CPUException) -> UInt64 {
        var ea = effectiveAddress(a)
        if a.segment != 0 { ea &+= state.segmentBase(Int(a.segment)) }
        try checkCanonical(ea, Int(size), stack: a.stack)
        return ea
    }

    /// The effective address (the offset, before any segment base).
    @inline(__always) func effectiveAddress(_ a: FastAddress) -> UInt64 {
        let g = state.gpr
        var ea = a.displacement
        if a.base != FastAddress.none { ea &+= g[Int(a.base)] }
        if a.index != FastAddress.none { ea &+= g[Int(a.index)] &<< UInt64(a.scale) }
        return a.address32 ? ea & 0xFFFF_FFFF : ea
    }

    /// Runs a fast form; false when the instruction has none. Same semantics as the general
    /// path (the host comparison runs both: cpu-check steps each case through `step`).
    @inline(__always)
    ///
    /// `flags` false: no later instruction reads the flags this one writes before another
    /// overwrites them (`FastForm.flagEffect`, decided for a block), so only its result is
    /// computed.
    func executeFast(_ form: FastForm, _ length: UInt8, flags: Bool = true) throws(CPUException) -> Bool {
        let g = state.gpr
        switch form {
        case .none:
            return false
        case .aluRegReg(let op, let d, let s, let size):
            let r = alu(op, gpr(d, size), gpr(s, size), size, flags: flags)
            if op != .cmp && op != .test { setGPR(d, r, size) }
        case .alu64(let op, let d, let s):
            let r = alu(op, g[Int(d)], g[Int(s)], 8, flags: flags)
            if op != .cmp && op != .test { g[Int(d)] = r }
        case .alu32(let op, let d, let s):
            let r = alu(op, g[Int(d)] & 0xFFFF_FFFF, g[Int(s)] & 0xFFFF_FFFF, 4, flags: flags)
            if op != .cmp && op != .test { g[Int(d)] = r }
        case .alu64Imm(let op, let d, let imm):
            let r = alu(op, g[Int(d)], imm, 8, flags: flags)
            if op != .cmp && op != .test { g[Int(d)] = r }
        case .alu32Imm(let op, let d, let imm):
            let r = alu(op, g[Int(d)] & 0xFFFF_FFFF, imm, 4, flags: flags)
            if op != .cmp && op != .test { g[Int(d)] = r }
        case .aluRegImm(let op, let d, let imm, let size):
            let r = alu(op, gpr(d, size), imm, size, flags: flags)
            if op != .cmp && op != .test { setGPR(d, r, size) }
        case .aluRegMem(let op, let d, let a, let size):
            let v = try memory.read(try address(a, size), size: Int(size))
            let r = alu(op, gpr(d, size), v, size)
            if op != .cmp && op != .test { setGPR(d, r, size) }
        case .aluMemReg(let op, let a, let s, let size):
            try aluMemory(op, a, gpr(s, size), size)
        case .aluMemImm(let op, let a, let imm, let size):
            try aluMemory(op, a, imm, size)
        case .movRegReg(let d, let s, let size):
            g[Int(d)] = g[Int(s)] & sizeMask(Int(size))
        case .movRegImm(let d, let imm, _):
            g[Int(d)] = imm
        case .load(let d, let size, let a, let sourceSize, let signed):
            var v = try memory.read(try address(a, sourceSize), size: Int(sourceSize))
            if signed { v = signExtend(v, Int(sourceSize)) }
            setGPR(d, v, size)
        case .extend(let d, let size, let s, let sourceSize, let signed):
            var v = gpr(s, sourceSize)
            if signed { v = signExtend(v, Int(sourceSize)) }
            setGPR(d, v, size)
        case .store(let a, let s, let size):
            let ea = try address(a, size)
            try store(ea, size: Int(size), value: gpr(s, size))
        case .storeImm(let a, let imm, let size):
            let ea = try address(a, size)
            try store(ea, size: Int(size), value: imm)
        case .lea(let d, let a, let size):
            setGPR(d, effectiveAddress(a), size)
        case .incDec(let inc, let d, let size) where !flags:
            setGPR(d, inc ? g[Int(d)] &+ 1 : g[Int(d)] &- 1, size)
        case .incDec(let inc, let d, let size):
            let cf = state.rflags & Flag.cf
            let r = alu(inc ? .add : .sub, gpr(d, size), 1, size)
            state.rflags = (state.rflags & ~Flag.cf) | cf
            setGPR(d, r, size)
        case .shift(let op, let d, let c, let size):
            let a = gpr(d, size)
            setGPR(d, op == .rol || op == .ror ? shiftResult(op, a, UInt64(c), Int(size)) : shift(op, a, UInt64(c), Int(size), flags: flags), size)
        case .imul(let d, let s, let size):
            setGPR(d, signedProduct(gpr(d, size), gpr(s, size), size, flags: flags), size)
        case .imulImm(let d, let s, let imm, let size):
            setGPR(d, signedProduct(gpr(s, size), imm, size, flags: flags), size)
        case .mul(let s, let size):
            let (hi, lo) = unsignedProduct(g[0], g[Int(s)], Int(size))
            if flags { setMulFlags(hi != 0, lo, Int(size)) }
            g[0] = lo
            g[2] = hi
        case .push(let r):
            let sp = g[4] &- 8
            try checkCanonical(sp, 8, stack: true)
            try store(sp, size: 8, value: g[Int(r)])
            g[4] = sp
        case .pushImm(let v):
            let sp = g[4] &- 8
            try checkCanonical(sp, 8, stack: true)
            try store(sp, size: 8, value: v)
            g[4] = sp
        case .pop(let r):
            let sp = g[4]
            try checkCanonical(sp, 8, stack: true)
            let v = try memory.read(sp, size: 8)
            g[4] = sp &+ 8
            g[Int(r)] = v
        case .callReg(let r):
            // The target is read before the push (CALL RSP jumps to RSP's old value).
            try nearCall(g[Int(r)], length)
            return true
        case .jmpReg(let r):
            let target = g[Int(r)]
            guard isCanonical(target) else { throw .generalProtection(0) }
            state.rip = target
            return true
        case .call(let target):
            try nearCall(target, length)
            return true
        case .ret:
            let sp = g[4]
            try checkCanonical(sp, 8, stack: true)
            let target = try memory.read(sp, size: 8)
            guard isCanonical(target) else { throw .generalProtection(0) }
            g[4] = sp &+ 8
            state.rip = target
            return true
        case .jcc(let cc, let target):
            if condition(Int(cc)) {
                guard isCanonical(target) else { throw .generalProtection(0) }
                state.rip = target
                return true
            }
        case .jmp(let target):
            guard isCanonical(target) else { throw .generalProtection(0) }
            state.rip = target
            return true
        case .nop:
            break
        case .bswap(let d, let size):
            let v = g[Int(d)]
            g[Int(d)] = size == 8 ? v.byteSwapped : UInt64(UInt32(truncatingIfNeeded: v).byteSwapped)
        case .cdqe:
            g[0] = signExtend(g[0] & 0xFFFF_FFFF, 4)
        case .cqo:
            g[2] = g[0] & (1 << 63) != 0 ? ~0 : 0
        case .setcc(let cc, let d):
            g[Int(d)] = (g[Int(d)] & ~0xFF) | (condition(Int(cc)) ? 1 : 0)
        case .cmov(let cc, let d, let s, let size):
            // A 32-bit destination is zero-extended whether or not the move happens.
            let v = condition(Int(cc)) ? g[Int(s)] : g[Int(d)]
            g[Int(d)] = v & sizeMask(Int(size))
        case .cmovLoad(let cc, let d, let a, let size):
            // The source is read (and can fault) whether or not the move happens.
            let loaded = try memory.read(try address(a, size), size: Int(size))
            g[Int(d)] = (condition(Int(cc)) ? loaded : g[Int(d)]) & sizeMask(Int(size))
        case .not(let d, let size):
            setGPR(d, ~g[Int(d)], size)
        case .neg(let d, let size):
            setGPR(d, alu(.sub, 0, gpr(d, size), size, flags: flags), size)
        case .shiftCL(let op, let d, let size):
            let c = g[1] & (size == 8 ? 0x3F : 0x1F), a = gpr(d, size)
            if c == 0 {
                // No flags change; a 32-bit register's upper half still clears (`shift`).
                g[Int(d)] = a
            } else {
                setGPR(d, op == .rol || op == .ror ? shiftResult(op, a, c, Int(size)) : shift(op, a, c, Int(size), flags: flags), size)
            }
        }
        state.rip &+= UInt64(length)
        return true
    }

    /// SHL, SHR and SAR by a count from 1 to the width less one: result and flags (the fast
    /// forms' and `shiftResult`'s), with `flags` false only the result.
    @_transparent
    func shift(_ op: Op, _ a: UInt64, _ c: UInt64, _ size: Int, flags: Bool = true) -> UInt64 {
        let w = UInt64(size * 8), m = sizeMask(size), msb = signBit(size)
        if !flags {
            switch op {
            case .shr: return a >> c
            case .sar: return UInt64(bitPattern: Int64(bitPattern: signExtend(a, size)) >> Int64(c)) & m
            default: return (a << c) & m
            }
        }
        let r: UInt64, cf: Bool, of: Bool
        switch op {
        case .shr:
            r = a >> c
            cf = (a >> (c - 1)) & 1 != 0
            of = a & msb != 0
        case .sar:
            let s = Int64(bitPattern: signExtend(a, size))
            r = UInt64(bitPattern: s >> Int64(c)) & m
            cf = (s >> Int64(c - 1)) & 1 != 0
            of = false
        default: // shl
            r = (a << c) & m
            cf = (a >> (w - c)) & 1 != 0
            of = (r & msb != 0) != cf
        }
        var f = state.rflags & ~(Flag.cf | Flag.of | Flag.af | Flag.zf | Flag.sf | Flag.pf)
        if cf { f |= Flag.cf }
        if of { f |= Flag.of }
        if r == 0 { f |= Flag.zf }
        if r & msb != 0 { f |= Flag.sf }
        if (r & 0xFF).nonzeroBitCount & 1 == 0 { f |= Flag.pf }
        state.rflags = f
        return r
    }

    /// `alu`, or only its result when its flags are dead.
    @_transparent
    func alu(_ op: Op, _ a: UInt64, _ b: UInt64, _ size: UInt8, flags: Bool) -> UInt64 {
        flags ? alu(op, a, b, size) : aluValue(op, a, b, size)
    }

    /// A 64-bit near CALL: a non-canonical target is #GP(0) before anything is pushed.
    @_transparent
    func nearCall(_ target: UInt64, _ length: UInt8) throws(CPUException) {
        guard isCanonical(target) else { throw .generalProtection(0) }
        let g = state.gpr
        let sp = g[4] &- 8
        try checkCanonical(sp, 8, stack: true)
        try store(sp, size: 8, value: state.rip &+ UInt64(length))
        g[4] = sp
        state.rip = target
    }

    /// An ALU operation on memory: CMP and TEST only read; the others write the result, and
    /// if that write faults the flags go back (the instruction changed nothing).
    @inline(__always)
    func aluMemory(_ op: Op, _ a: FastAddress, _ b: UInt64, _ size: UInt8) throws(CPUException) {
        let ea = try address(a, size)
        let v = try memory.read(ea, size: Int(size))
        let saved = state.rflags
        let r = alu(op, v, b, size)
        if op == .cmp || op == .test { return }
        do throws(CPUException) { try store(ea, size: Int(size), value: r) } catch { state.rflags = saved; throw error }
    }
}
