import SoftFloat
import X86
import X86Decoder

// The x87 instructions, by group: loads and stores, arithmetic, compares and
// classification, constants and stack control, the control/status/environment
// instructions, and FXSAVE/FXRSTOR. X87.swift has the register stack and the exception rules.

extension Op {
    /// The x87 instructions that do not first check for a pending unmasked exception (#MF).
    var isNoWaitX87: Bool {
        switch self {
        case .fnstsw, .fnstcw, .fnclex, .fninit, .fnstenv, .fnsave, .fxsave, .fxsave64, .fxrstor, .fxrstor64,
             .feni8087_nop, .fdisi8087_nop, .fsetpm287_nop: true
        default: false
        }
    }
}

extension Op {
    /// The x87 control instructions (SDM vol. 1, 8.1.8 and 8.3.12) and WAIT: they leave the
    /// last instruction's pointers (FIP, FOP, FDP) as they are. The no-wait ones and the
    /// waiting loads of control state.
    var isX87Control: Bool {
        isNoWaitX87 || self == .fldcw || self == .fldenv || self == .frstor || self == .wait
    }
}

extension Op {
    /// FADD and its kin: the operation, whether reversed (FSUBR, FDIVR), whether it pops.
    var x87Form: (LaneOp, reverse: Bool, pop: Bool) {
        switch self {
        case .fadd, .fiadd: (.add, false, false)
        case .faddp: (.add, false, true)
        case .fsub, .fisub: (.sub, false, false)
        case .fsubp: (.sub, false, true)
        case .fsubr, .fisubr: (.sub, true, false)
        case .fsubrp: (.sub, true, true)
        case .fmul, .fimul: (.mul, false, false)
        case .fmulp: (.mul, false, true)
        case .fdiv, .fidiv: (.div, false, false)
        case .fdivp: (.div, false, true)
        case .fdivr, .fidivr: (.div, true, false)
        default: (.div, true, true) // fdivrp
        }
    }
}

extension Op {
    /// FCOM and its kin: how many pops, whether quiet (FUCOM: only SNaNs are invalid), whether
    /// the result goes to ZF/PF/CF (FCOMI) rather than C3/C2/C0.
    var x87CompareForm: (pops: Int, quiet: Bool, toEFLAGS: Bool) {
        switch self {
        case .fcomp, .ficomp: (1, false, false)
        case .fcompp: (2, false, false)
        case .fucom: (0, true, false)
        case .fucomp: (1, true, false)
        case .fucompp: (2, true, false)
        case .fcomi: (0, false, true)
        case .fcomip: (1, false, true)
        case .fucomi: (0, true, true)
        case .fucomip: (1, true, true)
        default: (0, false, false) // fcom, ficom, ftst
        }
    }

    /// FILD, FIST, FIADD and their kin take integer memory operands.
    var hasIntegerOperand: Bool {
        switch self {
        case .fild, .fist, .fistp, .fisttp, .fiadd, .fisub, .fisubr, .fimul, .fidiv, .fidivr, .ficom, .ficomp: true
        default: false
        }
    }
}

extension CPU {
    func x87(_ op: Op, _ ins: Instruction, _ ops: OperandList) throws(CPUException) {
        if !op.isNoWaitX87 && state.fsw & FSW.es != 0 { throw .x87FloatingPoint }
        try x87Operation(op, ins, ops)
        if !op.isX87Control { recordX87Pointers(ins, ops, excepted: state.fsw & FSW.es != 0) }
    }

    /// The last non-control instruction's pointers, by vendor. Intel (an Intel host, Sapphire
    /// Rapids class, shows it; the model reports FDP_EXCPTN_ONLY and deprecated FCS/FDS in
    /// CPUID.7.0:EBX bits 6 and 13): FIP is every such instruction's offset; FOP and FDP change
    /// only when it takes an unmasked exception, FDP then becoming its memory operand's offset
    /// or 0. AMD keeps all three for every such instruction (FDP only from memory forms) and
    /// FXSAVE/XSAVE store them only while an exception is pending (legacySaveImage).
    func recordX87Pointers(_ ins: Instruction, _ ops: OperandList, excepted: Bool) {
        state.fip = state.rip &- UInt64(ins.length)
        guard excepted || vendor == .amd else { return }
        state.fop = UInt16(ins.opcode & 7) << 8 | UInt16(ins.modrm)
        var memory: MemoryOperand?
        for i in 0..<ops.count { if case .memory(let m) = ops[i] { memory = m } }
        if let m = memory {
            state.fdp = linearAddress(m, segmented: false)
        } else if vendor == .intel {
            state.fdp = 0
        }
    }

