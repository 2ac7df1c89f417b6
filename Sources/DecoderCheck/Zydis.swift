import CZydis
import X86

/// Zydis 4.0 as the second reference: it arbitrates where Capstone 4.0.2 is
/// known to be wrong. Results come out in the same normalized form.
public final class ZydisOracle {
    private var decoder = ZydisDecoder()
    private let operands: UnsafeMutablePointer<ZydisDecodedOperand>
    public let mode: CPUMode

    public init(mode: CPUMode) {
        self.mode = mode
        let (m, w): (ZydisMachineMode, ZydisStackWidth) = switch mode {
        case .bits64: (ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64)
        case .bits32: (ZYDIS_MACHINE_MODE_LEGACY_32, ZYDIS_STACK_WIDTH_32)
        case .bits16: (ZYDIS_MACHINE_MODE_LEGACY_16, ZYDIS_STACK_WIDTH_16)
        }
        ZydisDecoderInit(&decoder, m, w)
        // No MPX: Intel has dropped it and this host does not have it, so 0F 1A/1B are hint NOPs.
        ZydisDecoderEnableMode(&decoder, ZYDIS_DECODER_MODE_MPX, 0)
        operands = .allocate(capacity: Int(ZYDIS_MAX_OPERAND_COUNT))
    }

    deinit { operands.deallocate() }

    /// The instruction with the operands its formatter shows (explicit, and implicit ones
    /// such as the accumulator of `add eax, imm32`), or nil when Zydis rejects the bytes.
    public func decode(_ bytes: UnsafeBufferPointer<UInt8>, address: UInt64) -> NormalizedInstruction? {
        var ins = ZydisDecodedInstruction()
        let status = ZydisDecoderDecodeFull(&decoder, bytes.baseAddress, bytes.count, &ins, operands)
        guard status & 0x8000_0000 == 0 else { return nil }
        let name = ZydisMnemonicGetString(ins.mnemonic).map { String(cString: $0) } ?? "?"
        var ops: [NormalizedOperand] = []
        // String instructions: Zydis hides their memory operands; they are listed so segments compare.
        let isString = KnownClasses.stringMnemonics.contains(name)
        for i in 0..<Int(ins.operand_count) {
            let op = operands[i]
            if op.visibility == ZYDIS_OPERAND_VISIBILITY_HIDDEN && !(isString && op.type == ZYDIS_OPERAND_TYPE_MEMORY) { continue }
            switch op.type {
            case ZYDIS_OPERAND_TYPE_REGISTER:
                // An unmasked EVEX instruction still lists k0 as its writemask; Intel syntax does not.
                if op.encoding == ZYDIS_OPERAND_ENCODING_MASK && op.reg.value == ZYDIS_REGISTER_K0 { continue }
                ops.append(.register(Self.registerName(op.reg.value) ?? "?"))
            case ZYDIS_OPERAND_TYPE_MEMORY:
                let m = op.mem
                // The effective segment of every memory operand (see KnownClasses.withoutDefaultSegments).
                let seg = Self.registerName(m.segment)
                var base = Self.registerName(m.base)
                var disp = UInt64(bitPattern: m.disp.value)
                // Zydis 4.0 erratum: with 32-bit addressing, REX.B and SIB.base = 101 under mod = 00
                // it reports base r13d and no displacement; the encoding means disp32 with no base
                // (SDM vol. 2, table 2-3 note; objdump agrees).
                if base == "r13d", ins.raw.modrm.mod == 0, ins.raw.sib.offset != 0, ins.raw.sib.base & 7 == 5 {
                    base = nil
                    disp = UInt64(bitPattern: ins.raw.disp.value)
                }
                ops.append(.memory(segment: seg, base: base, index: Self.registerName(m.index),
                                   scale: Int(m.scale), displacement: disp, size: Int(op.size) / 8))
            case ZYDIS_OPERAND_TYPE_IMMEDIATE:
                if op.imm.is_relative != 0 {
                    var target: UInt64 = 0
                    var o = op
                    ZydisCalcAbsoluteAddress(&ins, &o, address, &target)
                    // Outside 64-bit mode EIP is 32 bits wide; Zydis leaves the target sign-extended.
                    if mode != .bits64 { target &= 0xFFFF_FFFF }
                    ops.append(.immediate(target, bits: 64))
                } else {
                    ops.append(.immediate(op.imm.value.u, bits: Int(op.size)))
                }
            case ZYDIS_OPERAND_TYPE_POINTER:
                ops.append(.immediate(UInt64(op.ptr.segment), bits: 16))
                ops.append(.immediate(UInt64(op.ptr.offset), bits: 64))
            default:
                break
            }
        }
        let avx = ins.avx
        let b = avx.broadcast
        let broadcast: Int? = (b.is_static == 0 && b.mode.rawValue >= ZYDIS_BROADCAST_MODE_1_TO_2.rawValue
                               && b.mode.rawValue <= ZYDIS_BROADCAST_MODE_1_TO_64.rawValue)
            ? 1 << Int(b.mode.rawValue) : nil
        let rounding = avx.rounding.mode == ZYDIS_ROUNDING_MODE_INVALID ? nil : Int(avx.rounding.mode.rawValue) - 1
        return NormalizedInstruction(length: Int(ins.length), mnemonic: name, operands: ops,
                                     decorations: NormalizedInstruction.decorations(
                                        // The encoded z bit: Zydis also calls a compare into k "zeroing".
                                        zeroing: ins.encoding == ZYDIS_INSTRUCTION_ENCODING_EVEX && ins.raw.evex.z != 0,
                                        broadcast: broadcast,
                                        rounding: rounding, sae: avx.has_sae != 0))
    }

    /// Zydis spells x87 registers st0..st7; the others as softvmm does.
    static func registerName(_ r: ZydisRegister) -> String? {
        guard r != ZYDIS_REGISTER_NONE, let p = ZydisRegisterGetString(r) else { return nil }
        let s = String(cString: p)
        if s.hasPrefix("st"), s.count == 3, let d = s.last { return "st(\(d))" }
        return s
    }
}
