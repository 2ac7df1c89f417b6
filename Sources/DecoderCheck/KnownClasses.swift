import X86
import X86Decoder

/// Classes of disagreement with Capstone 4.0.2 that a second reference has
/// settled in softvmm's favour. Each is documented, with an example and the
/// verdict, in Fixtures/decoder/known-classes.txt (a test keeps the two in step).
///
/// A disagreement is "known" only when it matches a class *and*, for that very
/// input, Zydis agrees with softvmm on validity, length, mnemonic and operands.
public enum KnownClasses {
    /// Who settles a class: Zydis (full agreement with softvmm on that input) or
    /// the host CPU (the bytes run natively: #UD exactly when softvmm says invalid,
    /// and the same length when the instruction steps).
    public enum Reference: String, Sendable { case zydis, hostCPU = "host CPU" }

    public struct Class: Sendable {
        public var id: String
        public var reference: Reference
        /// The input decodes the same in every mode (register forms, whose validity and
        /// length neither 66 nor 67 changes), so the host may run a 16-bit input as 32-bit code.
        var modeIndependent: @Sendable (CheckedCase) -> Bool
        /// For host-CPU classes whose readings have the same length and validity: what the
        /// host must show instead (an effect on registers), in place of `hostAgrees`.
        var hostEffect: (@Sendable (CheckedCase, UnsafeBufferPointer<UInt8>) -> Bool)?
        /// Does this disagreement belong to the class?
        var matches: @Sendable (CheckedCase) -> Bool
        init(id: String, _ reference: Reference = .zydis,
             modeIndependent: @escaping @Sendable (CheckedCase) -> Bool = { _ in false },
             hostEffect: (@Sendable (CheckedCase, UnsafeBufferPointer<UInt8>) -> Bool)? = nil,
             matches: @escaping @Sendable (CheckedCase) -> Bool) {
            self.id = id
            self.reference = reference
            self.modeIndependent = modeIndependent
            self.hostEffect = hostEffect
            self.matches = matches
        }
    }

    static func mnemonic(_ c: CheckedCase, _ names: Set<String>) -> Bool {
        names.contains(c.oursNormalized?.mnemonic ?? "") || names.contains(c.capstone?.mnemonic ?? "")
    }
    static func hasMemory(_ c: CheckedCase) -> Bool { c.ours.hasMemoryOperand }
    /// CALL/JMP rel and Jcc rel (the map and opcode are known even when decoding failed).
    static func isNearBranchOpcode(_ i: Instruction) -> Bool {
        (i.map == .legacy && (i.opcode == 0xE8 || i.opcode == 0xE9)) || (i.map == .map0F && i.opcode & 0xF0 == 0x80)
    }
    static func capstoneInvalid(_ c: CheckedCase) -> Bool { c.capstone == nil && c.oursNormalized != nil }
    static func oursInvalid(_ c: CheckedCase) -> Bool { c.capstone != nil && c.oursNormalized == nil }
    static func bothValid(_ c: CheckedCase) -> Bool { c.oursNormalized != nil && c.capstone != nil }
    static func bothValidSameLength(_ c: CheckedCase) -> Bool {
        bothValid(c) && c.oursNormalized?.length == c.capstone?.length
    }
    static func sameMnemonicDifferentOperands(_ c: CheckedCase) -> Bool {
        guard bothValidSameLength(c), let a = c.oursNormalized, let b = c.capstone else { return false }
        return a.mnemonic == b.mnemonic || Normalization.mnemonicAliases[b.mnemonic] == a.mnemonic
    }
    static func hasRepeatPrefix(_ c: CheckedCase) -> Bool {
        c.ours.prefixes.contains(.repe) || c.ours.prefixes.contains(.repne)
    }
    static let stringMnemonics: Set<String> = [
        "movsb", "movsw", "movsd", "movsq", "cmpsb", "cmpsw", "cmpsd", "cmpsq", "stosb", "stosw", "stosd", "stosq",
        "lodsb", "lodsw", "lodsd", "lodsq", "scasb", "scasw", "scasd", "scasq", "insb", "insw", "insd",
        "outsb", "outsw", "outsd",
    ]

