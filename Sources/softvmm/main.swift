import X86
import X86Decoder
let d = X86Decoder(mode: .bits64)
let f = IntelFormatter()
for arg in CommandLine.arguments.dropFirst() {
    var bytes: [UInt8] = []
    var s = Substring(arg)
    while s.count >= 2 { bytes.append(UInt8(s.prefix(2), radix: 16)!); s = s.dropFirst(2) }
    let ins = d.decode(bytes)
    print(arg, ins.status, ins.length, f.format(ins, address: 0x1000))
}
