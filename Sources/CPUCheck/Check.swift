import CHostCPU
import X86
import X86ISA
@_spi(Translator) import X86CPU
import X86Decoder

/// Instruction families of the cpu-check generator.
public enum Family: String, CaseIterable, Sendable {
    case alu, unary, move, stack, branch, condition, shift, muldiv, bits, misc, string, exchange, count, bmi, sse, ssefloat, sse4, x87, mmx

    /// Opcode heads (escape bytes and opcode); ModRM, SIB, displacement and immediates follow at random.
    var heads: [[UInt8]] {
        switch self {
        case .alu:
            var h: [[UInt8]] = []
            for base in stride(from: 0x00, through: 0x38, by: 8) { for k in 0...5 { h.append([UInt8(base + k)]) } }
            return h + [[0x80], [0x81], [0x83], [0x84], [0x85], [0xA8], [0xA9], [0xF6], [0xF7]]
        case .unary: return [[0xFE], [0xFF], [0xF6], [0xF7]]
        case .move:
            return [[0x88], [0x89], [0x8A], [0x8B], [0xC6], [0xC7], [0x63], [0x8D], [0x86], [0x87],
                    [0x0F, 0xB6], [0x0F, 0xB7], [0x0F, 0xBE], [0x0F, 0xBF]]
                + (0xB0...0xBF).map { [UInt8($0)] } + (0x90...0x97).map { [UInt8($0)] } + (0xC8...0xCF).map { [0x0F, UInt8($0)] }
        case .stack: return (0x50...0x5F).map { [UInt8($0)] } + [[0x6A], [0x68], [0xFF], [0x8F], [0xC8], [0xC8], [0xC9], [0x9C], [0x9D]]
        case .branch: return (0x70...0x7F).map { [UInt8($0)] } + [[0xE0], [0xE1], [0xE2], [0xE3], [0xEB], [0xE9], [0xE8], [0xC3], [0xC2], [0xFF]]
        case .condition: return (0x90...0x9F).map { [0x0F, UInt8($0)] } + (0x40...0x4F).map { [0x0F, UInt8($0)] }
        case .shift: return [[0xC0], [0xC1], [0xD0], [0xD1], [0xD2], [0xD3]]
        case .muldiv: return [[0xF6], [0xF7], [0x0F, 0xAF], [0x69], [0x6B]]
        case .bits: return [[0x0F, 0xA3], [0x0F, 0xAB], [0x0F, 0xB3], [0x0F, 0xBB], [0x0F, 0xBA], [0x0F, 0xBC], [0x0F, 0xBD]]
        case .misc: return [[0xF5], [0xF8], [0xF9], [0xFC], [0xFD], [0x9E], [0x9F], [0x98], [0x99], [0xC9],
                            [0x0F, 0x38, 0xF0], [0x0F, 0x38, 0xF1], [0xF2, 0x0F, 0x38, 0xF0], [0xF2, 0x0F, 0x38, 0xF1]]
        case .string: return [[0xA4], [0xA5], [0xA6], [0xA7], [0xAA], [0xAB], [0xAC], [0xAD], [0xAE], [0xAF]]
        case .exchange: return [[0x0F, 0xC0], [0x0F, 0xC1], [0x0F, 0xB0], [0x0F, 0xB1], [0x0F, 0xC7]]
        case .count: return [[0xF3, 0x0F, 0xB8], [0xF3, 0x0F, 0xBC], [0xF3, 0x0F, 0xBD], [0x0F, 0xA4], [0x0F, 0xA5], [0x0F, 0xAC], [0x0F, 0xAD]]
        case .sse:
            let ops66: [UInt8] = [0x6F, 0x7F, 0xD4, 0xDB, 0xDF, 0xEB, 0xEF, 0xFC, 0xFD, 0xFE, 0xF8, 0xF9, 0xFA, 0xFB,
                                  0x74, 0x75, 0x76, 0x64, 0x65, 0x66, 0x60, 0x61, 0x62, 0x6C, 0x68, 0x69, 0x6A, 0x6D,
                                  0x70, 0xD7, 0xDA, 0xDE, 0xEA, 0xEE, 0xE0, 0xE3, 0xD8, 0xD9, 0xDC, 0xDD, 0xE8, 0xE9,
                                  0xEC, 0xED, 0xD5, 0xE5, 0xE4, 0xF4, 0x71, 0x72, 0x73, 0xD1, 0xD2, 0xD3, 0xE1, 0xE2,
                                  0xF1, 0xF2, 0xF3, 0x6E, 0x7E, 0xD6, 0x28, 0x29, 0x10, 0x11, 0x54, 0x55, 0x56, 0x57]
            return ops66.map { [0x66, 0x0F, $0] } + [[0xF3, 0x0F, 0x6F], [0xF3, 0x0F, 0x7F], [0xF3, 0x0F, 0x7E]]
                + [0x28, 0x29, 0x10, 0x11, 0x54, 0x55, 0x56, 0x57].map { [0x0F, $0] }
        case .ssefloat:
            let np: [UInt8] = [0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x28, 0x29, 0x2B, 0x2E, 0x2F, 0x50, 0x51,
                               0x52, 0x53, 0x58, 0x59, 0x5A, 0x5B, 0x5C, 0x5D, 0x5E, 0x5F, 0xC2, 0xC6, 0xAE, 0xC3, 0x18]
            let p66: [UInt8] = [0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x28, 0x29, 0x2B, 0x2E, 0x2F, 0x50, 0x51,
                                0x58, 0x59, 0x5A, 0x5B, 0x5C, 0x5D, 0x5E, 0x5F, 0xC2, 0xC6, 0x7C, 0x7D, 0xD0, 0xE6, 0xE7]
            let f3: [UInt8] = [0x10, 0x11, 0x12, 0x16, 0x2A, 0x2C, 0x2D, 0x51, 0x52, 0x53, 0x58, 0x59, 0x5A, 0x5B, 0x5C,
                               0x5D, 0x5E, 0x5F, 0xC2, 0xE6]
            let f2: [UInt8] = [0x10, 0x11, 0x12, 0x2A, 0x2C, 0x2D, 0x51, 0x58, 0x59, 0x5A, 0x5C, 0x5D, 0x5E, 0x5F, 0xC2,
                               0x7C, 0x7D, 0xD0, 0xE6, 0xF0]
            return np.map { [0x0F, $0] } + p66.map { [0x66, 0x0F, $0] } + f3.map { [0xF3, 0x0F, $0] } + f2.map { [0xF2, 0x0F, $0] }
        case .mmx:
            // Every MMX opcode (no prefix), the SSSE3 forms on MMX registers, and the MMX/XMM
            // conversions and moves.
            let np: [UInt8] = Array(0x60...0x70) + Array(0x71...0x77) + [0x7E, 0x7F, 0xC4, 0xC5, 0x2A, 0x2C, 0x2D]
                + Array(0xD1...0xFE).filter { $0 != 0xD6 && $0 != 0xE6 && $0 != 0xF0 }
            return np.map { [0x0F, $0] } + (Array(0x00...0x0B) + [0x1C, 0x1D, 0x1E]).map { [0x0F, 0x38, $0] }
                + [[0x0F, 0x3A, 0x0F], [0x66, 0x0F, 0x2A], [0x66, 0x0F, 0x2C], [0x66, 0x0F, 0x2D],
                   [0xF3, 0x0F, 0xD6], [0xF2, 0x0F, 0xD6]]
        case .x87:
            return (0xD8...0xDF).map { [UInt8($0)] } + [[0x9B], [0x0F, 0xAE]]
        case .sse4:
            // SSE2's remaining integer forms, SSSE3, SSE4.1, SSE4.2, PCLMULQDQ.
            let p66: [[UInt8]] = [0x63, 0x67, 0x6B, 0xF5, 0xF6, 0xC4, 0xC5, 0xF7].map { [0x66, 0x0F, $0] }
            let map38: [UInt8] = Array(0x00...0x0B) + [0x1C, 0x1D, 0x1E, 0x10, 0x14, 0x15, 0x17] + Array(0x20...0x25)
                + Array(0x28...0x2B) + Array(0x30...0x35) + Array(0x37...0x41)
            let map3A: [UInt8] = Array(0x08...0x0F) + [0x14, 0x15, 0x16, 0x17, 0x20, 0x21, 0x22, 0x40, 0x41, 0x42, 0x44,
                                                       0x60, 0x61, 0x62, 0x63]
            return p66 + [[0xF2, 0x0F, 0x70], [0xF3, 0x0F, 0x70]] + map38.map { [0x66, 0x0F, 0x38, $0] }
                + map3A.map { [0x66, 0x0F, 0x3A, $0] }
        case .bmi:
            // VEX.LZ.0F38 F2/F3/F5/F6/F7 and VEX.LZ.0F3A F0 with each pp and W; ADCX/ADOX.
            var h: [[UInt8]] = [[0x66, 0x0F, 0x38, 0xF6], [0xF3, 0x0F, 0x38, 0xF6]]
            for op: UInt8 in [0xF2, 0xF3, 0xF5, 0xF6, 0xF7] {
                for pp: UInt8 in 0...3 { for w: UInt8 in 0...1 { h.append([0xC4, 0xE2, w << 7 | 0x78 | pp, op]) } }
            }
            for w: UInt8 in 0...1 { h.append([0xC4, 0xE3, w << 7 | 0x7B, 0xF0]) }
            return h
        }
    }
}

