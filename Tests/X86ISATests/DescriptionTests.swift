import Foundation
import Testing
import X86Decoder
import X86ISA

/// The instruction-set description is one source: the generated Swift is what the generator
/// makes of it today, and the decoder's mnemonics and the description's agree.
@Suite struct DescriptionTests {
    /// Fails when Semantics.swift or the encodings changed and `make isa` was not run.
    @Test func generatedFileIsCurrent() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../Sources/X86ISA/Generated/Mnemonic.swift").standardized.path
        let committed = try String(contentsOfFile: path, encoding: .utf8)
        #expect(committed == (try ISAGenerator.source()), "Sources/X86ISA/Generated is stale: run `make isa`")
    }

    /// Every described mnemonic is one the decoder produces, and back: a decoded instruction's
    /// `op` prints as the decoder's mnemonic.
    @Test func decoderAndDescriptionAgree() {
        let names = Instruction.mnemonicNames, codes = Instruction.mnemonicCodes
        for m in Mnemonic.allCases.dropFirst() {
            #expect(codes.contains(m), "\(m.spelling) is described but no form decodes to it")
        }
        for (name, code) in zip(names, codes) where code != .unimplemented {
            #expect(code.name == name, "mnemonic \(name) maps to \(code.spelling)")
        }
        let d = X86Decoder(mode: .bits64)
        #expect(d.decode([0xF2, 0x0F, 0x10, 0xC1]).op == .movsdSSE)
        #expect(d.decode([0xF2, 0x0F, 0x10, 0xC1]).mnemonic == "movsd")
        #expect(d.decode([0xA5]).op == .movsd)
        #expect(d.decode([0xF3, 0x0F, 0x1E, 0xFA]).op.facts.executes == .nop)
        #expect(d.decode([0x0F, 0x44, 0xC1]).op.facts.condition == 4)  // cmove
    }

    /// Spot checks of the facts against the SDM's "Flags Affected".
    @Test func flagsFromTheSDM() {
        let cf: UInt32 = 1, pf: UInt32 = 4, af: UInt32 = 0x10, zf: UInt32 = 0x40, sf: UInt32 = 0x80, of: UInt32 = 0x800
        #expect(Mnemonic.adc.facts.reads == cf && Mnemonic.adc.facts.writes == of | sf | zf | af | pf | cf)
        #expect(Mnemonic.and.facts.undefined == af)
        #expect(Mnemonic.imul.facts.undefined == sf | zf | af | pf)
        #expect(Mnemonic.shl.facts.countRule == .countWide && Mnemonic.rcl.facts.countRule == .count)
        #expect(Mnemonic.jbe.facts.reads == cf | zf && Mnemonic.cmovl.facts.reads == sf | of)
        #expect(Mnemonic.invpcid.facts.gated && Mnemonic.invpcid.facts.feature == "invpcid")
        #expect(Mnemonic.fsin.family == .x87 && Mnemonic.cmpsdSSE.family == .sseFloat && Mnemonic.cmpsd.family == .integer)
    }
}
