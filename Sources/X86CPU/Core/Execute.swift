import X86
import X86ISA
import X86Decoder

/// The interpreter's operations are the instruction-set description's mnemonics (X86ISA:
/// Semantics.swift says which family's handler runs each; Generated/Mnemonic.swift lists them).
typealias Op = Mnemonic

extension Mnemonic {
    var isX87: Bool { family == .x87 }
    /// SSE forms on XMM registers, integer or floating point.
    var isSSE: Bool { family == .sseInteger || family == .sseFloat }
    /// Handled by SSEFloat.swift.
    var isSSEFloat: Bool { family == .sseFloat }
    /// The general-register instructions that are VEX-encoded.
    var isBMI: Bool { family == .bmi }
    /// Handled by System.swift (privileged and mode-dependent instructions).
    var isSystem: Bool { family == .system }
    /// The instructions that exist only in MMX forms (MMX.swift).
    var isMMXOnly: Bool { family == .mmx }
    /// The condition code (0-15, as in Jcc's low nibble) of a Jcc/SETcc/CMOVcc.
    var condition: Int? { facts.condition >= 0 ? Int(facts.condition) : nil }
}

/// A resolved operand: a register (number and byte size, and whether it is AH-BH), or
/// memory at a linear address, or an immediate.
enum Place {
    case gpr(Int, size: Int, high: Bool)
    /// `stack`: addressed through RSP or RBP, so a non-canonical address is #SS rather than #GP.
    case memory(UInt64, size: Int, stack: Bool)
    case immediate(UInt64, size: Int)
}

// Masking shifts (&<<): a plain << checks its amount against the width on every use, and these
// run for every ALU instruction.
@inline(__always) func sizeMask(_ size: Int) -> UInt64 { size >= 8 ? ~0 : (1 &<< UInt64(truncatingIfNeeded: size &* 8)) &- 1 }
@inline(__always) func signBit(_ size: Int) -> UInt64 { 1 &<< UInt64(truncatingIfNeeded: size &* 8 &- 1) }
/// PF of a result: set for an even number of ones in its low byte (0x9669: even parity of a
/// nibble, after the byte's halves are folded into one).
@inline(__always) func parityFlag(_ r: UInt64) -> UInt64 {
    let nibble = (r ^ (r >> 4)) & 0xF
    return ((0x9669 &>> nibble) & 1) &* Flag.pf
}
@inline(__always) func signExtend(_ v: UInt64, _ size: Int) -> UInt64 {
    size >= 8 ? v : (v & signBit(size) != 0 ? v | ~sizeMask(size) : v & sizeMask(size))
}

extension CPU {
    // MARK: operands

    func place(_ op: Operand) -> Place {
        switch op {
        case .register(let r):
            switch r.kind {
            case .gpr8: return .gpr(Int(r.number), size: 1, high: false)
            case .gpr8High: return .gpr(Int(r.number), size: 1, high: true)
            case .gpr16: return .gpr(Int(r.number), size: 2, high: false)
            case .gpr32: return .gpr(Int(r.number), size: 4, high: false)
            default: return .gpr(Int(r.number), size: 8, high: false)
            }
        case .memory(let m): return .memory(linearAddress(m), size: m.size, stack: isStackAddressed(m))
        case .immediate(let v, let size): return .immediate(v, size: size)
        case .relative(let target): return .immediate(target, size: 8)
        case .farPointer(_, let offset): return .immediate(offset, size: 8)
        }
    }

    func linearAddress(_ m: MemoryOperand, segmented: Bool = true) -> UInt64 {
        var ea = UInt64(bitPattern: m.displacement)
        if let b = m.base {
            ea &+= b.kind == .instructionPointer ? state.rip : state.gpr[Int(b.number)]
        }
        if let i = m.index { ea &+= state.gpr[Int(i.number)] &* UInt64(m.scale) }
        if m.addressSize == 4 { ea &= 0xFFFF_FFFF } else if m.addressSize == 2 { ea &= 0xFFFF }
        guard segmented else { return ea }
        if state.legacySegmentation {
            let s = m.segment.map { Int($0.number) } ?? (isStackAddressed(m) ? 2 : 3)
            return (state.segmentBase(s) &+ ea) & 0xFFFF_FFFF
        }
        if let s = m.segment, s.number >= 4 { ea &+= state.segmentBase(Int(s.number)) }
        return ea
    }

