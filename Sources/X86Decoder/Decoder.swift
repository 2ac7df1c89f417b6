import X86

/// The x86 decoder for 16-, 32- and 64-bit code.
///
/// Decoding is one pass over at most 15 bytes: prefixes, opcode and escape
/// bytes (or VEX), ModRM, a table match, SIB and displacement, immediates.
/// It never reads past `count`: running out of bytes gives `.truncated`.
public struct X86Decoder: Sendable {
    public var mode: CPUMode
    public var vendor: Vendor

    public init(mode: CPUMode = .bits64, vendor: Vendor = .intel) {
        self.mode = mode
        self.vendor = vendor
        _ = DecoderTables.shared
    }

    public func decode(_ bytes: [UInt8]) -> Instruction {
        bytes.withUnsafeBufferPointer { buf in
            guard let base = buf.baseAddress, buf.count > 0 else {
                var ins = Instruction(mode: mode)
                ins.status = .truncated
                return ins
            }
            return decode(base, count: buf.count)
        }
    }

    public func decode(_ p: UnsafePointer<UInt8>, count: Int) -> Instruction {
        var ins = Instruction(mode: mode)
        let t = DecoderTables.shared
        let is64 = mode == .bits64
        var pos = 0
        var pfx: Prefixes = []
        var lastRep: UInt8 = 0
        var rex: UInt8 = 0

        @inline(__always) func fail(_ s: DecodeStatus) -> Instruction {
            ins.status = s
            ins.length = UInt8(min(pos, 15))
            ins.prefixes = pfx
            return ins
        }
        @inline(__always) func short(_ n: Int) -> DecodeStatus? { shortage(pos, n, count) }

        // Legacy prefixes and REX. A REX prefix counts only immediately before the opcode.
        prefixLoop: while true {
            if let s = short(1) { return fail(s) }
            let b = p[pos]
            switch b {
            case 0xF0: pfx.insert(.lock)
            case 0xF2: pfx.insert(.repne); lastRep = 0xF2
            case 0xF3: pfx.insert(.repe); lastRep = 0xF3
            case 0x26, 0x2E, 0x36, 0x3E:
                // In 64-bit mode these are null prefixes: they do not displace an FS or GS override.
                pfx.insert(.segment)
                if !(is64 && (4...5).contains(ins.segmentOverride)) { ins.segmentOverride = (b >> 3) & 3 }
            case 0x64: pfx.insert(.segment); ins.segmentOverride = 4
            case 0x65: pfx.insert(.segment); ins.segmentOverride = 5
            case 0x66: pfx.insert(.operandSize)
            case 0x67: pfx.insert(.addressSize)
            case 0x40...0x4F where is64:
                rex = b
                pos += 1
                continue prefixLoop
            default:
                break prefixLoop
            }
            rex = 0
            pos += 1
        }
        if rex != 0 { pfx.insert(.rex) }
        var ext = rex & 0x0F
        var vectorLength: UInt8 = 0
        var vvvv: UInt8 = 0
        var vvvvNot1111 = false
        var pclass: UInt32
        if lastRep == 0xF3 { pclass = 2 } else if lastRep == 0xF2 { pclass = 3 } else if pfx.contains(.operandSize) { pclass = 1 } else { pclass = 0 }

        // Opcode, escapes, VEX.
        var map = OpcodeMap.legacy
        let b0 = p[pos]
        pos += 1
        var opcode = b0
        if b0 == 0x0F {
            if let s = short(1) { return fail(s) }
            let b1 = p[pos]
            pos += 1
            if b1 == 0x38 || b1 == 0x3A {
                if let s = short(1) { return fail(s) }
                map = b1 == 0x38 ? .map0F38 : .map0F3A
                opcode = p[pos]
                pos += 1
            } else if b1 == 0x0F {
                map = .amd3DNow
            } else {
                map = .map0F
                opcode = b1
            }
        } else if b0 == 0xC4 || b0 == 0xC5 || b0 == 0x62 || b0 == 0x8F {
            if let s = short(1) { return fail(s) }
            let v1 = p[pos]
            // VEX and EVEX outside 64-bit mode need what would be ModRM.mod = 11 of LES/LDS/BOUND;
            // XOP needs a map number of 8 or more, where POP Ev would need ModRM.reg = 0.
            let isXOP = b0 == 0x8F
            if isXOP ? (v1 & 0x1F) >= 8 : (is64 || v1 >= 0xC0) {
                if b0 == 0x62 {
                    if let s = decodeEVEX(p, count, &pos, &ins, &pfx, rex: rex, &ext, &vvvv, &vvvvNot1111,
                                          &vectorLength, &pclass, &map) {
                        return fail(s)
                    }
                    opcode = p[pos]
                    pos += 1
                } else {
                // VEX: no 66/F2/F3/LOCK/REX before it.
                if rex != 0 || pfx.contains(.operandSize) || pfx.contains(.repe) || pfx.contains(.repne) || pfx.contains(.lock) {
                    pos += 1
                    return fail(.invalid)
                }
                pfx.insert(.vex)
                var v2: UInt8
                var mmmmm: UInt8 = 1
                if b0 == 0xC5 {
                    pos += 1
                    v2 = v1
                    ext = (v1 & 0x80) == 0 ? 4 : 0
                } else {
                    if let s = short(2) { return fail(s) }
                    v2 = p[pos + 1]
                    pos += 2
                    ext = ((~v1 & 0x80) != 0 ? 4 : 0) | ((~v1 & 0x40) != 0 ? 2 : 0) | ((~v1 & 0x20) != 0 ? 1 : 0)
                    if v2 & 0x80 != 0 { ext |= 8 }
                    mmmmm = v1 & 0x1F
                }
                if !is64 { ext &= 8 } // VEX.R/X/B (and vvvv[3]) are ignored outside 64-bit mode.
                vvvv = (~v2 >> 3) & 0x0F
                // An unused vvvv must be 1111 in every mode; a used one names xmm0-7 outside 64-bit mode.
                vvvvNot1111 = vvvv != 0
                if !is64 { vvvv &= 7 }
                vectorLength = (v2 >> 2) & 1
                pclass = UInt32(v2 & 3)
                switch (isXOP, mmmmm) {
                case (false, 1): map = .vex0F
                case (false, 2): map = .vex0F38
                case (false, 3): map = .vex0F3A
                case (true, 8): map = .xop8
                case (true, 9): map = .xop9
                case (true, 10): map = .xopA
                default: return fail(.invalid)
                }
                if let s = short(1) { return fail(s) }
                opcode = p[pos]
                pos += 1
                }
            }
        }
        let isEVEX = map.isEVEX

        var key: UInt32 = (pclass << KeyBit.pclassShift) | (is64 ? KeyBit.mode64 : 0)
        if ext & 8 != 0 { key |= KeyBit.w }
        if ext & 1 != 0 { key |= KeyBit.rexB }
        if vendor == .amd { key |= KeyBit.amd }
        key |= UInt32(vectorLength) << KeyBit.lShift

        let addressSize: UInt8
        switch mode {
        case .bits16: addressSize = pfx.contains(.addressSize) ? 4 : 2
        case .bits32: addressSize = pfx.contains(.addressSize) ? 2 : 4
        case .bits64: addressSize = pfx.contains(.addressSize) ? 4 : 8
        }
        ins.addressSize = addressSize

        ins.map = map
        ins.opcode = opcode
        var slot = t.slots[Int(map.rawValue) &* 256 &+ Int(opcode)]
        if map == .amd3DNow { slot = 1 << 31 }
        if slot >> 20 == 0 { return fail(.invalid) }
        if slot & (1 << 31) != 0 {
            if let s = short(1) { return fail(s) }
            let m = p[pos]
            pos += 1
            ins.modrm = m
            ins.hasModRM = true
            key |= UInt32(m & 0x3F) | (m >= 0xC0 ? KeyBit.modReg : 0)
            if isEVEX {
                // EVEX.b on a register form: L'L is a rounding mode and the vector length is 512.
                if ins.evexB && m >= 0xC0 {
                    vectorLength = 2
                    key = (key & ~(3 << KeyBit.lShift)) | (2 << KeyBit.lShift)
                } else if vectorLength == 3 {
                    return fail(.invalid)
                }
            }
        }

        // 3DNow!: the operation byte follows the memory operand.
        if map == .amd3DNow {
            if ins.modrm < 0xC0, let s = decodeMemory(&ins, p, count, &pos) { return fail(s) }
            if let s = short(1) { return fail(s) }
            opcode = p[pos]
            pos += 1
            ins.opcode = opcode
            slot = t.slots[Int(map.rawValue) &* 256 &+ Int(opcode)]
            if slot >> 20 == 0 { return fail(.invalid) }
        }

        // Find the form.
        let start = Int(slot & 0xFFFFF)
        let n = Int((slot >> 20) & 0x7FF)
        var formIndex = -1
        for c in start..<(start + n) {
            let cand = t.candidates[c]
            if key & cand.mask == cand.value {
                formIndex = Int(cand.form)
                break
            }
        }
        if formIndex < 0 { return fail(.invalid) }
        let fp = t.formPtr + formIndex
        let flags = fp.pointee.flags
        ins.form = UInt16(formIndex)
        ins.map = map
        ins.opcode = opcode
        ins.ext = ext
        ins.vvvv = vvvv
        ins.vectorLength = vectorLength

        // Operand size.
        let has66 = pfx.contains(.operandSize) && !flags.contains(.mandatory66)
        var osz: UInt8
        if flags.contains(.vex) || isEVEX {
            osz = (is64 && ext & 8 != 0) ? 8 : 4
        } else if is64 {
            if ext & 8 != 0 { osz = 8 }
            else if flags.contains(.force64) { osz = (vendor == .amd && has66) ? 2 : 8 }
            else if flags.contains(.default64) { osz = has66 ? 2 : 8 }
            else { osz = has66 ? 2 : 4 }
        } else {
            osz = mode == .bits16 ? 2 : 4
            if has66 { osz = 6 - osz }
        }
        ins.operandSize = osz

        // Rules the table cannot express.
        if flags.contains(.vex) && !flags.contains(.usesVVVV) && vvvvNot1111 { return fail(.invalid) }
        if flags.contains(.maskInReg) && ext & 4 != 0 { return fail(.invalid) }
        if isEVEX, let s = checkEVEX(ins, flags, vvvvNot1111: vvvvNot1111) { return fail(s) }
        if flags.contains(.maskInVVVV) && vvvv > 7 { return fail(.invalid) }
        if pfx.contains(.lock) && (!flags.contains(.lock) || ins.modrm >= 0xC0) { return fail(.invalid) }
        if map == .legacy && (opcode == 0x8C || opcode == 0x8E) && (ins.reg > 5 || (opcode == 0x8E && ins.reg == 1)) {
            return fail(.invalid)
        }
        if map == .map0F && (opcode == 0x20 || opcode == 0x22) {
            let cr = ins.reg | ((ext & 4) << 1)
            if !(cr == 0 || cr == 2 || cr == 3 || cr == 4 || cr == 8) { return fail(.invalid) }
        }
        if map == .map0F && (opcode == 0x21 || opcode == 0x23) && ext & 4 != 0 { return fail(.invalid) }

        // SIB and displacement.
        if map != .amd3DNow && ins.hasModRM && ins.modrm < 0xC0 && !flags.contains(.noMod) {
            if let s = decodeMemory(&ins, p, count, &pos) { return fail(s) }
            // VSIB addressing needs a SIB byte (and 32- or 64-bit addressing).
            if flags.contains(.vsib) && !ins.hasSIB { return fail(.invalid) }
            // EVEX disp8*N: a one-byte displacement counts in units of the memory access.
            if isEVEX && ins.displacementSize == 1 {
                let scale = fp.pointee.disp8Scale
                let n = ins.evexB ? (flags.contains(.broadcast8) ? 8 : 4)
                    : scale != 0 ? Int(scale) : ins.memoryAccessSize(fp.pointee.memoryOperand)
                ins.displacement &*= Int64(n)
            }
        }

        // Immediates.
        let imm1 = fp.pointee.imm1
        if imm1.kind != .none {
            let (value, size) = immediateLayout(imm1, osz: osz, asz: addressSize)
            if let s = short(size) { return fail(s) }
            ins.immediate = readImmediate(p + pos, size: size, signed: value)
            ins.immediateSize = UInt8(size)
            pos += size
            if imm1.kind == .A {
                if let s = short(2) { return fail(s) }
                ins.immediate2 = UInt64(p[pos]) | UInt64(p[pos + 1]) << 8
                pos += 2
            }
            let imm2 = fp.pointee.imm2
            if imm2.kind != .none {
                let (value2, size2) = immediateLayout(imm2, osz: osz, asz: addressSize)
                if let s = short(size2) { return fail(s) }
                ins.immediate2 = readImmediate(p + pos, size: size2, signed: value2)
                pos += size2
            }
        }

        let mnemonics = fp.pointee.mnemonics
        let which = flags.contains(.byAddressSize) ? addressSize : osz
        ins.mnemonicID = which == 2 ? mnemonics.0 : (which == 4 ? mnemonics.1 : mnemonics.2)
        ins.prefixes = pfx
        ins.lastRepeat = lastRep
        ins.length = UInt8(pos)
        ins.status = .valid
        return ins
    }

