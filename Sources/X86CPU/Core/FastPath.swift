import X86
import X86Decoder

/// A memory operand resolved at decode, for 64-bit mode: displacement (a RIP-relative
/// address already made absolute: the cache entry belongs to one RIP), base and index register
/// numbers (`none` when absent), the index's scale as a shift, FS or GS (4, 5) or 0 for a
/// segment without a base, a 32-bit address size, and whether the SS segment applies (RSP or
/// RBP base: a non-canonical address is then #SS, not #GP).
@_spi(Translator) public struct FastAddress: Sendable {
    /// No base or index register: `RegisterFile.noRegister`, the general registers' slot 16.
    @_spi(Translator) public static let none: UInt8 = 16
    @_spi(Translator) public var displacement: UInt64 = 0
    @_spi(Translator) public var base: UInt8 = FastAddress.none
    @_spi(Translator) public var index: UInt8 = FastAddress.none
    @_spi(Translator) public var scale: UInt8 = 0
    @_spi(Translator) public var segment: UInt8 = 0
    @_spi(Translator) public var address32 = false
    @_spi(Translator) public var stack = false

    init() {}

    /// Nil for what the fast path does not resolve (16-bit addressing).
    init?(_ m: MemoryOperand, rip: UInt64, length: Int) {
        guard m.addressSize == 8 || m.addressSize == 4 else { return nil }
        displacement = UInt64(bitPattern: m.displacement)
        base = FastAddress.none
        index = FastAddress.none
        if let b = m.base {
            if b.kind == .instructionPointer {
                displacement &+= rip &+ UInt64(length)
            } else {
                base = b.number
            }
        }
        if let i = m.index { index = i.number }
        scale = UInt8(m.scale.trailingZeroBitCount)
        segment = m.segment.map { $0.number >= 4 ? $0.number : 0 } ?? 0
        address32 = m.addressSize == 4
        if address32 { displacement &= 0xFFFF_FFFF }
        stack = base == 4 || base == 5
    }
}

/// The operation of a fast form that keeps its operation as data (the ALU forms of 8- and
/// 16-bit or memory operands, shifts and rotates other than the commonest).
@_spi(Translator) public enum FastOp: UInt8, Sendable {
    case add, or, adc, sbb, and, sub, xor, cmp, test, shl, shr, sar, rol, ror

    init?(_ op: Op) {
        switch op {
        case .add: self = .add
        case .or: self = .or
        case .adc: self = .adc
        case .sbb: self = .sbb
        case .and: self = .and
        case .sub: self = .sub
        case .xor: self = .xor
        case .cmp: self = .cmp
        case .test: self = .test
        case .shl, .sal: self = .shl
        case .shr: self = .shr
        case .sar: self = .sar
        case .rol: self = .rol
        case .ror: self = .ror
        default: return nil
        }
    }

    @inline(__always) var mnemonic: Op {
        switch self {
        case .add: .add
        case .or: .or
        case .adc: .adc
        case .sbb: .sbb
        case .and: .and
        case .sub: .sub
        case .xor: .xor
        case .cmp: .cmp
        case .test: .test
        case .shl: .shl
        case .shr: .shr
        case .sar: .sar
        case .rol: .rol
        default: .ror
        }
    }

    /// CMP and TEST write only the flags.
    @_spi(Translator) @inline(__always) public var writesResult: Bool { self != .cmp && self != .test }
}

/// What a fast form does: one kind per operation, and for the commonest shapes (64- and
/// 32-bit ALU operations on registers, Jcc) one per operation, operand size and condition, so
/// that executing one is a single dispatch with every size a constant.
@_spi(Translator) public enum FastKind: UInt8, Sendable {
    case none
    /// ALU register, register: 64-bit, then 32-bit, in `FastOp` order (add to test). The
    /// first operand comes from register `x` (`d`, or the source of a MOV fused in front:
    /// `fusedMove`), the result goes to `d`.
    case add64, or64, adc64, sbb64, and64, sub64, xor64, cmp64, test64
    case add32, or32, adc32, sbb32, and32, sub32, xor32, cmp32, test32
    /// ALU register, immediate (`imm`, sign-extended and masked to the size; first operand
    /// from `x` as above).
    case add64i, or64i, adc64i, sbb64i, and64i, sub64i, xor64i, cmp64i, test64i
    case add32i, or32i, adc32i, sbb32i, and32i, sub32i, xor32i, cmp32i, test32i
    /// ALU of 8- or 16-bit registers (`op`, `d`, `s` or `imm`, `size`), and with memory
    /// (64-bit mode: register from memory, memory from a register or an immediate).
    case aluRR, aluRI, aluRM, aluMR, aluMI
    /// ALU of AH, CH, DH or BH (bits 15:8 of register `d`, 0-3) with an immediate (`op`, `imm`).
    case aluHighRI
    /// CMP and TEST of memory with a register (`s`) or an immediate, `size` bytes (64-bit mode).
    case cmpMR, cmpMI, testMR, testMI
    /// MOV register, register (`size` 4 or 8) and register, immediate (already masked).
    case movRR, movRI
    /// MOV of an immediate into a byte or word register `d` (a low-byte one): the rest stays.
    case movRINarrow
    /// MOV/MOVZX (`load`: into a byte or word register) and MOVSX/MOVSXD (`loadSigned`)
    /// register, memory: `d` of `size` bytes from `x` bytes; `extend`/`extendSigned` the same from register `s`.
    case load, loadSigned, extend, extendSigned
    /// MOV/MOVZX into a 32- or 64-bit register `d` of 1, 2, 4 or 8 bytes, zero-extended (a
    /// `load` whose sizes are constants; `x` is the source size as there).
    case load8, load16, load32, load64
    /// MOV memory, register (`s`) or immediate, `size` bytes.
    case store, storeImm
    /// LEA: `d` of `size` bytes, the unsegmented address.
    case lea
    /// (NOT: of register `x`, `d` or a fused MOV's source, into `d`.)
    case inc, dec, not, neg
    /// INC and DEC of memory, `size` bytes (64-bit mode).
    case incM, decM
    /// SHL/SHR/SAR of a 64-bit register, ROL/ROR of a 64- or 32-bit one, by a constant (`x`:
    /// the masked count, not 0), of register `s` (`d`, or a fused MOV's source) into `d`.
    case shl64, shr64, sar64, rol64, ror64, rol32, ror32
    /// SHL/SHR/SAR of a 32-bit register by a constant (`op`, `x`; from `s` into `d` as
    /// above) or of a byte or word register by one below its width (`size`; `s` is `d`: the
    /// rest of the register stays), and the shifts and rotates of 32- and 64-bit registers by
    /// CL (`op`, `size`).
    case shift, shiftCL
    /// SHL/SHR/SAR of memory, `size` bytes, by a constant `x` (not 0, below the width).
    case shiftM
    /// IMUL `d`, `s` (of `x` and `s`: `x` is `d` or a fused MOV's source) and IMUL `d`, `s`,
    /// `imm`; MUL `s` into RDX:RAX or EDX:EAX. `size` 4 or 8.
    case imul, imulImm, mul
    /// 64-bit PUSH of `s`, `imm` or memory, POP into `d`; 64-bit LEAVE.
    case push, pushImm, pushM, pop, leave
    /// 64-bit near CALL and JMP to `imm` or through register `s`, RET.
    case call, callReg, ret, jmp, jmpReg
    /// Jcc rel to `imm`, one kind per condition (in the condition code's order).
    case jo, jno, jb, jae, je, jne, jbe, ja, js, jns, jp, jnp, jl, jge, jle, jg
    /// NOP in any of its lengths (ENDBR32/ENDBR64 run as NOP too).
    case nop
    /// SETcc of a low-byte register `d` (condition `x`); CMOVcc `d`, `s` or memory (`size` 4
    /// or 8).
    case setcc, cmov, cmovLoad
    /// BSWAP of `d` (`size` 4 or 8); CDQE; CQO.
    case bswap, cdqe, cqo
    /// SWAPGS, CLAC and STAC (64-bit mode): what a system call's entry and exit do besides
    /// SYSCALL and SYSRET, which end a block.
    case swapgs, clac, stac
    /// XADD and CMPXCHG of memory with register `s`, `size` 4 or 8 (64-bit mode; LOCK or
    /// not: vCPUs take turns): the kernel's atomics, which would otherwise end a block.
    case xaddM, cmpxchgM
    /// BT, BTS, BTR and BTC (`x` 0-3) of register `d` or of memory (`bitM`), `size` 4 or 8, by
    /// register `s` or, when `s` is `FastAddress.none`, by `imm`: CF takes the bit, the other
    /// flags stay. By a register, memory is a bit string (the offset's upper bits move the
    /// address).
    case bitR, bitM
    /// 64-bit PUSHF: RFLAGS with RF and VM clear.
    case pushf
    /// CLI (64-bit mode): #GP(0) above IOPL. Clearing IF only makes fewer interrupts
    /// deliverable, and none becomes pending inside a block (the budget ends it at the next
    /// event): the run loop would find nothing between the block's instructions that it does
    /// not find after it. (STI, which opens an interrupt window, ends a block.)
    case cli
    /// Ends a block's forms (no instruction): `FastExit.end`.
    case blockEnd
}

