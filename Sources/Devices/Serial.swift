/// A 16550A UART (the PC's COM ports), polled: the transmitter is always ready, received
/// bytes come from `input` (the outside world's seam), loopback mode works (Linux's 8250
/// driver probes with it). Interrupts arrive with the interrupt controllers (issue 6): IER
/// and IIR hold their values, and IIR reports "no interrupt pending".
public final class UART16550: PortDevice {
    /// Where transmitted bytes go.
    public var output: (UInt8) -> Void
    /// Bytes waiting to be received.
    public var input: [UInt8] = []
    var ier: UInt8 = 0, lcr: UInt8 = 0, mcr: UInt8 = 0, scr: UInt8 = 0, fcr: UInt8 = 0
    var divisor: UInt16 = 12
    var loopback: [UInt8] = []
    public private(set) var transmitted = 0

    public init(output: @escaping (UInt8) -> Void) { self.output = output }

    var dlab: Bool { lcr & 0x80 != 0 }
    var inLoopback: Bool { mcr & 0x10 != 0 }

    public func portRead(offset: UInt16, size: Int) -> UInt32 {
        switch offset {
        case 0:
            if dlab { return UInt32(divisor & 0xFF) }
            if inLoopback { return loopback.isEmpty ? 0 : UInt32(loopback.removeFirst()) }
            return input.isEmpty ? 0 : UInt32(input.removeFirst())
        case 1: return dlab ? UInt32(divisor >> 8) : UInt32(ier)
        case 2: return fcr & 1 != 0 ? 0xC1 : 0x01 // FIFOs enabled or not; no interrupt pending
        case 3: return UInt32(lcr)
        case 4: return UInt32(mcr)
        case 5:
            // THR empty and transmitter empty; data ready when a byte waits.
            let ready = inLoopback ? !loopback.isEmpty : !input.isEmpty
            return 0x60 | (ready ? 1 : 0)
        case 6:
            // Modem status: in loopback, CTS/DSR/RI/DCD follow RTS/DTR/OUT1/OUT2; otherwise DCD, DSR, CTS.
            if inLoopback {
                let m = UInt32(mcr)
                return (m & 2) << 3 | (m & 1) << 5 | (m & 4) << 4 | (m & 8) << 4
            }
            return 0xB0
        default: return UInt32(scr)
        }
    }

    public func portWrite(offset: UInt16, size: Int, value: UInt32) {
        let v = UInt8(truncatingIfNeeded: value)
        switch offset {
        case 0:
            if dlab { divisor = divisor & 0xFF00 | UInt16(v); return }
            if inLoopback { loopback.append(v); return }
            transmitted += 1
            output(v)
        case 1:
            if dlab { divisor = divisor & 0xFF | UInt16(v) << 8 } else { ier = v & 0x0F }
        case 2: fcr = v & 0xC9
        case 3: lcr = v
        case 4: mcr = v & 0x1F
        case 7: scr = v
        default: break
        }
    }
}

/// QEMU's isa-debug-exit: a write of `code` asks to end the run with status (code << 1) | 1.
public final class DebugExit: PortDevice {
    public private(set) var code: UInt32?
    public init() {}
    public func portRead(offset: UInt16, size: Int) -> UInt32 { ~0 }
    public func portWrite(offset: UInt16, size: Int, value: UInt32) { code = value }
}
