import SoftFloat
import X86
import X86Decoder

// SSE, SSE2 and SSE3 floating point on XMM registers: arithmetic, compares, conversions,
// and the moves and shuffles of single and double lanes. Arithmetic goes through
// SoftFloat with MXCSR's rounding, DAZ and FTZ; the flags follow SDM vol. 1, 11.5.2: if a
// pre-computation exception (IE, DE, ZE) is unmasked in any lane, those flags are set and
// #XM is raised before anything else; otherwise if a post-computation one (OE, UE, PE) is
// unmasked, every flag is set and #XM is raised; either way the destination is unchanged.

/// One lane's binary operation.
extension Op {
    /// ADDPS and its kin: the operation, whether on doubles, whether scalar.
    var laneForm: (LaneOp, double: Bool, scalar: Bool) {
        switch self {
        case .addps: (.add, false, false)
        case .addss: (.add, false, true)
        case .addpd: (.add, true, false)
        case .addsd: (.add, true, true)
        case .subps: (.sub, false, false)
        case .subss: (.sub, false, true)
        case .subpd: (.sub, true, false)
        case .subsd: (.sub, true, true)
        case .mulps: (.mul, false, false)
        case .mulss: (.mul, false, true)
        case .mulpd: (.mul, true, false)
        case .mulsd: (.mul, true, true)
        case .divps: (.div, false, false)
        case .divss: (.div, false, true)
        case .divpd: (.div, true, false)
        case .divsd: (.div, true, true)
        case .minps: (.min, false, false)
        case .minss: (.min, false, true)
        case .minpd: (.min, true, false)
        case .minsd: (.min, true, true)
        case .maxps: (.max, false, false)
        case .maxss: (.max, false, true)
        case .maxpd: (.max, true, false)
        default: (.max, true, true) // maxsd
        }
    }
}

extension CPU {
    /// The SoftFloat environment MXCSR describes.
    var simdEnvironment: FPEnvironment {
        let m = state.mxcsr
        return FPEnvironment(rounding: FPRounding(rawValue: (m >> 13) & 3)!, flushToZero: m & 0x8000 != 0,
                             denormalsAreZero: m & 0x40 != 0, underflowUnmasked: m & 0x800 == 0,
                             overflowUnmasked: m & 0x400 == 0)
    }

    /// Records `flags` in MXCSR, or raises #XM for the unmasked ones (see the top of the file).
    func commitSIMD(_ flags: FPFlags) throws(CPUException) {
        let flags = flags.architectural
        let unmasked = FPFlags(rawValue: ~(state.mxcsr >> 7) & 0x3F)
        let pre = flags.intersection([.invalid, .denormal, .divideByZero])
        if !pre.intersection(unmasked).isEmpty {
            state.mxcsr |= pre.rawValue
            throw .simdFloatingPoint
        }
        state.mxcsr |= flags.rawValue
        if !flags.intersection(unmasked).isEmpty { throw .simdFloatingPoint }
    }

    /// Applies `f` to `count` lanes of singles (`double` false) or doubles; lanes past
    /// `count` keep `a`'s bits. Each lane's flags are prioritized (SoftFloat.prioritized) on
    /// their own, then all are committed (which may raise #XM) before returning.
    func floatLanes(_ a: Vec, _ b: Vec, double: Bool, count: Int,
                    _ f: (UInt64, UInt64, FPFormat, inout FPFlags) -> UInt64) throws(CPUException) -> Vec {
        var flags = FPFlags()
        var r = a
        let format: FPFormat = double ? .double : .single
        for i in 0..<count {
            var laneFlags = FPFlags()
            r = settingFloatLane(r, i, double: double, f(floatLane(a, i, double: double), floatLane(b, i, double: double), format, &laneFlags))
            flags.formUnion(SoftFloat.prioritized(laneFlags))
        }
        try commitSIMD(flags)
        return r
    }

