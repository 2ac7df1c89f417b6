import X86

// A vCPU's local APIC (SDM vol. 3, chapter 11): the xAPIC register page
// at 0xFEE00000 and the x2APIC MSRs (0x800-0x8FF), with IRR/ISR/TMR, the task and processor
// priorities, EOI (broadcast to the IOAPIC for level-triggered vectors), the spurious-
// interrupt vector register's software enable, the LVT (timer, LINT0/LINT1, error, thermal,
// performance, CMCI), the error status register, self-IPIs through the ICR or the x2APIC
// SELF IPI register, IPIs through the ICR to the machine's `APICBus` (fixed, lowest priority,
// NMI, INIT, STARTUP; physical and logical destinations, the shorthands), and the timer in
// one-shot, periodic and TSC-deadline modes.
//
// The timer counts at `busFrequency` (the core crystal clock CPUID leaf 0x15 states) divided
// by the divide configuration; its expiries are timed events (TimedDevice), so the vCPU runs
// exactly up to them.

public final class LocalAPIC: MMIODevice, TimedDevice {
    public static let defaultBase: UInt64 = 0xFEE0_0000

    /// Register offsets in the xAPIC page (SDM vol. 3, table 11-1); the x2APIC MSR of each is
    /// `x2APICMSRBase` + offset / 16.
    public enum Register {
        public static let id: UInt32 = 0x20, version: UInt32 = 0x30, tpr: UInt32 = 0x80, apr: UInt32 = 0x90
        public static let ppr: UInt32 = 0xA0, eoi: UInt32 = 0xB0, ldr: UInt32 = 0xD0, dfr: UInt32 = 0xE0
        public static let svr: UInt32 = 0xF0
        /// The first of eight 32-bit words each (every 16 bytes).
        public static let isr: UInt32 = 0x100, tmr: UInt32 = 0x180, irr: UInt32 = 0x200
        public static let esr: UInt32 = 0x280, lvtCMCI: UInt32 = 0x2F0, icrLow: UInt32 = 0x300, icrHigh: UInt32 = 0x310
        /// LVT timer, thermal, performance, LINT0, LINT1, error: 0x320-0x370.
        public static let lvtTimer: UInt32 = 0x320, lvtLINT0: UInt32 = 0x350, lvtLINT1: UInt32 = 0x360, lvtLast: UInt32 = 0x370
        public static let initialCount: UInt32 = 0x380, currentCount: UInt32 = 0x390
        public static let divideConfiguration: UInt32 = 0x3E0, selfIPI: UInt32 = 0x3F0
    }
    /// The x2APIC MSRs: 0x800-0x8FF.
    public static let x2APICMSRBase: UInt32 = 0x800
    /// SVR's APIC software enable and EOI-broadcast suppression; an LVT entry's mask bit.
    static let svrEnable: UInt32 = 0x100, svrSuppressEOIBroadcast: UInt32 = 0x1000
    static let lvtMasked: UInt32 = 0x1_0000
    let clock: GuestClock
    /// The timer's input clock, in Hz.
    public let busFrequency: UInt64
    /// The APIC ID: the xAPIC's is writable; the x2APIC's is the initial one, read-only.
    public var id: UInt32 = 0
    /// The processor's initial APIC ID (CPUID's): the ID at power-up, whenever the APIC is
    /// enabled again, and in x2APIC mode.
    public var initialID: UInt32 = 0 { didSet { id = initialID } }

    /// IA32_APIC_BASE's enable bits: global enable (EN, bit 11) and x2APIC mode (EXTD, bit 10).
    public internal(set) var globallyEnabled = true
    public internal(set) var x2APIC = false

    var irr = [UInt32](repeating: 0, count: 8)
    var isr = [UInt32](repeating: 0, count: 8)
    var tmr = [UInt32](repeating: 0, count: 8)
    public var tpr: UInt32 = 0
    var ldr: UInt32 = 0, dfr: UInt32 = 0xFFFF_FFFF
    var svr: UInt32 = 0xFF
    var esr: UInt32 = 0, pendingErrors: UInt32 = 0
    var icr: UInt64 = 0
    /// LVT: CMCI, timer, thermal, performance, LINT0, LINT1, error (all masked at reset).
    var lvt = [UInt32](repeating: LocalAPIC.lvtMasked, count: 7)
    static let lvtCMCI = 0, lvtTimer = 1, lvtThermal = 2, lvtPerformance = 3, lvtLINT0 = 4, lvtLINT1 = 5, lvtError = 6
    var initialCount: UInt32 = 0, divideConfiguration: UInt32 = 0
    /// When the current count was loaded (guest ns), and the next expiry (nil: stopped).
    var timerStart: UInt64 = 0
    var timerExpiry: UInt64?
    /// TSC-deadline mode: the armed deadline (TSC value; 0 = disarmed) and its guest time.
    public internal(set) var tscDeadline: UInt64 = 0
    var tscDeadlineTime: UInt64?