    /// Parses the three EVEX payload bytes after 62 (which `pos` points past); on success
    /// `pos` is at the opcode byte. Fields come out un-inverted as for VEX.
    @inline(never)
    private func decodeEVEX(_ p: UnsafePointer<UInt8>, _ count: Int, _ pos: inout Int, _ ins: inout Instruction,
                            _ pfx: inout Prefixes, rex: UInt8, _ ext: inout UInt8, _ vvvv: inout UInt8,
                            _ vvvvNot1111: inout Bool, _ vectorLength: inout UInt8, _ pclass: inout UInt32,
                            _ map: inout OpcodeMap) -> DecodeStatus? {
        // No 66/F2/F3/LOCK/REX before it.
        if rex != 0 || pfx.contains(.operandSize) || pfx.contains(.repe) || pfx.contains(.repne) || pfx.contains(.lock) {
            pos += 1
            return .invalid
        }
        if let s = shortage(pos, 4, count) { return s }
        let p0 = p[pos], p1 = p[pos + 1], p2 = p[pos + 2]
        pos += 3
        // P0 bits 3:2 are reserved (0); P1 bit 2 is fixed at 1. Maps 1-3 (5 and 6 are AVX512-FP16).
        if p0 & 0x0C != 0 || p1 & 0x04 == 0 { return .invalid }
        switch p0 & 3 {
        case 1: map = .evex0F
        case 2: map = .evex0F38
        case 3: map = .evex0F3A
        default: return .invalid
        }
        pfx.insert(.evex)
        ext = (~p0 >> 5) & 7 | (p1 & 0x80 != 0 ? 8 : 0) | (p0 & 0x10 == 0 ? 0x10 : 0)
        vvvv = (~p1 >> 3) & 0x0F | (p2 & 0x08 == 0 ? 0x10 : 0)
        if mode != .bits64 {
            // Outside 64-bit mode EVEX.R, X, B, R' and vvvv[3] are ignored, and V' must be 1 (as encoded).
            if vvvv & 0x10 != 0 { return .invalid }
            vvvvNot1111 = vvvv != 0
            ext &= 8
            vvvv &= 7
        } else {
            vvvvNot1111 = vvvv & 0x0F != 0
        }
        pclass = UInt32(p1 & 3)
        vectorLength = (p2 >> 5) & 3
        ins.evex = p2
        return nil
    }