extension FastKind {
    /// The kind of a zero-extending load of `from` bytes into a register of `into` bytes.
    static func load(from: UInt8, into: UInt8) -> FastKind {
        guard into >= 4 else { return .load }
        switch from {
        case 1: return .load8
        case 2: return .load16
        case 4: return .load32
        default: return .load64
        }
    }
}

/// What running a fast form tells the block it belongs to (`CPU.executeFast`'s result, bits).
@_spi(Translator) public enum FastExit {
    /// It wrote RIP (a branch taken).
    @_spi(Translator) public static let jumped: UInt8 = 1
    /// It stored into decoded code: what follows may be stale.
    @_spi(Translator) public static let codeWritten: UInt8 = 2
    /// The block's forms ended (`FastKind.blockEnd`).
    @_spi(Translator) public static let end: UInt8 = 4
}

/// The commonest instruction shapes, resolved at decode so that executing them needs no
/// operand resolution and one dispatch: register, immediate and (in 64-bit mode) memory forms
/// of the ALU family, MOV, MOVZX/MOVSX, LEA, INC/DEC/NOT/NEG, shifts and rotates, IMUL/MUL,
/// PUSH/POP, near CALL/RET/JMP (relative and through a register), Jcc, SETcc, CMOVcc, BSWAP,
/// CDQE, CQO and NOP. Everything else takes the general path (`kind` `.none`).
///
/// Plain data of 32 bytes: blocks keep their instructions' forms in one flat array. Register
/// numbers are 0-15, sizes in bytes (8-bit forms only with the low-byte registers; AH-BH take
/// the general path).
@_spi(Translator) public struct FastForm: Sendable {
    @_spi(Translator) public var kind: FastKind = .none
    /// Destination and source register numbers.
    @_spi(Translator) public var d: UInt8 = 0, s: UInt8 = 0
    /// The operand size in bytes.
    @_spi(Translator) public var size: UInt8 = 8
    /// A condition code, a constant shift count, or a load's source size.
    @_spi(Translator) public var x: UInt8 = 0
    /// The instruction's length.
    @_spi(Translator) public var length: UInt8 = 0
    /// False when no later instruction reads the flags this one writes before another
    /// overwrites them (decided for a block: `FastKind.flagEffect`); then only the result is
    /// computed.
    @_spi(Translator) public var flags = true
    @_spi(Translator) public var op: FastOp = .add
    /// An immediate (sign-extended and masked to the size) or a branch target.
    @_spi(Translator) public var imm: UInt64 = 0
    @_spi(Translator) public var address = FastAddress()
    /// In a block: the block's instructions before this one.
    @_spi(Translator) public var ordinal: UInt8 = 0
    /// In a block: 1 when a MOV between registers is fused in front of this form (its
    /// destination is this form's and this form reads its source in place of it:
    /// `FastForm.fusing(move:)`); the pair retires as two instructions.
    @_spi(Translator) public var fused: UInt8 = 0
    /// In a block: the status flags (RFLAGS bits) some later instruction reads before another
    /// overwrites them, right after this form (`FastForm.flagMasks`). A translation needs the
    /// guest's flags in the host's only for these.
    @_spi(Translator) public var liveAfter: UInt16 = FastForm.statusFlags
    /// CF, PF, AF, ZF, SF and OF.
    @_spi(Translator) public static let statusFlags = UInt16(Flag.status)

    static let none = FastForm()

    /// Field by field (not the padding between them): the same form.
    func sameAs(_ o: FastForm) -> Bool {
        kind == o.kind && d == o.d && s == o.s && size == o.size && x == o.x && length == o.length && flags == o.flags
            && op == o.op && imm == o.imm && ordinal == o.ordinal && fused == o.fused && liveAfter == o.liveAfter
            && address.displacement == o.address.displacement && address.base == o.address.base && address.index == o.address.index
            && address.scale == o.address.scale && address.segment == o.address.segment
            && address.address32 == o.address.address32 && address.stack == o.address.stack
    }

    /// Instructions the form retires.
    @_spi(Translator) @inline(__always) public var retires: Int { 1 &+ Int(fused) }

    /// CALL's return address, kept where a memory operand would be (a form belongs to the
    /// instruction at one RIP, so the address after it is a constant).
    @_spi(Translator) public var returnAddress: UInt64 {
        @inline(__always) get { address.displacement }
        set { address.displacement = newValue }
    }

    init() {}

    init(_ kind: FastKind, d: UInt8 = 0, s: UInt8 = 0, size: UInt8 = 8, x: UInt8 = 0, op: FastOp = .add,
         imm: UInt64 = 0, address: FastAddress = FastAddress()) {
        (self.kind, self.d, self.s, self.size, self.x, self.op, self.imm, self.address) = (kind, d, s, size, x, op, imm, address)
    }

