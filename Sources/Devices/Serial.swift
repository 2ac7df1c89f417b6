/// A 16550A UART (the PC's COM ports): the transmitter is always ready (a byte leaves at
/// once), received bytes come from `input` (fed by the machine's input seam), loopback mode
/// works (Linux's 8250 driver probes with it), and the interrupts are the 16550's: received
/// data available (IER bit 0) and transmitter holding register empty (IER bit 1, pending
/// when THR empties or the interrupt is enabled while it is empty, cleared by reading IIR
/// or writing THR), reported in IIR by priority and driven on `irq` (IRQ 4 for COM1).
public final class UART16550: PortDevice, TimedDevice {
    /// Where transmitted bytes go.
    public var output: (UInt8) -> Void
    /// Bytes from outside waiting for room in the receiver: the FIFO's 16 bytes with FIFOs
    /// enabled, else the one receive buffer register (QEMU's chardev holds the rest back so).
    public internal(set) var input: [UInt8] = []
    var received: [UInt8] = []
    /// The interrupt line (the machine connects COM1's to IRQ 4).
    public var irq: IRQLine = .none
    var ier: UInt8 = 0, lcr: UInt8 = 0, mcr: UInt8 = 0, scr: UInt8 = 0, fcr: UInt8 = 0
    var divisor: UInt16 = 12
    var loopback: [UInt8] = []
    var thrEmptyPending = false
    var irqLevel = false
    public internal(set) var transmitted = 0

    /// Guest time: a received byte takes a character time (10 bits at the divisor's baud
    /// rate) to arrive after the one before, as on the wire. Without a clock, bytes arrive at once.
    public var clock: GuestClock?
    var nextArrival: UInt64 = 0

    public init(output: @escaping (UInt8) -> Void) { self.output = output }

    /// Ten bits at 115200 / divisor baud, in nanoseconds.
    var characterTime: UInt64 { UInt64(max(divisor, 1)) * 10 * 1_000_000_000 / 115_200 }

    var dlab: Bool { lcr & 0x80 != 0 }
    var inLoopback: Bool { mcr & 0x10 != 0 }
    var dataReady: Bool { inLoopback ? !loopback.isEmpty : !received.isEmpty }

    /// Bytes from the outside world (the machine's input seam).
    public func receive(_ bytes: [UInt8]) {
        input += bytes
        fill()
        updateIRQ()
    }

    var room: Int { (fcr & 1 != 0 ? 16 : 1) - received.count }

    /// Moves waiting bytes into the receiver as far as it has room and their time has come.
    func fill() {
        guard let clock else {
            let n = min(max(room, 0), input.count)
            received += input.prefix(n)
            input.removeFirst(n)
            return
        }
        while room > 0, !input.isEmpty, clock.now >= nextArrival {
            received.append(input.removeFirst())
            nextArrival = max(nextArrival, clock.now) &+ characterTime
        }
    }

    public func nextEvent() -> UInt64? {
        room > 0 && !input.isEmpty && clock != nil ? nextArrival : nil
    }

    public func advance() {
        fill()
        updateIRQ()
    }

    /// IIR's interrupt identification: received data (4), THR empty (2), none (1).
    var identification: UInt8 {
        if ier & 1 != 0 && dataReady { return 0x04 }
        if ier & 2 != 0 && thrEmptyPending { return 0x02 }
        return 0x01
    }

    func updateIRQ() {
        let level = identification & 1 == 0
        if level != irqLevel {
            irqLevel = level
            irq(level)
        }
    }

    public func portRead(offset: UInt16, size: Int) -> UInt32 {
        defer { updateIRQ() }
        switch offset {
        case 0:
            if dlab { return UInt32(divisor & 0xFF) }
            if inLoopback { return loopback.isEmpty ? 0 : UInt32(loopback.removeFirst()) }
            guard !received.isEmpty else { return 0 }
            let b = received.removeFirst()
            fill()
            return UInt32(b)
        case 1: return dlab ? UInt32(divisor >> 8) : UInt32(ier)
        case 2:
            let id = identification
            if id == 0x02 { thrEmptyPending = false } // reading IIR ends a THR-empty interrupt
            return UInt32(id | (fcr & 1 != 0 ? 0xC0 : 0))
        case 3: return UInt32(lcr)
        case 4: return UInt32(mcr)
        case 5:
            // THR empty and transmitter empty; data ready when a byte waits.
            return 0x60 | (dataReady ? 1 : 0)
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
        defer { updateIRQ() }
        let v = UInt8(truncatingIfNeeded: value)
        switch offset {
        case 0:
            if dlab { divisor = divisor & 0xFF00 | UInt16(v); return }
            if inLoopback { loopback.append(v) } else {
                transmitted += 1
                output(v)
            }
            thrEmptyPending = true // sent at once: the holding register is empty again
        case 1:
            if dlab { divisor = divisor & 0xFF | UInt16(v) << 8; return }
            // Enabling the THR-empty interrupt while THR is empty raises it.
            if v & 2 != 0 && ier & 2 == 0 { thrEmptyPending = true }
            ier = v & 0x0F
        case 2:
            fcr = v & 0xC9
            if v & 2 != 0 { received.removeAll() } // clear the receive FIFO
            fill()
        case 3: lcr = v
        case 4: mcr = v & 0x1F
        case 7: scr = v
        default: break
        }
    }
}

/// QEMU's isa-debug-exit: a write of `code` asks to end the run with status (code << 1) | 1.
public final class DebugExit: PortDevice {
    public internal(set) var code: UInt32?
    public init() {}
    public func portRead(offset: UInt16, size: Int) -> UInt32 { ~0 }
    public func portWrite(offset: UInt16, size: Int, value: UInt32) { code = value }
}
