// QEMU's firmware configuration device (fw_cfg, docs/specs/fw_cfg.txt in QEMU), the
// traditional port interface only: a 16-bit write of an item's key to the selector port
// (0x510) makes it current and rewinds its offset; each byte read from the data port (0x511)
// returns the item's next byte (0 past its end, and for keys that name no item). Guests and
// test suites (kvm-unit-tests' fwcfg.c) read the RAM size and the CPU count here.
import X86

public final class FirmwareConfig: PortDevice {
    public enum Key {
        public static let signature: UInt16 = 0x00
        public static let id: UInt16 = 0x01
        public static let ramSize: UInt16 = 0x03
        public static let noGraphic: UInt16 = 0x04
        public static let cpuCount: UInt16 = 0x05
        public static let maxCPUs: UInt16 = 0x0F
    }
    public enum Port {
        public static let selector: UInt16 = 0x510
        public static let data: UInt16 = 0x511
    }
    /// The ID item's feature bits: bit 0, the traditional interface (no DMA).
    static let traditionalInterface: UInt32 = 1

    var items: [UInt16: [UInt8]] = [:]
    public private(set) var selected: UInt16 = 0
    var offset = 0

    /// The items a PC's fw_cfg holds for a machine of `ramSize` bytes and `cpus` CPUs.
    public init(ramSize: UInt64, cpus: UInt16) {
        items[Key.signature] = Array("QEMU".utf8)
        items[Key.id] = Self.littleEndian(UInt64(Self.traditionalInterface), 4)
        items[Key.ramSize] = Self.littleEndian(ramSize, 8)
        items[Key.noGraphic] = Self.littleEndian(1, 2)
        items[Key.cpuCount] = Self.littleEndian(UInt64(cpus), 2)
        items[Key.maxCPUs] = Self.littleEndian(UInt64(cpus), 2)
    }

    static func littleEndian(_ v: UInt64, _ n: Int) -> [UInt8] { (0..<n).map { UInt8(truncatingIfNeeded: v >> (8 * UInt64($0))) } }

    public func portRead(offset port: UInt16, size: Int) -> UInt32 {
        guard port == Port.data - Port.selector else { return 0 } // the selector reads as 0
        // A wider read of the data port takes that many bytes, first byte lowest.
        var v: UInt32 = 0
        for i in 0..<min(size, 4) {
            let item = items[selected & 0x3FFF] ?? []
            let b = offset < item.count ? item[offset] : 0
            if offset < item.count { offset += 1 }
            v |= UInt32(b) << (8 * UInt32(i))
        }
        return v
    }

    public func portWrite(offset port: UInt16, size: Int, value: UInt32) {
        guard port == 0 else { return } // data writes are not supported (QEMU ignores them)
        selected = UInt16(truncatingIfNeeded: size == 1 ? value & 0xFF : value & 0xFFFF)
        offset = 0
    }
}