    /// a op b on one lane, with SSE's choice of NaN: the first NaN operand, made quiet.
    func laneArithmetic(_ op: LaneOp, _ x: UInt64, _ y: UInt64, _ format: FPFormat, _ flags: inout FPFlags) -> UInt64 {
        let env = simdEnvironment
        var laneFlags = FPFlags()
        defer { flags.formUnion(SoftFloat.prioritized(laneFlags)) }
        let a = FPValue.unpack(x, format, env, &laneFlags), b = FPValue.unpack(y, format, env, &laneFlags)
        if a.isNaN || b.isNaN { laneFlags.insert(.nanOperand) }
        if op == .min || op == .max {
            // MIN/MAX: any NaN is invalid and gives the second operand, as do two zeros; under
            // DAZ a denormal result is the zero it was read as.
            if a.isNaN || b.isNaN {
                laneFlags.insert(.invalid)
                return b.pack(format)
            }
            let order = SoftFloat.compare(a, b)
            return ((op == .min ? order == .less : order == .greater) ? a : b).pack(format)
        }
        if a.isNaN || b.isNaN {
            if a.kind == .signalingNaN || b.kind == .signalingNaN { laneFlags.insert(.invalid) }
            return (a.isNaN ? a : b).quieted.pack(format)
        }
        return SoftFloat.arithmetic(op, a, b, format, env, &laneFlags).value.pack(format)
    }

    /// SSE floating-point instructions.
    func sseFloat(_ op: Op, _ ins: Instruction, _ ops: OperandList) throws(CPUException) {
        switch op {
        case .addps, .subps, .mulps, .divps, .minps, .maxps, .addss, .subss, .mulss, .divss, .minss, .maxss,
             .addpd, .subpd, .mulpd, .divpd, .minpd, .maxpd, .addsd, .subsd, .mulsd, .divsd, .minsd, .maxsd:
            let (laneOp, double, scalar) = op.laneForm
            let a = try readVector(ops[0], aligned: true), b = try readVector(ops[1], aligned: true)
            let r = try floatLanes(a, b, double: double, count: scalar ? 1 : (double ? 2 : 4)) { x, y, format, flags in
                laneArithmetic(laneOp, x, y, format, &flags)
            }
            try writeVector(ops[0], r, aligned: true)
        case .addsubps, .addsubpd, .haddps, .haddpd, .hsubps, .hsubpd:
            try horizontal(op, ops)
        case .sqrtps, .sqrtss, .sqrtpd, .sqrtsd:
            let double = op == .sqrtpd || op == .sqrtsd, scalar = op == .sqrtss || op == .sqrtsd
            let a = try readVector(ops[0], aligned: true), b = try readVector(ops[1], aligned: true)
            // Packed forms take every lane from the source; scalar ones keep the destination's upper lanes.
            let r = try floatLanes(scalar ? a : b, b, double: double, count: scalar ? 1 : (double ? 2 : 4)) { _, y, format, flags in
                let env = simdEnvironment
                let v = FPValue.unpack(y, format, env, &flags)
                if v.isNaN { flags.insert(.nanOperand) }
                return SoftFloat.squareRoot(v, format, env, &flags).pack(format)
            }
            try writeVector(ops[0], r, aligned: true)
        case .rcpps, .rcpss, .rsqrtps, .rsqrtss:
            let scalar = op == .rcpss || op == .rsqrtss
            let a = try readVector(ops[0], aligned: true), b = try readVector(ops[1], aligned: true)
            var r = scalar ? a : b
            for i in 0..<(scalar ? 1 : 4) {
                let y = UInt32(truncatingIfNeeded: lane32(b, i))
                r = setLane32(r, i, UInt64(op == .rcpps || op == .rcpss ? SoftFloat.reciprocalEstimate(y)
                                                                         : SoftFloat.reciprocalSquareRootEstimate(y)))
            }
            try writeVector(ops[0], r, aligned: true)
        case .cmpps, .cmpss, .cmppd, .cmpsdSSE:
            guard case .immediate(let imm, _) = ops[2] else { throw .invalidOpcode }
            let double = op == .cmppd || op == .cmpsdSSE, scalar = op == .cmpss || op == .cmpsdSSE
            let a = try readVector(ops[0], aligned: true), b = try readVector(ops[1], aligned: true)
            let r = try floatLanes(a, b, double: double, count: scalar ? 1 : (double ? 2 : 4)) { x, y, format, flags in
                let env = simdEnvironment
                let p = FPValue.unpack(x, format, env, &flags), q = FPValue.unpack(y, format, env, &flags)
                if p.isNaN || q.isNaN { flags.insert(.nanOperand) }
                return SoftFloat.predicate(Int(imm & 7), p, q, &flags) ? (double ? ~0 : 0xFFFF_FFFF) : 0
            }
            try writeVector(ops[0], r, aligned: true)
        case .comiss, .ucomiss, .comisd, .ucomisd:
            let format: FPFormat = op == .comiss || op == .ucomiss ? .single : .double
            let a = try readVector(ops[0], aligned: true), b = try readVector(ops[1], aligned: true)
            let env = simdEnvironment
            var flags = FPFlags()
            let mask = format.precision == 24 ? 0xFFFF_FFFF : ~UInt64(0)
            let p = FPValue.unpack(a.lo & mask, format, env, &flags), q = FPValue.unpack(b.lo & mask, format, env, &flags)
            let signaling = op == .comiss || op == .comisd
            if p.isNaN || q.isNaN { flags.insert(.nanOperand) }
            if p.kind == .signalingNaN || q.kind == .signalingNaN || (signaling && (p.isNaN || q.isNaN)) {
                flags.insert(.invalid)
            }
            try commitSIMD(SoftFloat.prioritized(flags))
            state.rflags = state.rflags & ~Flag.status | SoftFloat.compare(p, q).eflags
        case .roundps, .roundpd, .roundss, .roundsd:
            let imm = try immediate(ops, 2)
            let double = op == .roundpd || op == .roundsd, scalar = op == .roundss || op == .roundsd
            let mode = imm & 4 != 0 ? simdEnvironment.rounding : FPRounding(rawValue: UInt32(imm & 3))!
            let a = try readVector(ops[0], aligned: true), b = try readVector(ops[1], aligned: true)
            let r = try floatLanes(scalar ? a : b, b, double: double, count: scalar ? 1 : (double ? 2 : 4)) { _, y, format, flags in
                // ROUND* report no DE, and no PE when imm8 bit 3 says so (the flags are this lane's own).
                let v = FPValue.unpack(y, format, simdEnvironment, &flags)
                let r = SoftFloat.roundToIntegral(v, format, mode, &flags)
                flags.remove(.denormal)
                if imm & 8 != 0 { flags.remove(.inexact) }
                return r.pack(format)
            }
            try writeVector(ops[0], r, aligned: true)
        case .dpps, .dppd:
            try dotProduct(op, ops)
        default:
            try sseConvert(op, ins, ops)
        }
    }

