// PCI configuration mechanism #1 (PCI Local Bus Specification 3.0, 3.2.2.3.2): the address
// register at 0xCF8 (enable bit 31, bus, device, function, register) and the data window at
// 0xCFC-0xCFF. Bus 0 holds what QEMU's `pc` machine has at its start: the i440FX host
// bridge (00:00.0, 8086:1237) and the PIIX3 ISA bridge (00:01.0, 8086:7000, multi-function).
// Reads of absent functions return all ones; writes to the read-only headers are ignored,
// and the command, status and latency bytes keep what the guest writes.

/// A base address register as firmware left it: its number (0-5; a 64-bit one takes two), the
/// address assigned, its size (a power of two, at least 16), and whether it decodes 64 bits.
public struct PCIBar: Equatable, Sendable {
    public var index: Int
    public var base: UInt64
    public var size: UInt64
    public var is64: Bool
    public init(index: Int, base: UInt64, size: UInt64, is64: Bool = false) {
        (self.index, self.base, self.size, self.is64) = (index, base, size, is64)
    }
}

/// A PCI function for the configuration space: what its header says and what it carries.
public struct PCIFunctionDescription: Sendable {
    public var vendor: UInt16, device: UInt16, classCode: UInt32, revision: UInt8
    public var subsystemVendor: UInt16 = 0, subsystem: UInt16 = 0
    public var bars: [PCIBar] = []
    /// INTx pin (1 = INTA#, 0 none) and the line firmware routed it to.
    public var interruptPin: UInt8 = 0, interruptLine: UInt8 = 0
    /// Capabilities, in list order: the ID and the bytes after the ID and next pointer.
    public var capabilities: [(id: UInt8, body: [UInt8])] = []
    public init(vendor: UInt16, device: UInt16, classCode: UInt32, revision: UInt8) {
        (self.vendor, self.device, self.classCode, self.revision) = (vendor, device, classCode, revision)
    }
}

/// A function that cannot be placed.
public enum PCIError: Error, Equatable, CustomStringConvertible {
    case occupied(device: UInt32)
    case badBar(index: Int, size: UInt64)
    case capabilitiesTooLong(bytes: Int)
    public var description: String {
        switch self {
        case .occupied(let d): "PCI device 00:\(String(d, radix: 16)).0 is already present"
        case .badBar(let i, let n): "BAR \(i) of \(n) bytes: a BAR is 0-5 (a 64-bit one 0-4) and a power of two of at least 16 bytes"
        case .capabilitiesTooLong(let n): "capabilities of \(n) bytes do not fit in the configuration header"
        }
    }
}

public final class PCIConfigurationSpace: PortDevice {
    /// A function's 256-byte configuration header and which bytes the guest may change.
    struct Function {
        var bytes = [UInt8](repeating: 0, count: 256)
        var writable = [Bool](repeating: false, count: 256)
        /// Per BAR dword (0x10-0x24): the bits the guest may write (the rest are the size's
        /// zeros and the type bits), or 0 for a dword no BAR uses.
        var barMasks = [UInt32](repeating: 0, count: 6)
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

    /// Adds a function at bus 0, `device`, function 0, as firmware leaves it: BARs at their
    /// assigned addresses (the guest may size them by writing all ones and read the mask back),
    /// the interrupt pin and line, and the capability list from 0x40 (status bit 4, pointer at
    /// 0x34).
    public func add(device: UInt32, _ d: PCIFunctionDescription) throws(PCIError) {
        guard functions[device << 3] == nil else { throw .occupied(device: device) }
        add(device: device, vendor: d.vendor, id: d.device, classCode: d.classCode, revision: d.revision, headerType: 0)
        var f = functions[device << 3]!
        func put(_ o: Int, _ v: UInt64, _ n: Int) { for i in 0..<n { f.bytes[o + i] = UInt8(truncatingIfNeeded: v >> (8 * UInt64(i))) } }
        put(0x2C, UInt64(d.subsystemVendor), 2)
        put(0x2E, UInt64(d.subsystem), 2)
        for o in 0x40..<0x100 { f.writable[o] = false }
        for b in d.bars {
            guard b.index >= 0, b.index < (b.is64 ? 5 : 6), b.size >= 16, b.size & (b.size - 1) == 0 else {
                throw .badBar(index: b.index, size: b.size)
            }
            let low = b.base & ~(b.size - 1) & 0xFFFF_FFF0 | (b.is64 ? 4 : 0)
            put(0x10 + 4 * b.index, low, 4)
            f.barMasks[b.index] = UInt32(truncatingIfNeeded: ~(b.size - 1)) & 0xFFFF_FFF0
            if b.is64 {
                put(0x14 + 4 * b.index, b.base >> 32, 4)
                f.barMasks[b.index + 1] = UInt32(truncatingIfNeeded: ~(b.size - 1) >> 32)
            }
        }
        f.bytes[0x3D] = d.interruptPin
        f.bytes[0x3C] = d.interruptLine
        f.writable[0x3C] = true
        var at = 0x40
        let total = d.capabilities.reduce(0) { $0 + ((2 + $1.body.count + 3) & ~3) }
        guard 0x40 + total <= 0x100 else { throw .capabilitiesTooLong(bytes: total) }
        if !d.capabilities.isEmpty {
            f.bytes[6] |= 0x10
            f.bytes[0x34] = 0x40
        }
        for (i, c) in d.capabilities.enumerated() {
            let next = (at + 2 + c.body.count + 3) & ~3
            f.bytes[at] = c.id
            f.bytes[at + 1] = i + 1 < d.capabilities.count ? UInt8(next) : 0
            for (j, v) in c.body.enumerated() { f.bytes[at + 2 + j] = v }
            at = next
        }
        functions[device << 3] = f
    }

    /// A BAR's address as the guest last programmed it (the firmware's until it writes one).
    public func barAddress(device: UInt32, index: Int) -> UInt64? {
        guard let f = functions[device << 3], index < 6, f.barMasks[index] != 0 else { return nil }
        func dword(_ o: Int) -> UInt64 { (0..<4).reduce(0) { $0 | UInt64(f.bytes[o + $1]) << (8 * UInt64($1)) } }
        let low = dword(0x10 + 4 * index)
        return low & ~0xF | (low & 4 != 0 ? dword(0x14 + 4 * index) << 32 : 0)
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
        let at = reg + Int(offset - 4)
        if at >= 0x10 && at < 0x28 {
            // A BAR: the written bytes merge into its dword, which keeps its size's zeros and
            // its type bits (a BAR no one uses reads 0).
            let n = (at - 0x10) / 4, base = 0x10 + 4 * n
            var dword = (0..<4).reduce(UInt32(0)) { $0 | UInt32(f.bytes[base + $1]) << UInt32(8 * $1) }
            let shift = UInt32(8 * (at - base))
            let lanes: UInt32 = (size >= 4 ? ~0 : (1 << UInt32(8 * size)) - 1) << shift
            dword = dword & ~lanes | (value << shift) & lanes
            let mask = f.barMasks[n]
            dword = dword & mask | (0..<4).reduce(UInt32(0)) { $0 | UInt32(f.bytes[base + $1]) << UInt32(8 * $1) } & ~mask
            for i in 0..<4 { f.bytes[base + i] = UInt8(truncatingIfNeeded: dword >> UInt32(8 * i)) }
            functions[bdf] = f
            return
        }
        for i in 0..<size where f.writable[at + i] {
            f.bytes[at + i] = UInt8(truncatingIfNeeded: value >> UInt32(8 * i))
        }
        functions[bdf] = f
    }
}