    /// A level-triggered vector's EOI, for the IOAPIC's remote IRR.
    public var onEOI: (UInt8) -> Void = { _ in }
    /// The TPR changed (the machine mirrors it in CR8).
    public var onTPRChange: (UInt32) -> Void = { _ in }
    /// Fixed interrupts taken from the IRR (for `--stats`).
    public internal(set) var delivered = 0

    public init(clock: GuestClock, busFrequency: UInt64) {
        self.clock = clock
        self.busFrequency = busFrequency
    }

    // MARK: accepting and delivering interrupts

    static func bit(_ v: UInt8) -> (Int, UInt32) { (Int(v >> 5), UInt32(1) << UInt32(v & 31)) }

    /// A fixed interrupt arrives (from the IOAPIC, an LVT entry or a self-IPI).
    public func accept(vector: UInt8, level: Bool = false) {
        guard vector >= 16 else {
            raiseError(1 << 6) // received an illegal vector
            return
        }
        let (w, m) = Self.bit(vector)
        irr[w] |= m
        if level { tmr[w] |= m } else { tmr[w] &= ~m }
    }

    func highest(_ r: [UInt32]) -> UInt8? {
        for w in stride(from: 7, through: 0, by: -1) where r[w] != 0 {
            return UInt8(w * 32 + 31 - r[w].leadingZeroBitCount)
        }
        return nil
    }

    /// PPR: the TPR, or the class of the highest vector in service if that is higher.
    public var ppr: UInt32 {
        let isrv = UInt32(highest(isr) ?? 0)
        return (tpr & 0xF0) >= (isrv & 0xF0) ? tpr : isrv & 0xF0
    }

    /// The vector the CPU would take now from the IRR: above the processor priority's class.
    public var deliverableVector: UInt8? {
        guard globallyEnabled, svr & Self.svrEnable != 0, let v = highest(irr) else { return nil }
        return UInt32(v) & 0xF0 > ppr & 0xF0 ? v : nil
    }

    /// The TPR threshold a monitor gives the CPU (VMX's, SDM vol. 3, 30.1.2): the priority
    /// class of the highest requested vector when only the TPR holds it back, so that a
    /// MOV to CR8 below it exits and the interrupt is offered; 0 when no CR8 write can let an
    /// interrupt through (none requested, or the in-service one outranks it).
    public var tprThreshold: UInt32 {
        guard globallyEnabled, svr & Self.svrEnable != 0, let v = highest(irr) else { return 0 }
        let requested = UInt32(v) >> 4, inService = UInt32(highest(isr) ?? 0) >> 4
        return requested > inService ? requested : 0
    }

    /// The INTA cycle: the vector moves from IRR to ISR; the spurious vector if nothing is
    /// deliverable any more.
    public func acknowledge() -> UInt8 {
        guard let v = deliverableVector else { return UInt8(truncatingIfNeeded: svr) }
        let (w, m) = Self.bit(v)
        irr[w] &= ~m
        isr[w] |= m
        delivered += 1
        return v
    }

    /// Whether the 8259A's INTR reaches the CPU: the APIC is globally disabled, or LINT0 is
    /// unmasked (virtual-wire mode, QEMU's rule).
    public var acceptsPICInterrupts: Bool {
        !globallyEnabled || lvt[Self.lvtLINT0] & Self.lvtMasked == 0
    }

    func eoi() {
        guard let v = highest(isr) else { return }
        let (w, m) = Self.bit(v)
        isr[w] &= ~m
        if tmr[w] & m != 0 && svr & Self.svrSuppressEOIBroadcast == 0 { onEOI(v) }
    }

    func raiseError(_ bits: UInt32) {
        pendingErrors |= bits
        let e = lvt[Self.lvtError]
        if e & Self.lvtMasked == 0 { accept(vector: UInt8(truncatingIfNeeded: e)) }
    }

    // MARK: the timer