    /// The legacy region of FXSAVE and XSAVE: AMD stores FOP, FIP and FDP only while an
    /// unmasked exception is pending (ES), zeros otherwise (Linux's X86_BUG_FXSAVE_LEAK).
    /// Without REX.W the layout is the 32-bit one: FIP's and FDP's low halves, each beside a
    /// selector (FCS, FDS), which the model deprecates (zero).
    func legacySaveImage(wide: Bool) -> [UInt8] {
        var image = state.fxsaveImage()
        if vendor == .amd && state.fsw & FSW.es == 0 { for i in 6..<24 { image[i] = 0 } }
        if !wide { for i in [12, 13, 14, 15, 20, 21, 22, 23] { image[i] = 0 } }
        return image
    }

    /// FXRSTOR's and XRSTOR's reading of FIP and FDP, as an Intel host shows it: without REX.W
    /// their low halves (the selectors are ignored); with it FDP whole and FIP sign-extended
    /// from bit 56, the model's linear-address width (LA57).
    func restoredX87Pointers(wide: Bool) {
        if !wide {
            state.fip &= 0xFFFF_FFFF
            state.fdp &= 0xFFFF_FFFF
        } else if vendor == .intel {
            state.fip = UInt64(bitPattern: Int64(bitPattern: state.fip << 7) >> 7)
        }
    }

    func x87Operation(_ op: Op, _ ins: Instruction, _ ops: OperandList) throws(CPUException) {
        switch op {
        case .fld, .fild, .fbld: try x87LoadInstruction(op, ops)
        case .fst, .fstp, .fstpnce, .fist, .fistp, .fisttp, .fbstp: try x87Store(op, ops)
        case .fadd, .faddp, .fiadd, .fsub, .fsubp, .fisub, .fsubr, .fsubrp, .fisubr,
             .fmul, .fmulp, .fimul, .fdiv, .fdivp, .fidiv, .fdivr, .fdivrp, .fidivr:
            try x87Arithmetic(op, ops)
        case .fcom, .fcomp, .fcompp, .fucom, .fucomp, .fucompp, .ficom, .ficomp, .ftst,
             .fcomi, .fcomip, .fucomi, .fucomip:
            try x87Compare(op, ops)
        case .fxam: x87Examine()
        case .fchs, .fabs, .fsqrt, .frndint: x87Unary(op)
        case .fld1, .fldl2t, .fldl2e, .fldpi, .fldlg2, .fldln2, .fldz: x87Constant(op)
        case .fxch: x87Exchange(ops)
        case .fscale: x87Scale()
        case .fxtract: x87Extract()
        case .fprem, .fprem1: x87Remainder(op)
        case .fincstp, .fdecstp:
            fpuTop += op == .fincstp ? 1 : -1
            state.fsw &= ~FSW.c1
        case .ffree, .ffreep:
            guard case .register(let r) = ops[0] else { throw .invalidOpcode }
            setFPUTag(physical(Int(r.number)), 3)
            if op == .ffreep { fpuPop() }
            state.fsw &= ~FSW.c1
        case .fcmovb, .fcmove, .fcmovbe, .fcmovu, .fcmovnb, .fcmovne, .fcmovnbe, .fcmovnu:
            try x87ConditionalMove(op, ops)
        case .wait, .fnop, .feni8087_nop, .fdisi8087_nop, .fsetpm287_nop:
            break
        case .fsin, .fcos, .fsincos, .fptan, .fpatan, .f2xm1, .fyl2x, .fyl2xp1:
            x87Transcendental(op)
        default:
            try x87Control(op, ins, ops)
        }
    }

    /// The ST(i) register an operand names.
    func stackIndex(_ op: Operand) -> Int? {
        if case .register(let r) = op, r.kind == .x87 { return Int(r.number) }
        return nil
    }

    // MARK: loads and stores

    func x87LoadInstruction(_ op: Op, _ ops: OperandList) throws(CPUException) {
        var flags = FPFlags()
        var value: Extended
        switch ops[0] {
        case .memory(let m):
            let format = x87MemoryFormat(op, m)
            if format == .extended {
                // FLD m80 loads the bits as they are.
                let a = try checkedAddress(m, size: 10)
                value = (try memory.read(a, size: 8), UInt16(try memory.read(a &+ 8, size: 2)))
            } else {
                let v = try x87Load(m, format, &flags)
                if v.kind == .signalingNaN { flags.insert(.invalid) }
                value = (v.kind == .signalingNaN ? v.quieted : v).packExtended()
            }
        default:
            let i = stackIndex(ops[0]) ?? 0
            if isEmpty(i) {
                if x87Signal([], stackFault: true) { fpuPush(CPU.indefinite) }
                return
            }
            value = st(i)
        }
        if !isEmpty(7) {
            // The stack overflow outranks what the operand would raise (DE, IE): seen on the host.
            if x87Signal([], stackFault: true, overflowFault: true) { fpuPush(CPU.indefinite) }
            return
        }
        if x87Signal(flags) { fpuPush(value) }
    }