    /// DPPS and DPPD: products of the lanes imm8[7:4] selects (others +0.0), summed in pairs
    /// as the SDM's pseudocode orders them, each step rounded; the sum goes to the lanes
    /// imm8[3:0] selects, +0.0 to the others.
    ///
    /// The order of the operands only matters when two are NaNs (the first one propagates).
    /// AMD computes lane 0's sum, (p0 + p1) + (p2 + p3), for every lane (DPPD: p0 + p1). Intel
    /// sums each lane by butterfly, its own pair first: DPPS lane i is (pi^1 + pi) + (pi^3 + pi^2)
    /// and DPPD lane i is pi + pi^1, as an Intel host (Sapphire Rapids class) shows for every
    /// set of NaN products (VendorTests.dppsNaNPropagation).
    func dotProduct(_ op: Op, _ ops: OperandList) throws(CPUException) {
        let imm = try immediate(ops, 2)
        let a = try readVector(ops[0], aligned: true), b = try readVector(ops[1], aligned: true)
        let double = op == .dppd
        let format: FPFormat = double ? .double : .single
        let n = double ? 2 : 4
        var flags = FPFlags()
        // Each stage's exceptions are taken before the next stage runs (the host shows the flags
        // of a completed stage alongside an unmasked one from the next).
        var products: [UInt64] = []
        for i in 0..<n {
            products.append((imm >> UInt64(4 + i)) & 1 != 0 ? laneArithmetic(.mul, floatLane(a, i, double: double), floatLane(b, i, double: double), format, &flags) : 0)
        }
        try commitSIMD(flags)
        flags = []
        // The pair sums, in each lane's order. Exchanging an addition's operands changes only
        // which NaN propagates, never the flags, so the lanes' flags together are the SDM
        // order's.
        let swapped = !double && vendor == .intel
        let pairs = (0..<n).map { i in
            laneArithmetic(.add, products[swapped ? i ^ 1 : i], products[swapped ? i : i ^ 1], format, &flags)
        }
        var sums = pairs
        if !double {
            try commitSIMD(flags)
            flags = []
            sums = (0..<n).map { i in laneArithmetic(.add, pairs[i], pairs[i ^ 2], format, &flags) }
        }
        try commitSIMD(flags)
        var r: Vec = (0, 0)
        for i in 0..<n where (imm >> UInt64(i)) & 1 != 0 {
            r = settingFloatLane(r, i, double: double, vendor == .intel ? sums[i] : sums[0])
        }
        try writeVector(ops[0], r, aligned: true)
    }

