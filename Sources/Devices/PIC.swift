// The pair of 8259A programmable interrupt controllers of a PC (Intel's 8259A data sheet):
// the master at ports 0x20-0x21 with the slave cascaded on its IRQ 2, the slave at
// 0xA0-0xA1, and the edge/level control registers (ELCR) at 0x4D0-0x4D1.
//
// Each chip keeps IRR (requests), ISR (in service) and IMR (masked), a rotating priority,
// the initialization sequence (ICW1-ICW4), and the operation commands: OCW1 (the mask),
// OCW2 (EOI, specific EOI, rotation, set priority) and OCW3 (read IRR or ISR, poll,
// special mask mode). Edge-triggered inputs latch a rising edge; level-triggered ones (ELCR)
// request while high. An acknowledge with nothing left to serve gives the spurious IRQ 7.

/// One 8259A.
struct PIC8259 {
    var irr: UInt8 = 0, imr: UInt8 = 0, isr: UInt8 = 0
    /// The input levels last seen (edge detection).
    var lastLevels: UInt8 = 0
    /// The level-triggered inputs (ELCR), and the bits the ELCR may set.
    var elcr: UInt8 = 0
    let elcrMask: UInt8
    var priorityAdd: UInt8 = 0
    var vectorBase: UInt8 = 0
    var readISR = false, poll = false, specialMask = false
    /// 0 ready; 1, 2, 3: expecting ICW2, ICW3, ICW4.
    var initState = 0
    var needICW4 = false, single = false
    var autoEOI = false, rotateOnAutoEOI = false, specialFullyNested = false
    let isMaster: Bool

    init(master: Bool) {
        isMaster = master
        elcrMask = master ? 0xF8 : 0xDE
    }

    /// ICW1: everything but the ELCR starts over.
    mutating func initialize(_ icw1: UInt8) {
        lastLevels = 0
        irr &= elcr
        imr = 0; isr = 0; priorityAdd = 0; vectorBase = 0
        readISR = false; poll = false; specialMask = false
        autoEOI = false; rotateOnAutoEOI = false; specialFullyNested = false
        needICW4 = icw1 & 1 != 0
        single = icw1 & 2 != 0
        initState = 1
    }

    mutating func setInput(_ irq: Int, _ level: Bool) {
        let m = UInt8(1) << UInt8(irq)
        if elcr & m != 0 {
            if level { irr |= m; lastLevels |= m } else { irr &= ~m; lastLevels &= ~m }
        } else if level {
            if lastLevels & m == 0 { irr |= m }
            lastLevels |= m
        } else {
            lastLevels &= ~m
        }
    }

    /// How far down the rotating priority order the highest set bit of `mask` is (8: none).
    func priority(_ mask: UInt8) -> Int {
        guard mask != 0 else { return 8 }
        var p = 0
        while mask & (1 << ((UInt8(p) &+ priorityAdd) & 7)) == 0 { p += 1 }
        return p
    }

    /// The input this chip would present now: requested, unmasked, and above everything in
    /// service (special mask mode ignores masked ISR bits; special fully nested mode lets
    /// the slave's input interrupt its own service).
    func pendingInput() -> Int? {
        let p = priority(irr & ~imr)
        guard p < 8 else { return nil }
        var inService = isr
        if specialMask { inService &= ~imr }
        if specialFullyNested && isMaster { inService &= ~(1 << 2) }
        return p < priority(inService) ? Int((UInt8(p) &+ priorityAdd) & 7) : nil
    }

    /// The INTA cycle for `irq`: in service (unless automatic EOI); an edge request is consumed.
    mutating func acknowledge(_ irq: Int) {
        let m = UInt8(1) << UInt8(irq)
        if autoEOI {
            if rotateOnAutoEOI { priorityAdd = (UInt8(irq) + 1) & 7 }
        } else {
            isr |= m
        }
        if elcr & m == 0 { irr &= ~m }
    }

    mutating func writeCommand(_ v: UInt8) {
        if v & 0x10 != 0 {
            initialize(v)
        } else if v & 0x08 != 0 {
            // OCW3.
            if v & 0x04 != 0 { poll = true }
            if v & 0x02 != 0 { readISR = v & 0x01 != 0 }
            if v & 0x40 != 0 { specialMask = v & 0x20 != 0 }
        } else {
            // OCW2.
            switch v >> 5 {
            case 0, 4:
                rotateOnAutoEOI = v >> 7 != 0
            case 1, 5:
                // Non-specific EOI: the highest-priority request in service ends.
                let p = priority(isr)
                if p < 8 {
                    let irq = (UInt8(p) &+ priorityAdd) & 7
                    isr &= ~(1 << irq)
                    if v >> 5 == 5 { priorityAdd = (irq + 1) & 7 }
                }
            case 3, 7:
                let irq = v & 7
                isr &= ~(1 << irq)
                if v >> 5 == 7 { priorityAdd = (irq + 1) & 7 }
            case 6:
                priorityAdd = (v + 1) & 7
            default:
                break
            }
        }
    }

    mutating func writeData(_ v: UInt8) {
        switch initState {
        case 1:
            vectorBase = v & 0xF8
            initState = single ? (needICW4 ? 3 : 0) : 2
        case 2:
            initState = needICW4 ? 3 : 0 // ICW3: the cascade wiring is fixed on a PC
        case 3:
            specialFullyNested = v & 0x10 != 0
            autoEOI = v & 0x02 != 0
            initState = 0
        default:
            imr = v
        }
    }
}