    func x87Store(_ op: Op, _ ops: OperandList) throws(CPUException) {
        let pop = op != .fst && op != .fist
        if case .register(let r) = ops[0], r.kind == .x87 {
            // FST/FSTP ST(i): a copy of the register as it is. FSTPNCE (D9 D8+i) does not check
            // that ST(0) is full.
            if isEmpty(0) && op == .fstpnce {
                // Observed on the host: nothing is copied from an empty ST(0), and it is popped.
                state.fsw &= ~FSW.c1
                fpuPop()
                return
            }
            if isEmpty(0) {
                if x87Signal([], stackFault: true) {
                    setST(Int(r.number), CPU.indefinite)
                    if pop { fpuPop() }
                }
                return
            }
            setST(Int(r.number), st(0))
            state.fsw &= ~FSW.c1
            if pop { fpuPop() }
            return
        }
        guard case .memory(let m) = ops[0] else { throw .invalidOpcode }
        let format = x87MemoryFormat(op, m)
        // Which comes first, the address's segment and canonical checks or an unmasked
        // exception that stores nothing: AMD checks the address first (its host's campaigns);
        // an Intel host stores nothing and raises no #GP for a non-canonical address.
        let addressFirst = vendor == .amd
        var a: UInt64 = addressFirst ? try checkedAddress(m, size: m.size) : 0
        var flags = FPFlags()
        let empty = isEmpty(0)
        let v = empty ? FPValue.indefinite : stValue(0, &flags)
        flags.remove(.denormal) // stores do not report denormal sources
        var bits: UInt64 = 0, high: UInt64 = 0
        var noStore = false
        let env = x87Environment
        switch format {
        case .extended:
            (bits, high) = empty ? (CPU.indefinite.significand, UInt64(CPU.indefinite.se)) : (st(0).significand, UInt64(st(0).se))
        case .single, .double:
            let f: FPFormat = format == .single ? .single : .double
            switch v.kind {
            case .signalingNaN: flags.insert(.invalid); bits = v.quieted.pack(f)
            case .unsupported: flags.insert(.invalid); bits = FPValue.indefinite.pack(f)
            case .finite:
                let r = SoftFloat.round(v, f, env, &flags)
                noStore = (r.overflowed && env.overflowUnmasked) || (r.tiny && env.underflowUnmasked)
                // Nothing is stored, so nothing was rounded: no PE, and C1 clear.
                if noStore { flags.subtract([.inexact, .roundedUp]) }
                bits = r.value.pack(f)
            default: bits = v.pack(f)
            }
        case .int16, .int32, .int64:
            let width = m.size * 8
            bits = SoftFloat.toInteger(v.kind == .unsupported ? .indefinite : v, bits: width,
                                       op == .fisttp ? .towardZero : env.rounding, &flags)
        case .bcd:
            (bits, high) = packedBCD(v, env.rounding, &flags)
        }
        let savedStatus = state.fsw
        if !x87Signal(flags, stackFault: empty) { return }
        // An unmasked overflow or underflow stores nothing and leaves the stack as it was.
        if noStore { return }
        do throws(CPUException) {
            if !addressFirst { a = try checkedAddress(m, size: m.size) }
            if format == .extended || format == .bcd {
                _ = try memory.read(a &+ 8, size: 2) // both parts are checked before either is written
                try store(a, size: 8, value: bits)
                try store(a &+ 8, size: 2, value: high)
            } else {
                try store(a, size: m.size, value: bits)
            }
        } catch {
            state.fsw = savedStatus // a faulting address or store changes nothing
            throw error
        }
        if pop { fpuPop() }
    }

    /// FBSTP's 18-digit packed BCD of the value rounded to an integer; out of range, a NaN or
    /// an infinity is invalid and stores the BCD indefinite.
    func packedBCD(_ v: FPValue, _ mode: FPRounding, _ flags: inout FPFlags) -> (UInt64, UInt64) {
        let indefinite: (UInt64, UInt64) = (0xC000_0000_0000_0000, 0xFFFF)
        guard v.kind == .finite || v.kind == .zero, let (m, rounding) = SoftFloat.integerPart(v, mode),
              m < 1_000_000_000_000_000_000 else {
            flags.insert(.invalid)
            return indefinite
        }
        flags.formUnion(rounding)
        var n = m, low: UInt64 = 0
        for i in 0..<16 { low |= (n % 10) << UInt64(4 * i); n /= 10 }
        let high = (n % 10) | ((n / 10) % 10) << 4 | (v.sign ? 0x8000 : 0)
        return (low, high)
    }

