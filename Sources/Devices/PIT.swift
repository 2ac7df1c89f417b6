import X86

// The 8254 programmable interval timer (Intel's 8254 data sheet) at ports 0x40-0x43, clocked
// at 1.193182 MHz: three counters in modes 0-5 (interrupt on terminal count, hardware
// one-shot, rate generator, square wave, software and hardware strobe), binary or BCD,
// LSB/MSB/word access, the counter-latch and read-back commands with the status byte.
// Counter 0's output is IRQ 0; counter 2's gate and output are bits 0 and 5 of port 0x61
// (with the speaker enable in bit 1 and the refresh toggle in bit 4: `SystemControlPortB`).
//
// Counters are computed from guest time (GuestClock), not stepped: a count is the ticks
// since it was loaded, so a read costs nothing and the machine need only wake for output
// edges (`nextEvent`).

public final class PIT8254: PortDevice, TimedDevice {
    /// The ports' offsets: counters 0-2, then the control word register (write-only).
    public enum Register { public static let counter0: UInt16 = 0, control: UInt16 = 3 }
    /// The control word: SC (bits 7-6; 3 is read-back), RW (bits 5-4; 0 latches the count),
    /// M (bits 3-1), BCD (bit 0).
    public enum ControlWord {
        public static let readBack = 3
        /// Read-back's bits: 0 in these latch the count and the status of the counters selected
        /// by bits 1-3.
        public static let readBackNoCount: UInt8 = 0x20, readBackNoStatus: UInt8 = 0x10
        public static let bcd: UInt8 = 0x01
    }
    /// A latched status byte: the output, null count, then the control word's RW, M and BCD.
    public enum Status { public static let output: UInt8 = 0x80, nullCount: UInt8 = 0x40 }
    /// Port 0x61: counter 2's gate, the speaker data enable, the refresh toggle, counter 2's output.
    public enum PortB { public static let gate2: UInt32 = 0x01, speakerData: UInt32 = 0x02, refresh: UInt32 = 0x10, out2: UInt32 = 0x20 }

    public static let frequency: UInt64 = 1_193_182
    static let nanoseconds: UInt64 = 1_000_000_000

    struct Counter {
        /// The reload value (0x10000 for a written 0).
        var count: UInt64 = 0x10000
        var loadTime: UInt64 = 0
        var mode = 0, bcd = false
        /// 1 LSB, 2 MSB, 3 LSB then MSB.
        var access = 3
        var readState = 3, writeState = 3
        var writeLatch: UInt8 = 0
        var latched: UInt16 = 0, latchState = 0
        var status: UInt8 = 0, statusLatched = false
        var gate = true
        /// Whether a count was ever written since the mode was set (OUT is undefined before).
        var counting = false
        var nullCount = true

        func ticks(_ now: UInt64) -> UInt64 { mulDiv(now &- loadTime, PIT8254.frequency, PIT8254.nanoseconds) }

        func value(_ now: UInt64) -> UInt64 {
            let d = ticks(now)
            switch mode {
            case 0, 1, 4, 5: return (count &- d) & 0xFFFF
            case 3: return count - ((2 * d) % count)
            default: return count - (d % count)
            }
        }

        func output(_ now: UInt64) -> Bool {
            guard counting else { return mode != 0 }
            let d = ticks(now)
            switch mode {
            case 0: return d >= count
            case 1: return d >= count
            case 2: return d % count != 0 || d == 0
            case 3: return d % count < (count + 1) >> 1
            default: return d != count // 4, 5: a one-tick low strobe
            }
        }

        /// The next time OUT changes, in ticks since the load, if it ever does.
        func nextTransitionTicks(_ now: UInt64) -> UInt64? {
            guard counting else { return nil }
            let d = ticks(now)
            switch mode {
            case 0, 1:
                return d < count ? count : nil
            case 2:
                let base = d / count * count
                return d == base && d != 0 ? base + 1 : base + count
            case 3:
                let base = d / count * count, half = (count + 1) >> 1
                return d - base < half ? base + half : base + count
            default:
                if d < count { return count }
                return d == count ? count + 1 : nil
            }
        }

        mutating func latch(_ now: UInt64) {
            guard latchState == 0 else { return }
            latched = UInt16(truncatingIfNeeded: value(now))
            latchState = access
        }
    }

    var counters = [Counter(), Counter(), Counter()]
    let clock: GuestClock
    /// Counter 0's output: IRQ 0.
    let irq0: IRQLine
    var out0 = false
    /// The speaker data enable of port 0x61 (bit 1).
    var speakerData = false

    public init(clock: GuestClock, irq0: IRQLine) {
        self.clock = clock
        self.irq0 = irq0
        counters[2].gate = false // counters 0 and 1 are gated on; port 0x61 gates counter 2
    }

    // MARK: timed events

    public func nextEvent() -> UInt64? {
        let c = counters[0]
        guard let t = c.nextTransitionTicks(clock.now) else { return nil }
        // The first nanosecond at or after tick t.
        let ns = c.loadTime &+ mulDiv(t, PIT8254.nanoseconds, PIT8254.frequency) &+ 1
        return max(ns, clock.now &+ 1)
    }

    /// Drives IRQ 0 from counter 0's output. Edges the vCPU ran past (it was busy longer than
    /// a period, or a port access's time stepped over a strobe) are not replayed one by one:
    /// the output's level now is what the line shows, with a low-high pulse for a periodic rate
    /// that wrapped, or a one-tick strobe (modes 4 and 5) that came and went, since the last look.
    public func advance() {
        let now = clock.now
        let out = counters[0].output(now)
        if out != out0 {
            out0 = out
            irq0(out)
        } else if out && (wrapped(since: lastLook, now) || strobed(since: lastLook, now)) {
            irq0(false)
            irq0(true)
        }
        lastLook = now
    }
    var lastLook: UInt64 = 0