    /// ADDSUB, HADD and HSUB.
    func horizontal(_ op: Op, _ ops: OperandList) throws(CPUException) {
        let a = try readVector(ops[0], aligned: true), b = try readVector(ops[1], aligned: true)
        let double = op == .addsubpd || op == .haddpd || op == .hsubpd
        let n = double ? 2 : 4
        // Each result lane: (left, right, subtract).
        var pairs: [(UInt64, UInt64, Bool)] = []
        switch op {
        case .addsubps, .addsubpd:
            for i in 0..<n { pairs.append((floatLane(a, i, double: double), floatLane(b, i, double: double), i & 1 == 0)) }
        default:
            let sub = op == .hsubps || op == .hsubpd
            for v in [a, b] { for i in stride(from: 0, to: n, by: 2) { pairs.append((floatLane(v, i, double: double), floatLane(v, i + 1, double: double), sub)) } }
        }
        var flags = FPFlags()
        let format: FPFormat = double ? .double : .single
        var r: Vec = (0, 0)
        for (i, (x, y, sub)) in pairs.enumerated() {
            let v = laneArithmetic(sub ? .sub : .add, x, y, format, &flags)
            r = settingFloatLane(r, i, double: double, v)
        }
        try commitSIMD(flags)
        try writeVector(ops[0], r, aligned: true)
    }

    /// Conversions between singles, doubles and integers.
    func sseConvert(_ op: Op, _ ins: Instruction, _ ops: OperandList) throws(CPUException) {
        let env = simdEnvironment
        var flags = FPFlags()
        switch op {
        case .cvtsi2ss, .cvtsi2sd:
            let format: FPFormat = op == .cvtsi2ss ? .single : .double
            let p = place(ops[1])
            let v = signExtend(try read(p), size(p))
            let a = try readVector(ops[0], aligned: true)
            let bits = SoftFloat.fromInteger(Int64(bitPattern: v), format, env, &flags).pack(format)
            try commitSIMD(flags)
            try writeVector(ops[0], format.precision == 24 ? setLane32(a, 0, bits) : (bits, a.hi), aligned: true)
        case .cvtss2si, .cvttss2si, .cvtsd2si, .cvttsd2si:
            let format: FPFormat = op == .cvtss2si || op == .cvttss2si ? .single : .double
            let truncate = op == .cvttss2si || op == .cvttsd2si
            let v = try readVector(ops[1], aligned: true).lo & (format.precision == 24 ? 0xFFFF_FFFF : ~0)
            let dest = place(ops[0])
            var ignored = FPFlags()
            let x = FPValue.unpack(v, format, env, &ignored) // no DE for these
            let r = SoftFloat.toInteger(x, bits: size(dest) * 8, truncate ? .towardZero : env.rounding, &flags)
            try commitSIMD(flags)
            try write(dest, r)
        case .cvtss2sd, .cvtsd2ss:
            let (from, to): (FPFormat, FPFormat) = op == .cvtss2sd ? (.single, .double) : (.double, .single)
            let a = try readVector(ops[0], aligned: true), b = try readVector(ops[1], aligned: true)
            let bits = convert(b.lo & (from.precision == 24 ? 0xFFFF_FFFF : ~0), from, to, env, &flags)
            try commitSIMD(flags)
            try writeVector(ops[0], to.precision == 24 ? setLane32(a, 0, bits) : (bits, a.hi), aligned: true)
        case .cvtps2pd:
            let b = try readVector(ops[1], aligned: true)
            let r = (convert(lane32(b, 0), .single, .double, env, &flags), convert(lane32(b, 1), .single, .double, env, &flags))
            try commitSIMD(flags)
            try writeVector(ops[0], r, aligned: true)
        case .cvtpd2ps:
            let b = try readVector(ops[1], aligned: true)
            let r = convert(b.lo, .double, .single, env, &flags) | convert(b.hi, .double, .single, env, &flags) << 32
            try commitSIMD(flags)
            try writeVector(ops[0], (r, 0), aligned: true)
        case .cvtdq2ps:
            let b = try readVector(ops[1], aligned: true)
            var r: Vec = (0, 0)
            for i in 0..<4 {
                let v = Int64(Int32(truncatingIfNeeded: lane32(b, i)))
                r = setLane32(r, i, SoftFloat.fromInteger(v, .single, env, &flags).pack(.single))
            }
            try commitSIMD(flags)
            try writeVector(ops[0], r, aligned: true)
        case .cvtdq2pd:
            let b = try readVector(ops[1], aligned: true)
            func d(_ i: Int) -> UInt64 {
                SoftFloat.fromInteger(Int64(Int32(truncatingIfNeeded: lane32(b, i))), .double, env, &flags).pack(.double)
            }
            try writeVector(ops[0], (d(0), d(1)), aligned: true)
        case .cvtps2dq, .cvttps2dq:
            let b = try readVector(ops[1], aligned: true)
            var r: Vec = (0, 0)
            var ignored = FPFlags()
            for i in 0..<4 {
                let x = FPValue.unpack(lane32(b, i), .single, env, &ignored)
                r = setLane32(r, i, SoftFloat.toInteger(x, bits: 32, op == .cvttps2dq ? .towardZero : env.rounding, &flags))
            }
            try commitSIMD(flags)
            try writeVector(ops[0], r, aligned: true)
        case .cvtpd2dq, .cvttpd2dq:
            let b = try readVector(ops[1], aligned: true)
            var ignored = FPFlags()
            let mode = op == .cvttpd2dq ? FPRounding.towardZero : env.rounding
            let lo = SoftFloat.toInteger(FPValue.unpack(b.lo, .double, env, &ignored), bits: 32, mode, &flags)
            let hi = SoftFloat.toInteger(FPValue.unpack(b.hi, .double, env, &ignored), bits: 32, mode, &flags)
            try commitSIMD(flags)
            try writeVector(ops[0], (lo | hi << 32, 0), aligned: true)
        default:
            try sseFloatMove(op, ins, ops)
        }
    }