    init(_ op: Op, _ operands: [Operand], ins: Instruction, rip: UInt64, condition: Int8, conditionKind: UInt8) {
        self.init()
        defer { length = UInt8(ins.length) }
        let bits64 = ins.mode == .bits64
        func gpr(_ o: Operand) -> (UInt8, UInt8)? {
            guard case .register(let r) = o else { return nil }
            switch r.kind {
            case .gpr8: return (r.number, 1)
            case .gpr16: return (r.number, 2)
            case .gpr32: return (r.number, 4)
            case .gpr64: return (r.number, 8)
            default: return nil
            }
        }
        // Memory forms: 64-bit mode only (no segment limits or bases but FS's and GS's).
        func mem(_ o: Operand) -> (FastAddress, UInt8)? {
            guard bits64, case .memory(let m) = o, let a = FastAddress(m, rip: rip, length: Int(ins.length)) else { return nil }
            return (a, UInt8(m.size))
        }
        // A relative branch's target is a constant: one that is not canonical under four-level
        // paging (so perhaps not under five-level) takes the general path, which raises #GP,
        // and the fast forms jump without a check.
        if case .relative(let t) = operands.first, !X86.isCanonical(t, bits: 48) { return }
        if condition >= 0 && conditionKind == 0, operands.count == 1, case .relative(let t) = operands[0] {
            self = FastForm(FastKind(rawValue: FastKind.jo.rawValue + UInt8(condition))!, imm: t)
            return
        }
        if condition >= 0 && conditionKind == 1 {
            if operands.count == 1, let (d, size) = gpr(operands[0]), size == 1 { self = FastForm(.setcc, d: d, size: 1, x: UInt8(condition)) }
            return
        }
        if condition >= 0 && conditionKind == 2 {
            guard operands.count == 2, let (d, size) = gpr(operands[0]), size >= 4 else { return }
            if let (s, size2) = gpr(operands[1]), size2 == size {
                self = FastForm(.cmov, d: d, s: s, size: size, x: UInt8(condition))
            } else if let (a, size2) = mem(operands[1]), size2 == size {
                self = FastForm(.cmovLoad, d: d, size: size, x: UInt8(condition), address: a)
            }
            return
        }
        let two = operands.count == 2
        switch op {
        case .add, .or, .adc, .sbb, .and, .sub, .xor, .cmp, .test:
            guard two, let alu = FastOp(op) else { return }
            let index = alu.rawValue
            if case .register(let r) = operands[0], r.kind == .gpr8High, case .immediate(let v, let isz) = operands[1] {
                self = FastForm(.aluHighRI, d: r.number, size: 1, op: alu, imm: signExtend(v, isz) & 0xFF)
            } else if let (d, size) = gpr(operands[0]) {
                if let (s, size2) = gpr(operands[1]), size2 == size {
                    self = size == 8 ? FastForm(FastKind(rawValue: FastKind.add64.rawValue + index)!, d: d, s: s, x: d)
                        : size == 4 ? FastForm(FastKind(rawValue: FastKind.add32.rawValue + index)!, d: d, s: s, size: 4, x: d)
                        : FastForm(.aluRR, d: d, s: s, size: size, op: alu)
                } else if case .immediate(let v, let isz) = operands[1] {
                    let imm = signExtend(v, isz) & sizeMask(Int(size))
                    self = size == 8 ? FastForm(FastKind(rawValue: FastKind.add64i.rawValue + index)!, d: d, x: d, imm: imm)
                        : size == 4 ? FastForm(FastKind(rawValue: FastKind.add32i.rawValue + index)!, d: d, size: 4, x: d, imm: imm)
                        : FastForm(.aluRI, d: d, size: size, op: alu, imm: imm)
                } else if let (a, size2) = mem(operands[1]), size2 == size {
                    self = FastForm(.aluRM, d: d, size: size, op: alu, address: a)
                }
            } else if let (a, size) = mem(operands[0]) {
                if let (s, size2) = gpr(operands[1]), size2 == size {
                    self = FastForm(alu == .cmp ? .cmpMR : alu == .test ? .testMR : .aluMR, s: s, size: size, op: alu, address: a)
                } else if case .immediate(let v, let isz) = operands[1] {
                    self = FastForm(alu == .cmp ? .cmpMI : alu == .test ? .testMI : .aluMI, size: size, op: alu,
                                    imm: signExtend(v, isz) & sizeMask(Int(size)), address: a)
                }
            }
        case .mov:
            guard two else { return }
            if let (d, size) = gpr(operands[0]) {
                if let (s, size2) = gpr(operands[1]), size2 == size, size >= 4 {
                    self = FastForm(.movRR, d: d, s: s, size: size)
                } else if case .immediate(let v, let isz) = operands[1] {
                    self = FastForm(size >= 4 ? .movRI : .movRINarrow, d: d, size: size, imm: signExtend(v, isz) & sizeMask(Int(size)))
                } else if let (a, size2) = mem(operands[1]), size2 == size {
                    self = FastForm(FastKind.load(from: size, into: size), d: d, size: size, x: size, address: a)
                }
            } else if let (a, size) = mem(operands[0]) {
                if let (s, size2) = gpr(operands[1]), size2 == size {
                    self = FastForm(.store, s: s, size: size, address: a)
                } else if case .immediate(let v, let isz) = operands[1] {
                    self = FastForm(.storeImm, size: size, imm: signExtend(v, isz) & sizeMask(Int(size)), address: a)
                }
            }
        case .movzx, .movsx, .movsxd:
            guard two, let (d, size) = gpr(operands[0]), size >= 4 else { return }
            let signed = op != .movzx
            if let (s, size2) = gpr(operands[1]), size2 < size || (size2 == 4 && size == 4) {
                self = FastForm(signed && size2 < size ? .extendSigned : .extend, d: d, s: s, size: size, x: size2)
            } else if let (a, size2) = mem(operands[1]) {
                self = FastForm(signed && size2 < size ? .loadSigned : FastKind.load(from: size2, into: size), d: d, size: size, x: size2,
                                address: a)
            }
        case .lea:
            guard two, let (d, size) = gpr(operands[0]), size >= 4, case .memory(let m) = operands[1],
                  var a = FastAddress(m, rip: rip, length: Int(ins.length)) else { return }
            a.segment = 0
            self = FastForm(.lea, d: d, size: size, address: a)
        case .bt, .bts, .btr, .btc:
            guard two else { return }
            let which: UInt8 = op == .bt ? 0 : op == .bts ? 1 : op == .btr ? 2 : 3
            // By an immediate (any operand size of 4 or 8), or by a register of the operand's size.
            var s = FastAddress.none, imm: UInt64 = 0, offsetSize: UInt8? = nil
            if case .immediate(let v, _) = operands[1] {
                imm = v & 0xFF
            } else if let (r, size) = gpr(operands[1]), size >= 4 {
                (s, offsetSize) = (r, size)
            } else {
                return
            }
            if let (d, size) = gpr(operands[0]), size >= 4, offsetSize ?? size == size {
                self = FastForm(.bitR, d: d, s: s, size: size, x: which, imm: imm)
            } else if let (a, size) = mem(operands[0]), size >= 4, offsetSize ?? size == size {
                self = FastForm(.bitM, s: s, size: size, x: which, imm: imm, address: a)
            }
        case .xadd, .cmpxchg:
            guard two, let (a, size) = mem(operands[0]), size >= 4, let (s, size2) = gpr(operands[1]), size2 == size else { return }
            self = FastForm(op == .xadd ? .xaddM : .cmpxchgM, s: s, size: size, address: a)
        case .inc, .dec, .not, .neg:
            guard operands.count == 1 else { return }
            if let (d, size) = gpr(operands[0]) {
                self = FastForm(op == .inc ? .inc : op == .dec ? .dec : op == .not ? .not : .neg, d: d, size: size, x: d)
            } else if op == .inc || op == .dec, let (a, size) = mem(operands[0]) {
                self = FastForm(op == .inc ? .incM : .decM, size: size, address: a)
            }
        case .shl, .sal, .shr, .sar, .rol, .ror:
            guard let shift = FastOp(op) else { return }
            var count: UInt64 = 1
            if two, case .register(let r) = operands[1], r.kind == .gpr8, r.number == 1 {
                guard let (d, size) = gpr(operands[0]), size >= 4 else { return }
                self = FastForm(.shiftCL, d: d, size: size, op: shift)
                return
            }
            if two {
                guard case .immediate(let v, _) = operands[1] else { return }
                count = v
            }
            // Bytes and words (register or memory) by a count below their width: the one
            // shape whose flags the host and the interpreter define alike at every size.
            let rotate = shift == .rol || shift == .ror
            if let (a, size) = mem(operands[0]) {
                let c = UInt8(count & (size == 8 ? 0x3F : 0x1F))
                guard !rotate, c != 0, c < size * 8 else { return }
                self = FastForm(.shiftM, size: size, x: c, op: shift, address: a)
                return
            }
            guard let (d, size) = gpr(operands[0]) else { return }
            let c = UInt8(count & (size == 8 ? 0x3F : 0x1F))
            guard c != 0, size >= 4 || (!rotate && c < size * 8) else { return }
            let kind: FastKind = switch (shift, size) {
            case (.shl, 8): .shl64
            case (.shr, 8): .shr64
            case (.sar, 8): .sar64
            case (.rol, 8): .rol64
            case (.ror, 8): .ror64
            case (.rol, _): .rol32
            case (.ror, _): .ror32
            default: .shift
            }
            self = FastForm(kind, d: d, s: d, size: size, x: c, op: shift)
        case .imul:
            guard operands.count >= 2, let (d, size) = gpr(operands[0]), size >= 4,
                  let (s, size2) = gpr(operands[1]), size2 == size else { return }
            if operands.count == 2 {
                self = FastForm(.imul, d: d, s: s, size: size, x: d)
            } else if case .immediate(let v, let isz) = operands[2] {
                self = FastForm(.imulImm, d: d, s: s, size: size, imm: signExtend(v, isz))
            }
        case .mul:
            guard operands.count == 1, let (s, size) = gpr(operands[0]), size >= 4 else { return }
            self = FastForm(.mul, s: s, size: size)
        case .push:
            guard bits64, ins.operandSize == 8, operands.count == 1 else { return }
            if case .immediate(let v, let isz) = operands[0] {
                self = FastForm(.pushImm, imm: signExtend(v, isz))
            } else if let (r, size) = gpr(operands[0]), size == 8 {
                self = FastForm(.push, s: r)
            } else if let (a, size) = mem(operands[0]), size == 8 {
                self = FastForm(.pushM, address: a)
            }
        case .pop:
            guard bits64, ins.operandSize == 8, operands.count == 1, let (r, size) = gpr(operands[0]), size == 8 else { return }
            self = FastForm(.pop, d: r)
        case .call:
            guard bits64, ins.operandSize == 8, operands.count == 1 else { return }
            if case .relative(let t) = operands[0] {
                self = FastForm(.call, imm: t)
            } else if let (r, size) = gpr(operands[0]), size == 8 {
                self = FastForm(.callReg, s: r)
            }
            returnAddress = rip &+ UInt64(ins.length)
        case .ret:
            guard bits64, ins.operandSize == 8, operands.isEmpty else { return }
            self = FastForm(.ret)
        case .jmp:
            guard operands.count == 1 else { return }
            if case .relative(let t) = operands[0] {
                self = FastForm(.jmp, imm: t)
            } else if bits64, ins.operandSize == 8, let (r, size) = gpr(operands[0]), size == 8 {
                self = FastForm(.jmpReg, s: r)
            }
        case .nop:
            self = FastForm(.nop)
        case .prefetchnta, .prefetcht0, .prefetcht1, .prefetcht2, .prefetch, .prefetchw, .lfence, .sfence, .mfence:
            // Hints that never fault, and fences (one vCPU runs at a time): nothing to do, as in
            // the general path. (LOCK makes them #UD: those stay there.)
            guard !ins.prefixes.contains(.lock) else { return }
            self = FastForm(.nop)
        case .pushf, .pushfq:
            guard bits64, ins.operandSize == 8, operands.isEmpty else { return }
            self = FastForm(.pushf)
        case .cli:
            guard bits64, !ins.prefixes.contains(.lock) else { return }
            self = FastForm(.cli)
        case .bswap:
            guard operands.count == 1, let (d, size) = gpr(operands[0]), size >= 4 else { return }
            self = FastForm(.bswap, d: d, size: size)
        case .cdqe:
            self = FastForm(.cdqe)
        case .cqo:
            self = FastForm(.cqo)
        case .leave:
            guard bits64, ins.operandSize == 8 else { return }
            self = FastForm(.leave)
        case .swapgs, .clac, .stac:
            guard bits64 else { return }
            self = FastForm(op == .swapgs ? .swapgs : op == .clac ? .clac : .stac)
        default:
            break
        }
    }
}

