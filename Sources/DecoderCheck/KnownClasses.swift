import X86
import X86Decoder

/// Classes of disagreement with Capstone 4.0.2 that a second reference has
/// settled in softvmm's favour. Each is documented, with an example and the
/// verdict, in Fixtures/decoder/known-classes.txt (a test keeps the two in step).
///
/// A disagreement is "known" only when it matches a class *and*, for that very
/// input, Zydis agrees with softvmm on validity, length, mnemonic and operands.
public enum KnownClasses {
    public struct Class: Sendable {
        public var id: String
        /// Does this disagreement belong to the class?
        var matches: @Sendable (CheckedCase) -> Bool
    }

    static func mnemonic(_ c: CheckedCase, _ names: Set<String>) -> Bool {
        names.contains(c.oursNormalized?.mnemonic ?? "") || names.contains(c.capstone?.mnemonic ?? "")
    }
    static func hasMemory(_ c: CheckedCase) -> Bool { c.ours.hasMemoryOperand }
    static func capstoneInvalid(_ c: CheckedCase) -> Bool { c.capstone == nil && c.oursNormalized != nil }
    static func oursInvalid(_ c: CheckedCase) -> Bool { c.capstone != nil && c.oursNormalized == nil }
    static func sameMnemonicDifferentOperands(_ c: CheckedCase) -> Bool {
        guard let a = c.oursNormalized, let b = c.capstone else { return false }
        return a.length == b.length && (a.mnemonic == b.mnemonic || Normalization.mnemonicAliases[b.mnemonic] == a.mnemonic)
    }

    public static let all: [Class] = [
        Class(id: "lock-not-lockable") { c in
            // Capstone accepts LOCK on any instruction; the CPU raises #UD.
            oursInvalid(c) && c.ours.prefixes.contains(.lock)
        },
        Class(id: "near-branch-66-intel") { c in
            // 66 before a near branch in 64-bit mode: Intel ignores it, Capstone sizes it as AMD does.
            c.mode == .bits64 && c.ours.prefixes.contains(.operandSize) && c.ours.formFlags.contains(.force64)
        },
        Class(id: "memory-operand-size") { c in
            // Capstone gives some memory operands a size the SDM does not (scalar SSE m32/m64,
            // MMX unpack m32, far pointers, x87 control words, ...).
            sameMnemonicDifferentOperands(c) && hasMemory(c)
        },
        Class(id: "register-operand-size") { c in
            // Capstone widens some register operands (MOVSXD without REX.W, LAR/LSL, MOV Sreg).
            sameMnemonicDifferentOperands(c) && mnemonic(c, ["movsxd", "lar", "lsl", "mov", "bswap"])
        },
        Class(id: "mode16-operand-size") { c in
            // 16-bit mode: Capstone applies the 32-bit default operand size (cwde for 98, m32 for m16:16).
            c.mode == .bits16 && c.capstone != nil && c.oursNormalized != nil
                && c.capstone?.length == c.oursNormalized?.length
        },
        Class(id: "undefined-opcode-ud0-ud1") { c in
            // UD0 and UD1 take a ModRM byte (SDM); Capstone decodes them without one (ud2b).
            mnemonic(c, ["ud0", "ud1", "ud2b"])
        },
        Class(id: "x87-reserved-alias") { c in
            // Undocumented x87 aliases the CPU executes (fxch4/7, fstp1/8/9, fcom2, fcomp3/5, ffreep).
            c.mapName == "x87"
        },
        Class(id: "hint-nop") { c in
            // 0F 18-1F hint NOPs: Capstone rejects some register forms and drops the reg operand of others.
            mnemonic(c, ["nop"]) && (c.ours.map == .map0F)
        },
        Class(id: "mandatory-prefix-order") { c in
            // A mandatory 66/F2/F3 followed by another prefix: Capstone rejects the form or
            // falls back to the no-prefix form; the CPU (and Zydis) use the prefix.
            (c.ours.map == .map0F || c.ours.map == .map0F38 || c.ours.map == .map0F3A)
                && (c.ours.formFlags.contains(.mandatory66) || c.ours.formFlags.contains(.mandatoryF2F3))
        },
        Class(id: "f2f3-selects-no-form") { c in
            // F2/F3 before an SSE/MMX opcode that has no F2/F3 form: the CPU raises #UD;
            // Capstone ignores the prefix and decodes the 66 or no-prefix form.
            oursInvalid(c) && (c.ours.prefixes.contains(.repe) || c.ours.prefixes.contains(.repne))
                && ["0F", "0F38", "0F3A", "VEX"].contains(c.mapName)
        },
        Class(id: "vex-field-not-checked") { c in
            // A VEX encoding whose W, L or vvvv the instruction does not allow, or VEX after
            // a 66/F2/F3/REX prefix: #UD; Capstone decodes it anyway.
            oursInvalid(c) && c.mapName == "VEX"
        },
        Class(id: "operand-size-66-lost") { c in
            // 66 followed by F2/F3, or 66 with REX.W: Capstone loses track of the operand size.
            sameMnemonicDifferentOperands(c) && c.ours.prefixes.contains(.operandSize)
        },
        Class(id: "vsib-index-missing") { c in
            // Gathers: Capstone drops the vector index register of a VSIB operand.
            sameMnemonicDifferentOperands(c) && (c.oursNormalized?.mnemonic.contains("gather") ?? false)
        },
        Class(id: "segment-register-load") { c in
            // MOV Sreg with REX: Capstone rejects valid loads; it accepts MOV CS, which is #UD.
            c.ours.map == .legacy && (c.bytes.contains(0x8E) || c.bytes.contains(0x8C))
                && (capstoneInvalid(c) || oursInvalid(c))
        },
    ]

    /// softvmm mnemonic -> how Zydis spells it.
    static let oursToZydis: [String: String] = [
        "lcall": "call", "ljmp": "jmp", "retf": "ret", "retfq": "ret", "sal": "shl",
    ]

    /// The class of a disagreement, when one matches and Zydis agrees with softvmm.
    static func classify(_ c: CheckedCase, zydis: ZydisOracle, bytes: UnsafeBufferPointer<UInt8>) -> String? {
        guard let cls = all.first(where: { $0.matches(c) }) else { return nil }
        return zydisAgrees(c, zydis: zydis, bytes: bytes) ? cls.id : nil
    }

    /// Does Zydis read the bytes as softvmm does?
    public static func zydisAgrees(_ c: CheckedCase, zydis: ZydisOracle, bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        let z = zydis.decode(bytes, address: DecoderChecker.address)
        switch (z, c.oursNormalized) {
        case (nil, nil): return true
        case (.some(var z), .some(var ours)):
            if z.length != ours.length { return false }
            ours.mnemonic = oursToZydis[ours.mnemonic] ?? ours.mnemonic
            if z.mnemonic != ours.mnemonic { return false }
            // Zydis names the default segment of every memory operand; softvmm names only overrides
            // (and ES for string destinations).
            if c.ours.segmentOverride == 0xFF {
                z.operands = z.operands.map { op in
                    guard case .memory(let seg, let b, let i, let sc, let d, let sz) = op, seg != "es" else { return op }
                    return .memory(segment: nil, base: b, index: i, scale: sc, displacement: d, size: sz)
                }
            }
            // Zydis lists implicit st(0) explicitly in some forms and not others: compare without it, as with Capstone.
            (ours, z) = Normalization.pair(ours, z, mode: c.mode, instruction: c.ours)
            return ours.operands == z.operands
        default: return false
        }
    }
}