    /// A single or double converted to the other format: NaNs are made quiet (IE for a
    /// signaling one), finite values rounded.
    func convert(_ bits: UInt64, _ from: FPFormat, _ to: FPFormat, _ env: FPEnvironment, _ flags: inout FPFlags) -> UInt64 {
        let x = FPValue.unpack(bits, from, env, &flags)
        switch x.kind {
        case .signalingNaN:
            flags.insert(.invalid)
            return x.quieted.pack(to)
        case .finite:
            return SoftFloat.round(x, to, env, &flags).value.pack(to)
        default:
            return x.pack(to)
        }
    }

    /// Moves, shuffles and unpacks of single and double lanes; MXCSR loads and stores.
    func sseFloatMove(_ op: Op, _ ins: Instruction, _ ops: OperandList) throws(CPUException) {
        let destIsRegister: Bool
        if case .register = ops[0] { destIsRegister = true } else { destIsRegister = false }
        switch op {
        case .movss, .movsdSSE:
            let size = op == .movss ? 4 : 8
            let b = try readVector(ops[1], aligned: false)
            if case .register(let r) = ops[0], case .register = ops[1] {
                // Register to register: only the low lane changes.
                let a = state.xmm(Int(r.number))
                state.setXMM(Int(r.number), size == 4 ? setLane32(a, 0, b.lo) : (b.lo, a.hi))
            } else {
                // A load zeroes the rest of the register; a store writes the low lane.
                try writeVector(ops[0], (b.lo & sizeMask(size), 0), aligned: false)
            }
        case .movlps, .movlpd, .movhps, .movhpd, .movhlps, .movlhps:
            let high = op == .movhps || op == .movhpd || op == .movlhps
            if destIsRegister {
                let a = try readVector(ops[0], aligned: false), b = try readVector(ops[1], aligned: false)
                let v = op == .movhlps ? b.hi : b.lo
                try writeVector(ops[0], high ? (a.lo, v) : (v, a.hi), aligned: false)
            } else {
                let a = try readVector(ops[1], aligned: false)
                try writeVector(ops[0], (high ? a.hi : a.lo, 0), aligned: false)
            }
        case .movsldup, .movshdup:
            let b = try readVector(ops[1], aligned: true)
            let k = op == .movsldup ? 0 : 1
            let x = lane32(b, k), y = lane32(b, k + 2)
            try writeVector(ops[0], (x | x << 32, y | y << 32), aligned: true)
        case .movddup:
            let b = try readVector(ops[1], aligned: true)
            try writeVector(ops[0], (b.lo, b.lo), aligned: true)
        case .movmskps, .movmskpd:
            let b = try readVector(ops[1], aligned: true)
            let m = op == .movmskpd ? (b.lo >> 63) | (b.hi >> 63) << 1
                : (0..<4).reduce(UInt64(0)) { $0 | ((lane32(b, $1) >> 31) & 1) << UInt64($1) }
            try write(place(ops[0]), m)
        case .movntps, .movntpd, .movntdq:
            try writeVector(ops[0], try readVector(ops[1], aligned: true), aligned: true)
        case .lddqu:
            try writeVector(ops[0], try readVector(ops[1], aligned: false), aligned: false)
        case .movnti:
            let p = place(ops[0])
            try write(p, try read(place(ops[1])))
        case .unpcklps, .unpckhps, .unpcklpd, .unpckhpd:
            let a = try readVector(ops[0], aligned: true), b = try readVector(ops[1], aligned: true)
            let r: Vec
            switch op {
            case .unpcklps: r = (lane32(a, 0) | lane32(b, 0) << 32, lane32(a, 1) | lane32(b, 1) << 32)
            case .unpckhps: r = (lane32(a, 2) | lane32(b, 2) << 32, lane32(a, 3) | lane32(b, 3) << 32)
            case .unpcklpd: r = (a.lo, b.lo)
            default: r = (a.hi, b.hi)
            }
            try writeVector(ops[0], r, aligned: true)
        case .shufps, .shufpd:
            guard case .immediate(let imm, _) = ops[2] else { throw .invalidOpcode }
            let a = try readVector(ops[0], aligned: true), b = try readVector(ops[1], aligned: true)
            let r: Vec
            if op == .shufpd {
                r = (imm & 1 == 0 ? a.lo : a.hi, imm & 2 == 0 ? b.lo : b.hi)
            } else {
                func pick(_ v: Vec, _ k: UInt64) -> UInt64 { lane32(v, Int((imm >> (2 * k)) & 3)) }
                r = (pick(a, 0) | pick(a, 1) << 32, pick(b, 2) | pick(b, 3) << 32)
            }
            try writeVector(ops[0], r, aligned: true)
        case .ldmxcsr:
            guard case .memory(let m) = ops[0] else { throw .invalidOpcode }
            let v = try memory.read(try checkedAddress(m, size: 4), size: 4)
            if v & ~0xFFFF != 0 { throw .generalProtection(0) }
            state.mxcsr = UInt32(v)
        case .stmxcsr:
            guard case .memory(let m) = ops[0] else { throw .invalidOpcode }
            try store(try checkedAddress(m, size: 4), size: 4, value: UInt64(state.mxcsr))
        case .lfence, .sfence, .mfence:
            break
        case .pause:
            charge(ticks: model.pauseTicks)
            if pauseExiting {
                pauseExited = true
                state.exitRequests |= 2
            }
        case .prefetchnta, .prefetcht0, .prefetcht1, .prefetcht2, .prefetch, .prefetchw:
            break // hints: never fault
        case .clflush, .clflushopt, .clwb:
            // Flushing or writing back a line is invisible at user level, but the address must
            // translate (as a load: CLWB on a read-only page does not fault).
            guard case .memory(let m) = ops[0] else { throw .invalidOpcode }
            _ = try memory.read(try checkedAddress(m, size: 1), size: 1)
        default:
            throw .invalidOpcode
        }
    }
}

/// Lane `i` of a vector of singles (0-3) or doubles (0-1).
@inline(__always) func floatLane(_ v: Vec, _ i: Int, double: Bool) -> UInt64 {
    double ? (i == 0 ? v.lo : v.hi) : lane32(v, i)
}

@inline(__always) func settingFloatLane(_ v: Vec, _ i: Int, double: Bool, _ x: UInt64) -> Vec {
    double ? (i == 0 ? (x, v.hi) : (v.lo, x)) : setLane32(v, i, x)
}

/// 32-bit lane `i` (0-3) of a vector.
@inline(__always) func lane32(_ v: Vec, _ i: Int) -> UInt64 {
    ((i < 2 ? v.lo : v.hi) >> (32 * UInt64(i & 1))) & 0xFFFF_FFFF
}

@inline(__always) func setLane32(_ v: Vec, _ i: Int, _ x: UInt64) -> Vec {
    let shift = 32 * UInt64(i & 1)
    let m: UInt64 = 0xFFFF_FFFF << shift
    if i < 2 { return ((v.lo & ~m) | (x & 0xFFFF_FFFF) << shift, v.hi) }
    return (v.lo, (v.hi & ~m) | (x & 0xFFFF_FFFF) << shift)
}