extension CPU {
    /// A register's value at `size` bytes (the low byte, word, dword or all of it).
    @inline(__always) func gpr(_ n: Int, _ size: UInt8) -> UInt64 {
        state.gpr[n] & sizeMask(Int(size))
    }

    /// Writes a register at `size` bytes: 8- and 16-bit writes keep the rest, 32-bit writes
    /// clear the upper half.
    @inline(__always) func setGPR(_ i: Int, _ v: UInt64, _ size: UInt8) {
        let g = state.gpr
        switch size {
        case 8: g[i] = v
        case 4: g[i] = v & 0xFFFF_FFFF
        default:
            let m = sizeMask(Int(size))
            g[i] = (g[i] & ~m) | (v & m)
        }
    }

    /// The linear address of a resolved memory operand, not yet checked for canonical form
    /// (`readData` and `writeData` check it when the TLB cannot serve the access).
    @inline(__always) func linear(_ f: UnsafePointer<FastForm>) -> UInt64 {
        let a = f.pointee.address
        let ea = effectiveAddress(a)
        return a.segment != 0 ? ea &+ state.segmentBase(Int(a.segment)) : ea
    }

    /// A fast form's data read of `size` bytes at linear `ea`: from the TLB when it holds the
    /// page (then canonical: `CPUMemory.probe`), otherwise checked (a non-canonical address is
    /// #SS through RSP or RBP, #GP otherwise) and read through the memory's slow path.
    @inline(__always) func readData(_ ea: UInt64, _ size: Int, stack: Bool) throws(CPUException) -> UInt64 {
        if let p = memory.probe(ea, size, 0) { return loadLittle(p, size) }
        return try readDataSlow(ea, size, stack)
    }

    @inline(__always) func readData(_ ea: UInt64, _ size: Int, _ f: UnsafePointer<FastForm>) throws(CPUException) -> UInt64 {
        try readData(ea, size, stack: f.pointee.address.stack)
    }

    /// A 64-bit read from the stack.
    @inline(__always) func readStack(_ sp: UInt64) throws(CPUException) -> UInt64 {
        try readData(sp, 8, stack: true)
    }

    @inline(never) func readDataSlow(_ ea: UInt64, _ size: Int, _ stack: Bool) throws(CPUException) -> UInt64 {
        try checkCanonical(ea, size, stack: stack)
        return try memory.read(ea, size: size)
    }

    /// A fast form's data write, as `readData` reads.
    @inline(__always) func writeData(_ ea: UInt64, _ size: Int, _ v: UInt64, stack: Bool) throws(CPUException) {
        if let p = memory.probe(ea, size, 1) {
            storeLittle(p, size, v)
            noteStore(ea, size)
        } else {
            try writeDataSlow(ea, size, v, stack)
        }
    }

    @inline(__always) func writeData(_ ea: UInt64, _ size: Int, _ v: UInt64, _ f: UnsafePointer<FastForm>) throws(CPUException) {
        try writeData(ea, size, v, stack: f.pointee.address.stack)
    }

