import X86ISA
// Builds the decoder's lookup tables from the instruction-set description's encodings
// (X86ISA's Encodings/). The description is the single source of truth; this file only
// parses it.
//
// Each opcode of each map owns a short list of candidate forms. A candidate
// matches when (key & mask) == value, where the key packs what selects a form:
//
//   bits 0-2  ModRM.rm           bit 9      REX.W / VEX.W / EVEX.W
//   bits 3-5  ModRM.reg          bits 10-11 VEX.L, EVEX.L'L (2 for a register form with EVEX.b)
//   bit 6     ModRM.mod == 3     bit 12     64-bit mode
//   bits 7-8  mandatory prefix   bit 13     REX.B
//             (0 none, 1 66, 2 F3, 3 F2; the last of F2/F3 wins over 66)
//                                bit 14     the vendor is AMD (flags `intel`, `amd`)
//
// The first matching candidate, in spec order, is the instruction.

/// Opcode maps, as table indices.
public enum OpcodeMap: UInt8, Sendable, CaseIterable {
    case legacy = 0, map0F, map0F38, map0F3A, vex0F, vex0F38, vex0F3A, amd3DNow, xop8, xop9, xopA
    case evex0F, evex0F38, evex0F3A
    public var name: String {
        switch self {
        case .legacy: "1-byte"
        case .map0F: "0F"
        case .map0F38: "0F38"
        case .map0F3A: "0F3A"
        case .vex0F: "VEX.0F"
        case .vex0F38: "VEX.0F38"
        case .vex0F3A: "VEX.0F3A"
        case .amd3DNow: "3DNow!"
        case .xop8: "XOP.08"
        case .xop9: "XOP.09"
        case .xopA: "XOP.0A"
        case .evex0F: "EVEX.0F"
        case .evex0F38: "EVEX.0F38"
        case .evex0F3A: "EVEX.0F3A"
        }
    }
    /// VEX-encoded, or XOP-encoded (AMD's VEX-shaped 8F prefix).
    public var isVEX: Bool { self == .vex0F || self == .vex0F38 || self == .vex0F3A || isXOP }
    public var isXOP: Bool { self == .xop8 || self == .xop9 || self == .xopA }
    /// EVEX-encoded (AVX-512).
    public var isEVEX: Bool { self == .evex0F || self == .evex0F38 || self == .evex0F3A }
}

enum KeyBit {
    static let modReg: UInt32 = 1 << 6
    static let pclassShift: UInt32 = 7
    static let w: UInt32 = 1 << 9
    static let lShift: UInt32 = 10
    static let mode64: UInt32 = 1 << 12
    static let rexB: UInt32 = 1 << 13
    static let amd: UInt32 = 1 << 14
}

/// Attributes of a form.
public struct FormFlags: OptionSet, Sendable, Hashable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public static let lock = FormFlags(rawValue: 1 << 0)        // LOCK allowed (memory destination)
    public static let rep = FormFlags(rawValue: 1 << 1)         // F3 is REP
    public static let repe = FormFlags(rawValue: 1 << 2)        // F3 is REPE, F2 is REPNE
    public static let default64 = FormFlags(rawValue: 1 << 3)   // d64
    public static let force64 = FormFlags(rawValue: 1 << 4)     // f64
    public static let noMod = FormFlags(rawValue: 1 << 5)       // ModRM.mod ignored
    public static let byAddressSize = FormFlags(rawValue: 1 << 6)
    public static let modRM = FormFlags(rawValue: 1 << 7)
    public static let usesVVVV = FormFlags(rawValue: 1 << 8)
    public static let mandatory66 = FormFlags(rawValue: 1 << 9) // 66 selects the form, not the operand size
    public static let vex = FormFlags(rawValue: 1 << 10)
    public static let mandatoryF2F3 = FormFlags(rawValue: 1 << 11) // F2/F3 select the form, not REP
    public static let vsib = FormFlags(rawValue: 1 << 12)       // a VSIB memory operand (needs SIB)
    public static let maskInReg = FormFlags(rawValue: 1 << 13)  // ModRM.reg names k0-k7: VEX.R must be clear
    public static let maskInVVVV = FormFlags(rawValue: 1 << 14) // VEX.vvvv names k0-k7: its top bit must be clear
    // EVEX (AVX-512) forms.
    public static let evex = FormFlags(rawValue: 1 << 15)
    public static let mergeMask = FormFlags(rawValue: 1 << 16)   // {k}: EVEX.aaa may name a writemask
    public static let zeroMask = FormFlags(rawValue: 1 << 17)    // {z}: EVEX.z may select zeroing
    public static let maskRequired = FormFlags(rawValue: 1 << 18) // gathers, scatters: EVEX.aaa must not be 0
    public static let broadcast4 = FormFlags(rawValue: 1 << 19)  // EVEX.b on memory: broadcast a dword
    public static let broadcast8 = FormFlags(rawValue: 1 << 20)  // EVEX.b on memory: broadcast a qword
    public static let rounding = FormFlags(rawValue: 1 << 21)    // EVEX.b on registers: L'L is a rounding mode
    public static let sae = FormFlags(rawValue: 1 << 22)         // EVEX.b on registers: suppress all exceptions
    public static let rmDestination = FormFlags(rawValue: 1 << 23) // the first operand is ModRM.rm (no {z} on memory)
    public static let regNotVector = FormFlags(rawValue: 1 << 24) // ModRM.reg names a GPR or opmask: EVEX.R' must be clear
    public static let bIgnored = FormFlags(rawValue: 1 << 25)    // EVEX.b on registers is accepted and changes nothing
}

