import X86
import X86Decoder

/// The commonest instruction shapes, resolved at decode so that executing them needs no
/// operand resolution: 32/64-bit register and immediate forms of the ALU family, MOV,
/// INC/DEC, and relative Jcc/JMP. Everything else takes the general path.
enum FastForm {
    case none
    /// op, destination, source register, operand size (4 or 8).
    case aluRegReg(Op, UInt8, UInt8, UInt8)
    /// op, destination, immediate (already sign-extended), operand size.
    case aluRegImm(Op, UInt8, UInt64, UInt8)
    case movRegReg(UInt8, UInt8, UInt8)
    case movRegImm(UInt8, UInt64, UInt8)
    case incDec(inc: Bool, UInt8, UInt8)
    /// Condition, target (not taken: fall through).
    case jcc(UInt8, UInt64)
    case jmp(UInt64)

    init(_ op: Op, _ operands: [Operand], condition: Int8, conditionKind: UInt8) {
        func gpr(_ o: Operand) -> (UInt8, UInt8)? {
            guard case .register(let r) = o else { return nil }
            switch r.kind {
            case .gpr32: return (r.number, 4)
            case .gpr64: return (r.number, 8)
            default: return nil
            }
        }
        self = .none
        if condition >= 0 && conditionKind == 0, operands.count == 1, case .relative(let t) = operands[0] {
            self = .jcc(UInt8(condition), t)
            return
        }
        switch op {
        case .add, .or, .adc, .sbb, .and, .sub, .xor, .cmp, .test:
            guard operands.count == 2, let (d, size) = gpr(operands[0]) else { return }
            if let (s, size2) = gpr(operands[1]), size2 == size {
                self = .aluRegReg(op, d, s, size)
            } else if case .immediate(let v, let isz) = operands[1] {
                self = .aluRegImm(op, d, signExtend(v, isz) & sizeMask(Int(size)), size)
            }
        case .mov:
            guard operands.count == 2, let (d, size) = gpr(operands[0]) else { return }
            if let (s, size2) = gpr(operands[1]), size2 == size {
                self = .movRegReg(d, s, size)
            } else if case .immediate(let v, let isz) = operands[1] {
                self = .movRegImm(d, signExtend(v, isz) & sizeMask(Int(size)), size)
            }
        case .inc, .dec:
            guard operands.count == 1, let (d, size) = gpr(operands[0]) else { return }
            self = .incDec(inc: op == .inc, d, size)
        case .jmp:
            if operands.count == 1, case .relative(let t) = operands[0] { self = .jmp(t) }
        default:
            break
        }
    }
}

extension CPU {
    /// Runs a fast form; false when the instruction has none. Same semantics as the general
    /// path (the host comparison runs both: cpu-check steps each case through `step`).
    @inline(__always)
    func executeFast(_ entry: UnsafeMutablePointer<DecodedInstruction>) throws(CPUException) -> Bool {
        let g = state.gpr
        switch entry.pointee.fast {
        case .none:
            return false
        case .aluRegReg(let op, let d, let s, let size):
            let m = sizeMask(Int(size))
            let r = arithmetic(op, g[Int(d)] & m, g[Int(s)] & m, size: Int(size))
            if op != .cmp && op != .test { g[Int(d)] = r }
        case .aluRegImm(let op, let d, let imm, let size):
            let m = sizeMask(Int(size))
            let r = arithmetic(op, g[Int(d)] & m, imm, size: Int(size))
            if op != .cmp && op != .test { g[Int(d)] = r }
        case .movRegReg(let d, let s, let size):
            g[Int(d)] = g[Int(s)] & sizeMask(Int(size))
        case .movRegImm(let d, let imm, _):
            g[Int(d)] = imm
        case .incDec(let inc, let d, let size):
            let cf = state.rflags & Flag.cf
            let m = sizeMask(Int(size))
            g[Int(d)] = arithmetic(inc ? .add : .sub, g[Int(d)] & m, 1, size: Int(size))
            state.rflags = (state.rflags & ~Flag.cf) | cf
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
        }
        state.rip &+= UInt64(entry.pointee.ins.length)
        return true
    }
}