    /// The EVEX rules the table cannot express: masking, broadcast, rounding and the
    /// register-extension bits that must be clear.
    @inline(never)
    private func checkEVEX(_ ins: Instruction, _ flags: FormFlags, vvvvNot1111: Bool) -> DecodeStatus? {
        let memory = ins.mod != 3
        if ins.opmask != 0 && !flags.contains(.mergeMask) { return .invalid }
        if ins.opmask == 0 && flags.contains(.maskRequired) { return .invalid }
        // Zeroing needs a writemask, and never applies to a memory destination.
        if ins.zeroing && (!flags.contains(.zeroMask) || ins.opmask == 0 || (memory && flags.contains(.rmDestination))) {
            return .invalid
        }
        if ins.evexB {
            if memory ? flags.isDisjoint(with: [.broadcast4, .broadcast8]) : flags.isDisjoint(with: [.rounding, .sae, .bIgnored]) {
                return .invalid
            }
        }
        // An unused vvvv (and V') must be 1111 (1) as encoded; with VSIB, V' extends the index instead.
        if !flags.contains(.usesVVVV) && (vvvvNot1111 || (!flags.contains(.vsib) && ins.vvvv & 0x10 != 0)) {
            return .invalid
        }
        // A general or opmask register in ModRM.reg has no fifth bit.
        if flags.contains(.regNotVector) && ins.ext & 0x10 != 0 { return .invalid }
        return nil
    }