/// One generated case: the instruction and the state it starts from.
public struct CPUCase: Sendable {
    public var family: Family
    public var bytes: [UInt8]
    public var gpr: [UInt64]
    public var rflags: UInt64
    public var data: [UInt8]
    /// The x87, MXCSR and XMM state, as an FXSAVE image.
    public var fx: [UInt8]

    public init(family: Family, bytes: [UInt8], gpr: [UInt64], rflags: UInt64, data: [UInt8], fx: [UInt8]) {
        self.family = family
        self.bytes = bytes
        self.gpr = gpr
        self.rflags = rflags
        self.data = data
        self.fx = fx
    }

    public var reproducer: String {
        var s = "bytes: " + bytes.map { String($0, radix: 16).leftPad(2) }.joined(separator: " ")
        s += "  (" + IntelFormatter().format(X86Decoder(mode: .bits64).decode(bytes), address: FlatMemory.codeBase) + ")"
        let names = ["rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15"]
        s += "\n    initial: " + zip(names, gpr).map { "\($0)=\(hex($1))" }.joined(separator: " ") + " rflags=\(hex(rflags))"
        return s
    }
}

extension String {
    func leftPad(_ n: Int) -> String { String(repeating: "0", count: max(0, n - count)) + self }
}

/// Produces cases from a seed: a family's opcodes with random prefixes (66, REX), ModRM,
/// SIB, displacement and immediates, random registers and flags, and memory operands
/// pointed into the data pages.
public struct CPUCaseGenerator {
    var rng: SplitMix64
    let decoder = X86Decoder(mode: .bits64, vendor: hostVendor)
    let implemented: (Instruction) -> Bool

