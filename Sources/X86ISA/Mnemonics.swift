/// The interpreter's handler families (Semantics.swift's first column).
public enum InstructionFamily: UInt8, Sendable {
    /// Decoded, not executed: #UD.
    case unimplemented
    case integer, system, x87, mmx, sseInteger, sseFloat, bmi
}

/// Jcc, SETcc, CMOVcc.
public enum ConditionKind: UInt8, Sendable {
    case jump, set, move
}

/// How a shift count decides which flags are undefined (Semantics.swift's `count` and
/// `count-wide`).
public enum FlagCountRule: UInt8, Sendable {
    case none
    /// A count of 0 changes no flag; OF is defined for a count of 1; `undefinedFlags` otherwise.
    case count
    /// As `count`, and a count beyond the operand's width leaves CF and OF undefined too.
    case countWide
}

/// RFLAGS bits as the description names them (`r=`, `w=`, `u=`).
public enum ISAFlag {
    public static let names: [String: UInt32] = [
        "cf": 1 << 0, "pf": 1 << 2, "af": 1 << 4, "zf": 1 << 6, "sf": 1 << 7, "tf": 1 << 8,
        "if": 1 << 9, "df": 1 << 10, "of": 1 << 11, "ac": 1 << 18, "all": 0x3F_7FD5,
    ]
    /// The flags each condition code (0-15, Jcc's low nibble) reads.
    public static let conditionReads: [UInt32] = [
        1 << 11, 1 << 11, 1, 1, 1 << 6, 1 << 6, 1 | 1 << 6, 1 | 1 << 6,
        1 << 7, 1 << 7, 1 << 2, 1 << 2, 1 << 7 | 1 << 11, 1 << 7 | 1 << 11,
        1 << 6 | 1 << 7 | 1 << 11, 1 << 6 | 1 << 7 | 1 << 11,
    ]
    /// The condition codes' suffixes, by number.
    public static let conditionSuffixes = ["o", "no", "b", "ae", "e", "ne", "be", "a", "s", "ns", "p", "np", "l", "ge", "le", "g"]
}

/// What the description says of one mnemonic: plain values only (no strings or references),
/// so that reading it on the interpreter's paths copies a few words and nothing else.
public struct MnemonicFacts: Sendable {
    public let family: InstructionFamily
    /// RFLAGS bits read, written with a defined value, and left undefined.
    public let reads: UInt32
    public let writes: UInt32
    public let undefined: UInt32
    public let countRule: FlagCountRule
    /// The condition code (0-15) of a Jcc/SETcc/CMOVcc, else -1; its kind.
    public let condition: Int8
    public let conditionKind: ConditionKind
    /// The CPUID feature, as an index into `Mnemonic.featureNames` (0: none); whether the
    /// CPU gates on it.
    public let featureIndex: UInt8
    public let gated: Bool
    /// The mnemonic it runs as (itself, or a NOP for hint forms).
    public let executes: Mnemonic

    /// The CPUID feature by its name (Identification.swift's names), "" for none.
    public var feature: String { Mnemonic.featureNames[Int(featureIndex)] }

    public init(_ family: InstructionFamily, reads: UInt32 = 0, writes: UInt32 = 0, undefined: UInt32 = 0,
                countRule: FlagCountRule = .none, condition: Int8 = -1, conditionKind: ConditionKind = .jump,
                feature: UInt8 = 0, gated: Bool = false, executes: Mnemonic) {
        (self.family, self.reads, self.writes, self.undefined, self.countRule) = (family, reads, writes, undefined, countRule)
        (self.condition, self.conditionKind, self.featureIndex, self.gated, self.executes) = (condition, conditionKind, feature, gated, executes)
    }
}

extension Mnemonic {
    /// Inlinable, so that the interpreter's checks of a fact cost a table load, not a call.
    @inlinable public var facts: MnemonicFacts { Mnemonic.table[Int(rawValue)] }
    /// How the encodings spell it (`movsd.sse`); `name` is how it prints (`movsd`).
    public var spelling: String { Mnemonic.spellings[Int(rawValue)] }
    public var name: String { String(spelling.prefix { $0 != "." }) }
    @inlinable public var family: InstructionFamily { facts.family }

    /// The mnemonic the encodings spell `spelling`, or `.unimplemented` for one the semantic
    /// table does not describe.
    public init(spelling: String) {
        self = Mnemonic.bySpelling[spelling] ?? .unimplemented
    }
    static let bySpelling: [String: Mnemonic] = Dictionary(
        uniqueKeysWithValues: Mnemonic.allCases.dropFirst().map { ($0.spelling, $0) })
}
