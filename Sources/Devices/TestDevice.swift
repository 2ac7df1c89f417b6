import X86

/// A test device for the MMIO fixture: storage that reads back what was written, as RAM
/// would (so QEMU with RAM at the same addresses is the oracle for every instruction's
/// result), counting the reads and writes that reached it.
public final class TestDevice: MMIODevice {
    /// The size of its MMIO range.
    public static let size: UInt64 = 0x2000
    var storage = [UInt8](repeating: 0, count: Int(TestDevice.size))
    public internal(set) var writes: UInt64 = 0
    public internal(set) var reads: UInt64 = 0

    public init() {}

    public func mmioRead(offset: UInt64, size: Int) -> UInt64 {
        reads += 1
        var v: UInt64 = 0
        for i in 0..<size where Int(offset) + i < storage.count { v |= UInt64(storage[Int(offset) + i]) << UInt64(8 * i) }
        return v
    }

    public func mmioWrite(offset: UInt64, size: Int, value: UInt64) {
        writes += 1
        for i in 0..<size where Int(offset) + i < storage.count {
            storage[Int(offset) + i] = UInt8(truncatingIfNeeded: value >> UInt64(8 * i))
        }
    }
}