/// One instruction form: what the decoder needs, and the operand list.
public struct Form: Sendable {
    /// Mnemonic string IDs for operand size 16, 32, 64 (or address size with `byAddressSize`).
    public var mnemonics: (UInt16, UInt16, UInt16)
    public var flags: FormFlags
    /// Immediate encodings following ModRM/SIB/displacement, in order.
    public var imm1: OperandSpec
    public var imm2: OperandSpec
    public var operandStart: UInt16
    public var operandCount: UInt8
    public var map: OpcodeMap
    /// The ModRM operand that can name memory (.none if there is none): EVEX scales disp8 by its size.
    public var memoryOperand: OperandSpec
    /// EVEX disp8*N when it is not the memory operand's size (expand and compress: one element); else 0.
    public var disp8Scale: UInt8
}

struct Candidate {
    var mask: UInt32
    var value: UInt32
    var form: UInt16
}

/// The decoder's tables, built once.
final class DecoderTables: @unchecked Sendable {
    let forms: [Form]
    /// The spec line each form came from ("file:line: text"), for diagnostics.
    let formLines: [String]
    let mnemonics: [String]
    /// The description's mnemonic for each ID (`.unimplemented` where it describes none).
    let mnemonicCodes: [Mnemonic]
    /// Per (map, opcode): start index into `candidates` (bits 0-19), count
    /// (bits 20-30), and bit 31 set if the opcode has a ModRM byte.
    let slots: UnsafeMutablePointer<UInt32>
    let candidates: UnsafeMutablePointer<Candidate>
    let candidateCount: Int
    let formPtr: UnsafeMutablePointer<Form>
    let operandPtr: UnsafeMutablePointer<OperandSpec>

    static let shared = DecoderTables()

    static let slotCount = OpcodeMap.allCases.count * 256

    static var specs: [(name: String, text: String)] { ISAGenerator.encodingSpecs }

