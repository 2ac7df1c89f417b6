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
        let ops = ins.operands(address: address)
        if !ops.isEmpty {
            text += " " + ops.map { format($0) }.joined(separator: ", ")
        }
        return text
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
