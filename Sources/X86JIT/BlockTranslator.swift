import X86
import X86CPU
import X86Decoder

/// The first translations (issue 25): runs of register-only integer instructions at 32 and 64
/// bits (the ALU operations with a register or an immediate, MOV, TEST, IMUL, CMOVcc, MOVZX,
/// MOVSX, MOVSXD, LEA, NOT, NEG, INC, DEC), compiled to host code over the vCPU's
/// `RegisterFile`, which the host code reaches through RDI (its one argument,
/// `@convention(c) (UnsafeMutableRawPointer) -> Void`). Each guest instruction loads its
/// registers into RAX, RCX and RDX, runs as itself on the host (the host's flags are the
/// guest's: where the instruction reads flags or leaves some as they were, the guest's are
/// loaded first), stores the result and the arithmetic flags back, and advances RIP and the
/// retired count. Anything else is not translated yet (nil): the interpreter runs it.
public enum BlockTranslator {
    static let gprs = MemoryLayout<RegisterFile>.offset(of: \.gprs)!
    static let rip = MemoryLayout<RegisterFile>.offset(of: \.rip)!
    static let rflags = MemoryLayout<RegisterFile>.offset(of: \.rflags)!
    static let retired = MemoryLayout<RegisterFile>.offset(of: \.retired)!
    /// CF, PF, AF, ZF, SF, OF.
    public static let arithmeticFlags: Int32 = 0x8D5
    static let state = GPR.rdi, a = GPR.rax, c = GPR.rcx, d = GPR.rdx

    static func field(_ offset: Int) -> X86Assembler.Memory { X86Assembler.Memory(base: state, displacement: Int32(offset)) }
    static func gpr(_ n: Int) -> X86Assembler.Memory { field(gprs + 8 * n) }

    /// Host code for `instructions` (decoded in 64-bit mode, in order, each the one after the
    /// last), or nil when one is not a form translated yet.
    public static func translate(_ instructions: [Instruction]) -> [UInt8]? {
        var asm = X86Assembler()
        for ins in instructions {
            guard ins.status == .valid, ins.mode == .bits64, ins.prefixes.isEmpty || ins.prefixes == [.rex],
                  translate(ins, into: &asm) else { return nil }
            asm.alu(.add, size: 8, field(rip), immediate: Int32(ins.length))
            asm.alu(.add, size: 8, field(retired), immediate: 1)
        }
        asm.ret()
        return asm.bytes
    }

    /// The guest's arithmetic flags into the host's (never TF or DF): before an instruction
    /// that reads them or leaves some as they were.
    static func loadFlags(_ asm: inout X86Assembler) {
        asm.mov(size: 8, d, field(rflags))
        asm.alu(.and, size: 4, d, immediate: arithmeticFlags)
        asm.push(d)
        asm.popfq()
    }

    /// The host's arithmetic flags into the guest's RFLAGS.
    static func storeFlags(_ asm: inout X86Assembler) {
        asm.pushfq()
        asm.pop(d)
        asm.alu(.and, size: 4, d, immediate: arithmeticFlags)
        asm.mov(size: 8, c, field(rflags))
        asm.alu(.and, size: 8, c, immediate: ~arithmeticFlags)
        asm.alu(.or, size: 8, c, d)
        asm.mov(size: 8, field(rflags), c)
    }

    static let conditions: [String: X86Assembler.Condition] = Dictionary(uniqueKeysWithValues:
        X86Assembler.Condition.allCases.map { ("\($0)", $0) } + [("c", .b), ("nae", .b), ("nc", .ae), ("nb", .ae), ("z", .e), ("nz", .ne),
                                                                 ("na", .be), ("nbe", .a), ("pe", .p), ("po", .np), ("nge", .l), ("nl", .ge),
                                                                 ("ng", .le), ("nle", .g)])

    /// One instruction, its result in the guest's register; false when not translated yet.
    static func translate(_ ins: Instruction, into asm: inout X86Assembler) -> Bool {
        let ops = ins.operands(), mnemonic = ins.mnemonic
        guard case .register(let dst)? = ops.first, dst.kind == .gpr64 || dst.kind == .gpr32 else { return false }
        let size = dst.kind == .gpr64 ? 8 : 4, target = gpr(Int(dst.number))
        let alu = X86Assembler.ALU.allCases.first { $0.mnemonic == mnemonic }
        let writes = mnemonic != "cmp" && mnemonic != "test"
        var flags = true
        switch (ops.count, ops.count > 1 ? ops[1] : nil) {
        case (2, .register(let src)?) where src.kind == dst.kind:
            asm.mov(size: 8, a, target)
            asm.mov(size: 8, c, gpr(Int(src.number)))
            if let alu {
                if alu == .adc || alu == .sbb { loadFlags(&asm) }
                asm.alu(alu, size: size, a, c)
            } else if mnemonic == "mov" {
                asm.mov(size: size, a, c)
                flags = false
            } else if mnemonic == "test" {
                asm.test(size: size, a, c)
            } else if mnemonic == "imul" {
                asm.imul(size: size, a, c)
            } else if mnemonic.hasPrefix("cmov"), let cc = conditions[String(mnemonic.dropFirst(4))] {
                loadFlags(&asm)
                asm.cmov(cc, size: size, a, c)
                flags = false
            } else {
                return false
            }
        case (2, .register(let src)?) where mnemonic == "movzx" || mnemonic == "movsx" || mnemonic == "movsxd":
            guard src.kind == .gpr8 || src.kind == .gpr16 || (src.kind == .gpr32 && mnemonic == "movsxd" && size == 8) else { return false }
            asm.mov(size: 8, c, gpr(Int(src.number)))
            asm.extend(signed: mnemonic != "movzx", size: size, a, from: src.size, c)
            flags = false
        case (2, .immediate(let v, _)?):
            guard let alu else { return false }
            asm.mov(size: 8, a, target)
            if alu == .adc || alu == .sbb { loadFlags(&asm) }
            asm.alu(alu, size: size, a, immediate: Int32(truncatingIfNeeded: v))
        case (2, .memory(let m)?) where mnemonic == "lea":
            // An address computed, no memory touched (RIP-relative and 32-bit addressing wait).
            guard m.addressSize == 8, m.base.map({ $0.kind == .gpr64 }) ?? true,
                  m.index.map({ $0.kind == .gpr64 }) ?? true, let displacement = Int32(exactly: m.displacement) else { return false }
            if let b = m.base { asm.mov(size: 8, c, gpr(Int(b.number))) }
            if let i = m.index { asm.mov(size: 8, d, gpr(Int(i.number))) }
            asm.lea(size: size, a, X86Assembler.Memory(base: m.base == nil ? nil : c, index: m.index == nil ? nil : d,
                                                      scale: Int(m.scale), displacement: displacement))
            flags = false
        case (1, nil):
            let unary: [String: X86Assembler.Unary] = ["not": .not, "neg": .neg, "inc": .inc, "dec": .dec]
            guard let u = unary[mnemonic] else { return false }
            asm.mov(size: 8, a, target)
            // INC and DEC leave CF as it was: the guest's.
            if u == .inc || u == .dec { loadFlags(&asm) }
            asm.unary(u, size: size, a)
            flags = u != .not
        default:
            return false
        }
        if writes { asm.mov(size: 8, target, a) }       // a 32-bit result is zero-extended in RAX
        if flags { storeFlags(&asm) }
        return true
    }
}
