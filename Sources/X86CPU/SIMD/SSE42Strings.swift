import X86
import X86Decoder

// PCMPESTRI, PCMPESTRM, PCMPISTRI, PCMPISTRM (SDM vol. 2, 4.1 "Imm8 control byte
// operation for PCMPESTRI/PCMPESTRM/PCMPISTRI/PCMPISTRM").
//
// imm8 bits 1:0 — element format (unsigned bytes, unsigned words, signed bytes, signed
// words); bits 3:2 — aggregation (equal any, ranges, equal each, equal ordered); bits 5:4 —
// polarity (positive, negative, masked positive, masked negative); bit 6 — the index's end
// (least or most significant) or the mask's form (bits or expanded elements).

extension CPU {
    func compareStrings(_ op: Op, _ ins: Instruction, _ ops: OperandList) throws(CPUException) {
        let imm = try immediate(ops, 2)
        // The one legacy SSE form whose 16-byte memory operand need not be aligned.
        let a = try readWide(ops[0]), b = UInt128(try readVector(ops[1], aligned: false))
        let words = imm & 1 != 0, signed = imm & 2 != 0
        let width = words ? 2 : 1, n = 16 / width
        let explicit = op == .pcmpestri || op == .pcmpestrm
        func length(_ v: UInt128, register: Int) -> Int {
            if explicit {
                // RAX/RDX with REX.W, else EAX/EDX: the absolute value, saturated to n.
                let raw = state.gpr[register]
                let value = ins.operandSize == 8 ? Int64(bitPattern: raw) : Int64(Int32(truncatingIfNeeded: raw))
                return value.magnitude >= UInt64(n) ? n : Int(value.magnitude)
            }
            for i in 0..<n where v.element(i, width) == 0 { return i }
            return n
        }
        let la = length(a, register: 0), lb = length(b, register: 2)
        func element(_ v: UInt128, _ i: Int) -> Int64 { signed ? v.signedElement(i, width) : Int64(v.element(i, width)) }
        // One bit per element of b (the string searched): IntRes1.
        var result: UInt32 = 0
        let aggregation = (imm >> 2) & 3
        for j in 0..<n {
            let bValid = j < lb
            var bit: Bool
            switch aggregation {
            case 0: // equal any: b[j] is one of a's elements
                bit = false
                if bValid { for i in 0..<la where element(a, i) == element(b, j) { bit = true; break } }
            case 1: // ranges: a holds pairs (low, high)
                bit = false
                if bValid {
                    var i = 0
                    while i + 1 < la {
                        if element(b, j) >= element(a, i) && element(b, j) <= element(a, i + 1) { bit = true; break }
                        i += 2
                    }
                }
            case 2: // equal each: a[j] == b[j]; both past their ends counts as equal
                let aValid = j < la
                bit = aValid && bValid ? element(a, j) == element(b, j) : !aValid && !bValid
            default: // equal ordered: a occurs in b at j (a's end matches anything)
                bit = true
                for k in 0..<(n - j) {
                    let aValid = k < la, bValidAt = j + k < lb
                    if !aValid { break }
                    if !bValidAt || element(a, k) != element(b, j + k) { bit = false; break }
                }
            }
            if bit { result |= 1 << UInt32(j) }
        }
        let all: UInt32 = (1 << UInt32(n)) - 1
        switch (imm >> 4) & 3 {
        case 1: result ^= all
        case 3: result ^= (1 << UInt32(lb)) - 1
        default: break
        }
        var flags: UInt64 = 0
        if result != 0 { flags |= Flag.cf }
        if lb < n { flags |= Flag.zf }
        if la < n { flags |= Flag.sf }
        if result & 1 != 0 { flags |= Flag.of }
        if op == .pcmpestri || op == .pcmpistri {
            let index = result == 0 ? n : (imm & 0x40 != 0 ? 31 - result.leadingZeroBitCount : result.trailingZeroBitCount)
            state.rcx = UInt64(index)
        } else {
            let mask: UInt128 = imm & 0x40 == 0 ? UInt128(result)
                : UInt128.build(n, width) { i in (result >> UInt32(i)) & 1 != 0 ? ~0 : 0 }
            state.setXMM(0, mask.vec)
        }
        state.rflags = state.rflags & ~Flag.status | flags
    }
}
