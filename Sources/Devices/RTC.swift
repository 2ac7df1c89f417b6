// The MC146818 real-time clock and CMOS RAM at ports 0x70 (index; bit 7 is the NMI mask)
// and 0x71 (data): time and date in BCD or binary, 12- or 24-hour (register B), the update-
// in-progress flag (register A), the periodic, alarm and update-ended interrupts on IRQ 8
// (flags in register C, cleared when read), and the valid-RAM flag (register D).
//
// The time is `epoch` (seconds since 1970, UTC) plus guest time, so a run is repeatable; the
// periodic interrupt's rate comes from register A (2^(rate-1) Hz divided from 32.768 kHz).

public final class RTC: PortDevice, TimedDevice {
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
        cmos[0x0A] = 0x26 // 32.768 kHz time base, 1024 Hz periodic rate
        cmos[0x0B] = 0x02 // 24-hour, BCD, no interrupts
        cmos[0x0D] = 0x80 // the RAM and time are valid
    }

    /// CMOS bytes a firmware would have set (memory sizes, the boot device); index < 128.
    public func setCMOS(_ index: Int, _ value: UInt8) { cmos[index & 0x7F] = value }

    var registerB: UInt8 { cmos[0x0B] }

    /// Register C's alarm flag (AF): the alarm time has come since register C was last read.
    public var alarmFlag: Bool { cmos[0x0C] & 0x20 != 0 }
    /// Register B's alarm interrupt enable (AIE): the alarm reaches IRQ 8 (and ACPI's RTC_STS).
    public var alarmInterruptEnabled: Bool { registerB & 0x20 != 0 }

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
        registerB & 0x04 != 0 ? UInt8(v) : UInt8((v / 10) << 4 | v % 10)
    }

    func readRegister(_ i: UInt8) -> UInt8 {
        let (s, m, h, wd, d, mo, y) = dateTime()
        switch i {
        case 0x00: return encode(s)
        case 0x02: return encode(m)
        case 0x04:
            if registerB & 0x02 != 0 { return encode(h) }
            let h12 = h % 12 == 0 ? 12 : h % 12
            return encode(h12) | (h >= 12 ? 0x80 : 0)
        case 0x06: return encode(wd)
        case 0x07: return encode(d)
        case 0x08: return encode(mo)
        case 0x09: return encode(y % 100)
        case 0x32: return encode(y / 100)
        case 0x0A:
            // Update in progress during the last 244 us of each second.
            let uip = clock.now % 1_000_000_000 >= 1_000_000_000 - 244_000
            return cmos[0x0A] & 0x7F | (uip ? 0x80 : 0)
        case 0x0C:
            let c = cmos[0x0C]
            cmos[0x0C] = 0
            irq.lower()
            return c
        default: return cmos[Int(i)]
        }
    }

    func writeRegister(_ i: UInt8, _ v: UInt8) {
        switch i {
        case 0x0A: cmos[0x0A] = v & 0x7F; schedulePeriodic()
        case 0x0B: cmos[0x0B] = v; schedulePeriodic(); updateIRQ()
        case 0x0C, 0x0D: break // read-only
        default: cmos[Int(i)] = v // the time registers: kept as CMOS bytes, the clock runs on
        }
    }

    /// The periodic rate (register A bits 3-0) while PIE (register B bit 6) is set.
    func schedulePeriodic() {
        let rate = cmos[0x0A] & 0x0F
        guard registerB & 0x40 != 0, rate != 0 else { nextPeriodic = nil; return }
        let hz = UInt64(32768) >> UInt64((rate <= 2 ? rate + 7 : rate) - 1)
        let period = 1_000_000_000 / hz
        nextPeriodic = (clock.now / period + 1) * period
    }

    func updateIRQ() {
        let c = cmos[0x0C] & 0x70, enabled = registerB & 0x70
        if c & enabled != 0 {
            cmos[0x0C] |= 0x80
            irq.raise()
        }
    }

    public func nextEvent() -> UInt64? {
        let second: UInt64? = registerB & 0x30 != 0 ? nextSecond : nil
        switch (nextPeriodic, second) {
        case (let p?, let s?): return min(p, s)
        case (let p?, nil): return p
        default: return second
        }
    }

    public func advance() {
        let now = clock.now
        if let p = nextPeriodic, now >= p {
            cmos[0x0C] |= 0x40
            schedulePeriodic()
        }
        if now >= nextSecond {
            nextSecond = (now / 1_000_000_000 + 1) * 1_000_000_000
            cmos[0x0C] |= 0x10 // update ended
            let (s, m, h, _, _, _, _) = dateTime()
            if (cmos[0x01] >= 0xC0 || cmos[0x01] == encode(s)) && (cmos[0x03] >= 0xC0 || cmos[0x03] == encode(m))
                && (cmos[0x05] >= 0xC0 || cmos[0x05] == encode(h)) {
                cmos[0x0C] |= 0x20 // alarm
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
