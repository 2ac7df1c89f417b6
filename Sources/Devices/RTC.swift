// The MC146818 real-time clock and CMOS RAM at ports 0x70 (index; bit 7 is the NMI mask)
// and 0x71 (data): time and date in BCD or binary, 12- or 24-hour (register B), the update-
// in-progress flag (register A), the periodic, alarm and update-ended interrupts on IRQ 8
// (flags in register C, cleared when read), and the valid-RAM flag (register D).
//
// The time is `epoch` (seconds since 1970, UTC) plus guest time, so a run is repeatable; the
// periodic interrupt's rate comes from register A (2^(rate-1) Hz divided from 32.768 kHz).

public final class RTC: PortDevice, TimedDevice {
    /// The CMOS indexes of the clock's registers (MC146818 data sheet; the century byte where
    /// the PC's firmware keeps it, as ACPI's FADT names it).
    public enum Register {
        public static let seconds: UInt8 = 0x00, secondsAlarm: UInt8 = 0x01, minutes: UInt8 = 0x02
        public static let minutesAlarm: UInt8 = 0x03, hours: UInt8 = 0x04, hoursAlarm: UInt8 = 0x05
        public static let weekday: UInt8 = 0x06, day: UInt8 = 0x07, month: UInt8 = 0x08, year: UInt8 = 0x09
        public static let a: UInt8 = 0x0A, b: UInt8 = 0x0B, c: UInt8 = 0x0C, d: UInt8 = 0x0D
        public static let century: UInt8 = 0x32
    }
    /// Register A: update in progress, the divider (time base) and the periodic rate.
    public enum RegisterA {
        public static let updateInProgress: UInt8 = 0x80, rate: UInt8 = 0x0F
        /// 32.768 kHz time base (DV = 010), 1024 Hz periodic rate (RS = 0110).
        public static let reset: UInt8 = 0x26
    }
    /// Register B: interrupt enables (periodic, alarm, update-ended) and the data formats.
    public enum RegisterB {
        public static let periodicEnable: UInt8 = 0x40, alarmEnable: UInt8 = 0x20, updateEndedEnable: UInt8 = 0x10
        public static let interruptEnables: UInt8 = 0x70
        public static let binary: UInt8 = 0x04, hours24: UInt8 = 0x02
    }
    /// Register C: the interrupt request (any enabled flag) and the flags, cleared when read.
    public enum RegisterC {
        public static let request: UInt8 = 0x80, periodic: UInt8 = 0x40, alarm: UInt8 = 0x20, updateEnded: UInt8 = 0x10
        public static let flags: UInt8 = 0x70
    }
    /// Register D: valid RAM and time.
    public enum RegisterD { public static let valid: UInt8 = 0x80 }
    /// An alarm byte at or above this matches every value ("don't care").
    static let alarmAny: UInt8 = 0xC0
    /// The hour's PM bit in 12-hour mode.
    static let pm: UInt8 = 0x80

    let clock: GuestClock
    let irq: IRQLine
    /// The date and time at guest time 0, in seconds since 1970-01-01 UTC.
    public var epoch: UInt64
    var index: UInt8 = 0
    var cmos = [UInt8](repeating: 0, count: 128)
    /// The next periodic-interrupt time, and the next whole second (update-ended, alarm).
    var nextPeriodic: UInt64?
    var nextSecond: UInt64 = 1_000_000_000

    public init(clock: GuestClock, irq: IRQLine, epoch: UInt64 = 946_684_800) {
        self.clock = clock
        self.irq = irq
        self.epoch = epoch
        cmos[Int(Register.a)] = RegisterA.reset
        cmos[Int(Register.b)] = RegisterB.hours24 // BCD, no interrupts
        cmos[Int(Register.d)] = RegisterD.valid
    }

    /// CMOS bytes a firmware would have set (memory sizes, the boot device); index < 128.
    public func setCMOS(_ index: Int, _ value: UInt8) { cmos[index & 0x7F] = value }

    var registerB: UInt8 { cmos[Int(Register.b)] }

    /// Register C's alarm flag (AF): the alarm time has come since register C was last read.
    public var alarmFlag: Bool { cmos[Int(Register.c)] & RegisterC.alarm != 0 }
    /// Register B's alarm interrupt enable (AIE): the alarm reaches IRQ 8 (and ACPI's RTC_STS).
    public var alarmInterruptEnabled: Bool { registerB & RegisterB.alarmEnable != 0 }