    /// Parses SIB and displacement after a memory-form ModRM.
    @inline(__always)
    private func decodeMemory(_ ins: inout Instruction, _ p: UnsafePointer<UInt8>, _ count: Int, _ pos: inout Int) -> DecodeStatus? {
        @inline(__always) func short(_ n: Int) -> DecodeStatus? { shortage(pos, n, count) }
        let mod = ins.modrm >> 6
        let rm = ins.modrm & 7
        var dispSize = 0
        if ins.addressSize == 2 {
            if mod == 0 && rm == 6 { dispSize = 2 } else if mod == 1 { dispSize = 1 } else if mod == 2 { dispSize = 2 }
        } else {
            if rm == 4 {
                if let s = short(1) { return s }
                ins.sib = p[pos]
                ins.hasSIB = true
                pos += 1
                if mod == 0 && ins.sib & 7 == 5 { dispSize = 4 }
            }
            if mod == 0 && rm == 5 { dispSize = 4 } else if mod == 1 { dispSize = 1 } else if mod == 2 { dispSize = 4 }
        }
        if dispSize > 0 {
            if let s = short(dispSize) { return s }
            ins.displacement = Int64(bitPattern: readImmediate(p + pos, size: dispSize, signed: true))
            ins.displacementSize = UInt8(dispSize)
            pos += dispSize
        }
        return nil
    }
}