/// The master and slave 8259As with their cascade, as one port device per chip plus the
/// ELCR; `output` is the master's INTR line to the CPU (or the local APIC's LINT0).
public final class PICPair {
    var master = PIC8259(master: true)
    var slave = PIC8259(master: false)
    /// INTR: a request is waiting for an acknowledge.
    public internal(set) var interruptRequested = false
    /// Called when INTR changes.
    public var onChange: (Bool) -> Void = { _ in }

    public init() {}

    /// An ISA interrupt line (0-15) changed level.
    public func setIRQ(_ irq: Int, _ level: Bool) {
        if irq < 8 { master.setInput(irq, level) } else { slave.setInput(irq - 8, level) }
        update()
    }

    /// The slave's output drives the master's IRQ 2; INTR follows the master.
    func update() {
        master.setInput(2, slave.pendingInput() != nil)
        let r = master.pendingInput() != nil
        if r != interruptRequested {
            interruptRequested = r
            onChange(r)
        }
    }

    /// The CPU's interrupt acknowledge: the vector to deliver (a spurious IRQ 7 or 15's vector
    /// when the request went away).
    public func acknowledge() -> UInt8 {
        defer { update() }
        guard let irq = master.pendingInput() else { return master.vectorBase | 7 }
        master.acknowledge(irq)
        guard irq == 2 else { return master.vectorBase | UInt8(irq) }
        guard let s = slave.pendingInput() else { return slave.vectorBase | 7 }
        slave.acknowledge(s)
        // The slave's INT output drops during the acknowledge: another request it still has
        // is a new edge on the master's IRQ 2.
        master.setInput(2, false)
        return slave.vectorBase | UInt8(s)
    }

    /// The poll command's read: 0x80 | the level acknowledged, or 0 with nothing pending.
    func pollRead(slaveChip: Bool) -> UInt8 {
        if slaveChip {
            slave.poll = false
            guard let s = slave.pendingInput() else { return 0 }
            slave.acknowledge(s)
            return 0x80 | UInt8(s)
        }
        master.poll = false
        guard let irq = master.pendingInput() else { return 0 }
        master.acknowledge(irq)
        return 0x80 | UInt8(irq)
    }

    public var imr: (master: UInt8, slave: UInt8) { (master.imr, slave.imr) }
    public var vectorBases: (master: UInt8, slave: UInt8) { (master.vectorBase, slave.vectorBase) }

    /// The port device for one chip (0x20 or 0xA0, two ports).
    public func chip(slave isSlave: Bool) -> PortDevice { Chip(pair: self, slave: isSlave) }
    /// The ELCR pair (0x4D0, two ports).
    public var edgeLevelControl: PortDevice { ELCR(pair: self) }
    /// Sets IRQ `irq` level-triggered in the ELCR, as firmware does for the PCI interrupts.
    public func setLevelTriggered(irq: Int) {
        let bit = UInt8(1 << (irq & 7))
        if irq < 8 { master.elcr |= bit & master.elcrMask } else { slave.elcr |= bit & slave.elcrMask }
    }

    final class Chip: PortDevice {
        unowned let pair: PICPair
        let isSlave: Bool
        init(pair: PICPair, slave: Bool) { self.pair = pair; isSlave = slave }

        func portRead(offset: UInt16, size: Int) -> UInt32 {
            let c = isSlave ? pair.slave : pair.master
            if c.poll {
                let v = pair.pollRead(slaveChip: isSlave)
                pair.update()
                return UInt32(v)
            }
            return UInt32(offset == PIC8259Register.command ? (c.readISR ? c.isr : c.irr) : c.imr)
        }

        func portWrite(offset: UInt16, size: Int, value: UInt32) {
            let v = UInt8(truncatingIfNeeded: value)
            if isSlave {
                if offset == PIC8259Register.command { pair.slave.writeCommand(v) } else { pair.slave.writeData(v) }
            } else {
                if offset == PIC8259Register.command { pair.master.writeCommand(v) } else { pair.master.writeData(v) }
            }
            pair.update()
        }
    }

    final class ELCR: PortDevice {
        unowned let pair: PICPair
        init(pair: PICPair) { self.pair = pair }
        func portRead(offset: UInt16, size: Int) -> UInt32 {
            UInt32(offset == PIC8259Register.masterELCR ? pair.master.elcr : pair.slave.elcr)
        }
        func portWrite(offset: UInt16, size: Int, value: UInt32) {
            let v = UInt8(truncatingIfNeeded: value)
            if offset == PIC8259Register.masterELCR { pair.master.elcr = v & pair.master.elcrMask } else { pair.slave.elcr = v & pair.slave.elcrMask }
            pair.update()
        }
    }
}

/// The 8259A's two ports, as offsets from its base (0x20, 0xA0): command (ICW1, OCW2, OCW3;
/// reads IRR or ISR) and data (ICW2-4, OCW1; reads IMR). The ELCR pair (0x4D0) is one port per
/// controller, master's first.
public enum PIC8259Register {
    public static let command: UInt16 = 0, data: UInt16 = 1
    public static let masterELCR: UInt16 = 0, slaveELCR: UInt16 = 1
}
