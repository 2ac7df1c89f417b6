import CPUCheck
import Testing
import X86CPU

/// FSCALE with overflow or underflow unmasked, by so much that even the rescaled exponent
/// (SDM vol. 1, 8.5.4-8.5.5: 24576 taken off or added) does not fit. What an Intel host
/// delivers (a C program doing FNINIT, FLDCW, FLD, FLD1, FSCALE, FNSAVE): an infinity with OE,
/// PE and C1 (rounded up), or a zero with UE and PE. softvmm trapped on this (cpu-check
/// --seed 2718).
@Suite struct X87ScaleTests {
    /// FNINIT; FLD qword [rbx] (the scale); FLD1; FSCALE, with control word `fcw`: ST(0)
    /// (physical register 6) and the status word.
    func scale(_ by: Double, fcw: UInt16) -> (significand: UInt64, se: UInt16, fsw: UInt16) {
        let code: [UInt8] = [0xDB, 0xE3, 0xDD, 0x03, 0xD9, 0xE8, 0xD9, 0xFD]
        var data = [UInt8](repeating: 0, count: FlatMemory.dataSize)
        for i in 0..<8 { data[i] = UInt8(truncatingIfNeeded: by.bitPattern >> UInt64(8 * i)) }
        let cpu = CPU(memory: FlatMemory(data: data, code: code), model: CPUModel())
        cpu.state.rip = FlatMemory.codeBase
        cpu.state.gpr[3] = FlatMemory.dataBase
        cpu.state.cr0 |= 0x20 // CR0.NE: an unmasked exception waits for the next x87 instruction
        #expect(cpu.step() == .executed)
        cpu.state.fcw = fcw
        for _ in 0..<3 { #expect(cpu.step() == .executed) }
        let r = cpu.state.x87Register(6)
        return (r.significand, r.se, cpu.state.fsw)
    }

    @Test func overflowBeyondTheRescaledRangeIsInfinity() {
        let r = scale(1_048_576, fcw: 0x0377)
        #expect(r.se == 0x7FFF && r.significand == 1 << 63)
        #expect(r.fsw == 0xB2A8)
        // Within the rescaled range: the exponent less 24576 (16383 + 40000 - 24576).
        let inRange = scale(40_000, fcw: 0x0377)
        #expect(inRange.se == 0x7C3F && inRange.significand == 1 << 63 && inRange.fsw == 0xB088)
    }

    @Test func underflowBeyondTheRescaledRangeIsZero() {
        let r = scale(-40_959, fcw: 0x036F)
        #expect(r.se == 0 && r.significand == 0)
        #expect(r.fsw == 0xB0B0)
        let inRange = scale(-40_958, fcw: 0x036F)
        #expect(inRange.se == 1 && inRange.significand == 1 << 63 && inRange.fsw == 0xB090)
    }
}