    public static let all: [Class] = [
        Class(id: "evex-form-rejected") { c in
            // Valid AVX-512 encodings Capstone 4.0.2 rejects: most of AVX512BW and AVX512DQ, everything
            // added since 2016 (VBMI2, VNNI, BITALG, BF16, VP2INTERSECT, GFNI, VAES, VPCLMULQDQ), register
            // forms with EVEX.b (embedded rounding and SAE), scalar forms with EVEX.L'L not 0 (ignored),
            // and many forms naming a register 16-31.
            capstoneInvalid(c) && c.ours.map.isEVEX
        },
        Class(id: "evex-field-not-checked") { c in
            // An EVEX encoding the CPU rejects: {z} without a writemask, a writemask, broadcast or
            // rounding the instruction does not allow, a W, L'L or vvvv it does not allow, EVEX.R'
            // on a general or mask register, or EVEX after 66/F2/F3/REX. Capstone decodes it anyway.
            oursInvalid(c) && c.mapName == "EVEX"
        },
        Class(id: "evex-misread") { c in
            // Valid AVX-512 encodings Capstone 4.0.2 reads wrongly: EVEX.W ignored in scalar forms with
            // L'L not 0 (vrsqrt14ss for vrsqrt14sd) and in WIG forms (xmm for ymm), rounding forms one
            // byte too long, GPR widths (r12 for r12d, mm2 for rdx), VPMOVM2* with reg and rm swapped,
            // a SIB index named as a vector register when EVEX.V' is set.
            bothValid(c) && c.ours.map.isEVEX
        },
        Class(id: "lock-not-lockable") { c in
            // Capstone accepts LOCK on any instruction; the CPU raises #UD.
            oursInvalid(c) && c.ours.prefixes.contains(.lock)
        },
        Class(id: "near-branch-66-intel") { c in
            // 66 before a near branch in 64-bit mode: Intel ignores it, Capstone sizes it as AMD does.
            // At the 15-byte limit the two readings differ in validity too (rel32 does not fit, rel16 does).
            c.mode == .bits64 && c.ours.prefixes.contains(.operandSize)
                && (c.ours.formFlags.contains(.force64) || isNearBranchOpcode(c.ours))
        },
        Class(id: "near-branch-66-amd", .hostCPU) { c in
            // softvmm's AMD reading: 66 before a near branch in 64-bit mode makes it 16-bit: an
            // indirect one (FF /2, FF /4) reads a word, where Capstone and Zydis read 64 bits as
            // Intel does; a relative one at the 15-byte limit fits with its rel16, where Capstone
            // (with F2/F3 too) and Zydis reject it.
            c.vendor == .amd && c.mode == .bits64 && c.ours.prefixes.contains(.operandSize)
                && (c.ours.formFlags.contains(.force64) || isNearBranchOpcode(c.ours))
        },
        Class(id: "memory-operand-size") { c in
            // Capstone gives some memory operands a size the SDM does not (scalar SSE m32/m64,
            // MMX unpack m32, far pointers, x87 control words, ...).
            sameMnemonicDifferentOperands(c) && hasMemory(c)
        },
        Class(id: "register-operand-size") { c in
            // Capstone widens some register operands (MOVSXD without REX.W, LAR/LSL, MOV Sreg).
            sameMnemonicDifferentOperands(c) && mnemonic(c, ["movsxd", "lar", "lsl", "mov", "bswap", "movmskps", "movmskpd"])
        },
        Class(id: "mode16-operand-size") { c in
            // 16-bit mode: Capstone applies the 32-bit default operand size (cwde for 98, m32 for m16:16).
            c.mode == .bits16 && bothValid(c)
        },
        Class(id: "undefined-opcode-ud0-ud1") { c in
            // UD0 and UD1 take a ModRM byte (SDM); Capstone decodes them without one (ud2b).
            mnemonic(c, ["ud0", "ud1", "ud2b"])
        },
        Class(id: "x87-reserved-alias") { c in
            // Undocumented x87 aliases the CPU executes (fxch4/7, fstp1/8/9, fcom2, fcomp3/5, ffreep).
            c.mapName == "x87"
        },
        Class(id: "hint-nop", .hostCPU, modeIndependent: { c in !c.ours.hasMemoryOperand }) { c in
            // 0F 18-1F hint NOPs: Capstone rejects some forms (and Zydis reads 0F 1A/1B as MPX);
            // the CPU executes them as NOPs.
            mnemonic(c, ["nop"]) && (c.ours.map == .map0F)
        },
        Class(id: "mandatory-prefix-order") { c in
            // A mandatory 66/F2/F3 followed by another prefix: Capstone rejects the form or
            // falls back to the no-prefix form (nop for F3 67 90); the CPU (and Zydis) use the prefix.
            (c.ours.map == .map0F || c.ours.map == .map0F38 || c.ours.map == .map0F3A
                || (c.ours.map == .legacy && c.ours.opcode == 0x90))
                && (c.ours.formFlags.contains(.mandatory66) || c.ours.formFlags.contains(.mandatoryF2F3))
        },
        Class(id: "address-size-read-as-66") { c in
            // 67 followed by REX, or 67 on a near branch: Capstone takes the 67 for a 66 (movdqa for
            // movq mm, orpd for orps, out dx, ax for out dx, eax, a 16-bit branch target) or rejects
            // the form; 67 only sets the address size.
            c.ours.prefixes.contains(.addressSize)
                && (c.ours.prefixes.contains(.rex) || (c.ours.formFlags.contains(.force64) && bothValidSameLength(c)))
        },
        Class(id: "f2f3-selects-no-form") { c in
            // F2/F3 before an SSE/MMX opcode that has no F2/F3 form: the CPU raises #UD;
            // Capstone ignores the prefix and decodes the 66 or no-prefix form.
            oursInvalid(c) && hasRepeatPrefix(c) && ["0F", "0F38", "0F3A", "VEX"].contains(c.mapName)
        },
        Class(id: "66-selects-no-form", .hostCPU) { c in
            // 66 before an opcode whose only form has no prefix (SHA, EMMS, MOVHLPS, RCPPS, VMREAD, ...):
            // #UD; Capstone ignores the prefix.
            oursInvalid(c) && c.ours.prefixes.contains(.operandSize) && ["0F", "0F38", "0F3A"].contains(c.mapName)
        },
        Class(id: "66-selects-no-form-vmx") { c in
            // The same for the VMX instructions (0F 01 VMCALL, VMLAUNCH, VMFUNC, ...; 0F 78/79 VMREAD and
            // VMWRITE), where the host CPU cannot settle it: under a hypervisor they trap (SIGSEGV here)
            // with or without the prefix.
            oursInvalid(c) && c.ours.prefixes.contains(.operandSize) && c.ours.map == .map0F
                && [0x01, 0x78, 0x79].contains(c.ours.opcode)
        },
        Class(id: "vex-field-not-checked") { c in
            // A VEX encoding whose W, L or vvvv the instruction does not allow, or VEX after
            // a 66/F2/F3/REX prefix: #UD; Capstone decodes it anyway.
            oursInvalid(c) && c.mapName == "VEX"
        },
        Class(id: "xop-field-not-checked") { c in
            // An XOP encoding whose W, L or vvvv the instruction does not allow: #UD (AMD APM vol. 4);
            // Capstone decodes it anyway.
            oursInvalid(c) && c.mapName == "XOP"
        },
        Class(id: "operand-size-66-lost") { c in
            // 66 followed by F2/F3, or 66 with REX.W: Capstone loses track of the operand size
            // (cdq for cwd, pushfq for pushf, eax for ax, outsd for outsw, imm32 for push imm16).
            bothValid(c) && c.ours.prefixes.contains(.operandSize)
        },
        Class(id: "is4-high-bit-outside-64") { c in
            // Outside 64-bit mode the /is4 register is imm8[6:4] (xmm0-7); Capstone also uses imm8[7].
            c.mode != .bits64 && sameMnemonicDifferentOperands(c) && (c.ours.map == .vex0F3A || c.ours.map == .xop8)
        },
        Class(id: "vex-w-ignored-outside-64") { c in
            // Outside 64-bit mode VEX.W does not widen a general register (vpextrd, vpinsrd, kmovd);
            // Capstone applies it as in 64-bit mode (vpextrq rcx, kmovq).
            c.mode != .bits64 && c.ours.map.isVEX && c.ours.ext & 8 != 0
                && (bothValidSameLength(c) || capstoneInvalid(c))
        },
        Class(id: "long-mode-only") { c in
            // Instructions that exist only in 64-bit mode (SWAPGS, the SNP and TDX instructions):
            // Capstone decodes them in 16- and 32-bit mode.
            oursInvalid(c) && c.mode != .bits64 && mnemonic(c, ["swapgs"])
        },
        Class(id: "newer-form-read-as-older") { c in
            // A newer instruction sharing its opcode with an older one under another prefix or W:
            // Capstone 4.0.2 decodes the older (lfence for INCSSPD, mfence for UMWAIT, adcx for WRSSD,
            // xsaveopt64 for CLRSSBSY, clflush for CLFLUSHOPT in 16-bit code).
            bothValidSameLength(c) && mnemonic(c, Self.newerSharingOpcode)
        },
        Class(id: "66-rep-rejected") { c in
            // MOV with a moffs operand (A0-A3), or a near CALL/JMP/Jcc, after both 66 and F2/F3:
            // Capstone rejects it.
            capstoneInvalid(c) && c.ours.prefixes.contains(.operandSize) && hasRepeatPrefix(c)
                && ((c.ours.map == .legacy && (0xA0...0xA3).contains(c.ours.opcode)) || isNearBranchOpcode(c.ours))
        },
        Class(id: "address-size-67-lost") { c in
            // 67 with REX.W: Capstone sizes JrCXZ/LOOP by REX.W instead of the address size.
            bothValidSameLength(c) && c.ours.prefixes.contains(.addressSize) && c.ours.formFlags.contains(.byAddressSize)
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
        Class(id: "reserved-control-debug-register", .hostCPU) { c in
            // MOV to or from CR1, CR5-CR7, CR9-CR15, or DR8-DR15 (REX.R): #UD; Capstone decodes it.
            oursInvalid(c) && c.ours.map == .map0F && (0x20...0x23).contains(c.ours.opcode)
        },
        Class(id: "vbroadcasti128-rejected") { c in
            // Capstone 4.0.2 rejects every VBROADCASTI128 (VEX.256.66.0F38.W0 5A /r).
            capstoneInvalid(c) && c.oursNormalized?.mnemonic == "vbroadcasti128"
        },
        Class(id: "3dnow-femms-suffix") { c in
            // 0F 0F with the suffix byte 0E: Capstone reads it as FEMMS (0F 0E); no 3DNow! operation is 0E.
            oursInvalid(c) && c.capstone?.mnemonic == "femms" && c.mapName == "3DNow!"
        },
        Class(id: "opmask-instruction-rejected") { c in
            // AVX-512 opmask instructions (KMOV, KAND, KUNPCK, KSHIFT, ...) that Capstone 4.0.2 rejects,
            // in particular with VEX.B or VEX.X set, or in their d/q widths.
            capstoneInvalid(c) && (c.oursNormalized?.mnemonic.hasPrefix("k") ?? false) && c.ours.map.isVEX
        },
        Class(id: "fence-rm-ignored") { c in
            // LFENCE/MFENCE/SFENCE ignore ModRM.rm and REX; Capstone accepts only rm = 0 without REX.
            capstoneInvalid(c) && mnemonic(c, ["lfence", "mfence", "sfence"])
        },
        Class(id: "unknown-to-capstone") { c in
            // Instructions Capstone 4.0.2 does not know: MONITORX/MWAITX, CLZERO, RDPKRU/WRPKRU,
            // PREFETCHWT1, Key Locker, and the 0F 0D prefetches with a prefix.
            capstoneInvalid(c) && mnemonic(c, Self.newerThanCapstone)
        },
        Class(id: "null-segment-prefix-64") { c in
            // 64-bit mode: an ES/CS/SS/DS prefix after FS/GS does not cancel it (the CPU ignores the
            // null prefixes); Capstone lets the last segment prefix win.
            c.mode == .bits64 && bothValidSameLength(c) && (c.ours.segmentOverride == 4 || c.ours.segmentOverride == 5)
                && c.bytes.prefix(Int(c.ours.length)).contains(where: { [0x26, 0x2E, 0x36, 0x3E].contains($0) })
        },
        Class(id: "via-padlock", .hostCPU, modeIndependent: { _ in true }) { c in
            // 0F A6/A7 register forms: VIA PadLock (xcrypt*, xsha*, montmul), which Capstone decodes;
            // on Intel and AMD CPUs they raise #UD.
            oursInvalid(c) && c.ours.map == .map0F && (c.ours.opcode == 0xA6 || c.ours.opcode == 0xA7)
        },
        Class(id: "xchg-r8-read-as-pause", .hostCPU, hostEffect: { c, bytes in xchgSwapsR8(c, bytes) }) { c in
            // F3 with REX.B before 90 is XCHG r8, rAX (REX.B makes 90 a register exchange);
            // Capstone reads it as NOP and Zydis as PAUSE. The host CPU exchanges the registers.
            bothValidSameLength(c) && c.oursNormalized?.mnemonic == "xchg" && c.ours.map == .legacy
                && c.ours.opcode == 0x90 && c.ours.ext & 1 != 0 && hasRepeatPrefix(c)
        },
        Class(id: "movsxd-66-word-intel", .hostCPU) { c in
            // 66 63 with a memory operand: Intel reads a word (the SDM's MOVSXD r16, r/m16), where
            // Capstone and Zydis read a dword, as AMD does. Only an Intel host settles it.
            c.vendor == .intel && bothValidSameLength(c) && c.ours.map == .legacy && c.ours.opcode == 0x63
                && c.mode == .bits64 && c.ours.operandSize == 2 && hasMemory(c)
        },
        Class(id: "vpermil2-w1-order") { c in
            // VPERMIL2PS/PD with VEX.W1, and the XOP rotates, shifts, VPCMOV and VPPERM with XOP.W1,
            // swap the r/m source with the vvvv or imm8[7:4] one; Capstone prints the W0 order.
            sameMnemonicDifferentOperands(c) && c.ours.ext & 8 != 0
                && (mnemonic(c, ["vpermil2ps", "vpermil2pd", "vpcmov", "vpperm"]) || c.ours.map == .xop9)
        },
    ]

    static let newerSharingOpcode: Set<String> = [
        "incsspd", "incsspq", "umwait", "tpause", "umonitor", "clrssbsy", "rstorssp", "wrssd", "wrssq",
        "wrussd", "wrussq", "clflushopt", "clwb",
    ]

    static let newerThanCapstone: Set<String> = [
        "enclv", "monitorx", "mwaitx", "clzero", "rdpru", "rdpkru", "pconfig", "serialize", "invlpgb", "tlbsync",
        "mcommit", "clui", "stui", "uiret", "testui", "setssbsy", "saveprevssp", "xsusldtrk", "xresldtrk",
        "rmpadjust", "rmpupdate", "psmash", "pvalidate", "tdcall", "seamret", "seamops", "seamcall", "wrpkru", "prefetch", "prefetchw", "prefetchwt1",
        "lwpins", "lwpval", "llwpcb", "slwpcb", "loadiwkey", "umwait", "tpause", "umonitor", "clrssbsy", "rstorssp", "wrssd", "wrssq", "wrussd", "wrussq", "encodekey128", "encodekey256", "aesenc128kl", "aesdec128kl", "aesenc256kl", "aesdec256kl",
        "aesencwide128kl", "aesdecwide128kl", "aesencwide256kl", "aesdecwide256kl",
    ]

    /// softvmm mnemonic -> how Zydis spells it.
    static let oursToZydis: [String: String] = {
        var m = ["lcall": "call", "ljmp": "jmp", "retf": "ret", "retfq": "ret", "sal": "shl",
                 "loope": "loope", "loopne": "loopne",
                 "pfrcpit1": "pfcpit1", "pfrsqrt": "pfsqrt",
                 "popaw": "popa", "pushaw": "pusha", "popal": "popad", "pushal": "pushad"]
        // Zydis names conditions by their negated-below/zero spellings (jnbe for ja).
        let cc = ["ae": "nb", "e": "z", "ne": "nz", "a": "nbe", "ge": "nl", "g": "nle"]
        for (ours, theirs) in cc {
            for p in ["j", "set", "cmov"] { m[p + ours] = p + theirs }
        }
        return m
    }()

    /// The class of a disagreement: the first class that matches and whose reference sides with softvmm.
    static func classify(_ c: CheckedCase, zydis: ZydisOracle, bytes: UnsafeBufferPointer<UInt8>) -> String? {
        // Each reference is asked at most once per input (the host CPU costs a fork).
        var verdicts: [Reference: Bool] = [:]
        // The host speaks for its own vendor's reading only; for the other's, Zydis settles.
        let hostMayAnswer = c.vendor == HostCPU.vendor
        for cls in all where cls.matches(c) {
            if let effect = cls.hostEffect {
                if hostMayAnswer && c.mode == .bits64 && effect(c, bytes) { return cls.id }
                continue
            }
            // The host runs 64- and 32-bit code; for 16-bit inputs Zydis settles the class, unless
            // the class is the same in every mode, when the host runs the bytes as 32-bit code.
            let asked: Reference = cls.reference == .hostCPU && hostMayAnswer && (HostCPU.runs(c.mode) || cls.modeIndependent(c))
                ? .hostCPU : .zydis
            if verdicts[asked] == nil {
                verdicts[asked] = switch asked {
                case .zydis: zydisAgrees(c, zydis: zydis, bytes: bytes)
                case .hostCPU: hostAgrees(c, bytes: bytes)
                }
            }
            if verdicts[asked] == true { return cls.id }
        }
        return nil
    }

    /// XCHG r8, rAX versus PAUSE/NOP: run with r8 distinct from rax, and see the two exchanged.
    static func xchgSwapsR8(_ c: CheckedCase, _ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        let high: [UInt64] = [0x0123_4567_89AB_CDEF, 2, 3, 4, 5, 6, 7, 8]
        guard let (result, after) = HostCPU.probeRegisters(bytes, high: high),
              result.outcome == .stepped(length: Int(c.ours.length)) else { return false }
        let mask: UInt64 = c.ours.operandSize == 8 ? ~0 : (c.ours.operandSize == 4 ? 0xFFFF_FFFF : 0xFFFF)
        return after[0] & mask == high[0] & mask && after[8] != high[0]
    }

    /// Does the host CPU, running the bytes, side with softvmm? Invalid must be #UD;
    /// valid must not be #UD, and when the instruction single-steps, the lengths agree.
    public static func hostAgrees(_ c: CheckedCase, bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        let mode = HostCPU.runs(c.mode) ? c.mode : .bits32
        guard let r = HostCPU.probe(bytes, mode: mode) else { return false }
        if c.oursNormalized == nil { return r.outcome == .undefined }
        switch r.outcome {
        case .undefined, .other: return false
        case .stepped(let length): return length == Int(c.ours.length)
        case .fault, .arithmetic, .branched: return true
        }
    }

    /// Zydis names the effective segment of every memory operand; softvmm names only an
    /// override (and ES for string destinations). Without an override in softvmm's reading,
    /// Zydis's segments other than ES are dropped. (A 3E before an indirect branch is
    /// NOTRACK to Zydis and a DS override to softvmm; both then name DS.)
    static func withoutDefaultSegments(_ z: NormalizedInstruction, ours: Instruction) -> NormalizedInstruction {
        guard ours.segmentOverride == 0xFF else { return z }
        var z = z
        z.operands = z.operands.map { op in
            guard case .memory(let seg, let b, let i, let sc, let d, let sz) = op, seg != "es" else { return op }
            return .memory(segment: nil, base: b, index: i, scale: sc, displacement: d, size: sz)
        }
        return z
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
            z = withoutDefaultSegments(z, ours: c.ours)
            // String instructions: only their memory operands are compared (Zydis hides the registers).
            if KnownClasses.stringMnemonics.contains(ours.mnemonic) {
                ours.operands.removeAll { if case .memory = $0 { return false } else { return true } }
                z.operands.removeAll { if case .memory = $0 { return false } else { return true } }
            }
            // Zydis lists implicit st(0) explicitly in some forms and not others: compare without it, as with Capstone.
            (ours, z) = Normalization.pair(ours, z, mode: c.mode, instruction: c.ours)
            return ours.operands == z.operands && ours.decorations == z.decorations
        default: return false
        }
    }
}