    @inline(never) func writeDataSlow(_ ea: UInt64, _ size: Int, _ v: UInt64, _ stack: Bool) throws(CPUException) {
        try checkCanonical(ea, size, stack: stack)
        try store(ea, size: size, value: v)
    }

    /// The effective address (the offset, before any segment base). An absent base or index
    /// reads `RegisterFile.noRegister`, 0.
    @inline(__always) func effectiveAddress(_ a: FastAddress) -> UInt64 {
        let g = state.gpr
        let ea = a.displacement &+ g[Int(a.base)] &+ g[Int(a.index)] &<< UInt64(a.scale)
        return a.address32 ? ea & 0xFFFF_FFFF : ea
    }

    /// Runs a fast form (not `.none`) of the instruction at `rip`, the current RIP. Same
    /// semantics as the general path (the host comparison runs both: cpu-check steps each
    /// case through `step`). Returns `FastExit` bits: `jumped` when it wrote RIP (a branch
    /// taken); otherwise it moved RIP past the instruction, or with `inBlock` left RIP alone
    /// (`runBlock` writes RIP when the block ends or an instruction throws; no form but a
    /// branch reads it: CALL's return address is part of its form). `codeWritten` after a
    /// store into decoded code.
    ///
    /// `f.flags` false: no later instruction reads the flags this one writes before another
    /// overwrites them (decided for a block), so only its result is computed.
    @inline(__always)
    func executeFast(_ f: UnsafePointer<FastForm>, at rip: UInt64, inBlock: Bool = false) throws(CPUException) -> UInt8 {
        let g = state.gpr
        let d = Int(f.pointee.d), s = Int(f.pointee.s)
        let flags = f.pointee.flags
        var exit: UInt8 = 0
        switch f.pointee.kind {
        case .none:
            preconditionFailure("no fast form")
        case .add64: alu64(.add, d, f.pointee.x, g[s], flags)
        case .or64: alu64(.or, d, f.pointee.x, g[s], flags)
        case .adc64: alu64(.adc, d, f.pointee.x, g[s], flags)
        case .sbb64: alu64(.sbb, d, f.pointee.x, g[s], flags)
        case .and64: alu64(.and, d, f.pointee.x, g[s], flags)
        case .sub64: alu64(.sub, d, f.pointee.x, g[s], flags)
        case .xor64: alu64(.xor, d, f.pointee.x, g[s], flags)
        case .cmp64: alu64(.cmp, d, f.pointee.x, g[s], flags)
        case .test64: alu64(.test, d, f.pointee.x, g[s], flags)
        case .add32: alu32(.add, d, f.pointee.x, g[s], flags)
        case .or32: alu32(.or, d, f.pointee.x, g[s], flags)
        case .adc32: alu32(.adc, d, f.pointee.x, g[s], flags)
        case .sbb32: alu32(.sbb, d, f.pointee.x, g[s], flags)
        case .and32: alu32(.and, d, f.pointee.x, g[s], flags)
        case .sub32: alu32(.sub, d, f.pointee.x, g[s], flags)
        case .xor32: alu32(.xor, d, f.pointee.x, g[s], flags)
        case .cmp32: alu32(.cmp, d, f.pointee.x, g[s], flags)
        case .test32: alu32(.test, d, f.pointee.x, g[s], flags)
        case .add64i: alu64(.add, d, f.pointee.x, f.pointee.imm, flags)
        case .or64i: alu64(.or, d, f.pointee.x, f.pointee.imm, flags)
        case .adc64i: alu64(.adc, d, f.pointee.x, f.pointee.imm, flags)
        case .sbb64i: alu64(.sbb, d, f.pointee.x, f.pointee.imm, flags)
        case .and64i: alu64(.and, d, f.pointee.x, f.pointee.imm, flags)
        case .sub64i: alu64(.sub, d, f.pointee.x, f.pointee.imm, flags)
        case .xor64i: alu64(.xor, d, f.pointee.x, f.pointee.imm, flags)
        case .cmp64i: alu64(.cmp, d, f.pointee.x, f.pointee.imm, flags)
        case .test64i: alu64(.test, d, f.pointee.x, f.pointee.imm, flags)
        case .add32i: alu32(.add, d, f.pointee.x, f.pointee.imm, flags)
        case .or32i: alu32(.or, d, f.pointee.x, f.pointee.imm, flags)
        case .adc32i: alu32(.adc, d, f.pointee.x, f.pointee.imm, flags)
        case .sbb32i: alu32(.sbb, d, f.pointee.x, f.pointee.imm, flags)
        case .and32i: alu32(.and, d, f.pointee.x, f.pointee.imm, flags)
        case .sub32i: alu32(.sub, d, f.pointee.x, f.pointee.imm, flags)
        case .xor32i: alu32(.xor, d, f.pointee.x, f.pointee.imm, flags)
        case .cmp32i: alu32(.cmp, d, f.pointee.x, f.pointee.imm, flags)
        case .test32i: alu32(.test, d, f.pointee.x, f.pointee.imm, flags)
        case .aluRR:
            let size = f.pointee.size, op = f.pointee.op
            let r = alu(op.mnemonic, gpr(d, size), gpr(s, size), size, flags: flags)
            if op.writesResult { setGPR(d, r, size) }
        case .aluRI:
            let size = f.pointee.size, op = f.pointee.op
            let r = alu(op.mnemonic, gpr(d, size), f.pointee.imm, size, flags: flags)
            if op.writesResult { setGPR(d, r, size) }
        case .aluRM:
            let size = f.pointee.size, op = f.pointee.op
            let v = try readData(linear(f), Int(size), f)
            let r = alu(op.mnemonic, gpr(d, size), v, size)
            if op.writesResult { setGPR(d, r, size) }
        case .cmpMR:
            try compareMemory(.cmp, f, gpr(s, f.pointee.size))
        case .cmpMI:
            try compareMemory(.cmp, f, f.pointee.imm)
        case .testMR:
            try compareMemory(.test, f, gpr(s, f.pointee.size))
        case .testMI:
            try compareMemory(.test, f, f.pointee.imm)
        case .aluMR:
            try aluMemory(f, gpr(s, f.pointee.size))
            exit = codeWritten()
        case .aluMI:
            try aluMemory(f, f.pointee.imm)
            exit = codeWritten()
        case .aluHighRI:
            aluHigh(f)
        case .movRR:
            g[d] = f.pointee.size == 8 ? g[s] : g[s] & 0xFFFF_FFFF
        case .movRI:
            g[d] = f.pointee.imm
        case .movRINarrow:
            setGPR(d, f.pointee.imm, f.pointee.size)
        case .load:
            // Into a byte or word register (`load8`... take the wider ones): the rest stays.
            let ea = linear(f)
            let v = f.pointee.x == 1 ? try readData(ea, 1, f) : try readData(ea, 2, f)
            let kept: UInt64 = f.pointee.size == 1 ? ~0xFF : ~0xFFFF
            g[d] = g[d] & kept | v
        case .load8:
            g[d] = try readData(linear(f), 1, f)
        case .load16:
            g[d] = try readData(linear(f), 2, f)
        case .load32:
            g[d] = try readData(linear(f), 4, f)
        case .load64:
            g[d] = try readData(linear(f), 8, f)
        case .loadSigned:
            let from = f.pointee.x
            let v = try readData(linear(f), Int(from), f)
            setGPR(d, signExtend(v, Int(from)), f.pointee.size)
        case .extend:
            setGPR(d, gpr(s, f.pointee.x), f.pointee.size)
        case .extendSigned:
            let from = f.pointee.x
            setGPR(d, signExtend(gpr(s, from), Int(from)), f.pointee.size)
        case .store:
            try storeMemory(f, g[s])
            exit = codeWritten()
        case .storeImm:
            try storeMemory(f, f.pointee.imm)
            exit = codeWritten()
        case .lea:
            let a = effectiveAddress(f.pointee.address)
            g[d] = f.pointee.size == 8 ? a : a & 0xFFFF_FFFF
        case .inc, .dec:
            let size = f.pointee.size, inc = f.pointee.kind == .inc
            if !flags {
                setGPR(d, inc ? g[d] &+ 1 : g[d] &- 1, size)
            } else {
                // One case per size, so that the flags come from constants.
                switch size {
                case 8: g[d] = incDec(inc, g[d], 8)
                case 4: g[d] = incDec(inc, g[d] & 0xFFFF_FFFF, 4)
                case 2: setGPR(d, incDec(inc, g[d] & 0xFFFF, 2), 2)
                default: setGPR(d, incDec(inc, g[d] & 0xFF, 1), 1)
                }
            }
        case .incM, .decM:
            try incDecMemory(f)
            exit = codeWritten()
        case .xaddM, .cmpxchgM:
            try exchangeMemory(f)
            exit = codeWritten()
        case .bitR:
            let size = f.pointee.size, w = UInt64(size) * 8
            let offset = (f.pointee.s == FastAddress.none ? f.pointee.imm : g[s]) & (w - 1)
            let v = gpr(d, size)
            state.rflags = state.rflags & ~Flag.cf | (v >> offset) & 1
            if f.pointee.x != 0 { setGPR(d, bitOperation(f.pointee.x, v, offset), size) }
        case .pushf:
            try push64(state.rflags & ~(Flag.rf | Flag.vm))
            exit = codeWritten()
        case .cli:
            if state.cpl > iopl { throw .generalProtection(0) }
            state.rflags &= ~Flag.if
        case .bitM:
            try bitTestMemory(f)
            if f.pointee.x != 0 { exit = codeWritten() }
        case .shl64:
            g[d] = shift(.shl, g[s], UInt64(f.pointee.x), 8, flags: flags)
        case .shr64:
            g[d] = shift(.shr, g[s], UInt64(f.pointee.x), 8, flags: flags)
        case .sar64:
            g[d] = shift(.sar, g[s], UInt64(f.pointee.x), 8, flags: flags)
        case .rol64:
            g[d] = rotate(left: true, g[s], UInt64(f.pointee.x), 8, flags: flags)
        case .ror64:
            g[d] = rotate(left: false, g[s], UInt64(f.pointee.x), 8, flags: flags)
        case .rol32:
            g[d] = rotate(left: true, g[s] & 0xFFFF_FFFF, UInt64(f.pointee.x), 4, flags: flags)
        case .ror32:
            g[d] = rotate(left: false, g[s] & 0xFFFF_FFFF, UInt64(f.pointee.x), 4, flags: flags)
        case .shift:
            let size = f.pointee.size
            setGPR(d, shift(f.pointee.op.mnemonic, gpr(s, size), UInt64(f.pointee.x), Int(size), flags: flags), size)
        case .shiftM:
            try shiftMemory(f, flags)
            exit = codeWritten()
        case .shiftCL:
            let size = f.pointee.size, op = f.pointee.op.mnemonic
            let c = g[1] & (size == 8 ? 0x3F : 0x1F), a = gpr(d, size)
            if c == 0 {
                // No flags change; a 32-bit register's upper half still clears (`shift`).
                g[d] = a
            } else {
                setGPR(d, op == .rol || op == .ror ? shiftResult(op, a, c, Int(size)) : shift(op, a, c, Int(size), flags: flags), size)
            }
        case .imul:
            let size = f.pointee.size
            setGPR(d, signedProduct(gpr(Int(f.pointee.x), size), gpr(s, size), size, flags: flags), size)
        case .imulImm:
            let size = f.pointee.size
            setGPR(d, signedProduct(gpr(s, size), f.pointee.imm, size, flags: flags), size)
        case .mul:
            let size = Int(f.pointee.size)
            let (hi, lo) = unsignedProduct(g[0], g[s], size)
            if flags { setMulFlags(hi != 0, lo, size) }
            g[0] = lo
            g[2] = hi
        case .push:
            try push64(g[s])
            exit = codeWritten()
        case .pushImm:
            try push64(f.pointee.imm)
            exit = codeWritten()
        case .pushM:
            // The operand's address is RSP's before the push.
            try push64(try readData(linear(f), 8, f))
            exit = codeWritten()
        case .pop:
            let sp = g[4]
            let v = try readStack(sp)
            g[4] = sp &+ 8
            g[d] = v
        case .leave:
            let bp = g[5]
            let v = try readStack(bp)
            g[4] = bp &+ 8
            g[5] = v
        case .call:
            // The target is canonical (`FastForm`).
            try push64(f.pointee.returnAddress)
            state.rip = f.pointee.imm
            return FastExit.jumped | codeWritten()
        case .callReg:
            // The target is read before the push (CALL RSP jumps to RSP's old value).
            try nearCall(g[s], returnTo: f.pointee.returnAddress)
            return FastExit.jumped | codeWritten()
        case .ret:
            let sp = g[4]
            let target = try readStack(sp)
            guard isCanonical(target) else { throw .generalProtection(0) }
            g[4] = sp &+ 8
            state.rip = target
            return FastExit.jumped
        case .jmp:
            state.rip = f.pointee.imm
            return FastExit.jumped
        case .jmpReg:
            try jump(g[s])
            return FastExit.jumped
        case .jo: if branch(0, f) { return FastExit.jumped }
        case .jno: if branch(1, f) { return FastExit.jumped }
        case .jb: if branch(2, f) { return FastExit.jumped }
        case .jae: if branch(3, f) { return FastExit.jumped }
        case .je: if branch(4, f) { return FastExit.jumped }
        case .jne: if branch(5, f) { return FastExit.jumped }
        case .jbe: if branch(6, f) { return FastExit.jumped }
        case .ja: if branch(7, f) { return FastExit.jumped }
        case .js: if branch(8, f) { return FastExit.jumped }
        case .jns: if branch(9, f) { return FastExit.jumped }
        case .jp: if branch(10, f) { return FastExit.jumped }
        case .jnp: if branch(11, f) { return FastExit.jumped }
        case .jl: if branch(12, f) { return FastExit.jumped }
        case .jge: if branch(13, f) { return FastExit.jumped }
        case .jle: if branch(14, f) { return FastExit.jumped }
        case .jg: if branch(15, f) { return FastExit.jumped }
        case .nop:
            break
        case .setcc:
            g[d] = (g[d] & ~0xFF) | (condition(Int(f.pointee.x)) ? 1 : 0)
        case .cmov:
            // A 32-bit destination is zero-extended whether or not the move happens.
            let v = condition(Int(f.pointee.x)) ? g[s] : g[d]
            g[d] = f.pointee.size == 8 ? v : v & 0xFFFF_FFFF
        case .cmovLoad:
            // The source is read (and can fault) whether or not the move happens.
            let size = f.pointee.size
            let loaded = try readData(linear(f), Int(size), f)
            let v = condition(Int(f.pointee.x)) ? loaded : g[d]
            g[d] = size == 8 ? v : v & 0xFFFF_FFFF
        case .not:
            setGPR(d, ~g[Int(f.pointee.x)], f.pointee.size)
        case .neg:
            let size = f.pointee.size
            setGPR(d, alu(.sub, 0, gpr(d, size), size, flags: flags), size)
        case .bswap:
            let v = g[d]
            g[d] = f.pointee.size == 8 ? v.byteSwapped : UInt64(UInt32(truncatingIfNeeded: v).byteSwapped)
        case .cdqe:
            g[0] = signExtend(g[0] & 0xFFFF_FFFF, 4)
        case .cqo:
            g[2] = g[0] & (1 << 63) != 0 ? ~0 : 0
        case .swapgs, .clac, .stac:
            try systemFast(f.pointee.kind)
        case .blockEnd:
            return FastExit.end
        }
        if !inBlock { state.rip = rip &+ UInt64(f.pointee.length) }
        return exit
    }