    // MARK: arithmetic

    func x87Arithmetic(_ op: Op, _ ops: OperandList) throws(CPUException) {
        let (laneOp, reverse, pop) = op.x87Form
        // The destination register and the other operand.
        var flags = FPFlags()
        let dest: Int
        let other: FPValue
        var otherEmpty = false
        if case .memory(let m) = ops[0] {
            dest = 0
            other = try x87Load(m, x87MemoryFormat(op, m), &flags)
        } else {
            dest = stackIndex(ops[0]) ?? 1
            let source = ops.count > 1 ? (stackIndex(ops[1]) ?? 0) : 0
            otherEmpty = isEmpty(source)
            other = stValue(source, &flags)
        }
        if isEmpty(dest) || otherEmpty {
            if x87Signal([], stackFault: true) {
                setST(dest, CPU.indefinite)
                if pop { fpuPop() }
            }
            return
        }
        let x = stValue(dest, &flags)
        let (a, b) = reverse ? (other, x) : (x, other)
        let result: Extended
        if let nan = x87NaN(a, b, &flags) {
            result = nan.packExtended()
        } else {
            result = x87Result(SoftFloat.arithmetic(laneOp, a, b, x87Precision, x87Environment, &flags), &flags)
        }
        if x87Signal(flags) {
            setST(dest, result)
            if pop { fpuPop() }
        }
    }

    /// FCHS, FABS, FSQRT, FRNDINT on ST(0).
    func x87Unary(_ op: Op) {
        if isEmpty(0) {
            if x87Signal([], stackFault: true) { setST(0, CPU.indefinite) }
            return
        }
        var flags = FPFlags()
        let r = st(0)
        switch op {
        case .fchs, .fabs:
            let se = op == .fchs ? r.se ^ 0x8000 : r.se & 0x7FFF
            x87Signal([])
            setST(0, (r.significand, se))
        case .fsqrt:
            let v = stValue(0, &flags)
            let result: Extended
            if let nan = x87NaN(v, .zero(false), &flags) {
                result = nan.packExtended()
            } else if v.kind == .finite && !v.sign {
                result = x87Result(SoftFloat.squareRootFinite(v, x87Precision, x87Environment, &flags), &flags)
            } else {
                result = SoftFloat.squareRoot(v, x87Precision, x87Environment, &flags).packExtended()
            }
            if x87Signal(flags) { setST(0, result) }
        default: // frndint
            let v = stValue(0, &flags)
            let result: FPValue
            if let nan = x87NaN(v, .zero(false), &flags) { result = nan } else {
                result = SoftFloat.roundToIntegral(v, .extended, x87Environment.rounding, &flags)
            }
            if x87Signal(flags) { setST(0, result.packExtended()) }
        }
    }

    // MARK: compares and classification

    func x87Compare(_ op: Op, _ ops: OperandList) throws(CPUException) {
        var flags = FPFlags()
        let (pops, quiet, toEFLAGS) = op.x87CompareForm
        var other: FPValue
        var empty = isEmpty(0)
        switch op {
        case .ftst:
            other = .zero(false)
        default:
            if let first = ops.first, case .memory(let m) = first {
                other = try x87Load(m, x87MemoryFormat(op, m), &flags)
            } else {
                let i = ops.count > 1 ? (stackIndex(ops[1]) ?? 1) : (ops.first.flatMap(stackIndex) ?? 1)
                empty = empty || isEmpty(i)
                other = stValue(i, &flags)
            }
        }
        let x = stValue(0, &flags)
        var order = SoftFloat.Order.unordered
        if !empty {
            if x.kind == .unsupported || other.kind == .unsupported { flags.insert(.invalid) }
            if x.isNaN || other.isNaN { flags.insert(.nanOperand) }
            if x.kind == .signalingNaN || other.kind == .signalingNaN || (!quiet && (x.isNaN || other.isNaN)) {
                flags.insert(.invalid)
            }
            order = SoftFloat.compare(x, other)
        } else {
            flags = []
        }
        let c1 = state.fsw & FSW.c1
        // The condition codes (or EFLAGS) are written even when an unmasked exception stops
        // the instruction; only the pops are skipped.
        let completes = x87Signal(flags, stackFault: empty)
        // FCOMI and FUCOMI leave C1 as it was unless the stack underflowed.
        if toEFLAGS && !empty { state.fsw = state.fsw & ~FSW.c1 | c1 }
        if toEFLAGS {
            state.rflags = state.rflags & ~Flag.status | order.eflags
        } else {
            state.fsw = state.fsw & ~(FSW.c3 | FSW.c2 | FSW.c0) | order.x87Conditions
        }
        guard completes else { return }
        for _ in 0..<pops { fpuPop() }
    }

