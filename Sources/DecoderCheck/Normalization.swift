import X86
import X86Decoder

/// Presentation differences that are not disagreements: both sides are
/// brought to one spelling before comparing. Every rule says what it hides.
enum Normalization {
    /// Capstone mnemonic -> softvmm mnemonic, where the two name one instruction differently.
    static let mnemonicAliases: [String: String] = [
        "movabs": "mov",        // Capstone names 64-bit immediate/moffs moves movabs
    ]

    static func pair(_ ours: NormalizedInstruction, _ cs: NormalizedInstruction, mode: CPUMode,
                     instruction: Instruction) -> (NormalizedInstruction, NormalizedInstruction) {
        var a = ours, b = cs
        b.mnemonic = mnemonicAliases[b.mnemonic] ?? b.mnemonic
        let dispBits = Int(instruction.addressSize) * 8
        a.operands = a.operands.map { normalize($0, mode: mode, dispBits: dispBits) }
        b.operands = b.operands.map { normalize($0, mode: mode, dispBits: dispBits) }
        // Hint NOPs: Capstone and Zydis differ on showing ModRM.reg; only r/m is compared.
        if a.mnemonic == "nop" { a.operands = Array(a.operands.prefix(1)); b.operands = Array(b.operands.prefix(1)) }
        // x87: Capstone leaves out st(0) where it is implied (fadd st(4) for fadd st(0), st(4)).
        if a.mnemonic.hasPrefix("f") {
            a.operands.removeAll { $0 == .register("st(0)") }
            b.operands.removeAll { $0 == .register("st(0)") }
        }
        // Unsized memory (LEA, hint NOPs, save areas): the other side's size is not compared.
        for i in 0..<min(a.operands.count, b.operands.count) {
            if case .memory(let s, let base, let idx, let sc, let d, 0) = a.operands[i],
               case .memory(let s2, let base2, let idx2, let sc2, let d2, _) = b.operands[i] {
                a.operands[i] = .memory(segment: s, base: base, index: idx, scale: sc, displacement: d, size: 0)
                b.operands[i] = .memory(segment: s2, base: base2, index: idx2, scale: sc2, displacement: d2, size: 0)
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

    static func normalize(_ op: NormalizedOperand, mode: CPUMode, dispBits: Int) -> NormalizedOperand {
        guard case .memory(var seg, let base, let index, let scale, let disp, let size) = op else { return op }
        // Displacements compare modulo the address size (Capstone sign-extends to 64 bits).
        // In 64-bit mode ES/CS/SS/DS overrides are ignored by the CPU.
        if mode == .bits64, let s = seg, s != "fs" && s != "gs" { seg = nil }
        return .memory(segment: seg, base: base, index: index, scale: index == nil ? 1 : scale,
                       displacement: disp & mask(bits: dispBits), size: size)
    }
}
