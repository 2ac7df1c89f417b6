import X86
import X86Decoder

/// Produces decoder inputs: half pure random bytes, half structured (every
/// opcode of every map, with random prefixes, REX/VEX fields, ModRM, SIB,
/// displacement and immediates).
public struct CaseGenerator {
    public static let caseLength = 16
    var rng: SplitMix64
    let mode: CPUMode

    public init(seed: UInt64, mode: CPUMode) {
        rng = SplitMix64(seed: seed)
        self.mode = mode
    }

    public enum Kind: String, CaseIterable, Sendable { case random, structured }

    /// Fills `buffer` (16 bytes) with the next case.
    public mutating func next(into buffer: UnsafeMutablePointer<UInt8>) -> Kind {
        for i in 0..<CaseGenerator.caseLength { buffer[i] = UInt8(truncatingIfNeeded: rng.next()) }
        if rng.next() & 1 == 0 { return .random }
        var bytes: [UInt8] = []
        // 0-3 legacy prefixes, biased toward the ones that select forms.
        let prefixPool: [UInt8] = [0x66, 0x66, 0xF2, 0xF3, 0xF3, 0xF2, 0x67, 0xF0, 0x2E, 0x3E, 0x26, 0x36, 0x64, 0x65]
        let nPrefix = Int(rng.next() % 8)
        for _ in 0..<(nPrefix < 4 ? 0 : nPrefix - 4) { bytes.append(prefixPool[Int(rng.next() % UInt64(prefixPool.count))]) }
        let map = rng.next() % 10
        let opcode = UInt8(truncatingIfNeeded: rng.next())
        switch map {
        case 0...3:
            if mode == .bits64 && rng.next() % 3 == 0 { bytes.append(0x40 | UInt8(rng.next() & 15)) }
            switch map {
            case 0: break
            case 1: bytes.append(0x0F)
            case 2: bytes += [0x0F, 0x38]
            default: bytes += [0x0F, 0x3A]
            }
            bytes.append(opcode)
        case 4...6:
            // VEX, mostly without the legacy prefixes VEX forbids.
            if rng.next() % 4 != 0 { bytes.removeAll() }
            let r = UInt8(rng.next() & 0xFF)
            let pp = r & 3, l = (r >> 2) & 1
            let vvvv: UInt8 = rng.next() % 3 == 0 ? UInt8(rng.next() & 15) : 15
            let w = UInt8(rng.next() & 1)
            let mmmmm = UInt8(map - 3)
            var rxb = UInt8(rng.next() & 7)
            if mode != .bits64 { rxb |= 6 }
            if mmmmm == 1 && rng.next() & 1 == 0 {
                bytes += [0xC5, ((rxb & 4) << 5) | (vvvv << 3) | (l << 2) | pp]
            } else {
                bytes += [0xC4, (rxb << 5) | mmmmm, (w << 7) | (vvvv << 3) | (l << 2) | pp]
            }
            bytes.append(opcode)
        case 8:
            // XOP: map 8, 9 or 10, mostly without prefixes.
            if rng.next() % 4 != 0 { bytes.removeAll() }
            let r = UInt8(truncatingIfNeeded: rng.next())
            var rxb = UInt8(rng.next() & 7)
            if mode != .bits64 { rxb |= 6 }
            let vvvv: UInt8 = rng.next() % 3 == 0 ? UInt8(rng.next() & 15) : 15
            bytes += [0x8F, (rxb << 5) | (8 + UInt8(rng.next() % 3)), (r & 0x80) | (vvvv << 3) | (r & 4) | (rng.next() % 8 == 0 ? r & 3 : 0)]
            bytes.append(opcode)
        case 9:
            // EVEX: mostly well-formed (reserved bits clear, map 1-3), with every field varied.
            if rng.next() % 4 != 0 { bytes.removeAll() }
            let r = rng.next()
            var rxb = UInt8(r & 7)
            if mode != .bits64 { rxb |= 6 }
            let rPrime: UInt8 = r & 0x18 == 0 ? 0 : 1
            var mm = UInt8(1 + (r >> 5) % 3)
            if r >> 8 & 31 == 0 { mm = UInt8(r >> 13 & 15) } // now and then a reserved bit or map
            let vvvv: UInt8 = r >> 17 & 3 == 0 ? UInt8(r >> 19 & 15) : 15
            let w = UInt8(r >> 23 & 1), pp = UInt8(r >> 24 & 3)
            let fixed: UInt8 = r >> 26 & 31 == 0 ? 0 : 4
            let z: UInt8 = r >> 31 & 3 == 0 ? 1 : 0
            let ll = UInt8(r >> 33 & 31 == 0 ? 3 : (r >> 38) % 3)
            let b: UInt8 = r >> 40 & 3 == 0 ? 1 : 0
            let vPrime: UInt8 = r >> 42 & 7 == 0 ? 0 : 1
            let aaa: UInt8 = r >> 45 & 1 == 0 ? 0 : UInt8(r >> 46 & 7)
            bytes += [0x62, (rxb << 5) | (rPrime << 4) | mm, (w << 7) | (vvvv << 3) | fixed | pp,
                      (z << 7) | (ll << 5) | (b << 4) | (vPrime << 3) | aaa]
            bytes.append(opcode)
        default:
            // x87 and 3DNow!
            if rng.next() & 1 == 0 { bytes.append(0xD8 | UInt8(rng.next() & 7)) } else { bytes += [0x0F, 0x0F] }
        }
        // ModRM: half register forms.
        let modrm = UInt8(truncatingIfNeeded: rng.next())
        bytes.append(rng.next() & 1 == 0 ? modrm | 0xC0 : modrm)
        for (i, b) in bytes.prefix(CaseGenerator.caseLength).enumerated() { buffer[i] = b }
        return .structured
    }
}
