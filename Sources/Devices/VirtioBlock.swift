import X86

/// What a block device reads and writes: a disk image, as the monitor opens it (the file
/// with a copy-on-write overlay in memory, or the file itself when writes are asked for).
public protocol BlockBackend: AnyObject {
    /// The image's size in bytes (a whole number of 512-byte sectors is what the guest sees).
    var byteCount: UInt64 { get }
    /// Writes are refused (the guest sees a read-only disk).
    var readOnly: Bool { get }
    func read(at offset: UInt64, count: Int) -> [UInt8]?
    func write(at offset: UInt64, _ bytes: [UInt8]) -> Bool
    /// Makes what was written durable (a no-op for an overlay in memory).
    func flush() -> Bool
}

/// The virtio block device (Virtual I/O Device (VIRTIO) Version 1.2, 5.2): one request queue;
/// each request is a header (type, sector), data buffers, and a status byte the device
/// writes. Reads (IN), writes (OUT), FLUSH and GET_ID are served; a request past the end of
/// the disk is an I/O error, an unknown type is UNSUPP, and a malformed chain (no room for the
/// header or the status) is an I/O error where a status byte can be written.
public final class VirtioBlock: VirtioDeviceState {
    public var deviceType: UInt16 { 2 }
    public var classCode: UInt32 { 0x01_0000 }     // mass storage, SCSI: as QEMU's virtio-blk-pci
    public var deviceFeatures: UInt64 {
        Feature.segmentMax | Feature.blockSize | Feature.flush | (backend.readOnly ? Feature.readOnly : 0)
    }
    public var queueCount: Int { 1 }
    public var queueMaxSize: Int { 256 }

    /// Feature bits (5.2.3).
    public enum Feature {
        public static let segmentMax: UInt64 = 1 << 2, readOnly: UInt64 = 1 << 5, blockSize: UInt64 = 1 << 6, flush: UInt64 = 1 << 9
    }
    /// Request types and status values (5.2.6).
    public enum Request {
        public static let read: UInt32 = 0, write: UInt32 = 1, flush: UInt32 = 4, getID: UInt32 = 8
        public static let ok: UInt8 = 0, ioError: UInt8 = 1, unsupported: UInt8 = 2
    }
    /// The most data one request moves (bounded host work per request).
    public static let requestLimit = 1 << 22
    static let sector: UInt64 = 512

    public let backend: BlockBackend
    /// The serial number GET_ID returns (at most 20 bytes).
    public let serial: [UInt8]
    /// Requests served, by type, and bytes moved (for `--stats`).
    public private(set) var reads = 0, writes = 0, flushes = 0, bytesRead = 0, bytesWritten = 0

    public init(backend: BlockBackend, serial: String = "softvmm-disk") {
        self.backend = backend
        self.serial = Array(serial.utf8.prefix(20))
    }

    var capacity: UInt64 { backend.byteCount / Self.sector }

    /// The configuration (5.2.4): capacity in sectors, size_max (unused), seg_max, the
    /// geometry (none), blk_size.
    public func configRead(offset: Int, size: Int) -> UInt64 {
        var bytes = [UInt8](repeating: 0, count: 24)
        func put(_ at: Int, _ v: UInt64, _ n: Int) { for i in 0..<n { bytes[at + i] = UInt8(truncatingIfNeeded: v >> (8 * UInt64(i))) } }
        put(0, capacity, 8)
        put(12, UInt64(queueMaxSize - 2), 4)
        put(20, Self.sector, 4)
        guard offset >= 0, offset + size <= bytes.count else { return 0 }
        return (0..<size).reduce(0) { $0 | UInt64(bytes[offset + $1]) << (8 * UInt64($1)) }
    }
    public func configWrite(offset: Int, size: Int, value: UInt64) {}
    public func reset() {}
    public func state(_ s: inout StateCoder) {
        s.field(&reads); s.field(&writes); s.field(&flushes); s.field(&bytesRead); s.field(&bytesWritten)
    }

    public func process(queue: Virtqueue, index: Int) throws(VirtqueueError) -> Bool {
        var interrupt = false
        while let chain = try queue.next() {
            let written = try serve(chain, queue)
            if try queue.complete(chain, written: written) { interrupt = true }
        }
        return interrupt
    }

    /// One request: its data and status written; returns the bytes written to the chain.
    func serve(_ chain: DescriptorChain, _ queue: Virtqueue) throws(VirtqueueError) -> UInt32 {
        // The status is the last writable byte; without one nothing can be said.
        guard chain.writableLength >= 1 else { return 0 }
        let room = chain.writableLength - 1
        // The data (zeros after it up to the status byte), then the status: what was written.
        func finish(_ status: UInt8, data: [UInt8] = []) throws(VirtqueueError) -> UInt32 {
            var out = data + [UInt8](repeating: 0, count: room - data.count)
            out.append(status)
            return try queue.writeAll(chain, out)
        }
        let driven = try queue.readAll(chain, limit: 16 + Self.requestLimit)
        guard driven.count >= 16 else { return try finish(Request.ioError) }
        func field(_ o: Int, _ n: Int) -> UInt64 { (0..<n).reduce(0) { $0 | UInt64(driven[o + $1]) << (8 * UInt64($1)) } }
        let type = UInt32(field(0, 4)), sector = field(8, 8)
        let offset = sector.multipliedReportingOverflow(by: Self.sector)
        switch type {
        case Request.read:
            let count = min(room, Self.requestLimit)
            guard !offset.overflow, count % Int(Self.sector) == 0, offset.partialValue <= backend.byteCount,
                  UInt64(count) <= backend.byteCount - offset.partialValue,
                  let data = backend.read(at: offset.partialValue, count: count) else { return try finish(Request.ioError) }
            reads += 1
            bytesRead += count
            return try finish(Request.ok, data: data)
        case Request.write:
            let data = Array(driven[16...])
            guard !backend.readOnly, !offset.overflow, data.count % Int(Self.sector) == 0, offset.partialValue <= backend.byteCount,
                  UInt64(data.count) <= backend.byteCount - offset.partialValue,
                  backend.write(at: offset.partialValue, data) else { return try finish(Request.ioError) }
            writes += 1
            bytesWritten += data.count
            return try finish(Request.ok)
        case Request.flush:
            flushes += 1
            return try finish(backend.flush() ? Request.ok : Request.ioError)
        case Request.getID:
            return try finish(Request.ok, data: Array(serial.prefix(room)))
        default:
            return try finish(Request.unsupported)
        }
    }
}
