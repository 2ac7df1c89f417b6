import X86
import X86CPU
import X86Decoder

/// The first translations (issue 25): runs of register-only integer instructions, compiled to
/// host code over the vCPU's `RegisterFile`, which the host code reaches through RDI (its one
/// argument, `@convention(c) (UnsafeMutableRawPointer) -> Void`). Each guest instruction loads
/// its registers into RAX and RCX, runs as itself on the host (the host's flags are the
/// guest's: for ADC and SBB the guest's arithmetic flags are loaded first), stores the result
/// and the arithmetic flags back, and advances RIP and the retired count. Anything else is not
/// translated yet (nil): the interpreter runs it.
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
            guard ins.status == .valid, ins.mode == .bits64, ins.prefixes.isEmpty || ins.prefixes == [.rex] else { return nil }
            let ops = ins.operands()
            guard ops.count == 2, case .register(let dst) = ops[0], case .register(let src) = ops[1],
                  (dst.kind == .gpr64 && src.kind == .gpr64) || (dst.kind == .gpr32 && src.kind == .gpr32) else { return nil }
            let size = dst.kind == .gpr64 ? 8 : 4
            let mnemonic = ins.mnemonic
            let alu = X86Assembler.ALU.allCases.first { $0.mnemonic == mnemonic }
            guard alu != nil || mnemonic == "mov" || mnemonic == "test" else { return nil }
            asm.mov(size: 8, a, gpr(Int(dst.number)))
            asm.mov(size: 8, c, gpr(Int(src.number)))
            if alu == .adc || alu == .sbb {
                // The carry in: the guest's arithmetic flags into the host's (never TF or DF).
                asm.mov(size: 8, d, field(rflags))
                asm.alu(.and, size: 4, d, immediate: arithmeticFlags)
                asm.push(d)
                asm.popfq()
            }
            switch mnemonic {
            case "mov": asm.mov(size: size, a, c)
            case "test": asm.test(size: size, a, c)
            default: asm.alu(alu!, size: size, a, c)
            }
            if mnemonic != "cmp" && mnemonic != "test" {
                // A 32-bit result is zero-extended in RAX, as the guest's register gets it.
                asm.mov(size: 8, gpr(Int(dst.number)), a)
            }
            if mnemonic != "mov" {
                asm.pushfq()
                asm.pop(d)
                asm.alu(.and, size: 4, d, immediate: arithmeticFlags)
                asm.mov(size: 8, c, field(rflags))
                asm.alu(.and, size: 8, c, immediate: ~arithmeticFlags)
                asm.alu(.or, size: 8, c, d)
                asm.mov(size: 8, field(rflags), c)
            }
            asm.alu(.add, size: 8, field(rip), immediate: Int32(ins.length))
            asm.alu(.add, size: 8, field(retired), immediate: 1)
        }
        asm.ret()
        return asm.bytes
    }
}
