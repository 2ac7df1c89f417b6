// Stands in for Sources/X86ISA/Generated/Mnemonic.swift while `make isa` builds the
// generator, so that the generator builds whatever state the generated file is in.
public enum Mnemonic: UInt16, CaseIterable, Sendable {
    case unimplemented
}

extension Mnemonic {
    public static let featureNames: [String] = [""]
    static let spellings: [String] = [""]
    @usableFromInline static let table: [MnemonicFacts] = [MnemonicFacts(.unimplemented, executes: .unimplemented)]
}