    private init() {
        var acc = Accumulator()
        var perSlot = [[Candidate]](repeating: [], count: DecoderTables.slotCount)
        var hasModRM = [Bool?](repeating: nil, count: DecoderTables.slotCount)
        var parser = SpecParser()
        for (name, text) in DecoderTables.specs {
            for (n, trimmed) in ISAGenerator.lines(text) {
                let entries: [SpecEntry]
                do {
                    entries = try parser.parse(trimmed)
                } catch {
                    fatalError("spec \(name):\(n): \(error): \(trimmed)")
                }
                for entry in entries {
                    let formID = UInt16(acc.forms.count)
                    acc.add(entry, line: "\(name):\(n): \(trimmed)")
                    for opcode in entry.opcodes {
                        let slot = Int(entry.map.rawValue) * 256 + Int(opcode)
                        if let existing = hasModRM[slot], existing != entry.hasModRM {
                            fatalError("spec \(name):\(n): ModRM presence disagrees with earlier forms of this opcode")
                        }
                        hasModRM[slot] = entry.hasModRM
                        perSlot[slot].append(Candidate(mask: entry.mask, value: entry.value, form: formID))
                    }
                }
            }
        }
        var list: [Candidate] = []
        slots = .allocate(capacity: DecoderTables.slotCount)
        for s in 0..<DecoderTables.slotCount {
            let start = UInt32(list.count)
            list.append(contentsOf: perSlot[s])
            slots[s] = start | (UInt32(perSlot[s].count) << 20) | ((hasModRM[s] ?? false) ? 1 << 31 : 0)
        }
        candidateCount = list.count
        candidates = .allocate(capacity: max(list.count, 1))
        candidates.initialize(from: list, count: list.count)
        forms = acc.forms
        formLines = acc.lines
        mnemonics = acc.mnemonics
        mnemonicCodes = acc.codes
        formPtr = .allocate(capacity: acc.forms.count)
        formPtr.initialize(from: acc.forms, count: acc.forms.count)
        operandPtr = .allocate(capacity: max(acc.operands.count, 1))
        operandPtr.initialize(from: acc.operands, count: acc.operands.count)
    }

    /// Collects forms, their operands and interned mnemonics while the spec is parsed.
    private struct Accumulator {
        var forms: [Form] = []
        var lines: [String] = []
        var operands: [OperandSpec] = []
        var mnemonics: [String] = []
        var codes: [Mnemonic] = []
        var mnemonicIDs: [String: UInt16] = [:]

        mutating func intern(_ s: String) -> UInt16 {
            if let id = mnemonicIDs[s] { return id }
            let id = UInt16(mnemonics.count)
            // "movsd.sse" prints as "movsd" but is a mnemonic of its own.
            mnemonics.append(String(s.prefix { $0 != "." }))
            codes.append(Mnemonic(spelling: s))
            mnemonicIDs[s] = id
            return id
        }

        mutating func add(_ e: SpecEntry, line: String) {
            let ids = e.mnemonic.split(separator: "|").map { intern(String($0)) }
            let m = ids.count == 3 ? (ids[0], ids[1], ids[2]) : (ids[0], ids[0], ids[0])
            let start = UInt16(operands.count)
            operands.append(contentsOf: e.operands)
            let imms = e.operands.filter { $0.isImmediate }
            let memory = e.operands.first { $0.canNameMemory } ?? OperandSpec(.none)
            forms.append(Form(mnemonics: m, flags: e.flags,
                              imm1: imms.count > 0 ? imms[0] : OperandSpec(.none),
                              imm2: imms.count > 1 ? imms[1] : OperandSpec(.none),
                              operandStart: start, operandCount: UInt8(e.operands.count), map: e.map,
                              memoryOperand: memory, disp8Scale: e.disp8Scale))
            lines.append(line)
        }
    }
}

struct SpecError: Error, CustomStringConvertible {
    var description: String
}

struct SpecEntry {
    var map: OpcodeMap
    var opcodes: [UInt8]
    var mask: UInt32
    var value: UInt32
    var mnemonic: String
    var operands: [OperandSpec]
    var flags: FormFlags
    var hasModRM: Bool
    var disp8Scale: UInt8 = 0
}