    /// `FastExit.codeWritten` when a store just went into decoded code.
    @inline(__always) func codeWritten() -> UInt8 {
        state.invalidationPending ? FastExit.codeWritten : 0
    }

    /// A 64-bit ALU operation of register `a` and `b` into register `d` (CMP and TEST only
    /// set the flags).
    @_transparent
    func alu64(_ op: Op, _ d: Int, _ a: UInt8, _ b: UInt64, _ flags: Bool) {
        let g = state.gpr
        let r = alu(op, g[Int(a)], b, 8, flags: flags)
        if op != .cmp && op != .test { g[d] = r }
    }

    /// A 32-bit ALU operation, as `alu64` (a written result clears the upper half).
    @_transparent
    func alu32(_ op: Op, _ d: Int, _ a: UInt8, _ b: UInt64, _ flags: Bool) {
        let g = state.gpr
        let r = alu(op, g[Int(a)] & 0xFFFF_FFFF, b & 0xFFFF_FFFF, 4, flags: flags)
        if op != .cmp && op != .test { g[d] = r }
    }

    /// Jcc with condition `cc`: true when taken (RIP at the target, canonical: `FastForm`).
    @_transparent
    func branch(_ cc: Int, _ f: UnsafePointer<FastForm>) -> Bool {
        guard condition(cc) else { return false }
        state.rip = f.pointee.imm
        return true
    }

