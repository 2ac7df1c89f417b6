import X86
import X86Decoder

/// Candidate lines for Fixtures/decoder/cases.txt: one systematic walk over every map,
/// opcode, mandatory prefix, ModRM.reg, register and memory form (and the VEX/EVEX
/// length, W and masking fields), keeping the first input of each decoded form.
///
/// A candidate is kept only when both references back softvmm's reading: Capstone and
/// Zydis agree with it, or Capstone's disagreement falls in a known class whose own
/// reference confirmed this very input. The evidence goes in the notes column. The
/// lines are then read through by hand before they go into the fixture.
public struct FixtureCandidates {
    let mode: CPUMode
    let checker: DecoderChecker
    let zydis: ZydisOracle
    var seen: Set<String> = []
    public private(set) var lines: [String] = []

    /// Keep only inputs that read differently in 64-bit mode (what this mode adds).
    let modeSpecific: Bool

    public init(mode: CPUMode, modeSpecific: Bool = false) {
        self.mode = mode
        self.modeSpecific = modeSpecific
        checker = DecoderChecker(mode: mode)
        zydis = ZydisOracle(mode: mode)
    }

    /// Walks every map and returns the kept lines. Outside 64-bit mode only the legacy maps
    /// are walked (VEX, XOP and EVEX decode alike in every mode but for the fields 64-bit adds).
    public mutating func generate() -> [String] {
        let is64 = mode == .bits64
        let legacyPrefixes: [[UInt8]] = is64 ? [[], [0x66], [0x48]] : [[], [0x66]]
        let sse: [[UInt8]] = is64 ? [[], [0x66], [0xF3], [0xF2], [0x48], [0x66, 0x48]] : [[], [0x66], [0xF3], [0xF2]]
        for op in 0...255 {
            for p in legacyPrefixes { tryOpcode(p, [UInt8(op)]) }
            for p in sse { tryOpcode(p, [0x0F, UInt8(op)]) }
            for p in sse { tryOpcode(p, [0x0F, 0x38, UInt8(op)]) }
            for p in sse { tryOpcode(p, [0x0F, 0x3A, UInt8(op)]) }
        }
        // 3DNow!: the operation is the byte after the operands.
        for op in 0...255 { add([0x0F, 0x0F, 0xC1, UInt8(op)]); add([0x0F, 0x0F, 0x44, 0x88, 0x10, UInt8(op)]) }
        guard is64 else { return lines }
        // VEX (3-byte form), XOP and EVEX: every map, pp, W and length.
        for op in 0...255 {
            for map: UInt8 in 1...3 {
                for pp: UInt8 in 0...3 { for w: UInt8 in 0...1 { for l: UInt8 in 0...1 {
                    for vvvv: UInt8 in [0b1100, 0b1111] {
                        tryOpcode([], [0xC4, 0xE0 | map, w << 7 | vvvv << 3 | l << 2 | pp, UInt8(op)])
                    }
                } } }
            }
            for map: UInt8 in 8...10 {
                for w: UInt8 in 0...1 { for l: UInt8 in 0...1 { for vvvv: UInt8 in [0b1100, 0b1111] {
                    tryOpcode([], [0x8F, 0xE0 | map, w << 7 | vvvv << 3 | l << 2, UInt8(op)])
                } } }
            }
            for map: UInt8 in 1...3 {
                for pp: UInt8 in 0...3 { for w: UInt8 in 0...1 { for ll: UInt8 in 0...2 {
                    for vvvv: UInt8 in [0b1100, 0b1111] {
                        // Plain, merging into k1, zeroing, and EVEX.b (broadcast or rounding), starting
                        // from a different one for each opcode so that the one kept per form varies.
                        let variants: [UInt8] = [ll << 5 | 0x08, ll << 5 | 0x09, 0x80 | ll << 5 | 0x0A, ll << 5 | 0x18]
                        for k in 0..<4 {
                            let p2 = variants[(k + op) % 4]
                            tryOpcode([], [0x62, 0xF0 | map, w << 7 | vvvv << 3 | 4 | pp, p2, UInt8(op)], memoryFirst: op & 1 == 0)
                        }
                    }
                } } }
            }
        }
        return lines
    }

    /// `prefix` + `opcode` with every ModRM.reg in a register and a memory form
    /// (or on its own when the opcode takes no ModRM), then immediate bytes.
    mutating func tryOpcode(_ prefix: [UInt8], _ opcode: [UInt8], memoryFirst: Bool = false) {
        let head = prefix + opcode
        let probe = checker.decoder.decode(head + [0xC0, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88])
        guard probe.status == .valid || probe.hasModRM else { return }
        if !probe.hasModRM { add(head); return }
        for reg: UInt8 in 0...7 {
            let register = head + [0xC0 | reg << 3 | 2]
            let memory = mode == .bits16 ? head + [0x42 | reg << 3, 0x10] : head + [0x44 | reg << 3, 0x88, 0x10]
            for bytes in memoryFirst ? [memory, register] : [register, memory] { add(bytes) }
        }
    }

    /// Decodes `bytes` (padded with immediate bytes), and keeps the line when the
    /// form is new and the references back it.
    mutating func add(_ bytes: [UInt8]) {
        let padded = bytes + [0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88]
        let ins = checker.decoder.decode(padded)
        guard ins.status == .valid else { return }
        let used = Array(padded.prefix(Int(ins.length)))
        // One line per form (per register and memory form outside EVEX), and per operand-size
        // signature where the operand size changes what the operands are.
        let sizes = ins.operands().map { op -> Int in
            switch op {
            case .register(let r): return r.size
            case .memory(let m): return m.size
            case .immediate(_, let size): return size
            default: return 0
            }
        }
        let key: String
        switch ins.map {
        case .legacy, .map0F, .map0F38, .map0F3A: key = "\(ins.form) \(ins.hasMemoryOperand) \(sizes) \(ins.mnemonic)"
        case .evex0F, .evex0F38, .evex0F3A: key = "\(ins.form)"
        default: key = "\(ins.form) \(ins.hasMemoryOperand)"
        }
        guard !seen.contains(key) else { return }
        let evidence: String? = used.withUnsafeBufferPointer { buf in
            let c = checker.check(buf)
            switch c.verdict {
            case .agree:
                return KnownClasses.zydisAgrees(c, zydis: zydis, bytes: buf) ? "Capstone and Zydis agree" : nil
            case .known(let id):
                let ref = KnownClasses.all.first { $0.id == id }?.reference ?? .zydis
                return "Capstone: \(id); \(ref == .zydis ? "Zydis" : "the host CPU") agrees"
            case .unexplained:
                return nil
            }
        }
        guard let evidence else { return }
        let text = IntelFormatter().format(ins, address: DecoderChecker.address)
        if modeSpecific {
            let in64 = X86Decoder(mode: .bits64).decode(used)
            if in64.status == .valid && IntelFormatter().format(in64, address: DecoderChecker.address) == text { return }
        }
        seen.insert(key)
        lines.append(used.map { hexByte($0) }.joined(separator: " ") + " | \(mode.rawValue) | \(text) | \(evidence)")
    }
}
