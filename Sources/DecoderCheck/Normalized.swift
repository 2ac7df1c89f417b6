import X86
import X86Decoder

/// A decoder-neutral view of one instruction, in which softvmm, Capstone and
/// Zydis results are compared: lowercase mnemonic without prefix words, and
/// operands reduced to what all three report the same way.
public struct NormalizedInstruction: Equatable, Sendable, CustomStringConvertible {
    public var length: Int
    public var mnemonic: String
    public var operands: [NormalizedOperand]
    /// EVEX decorations in a fixed order: {z}, broadcast {1toN}, rounding {rn-sae} or {sae}.
    public var decorations: [String] = []

    public var description: String {
        "\(mnemonic) " + operands.map(\.description).joined(separator: ", ")
            + decorations.map { " " + $0 }.joined() + " (\(length) bytes)"
    }

    /// Decoration spellings shared by the three decoders.
    static func decorations(zeroing: Bool, broadcast: Int?, rounding: Int?, sae: Bool) -> [String] {
        var d: [String] = []
        if zeroing { d.append("{z}") }
        if let broadcast { d.append("{1to\(broadcast)}") }
        if let rounding { d.append("{" + ["rn", "rd", "ru", "rz"][rounding & 3] + "-sae}") } else if sae { d.append("{sae}") }
        return d
    }
}

public enum NormalizedOperand: Equatable, Sendable, CustomStringConvertible {
    case register(String)
    /// An immediate, masked to `bits`.
    case immediate(UInt64, bits: Int)
    /// segment (nil = default), base, index, scale, displacement (masked to the address size), size in bytes (0 = unknown).
    case memory(segment: String?, base: String?, index: String?, scale: Int, displacement: UInt64, size: Int)

    public var description: String {
        switch self {
        case .register(let r): return r
        case .immediate(let v, _): return hex(v)
        case .memory(let seg, let base, let index, let scale, let disp, let size):
            var s = size > 0 ? "m\(size * 8) " : ""
            if let seg { s += seg + ":" }
            var parts: [String] = []
            if let base { parts.append(base) }
            if let index { parts.append("\(index)*\(scale)") }
            if disp != 0 || parts.isEmpty { parts.append(hex(disp)) }
            return s + "[" + parts.joined(separator: "+") + "]"
        }
    }
}

extension NormalizedInstruction {
    /// softvmm's own result in normalized form.
    public init(_ ins: Instruction, address: UInt64) {
        length = Int(ins.length)
        mnemonic = ins.mnemonic
        operands = ins.operands(address: address).flatMap { op -> [NormalizedOperand] in
            // A far pointer is two immediates to both references: selector, then offset.
            if case .farPointer(let sel, let off) = op { return [.immediate(UInt64(sel), bits: 16), .immediate(off, bits: 64)] }
            return [NormalizedOperand(op, ins)]
        }
        let r = ins.embeddedRounding
        decorations = Self.decorations(zeroing: ins.zeroing, broadcast: ins.broadcastCount,
                                       rounding: r == nil || r == .sae ? nil : Int(r!.rawValue), sae: r == .sae)
    }
}

extension NormalizedOperand {
    init(_ op: Operand, _ ins: Instruction) {
        switch op {
        case .register(let r): self = .register(r.name)
        case .immediate(let v, let size): self = .immediate(v & mask(bits: size * 8), bits: size * 8)
        case .relative(let target): self = .immediate(target, bits: 64)
        case .farPointer(_, let off): self = .immediate(off, bits: 64)
        case .memory(let m):
            self = .memory(segment: m.segment?.name, base: m.base?.name, index: m.index?.name,
                           scale: Int(m.scale), displacement: UInt64(bitPattern: m.displacement) & mask(bits: Int(m.addressSize) * 8),
                           size: m.size)
        }
    }
}

@inline(__always) func mask(bits: Int) -> UInt64 { bits >= 64 ? ~0 : (1 << UInt64(bits)) - 1 }
