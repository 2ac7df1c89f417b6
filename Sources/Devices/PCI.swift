// PCI configuration mechanism #1 (PCI Local Bus Specification 3.0, 3.2.2.3.2): the address
// register at 0xCF8 (enable bit 31, bus, device, function, register) and the data window at
// 0xCFC-0xCFF. Bus 0 holds what QEMU's `pc` machine has at its start: the i440FX host
// bridge (00:00.0, 8086:1237) and the PIIX3 ISA bridge (00:01.0, 8086:7000, multi-function).
// Reads of absent functions return all ones; writes to the read-only headers are ignored,
// and the command, status and latency bytes keep what the guest writes.

public final class PCIConfigurationSpace: PortDevice {
    /// A function's 256-byte configuration header and which bytes the guest may change.
    struct Function {
        var bytes = [UInt8](repeating: 0, count: 256)
        var writable = [Bool](repeating: false, count: 256)
    }
    var address: UInt32 = 0
    var functions: [UInt32: Function] = [:]  // bus << 8 | device << 3 | function

    public init() {
        add(device: 0, vendor: 0x8086, id: 0x1237, classCode: 0x06_0000, revision: 0x02, headerType: 0x00)
        add(device: 1, vendor: 0x8086, id: 0x7000, classCode: 0x06_0100, revision: 0x00, headerType: 0x80)
    }

    func add(device: UInt32, vendor: UInt16, id: UInt16, classCode: UInt32, revision: UInt8, headerType: UInt8) {
        var f = Function()
        func put16(_ o: Int, _ v: UInt16) { f.bytes[o] = UInt8(v & 0xFF); f.bytes[o + 1] = UInt8(v >> 8) }
        put16(0, vendor)
        put16(2, id)
        put16(4, 0x0007)   // command: I/O, memory, bus master
        put16(6, 0x0200)   // status: medium DEVSEL timing
        f.bytes[8] = revision
        f.bytes[9] = UInt8(classCode & 0xFF)
        f.bytes[10] = UInt8((classCode >> 8) & 0xFF)
        f.bytes[11] = UInt8(classCode >> 16)
        f.bytes[14] = headerType
        for o in [4, 5, 0x0C, 0x0D] { f.writable[o] = true } // command, cache line size, latency timer
        for o in 0x40..<0x100 { f.writable[o] = true }          // device-specific registers
        functions[device << 3] = f
    }

    /// The function and register the address register selects, if enabled and present.
    func selected() -> (UInt32, Int)? {
        guard address & 0x8000_0000 != 0 else { return nil }
        let bdf = (address >> 8) & 0xFFFF
        return functions[bdf] != nil ? (bdf, Int(address & 0xFC)) : nil
    }

    public func portRead(offset: UInt16, size: Int) -> UInt32 {
        if offset < 4 {
            return offset == 0 && size == 4 ? address : 0xFFFF_FFFF
        }
        guard let (bdf, reg) = selected(), let f = functions[bdf] else { return size == 4 ? ~0 : (1 << UInt32(8 * size)) - 1 }
        var v: UInt32 = 0
        for i in 0..<size { v |= UInt32(f.bytes[reg + Int(offset - 4) + i]) << UInt32(8 * i) }
        return v
    }

    public func portWrite(offset: UInt16, size: Int, value: UInt32) {
        if offset < 4 {
            if offset == 0 && size == 4 { address = value & 0x80FF_FFFC }
            return
        }
        guard let (bdf, reg) = selected(), var f = functions[bdf] else { return }
        for i in 0..<size where f.writable[reg + Int(offset - 4) + i] {
            f.bytes[reg + Int(offset - 4) + i] = UInt8(truncatingIfNeeded: value >> UInt32(8 * i))
        }
        functions[bdf] = f
    }
}