    /// A segment's base as addressing uses it: in 64-bit mode only FS's and GS's apply.
    @inline(__always) func base(of segment: Int) -> UInt64 {
        state.legacySegmentation || segment >= 4 ? state.segmentBase(segment) : 0
    }

    /// The linear address of `offset` in `segment` (outside long mode it wraps at 4 GiB).
    @inline(__always) func linear(_ segment: Int, _ offset: UInt64) -> UInt64 {
        state.legacySegmentation ? (state.segmentBase(segment) &+ offset) & 0xFFFF_FFFF : base(of: segment) &+ offset
    }

    func read(_ p: Place) throws(CPUException) -> UInt64 {
        switch p {
        case .gpr(let n, let size, let high):
            return high ? (state.gpr[n] >> 8) & 0xFF : state.gpr[n] & sizeMask(size)
        case .memory(let a, let size, let stack):
            try checkCanonical(a, size, stack: stack)
            return try memory.read(a, size: size)
        case .immediate(let v, let size): return v & sizeMask(size)
        }
    }

    func size(_ p: Place) -> Int {
        switch p {
        case .gpr(_, let s, _), .memory(_, let s, _), .immediate(_, let s): return s
        }
    }

    /// Writes keep the upper bits for 8- and 16-bit registers and clear them for 32-bit ones.
    func write(_ p: Place, _ v: UInt64) throws(CPUException) {
        switch p {
        case .gpr(let n, let size, let high):
            let old = state.gpr[n]
            switch (size, high) {
            case (1, true): state.gpr[n] = (old & ~0xFF00) | (v & 0xFF) << 8
            case (1, false): state.gpr[n] = (old & ~0xFF) | (v & 0xFF)
            case (2, _): state.gpr[n] = (old & ~0xFFFF) | (v & 0xFFFF)
            case (4, _): state.gpr[n] = v & 0xFFFF_FFFF
            default: state.gpr[n] = v
            }
        case .memory(let a, let size, let stack):
            try checkCanonical(a, size, stack: stack)
            try store(a, size: size, value: v & sizeMask(size))
        case .immediate: preconditionFailure("write to an immediate")
        }
    }

    // MARK: flags

    @inline(__always)
    func setResultFlags(_ r: UInt64, _ size: Int) {
        let v = r & sizeMask(size)
        var f = state.rflags & ~(Flag.zf | Flag.sf | Flag.pf)
        if v == 0 { f |= Flag.zf }
        if v & signBit(size) != 0 { f |= Flag.sf }
        if (v & 0xFF).nonzeroBitCount & 1 == 0 { f |= Flag.pf }
        state.rflags = f
    }

    @inline(__always)
    func condition(_ cc: Int) -> Bool {
        let f = state.rflags
        let cf = f & Flag.cf != 0, zf = f & Flag.zf != 0, sf = f & Flag.sf != 0, of = f & Flag.of != 0, pf = f & Flag.pf != 0
        let r: Bool
        switch cc >> 1 {
        case 0: r = of
        case 1: r = cf
        case 2: r = zf
        case 3: r = cf || zf
        case 4: r = sf
        case 5: r = pf
        case 6: r = sf != of
        default: r = zf || sf != of
        }
        return cc & 1 == 0 ? r : !r
    }

    /// ADD/ADC/SUB/SBB/CMP and the logic operations: result and flags.
    @inline(__always)
    func arithmetic(_ op: Op, _ a: UInt64, _ b: UInt64, size: Int) -> UInt64 {
        let m = sizeMask(size)
        return alu(op, a & m, b & m, UInt8(size))
    }