    public init(seed: UInt64) {
        rng = SplitMix64(seed: seed)
        implemented = { CPUOps.isImplemented($0) }
    }

    mutating func random(_ n: Int) -> Int { Int(rng.next() % UInt64(n)) }

    public mutating func next(family: Family? = nil) -> CPUCase {
        while true {
            let f = family ?? Family.allCases[random(Family.allCases.count)]
            let heads = f.heads
            var bytes: [UInt8] = []
            var head = heads[random(heads.count)]
            if head[0] == 0xC4 { head[2] = (head[2] & 0x87) | UInt8(random(16)) << 3 } // VEX.vvvv names a source
            if f == .string {
                if random(3) != 0 { bytes.append(random(2) == 0 ? 0xF3 : 0xF2) }
                if random(4) == 0 { bytes.append(0x67) }
            }
            if head[0] == 0x66 || head[0] == 0xF3 || head[0] == 0xF2 {
                // A mandatory prefix, then perhaps REX, then the escape and opcode.
                bytes.append(head[0])
                if random(2) == 0 { bytes.append(0x40 | UInt8(random(16))) }
                head.removeFirst()
            } else if head[0] != 0xC4 {
                if random(4) == 0 { bytes.append(0x66) }
                if random(2) == 0 { bytes.append(0x40 | UInt8(random(16))) }
            }
            bytes += head
            for _ in 0..<12 { bytes.append(UInt8(truncatingIfNeeded: rng.next())) }
            // Half the ModRM bytes are register forms.
            let modrmAt = bytes.count - 12
            if random(2) == 0 { bytes[modrmAt] |= 0xC0 }
            let ins = decoder.decode(bytes)
            guard ins.status == .valid, implemented(ins), !ins.prefixes.contains(.segment) else { continue }
            // Time, entropy and identification are softvmm's own model, not the host's.
            if [.rdrand, .rdseed, .cpuid, .rdtsc, .rdtscp].contains(ins.op) { continue }
            bytes = Array(bytes.prefix(Int(ins.length)))
            let operands = ins.operands(address: FlatMemory.codeBase)
            // A branch to itself looks like a REP iteration to the host harness (RIP stays on it).
            if operands.contains(.relative(target: FlatMemory.codeBase)) { continue }
            var gpr = (0..<16).map { _ in random(4) == 0 ? UInt64(random(256)) : rng.next() }
            gpr[GPR.rsp] = FlatMemory.dataBase + 0x1000 + UInt64(random(32)) * 8
            var data = (0..<FlatMemory.dataSize).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            if [.popf, .popfd, .popfq].contains(ins.op) {
                // The host harness single-steps with TF: a POPF image without TF would end the tracing.
                // AC stays clear: with Linux's CR0.AM, AC set would make the harness's own handler
                // raise alignment checks.
                data[Int(gpr[GPR.rsp] - FlatMemory.dataBase) + 1] |= 0x01
                data[Int(gpr[GPR.rsp] - FlatMemory.dataBase) + 2] &= ~0x04
            }
            if ins.op == .enter || ins.op == .leave {
                guard case .immediate(let level, _) = operands.last ?? .immediate(0, size: 1),
                      ins.op == .leave || level & 31 < 8 else { continue }
                gpr[GPR.rbp] = FlatMemory.dataBase + 0x800 + UInt64(random(0x100)) * 8
            }
            if ins.op == .maskmovdqu || ins.op == .maskmovq {
                gpr[GPR.rdi] = FlatMemory.dataBase + 0x600 + UInt64(random(0xC00))
            }
            if f == .string {
                gpr[GPR.rcx] = UInt64(random(4) == 0 ? random(600) : random(40))
                gpr[GPR.rsi] = FlatMemory.dataBase + 0x600 + UInt64(random(0xC00))
                gpr[GPR.rdi] = FlatMemory.dataBase + 0x600 + UInt64(random(0xC00))
            }
            // Point a memory operand into the data pages.
            if ins.hasMemoryOperand {
                guard let m = firstMemoryOperand(operands), let base = m.base, base.kind != .instructionPointer else { continue }
                var want = FlatMemory.dataBase + 0x200 + UInt64(random(0x1800))
                if random(2) == 0 { want &= ~15 } // SSE forms fault on misaligned 16-byte operands
                var rest = UInt64(bitPattern: m.displacement)
                if let i = m.index {
                    if Int(i.number) == 4 || i.number == base.number { continue }
                    gpr[Int(i.number)] = UInt64(random(64))
                    rest &+= gpr[Int(i.number)] &* UInt64(m.scale)
                }
                if base.number == 4 {
                    let ea = HostExecution.effectiveAddress(m, gpr: gpr)
                    guard ea >= FlatMemory.dataBase + 0x10, ea + 16 <= FlatMemory.dataBase + UInt64(FlatMemory.dataSize) else { continue }
                } else {
                    gpr[Int(base.number)] = want &- rest
                    if m.addressSize == 4 { gpr[Int(base.number)] &= 0xFFFF_FFFF }
                    guard HostExecution.effectiveAddress(m, gpr: gpr) == want else { continue }
                    // Now and then a non-canonical address: #GP (or #SS through RBP) on both sides.
                    if m.addressSize == 8 && random(16) == 0 { gpr[Int(base.number)] ^= 0x8000_0000_0000_0000 }
                }
            }
            // FXRSTOR and LDMXCSR fault (#GP) on MXCSR's reserved bits, which random memory nearly
            // always has: half the time the image holds a valid MXCSR, so the loads run too.
            let mxcsrOffset: Int? = switch ins.op {
            case .fxrstor, .fxrstor64: 24
            case .ldmxcsr: 0
            default: nil
            }
            if let mxcsrOffset, random(2) == 0, let m = firstMemoryOperand(operands) {
                let o = Int(truncatingIfNeeded: HostExecution.effectiveAddress(m, gpr: gpr) &- FlatMemory.dataBase) + mxcsrOffset
                if o >= 0 && o + 4 <= data.count { data[o + 2] = 0; data[o + 3] = 0 }
            }
            // A 16-bit SHLD/SHRD by more than 16 is undefined.
            if (ins.op == .shld || ins.op == .shrd) && ins.operandSize == 2 && CPUOps.shiftCount(ins, gpr: gpr).count > 16 {
                continue
            }
            let flags = rng.next() & (Flag.status | Flag.df) | 0x202
            return CPUCase(family: f, bytes: bytes, gpr: gpr, rflags: flags, data: data, fx: floatState())
        }
    }
}