    /// FXAM: C3, C2, C0 give the class of ST(0), C1 its sign.
    func x87Examine() {
        let r = st(0)
        let e = r.se & 0x7FFF, integer = r.significand >> 63 != 0
        let c: UInt16
        if isEmpty(0) {
            c = FSW.c3 | FSW.c0
        } else if e == 0 {
            c = r.significand == 0 ? FSW.c3 : FSW.c3 | FSW.c2
        } else if !integer {
            c = 0
        } else if e == 0x7FFF {
            c = r.significand << 1 == 0 ? FSW.c2 | FSW.c0 : FSW.c0
        } else {
            c = FSW.c2
        }
        state.fsw = state.fsw & ~FSW.conditions | c | (r.se & 0x8000 != 0 ? FSW.c1 : 0)
    }

    // MARK: constants and the stack

    /// FLDPI and the other constants: held to 128 bits and rounded by RC to 64.
    func x87Constant(_ op: Op) {
        let (sig, exponent): (UInt128, UInt16)
        switch op {
        case .fld1: (sig, exponent) = (UInt128(1) << 127, 0x3FFF)
        case .fldz: (sig, exponent) = (0, 0)
        case .fldpi: (sig, exponent) = (UInt128(0xC90F_DAA2_2168_C234) << 64 | UInt128(0xC4C6_628B_80DC_1CD1), 0x4000)
        case .fldl2t: (sig, exponent) = (UInt128(0xD49A_784B_CD1B_8AFE) << 64 | UInt128(0x492B_F6FF_4DAF_DB4C), 0x4000)
        case .fldl2e: (sig, exponent) = (UInt128(0xB8AA_3B29_5C17_F0BB) << 64 | UInt128(0xBE87_FED0_691D_3E88), 0x3FFF)
        case .fldlg2: (sig, exponent) = (UInt128(0x9A20_9A84_FBCF_F798) << 64 | UInt128(0x8F89_59AC_0B7C_9178), 0x3FFD)
        default: (sig, exponent) = (UInt128(0xB172_17F7_D1CF_79AB) << 64 | UInt128(0xC9E3_B398_03F2_F6AF), 0x3FFE) // ln 2
        }
        if !isEmpty(7) {
            if x87Signal([], stackFault: true, overflowFault: true) { fpuPush(CPU.indefinite) }
            return
        }
        let (keep, _) = SoftFloat.roundBits(sig, drop: 64, sign: false, x87Environment.rounding)
        x87Signal([])
        // The constants' 64 bits never carry out when rounded.
        fpuPush((UInt64(truncatingIfNeeded: keep), exponent))
    }

    func x87Exchange(_ ops: OperandList) {
        let i = ops.count > 0 ? (stackIndex(ops[ops.count - 1]) ?? 1) : 1
        if isEmpty(0) || isEmpty(i) {
            guard x87Signal([], stackFault: true) else { return }
            if isEmpty(0) { setST(0, CPU.indefinite) }
            if isEmpty(i) { setST(i, CPU.indefinite) }
        } else {
            x87Signal([])
        }
        let a = st(0), b = st(i)
        setST(0, b)
        setST(i, a)
    }

    func x87ConditionalMove(_ op: Op, _ ops: OperandList) throws(CPUException) {
        let i = ops.count > 1 ? (stackIndex(ops[1]) ?? 1) : 1
        let f = state.rflags
        let cf = f & Flag.cf != 0, zf = f & Flag.zf != 0, pf = f & Flag.pf != 0
        let take: Bool
        switch op {
        case .fcmovb: take = cf
        case .fcmove: take = zf
        case .fcmovbe: take = cf || zf
        case .fcmovu: take = pf
        case .fcmovnb: take = !cf
        case .fcmovne: take = !zf
        case .fcmovnbe: take = !cf && !zf
        default: take = !pf
        }
        if isEmpty(0) || isEmpty(i) {
            if x87Signal([], stackFault: true) { setST(0, CPU.indefinite) }
            return
        }
        // C1 stays as it was.
        if take { setST(0, st(i)) }
    }
}
