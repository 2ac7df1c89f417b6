import X86
import X86ISA

/// Outcome of decoding.
public enum DecodeStatus: UInt8, Sendable {
    /// A valid instruction of `length` bytes.
    case valid
    /// Not a valid instruction in this mode (the CPU raises #UD, or #GP for
    /// more than 15 bytes). `length` is how far decoding got.
    case invalid
    /// The bytes ran out before the instruction did.
    case truncated
}

/// Legacy prefixes present (whether or not they were meaningful).
public struct Prefixes: OptionSet, Sendable, Hashable {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }
    public static let lock = Prefixes(rawValue: 1 << 0)
    public static let repe = Prefixes(rawValue: 1 << 1)     // F3
    public static let repne = Prefixes(rawValue: 1 << 2)    // F2
    public static let operandSize = Prefixes(rawValue: 1 << 3)
    public static let addressSize = Prefixes(rawValue: 1 << 4)
    public static let segment = Prefixes(rawValue: 1 << 5)
    public static let rex = Prefixes(rawValue: 1 << 6)
    public static let vex = Prefixes(rawValue: 1 << 7)
    public static let evex = Prefixes(rawValue: 1 << 8)
}

/// The rounding of an EVEX register form with EVEX.b set.
public enum EmbeddedRounding: UInt8, Sendable {
    case nearest = 0, down, up, towardZero
    /// Suppress all exceptions, without a rounding override.
    case sae
}

/// A decoded instruction: a plain value, no references, cheap to copy and cache.
/// Operand detail is derived on demand (`operands`), from the form.
public struct Instruction: Sendable {
    public var status: DecodeStatus = .invalid
    /// Bytes consumed: the instruction length when `status == .valid`.
    public var length: UInt8 = 0
    public var mode: CPUMode
    public var map: OpcodeMap = .legacy
    public var opcode: UInt8 = 0
    public var modrm: UInt8 = 0
    public var sib: UInt8 = 0
    public var hasModRM: Bool = false
    public var hasSIB: Bool = false
    public var prefixes: Prefixes = []
    /// Segment override (0 ES, 1 CS, 2 SS, 3 DS, 4 FS, 5 GS), 0xFF if none. The last one wins.
    public var segmentOverride: UInt8 = 0xFF
    /// The last of F2/F3 seen (0 if neither): it is the one that counts.
    public var lastRepeat: UInt8 = 0
    /// REX, VEX or EVEX extension bits: W = 8, R = 4, X = 2, B = 1, and EVEX.R' = 0x10
    /// (already un-inverted).
    public var ext: UInt8 = 0
    /// VEX.vvvv, un-inverted (0 when absent); EVEX.V' is bit 4.
    public var vvvv: UInt8 = 0
    /// 0 for 128-bit, 1 for 256-bit, 2 for 512-bit vectors (VEX.L, EVEX.L'L; 2 for an
    /// EVEX register form with embedded rounding, whose L'L is the rounding mode).
    public var vectorLength: UInt8 = 0
    /// EVEX.P2 as encoded: z (bit 7), L'L (6:5), b (4), V' inverted (3), aaa (2:0); 0 without EVEX.
    public var evex: UInt8 = 0
    /// Effective operand size in bytes (2, 4 or 8).
    public var operandSize: UInt8 = 4
    /// Effective address size in bytes (2, 4 or 8).
    public var addressSize: UInt8 = 4
    public var displacementSize: UInt8 = 0
    /// Sign-extended displacement.
    public var displacement: Int64 = 0
    /// First immediate (sign-extended where the form says so), second immediate.
    public var immediate: UInt64 = 0
    public var immediate2: UInt64 = 0
    public var immediateSize: UInt8 = 0
    /// Index of the form in the decoder tables.
    public var form: UInt16 = 0
    public var mnemonicID: UInt16 = 0

    public init(mode: CPUMode) { self.mode = mode }

    @inlinable public var isValid: Bool { status == .valid }
    @inlinable public var mod: UInt8 { modrm >> 6 }
    @inlinable public var reg: UInt8 { (modrm >> 3) & 7 }
    @inlinable public var rm: UInt8 { modrm & 7 }
    /// True when a REX prefix was present (byte registers spl..dil instead of ah..bh).
    @inlinable public var hasREX: Bool { prefixes.contains(.rex) }
    /// True when ModRM names memory.
    public var hasMemoryOperand: Bool {
        hasModRM && mod != 3 && !formFlags.contains(.noMod)
    }

    /// The EVEX writemask register number (0 when unmasked or not EVEX).
    @inlinable public var opmask: UInt8 { evex & 7 }
    /// EVEX zeroing-masking ({z}); merging otherwise.
    @inlinable public var zeroing: Bool { evex & 0x80 != 0 }
    /// EVEX.b: broadcast (memory forms) or embedded rounding / SAE (register forms).
    @inlinable public var evexB: Bool { evex & 0x10 != 0 }
    /// The broadcast element count ({1toN}), or nil when the memory operand is not broadcast.
    public var broadcastCount: Int? {
        guard evexB, hasMemoryOperand else { return nil }
        let form = DecoderTables.shared.formPtr[Int(form)]
        let element = form.flags.contains(.broadcast8) ? 8 : 4
        return byteSize(form.memoryOperand.size, memory: true) / element
    }
    /// The embedded rounding or SAE of an EVEX register form, or nil.
    public var embeddedRounding: EmbeddedRounding? {
        guard evexB, hasModRM, mod == 3 else { return nil }
        let flags = formFlags
        if flags.contains(.rounding) { return EmbeddedRounding(rawValue: (evex >> 5) & 3) }
        return flags.contains(.sae) ? .sae : nil
    }

    public var mnemonic: String { DecoderTables.shared.mnemonics[Int(mnemonicID)] }
    /// Every mnemonic the tables use, indexed by `mnemonicID`.
    public static var mnemonicNames: [String] { DecoderTables.shared.mnemonics }
    /// The instruction-set description's mnemonic (X86ISA), `.unimplemented` for one it does
    /// not describe: what code that acts on an instruction switches on, never the text.
    public var op: Mnemonic { DecoderTables.shared.mnemonicCodes[Int(mnemonicID)] }
    /// The description's mnemonic for each `mnemonicID` (for per-mnemonic dispatch tables).
    public static var mnemonicCodes: [Mnemonic] { DecoderTables.shared.mnemonicCodes }
    public var formFlags: FormFlags { status == .valid ? DecoderTables.shared.formPtr[Int(form)].flags : [] }
    /// The spec line that decoded this instruction ("file:line: text").
    public var specLine: String { DecoderTables.shared.formLines[Int(form)] }
}