    /// ADD/ADC/SUB/SBB/CMP and the logic operations on operands already masked to `size`:
    /// result and flags (the parity from a 16-entry bit table, the carry from the sum's bits).
    /// The fast forms call it with a constant size; `arithmetic` masks for the general path.
    @inline(__always)
    func alu(_ op: Op, _ a: UInt64, _ b: UInt64, _ size: UInt8) -> UInt64 {
        let bits = UInt64(size) &* 8
        let m = sizeMask(Int(size)), sb: UInt64 = 1 &<< (bits &- 1)
        let old = state.rflags
        var f = old & ~Flag.status
        let r: UInt64
        switch op {
        case .add, .adc:
            let c: UInt64 = op == .adc ? old & Flag.cf : 0
            let (sum, o1) = a.addingReportingOverflow(b)
            let (full, o2) = sum.addingReportingOverflow(c)
            r = full & m
            // Carry out of the top bit: the bit above the result, or the 64-bit overflow.
            let carry = size == 8 ? (o1 || o2 ? 1 : 0) : (full >> bits) & 1
            f |= carry * Flag.cf
            f |= ((a ^ r) & (b ^ r) & sb) != 0 ? Flag.of : 0
            f |= (a ^ b ^ r) & Flag.af
        case .sub, .sbb, .cmp:
            let c: UInt64 = op == .sbb ? old & Flag.cf : 0
            let full = a &- b &- c
            r = full & m
            let borrow = a < b || (a == b && c != 0)
            f |= borrow ? Flag.cf : 0
            f |= ((a ^ b) & (a ^ r) & sb) != 0 ? Flag.of : 0
            f |= (a ^ b ^ r) & Flag.af
        case .and, .test: r = a & b
        case .or: r = a | b
        default: r = a ^ b
        }
        f |= r == 0 ? Flag.zf : 0
        f |= (r & sb) != 0 ? Flag.sf : 0
        f |= parityFlag(r)
        state.rflags = f
        return r
    }

    /// `alu`'s result without its flags (they are dead: `FastForm.flagEffect`).
    @inline(__always)
    func aluValue(_ op: Op, _ a: UInt64, _ b: UInt64, _ size: UInt8) -> UInt64 {
        let m = sizeMask(Int(size))
        switch op {
        case .add: return (a &+ b) & m
        case .adc: return (a &+ b &+ (state.rflags & Flag.cf)) & m
        case .sub, .cmp: return (a &- b) & m
        case .sbb: return (a &- b &- (state.rflags & Flag.cf)) & m
        case .and, .test: return a & b
        case .or: return a | b
        default: return a ^ b
        }
    }

    /// Addressed through RSP or RBP (the SS segment): a non-canonical address is #SS, not #GP.
    @inline(__always) func isStackAddressed(_ m: MemoryOperand) -> Bool { m.base?.number == 4 || m.base?.number == 5 }

    /// The linear address of `m`, checked for a `size`-byte access: with `aligned16`, a
    /// misaligned 16-byte operand is #GP(0) (before the canonical check, as the host shows);
    /// then a non-canonical address is #SS(0) or #GP(0).
    func checkedAddress(_ m: MemoryOperand, size: Int, aligned16: Bool = false) throws(CPUException) -> UInt64 {
        let a = linearAddress(m)
        if aligned16 && size == 16 && a & 15 != 0 { throw .generalProtection(0) }
        try checkCanonical(a, size, stack: isStackAddressed(m))
        return a
    }

    /// A data access whose first or last byte is not canonical: #SS(0) through RSP/RBP, else #GP(0).
    @_transparent func checkCanonical(_ a: UInt64, _ size: Int, stack: Bool) throws(CPUException) {
        guard isCanonical(a), isCanonical(a &+ UInt64(size) &- 1) else {
            throw stack ? .stackFault(0) : .generalProtection(0)
        }
    }

    /// Every store the interpreter makes goes through here (self-modifying code is noticed).
    @inline(__always) func store(_ address: UInt64, size: Int, value: UInt64) throws(CPUException) {
        try memory.write(address, size: size, value: value)
        noteStore(address, size)
    }

    // MARK: stack

    // RSP has the stack's width (SP, ESP or RSP: SS.B outside 64-bit mode); the stack's linear
    // address adds SS's base outside 64-bit mode.

    func push(_ v: UInt64, size: Int) throws(CPUException) {
        let mask = state.stackMask
        let sp = (state.rsp &- UInt64(size)) & mask
        let a = linear(2, sp)
        try checkCanonical(a, size, stack: true)
        try store(a, size: size, value: v)
        state.rsp = (state.rsp & ~mask) | sp
    }

    func pop(size: Int) throws(CPUException) -> UInt64 {
        let mask = state.stackMask
        let sp = state.rsp & mask
        let a = linear(2, sp)
        try checkCanonical(a, size, stack: true)
        let v = try memory.read(a, size: size)
        state.rsp = (state.rsp & ~mask) | ((sp &+ UInt64(size)) & mask)
        return v
    }

