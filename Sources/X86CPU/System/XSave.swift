// XSAVE, XSAVEOPT and XRSTOR of the x87 and SSE components (standard format).

import X86
import X86Decoder

extension CPU {
    func extendedState(save: Bool, wide: Bool, _ ops: OperandList) throws(CPUException) {
        guard state.cr4 & CR4Bit.osxsave != 0 else { throw .invalidOpcode }
        guard case .memory(let m) = ops[0] else { throw .invalidOpcode }
        let a = try checkedAddress(m, size: 576)
        if a & 63 != 0 { throw .generalProtection(0) }
        let rfbm = ((state.rdx & 0xFFFF_FFFF) << 32 | state.rax & 0xFFFF_FFFF) & state.xcr0
        if save {
            let image = legacySaveImage(wide: wide)
            var header = try loadBytes(a &+ 512, 8)
            var ranges: [Range<Int>] = []
            if rfbm & 1 != 0 { ranges += [0..<24, 32..<160] }
            if rfbm & 2 != 0 { ranges += [160..<416] }
            if rfbm & 3 != 0 { ranges += [24..<32] } // MXCSR and MXCSR_MASK
            _ = try memory.read(a &+ 575, size: 1)
            for r in ranges { try storeBytes(a &+ UInt64(r.lowerBound), Array(image[r])) }
            header[0] = header[0] & ~UInt8(rfbm & 3) | UInt8(rfbm & 3)
            try storeBytes(a &+ 512, header)
        } else {
            let header = try loadBytes(a &+ 512, 64)
            func quad(_ i: Int) -> UInt64 { (0..<8).reduce(0) { $0 | UInt64(header[i + $1]) << UInt64(8 * $1) } }
            let bv = quad(0), comp = quad(8)
            if comp != 0 || bv & ~state.xcr0 != 0 || header[16..<64].contains(where: { $0 != 0 }) { throw .generalProtection(0) }
            var image = state.fxsaveImage()
            let saved = try loadBytes(a, 512)
            if rfbm & 3 != 0 {
                let mxcsr = UInt32(saved[24]) | UInt32(saved[25]) << 8 | UInt32(saved[26]) << 16 | UInt32(saved[27]) << 24
                if mxcsr & ~0xFFFF != 0 { throw .generalProtection(0) }
                image.replaceSubrange(24..<28, with: saved[24..<28])
            }
            if rfbm & 1 != 0 {
                if bv & 1 != 0 {
                    image.replaceSubrange(0..<24, with: saved[0..<24])
                    image.replaceSubrange(32..<160, with: saved[32..<160])
                } else {
                    // The initial x87 state: FCW 037F, everything else zero, all registers empty.
                    for i in 0..<24 { image[i] = 0 }
                    for i in 32..<160 { image[i] = 0 }
                    image[0] = 0x7F; image[1] = 0x03
                }
            }
            if rfbm & 2 != 0 {
                if bv & 2 != 0 { image.replaceSubrange(160..<416, with: saved[160..<416]) } else { for i in 160..<416 { image[i] = 0 } }
            }
            state.loadFXSAVEImage(image)
            if rfbm & bv & 1 != 0 { restoredX87Pointers(wide: wide) }
            state.fcw = x87ControlWord(state.fcw)
            updateErrorSummary()
        }
    }
}
