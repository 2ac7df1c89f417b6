import X86
import X86Decoder

/// How one input came out of the comparison.
public enum Verdict: Equatable, Sendable {
    case agree
    /// A listed class of Capstone disagreement, confirmed by the second reference.
    case known(String)
    case unexplained(String)
}

/// One compared case, with everything a report needs.
public struct CheckedCase: Sendable {
    public var bytes: [UInt8]
    public var mode: CPUMode
    public var ours: Instruction
    public var oursNormalized: NormalizedInstruction?
    public var capstone: NormalizedInstruction?
    public var verdict: Verdict
    /// The opcode map the bytes address (for the per-map summary).
    public var mapName: String
    /// The decoder `capstone` holds the reading of ("capstone", or "zydis" with --reference zydis).
    public var referenceName = "capstone"
    /// Whose reading softvmm's decoder gave (and so which host CPU may settle a class).
    public var vendor: Vendor = .intel
}

/// Compares softvmm's decoder with Capstone, and classifies disagreements.
public final class DecoderChecker {
    public let mode: CPUMode
    public let decoder: X86Decoder
    let capstone: CapstoneOracle
    let zydis: ZydisOracle
    public static let address: UInt64 = 0x1000
    /// Which decoder softvmm is compared with. Known classes describe Capstone's errors,
    /// so against Zydis every disagreement is unexplained.
    public enum Reference: String, Sendable { case capstone, zydis }
    public let reference: Reference

    /// Checks the decoder as `vendor` reads the bytes: by default the host's vendor, so that
    /// the host CPU can settle the classes it is the reference for.
    public init(mode: CPUMode, reference: Reference = .capstone, vendor: Vendor = HostCPU.vendor) {
        self.mode = mode
        self.reference = reference
        decoder = X86Decoder(mode: mode, vendor: vendor)
        capstone = CapstoneOracle(mode: mode)
        zydis = ZydisOracle(mode: mode)
    }

    public func check(_ bytes: UnsafeBufferPointer<UInt8>) -> CheckedCase {
        let ours = decoder.decode(bytes.baseAddress!, count: bytes.count)
        let cs = reference == .capstone ? capstone.decode(bytes, address: DecoderChecker.address)
                                        : zydis.decode(bytes, address: DecoderChecker.address)
                                            .map { KnownClasses.withoutDefaultSegments($0, ours: ours) }
        var c = CheckedCase(bytes: Array(bytes), mode: mode, ours: ours, oursNormalized: nil, capstone: cs,
                            verdict: .agree, mapName: mapName(bytes), referenceName: reference.rawValue,
                            vendor: decoder.vendor)
        if ours.status == .valid {
            c.oursNormalized = NormalizedInstruction(ours, address: DecoderChecker.address)
        }
        guard let problem = difference(c) else { return c }
        if reference == .capstone, let cls = KnownClasses.classify(c, zydis: zydis, bytes: bytes) {
            c.verdict = .known(cls)
        } else {
            c.verdict = .unexplained(problem)
        }
        return c
    }

    /// What differs between softvmm and Capstone after normalization, or nil.
    func difference(_ c: CheckedCase) -> String? {
        switch (c.oursNormalized, c.capstone) {
        case (nil, nil): return nil
        case (nil, .some): return "validity"
        case (.some, nil): return "validity"
        case (.some(let a), .some(let b)):
            if a.length != b.length { return "length" }
            let (na, nb) = Normalization.pair(a, b, mode: mode, instruction: c.ours)
            if na.mnemonic != nb.mnemonic { return "mnemonic" }
            if na.operands != nb.operands { return "operands" }
            if na.decorations != nb.decorations { return "decorations" }
            return nil
        }
    }

    /// The map addressed by the bytes, found by skipping prefixes.
    func mapName(_ bytes: UnsafeBufferPointer<UInt8>) -> String {
        var i = 0
        while i < bytes.count {
            let b = bytes[i]
            switch b {
            case 0xF0, 0xF2, 0xF3, 0x26, 0x2E, 0x36, 0x3E, 0x64, 0x65, 0x66, 0x67: i += 1; continue
            case 0x40...0x4F where mode == .bits64: i += 1; continue
            default: break
            }
            break
        }
        guard i < bytes.count else { return "prefixes" }
        let b = bytes[i]
        let next: UInt8 = i + 1 < bytes.count ? bytes[i + 1] : 0
        switch b {
        case 0x0F:
            switch next {
            case 0x38: return "0F38"
            case 0x3A: return "0F3A"
            case 0x0F: return "3DNow!"
            default: return "0F"
            }
        case 0xC4, 0xC5:
            if mode == .bits64 || next >= 0xC0 { return "VEX" }
            return "1-byte"
        case 0x62:
            if mode == .bits64 || next >= 0xC0 { return "EVEX" }
            return "1-byte"
        case 0x8F:
            return next & 0x1F >= 8 ? "XOP" : "1-byte"
        case 0xD8...0xDF: return "x87"
        default: return "1-byte"
        }
    }
}
