import X86

/// A memory operand: segment:[base + index*scale + displacement].
public struct MemoryOperand: Hashable, Sendable {
    /// Explicit or implied segment register; nil for the default of the base.
    public var segment: Register?
    public var base: Register?
    public var index: Register?
    public var scale: UInt8
    public var displacement: Int64
    /// Access size in bytes; 0 when the instruction does not access memory
    /// by size (LEA, prefetch hints, XSAVE areas).
    public var size: Int
    public var addressSize: UInt8
}

/// One operand of a decoded instruction, for people, the checker and the MMIO-assist emulator.
public enum Operand: Hashable, Sendable {
    case register(Register)
    case memory(MemoryOperand)
    /// An immediate, already sign- or zero-extended as the instruction uses it, and its size in bytes.
    case immediate(UInt64, size: Int)
    /// A branch target (next RIP + displacement, wrapped to the operand size).
    case relative(target: UInt64)
    /// A far pointer immediate (ptr16:16 / ptr16:32).
    case farPointer(selector: UInt16, offset: UInt64)
}

extension Instruction {
    /// Operands in Intel order (destination first). `address` is where the
    /// instruction sits, for relative targets.
    public func operands(address: UInt64 = 0) -> [Operand] {
        guard status == .valid else { return [] }
        let t = DecoderTables.shared
        let form = t.formPtr[Int(form)]
        var out: [Operand] = []
        out.reserveCapacity(Int(form.operandCount))
        var immIndex = 0
        for k in 0..<Int(form.operandCount) {
            let spec = t.operandPtr[Int(form.operandStart) + k]
            if let op = operand(spec, address: address, immIndex: &immIndex) { out.append(op) }
            // An EVEX writemask follows the destination, as {k1} does in Intel syntax.
            if k == 0 && opmask != 0 { out.append(.register(Register(.mask, opmask))) }
        }
        return out
    }

    // Register numbers with their REX/VEX extensions.
    var regField: Int { Int(reg) | (ext & 4 != 0 ? 8 : 0) }
    var rmField: Int { Int(rm) | (ext & 1 != 0 ? 8 : 0) }
    // Vector registers: EVEX.R' is the fifth bit of reg, and EVEX.X that of a register rm.
    var vectorRegField: Int { regField | (ext & 0x10 != 0 ? 16 : 0) }
    var vectorRmField: Int { rmField | (prefixes.contains(.evex) && ext & 2 != 0 ? 16 : 0) }

    /// Byte size of a register-or-memory operand of `size` code.
    func byteSize(_ size: SizeCode, memory: Bool) -> Int {
        let vec = 16 << Int(vectorLength & 3)
        switch size {
        case .none: return 0
        case .b: return 1
        case .w: return 2
        case .d: return 4
        case .q: return 8
        case .dq: return 16
        case .qq: return 32
        case .t: return 10
        case .v: return Int(operandSize)
        case .z: return operandSize == 2 ? 2 : 4
        case .y: return (mode == .bits64 && ext & 8 != 0) ? 8 : 4
        case .a: return 2 * Int(operandSize)
        case .p: return 2 + Int(operandSize)
        case .s: return mode == .bits64 ? 10 : 6
        case .m: return mode == .bits64 ? 8 : 4
        case .vw: return memory ? 2 : Int(operandSize)
        case .dw: return memory ? 2 : 4
        case .db: return memory ? 1 : 4
        case .zw: return memory ? 2 : (operandSize == 2 ? 2 : 4)
        case .zd: return memory ? 4 : (operandSize == 2 ? 2 : 4)
        case .x: return vec
        case .xq: return memory && vectorLength == 0 ? 8 : vec
        case .zm: return 64
        case .h: return vec / 2
        case .qtr: return vec / 4
        case .oct: return vec / 8
        // Save areas are reported unsized: they are not loaded or stored as one value.
        case .env, .state, .fx512: return 0
        case .xs: return 0
        case .ibs: return Int(operandSize)
        case .iv: return Int(operandSize)
        case .asz: return Int(addressSize)
        case .k384: return 48
        case .k512: return 64
        }
    }