    var divisor: UInt64 {
        let v = (divideConfiguration & 3) | (divideConfiguration & 8) >> 1
        return v == 7 ? 1 : 2 << UInt64(v)
    }
    var timerMode: UInt32 { (lvt[Self.lvtTimer] >> 17) & 3 }
    /// The nanoseconds one count lasts, as a fraction: divisor · 10^9 / busFrequency.
    func countsToNanoseconds(_ counts: UInt64) -> UInt64 {
        mulDiv(counts * divisor, 1_000_000_000, busFrequency)
    }

    func startTimer() {
        timerStart = clock.now
        timerExpiry = initialCount == 0 || timerMode == 2 ? nil : timerStart &+ max(1, countsToNanoseconds(UInt64(initialCount)))
    }

    var currentCount: UInt32 {
        guard timerMode != 2, initialCount != 0, let expiry = timerExpiry else { return 0 }
        let now = clock.now
        guard now < expiry else { return 0 }
        let elapsed = mulDiv(now - timerStart, busFrequency, divisor * 1_000_000_000)
        return UInt32(min(UInt64(initialCount), UInt64(initialCount) - min(elapsed, UInt64(initialCount))))
    }

    /// Arms (or, with 0, disarms) the TSC deadline; `time` is when the TSC reaches it.
    public func setTSCDeadline(_ deadline: UInt64, at time: UInt64) {
        guard timerMode == 2 else { return }
        tscDeadline = deadline
        tscDeadlineTime = deadline == 0 ? nil : time
    }

    public func nextEvent() -> UInt64? {
        timerMode == 2 ? tscDeadlineTime : timerExpiry
    }

    public func advance() {
        let now = clock.now
        if timerMode == 2 {
            guard let t = tscDeadlineTime, now >= t else { return }
            tscDeadlineTime = nil
            tscDeadline = 0
            fireTimer()
            return
        }
        guard let expiry = timerExpiry, now >= expiry else { return }
        if timerMode == 1 {
            // Periodic: the next period starts at the expiry (periods the vCPU ran past merge).
            let period = max(1, countsToNanoseconds(UInt64(initialCount)))
            let missed = (now - expiry) / period
            timerStart = expiry &+ missed * period
            timerExpiry = timerStart &+ period
        } else {
            timerExpiry = nil
        }
        fireTimer()
    }

    func fireTimer() {
        let e = lvt[Self.lvtTimer]
        if e & Self.lvtMasked == 0 { accept(vector: UInt8(truncatingIfNeeded: e)) }
    }

    // MARK: registers (offsets in the xAPIC page; x2APIC MSR 0x800 + offset / 16)

    /// A register read, or nil for one that does not exist (or is write-only).
    func readRegister(_ offset: UInt32) -> UInt64? {
        switch offset {
        case Register.id: return UInt64(x2APIC ? id : id << 24)
        case Register.version: return 0x0005_0014 // version 0x14, six LVT entries
        case Register.tpr: return UInt64(tpr)
        case Register.apr: return x2APIC ? nil : 0
        case Register.ppr: return UInt64(ppr)
        case Register.eoi: return x2APIC ? nil : 0
        case Register.ldr: return UInt64(x2APIC ? (id >> 4) << 16 | 1 << (id & 15) : ldr)
        case Register.dfr: return x2APIC ? nil : UInt64(dfr)
        case Register.svr: return UInt64(svr)
        case Register.isr...Register.isr + 0x70: return UInt64(isr[Int(offset - Register.isr) >> 4])
        case Register.tmr...Register.tmr + 0x70: return UInt64(tmr[Int(offset - Register.tmr) >> 4])
        case Register.irr...Register.irr + 0x70: return UInt64(irr[Int(offset - Register.irr) >> 4])
        case Register.esr: return UInt64(esr)
        case Register.lvtCMCI: return x2APIC ? nil : UInt64(lvt[Self.lvtCMCI]) // beyond the version's MaxLVT: no x2APIC MSR
        case Register.icrLow: return x2APIC ? icr : icr & 0xFFFF_FFFF
        case Register.icrHigh: return x2APIC ? nil : icr >> 32
        case Register.lvtTimer...Register.lvtLast: return UInt64(lvt[Int(offset - Register.lvtTimer) / 16 + 1])
        case Register.initialCount: return UInt64(initialCount)
        case Register.currentCount: return UInt64(currentCount)
        case Register.divideConfiguration: return UInt64(divideConfiguration)
        default: return nil
        }
    }

