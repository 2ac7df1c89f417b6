import X86
import X86Decoder

/// A linear disassembly listing, optionally with Capstone's reading beside
/// each line and a marker where the two disagree.
public struct DisassemblyListing {
    public var text = ""
    public var instructions = 0
    public var disagreements = 0

    public init(bytes: [UInt8], mode: CPUMode, base: UInt64, check: Bool) {
        let decoder = X86Decoder(mode: mode)
        let formatter = IntelFormatter()
        let capstone = check ? CapstoneOracle(mode: mode) : nil
        var offset = 0
        bytes.withUnsafeBufferPointer { buf in
            while offset < buf.count {
                let p = buf.baseAddress! + offset
                let n = min(15, buf.count - offset)
                let ins = decoder.decode(p, count: n)
                let length = ins.status == .valid ? Int(ins.length) : 1
                let address = base &+ UInt64(offset)
                let hexText = (0..<length).map { hexByte(p[$0]) }.joined(separator: " ")
                let ours = ins.status == .valid ? formatter.format(ins, address: address) : "(bad)"
                var line = String(address, radix: 16).leftPadded(to: 12) + ":  "
                    + hexText.rightPadded(to: 30) + ours
                if let capstone {
                    let csText = capstone.text(UnsafeBufferPointer(start: p, count: n), address: address)
                    let agrees = (csText == nil && ins.status != .valid) || csText?.length == length
                    line = line.rightPadded(to: 90) + "| " + (csText?.text ?? "(bad)") + (agrees ? "" : "   <<< length")
                    if !agrees { disagreements += 1 }
                }
                text += line + "\n"
                instructions += 1
                offset += length
            }
        }
    }
}

extension String {
    func leftPadded(to n: Int) -> String { count >= n ? self : String(repeating: " ", count: n - count) + self }
    func rightPadded(to n: Int) -> String { count >= n ? self + " " : self + String(repeating: " ", count: n - count) }
}