/// Whether `n` more bytes after `pos` are available: nil if so, else the
/// failure (past the 15-byte limit: invalid; past the input: truncated).
@inline(__always)
func shortage(_ pos: Int, _ n: Int, _ count: Int) -> DecodeStatus? {
    if pos + n > 15 { return .invalid }
    if pos + n > count { return .truncated }
    return nil
}

/// Byte count of an immediate operand, and whether it is sign-extended.
@inline(__always)
func immediateLayout(_ spec: OperandSpec, osz: UInt8, asz: UInt8) -> (Bool, Int) {
    switch spec.kind {
    case .I:
        switch spec.size {
        case .b: return (false, 1)
        case .ibs: return (true, 1)
        case .w: return (false, 2)
        case .d: return (false, 4)
        case .z: return (osz == 8, osz == 2 ? 2 : 4)
        case .v: return (false, Int(osz))
        default: return (false, 1)
        }
    case .J:
        return (true, spec.size == .b ? 1 : (osz == 2 ? 2 : 4))
    case .O:
        return (false, Int(asz))
    case .A:
        return (false, osz == 2 ? 2 : 4)
    default: // L: is4 register in imm8[7:4]
        return (false, 1)
    }
}

@inline(__always)
func readImmediate(_ p: UnsafePointer<UInt8>, size: Int, signed: Bool) -> UInt64 {
    switch size {
    case 1: return signed ? UInt64(bitPattern: Int64(Int8(bitPattern: p[0]))) : UInt64(p[0])
    case 2:
        let v = UInt16(p[0]) | UInt16(p[1]) << 8
        return signed ? UInt64(bitPattern: Int64(Int16(bitPattern: v))) : UInt64(v)
    case 4:
        let v = UInt32(p[0]) | UInt32(p[1]) << 8 | UInt32(p[2]) << 16 | UInt32(p[3]) << 24
        return signed ? UInt64(bitPattern: Int64(Int32(bitPattern: v))) : UInt64(v)
    default:
        var v: UInt64 = 0
        for i in 0..<8 { v |= UInt64(p[i]) << (8 * UInt64(i)) }
        return v
    }
}