    /// The XMM, YMM or ZMM register holding a vector operand of `size` code.
    func vectorRegister(_ number: Int, _ size: SizeCode) -> Register {
        let bytes = size == .xq ? byteSize(.x, memory: false) : byteSize(size, memory: false)
        return Register(bytes > 32 ? .zmm : (bytes > 16 ? .ymm : .xmm), UInt8(number))
    }

    /// Bytes the ModRM memory operand `spec` accesses (per element for VSIB), before any broadcast.
    func memoryAccessSize(_ spec: OperandSpec) -> Int {
        spec.kind == .vsib ? vsibElementSize(spec) : byteSize(spec.size, memory: true)
    }

    func gpr(_ number: Int, _ size: SizeCode) -> Register {
        Register.gpr(number, size: byteSize(size, memory: false), rex: hasREX)
    }

    /// The memory operand named by ModRM (and SIB), of `size` bytes.
    func modrmMemory(size: Int) -> MemoryOperand {
        var m = MemoryOperand(segment: nil, base: nil, index: nil, scale: 1,
                              displacement: displacement, size: size, addressSize: addressSize)
        if segmentOverride != 0xFF { m.segment = Register(.segment, segmentOverride) }
        let asz = Int(addressSize)
        if addressSize == 2 {
            let bases: [(Int?, Int?)] = [(3, 6), (3, 7), (5, 6), (5, 7), (6, nil), (7, nil), (5, nil), (3, nil)]
            if mod == 0 && rm == 6 { return m }
            let (b, i) = bases[Int(rm)]
            if let b { m.base = Register.gpr(b, size: 2) }
            if let i { m.index = Register.gpr(i, size: 2) }
            return m
        }
        if hasSIB {
            let base = Int(sib & 7) | (ext & 1 != 0 ? 8 : 0)
            let index = Int((sib >> 3) & 7) | (ext & 2 != 0 ? 8 : 0)
            m.scale = 1 << (sib >> 6)
            if index != 4 { m.index = Register.gpr(index, size: asz) }
            if !(mod == 0 && sib & 7 == 5) { m.base = Register.gpr(base, size: asz) }
        } else if mod == 0 && rm == 5 {
            if mode == .bits64 { m.base = addressSize == 8 ? .rip : .eip }
        } else {
            m.base = Register.gpr(rmField, size: asz)
        }
        return m
    }

    private func stringOperand(source: Bool, size: Int) -> MemoryOperand {
        let asz = Int(addressSize)
        var m = MemoryOperand(segment: nil, base: Register.gpr(source ? 6 : 7, size: asz), index: nil,
                              scale: 1, displacement: 0, size: size, addressSize: addressSize)
        if source {
            if segmentOverride != 0xFF { m.segment = Register(.segment, segmentOverride) }
        } else {
            m.segment = Register(.segment, 0) // ES, not overridable
        }
        return m
    }

