import CCapstone
import X86

/// Capstone (Debian's 4.0.2) as a decoding oracle. One handle per mode;
/// decoding reuses one preallocated instruction, so it does not allocate.
public final class CapstoneOracle {
    private var handle: csh = 0
    private let insn: UnsafeMutablePointer<cs_insn>
    public let mode: CPUMode

    public init(mode: CPUMode) {
        self.mode = mode
        let m: cs_mode = mode == .bits64 ? CS_MODE_64 : (mode == .bits32 ? CS_MODE_32 : CS_MODE_16)
        guard cs_open(CS_ARCH_X86, m, &handle) == CS_ERR_OK else {
            fatalError("Capstone: cs_open failed (is libcapstone4 installed?)")
        }
        cs_option(handle, CS_OPT_DETAIL, Int(CS_OPT_ON.rawValue))
        insn = cs_malloc(handle)
    }

    deinit {
        cs_free(insn, 1)
        cs_close(&handle)
    }

    public static var version: String {
        var major: Int32 = 0, minor: Int32 = 0
        _ = cs_version(&major, &minor)
        return "\(major).\(minor)"
    }

    /// Decodes one instruction, or nil when Capstone rejects the bytes.
    public func decode(_ bytes: UnsafeBufferPointer<UInt8>, address: UInt64) -> NormalizedInstruction? {
        var code: UnsafePointer<UInt8>? = bytes.baseAddress
        var size = bytes.count
        var addr = address
        guard cs_disasm_iter(handle, &code, &size, &addr, insn) else { return nil }
        return normalize()
    }

    /// Capstone's own text, for listings.
    public func text(_ bytes: UnsafeBufferPointer<UInt8>, address: UInt64) -> (length: Int, text: String)? {
        var code: UnsafePointer<UInt8>? = bytes.baseAddress
        var size = bytes.count
        var addr = address
        guard cs_disasm_iter(handle, &code, &size, &addr, insn) else { return nil }
        let m = withUnsafeBytes(of: insn.pointee.mnemonic) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
        let o = withUnsafeBytes(of: insn.pointee.op_str) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
        return (Int(insn.pointee.size), o.isEmpty ? m : m + " " + o)
    }

    private func regName(_ r: UInt32) -> String? {
        guard r != 0, let p = cs_reg_name(handle, r) else { return nil }
        return String(cString: p)
    }

    /// For each memory operand in Capstone's operand text, in order: is its size keyword there?
    static func memorySizeStated(in text: String) -> [Bool] {
        let keywords = ["byte ptr ", "word ptr ", "dword ptr ", "fword ptr ", "qword ptr ", "tbyte ptr ",
                        "xword ptr ", "xmmword ptr ", "ymmword ptr ", "zmmword ptr "]
        var result: [Bool] = []
        var before = Substring("")
        var rest = Substring(text)
        while let open = rest.firstIndex(of: "[") {
            before = rest[..<open]
            // Strip a segment ("ds:") between the keyword and the bracket.
            var head = String(before)
            if head.hasSuffix(":"), let space = head.lastIndex(of: " ") { head = String(head[...space]) }
            result.append(keywords.contains { head.hasSuffix($0) })
            rest = rest[rest.index(after: open)...]
        }
        return result
    }

    private func normalize() -> NormalizedInstruction {
        var mnemonic = withUnsafeBytes(of: insn.pointee.mnemonic) {
            String(cString: $0.bindMemory(to: CChar.self).baseAddress!)
        }
        // Prefix words are compared separately; only the operation is the mnemonic.
        let words = mnemonic.split(separator: " ")
        if words.count > 1 { mnemonic = String(words.last!) }
        let x86 = insn.pointee.detail.pointee.x86
        // Capstone's text names a memory operand's size ("dword ptr [..]") or leaves it out
        // ("ptr [..]", "[..]") when it does not know one; its detail then still carries a size,
        // which is no statement about the instruction. Such operands are reported unsized.
        let text = withUnsafeBytes(of: insn.pointee.op_str) {
            String(cString: $0.bindMemory(to: CChar.self).baseAddress!)
        }
        var statedSizes = Self.memorySizeStated(in: text).makeIterator()
        var ops: [NormalizedOperand] = []
        var zeroing = false
        var broadcast: Int?
        withUnsafeBytes(of: x86.operands) { raw in
            let list = raw.bindMemory(to: cs_x86_op.self)
            for i in 0..<Int(x86.op_count) {
                let op = list[i]
                if op.avx_zero_opmask { zeroing = true }
                if op.avx_bcast != X86_AVX_BCAST_INVALID { broadcast = 1 << Int(op.avx_bcast.rawValue) }
                switch op.type {
                case X86_OP_REG:
                    ops.append(.register(regName(op.reg.rawValue) ?? "?"))
                case X86_OP_IMM:
                    ops.append(.immediate(UInt64(bitPattern: op.imm), bits: Int(op.size) * 8))
                case X86_OP_MEM:
                    let m = op.mem
                    let stated = statedSizes.next() ?? true
                    ops.append(.memory(segment: regName(m.segment.rawValue), base: regName(m.base.rawValue),
                                       index: regName(m.index.rawValue), scale: Int(m.scale),
                                       displacement: UInt64(bitPattern: m.disp), size: stated ? Int(op.size) : 0))
                default:
                    break
                }
            }
        }
        let rounding = x86.avx_rm == X86_AVX_RM_INVALID ? nil : Int(x86.avx_rm.rawValue) - 1
        return NormalizedInstruction(length: Int(insn.pointee.size), mnemonic: mnemonic, operands: ops,
                                     decorations: NormalizedInstruction.decorations(
                                        zeroing: zeroing, broadcast: broadcast, rounding: rounding, sae: x86.avx_sae))
    }
}
