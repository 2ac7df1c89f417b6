import X86
import X86Decoder

/// Presentation differences that are not disagreements: both sides are
/// brought to one spelling before comparing. Every rule says what it hides.
enum Normalization {
    /// Capstone mnemonic -> softvmm mnemonic, where the two name one instruction differently.
    static let mnemonicAliases: [String: String] = [
        "movabs": "mov",        // Capstone names 64-bit immediate/moffs moves movabs
        "fsetpm": "fsetpm287_nop", // a NOP since the 387; softvmm uses Zydis's name, as for feni/fdisi
    ]

    static func pair(_ ours: NormalizedInstruction, _ cs: NormalizedInstruction, mode: CPUMode,
                     instruction: Instruction) -> (NormalizedInstruction, NormalizedInstruction) {
        var a = ours, b = cs
        b.mnemonic = mnemonicAliases[b.mnemonic] ?? b.mnemonic
        b = comparePredicate(b)
        if evexCompares.contains(a.mnemonic) { b = evexComparePredicate(b) }
        // Capstone names MOVQ between a 64-bit GPR/m64 and an MMX/XMM register movd (the
        // AT&T spelling); Intel's and Zydis's name is movq.
        if b.mnemonic == "movd" || b.mnemonic == "vmovd", b.operands.contains(where: isQuadword) {
            b.mnemonic = b.mnemonic == "movd" ? "movq" : "vmovq"
        }
        // AT&T size suffixes on the VEX conversions that narrow (vcvtpd2dqx, vcvttpd2dqy, ...).
        if ["vcvtpd2dqx", "vcvtpd2dqy", "vcvttpd2dqx", "vcvttpd2dqy", "vcvtpd2psx", "vcvtpd2psy"].contains(b.mnemonic) {
            b.mnemonic.removeLast()
        }
        // AAM/AAD: Capstone leaves out the immediate when it is the default base, 10.
        if (b.mnemonic == "aam" || b.mnemonic == "aad") && b.operands.isEmpty { b.operands = [.immediate(10, bits: 8)] }
        // Implicit XMM0 of the legacy blends and SHA256RNDS2: Capstone does not list it.
        if ["pblendvb", "blendvps", "blendvpd", "sha256rnds2"].contains(a.mnemonic),
           a.operands.last == .register("xmm0"), b.operands.count == a.operands.count - 1 {
            a.operands.removeLast()
        }
        let dispBits = Int(instruction.addressSize) * 8
        a.operands = a.operands.map { normalize($0, mode: mode, dispBits: dispBits) }
        b.operands = b.operands.map { normalize($0, mode: mode, dispBits: dispBits) }
        // Cache-line operands: tools size them by convention (m8 for Capstone and objdump, m512 for Zydis).
        if ["clflush", "clflushopt", "clwb", "cldemote"].contains(a.mnemonic) {
            a.operands = a.operands.map(unsized)
            b.operands = b.operands.map(unsized)
        }
        // LEA computes an offset: no segment is involved, and each tool shows a different one.
        if a.mnemonic == "lea" {
            a.operands = a.operands.map(withoutSegment)
            b.operands = b.operands.map(withoutSegment)
        }
        // XCHG is symmetric: Zydis and Capstone order the accumulator form differently.
        if a.mnemonic == "xchg" {
            a.operands.sort { $0.description < $1.description }
            b.operands.sort { $0.description < $1.description }
        }
        // Hint NOPs: Capstone and Zydis differ on showing ModRM.reg; only r/m is compared.
        if a.mnemonic == "nop" { a.operands = Array(a.operands.prefix(1)); b.operands = Array(b.operands.prefix(1)) }
        // x87: Capstone leaves out st(0) where it is implied (fadd st(4) for fadd st(0), st(4)).
        if a.mnemonic.hasPrefix("f") {
            a.operands.removeAll { $0 == .register("st(0)") }
            b.operands.removeAll { $0 == .register("st(0)") }
        }
        // Unsized memory on either side (softvmm: LEA, hint NOPs, save areas; Capstone: an operand
        // its text prints without a size keyword, such as les edi, ptr [edi]): the size is not compared.
        for i in 0..<min(a.operands.count, b.operands.count) {
            if case .memory(_, _, _, _, _, let sa) = a.operands[i], case .memory(_, _, _, _, _, let sb) = b.operands[i],
               sa == 0 || sb == 0 {
                a.operands[i] = unsized(a.operands[i])
                b.operands[i] = unsized(b.operands[i])
            }
        }
        // Immediates: compare at the width softvmm decoded them (Capstone's own
        // size field is not reliable), so sign-extension shows in both or neither.
        for i in 0..<min(a.operands.count, b.operands.count) {
            if case .immediate(let va, let bits) = a.operands[i], case .immediate(let vb, _) = b.operands[i] {
                a.operands[i] = .immediate(va & mask(bits: bits), bits: bits)
                b.operands[i] = .immediate(vb & mask(bits: bits), bits: bits)
            }
        }
        return (a, b)
    }