    /// A near JMP: a non-canonical target is #GP(0) on the branch itself.
    @_transparent
    func jump(_ target: UInt64) throws(CPUException) {
        guard isCanonical(target) else { throw .generalProtection(0) }
        state.rip = target
    }

    /// A 64-bit PUSH.
    @_transparent
    func push64(_ v: UInt64) throws(CPUException) {
        let g = state.gpr
        let sp = g[4] &- 8
        try writeData(sp, 8, v, stack: true)
        g[4] = sp
    }

    /// SHL, SHR and SAR by a count from 1 to the width less one: result and flags (the fast
    /// forms' and `shiftResult`'s), with `flags` false only the result.
    @_transparent
    func shift(_ op: Op, _ a: UInt64, _ c: UInt64, _ size: Int, flags: Bool = true) -> UInt64 {
        let w = UInt64(size * 8), m = sizeMask(size), msb = signBit(size)
        if !flags {
            switch op {
            case .shr: return a &>> c
            case .sar: return UInt64(bitPattern: Int64(bitPattern: signExtend(a, size)) &>> Int64(c)) & m
            default: return (a &<< c) & m
            }
        }
        let r: UInt64, cf: Bool, of: Bool
        switch op {
        case .shr:
            r = a &>> c
            cf = (a &>> (c &- 1)) & 1 != 0
            of = a & msb != 0
        case .sar:
            let s = Int64(bitPattern: signExtend(a, size))
            r = UInt64(bitPattern: s &>> Int64(c)) & m
            cf = (s &>> Int64(c &- 1)) & 1 != 0
            of = false
        default: // shl
            r = (a &<< c) & m
            cf = (a &>> (w &- c)) & 1 != 0
            of = (r & msb != 0) != cf
        }
        var f = state.rflags & ~(Flag.cf | Flag.of | Flag.af | Flag.zf | Flag.sf | Flag.pf)
        if cf { f |= Flag.cf }
        if of { f |= Flag.of }
        if r == 0 { f |= Flag.zf }
        if r & msb != 0 { f |= Flag.sf }
        if (r & 0xFF).nonzeroBitCount & 1 == 0 { f |= Flag.pf }
        state.rflags = f
        return r
    }

    /// ROL/ROR of a `size`-byte value by `k` (less than the width): the result, and with
    /// `flags` CF and OF (OF as for a count of 1; the other flags stay).
    @_transparent
    func rotate(left: Bool, _ a: UInt64, _ k: UInt64, _ size: Int, flags: Bool = true) -> UInt64 {
        let w = UInt64(size * 8), m = sizeMask(size), msb = signBit(size)
        let r = left ? ((a &<< k) | (a &>> (w &- k))) & m : ((a &>> k) | (a &<< (w &- k))) & m
        if flags {
            let cf = left ? r & 1 != 0 : r & msb != 0
            let of = left ? (r & msb != 0) != cf : (r & msb != 0) != (r & (msb >> 1) != 0)
            state.rflags = (state.rflags & ~(Flag.cf | Flag.of)) | (cf ? Flag.cf : 0) | (of ? Flag.of : 0)
        }
        return r
    }

    /// INC or DEC of `a` (masked to `size` bytes): the result, and OF, SF, ZF, AF and PF as
    /// ADD or SUB of 1 sets them; CF stays.
    @_transparent
    func incDec(_ inc: Bool, _ a: UInt64, _ size: Int) -> UInt64 {
        let m = sizeMask(size), sb = signBit(size)
        let r = (inc ? a &+ 1 : a &- 1) & m
        var f = state.rflags & ~(Flag.of | Flag.sf | Flag.zf | Flag.af | Flag.pf)
        // Overflow: INC reaching the sign bit alone, DEC leaving it; the nibble carries or
        // borrows when it wraps.
        f |= (inc ? r == sb : a == sb) ? Flag.of : 0
        f |= (r & 0xF) == (inc ? 0 : 0xF) ? Flag.af : 0
        f |= r == 0 ? Flag.zf : 0
        f |= r & sb != 0 ? Flag.sf : 0
        f |= parityFlag(r)
        state.rflags = f
        return r
    }

    /// `alu`, or only its result when its flags are dead.
    @_transparent
    func alu(_ op: Op, _ a: UInt64, _ b: UInt64, _ size: UInt8, flags: Bool) -> UInt64 {
        flags ? alu(op, a, b, size) : aluValue(op, a, b, size)
    }

    /// A 64-bit near CALL returning to `next`: a non-canonical target is #GP(0) before
    /// anything is pushed.
    @_transparent
    func nearCall(_ target: UInt64, returnTo next: UInt64) throws(CPUException) {
        guard isCanonical(target) else { throw .generalProtection(0) }
        try push64(next)
        state.rip = target
    }

    /// CMP or TEST of memory with `b` (masked to the size): a switch on the size, so that the
    /// flags come from constant sizes.
    @_transparent
    func compareMemory(_ op: Op, _ f: UnsafePointer<FastForm>, _ b: UInt64) throws(CPUException) {
        let ea = linear(f)
        switch f.pointee.size {
        case 1: _ = alu(op, try readData(ea, 1, f), b, 1)
        case 2: _ = alu(op, try readData(ea, 2, f), b, 2)
        case 4: _ = alu(op, try readData(ea, 4, f), b, 4)
        default: _ = alu(op, try readData(ea, 8, f), b, 8)
        }
    }

