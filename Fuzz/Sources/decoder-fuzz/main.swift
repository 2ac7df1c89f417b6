// libFuzzer target for X86Decoder: the checks are DecoderCheck.FuzzCheck (shared
// with the test that replays Fixtures/fuzz/decoder/). A failed check aborts, and
// libFuzzer saves the input as crash-*. Recipe: README.md, "Fuzzing the decoder".
import DecoderCheck
import Foundation

nonisolated(unsafe) let check = FuzzCheck()

@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<Int32>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32) -> Int32

let testOneInput: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32 = { data, size in
    guard let data, size > 0 else { return 0 }
    let input = UnsafeBufferPointer(start: data, count: size)
    if let problem = check.problem(input) {
        print("decoder-fuzz: \(problem): " + input.map { String($0, radix: 16) }.joined(separator: " "))
        fatalError(problem)
    }
    return 0
}

var argc = CommandLine.argc
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&argc, &argv, testOneInput))
