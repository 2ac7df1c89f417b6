// QEMU's `pc-testdev`, the ISA device kvm-unit-tests drives (QEMU's hw/misc/pc-testdev.c
// describes it):
//   - ports 0xE0-0xE3: a 32-bit register, each byte lane reachable by its own address and
//     the access's size (a 2-byte access at 0xE2 is bits 31:16);
//   - ports 0xE4-0xE7: "flush page": a 32-bit write of a guest-physical address, which on
//     QEMU unmaps and remaps the host page; softvmm has nothing to flush, so it is accepted;
//   - ports 0xE8-0xEB: the same register, taken a byte at a time;
//   - ports 0x2000-0x2017: a write sets ISA IRQ line `port - 0x2000` to (value != 0);
//   - MMIO 0xFF000000-0xFF00FFFF: 64 KiB that behave as RAM but are a device's, so every
//     access to them leaves the CPU (softvmm: the MMIO assist).
import X86

public final class PCTestDevice {
    public enum Layout {
        public static let registerPort: UInt16 = 0xE0
        public static let flushPort: UInt16 = 0xE4
        public static let registerBytePort: UInt16 = 0xE8
        public static let irqLinePort: UInt16 = 0x2000
        public static let irqLines = 24
        public static let ioMemoryBase: UInt64 = 0xFF00_0000
        public static let ioMemorySize: UInt64 = 0x1_0000
    }

    /// The 32-bit register behind 0xE0 and 0xE8.
    public private(set) var register: UInt32 = 0
    /// The IORAM window's contents.
    var ioMemory = [UInt8](repeating: 0, count: Int(Layout.ioMemorySize))
    /// Drives ISA IRQ line n (0-23).
    public var setIRQ: (Int, Bool) -> Void = { _, _ in }

    public init() {}

    /// The register's bytes `offset & 3` up, `size` wide.
    func readRegister(_ offset: UInt16, _ size: Int) -> UInt32 {
        let shift = UInt32(offset & 3) * 8
        let mask: UInt32 = size >= 4 ? ~0 : (1 << (8 * UInt32(size))) - 1
        return (register >> shift) & mask
    }

    func writeRegister(_ offset: UInt16, _ size: Int, _ value: UInt32) {
        let shift = UInt32(offset & 3) * 8
        let width: UInt32 = size >= 4 ? ~0 : (1 << (8 * UInt32(size))) - 1
        let mask = width << shift
        register = register & ~mask | (value << shift) & mask
    }

    /// Ports 0xE0-0xEB.
    public var registerPorts: PortDevice { Registers(self) }
    /// Ports 0x2000-0x2017.
    public var irqPorts: PortDevice { IRQPorts(self) }
    /// The IORAM window at 0xFF000000.
    public var ioMemoryWindow: MMIODevice { IOMemory(self) }

    final class Registers: PortDevice {
        let device: PCTestDevice
        init(_ d: PCTestDevice) { device = d }
        func portRead(offset: UInt16, size: Int) -> UInt32 {
            // 0xE4-0xE7 (flush) reads as nothing there.
            offset & ~3 == 4 ? 0xFFFF_FFFF : device.readRegister(offset, size)
        }
        func portWrite(offset: UInt16, size: Int, value: UInt32) {
            if offset & ~3 == 4 { return } // flush page: nothing to flush
            device.writeRegister(offset, size, value)
        }
    }

    final class IRQPorts: PortDevice {
        let device: PCTestDevice
        init(_ d: PCTestDevice) { device = d }
        func portRead(offset: UInt16, size: Int) -> UInt32 { 0xFFFF_FFFF }
        func portWrite(offset: UInt16, size: Int, value: UInt32) {
            // A wider write reaches one line, as QEMU's byte-sized region takes it.
            device.setIRQ(Int(offset), value & 0xFF != 0)
        }
    }

    final class IOMemory: MMIODevice {
        let device: PCTestDevice
        init(_ d: PCTestDevice) { device = d }
        func mmioRead(offset: UInt64, size: Int) -> UInt64 {
            var v: UInt64 = 0
            for i in 0..<size where Int(offset) + i < device.ioMemory.count {
                v |= UInt64(device.ioMemory[Int(offset) + i]) << UInt64(8 * i)
            }
            return v
        }
        func mmioWrite(offset: UInt64, size: Int, value: UInt64) {
            for i in 0..<size where Int(offset) + i < device.ioMemory.count {
                device.ioMemory[Int(offset) + i] = UInt8(truncatingIfNeeded: value >> UInt64(8 * i))
            }
        }
    }
}
