// Decode throughput: softvmm's decoder beside Capstone on the same corpus (the
// .text of libc.so.6 by default), decoded linearly, in one run.
//
//   swift build -c release --product decoder-bench && .build/release/decoder-bench [ELF] [rounds]
import CCapstone
import DecoderCheck
import Foundation
import X86
import X86Decoder

let args = CommandLine.arguments
let path = args.count > 1 ? args[1] : "/lib/x86_64-linux-gnu/libc.so.6"
let rounds = args.count > 2 ? Int(args[2]) ?? 5 : 5
let text: ELFText
do { text = try ELFText(path: path) } catch { print("decoder-bench: \(error)"); exit(1) }

func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }

/// Best of `rounds`: instructions per second.
func measure(_ name: String, _ body: () -> Int) -> Double {
    var best = 0.0
    var count = 0
    for _ in 0..<rounds {
        let t0 = now()
        count = body()
        let rate = Double(count) / (now() - t0)
        best = max(best, rate)
    }
    print(name.padding(toLength: 44, withPad: " ", startingAt: 0)
          + String(format: "%8.2f M instructions/s  (%d instructions)", best / 1e6, count))
    return best
}

let oursLength = text.bytes.withUnsafeBufferPointer { buf in
    measure("softvmm: length, operand forms") {
        let d = X86Decoder(mode: .bits64)
        var offset = 0, n = 0
        while offset < buf.count {
            let ins = d.decode(buf.baseAddress! + offset, count: min(15, buf.count - offset))
            offset += ins.status == .valid ? Int(ins.length) : 1
            n += 1
        }
        return n
    }
}
_ = text.bytes.withUnsafeBufferPointer { buf in
    measure("softvmm: plus the operand list") {
        let d = X86Decoder(mode: .bits64)
        var offset = 0, n = 0, sink = 0
        while offset < buf.count {
            let ins = d.decode(buf.baseAddress! + offset, count: min(15, buf.count - offset))
            sink &+= ins.operands(address: UInt64(offset)).count
            offset += ins.status == .valid ? Int(ins.length) : 1
            n += 1
        }
        return n + (sink & 0)
    }
}

func capstone(detail: Bool, _ text: ELFText) -> Double {
    var handle: csh = 0
    cs_open(CS_ARCH_X86, CS_MODE_64, &handle)
    defer { cs_close(&handle) }
    cs_option(handle, CS_OPT_DETAIL, Int(detail ? CS_OPT_ON.rawValue : CS_OPT_OFF.rawValue))
    let insn = cs_malloc(handle)
    defer { cs_free(insn, 1) }
    return text.bytes.withUnsafeBufferPointer { buf in
        measure("capstone 4.0.2: cs_disasm_iter, detail \(detail ? "on" : "off")") {
            var offset = 0, n = 0
            while offset < buf.count {
                var code: UnsafePointer<UInt8>? = buf.baseAddress! + offset
                var size = buf.count - offset
                var addr = UInt64(offset)
                if cs_disasm_iter(handle, &code, &size, &addr, insn) { offset += Int(insn!.pointee.size) } else { offset += 1 }
                n += 1
            }
            return n
        }
    }
}
let csDetail = capstone(detail: true, text)
let csPlain = capstone(detail: false, text)
print(String(format: "softvmm / capstone (detail on): %.1fx   (detail off): %.1fx", oursLength / csDetail, oursLength / csPlain))
