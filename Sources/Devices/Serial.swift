/// A 16550A UART (the PC's COM ports): the transmitter is always ready (a byte leaves at
/// once), received bytes come from `input` (fed by the machine's input seam), loopback mode
/// works (Linux's 8250 driver probes with it), and the interrupts are the 16550's: received
/// data available (IER bit 0) and transmitter holding register empty (IER bit 1, pending
/// when THR empties or the interrupt is enabled while it is empty, cleared by reading IIR
/// or writing THR), reported in IIR by priority and driven on `irq` (IRQ 4 for COM1).
public final class UART16550: PortDevice, TimedDevice {
    /// The registers' offsets from the base port (with LCR.DLAB set, 0 and 1 are the divisor).
    public enum Register {
        public static let data: UInt16 = 0, interruptEnable: UInt16 = 1
        /// IIR when read, FCR when written.
        public static let interruptIdentification: UInt16 = 2, fifoControl: UInt16 = 2
        public static let lineControl: UInt16 = 3, modemControl: UInt16 = 4, lineStatus: UInt16 = 5
        public static let modemStatus: UInt16 = 6, scratch: UInt16 = 7
    }
    /// IER: received data available, transmitter holding register empty (and the two this UART
    /// accepts but never raises: line status, modem status).
    public enum IER { public static let receivedData: UInt8 = 0x01, thrEmpty: UInt8 = 0x02, writable: UInt8 = 0x0F }
    /// IIR: the pending interrupt by priority (bit 0 set: none), and FIFOs enabled (bits 7-6).
    public enum IIR {
        public static let none: UInt8 = 0x01, thrEmpty: UInt8 = 0x02, receivedData: UInt8 = 0x04
        public static let fifosEnabled: UInt8 = 0xC0
    }
    /// FCR: FIFO enable, receive FIFO reset; the bits kept (enable, DMA mode, trigger level).
    public enum FCR { public static let enable: UInt8 = 0x01, clearReceive: UInt8 = 0x02, kept: UInt8 = 0xC9 }
    /// LCR's divisor latch access bit.
    public enum LCR { public static let dlab: UInt8 = 0x80 }
    /// MCR: DTR, RTS, OUT1, OUT2, loopback.
    public enum MCR {
        public static let dtr: UInt8 = 0x01, rts: UInt8 = 0x02, out1: UInt8 = 0x04, out2: UInt8 = 0x08, loopback: UInt8 = 0x10
        public static let writable: UInt8 = 0x1F
    }
    /// LSR: data ready, THR empty, transmitter empty.
    public enum LSR { public static let dataReady: UInt8 = 0x01, thrEmpty: UInt8 = 0x20, transmitterEmpty: UInt8 = 0x40 }
    /// MSR: CTS, DSR, RI, DCD.
    public enum MSR { public static let cts: UInt8 = 0x10, dsr: UInt8 = 0x20, ri: UInt8 = 0x40, dcd: UInt8 = 0x80 }

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
    /// Whether the port drives its interrupt line now.
    public var interruptAsserted: Bool { irqLevel }
    public internal(set) var transmitted = 0

    /// Guest time: a received byte takes a character time (10 bits at the divisor's baud
    /// rate) to arrive after the one before, as on the wire. Without a clock, bytes arrive at once.
    public var clock: GuestClock?
    var nextArrival: UInt64 = 0

    public init(output: @escaping (UInt8) -> Void) { self.output = output }

    /// Ten bits at 115200 / divisor baud, in nanoseconds.
    var characterTime: UInt64 { UInt64(max(divisor, 1)) * 10 * 1_000_000_000 / 115_200 }

    var dlab: Bool { lcr & LCR.dlab != 0 }
    var inLoopback: Bool { mcr & MCR.loopback != 0 }
    var dataReady: Bool { inLoopback ? !loopback.isEmpty : !received.isEmpty }

    /// Bytes from the outside world (the machine's input seam).
    public func receive(_ bytes: [UInt8]) {
        input += bytes
        fill()
        updateIRQ()
    }

    var room: Int { (fcr & FCR.enable != 0 ? 16 : 1) - received.count }

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

    /// IIR's interrupt identification: received data, THR empty, none.
    var identification: UInt8 {
        if ier & IER.receivedData != 0 && dataReady { return IIR.receivedData }
        if ier & IER.thrEmpty != 0 && thrEmptyPending { return IIR.thrEmpty }
        return IIR.none
    }

    func updateIRQ() {
        let level = identification & IIR.none == 0
        if level != irqLevel {
            irqLevel = level
            irq(level)
        }
    }

    public func portRead(offset: UInt16, size: Int) -> UInt32 {
        defer { updateIRQ() }
        switch offset {
        case Register.data:
            if dlab { return UInt32(divisor & 0xFF) }
            if inLoopback { return loopback.isEmpty ? 0 : UInt32(loopback.removeFirst()) }
            guard !received.isEmpty else { return 0 }
            let b = received.removeFirst()
            fill()
            return UInt32(b)
        case Register.interruptEnable: return dlab ? UInt32(divisor >> 8) : UInt32(ier)
        case Register.interruptIdentification:
            let id = identification
            if id == IIR.thrEmpty { thrEmptyPending = false } // reading IIR ends a THR-empty interrupt
            return UInt32(id | (fcr & FCR.enable != 0 ? IIR.fifosEnabled : 0))
        case Register.lineControl: return UInt32(lcr)
        case Register.modemControl: return UInt32(mcr)
        case Register.lineStatus:
            // The transmitter is always empty; data ready when a byte waits.
            return UInt32(LSR.thrEmpty | LSR.transmitterEmpty | (dataReady ? LSR.dataReady : 0))
        case Register.modemStatus:
            // In loopback, CTS/DSR/RI/DCD follow RTS/DTR/OUT1/OUT2; otherwise DCD, DSR, CTS.
            if inLoopback {
                func bit(_ control: UInt8, _ status: UInt8) -> UInt8 { mcr & control != 0 ? status : 0 }
                return UInt32(bit(MCR.rts, MSR.cts) | bit(MCR.dtr, MSR.dsr) | bit(MCR.out1, MSR.ri) | bit(MCR.out2, MSR.dcd))
            }
            return UInt32(MSR.dcd | MSR.dsr | MSR.cts)
        default: return UInt32(scr)
        }
    }

    public func portWrite(offset: UInt16, size: Int, value: UInt32) {
        defer { updateIRQ() }
        let v = UInt8(truncatingIfNeeded: value)
        switch offset {
        case Register.data:
            if dlab { divisor = divisor & 0xFF00 | UInt16(v); return }
            if inLoopback { loopback.append(v) } else {
                transmitted += 1
                output(v)
            }
            thrEmptyPending = true // sent at once: the holding register is empty again
        case Register.interruptEnable:
            if dlab { divisor = divisor & 0xFF | UInt16(v) << 8; return }
            // Enabling the THR-empty interrupt while THR is empty raises it.
            if v & IER.thrEmpty != 0 && ier & IER.thrEmpty == 0 { thrEmptyPending = true }
            ier = v & IER.writable
        case Register.fifoControl:
            fcr = v & FCR.kept
            if v & FCR.clearReceive != 0 { received.removeAll() }
            fill()
        case Register.lineControl: lcr = v
        case Register.modemControl: mcr = v & MCR.writable
        case Register.scratch: scr = v
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