struct SpecParser {
    /// Parses one spec line into its form, plus any VEX forms derived from it.
    mutating func parse(_ line: String) throws -> [SpecEntry] {
        let halves = line.split(separator: ":", maxSplits: 1).map { $0.trimmed }
        guard halves.count == 2 else { throw SpecError(description: "missing ':'") }
        let rhs = halves[1].split(separator: ";", maxSplits: 1).map { $0.trimmed }
        let flagWords = rhs.count > 1 ? rhs[1].split(separator: " ").map(String.init) : []
        let body = rhs[0]
        let mnemonicEnd = body.firstIndex(of: " ") ?? body.endIndex
        let mnemonic = String(body[..<mnemonicEnd])
        let operandText = body[mnemonicEnd...].trimmed
        var operands: [OperandSpec] = []
        if !operandText.isEmpty {
            for tok in operandText.split(separator: ",") {
                let t = tok.trimmed
                guard let spec = OperandSpec.parse(t) else { throw SpecError(description: "unknown operand '\(t)'") }
                operands.append(spec)
            }
        }

        var mask: UInt32 = 0, value: UInt32 = 0
        func constrain(_ m: UInt32, _ v: UInt32) throws {
            if mask & m != 0 && (value & m) != (v & m) { throw SpecError(description: "conflicting constraints") }
            mask |= m
            value |= v & m
        }
        var flags: FormFlags = []
        var map = OpcodeMap.legacy
        var tokens = halves[0].split(separator: " ").map(String.init)
        var vexDerivation: [String] = []
        var disp8Scale: UInt8 = 0
        var w32 = false

        // Encoding prefix: EVEX.L.pp.map.W, VEX.L.pp.map.W, or a mandatory legacy prefix.
        var lengths: [UInt32]? = nil
        if let first = tokens.first, first.hasPrefix("EVEX.") || first.hasPrefix("VEX.") || first.hasPrefix("XOP.") {
            tokens.removeFirst()
            let f = first.split(separator: ".").map(String.init)
            let kind = f[0]
            guard f.count == 5 else { throw SpecError(description: "\(kind) needs L.pp.map.W") }
            let isEVEX = kind == "EVEX"
            flags.insert(isEVEX ? .evex : .vex)
            switch (f[1], isEVEX) {
            case ("128", _), ("LZ", false), ("L0", false): try constrain(3 << KeyBit.lShift, 0)
            case ("256", _), ("L1", false): try constrain(3 << KeyBit.lShift, 1 << KeyBit.lShift)
            case ("512", true): try constrain(3 << KeyBit.lShift, 2 << KeyBit.lShift)
            case ("256+", true): lengths = [1, 2] // 256 and 512 (the key cannot say "not 128" in one mask)
            case ("LIG", _), ("L", _): break // EVEX.L'L = 11 is rejected before the table is consulted
            default: throw SpecError(description: "bad \(kind).L \(f[1])")
            }
            let pp: [String: UInt32] = ["NP": 0, "66": 1, "F3": 2, "F2": 3]
            guard let p = pp[f[2]] else { throw SpecError(description: "bad \(kind).pp") }
            try constrain(3 << KeyBit.pclassShift, p << KeyBit.pclassShift)
            switch (f[3], kind) {
            case ("0F", "VEX"): map = .vex0F
            case ("0F38", "VEX"): map = .vex0F38
            case ("0F3A", "VEX"): map = .vex0F3A
            case ("08", "XOP"): map = .xop8
            case ("09", "XOP"): map = .xop9
            case ("0A", "XOP"): map = .xopA
            case ("0F", "EVEX"): map = .evex0F
            case ("0F38", "EVEX"): map = .evex0F38
            case ("0F3A", "EVEX"): map = .evex0F3A
            default: throw SpecError(description: "bad \(kind) map")
            }
            switch f[4] {
            case "W0": try constrain(KeyBit.w, 0)
            case "W1": try constrain(KeyBit.w, KeyBit.w)
            case "WIG": break
            default: throw SpecError(description: "bad \(kind).W")
            }
        } else if let first = tokens.first, tokens.count > 1, ["NP", "66", "F3", "F2", "NF"].contains(first) {
            tokens.removeFirst()
            switch first {
            case "NP": try constrain(3 << KeyBit.pclassShift, 0)
            case "66": try constrain(3 << KeyBit.pclassShift, 1 << KeyBit.pclassShift); flags.insert(.mandatory66)
            case "F3": try constrain(3 << KeyBit.pclassShift, 2 << KeyBit.pclassShift)
            case "F2": try constrain(3 << KeyBit.pclassShift, 3 << KeyBit.pclassShift)
            default: try constrain(2 << KeyBit.pclassShift, 0) // NF: neither F2 nor F3
            }
            if first == "F3" || first == "F2" { flags.insert(.mandatoryF2F3) }
        }
        if map == .legacy, tokens.first == "0F" {
            tokens.removeFirst()
            if tokens.first == "38" { tokens.removeFirst(); map = .map0F38 }
            else if tokens.first == "3A" { tokens.removeFirst(); map = .map0F3A }
            else if tokens.first == "0F" { tokens.removeFirst(); map = .amd3DNow }
            else { map = .map0F }
        }
        guard !tokens.isEmpty else { throw SpecError(description: "missing opcode") }
        var opTok = tokens.removeFirst()
        var plusR = false
        if opTok.hasSuffix("+r") { plusR = true; opTok.removeLast(2) }
        guard let opcode = UInt8(opTok, radix: 16) else { throw SpecError(description: "bad opcode \(opTok)") }
        var hasModRM = map.isEVEX || (map.isVEX && !(map == .vex0F && opcode == 0x77))
        if map == .amd3DNow { hasModRM = true }
        var explicitMod = false
        for t in tokens {
            switch t {
            case "/r": hasModRM = true
            case "/0", "/1", "/2", "/3", "/4", "/5", "/6", "/7":
                hasModRM = true
                try constrain(7 << 3, UInt32(t.last!.wholeNumberValue!) << 3)
            case "m": hasModRM = true; explicitMod = true; try constrain(KeyBit.modReg, 0)
            case "r": hasModRM = true; explicitMod = true; try constrain(KeyBit.modReg, KeyBit.modReg)
            case "W0": try constrain(KeyBit.w, 0)
            case "W1": try constrain(KeyBit.w, KeyBit.w)
            default:
                guard t.count == 2, let b = UInt8(t, radix: 16) else { throw SpecError(description: "unknown token \(t)") }
                guard b >= 0xC0 else { throw SpecError(description: "literal ModRM must have mod = 11") }
                hasModRM = true
                explicitMod = true
                try constrain(0x7F, UInt32(b & 0x3F) | KeyBit.modReg)
            }
        }
        for f in flagWords {
            switch f {
            case "lock": flags.insert(.lock)
            case "rep": flags.insert(.rep)
            case "repe": flags.insert(.repe)
            case "d64": flags.insert(.default64)
            case "f64": flags.insert(.force64)
            case "nomod": flags.insert(.noMod)
            case "byaddr": flags.insert(.byAddressSize)
            case "i64": try constrain(KeyBit.mode64, 0)
            case "o64": try constrain(KeyBit.mode64, KeyBit.mode64)
            case "norexb": try constrain(KeyBit.rexB, 0)
            case "intel": try constrain(KeyBit.amd, 0)
            case "amd": try constrain(KeyBit.amd, KeyBit.amd)
            case "vx", "vx2", "v1", "v12", "vs", "vs2": vexDerivation.append(f)
            case "k": flags.insert(.mergeMask)
            case "kz": flags.formUnion([.mergeMask, .zeroMask])
            case "k1": flags.formUnion([.mergeMask, .maskRequired])
            case "b4": flags.insert(.broadcast4)
            case "b8": flags.insert(.broadcast8)
            case "er": flags.insert(.rounding)
            case "sae": flags.insert(.sae)
            case "b0": flags.insert(.bIgnored)
            case "w32": w32 = true
            case "n1", "n2", "n4", "n8": disp8Scale = UInt8(f.last!.wholeNumberValue!)
            default: throw SpecError(description: "unknown flag \(f)")
            }
        }
        if hasModRM { flags.insert(.modRM) }
        // The operands imply the ModRM.mod class when the line does not say.
        if !explicitMod && !flags.contains(.noMod) {
            if operands.contains(where: { $0.kind == .M || $0.kind == .vsib }) { try constrain(KeyBit.modReg, 0) }
            if operands.contains(where: { $0.kind == .R || $0.kind == .U || $0.kind == .N || $0.kind == .KR }) {
                try constrain(KeyBit.modReg, KeyBit.modReg)
            }
        }
        if operands.contains(where: { $0.kind == .H || $0.kind == .B || $0.kind == .KH }) { flags.insert(.usesVVVV) }
        if operands.contains(where: { $0.kind == .KG }) { flags.insert(.maskInReg) }
        if operands.contains(where: { $0.kind == .KH }) { flags.insert(.maskInVVVV) }
        if operands.contains(where: { $0.kind == .vsib }) { flags.insert(.vsib) }
        if flags.contains(.evex) {
            if let first = operands.first, first.canNameMemory { flags.insert(.rmDestination) }
            if operands.contains(where: { $0.kind == .G || $0.kind == .KG }) { flags.insert(.regNotVector) }
        } else if !flags.isDisjoint(with: [.mergeMask, .broadcast4, .broadcast8, .rounding, .sae, .bIgnored]) || disp8Scale != 0 {
            throw SpecError(description: "masking, broadcast and rounding are EVEX-only")
        }
        let opcodes = plusR ? (0..<8).map { opcode + UInt8($0) } : [opcode]
        let entry = SpecEntry(map: map, opcodes: opcodes, mask: mask, value: value, mnemonic: mnemonic,
                              operands: operands, flags: flags, hasModRM: hasModRM, disp8Scale: disp8Scale)
        var result = [entry]
        // w32: EVEX.W sizes a general register in 64-bit mode only; elsewhere W1 reads as this
        // W0 form (without an ignored EVEX.b, which Zydis rejects there).
        if w32 {
            var outside64 = Self.ignoringWOutside64(entry)
            outside64.flags.remove(.bIgnored)
            result.append(outside64)
        }
        if let lengths {
            result = result.flatMap { e in
                lengths.map { l in
                    var copy = e
                    copy.mask |= 3 << KeyBit.lShift
                    copy.value = (copy.value & ~(3 << KeyBit.lShift)) | l << KeyBit.lShift
                    return copy
                }
            }
        }
        for d in vexDerivation {
            let v = try deriveVEX(entry, d)
            result.append(v)
            // A legacy line that selects on REX.W sizes a general register by it. VEX.W does the
            // same in 64-bit mode only: elsewhere it is ignored, so the W0 form stands for both.
            if v.mask & KeyBit.w != 0 && v.value & KeyBit.w == 0 && v.mask & KeyBit.mode64 == 0 {
                result.append(Self.ignoringWOutside64(v))
            }
        }
        return result
    }