    /// Sets the stack pointer at the stack's width.
    @inline(__always) func setStackPointer(_ v: UInt64) {
        let mask = state.stackMask
        state.rsp = (state.rsp & ~mask) | (v & mask)
    }

    // MARK: execute

    @inline(__always)
    func execute(_ entry: UnsafeMutablePointer<DecodedInstruction>) throws(CPUException) {
        let ins = entry.pointee.ins
        let next = state.rip &+ UInt64(ins.length)
        let ops = entry.pointee.operands
        let op = entry.pointee.op
        let osz = Int(ins.operandSize)
        let decoded = (condition: entry.pointee.condition, conditionKind: entry.pointee.conditionKind)
        // RIP-relative operands count from the next instruction.
        let savedRip = state.rip
        state.rip = next
        do throws(CPUException) {
            if decoded.condition >= 0 {
                try conditional(Int(decoded.condition), decoded.conditionKind, ops, osz)
            } else {
                switch entry.pointee.unit {
                case .general: try dispatch(op, ins, ops, osz)
                case .x87: try x87(op, ins, ops)
                case .sseFloat: try sseFloat(op, ins, ops)
                case .sse: try sse(op, ins, ops)
                case .mmx: try mmx(op, ins, ops)
                case .system:
                    if op == .mov || op == .push || op == .pop { try moveSystemRegister(op, ins, ops, osz) } else { try system(op, ins, ops, osz) }
                }
            }
        } catch {
            state.rip = savedRip
            throw error
        }
    }