    /// A register write; false for one that does not exist or is read-only (x2APIC: #GP).
    func writeRegister(_ offset: UInt32, _ value: UInt64) -> Bool {
        let v = UInt32(truncatingIfNeeded: value)
        let softwareDisabled = svr & Self.svrEnable == 0
        switch offset {
        case Register.id:
            if x2APIC { return false }
            id = v >> 24
        case Register.tpr:
            tpr = v & 0xFF
            onTPRChange(tpr)
        case Register.eoi:
            if x2APIC && v != 0 { return false }
            eoi()
        case Register.ldr:
            if x2APIC { return false }
            ldr = v & 0xFF00_0000
        case Register.dfr:
            if x2APIC { return false }
            dfr = v | 0x0FFF_FFFF
        case Register.svr:
            svr = v & 0x11FF
            if svr & Self.svrEnable == 0 { for i in 0..<lvt.count { lvt[i] |= Self.lvtMasked } }
        case Register.esr:
            if x2APIC && v != 0 { return false }
            esr = pendingErrors
            pendingErrors = 0
        case Register.icrLow:
            icr = x2APIC ? value : (icr & ~0xFFFF_FFFF) | UInt64(v)
            sendIPI()
        case Register.icrHigh:
            if x2APIC { return false }
            icr = (icr & 0xFFFF_FFFF) | UInt64(v) << 32
        case Register.lvtCMCI where x2APIC:
            return false
        case Register.lvtCMCI, Register.lvtTimer...Register.lvtLast:
            let n = offset == Register.lvtCMCI ? Self.lvtCMCI : Int(offset - Register.lvtTimer) / 16 + 1
            // Writable bits: vector, delivery mode, polarity/trigger (LINT only), mask, timer mode.
            var mask: UInt32 = 0x1_00FF
            switch n {
            case Self.lvtTimer: mask = 0x7_00FF
            case Self.lvtLINT0, Self.lvtLINT1: mask = 0x1_A7FF
            case Self.lvtError: mask = 0x1_00FF
            default: mask = 0x1_07FF
            }
            let oldMode = timerMode
            lvt[n] = v & mask | (softwareDisabled ? Self.lvtMasked : 0)
            if n == Self.lvtTimer && (timerMode == 2) != (oldMode == 2) {
                // Into or out of TSC-deadline mode disarms the timer (SDM vol. 3, 11.5.4.1);
                // between one-shot and periodic the count runs on from where it was.
                timerExpiry = nil
                tscDeadline = 0
                tscDeadlineTime = nil
            }
        case Register.initialCount:
            initialCount = v
            startTimer()
        case Register.divideConfiguration:
            divideConfiguration = v & 0xB
        case Register.selfIPI:
            // x2APIC SELF IPI.
            // x2APIC SELF IPI: bits 31:8 are reserved.
            guard x2APIC, v & ~0xFF == 0 else { return false }
            accept(vector: UInt8(truncatingIfNeeded: v))
        default:
            return [Register.apr, Register.ppr, Register.currentCount, Register.version].contains(offset) ? !x2APIC : false
        }
        return true
    }

    /// The ICR was written: its message goes out through the machine's `APICBus`; an APIC on
    /// no bus (alone) delivers only what is for itself. A fixed or lowest-priority message
    /// with a vector below 16 is not sent (ESR's send-illegal-vector bit); INIT level
    /// de-assert does nothing.
    func sendIPI() {
        let m = InterruptMessage(icr: icr, x2APIC: x2APIC)
        if (m.mode == .fixed || m.mode == .lowestPriority) && m.vector < 16 {
            raiseError(1 << 5)
            return
        }
        if let onIPI {
            onIPI(m)
        } else if m.shorthand == 1 || m.shorthand == 2 || (m.shorthand == 0 && matches(m)) {
            receive(m)
        }
    }

    /// Sends the ICR's messages to the other APICs (the machine's bus sets it).
    public var onIPI: ((InterruptMessage) -> Void)?
    /// An NMI, INIT, STARTUP (with its vector) or ExtINT message arrived: the machine acts on
    /// the processor.
    public var onNMI: () -> Void = {}
    public var onINIT: () -> Void = {}
    public var onStartup: (UInt8) -> Void = { _ in }
    public var onExtINT: () -> Void = {}