    private func operand(_ spec: OperandSpec, address: UInt64, immIndex: inout Int) -> Operand? {
        let isMem = hasModRM && mod != 3
        switch spec.kind {
        case .none:
            return nil
        case .E, .M, .R:
            if isMem && spec.kind != .R { return .memory(modrmMemory(size: byteSize(spec.size, memory: true))) }
            return .register(gpr(rmField, spec.size))
        case .G:
            return .register(gpr(regField, spec.size))
        case .B:
            return .register(gpr(Int(vvvv), spec.size))
        case .Z:
            return .register(gpr(Int(opcode & 7) | (ext & 1 != 0 ? 8 : 0), spec.size))
        case .fixedGPR:
            return .register(Register.gpr(Int(spec.number), size: byteSize(spec.size, memory: false), rex: false))
        case .fixedSegment:
            return .register(Register(.segment, spec.number))
        case .S:
            return .register(Register(.segment, reg))
        case .C:
            return .register(Register(.control, UInt8(regField)))
        case .D:
            return .register(Register(.debug, UInt8(regField)))
        case .P:
            return .register(Register(.mmx, reg))
        case .N:
            return .register(Register(.mmx, rm))
        case .Q:
            if isMem { return .memory(modrmMemory(size: byteSize(spec.size, memory: true))) }
            return .register(Register(.mmx, rm))
        case .V:
            return .register(vectorRegister(vectorRegField, spec.size))
        case .H:
            return .register(vectorRegister(Int(vvvv), spec.size))
        case .U:
            return .register(vectorRegister(vectorRmField, spec.size))
        case .W:
            if isMem {
                // An EVEX broadcast reads one element.
                let size = evexB ? (formFlags.contains(.broadcast8) ? 8 : 4) : byteSize(spec.size, memory: true)
                return .memory(modrmMemory(size: size))
            }
            return .register(vectorRegister(vectorRmField, spec.size))
        case .L:
            let imm = immIndex == 0 ? immediate : immediate2
            immIndex += 1
            var n = Int(imm >> 4) & 15
            if mode != .bits64 { n &= 7 }
            return .register(vectorRegister(n, spec.size))
        case .KG:
            return .register(Register(.mask, reg))
        case .KR:
            return .register(Register(.mask, rm))
        case .KE:
            if isMem { return .memory(modrmMemory(size: byteSize(spec.size, memory: true))) }
            return .register(Register(.mask, rm))
        case .KH:
            return .register(Register(.mask, vvvv & 7))
        case .Im4:
            return .immediate(immediate & 0xF, size: 1)
        case .vsib:
            var m = modrmMemory(size: 0)
            let index = Int((sib >> 3) & 7) | (ext & 2 != 0 ? 8 : 0) | Int(vvvv & 0x10)
            m.index = vectorRegister(index, spec.size)
            m.size = vsibElementSize(spec)
            return .memory(m)
        case .st0:
            return .register(Register(.x87, 0))
        case .STi:
            return .register(Register(.x87, rm))
        case .xmm0:
            return .register(Register(.xmm, 0))
        case .X:
            return .memory(stringOperand(source: true, size: byteSize(spec.size, memory: true)))
        case .Y:
            return .memory(stringOperand(source: false, size: byteSize(spec.size, memory: true)))
        case .one:
            return .immediate(1, size: 1)
        case .I:
            let value = immIndex == 0 ? immediate : immediate2
            immIndex += 1
            let size: Int
            switch spec.size {
            case .ibs, .z, .v: size = Int(operandSize)
            case .w: size = 2
            case .d: size = 4
            default: size = 1
            }
            return .immediate(value, size: size)
        case .J:
            immIndex += 1
            var target = address &+ UInt64(length) &+ immediate
            // 64-bit mode: near branches are 64-bit (f64); XBEGIN with a 32-bit operand size still is.
            if operandSize == 2 { target &= 0xFFFF } else if mode != .bits64 { target &= 0xFFFF_FFFF }
            return .relative(target: target)
        case .O:
            immIndex += 1
            var m = MemoryOperand(segment: nil, base: nil, index: nil, scale: 1,
                                  displacement: Int64(bitPattern: immediate),
                                  size: byteSize(spec.size, memory: true), addressSize: addressSize)
            if segmentOverride != 0xFF { m.segment = Register(.segment, segmentOverride) }
            return .memory(m)
        case .A:
            immIndex += 1
            return .farPointer(selector: UInt16(truncatingIfNeeded: immediate2), offset: immediate)
        }
    }

    /// Bytes accessed per gathered element.
    private func vsibElementSize(_ spec: OperandSpec) -> Int {
        ext & 8 != 0 ? 8 : 4
    }
}