extension CPUCaseGenerator {
    /// A random x87/SSE state as an FXSAVE image: values drawn from every class (normal
    /// numbers near one and across the range, zeros, infinities, NaNs, denormals, and for the
    /// x87 the unsupported encodings), random rounding and precision, usually masked
    /// exceptions, random sticky flags.
    mutating func floatState() -> [UInt8] {
        var image = [UInt8](repeating: 0, count: 512)
        func put(_ offset: Int, _ v: UInt64, _ size: Int) {
            for i in 0..<size { image[offset + i] = UInt8(truncatingIfNeeded: v >> (8 * UInt64(i))) }
        }
        // MXCSR: flags, masks (all set three times in four), DAZ, RC, FTZ.
        var mxcsr = UInt64(random(64)) | (random(4) == 0 ? UInt64(random(64)) : 0x3F) << 7
        mxcsr |= UInt64(random(4)) << 13 | (random(4) == 0 ? 1 << 15 : 0) | (random(4) == 0 ? 1 << 6 : 0)
        put(24, mxcsr, 4)
        // FCW: masks (all set three times in four), PC, RC; FSW: flags consistent with the
        // masks (ES and B set when an unmasked flag is), C0-C3, TOP.
        let masks = random(4) == 0 ? UInt64(random(64)) : 0x3F
        let fcw = masks | 0x40 | UInt64(random(4)) << 8 | UInt64(random(4)) << 10
        var fsw = UInt64(random(128)) & 0x7F & ~0x40 | UInt64(random(16)) << 8 & 0x4700 | UInt64(random(8)) << 11
        if fsw & ~masks & 0x3F != 0 { fsw |= 0x8080 }
        put(0, fcw, 2)
        put(2, fsw, 2)
        put(4, UInt64(random(256)), 1)
        for i in 0..<8 {
            let (sig, se) = extendedValue()
            put(32 + 16 * i, sig, 8)
            put(40 + 16 * i, UInt64(se), 2)
        }
        for i in 0..<32 { put(160 + 8 * i, vectorQuadword(), 8) }
        return image
    }