    /// The date and time now: (second, minute, hour, weekday 1-7, day, month, year).
    func dateTime() -> (Int, Int, Int, Int, Int, Int, Int) {
        let t = epoch + clock.now / 1_000_000_000
        let days = Int(t / 86400), secs = Int(t % 86400)
        // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
        let z = days + 719_468, era = z / 146_097, doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1, month = mp < 10 ? mp + 3 : mp - 9
        let year = yoe + era * 400 + (month <= 2 ? 1 : 0)
        let weekday = (days + 4) % 7 + 1 // 1970-01-01 was a Thursday; Sunday is 1
        return (secs % 60, secs / 60 % 60, secs / 3600, weekday, day, month, year)
    }

    func encode(_ v: Int) -> UInt8 {
        registerB & RegisterB.binary != 0 ? UInt8(v) : UInt8((v / 10) << 4 | v % 10)
    }

    func readRegister(_ i: UInt8) -> UInt8 {
        let (s, m, h, wd, d, mo, y) = dateTime()
        switch i {
        case Register.seconds: return encode(s)
        case Register.minutes: return encode(m)
        case Register.hours:
            if registerB & RegisterB.hours24 != 0 { return encode(h) }
            let h12 = h % 12 == 0 ? 12 : h % 12
            return encode(h12) | (h >= 12 ? RTC.pm : 0)
        case Register.weekday: return encode(wd)
        case Register.day: return encode(d)
        case Register.month: return encode(mo)
        case Register.year: return encode(y % 100)
        case Register.century: return encode(y / 100)
        case Register.a:
            // Update in progress during the last 244 us of each second.
            let uip = clock.now % 1_000_000_000 >= 1_000_000_000 - 244_000
            return cmos[Int(Register.a)] & ~RegisterA.updateInProgress | (uip ? RegisterA.updateInProgress : 0)
        case Register.c:
            let c = cmos[Int(Register.c)]
            cmos[Int(Register.c)] = 0
            irq.lower()
            return c
        default: return cmos[Int(i)]
        }
    }

    func writeRegister(_ i: UInt8, _ v: UInt8) {
        switch i {
        case Register.a: cmos[Int(Register.a)] = v & ~RegisterA.updateInProgress; schedulePeriodic()
        case Register.b: cmos[Int(Register.b)] = v; schedulePeriodic(); updateIRQ()
        case Register.c, Register.d: break // read-only
        default: cmos[Int(i)] = v // the time registers: kept as CMOS bytes, the clock runs on
        }
    }

    /// The periodic rate (register A bits 3-0) while PIE (register B bit 6) is set.
    func schedulePeriodic() {
        let rate = cmos[Int(Register.a)] & RegisterA.rate
        guard registerB & RegisterB.periodicEnable != 0, rate != 0 else { nextPeriodic = nil; return }
        let hz = UInt64(32768) >> UInt64((rate <= 2 ? rate + 7 : rate) - 1)
        let period = 1_000_000_000 / hz
        nextPeriodic = (clock.now / period + 1) * period
    }

    func updateIRQ() {
        let c = cmos[Int(Register.c)] & RegisterC.flags, enabled = registerB & RegisterB.interruptEnables
        if c & enabled != 0 {
            cmos[Int(Register.c)] |= RegisterC.request
            irq.raise()
        }
    }

    public func nextEvent() -> UInt64? {
        let second: UInt64? = registerB & (RegisterB.alarmEnable | RegisterB.updateEndedEnable) != 0 ? nextSecond : nil
        switch (nextPeriodic, second) {
        case (let p?, let s?): return min(p, s)
        case (let p?, nil): return p
        default: return second
        }
    }

    public func advance() {
        let now = clock.now
        if let p = nextPeriodic, now >= p {
            cmos[Int(Register.c)] |= RegisterC.periodic
            schedulePeriodic()
        }
        if now >= nextSecond {
            nextSecond = (now / 1_000_000_000 + 1) * 1_000_000_000
            cmos[Int(Register.c)] |= RegisterC.updateEnded
            let (s, m, h, _, _, _, _) = dateTime()
            func matches(_ alarm: UInt8, _ now: Int) -> Bool { cmos[Int(alarm)] >= RTC.alarmAny || cmos[Int(alarm)] == encode(now) }
            if matches(Register.secondsAlarm, s) && matches(Register.minutesAlarm, m) && matches(Register.hoursAlarm, h) {
                cmos[Int(Register.c)] |= RegisterC.alarm
            }
        }
        updateIRQ()
    }

    public func portRead(offset: UInt16, size: Int) -> UInt32 {
        offset == 0 ? 0xFF : UInt32(readRegister(index))
    }

    public func portWrite(offset: UInt16, size: Int, value: UInt32) {
        if offset == 0 {
            index = UInt8(truncatingIfNeeded: value) & 0x7F
        } else {
            writeRegister(index, UInt8(truncatingIfNeeded: value))
        }
    }
}
