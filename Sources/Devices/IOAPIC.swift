// The I/O APIC at 0xFEC00000 (Intel's 82093AA data sheet, version 0x20 as QEMU models it):
// IOREGSEL at 0x00, IOWIN at 0x10, the EOI register at 0x40; registers ID, version,
// arbitration and 24 redirection entries (vector, delivery mode, destination mode, delivery
// status, polarity, remote IRR, trigger mode, mask, destination).
//
// An edge-triggered pin sends its vector on each rising edge (after polarity) while
// unmasked; a level-triggered pin sends while asserted, sets remote IRR, and sends again only
// after the local APIC's EOI for that vector (or the EOI register) clears it. Each entry's
// message goes to the local APICs its destination names (`APICBus`); ExtINT asks the
// processor to take the 8259A's vector.

public final class IOAPIC: MMIODevice {
    public static let defaultBase: UInt64 = 0xFEC0_0000
    public static let pins = 24

    var select: UInt32 = 0
    var id: UInt32 = 0
    var redirection = [UInt64](repeating: 1 << 16, count: IOAPIC.pins)
    /// The input levels (before polarity).
    var levels = [Bool](repeating: false, count: IOAPIC.pins)

    /// Sends a redirection entry's message to the local APICs (the machine's `APICBus`).
    public var deliver: (InterruptMessage) -> Void = { _ in }

    public init() {}

    /// A pin's input changed.
    public func setPin(_ pin: Int, _ level: Bool) {
        guard pin < Self.pins else { return }
        let was = levels[pin]
        levels[pin] = level
        let e = redirection[pin]
        let active = level != (e & 1 << 13 != 0)
        if e & 1 << 15 != 0 {
            if active { service(pin) } // level: asserted
        } else if level != was && active {
            service(pin)               // edge: the transition to active
        }
    }

    func asserted(_ pin: Int) -> Bool { levels[pin] != (redirection[pin] & 1 << 13 != 0) }

    /// Sends the pin's interrupt if its entry allows: unmasked, and for a level-triggered
    /// pin, no remote IRR outstanding.
    func service(_ pin: Int) {
        let e = redirection[pin]
        guard e & 1 << 16 == 0 else { return }
        let level = e & 1 << 15 != 0
        if level {
            guard e & 1 << 14 == 0 else { return }
            redirection[pin] |= 1 << 14
        }
        // Fixed, lowest priority, NMI and ExtINT; SMI, INIT and the reserved modes send nothing.
        guard let mode = InterruptMessage.Mode(rawValue: UInt8((e >> 8) & 7)),
              [.fixed, .lowestPriority, .nmi, .extINT].contains(mode) else { return }
        deliver(InterruptMessage(vector: UInt8(truncatingIfNeeded: e), mode: mode, logical: e & 1 << 11 != 0,
                                 destination: UInt32(truncatingIfNeeded: e >> 56), levelTriggered: level))
    }

    /// The local APIC's EOI for a level-triggered vector (or a write to the EOI register):
    /// remote IRR clears on each pin with that vector, and a pin still asserted sends again.
    public func endOfInterrupt(_ vector: UInt8) {
        for pin in 0..<Self.pins where redirection[pin] & 0xFF == UInt64(vector) && redirection[pin] & 1 << 14 != 0 {
            redirection[pin] &= ~(1 << 14)
            if redirection[pin] & 1 << 15 != 0 && asserted(pin) { service(pin) }
        }
    }

    func readRegister() -> UInt32 {
        switch select {
        case 0: return id << 24
        case 1: return UInt32(Self.pins - 1) << 16 | 0x20
        case 2: return id << 24
        case 0x10..<0x40:
            let e = redirection[Int(select - 0x10) / 2]
            return select & 1 == 0 ? UInt32(truncatingIfNeeded: e) : UInt32(truncatingIfNeeded: e >> 32)
        default: return 0
        }
    }

    func writeRegister(_ v: UInt32) {
        switch select {
        case 0: id = (v >> 24) & 0xF
        case 0x10..<0x40:
            let pin = Int(select - 0x10) / 2
            var e = redirection[pin]
            if select & 1 == 0 {
                // Delivery status (12) and remote IRR (14) are read-only.
                e = (e & 0xFFFF_FFFF_0000_0000) | (e & (1 << 12 | 1 << 14)) | UInt64(v & ~UInt32(1 << 12 | 1 << 14))
            } else {
                e = (e & 0xFFFF_FFFF) | UInt64(v) << 32
            }
            redirection[pin] = e
            // An unmasked level-triggered pin that is asserted sends now.
            if e & 1 << 15 != 0 && asserted(pin) { service(pin) }
        default: break
        }
    }

    public func mmioRead(offset: UInt64, size: Int) -> UInt64 {
        switch offset {
        case 0x00: return UInt64(select)
        case 0x10: return UInt64(readRegister())
        default: return 0
        }
    }

    public func mmioWrite(offset: UInt64, size: Int, value: UInt64) {
        switch offset {
        case 0x00: select = UInt32(truncatingIfNeeded: value) & 0xFF
        case 0x10: writeRegister(UInt32(truncatingIfNeeded: value))
        case 0x40: endOfInterrupt(UInt8(truncatingIfNeeded: value))
        default: break
        }
    }
}