    /// A quadword of vector data: random bits, two singles, a double, or small integers.
    mutating func vectorQuadword() -> UInt64 {
        switch random(6) {
        case 0: return rng.next()
        case 1: return UInt64(random(256))
        case 2, 3: return UInt64(single()) | UInt64(single()) << 32
        default: return double()
        }
    }

    mutating func single() -> UInt32 {
        let sign = UInt32(random(2)) << 31
        switch random(10) {
        case 0: return sign                                    // zero
        case 1: return sign | 0x7F80_0000                      // infinity
        case 2: return sign | 0x7F80_0000 | UInt32(random(2)) << 22 | UInt32(truncatingIfNeeded: rng.next()) & 0x3F_FFFF | 1 // NaN
        case 3: return sign | UInt32(truncatingIfNeeded: rng.next()) & 0x7F_FFFF  // denormal
        case 4: return sign | UInt32(random(2) == 0 ? 1 + random(4) : 250 + random(5)) << 23 | UInt32(truncatingIfNeeded: rng.next()) & 0x7F_FFFF
        default: return sign | UInt32(127 - 12 + random(24)) << 23 | UInt32(truncatingIfNeeded: rng.next()) & (random(2) == 0 ? 0x7F_FFFF : 0x7F_0000)
        }
    }

    mutating func double() -> UInt64 {
        let sign = UInt64(random(2)) << 63
        let fraction = rng.next() & (random(2) == 0 ? 0xF_FFFF_FFFF_FFFF : 0xF_FF00_0000_0000)
        switch random(10) {
        case 0: return sign
        case 1: return sign | 0x7FF0_0000_0000_0000
        case 2: return sign | 0x7FF0_0000_0000_0000 | UInt64(random(2)) << 51 | rng.next() & 0x7_FFFF_FFFF_FFFF | 1
        case 3: return sign | fraction
        case 4: return sign | UInt64(random(2) == 0 ? 1 + random(4) : 2040 + random(7)) << 52 | fraction
        case 5: return sign | UInt64(1023 + 31 + random(35)) << 52 | fraction     // beyond 32-bit integers
        default: return sign | UInt64(1023 - 30 + random(60)) << 52 | fraction
        }
    }

    /// An 80-bit value (significand, sign and exponent).
    mutating func extendedValue() -> (UInt64, UInt16) {
        let sign = UInt16(random(2)) << 15
        let sig = rng.next() & (random(2) == 0 ? ~0 : 0xFFFF_FF00_0000_0000) | 1 << 63
        switch random(12) {
        case 0: return (0, sign)
        case 1: return (1 << 63, sign | 0x7FFF)
        case 2: return (sig | UInt64(random(2)) << 62 | 1, sign | 0x7FFF)             // NaN
        case 3: return (sig & ~(1 << 63), sign)                                         // denormal
        case 4: return (sig, sign)                                                      // pseudo-denormal
        case 5: return (sig & ~(1 << 63), sign | UInt16(1 + random(0x7FFE)))            // unnormal
        case 6: return (sig, sign | UInt16(1 + random(0x7FFE)))                         // anywhere
        case 7: return (sig, sign | UInt16(random(2) == 0 ? 1 + random(8) : 0x7FF6 + random(9)))
        default: return (sig, sign | UInt16(0x3FFF - 40 + random(80)))
        }
    }
}

/// The x87 transcendental instructions: the SDM bounds their error (one ulp in the documented
/// ranges) but not their bits, which differ between Intel and AMD. Where softvmm's result and
/// the host's are both finite, of one sign, and within 4 ulps of each other, softvmm's is taken
/// as the host's; C1 (the direction of rounding) is not compared. F2XM1 outside −1 ≤ x ≤ 1 and
/// FYL2XP1 outside |x| < 1 − √2/2 are undefined: their result and flags are not compared.
struct TranscendentalCheck {
    let results: Int  // how many stack slots hold results after the instruction
    let undefinedOutside: Double?  // the operand range beyond which the result is undefined

    init?(_ op: Mnemonic) {
        switch op {
        case .fsin, .fcos, .fpatan, .fyl2x: (results, undefinedOutside) = (1, nil)
        case .fsincos, .fptan: (results, undefinedOutside) = (2, nil)
        case .f2xm1: (results, undefinedOutside) = (1, 1)
        case .fyl2xp1: (results, undefinedOutside) = (1, 1 - 2.0.squareRoot() / 2)
        default: return nil
        }
    }

    static func extended(_ fx: [UInt8], slot: Int) -> (UInt64, UInt16) {
        let o = 32 + 16 * slot
        let sig = (0..<8).reduce(UInt64(0)) { $0 | UInt64(fx[o + $1]) << (8 * UInt64($1)) }
        return (sig, UInt16(fx[o + 8]) | UInt16(fx[o + 9]) << 8)
    }

