import X86
import X86Decoder

/// The checks the libFuzzer target (Fuzz/) runs on every input, shared with the
/// test that replays the inputs it found (Fixtures/fuzz/decoder/). In 64-, 32-
/// and 16-bit mode:
/// - a valid instruction is at most 15 bytes and fits the input; re-decoding
///   exactly its bytes gives the same instruction; formatting works;
/// - the Capstone comparison, on the input padded with zeros to 15 bytes (so a
///   reference that misjudges the length shows it as a length), leaves nothing
///   unexplained.
/// Reading past the input is caught by AddressSanitizer in the fuzzer.
public final class FuzzCheck {
    let checkers = [CPUMode.bits64, .bits32, .bits16].map { DecoderChecker(mode: $0) }
    let formatter = IntelFormatter()

    public init() {}

    /// What is wrong with this input, or nil.
    public func problem(_ input: UnsafeBufferPointer<UInt8>) -> String? {
        guard let data = input.baseAddress, input.count > 0 else { return nil }
        var padded = [UInt8](repeating: 0, count: 15)
        for i in 0..<min(input.count, 15) { padded[i] = data[i] }
        for checker in checkers {
            let ins = checker.decoder.decode(data, count: input.count)
            if ins.status == .valid {
                if ins.length > 15 || Int(ins.length) > input.count { return "\(checker.mode): length \(ins.length) out of range" }
                let again = checker.decoder.decode(data, count: Int(ins.length))
                if again.status != .valid || again.length != ins.length || again.form != ins.form
                    || again.operands() != ins.operands() {
                    return "\(checker.mode): re-decoding the instruction's own bytes differs"
                }
                _ = formatter.format(ins, address: DecoderChecker.address)
            }
            let verdict = padded.withUnsafeBufferPointer { checker.check($0).verdict }
            if case .unexplained(let what) = verdict {
                return "\(checker.mode): unexplained disagreement with Capstone in \(what)"
            }
        }
        return nil
    }
}