    /// Whether a message with no shorthand is for this APIC (SDM vol. 3, 11.6.2): physical
    /// destinations by APIC ID (all ones: broadcast); logical ones by the LDR, in the flat
    /// model a bit of the 8-bit logical ID, in the cluster model a cluster and a bit in it,
    /// and in x2APIC mode the cluster in bits 31:16 of the LDR the ID fixes. A globally
    /// disabled APIC takes no message.
    public func matches(_ m: InterruptMessage) -> Bool {
        guard globallyEnabled else { return false }
        let wide = x2APIC && m.x2APIC
        let d = wide ? m.destination : m.destination & 0xFF
        if d == (wide ? 0xFFFF_FFFF : 0xFF) { return true }
        if !m.logical { return d == (wide ? id : id & 0xFF) }
        if x2APIC {
            let logicalID = (id >> 4) << 16 | 1 << (id & 15)
            return d >> 16 == logicalID >> 16 && d & logicalID & 0xFFFF != 0
        }
        let logicalID = ldr >> 24
        if dfr >> 28 == 0xF { return logicalID & d != 0 }
        return (d >> 4 == logicalID >> 4 || d >> 4 == 0xF) && d & logicalID & 0xF != 0
    }

    /// A message for this APIC arrived.
    public func receive(_ m: InterruptMessage) {
        switch m.mode {
        case .fixed, .lowestPriority: accept(vector: m.vector, level: m.levelTriggered)
        case .nmi: onNMI()
        case .initialize: if m.assert || !m.levelTriggered { onINIT() }
        case .startup: onStartup(m.vector)
        case .extINT: onExtINT()
        case .smi, .reserved: break // no SMM; mode 3 is reserved
        }
    }

    /// INIT: every register back to its power-up value but the APIC ID (SDM vol. 3,
    /// 10.4.7.3); IA32_APIC_BASE, and with it the global enable and x2APIC mode, stays.
    public func initialize() { reset() }

    // MARK: xAPIC page

    /// With the APIC globally disabled, or in x2APIC mode (SDM vol. 3, 11.4.3 and 11.12.1.2),
    /// nothing answers at the page: reads are all ones (open bus), writes vanish.
    public func mmioRead(offset: UInt64, size: Int) -> UInt64 {
        guard !x2APIC, globallyEnabled else { return ~0 }
        let v = readRegister(UInt32(offset & 0xFF0)) ?? 0
        return v >> UInt64(8 * (offset & 3))
    }

    public func mmioWrite(offset: UInt64, size: Int, value: UInt64) {
        guard !x2APIC, globallyEnabled else { return }
        if !writeRegister(UInt32(offset & 0xFF0), value & 0xFFFF_FFFF) { raiseError(1 << 7) } // illegal register address
    }

    // MARK: x2APIC MSRs and IA32_APIC_BASE

    /// RDMSR 0x800-0x8FF; nil is #GP (xAPIC mode, or no such register).
    public func readMSR(_ index: UInt32) -> UInt64? {
        guard x2APIC, index != Self.x2APICMSRBase + Register.selfIPI >> 4 else { return nil }
        return readRegister((index - Self.x2APICMSRBase) << 4)
    }

    /// WRMSR 0x800-0x8FF; false is #GP.
    public func writeMSR(_ index: UInt32, _ value: UInt64) -> Bool {
        guard x2APIC else { return false }
        let offset = (index - Self.x2APICMSRBase) << 4
        if offset != Register.icrLow && value >> 32 != 0 { return false }
        return writeRegister(offset, value)
    }

    /// A write to IA32_APIC_BASE's EN and EXTD bits; false for a transition the SDM forbids
    /// (x2APIC without EN, x2APIC straight back to xAPIC, disabled straight to x2APIC): #GP.
    public func setBase(enabled: Bool, x2APIC extd: Bool) -> Bool {
        if extd && !enabled { return false }
        if x2APIC && enabled && !extd { return false }
        // From disabled only to xAPIC mode (SDM vol. 3, 11.12.5): x2APIC comes from xAPIC.
        if !globallyEnabled && enabled && extd { return false }
        if !enabled {
            // Global disable: the APIC returns to its reset state.
            reset()
        }
        // Enabling (from disabled) starts from the initial APIC ID, and the x2APIC ID is the
        // initial one whatever the xAPIC ID was written to (SDM vol. 3, 11.12.5.1).
        if (enabled && !globallyEnabled) || (extd && !x2APIC) { id = initialID }
        globallyEnabled = enabled
        x2APIC = extd
        return true
    }

    func reset() {
        for i in 0..<8 { irr[i] = 0; isr[i] = 0; tmr[i] = 0 }
        tpr = 0; ldr = 0; dfr = 0xFFFF_FFFF; svr = 0xFF; esr = 0; pendingErrors = 0; icr = 0
        for i in 0..<lvt.count { lvt[i] = Self.lvtMasked }
        initialCount = 0; divideConfiguration = 0; timerExpiry = nil
        tscDeadline = 0; tscDeadlineTime = nil
        onTPRChange(0)
    }
}