    func reconcile(input: [UInt8], host: inout [UInt8], softvmm: inout [UInt8]) {
        // C1 (status word bit 9) is the rounding direction.
        host[3] &= ~0x02
        softvmm[3] &= ~0x02
        if let limit = undefinedOutside {
            let (sig, se) = Self.extended(input, slot: 0)
            let e = Int(se & 0x7FFF) - 16383
            let magnitude = Double(sig) * pow2(e - 63)
            if se & 0x7FFF == 0x7FFF || magnitude >= limit {
                for o in 2..<4 { softvmm[o] = host[o] }      // the status word
                for o in 6..<24 { softvmm[o] = host[o] }     // FOP, FIP, FDP: they follow its exceptions
                for o in 32..<42 { softvmm[o] = host[o] }    // ST(0)
                return
            }
        }
        for slot in 0..<results {
            let h = Self.extended(host, slot: slot), s = Self.extended(softvmm, slot: slot)
            // Finite values of one sign, by ordinal: exponent and fraction read as one integer,
            // so that neighbouring values differ by one, across binades and into the denormals.
            guard h != s, h.1 & 0x8000 == s.1 & 0x8000, h.1 & 0x7FFF != 0x7FFF, s.1 & 0x7FFF != 0x7FFF else { continue }
            func ordinal(_ v: (UInt64, UInt16)) -> UInt128? {
                let e = UInt128(v.1 & 0x7FFF)
                if e == 0 { return v.0 >> 63 == 0 ? UInt128(v.0) : nil }       // denormal (not pseudo-denormal)
                return v.0 >> 63 == 1 ? e << 63 | UInt128(v.0 & ~(1 << 63)) : nil  // normal (not unnormal)
            }
            guard let a = ordinal(h), let b = ordinal(s) else { continue }
            let distance = a > b ? a - b : b - a
            if distance <= 4 {
                let o = 32 + 16 * slot
                for i in 0..<10 { softvmm[o + i] = host[o + i] }
            }
        }
    }
}

func pow2(_ e: Int) -> Double { e < -1074 ? 0 : (e > 1023 ? .infinity : Double(sign: .plus, exponent: e, significand: 1)) }

/// An instruction's first memory operand, if it has one.
func firstMemoryOperand(_ operands: [Operand]) -> MemoryOperand? {
    for case .memory(let m) in operands { return m }
    return nil
}

/// Which instructions the interpreter runs, and which flags the SDM leaves undefined (from
/// X86ISA's description).
public enum CPUOps {
    /// XSAVE and XRSTOR are left out: what they do depends on XCR0, and the host's (with AVX
    /// and more) is not the guest's; the fixture guests check them.
    static func isImplemented(_ ins: Instruction) -> Bool {
        interpreterImplements(ins) && ![.xsave, .xsave64, .xsaveopt, .xsaveopt64, .xrstor, .xrstor64].contains(ins.op)
    }

    /// A shift's or rotate's count as the CPU masks it (an immediate last operand, else CL,
    /// else 1), and the destination's width in bits.
    static func shiftCount(_ ins: Instruction, gpr: [UInt64]) -> (count: UInt64, bits: UInt64) {
        let ops = ins.operands(address: FlatMemory.codeBase)
        let bits: UInt64
        switch ops.first {
        case .register(let r)?: bits = UInt64(r.size * 8)
        case .memory(let m)?: bits = UInt64(m.size * 8)
        default: bits = 64
        }
        var count: UInt64 = 1
        if ops.count > 1 {
            if case .immediate(let v, _) = ops[ops.count - 1] { count = v & 0xFF } else { count = gpr[GPR.rcx] & 0xFF }
        }
        return (count & (bits == 64 ? 0x3F : 0x1F), bits)
    }

    /// RFLAGS bits the SDM calls undefined after `ins` from `gpr` (not compared).
    static func undefinedFlags(_ ins: Instruction, gpr: [UInt64]) -> UInt64 {
        let facts = ins.op.facts
        var undefined = UInt64(facts.undefined)
        guard facts.countRule != .none else { return undefined }
        let (count, bits) = shiftCount(ins, gpr: gpr)
        if count == 0 { return 0 }
        if count == 1 { undefined &= ~Flag.of }
        if facts.countRule == .countWide && count > bits { undefined |= Flag.cf | Flag.of }
        return undefined
    }
}

/// A difference between the host and softvmm on one case.
public struct CPUMismatch: Sendable, CustomStringConvertible {
    public var testCase: CPUCase
    public var host: CaseOutcome
    public var softvmm: CaseOutcome
    public var description: String {
        var text = "\(testCase.family): " + testCase.reproducer + "\n    host:    \(Self.show(host))\n    softvmm: \(Self.show(softvmm))"
        text += floatDifferences()
        return text
    }

    static func show(_ o: CaseOutcome) -> String {
        guard case .stepped(let s) = o else { return "\(o)" }
        let names = ["rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15"]
        return zip(names, s.gpr).map { "\($0)=\(hex($1))" }.joined(separator: " ") + " rflags=\(hex(s.rflags)) rip=\(hex(s.rip))"
    }