    func dispatch(_ op: Op, _ ins: Instruction, _ ops: OperandList, _ osz: Int) throws(CPUException) {
        switch op {
        case .add, .or, .adc, .sbb, .and, .sub, .xor, .cmp, .test:
            let d = place(ops[0]), s = place(ops[1])
            let size = self.size(d)
            let a = try read(d), b = signExtend(try read(s), self.size(s)) & sizeMask(size)
            let saved = state.rflags
            let r = arithmetic(op, a, b, size: size)
            if op != .cmp && op != .test {
                do throws(CPUException) { try write(d, r) } catch { state.rflags = saved; throw error }
            }
        case .inc, .dec:
            let d = place(ops[0]), size = self.size(d)
            let a = try read(d)
            let cf = state.rflags & Flag.cf
            let saved = state.rflags
            let r = arithmetic(op == .inc ? .add : .sub, a, 1, size: size)
            state.rflags = (state.rflags & ~Flag.cf) | cf
            do throws(CPUException) { try write(d, r) } catch { state.rflags = saved; throw error }
        case .neg:
            let d = place(ops[0]), size = self.size(d)
            let a = try read(d)
            let saved = state.rflags
            let r = arithmetic(.sub, 0, a, size: size)
            do throws(CPUException) { try write(d, r) } catch { state.rflags = saved; throw error }
        case .not:
            let d = place(ops[0])
            try write(d, ~(try read(d)))
        case .mov:
            let d = place(ops[0]), s = place(ops[1])
            try write(d, signExtend(try read(s), self.size(s)))
        case .movzx:
            try write(place(ops[0]), try read(place(ops[1])))
        case .movsx, .movsxd:
            let s = place(ops[1])
            try write(place(ops[0]), signExtend(try read(s), size(s)))
        case .lea:
            guard case .memory(let m) = ops[1] else { throw .invalidOpcode }
            try write(place(ops[0]), linearAddress(m, segmented: false))
        case .xchg:
            let a = place(ops[0]), b = place(ops[1])
            let va = try read(a), vb = try read(b)
            try write(a, vb)
            try write(b, va)
        case .bswap:
            let d = place(ops[0])
            let v = try read(d)
            try write(d, size(d) == 8 ? v.byteSwapped : UInt64(UInt32(truncatingIfNeeded: v).byteSwapped))
        case .nop:
            break
        case .push:
            let s = place(ops[0])
            let v = signExtend(try read(s), size(s))
            try push(v, size: osz)
        case .pop:
            // A memory destination based on RSP is addressed with RSP already incremented.
            let rsp = state.rsp
            let v = try pop(size: osz)
            let d = place(ops[0])
            do throws(CPUException) { try write(d, v) } catch { state.rsp = rsp; throw error }
        case .jmp:
            state.rip = try target(ops[0], osz)
        case .call:
            let t = try target(ops[0], osz)
            try push(state.rip, size: osz)
            state.rip = t
        case .ret:
            let rsp = state.rsp
            let t = try pop(size: osz)
            guard isCanonical(t) else { state.rsp = rsp; throw .generalProtection(0) }
            if let imm = ops.first, case .immediate(let n, _) = imm { setStackPointer(state.rsp &+ (n & 0xFFFF)) }
            state.rip = t
        case .jcxz, .jecxz, .jrcxz, .loop, .loope, .loopne:
            let asz = Int(ins.addressSize)
            var count = state.rcx & sizeMask(asz)
            if op == .loop || op == .loope || op == .loopne {
                count = (count &- 1) & sizeMask(asz)
                try write(.gpr(GPR.rcx, size: asz, high: false), count)
            }
            let taken: Bool
            switch op {
            case .loop: taken = count != 0
            case .loope: taken = count != 0 && state.flag(Flag.zf)
            case .loopne: taken = count != 0 && !state.flag(Flag.zf)
            default: taken = count == 0
            }
            if taken { state.rip = try target(ops[0], osz) }
        case .rol, .ror, .rcl, .rcr, .shl, .sal, .shr, .sar:
            try shift(op, ops)
        case .mul, .imul, .div, .idiv:
            try multiplyDivide(op, ops, osz)
        case .cbw: state.rax = (state.rax & ~0xFFFF) | (signExtend(state.rax & 0xFF, 1) & 0xFFFF)
        case .cwde: state.rax = signExtend(state.rax & 0xFFFF, 2) & 0xFFFF_FFFF
        case .cdqe: state.rax = signExtend(state.rax & 0xFFFF_FFFF, 4)
        case .cwd: state.rdx = (state.rdx & ~0xFFFF) | (state.rax & 0x8000 != 0 ? 0xFFFF : 0)
        case .cdq: state.rdx = state.rax & 0x8000_0000 != 0 ? 0xFFFF_FFFF : 0
        case .cqo: state.rdx = state.rax & (1 << 63) != 0 ? ~0 : 0
        case .daa, .das, .aaa, .aas, .aam, .aad:
            try decimalAdjust(op, ops)
        case .salc:
            setALFromCarry()
        case .clc: state.set(Flag.cf, false)
        case .stc: state.set(Flag.cf, true)
        case .cmc: state.set(Flag.cf, !state.flag(Flag.cf))
        case .cld: state.set(Flag.df, false)
        case .std: state.set(Flag.df, true)
        case .lahf: state.rax = (state.rax & ~0xFF00) | ((state.rflags & 0xD5) | 2) << 8
        case .sahf: state.rflags = (state.rflags & ~0xD5) | ((state.rax >> 8) & 0xD5)
        case .bt, .bts, .btr, .btc:
            try bitTest(op, ops)
        case .movsb, .movsw, .movsd, .movsq, .cmpsb, .cmpsw, .cmpsd, .cmpsq, .stosb, .stosw, .stosd, .stosq,
             .lodsb, .lodsw, .lodsd, .lodsq, .scasb, .scasw, .scasd, .scasq:
            // (The SSE2 movsd/cmpsd never get here: interpreterImplements admits only the legacy map.)
            try string(op, ins)
        case .xadd, .cmpxchg, .cmpxchg8b, .cmpxchg16b:
            try exchange(op, ops, ins)
        case .shld, .shrd:
            try doubleShift(op, ops)
        case .popcnt, .tzcnt, .lzcnt:
            try count(op, ops)
        case .movbe:
            let d = place(ops[0]), s = place(ops[1]), v = try read(s)
            let swapped = v.byteSwapped >> UInt64(64 - size(s) * 8)
            try write(d, swapped)
        case .crc32:
            try crc32(ops)
        case .leave:
            let rsp = state.rsp
            setStackPointer(state.rbp)
            do throws(CPUException) {
                let v = try pop(size: osz)
                try write(.gpr(GPR.rbp, size: osz, high: false), v)
            } catch { state.rsp = rsp; throw error }
        case .andn, .bextr, .blsi, .blsmsk, .blsr, .bzhi, .pdep, .pext, .rorx, .sarx, .shlx, .shrx, .mulx, .adcx, .adox:
            try bitManipulation(op, ops)
        case .cpuid, .rdtsc, .rdtscp, .rdrand, .rdseed:
            try identification(op, ops)
        case .pushf, .pushfd, .pushfq:
            try pushFlags(osz)
        case .popf, .popfd, .popfq:
            try popFlags(osz)
        case .enter:
            // ENTER size, level (SDM vol. 2): push rBP, copy level - 1 frame pointers from the old
            // frame, push the new frame pointer, then allocate `size` bytes. 64-bit mode: 8 or 2 bytes.
            guard case .immediate(let allocation, _) = ops[0], case .immediate(let levelImm, _) = ops[1] else { throw .invalidOpcode }
            let width = osz
            let level = Int(levelImm & 31)
            let rsp0 = state.rsp, rbp0 = state.rbp
            do throws(CPUException) {
                try push(state.rbp & sizeMask(width), size: width)
                let frame = state.rsp
                if level > 0 {
                    var rbp = state.rbp
                    for _ in 1..<max(level, 1) {
                        if state.legacySegmentation {
                            rbp = (rbp &- UInt64(width)) & state.stackMask
                            try push(try memory.read(linear(2, rbp), size: width), size: width)
                            continue
                        }
                        rbp = width == 8 ? rbp &- 8 : (rbp & ~0xFFFF) | ((rbp &- 2) & 0xFFFF)
                        try push(try memory.read(width == 8 ? rbp : (rbp & 0xFFFF) | (state.rbp & ~0xFFFF), size: width), size: width)
                    }
                    try push(frame & sizeMask(width), size: width)
                }
                // The host CPU checks that the new stack top can be written (a fault leaves ENTER undone).
                let top = (state.rsp &- (allocation & 0xFFFF)) & state.stackMask
                let topLinear = linear(2, top)
                try store(topLinear, size: width, value: try memory.read(topLinear, size: width))
                try write(.gpr(GPR.rbp, size: width, high: false), frame)
                setStackPointer(top)
            } catch {
                state.rsp = rsp0
                state.rbp = rbp0
                throw error
            }
        case .bsf, .bsr:
            let s = place(ops[1]), v = try read(s)
            let saved = state.rflags
            if v == 0 {
                state.set(Flag.zf, true)
            } else {
                state.set(Flag.zf, false)
                let bit = op == .bsf ? UInt64(v.trailingZeroBitCount) : UInt64(63 - v.leadingZeroBitCount)
                do throws(CPUException) { try write(place(ops[0]), bit) } catch { state.rflags = saved; throw error }
            }
        default:
            if op.isX87 { return try x87(op, ins, ops) }
            guard op.isSSE else { throw .invalidOpcode }
            if op.isSSEFloat { try sseFloat(op, ins, ops) } else { try sse(op, ins, ops) }
        }
    }