    /// MOV of `v` (masked to the size) to memory: one switch on the size, so that the access
    /// has a constant size.
    @_transparent
    func storeMemory(_ f: UnsafePointer<FastForm>, _ v: UInt64) throws(CPUException) {
        let ea = linear(f)
        switch f.pointee.size {
        case 1: try writeData(ea, 1, v & 0xFF, f)
        case 2: try writeData(ea, 2, v & 0xFFFF, f)
        case 4: try writeData(ea, 4, v & 0xFFFF_FFFF, f)
        default: try writeData(ea, 8, v, f)
        }
    }

    /// ALU of a high-byte register with an immediate (outlined: rare in hot code).
    @inline(never)
    func aluHigh(_ f: UnsafePointer<FastForm>) {
        let g = state.gpr, d = Int(f.pointee.d), op = f.pointee.op
        let r = alu(op.mnemonic, (g[d] >> 8) & 0xFF, f.pointee.imm, 1, flags: f.pointee.flags)
        if op.writesResult { g[d] = g[d] & ~0xFF00 | (r & 0xFF) << 8 }
    }

    /// INC or DEC of memory: CF stays; if the write faults the flags go back.
    @inline(never)
    func incDecMemory(_ f: UnsafePointer<FastForm>) throws(CPUException) {
        let size = f.pointee.size
        let ea = linear(f)
        let v = try readData(ea, Int(size), f)
        let saved = state.rflags
        let r = alu(f.pointee.kind == .incM ? .add : .sub, v, 1, size)
        state.rflags = state.rflags & ~Flag.cf | saved & Flag.cf
        do throws(CPUException) { try writeData(ea, Int(size), r, f) } catch { state.rflags = saved; throw error }
    }

    /// BTS, BTR or BTC (`which` 1-3, as `FastKind.bitR` and `bitM` say) of bit `bit` of `v`.
    @inline(__always) func bitOperation(_ which: UInt8, _ v: UInt64, _ bit: UInt64) -> UInt64 {
        switch which {
        case 1: v | 1 << bit
        case 2: v & ~(1 << bit)
        default: v ^ 1 << bit
        }
    }

    /// XADD and CMPXCHG of memory, as `exchange` runs them: XADD writes the sum, then the old
    /// value to the register; CMPXCHG compares RAX with the memory (the flags of CMP) and
    /// writes the register there if they are equal, else the memory's own value back (the
    /// locked cycle writes either way) and then RAX takes it. If the write faults, nothing
    /// has changed (the flags go back).
    @inline(never)
    func exchangeMemory(_ f: UnsafePointer<FastForm>) throws(CPUException) {
        let size = f.pointee.size, s = Int(f.pointee.s)
        let ea = linear(f)
        let v = try readData(ea, Int(size), f)
        let saved = state.rflags
        if f.pointee.kind == .xaddM {
            let sum = alu(.add, v, gpr(s, size), size)
            do throws(CPUException) { try writeData(ea, Int(size), sum, f) } catch { state.rflags = saved; throw error }
            setGPR(s, v, size)
        } else {
            let expected = gpr(0, size)
            _ = alu(.cmp, expected, v, size)
            do throws(CPUException) {
                try writeData(ea, Int(size), expected == v ? gpr(s, size) : v, f)
            } catch { state.rflags = saved; throw error }
            if expected != v { setGPR(0, v, size) }
        }
    }

    /// BT, BTS, BTR or BTC of memory, as `bitTest` runs them: by a register, the offset
    /// (signed) moves the address by whole operands and the rest picks the bit; CF takes the
    /// bit; if the write faults the flags go back.
    @inline(never)
    func bitTestMemory(_ f: UnsafePointer<FastForm>) throws(CPUException) {
        let size = Int(f.pointee.size), w = UInt64(size * 8)
        var ea = linear(f), offset = f.pointee.imm & (w - 1)
        if f.pointee.s != FastAddress.none {
            let (displacement, bit) = bitStringStep(state.gpr[Int(f.pointee.s)], size: size)
            ea = ea &+ displacement
            offset = bit
        }
        let v = try readData(ea, size, f)
        let saved = state.rflags
        state.rflags = state.rflags & ~Flag.cf | (v >> offset) & 1
        guard f.pointee.x != 0 else { return }
        let r = bitOperation(f.pointee.x, v, offset)
        do throws(CPUException) { try writeData(ea, size, r, f) } catch { state.rflags = saved; throw error }
    }

    /// SWAPGS (#GP(0) outside CPL 0), CLAC and STAC (#UD outside CPL 0), as `system` runs them.
    @inline(never)
    func systemFast(_ kind: FastKind) throws(CPUException) {
        switch kind {
        case .swapgs:
            try requireCPL0()
            let k = msrs.kernelGSBase ?? 0
            msrs.kernelGSBase = state.gsBase
            state.gsBase = k
        default:
            if state.cpl != 0 { throw .invalidOpcode }
            if kind == .stac { state.rflags |= Flag.ac } else { state.rflags &= ~Flag.ac }
        }
    }

    /// An ALU operation on memory: CMP and TEST only read; the others write the result, and
    /// if that write faults the flags go back (the instruction changed nothing).
    @inline(__always)
    /// A shift of memory by a constant (`FastKind.shiftM`): read, shifted, written; the flags as
    /// they were if the write faults.
    func shiftMemory(_ f: UnsafePointer<FastForm>, _ flags: Bool) throws(CPUException) {
        let size = f.pointee.size
        let ea = linear(f)
        let v = try readData(ea, Int(size), f)
        let saved = state.rflags
        let r = shift(f.pointee.op.mnemonic, v, UInt64(f.pointee.x), Int(size), flags: flags)
        do throws(CPUException) { try writeData(ea, Int(size), r, f) } catch { state.rflags = saved; throw error }
    }

    func aluMemory(_ f: UnsafePointer<FastForm>, _ b: UInt64) throws(CPUException) {
        let size = f.pointee.size, op = f.pointee.op
        let ea = linear(f)
        let v = try readData(ea, Int(size), f)
        let saved = state.rflags
        let r = alu(op.mnemonic, v, b, size)
        if !op.writesResult { return }
        do throws(CPUException) { try writeData(ea, Int(size), r, f) } catch { state.rflags = saved; throw error }
    }
}

/// `size` bytes at `p`, little-endian, zero-extended.
@inline(__always) func loadLittle(_ p: UnsafeMutableRawPointer, _ size: Int) -> UInt64 {
    switch size {
    case 1: UInt64(p.load(as: UInt8.self))
    case 2: UInt64(p.loadUnaligned(as: UInt16.self))
    case 4: UInt64(p.loadUnaligned(as: UInt32.self))
    default: p.loadUnaligned(as: UInt64.self)
    }
}

/// The low `size` bytes of `v` to `p`.
@inline(__always) func storeLittle(_ p: UnsafeMutableRawPointer, _ size: Int, _ v: UInt64) {
    switch size {
    case 1: p.storeBytes(of: UInt8(truncatingIfNeeded: v), as: UInt8.self)
    case 2: p.storeBytes(of: UInt16(truncatingIfNeeded: v), as: UInt16.self)
    case 4: p.storeBytes(of: UInt32(truncatingIfNeeded: v), as: UInt32.self)
    default: p.storeBytes(of: v, as: UInt64.self)
    }
}