    /// The x87/SSE state where it matters: MXCSR, FCW, FSW and tags before and after, every
    /// XMM or x87 register an operand names or whose result differs.
    func floatDifferences() -> String {
        func image(_ o: CaseOutcome) -> [UInt8]? { if case .stepped(let s) = o { s.fx } else { nil } }
        let before = testCase.fx
        let h = image(host), s = image(softvmm)
        func word(_ fx: [UInt8], _ o: Int, _ n: Int) -> UInt64 { (0..<n).reduce(0) { $0 | UInt64(fx[o + $1]) << (8 * UInt64($1)) } }
        func column(_ o: Int, _ n: Int) -> String {
            "in=\(hex(word(before, o, n)))" + (h.map { " host=\(hex(word($0, o, n)))" } ?? "") + (s.map { " softvmm=\(hex(word($0, o, n)))" } ?? "")
        }
        var lines = ["mxcsr " + column(24, 4), "fcw " + column(0, 2) + "  fsw " + column(2, 2) + "  ftw " + column(4, 1)]
        let ins = X86Decoder(mode: .bits64, vendor: hostVendor).decode(testCase.bytes)
        var named = Set<String>()
        for case .register(let r) in ins.operands(address: FlatMemory.codeBase) { named.insert(r.name) }
        if testCase.family == .x87 { named.formUnion(["st(0)", "st(1)"]) }
        for i in 0..<16 {
            let o = 160 + 16 * i
            let differs = h != nil && s != nil && h![o..<o + 16] != s![o..<o + 16]
            if differs || named.contains("xmm\(i)") {
                lines.append("xmm\(i).lo " + column(o, 8) + "\n        xmm\(i).hi " + column(o + 8, 8))
            }
        }
        for i in 0..<8 {
            let o = 32 + 16 * i
            let differs = h != nil && s != nil && h![o..<o + 10] != s![o..<o + 10]
            if differs || named.contains("st(\(i))") {
                lines.append("st\(i) " + column(o, 8) + "  se " + column(o + 8, 2))
            }
        }
        if case .stepped(let hs) = host, case .stepped(let ss) = softvmm, hs.data != ss.data {
            let differing = (0..<hs.data.count).filter { hs.data[$0] != ss.data[$0] }
            let first = differing[0] & ~15
            for row in stride(from: first, to: min(first + 48, hs.data.count), by: 16) {
                func bytes(_ d: [UInt8]) -> String { d[row..<min(row + 16, d.count)].map { String($0, radix: 16).leftPad(2) }.joined(separator: " ") }
                lines.append("data+\(hex(UInt64(row))) in      \(bytes(testCase.data))\n        data+\(hex(UInt64(row))) host    \(bytes(hs.data))\n        data+\(hex(UInt64(row))) softvmm \(bytes(ss.data))")
            }
        }
        return "\n        " + lines.joined(separator: "\n        ")
    }
}

/// The host's vendor, which the interpreter follows where Intel and AMD differ.
public let hostVendor: Vendor = {
    var id = [CChar](repeating: 0, count: 13)
    hostcpu_vendor(&id)
    let name = id.prefix(12).map { UInt8(bitPattern: $0) }
    return String(decoding: name, as: UTF8.self) == "AuthenticAMD" ? .amd : .intel
}()

/// Runs a case in softvmm's interpreter, in 64-bit mode or (`bits` 32) in compatibility mode
/// at CPL 3, as the host runs it.
/// With `translator` (X86JIT's `FormTranslator`), the instruction runs as a block of its own,
/// translated (64-bit mode).
public func runInterpreter(_ c: CPUCase, bits: Int = 64, translator: AnyObject? = nil) -> CaseOutcome {
    let memory = FlatMemory(data: c.data, code: c.bytes)
    let cpu = CPU(memory: memory, model: CPUModel(vendor: hostVendor))
    if let translator = translator as? any BlockTranslating {
        cpu.translator = translator
        cpu.translationThreshold = 1
    }
    cpu.state.gdtr = TableRegister(base: FlatMemory.gdtBase, limit: FlatMemory.gdtLimit)
    if bits == 32 {
        cpu.state.setSegment(.cs, SegmentState(selector: 0x23, base: 0, limit: 0xFFFF_FFFF, attributes: 0xC0FB))
        for r in [SegmentRegister.ss, .ds, .es] {
            cpu.state.setSegment(r, SegmentState(selector: 0x2B, base: 0, limit: 0xFFFF_FFFF, attributes: 0xC0F3))
        }
        cpu.modeMaybeChanged()
    }
    for i in 0..<16 { cpu.state.gpr[i] = c.gpr[i] }
    cpu.state.loadFXSAVEImage(c.fx)
    cpu.state.rflags = c.rflags
    cpu.state.rip = FlatMemory.codeBase
    switch translator == nil ? cpu.step() : cpu.stepTranslated() {
    case .executed:
        return .stepped(IntegerState(gpr: (0..<16).map { cpu.state.gpr[$0] }, rflags: cpu.state.rflags,
                                     rip: cpu.state.rip, data: memory.data, fx: cpu.state.fxsaveImage()))
    case .exception(let e):
        switch e {
        case .divideError: return .divideError
        case .invalidOpcode: return .invalidOpcode
        case .generalProtection: return .generalProtection
        case .stackFault: return .stackFault
        case .pageFault: return .pageFault
        case .simdFloatingPoint: return .simdException(mxcsr: cpu.state.mxcsr)
        case .x87FloatingPoint: return .x87Exception
        case .boundRange: return .boundRange
        default: return .other("\(e)")
        }
    }
}

