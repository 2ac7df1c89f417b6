import X86

/// Intel-syntax text: lowercase, `size ptr seg:[base + index*scale + disp]`,
/// immediates and targets in hexadecimal (as objdump -M intel and Capstone print them).
public struct IntelFormatter: Sendable {
    public init() {}

    public func format(_ ins: Instruction, address: UInt64 = 0) -> String {
        switch ins.status {
        case .invalid: return "(bad)"
        case .truncated: return "(truncated)"
        case .valid: break
        }
        var text = prefixText(ins) + ins.mnemonic
        var parts = ins.operands(address: address).map { format($0) }
        if ins.prefixes.contains(.evex) { parts = decorate(parts, ins) }
        if !parts.isEmpty {
            text += " " + parts.joined(separator: ", ")
        }
        return text
    }

    /// AVX-512 decorations, as objdump and Capstone write them: the writemask and {z} on the
    /// destination, {1toN} on a broadcast memory operand, and the rounding or {sae} as an
    /// operand of its own before any immediate.
    func decorate(_ operands: [String], _ ins: Instruction) -> [String] {
        var parts = operands
        if ins.opmask != 0, parts.count > 1 {
            parts[0] += " {" + parts.remove(at: 1) + "}" + (ins.zeroing ? "{z}" : "")
        }
        if let n = ins.broadcastCount, let i = parts.firstIndex(where: { $0.hasSuffix("]") }) {
            parts[i] += "{1to\(n)}"
        }
        if let r = ins.embeddedRounding {
            let text = ["{rn-sae}", "{rd-sae}", "{ru-sae}", "{rz-sae}", "{sae}"][Int(r.rawValue)]
            let firstImmediate = parts.firstIndex { $0.hasPrefix("0x") || $0.first?.isNumber == true } ?? parts.count
            parts.insert(text, at: firstImmediate)
        }
        return parts
    }

    /// The prefix words that change the meaning: lock, rep, repe, repne.
    public func prefixText(_ ins: Instruction) -> String {
        var s = ""
        let flags = ins.formFlags
        if ins.prefixes.contains(.lock) { s += "lock " }
        if flags.contains(.rep), ins.prefixes.contains(.repe) || ins.prefixes.contains(.repne) {
            s += "rep "
        } else if flags.contains(.repe) {
            // The last of F2/F3 decides.
            if ins.prefixes.contains(.repe) || ins.prefixes.contains(.repne) {
                s += ins.lastRepeat == 0xF2 ? "repne " : "repe "
            }
        }
        return s
    }

    public func format(_ op: Operand) -> String {
        switch op {
        case .register(let r): return r.name
        case .immediate(let v, let size): return hex(v & mask(size))
        case .relative(let target): return hex(target)
        case .farPointer(let sel, let off): return "\(hex(sel)):\(hex(off))"
        case .memory(let m): return format(m)
        }
    }

    public func format(_ m: MemoryOperand) -> String {
        var s = sizeKeyword(m.size).map { $0 + " ptr " } ?? ""
        if let seg = m.segment { s += seg.name + ":" }
        var parts: [String] = []
        if let b = m.base { parts.append(b.name) }
        if let i = m.index { parts.append(m.scale == 1 ? i.name : "\(i.name)*\(m.scale)") }
        var inner = parts.joined(separator: " + ")
        let disp = m.displacement
        if parts.isEmpty {
            inner = hex(UInt64(bitPattern: disp) & mask(Int(m.addressSize)))
        } else if disp > 0 {
            inner += " + " + hex(UInt64(disp))
        } else if disp < 0 {
            inner += " - " + hex(UInt64(bitPattern: -disp))
        }
        return s + "[" + inner + "]"
    }

    func sizeKeyword(_ size: Int) -> String? {
        switch size {
        case 1: "byte"
        case 2: "word"
        case 4: "dword"
        case 6: "fword"
        case 8: "qword"
        case 10: "tbyte"
        case 16: "xmmword"
        case 32: "ymmword"
        case 64: "zmmword"
        default: nil
        }
    }

    func mask(_ size: Int) -> UInt64 { size >= 8 ? ~0 : (1 << (8 * UInt64(size))) - 1 }
}