    /// The 32 comparison predicates of CMPPS/CMPPD/CMPSS/CMPSD (the legacy forms use the first 8).
    static let predicates = [
        "eq", "lt", "le", "unord", "neq", "nlt", "nle", "ord",
        "eq_uq", "nge", "ngt", "false", "neq_oq", "ge", "gt", "true",
        "eq_os", "lt_oq", "le_oq", "unord_s", "neq_us", "nlt_uq", "nle_uq", "ord_s",
        "eq_us", "nge_uq", "ngt_uq", "false_os", "neq_os", "ge_oq", "gt_oq", "true_us",
    ]
    static let predicateIndex: [String: Int] = Dictionary(uniqueKeysWithValues: predicates.enumerated().map { ($1, $0) })

    /// Capstone spells a comparison with a predicate immediate as a pseudo-op
    /// (cmpltps xmm0, xmm1 for cmpps xmm0, xmm1, 1): back to the instruction and its immediate.
    static func comparePredicate(_ i: NormalizedInstruction) -> NormalizedInstruction {
        if i.mnemonic.hasPrefix("vpcom") { return xopComparePredicate(i) }
        var m = i.mnemonic
        let vex = m.hasPrefix("vcmp")
        guard m.hasPrefix("cmp") || vex else { return i }
        m.removeFirst(vex ? 4 : 3)
        for suffix in ["ps", "pd", "ss", "sd"] where m.hasSuffix(suffix) {
            guard let n = predicateIndex[String(m.dropLast(2))] else { return i }
            var out = i
            out.mnemonic = (vex ? "vcmp" : "cmp") + suffix
            out.operands.append(.immediate(UInt64(n), bits: 8))
            return out
        }
        return i
    }

    /// XOP VPCOM*: Capstone writes the predicate into the mnemonic (vpcomneqb for vpcomb ..., 5).
    static let xopPredicates = ["lt", "le", "gt", "ge", "eq", "neq", "false", "true"]

    static func xopComparePredicate(_ i: NormalizedInstruction) -> NormalizedInstruction {
        integerComparePredicate(i, stem: "vpcom", predicates: xopPredicates)
    }

    /// AVX-512 VPCMP[U]{B,W,D,Q}: Capstone writes the predicate into the mnemonic
    /// (vpcmpltub for vpcmpub ..., 1). vpcmpeq{b,w,d,q} and vpcmpgt* are also real
    /// instructions, so `pair` applies this only when softvmm read one of `evexCompares`.
    static let evexPredicates = ["eq", "lt", "le", "false", "neq", "nlt", "nle", "true"]
    static let evexCompares: Set<String> = ["vpcmpb", "vpcmpw", "vpcmpd", "vpcmpq", "vpcmpub", "vpcmpuw", "vpcmpud", "vpcmpuq"]

    static func evexComparePredicate(_ i: NormalizedInstruction) -> NormalizedInstruction {
        integerComparePredicate(i, stem: "vpcmp", predicates: evexPredicates)
    }

    /// `stem` + predicate + element type (vpcomneqb) -> `stem` + type with the predicate's index as an immediate.
    static func integerComparePredicate(_ i: NormalizedInstruction, stem: String, predicates: [String]) -> NormalizedInstruction {
        let rest = i.mnemonic.dropFirst(stem.count)
        for suffix in ["ub", "uw", "ud", "uq", "b", "w", "d", "q"] where rest.hasSuffix(suffix) {
            guard let n = predicates.firstIndex(of: String(rest.dropLast(suffix.count))) else { continue }
            var out = i
            out.mnemonic = stem + suffix
            out.operands.append(.immediate(UInt64(n), bits: 8))
            return out
        }
        return i
    }

    static func unsized(_ op: NormalizedOperand) -> NormalizedOperand {
        guard case .memory(let seg, let base, let index, let scale, let disp, _) = op else { return op }
        return .memory(segment: seg, base: base, index: index, scale: scale, displacement: disp, size: 0)
    }

    static func withoutSegment(_ op: NormalizedOperand) -> NormalizedOperand {
        guard case .memory(_, let base, let index, let scale, let disp, let size) = op else { return op }
        return .memory(segment: nil, base: base, index: index, scale: scale, displacement: disp, size: size)
    }

    static func isQuadword(_ op: NormalizedOperand) -> Bool {
        switch op {
        case .register(let r):
            return r.hasPrefix("r") && r != "rip" && !(r.hasSuffix("d") || r.hasSuffix("w") || r.hasSuffix("b"))
        case .memory(_, _, _, _, _, let size): return size == 8
        default: return false
        }
    }

    static func normalize(_ op: NormalizedOperand, mode: CPUMode, dispBits: Int) -> NormalizedOperand {
        guard case .memory(var seg, let base, let index, let scale, let disp, let size) = op else { return op }
        // Displacements compare modulo the address size (Capstone sign-extends to 64 bits).
        // In 64-bit mode ES/CS/SS/DS overrides are ignored by the CPU.
        if mode == .bits64, let s = seg, s != "fs" && s != "gs" { seg = nil }
        return .memory(segment: seg, base: base, index: index, scale: index == nil ? 1 : scale,
                       displacement: disp & mask(bits: dispBits), size: size)
    }
}