/// Compares one case; nil when the host and softvmm agree.
public func checkCase(_ c: CPUCase, translator: AnyObject? = nil) -> CPUMismatch? {
    let host = HostExecution.run(code: c.bytes, gpr: c.gpr, rflags: c.rflags, data: c.data, fx: c.fx)
    let ours = runInterpreter(c, translator: translator)
    switch (host, ours) {
    case (.stepped(var h), .stepped(var s)):
        let ins = X86Decoder(mode: .bits64, vendor: hostVendor).decode(c.bytes)
        var compared = (Flag.status | Flag.df) & ~CPUOps.undefinedFlags(ins, gpr: c.gpr)
        if [.pushf, .pushfd, .pushfq].contains(ins.op) {
            // The harness runs with TF set, and PUSHF saves it: clear it in the host's image.
            let o = Int(h.gpr[GPR.rsp] - FlatMemory.dataBase) + 1
            if o < h.data.count { h.data[o] &= ~0x01 }
        }
        if [.popf, .popfd, .popfq].contains(ins.op) { compared |= 1 << 14 | 1 << 18 | 1 << 21 } // NT, AC, ID
        if [.rcpps, .rcpss, .rsqrtps, .rsqrtss].contains(ins.op),
           case .register(let r)? = ins.operands(address: FlatMemory.codeBase).first {
            FXImage.acceptEstimates(host: h.fx, softvmm: &s.fx, register: Int(r.number))
        }
        if ins.op == .fxsave || ins.op == .fxsave64, let m = firstMemoryOperand(ins.operands(address: FlatMemory.codeBase)) {
            // MXCSR_MASK is the host's (AMD adds bit 17, MM); FOP, FIP and FDP as in FXImage.
            let a = Int(truncatingIfNeeded: HostExecution.effectiveAddress(m, gpr: c.gpr) &- FlatMemory.dataBase)
            for o in hostVendor == .intel ? [28..<32] : [6..<24, 28..<32] { for i in o where a + i >= 0 && a + i < h.data.count { h.data[a + i] = 0; s.data[a + i] = 0 } }
        }
        if let kind = TranscendentalCheck(ins.op) {
            kind.reconcile(input: c.fx, host: &h.fx, softvmm: &s.fx)
        }
        h.fx = FXImage.compared(h.fx)
        s.fx = FXImage.compared(s.fx)
        h.rflags &= compared
        s.rflags &= compared
        return h == s ? nil : CPUMismatch(testCase: c, host: host, softvmm: ours)
    default:
        return host == ours ? nil : CPUMismatch(testCase: c, host: host, softvmm: ours)
    }
}

/// A seeded run: `count` cases, every family or one.
public struct CPUCampaignReport: Sendable {
    public var count = 0
    public var perFamily: [Family: (cases: Int, mismatches: Int)] = [:]
    public var firstMismatches: [CPUMismatch] = []
    public var mismatchCount: Int { perFamily.values.reduce(0) { $0 + $1.mismatches } }
}

/// Runs `count` cases of `seed`; with `matching`, only those whose bytes begin with it (each
/// shown, agreeing or not, through `show`).
/// With `translator`, softvmm runs each case through it (`runInterpreter`).
public func runCPUCampaign(count: Int, seed: UInt64, family: Family? = nil, keep: Int = 10, matching: [UInt8]? = nil,
                           translator: AnyObject? = nil, show: ((CPUMismatch) -> Void)? = nil) -> CPUCampaignReport {
    var gen = CPUCaseGenerator(seed: seed)
    var report = CPUCampaignReport()
    for _ in 0..<count {
        let c = gen.next(family: family)
        if let matching {
            guard c.bytes.starts(with: matching) else { continue }
            show?(CPUMismatch(testCase: c, host: HostExecution.run(code: c.bytes, gpr: c.gpr, rflags: c.rflags, data: c.data, fx: c.fx),
                              softvmm: runInterpreter(c, translator: translator)))
        }
        let m = checkCase(c, translator: translator)
        var row = report.perFamily[c.family] ?? (0, 0)
        row.cases += 1
        if let m {
            row.mismatches += 1
            if report.firstMismatches.count < keep { report.firstMismatches.append(m) }
        }
        report.perFamily[c.family] = row
        report.count += 1
    }
    return report
}