    /// Jcc, SETcc, CMOVcc (`kind` 0, 1, 2).
    @inline(__always)
    func conditional(_ cc: Int, _ kind: UInt8, _ ops: OperandList, _ osz: Int) throws(CPUException) {
        let taken = condition(cc)
        switch kind {
        case 0:
            if taken { state.rip = try target(ops[0], osz) }
        case 1:
            try write(place(ops[0]), taken ? 1 : 0)
        default:
            // CMOVcc reads its source either way; a 32-bit destination is zero-extended either way.
            let d = place(ops[0]), v = try read(place(ops[1]))
            try write(d, taken ? v : try read(d))
        }
    }

    /// A near branch's target; a non-canonical one is #GP(0) on the branch itself.
    func target(_ op: Operand, _ osz: Int) throws(CPUException) -> UInt64 {
        var t: UInt64
        switch op {
        case .relative(let r): t = r
        default:
            t = try read(place(op))
            if osz == 2 { t &= 0xFFFF }
        }
        guard isCanonical(t) else { throw .generalProtection(0) }
        return t
    }

    /// Canonical for the paging in use: bits 63:47 all equal, or 63:56 with CR4.LA57.
    @inline(__always) func isCanonical(_ a: UInt64) -> Bool {
        X86.isCanonical(a, bits: 48 &+ Int(truncatingIfNeeded: (state.cr4 >> 12) & 1) &* 9)
    }

    /// Canonical for the processor's widest linear address whatever CR4.LA57 says: what
    /// WRMSR, WRFSBASE, LGDT/LIDT, system-descriptor bases and TLB invalidations check
    /// (hardware with five-level paging accepts 57-bit addresses there even under 4-level paging).
    func isCanonicalForProcessor(_ a: UInt64) -> Bool { X86.isCanonical(a, bits: linearBits) }
}