    /// Whether counter 0, in mode 4 or 5, ended its one-tick low strobe (OUT rises at tick
    /// count + 1) after `then` and by `now`. The strobe lasts 838 ns, less than a port access
    /// takes in guest time, so a look at either side of it is common (Linux's one-shot PIT).
    func strobed(since then: UInt64, _ now: UInt64) -> Bool {
        let c = counters[0]
        guard c.counting, c.mode == 4 || c.mode == 5 else { return false }
        let before = then > c.loadTime ? c.ticks(then) : 0
        return before <= c.count && c.ticks(now) > c.count
    }

    /// Whether counter 0, periodic, began a new period between `then` and `now`.
    func wrapped(since then: UInt64, _ now: UInt64) -> Bool {
        let c = counters[0]
        guard c.counting, c.mode == 2 || c.mode == 3, then >= c.loadTime else { return false }
        return c.ticks(now) / c.count != c.ticks(then) / c.count
    }

    // MARK: ports

    func load(_ n: Int, _ value: UInt64) {
        var c = counters[n]
        c.count = value == 0 ? 0x10000 : (c.bcd ? Self.fromBCD(value) : value)
        c.loadTime = clock.now
        c.counting = true
        c.nullCount = false
        counters[n] = c
        if n == 0 { advance() }
    }

    static func fromBCD(_ v: UInt64) -> UInt64 {
        let d = (v & 0xF) + ((v >> 4) & 0xF) * 10 + ((v >> 8) & 0xF) * 100 + ((v >> 12) & 0xF) * 1000
        return d == 0 ? 10000 : d
    }

    public func portRead(offset: UInt16, size: Int) -> UInt32 {
        guard offset < Register.control else { return 0xFF } // the control word register is write-only
        let n = Int(offset), now = clock.now
        var c = counters[n]
        defer { counters[n] = c }
        if c.statusLatched {
            c.statusLatched = false
            return UInt32(c.status)
        }
        if c.latchState != 0 {
            switch c.latchState {
            case 1: c.latchState = 0; return UInt32(c.latched & 0xFF)
            case 2: c.latchState = 0; return UInt32(c.latched >> 8)
            case 3: c.latchState = 4; return UInt32(c.latched & 0xFF)
            default: c.latchState = 0; return UInt32(c.latched >> 8)
            }
        }
        let v = c.value(now)
        switch c.readState {
        case 1: return UInt32(v & 0xFF)
        case 2: return UInt32((v >> 8) & 0xFF)
        case 3: c.readState = 4; return UInt32(v & 0xFF)
        default: c.readState = 3; return UInt32((v >> 8) & 0xFF)
        }
    }

    public func portWrite(offset: UInt16, size: Int, value: UInt32) {
        let v = UInt8(truncatingIfNeeded: value), now = clock.now
        if offset == Register.control {
            let n = Int(v >> 6)
            if n == ControlWord.readBack {
                for i in 0..<3 where v & (2 << UInt8(i)) != 0 {
                    if v & ControlWord.readBackNoCount == 0 { counters[i].latch(now) }
                    if v & ControlWord.readBackNoStatus == 0 && !counters[i].statusLatched {
                        let c = counters[i]
                        counters[i].status = (c.output(now) ? Status.output : 0) | (c.nullCount ? Status.nullCount : 0)
                            | UInt8(c.access << 4) | UInt8(c.mode << 1) | (c.bcd ? 1 : 0)
                        counters[i].statusLatched = true
                    }
                }
                return
            }
            let access = Int(v >> 4) & 3
            if access == 0 {
                counters[n].latch(now)
                return
            }
            var c = counters[n]
            c.access = access
            c.readState = access
            c.writeState = access
            c.mode = Int(v >> 1) & 7
            if c.mode > 5 { c.mode -= 4 } // 6 and 7 are modes 2 and 3
            c.bcd = v & ControlWord.bcd != 0
            c.counting = false
            c.nullCount = true
            counters[n] = c
            if n == 0 { advance() }
            return
        }
        let n = Int(offset)
        switch counters[n].writeState {
        case 1: load(n, UInt64(v))
        case 2: load(n, UInt64(v) << 8)
        case 3: counters[n].writeLatch = v; counters[n].writeState = 4
        default:
            counters[n].writeState = 3
            load(n, UInt64(counters[n].writeLatch) | UInt64(v) << 8)
        }
    }

    /// Counter 2's gate (port 0x61 bit 0): a rising edge restarts modes 1, 2, 3 and 5.
    func setGate2(_ g: Bool) {
        let c = counters[2]
        if !c.gate && g && [1, 2, 3, 5].contains(c.mode) { counters[2].loadTime = clock.now }
        counters[2].gate = g
    }

    /// Port 0x61 (system control port B): counter 2's gate and output, the speaker enable, and
    /// the refresh toggle (bit 4, every 15 µs).
    public var systemControlPortB: PortDevice { SystemControlPortB(pit: self) }

    final class SystemControlPortB: PortDevice {
        unowned let pit: PIT8254
        init(pit: PIT8254) { self.pit = pit }
        func portRead(offset: UInt16, size: Int) -> UInt32 {
            let now = pit.clock.now, c = pit.counters[2]
            let out = c.output(now)
            let refresh = (now / 15_000) & 1 != 0
            return (c.gate ? PortB.gate2 : 0) | (pit.speakerData ? PortB.speakerData : 0) | (refresh ? PortB.refresh : 0)
                | (out ? PortB.out2 : 0)
        }
        func portWrite(offset: UInt16, size: Int, value: UInt32) {
            pit.setGate2(value & PortB.gate2 != 0)
            pit.speakerData = value & PortB.speakerData != 0
        }
    }
}
