import X86

/// Guest time in nanoseconds, as every timer device reads it. The machine sets it before it
/// hands a device an access or asks for its next event: by default from the vCPU's retired
/// instructions (deterministic), or from the host clock with `--realtime`.
public final class GuestClock {
    public var now: UInt64 = 0
    public init() {}
}

/// An interrupt request line: a device drives it high or low; the machine routes it to the
/// interrupt controllers (the PICs' and the IOAPIC's inputs).
public struct IRQLine {
    let set: (Bool) -> Void
    public init(_ set: @escaping (Bool) -> Void) { self.set = set }
    public func raise() { set(true) }
    public func lower() { set(false) }
    public func callAsFunction(_ level: Bool) { set(level) }
    /// A line connected to nothing.
    public static var none: IRQLine { IRQLine { _ in } }
}

/// A device with timed events: the machine runs the vCPU no further than the earliest one,
/// then lets the device catch up.
public protocol TimedDevice: AnyObject {
    /// The guest time of the next event (an output changing, an interrupt), if any.
    func nextEvent() -> UInt64?
    /// Brings the device up to the clock's time, raising or lowering its lines.
    func advance()
}
