/// The ACPI fixed-hardware power-management registers a kernel uses to turn the machine off
/// or suspend it to RAM (ACPI 6.5, 4.8.3): the PM1a event block (PM1_STS, then PM1_EN, two
/// bytes each) and the PM1a control block (PM1_CNT) right after it, at the ports the FADT names.
///
/// - PM1_STS bits are cleared by writing ones. WAK_STS (bit 15) is set on the way into a
///   sleep state; RTC_STS (bit 10) when the RTC alarm wakes the machine (`wake(byAlarm:)`).
///   No fixed event raises SCI.
/// - PM1_EN holds what the kernel writes; RTC_EN (bit 10) lets the RTC alarm wake from S3.
/// - PM1_CNT: SCI_EN (bit 0) reads 1 (the machine is always in ACPI mode: the FADT has no
///   SMI_CMD); writing SLP_EN (bit 13) with SLP_TYP (bits 12:10) equal to the DSDT's \_S5
///   value powers off (`onPowerOff`), with \_S3's suspends to RAM (`onSuspend`: the machine
///   sleeps until a wake event, then resumes at the FACS waking vector). S1, S2 and S4 are
///   not offered.
public final class ACPIPower: PortDevice {
    /// The \_S5 and \_S3 packages' SLP_TYP values (QEMU's too).
    public static let softOffType: UInt16 = 5
    public static let suspendType: UInt16 = 1
    static let wakeStatus: UInt16 = 1 << 15, rtcStatus: UInt16 = 1 << 10
    var status: UInt16 = 0
    var enable: UInt16 = 0
    var control: UInt16 = 1
    public var onPowerOff: () -> Void = {}
    public var onSuspend: () -> Void = {}
    public init() {}

    /// Whether the RTC alarm is a wake event (PM1_EN.RTC_EN).
    public var alarmWakes: Bool { enable & ACPIPower.rtcStatus != 0 }

    /// The machine has woken from S3 (by the RTC alarm, or not): the status a resumed kernel reads.
    public func wake(byAlarm: Bool) {
        status |= ACPIPower.wakeStatus | (byAlarm ? ACPIPower.rtcStatus : 0)
    }

    public func portRead(offset: UInt16, size: Int) -> UInt32 {
        let bytes = [status, enable, control].flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }
        var v: UInt32 = 0
        for i in 0..<size where Int(offset) + i < bytes.count { v |= UInt32(bytes[Int(offset) + i]) << UInt32(8 * i) }
        return v
    }

    public func portWrite(offset: UInt16, size: Int, value: UInt32) {
        for i in 0..<size {
            let at = Int(offset) + i, b = UInt16(truncatingIfNeeded: value >> UInt32(8 * i)) & 0xFF
            let shift = UInt16(8 * (at & 1))
            switch at >> 1 {
            case 0: status &= ~(b << shift)
            case 1: enable = enable & ~(0xFF << shift) | b << shift
            case 2: control = (control & ~(0xFF << shift) | b << shift) | 1
            default: break
            }
        }
        if control & (1 << 13) != 0 {
            control &= ~(1 << 13)
            switch (control >> 10) & 7 {
            case ACPIPower.softOffType:
                status |= ACPIPower.wakeStatus
                onPowerOff()
            case ACPIPower.suspendType:
                onSuspend()
            default: break
            }
        }
    }
}