    /// A W0 form's twin outside 64-bit mode, where W is ignored: it matches W0 and W1 there.
    private static func ignoringWOutside64(_ e: SpecEntry) -> SpecEntry {
        var out = e
        out.mask = (e.mask & ~KeyBit.w) | KeyBit.mode64
        out.value = e.value & ~(KeyBit.w | KeyBit.mode64)
        return out
    }

    /// The AVX form of a legacy SSE line (see TwoByte.swift for the flags).
    private func deriveVEX(_ e: SpecEntry, _ how: String) throws -> SpecEntry {
        var v = e
        switch e.map {
        case .map0F: v.map = .vex0F
        case .map0F38: v.map = .vex0F38
        case .map0F3A: v.map = .vex0F3A
        default: throw SpecError(description: "VEX derivation outside 0F maps")
        }
        v.mnemonic = e.mnemonic.split(separator: "|").map { "v" + $0.prefix { $0 != "." } }.joined(separator: "|")
        v.flags.insert(.vex)
        v.flags.remove(.mandatory66)
        v.flags.remove(.mandatoryF2F3)
        // Legacy lines say NP/66/F3/F2; VEX.pp carries the same in the same key bits.
        // A VEX form without a prefix constraint would be ambiguous; legacy SSE lines always have one.
        guard e.mask & (3 << KeyBit.pclassShift) == 3 << KeyBit.pclassShift else {
            throw SpecError(description: "VEX derivation needs a mandatory prefix")
        }
        // W is ignored (WIG) unless the legacy line selected on REX.W; then W1 exists in 64-bit mode only.
        if e.mask & KeyBit.w != 0 && e.value & KeyBit.w != 0 {
            v.mask |= KeyBit.mode64
            v.value |= KeyBit.mode64
        }
        switch how {
        case "vx", "vx2", "vs", "vs2": break
        default: // v1, v12: VEX.128 only
            v.mask |= 3 << KeyBit.lShift
            v.value &= ~(3 << KeyBit.lShift)
        }
        if how == "vx" || how == "v1" || how == "vs" {
            let first = e.operands[0]
            let hSize: SizeCode = first.size == .x ? .x : .dq
            v.operands.insert(OperandSpec(.H, hSize), at: 1)
            v.flags.insert(.usesVVVV)
        }
        return v
    }
}

extension StringProtocol {
    /// Without leading and trailing spaces and tabs.
    var trimmed: String {
        var sub = Substring(self)
        while let c = sub.first, c == " " || c == "\t" { sub.removeFirst() }
        while let c = sub.last, c == " " || c == "\t" { sub.removeLast() }
        return String(sub)
    }
}
