import X86

/// The virtio 9P transport (Virtual I/O Device (VIRTIO) Version 1.2, 5.14 in the 1.3 draft;
/// Linux's net/9p/trans_virtio.c): one request queue; each chain holds a 9P request in its
/// driver-written buffers and room for the reply in its device-writable ones. The
/// configuration names the share (the mount tag the guest mounts by). The requests go to
/// `serve` (the monitor's seam, which asks the host's server or a replayed trace); the reply
/// goes back in the chain.
public final class Virtio9P: VirtioDeviceState {
    public var deviceType: UInt16 { 9 }
    public var classCode: UInt32 { 0xFF_0000 }     // unclassified
    /// VIRTIO_9P_MOUNT_TAG: the configuration holds the tag.
    public var deviceFeatures: UInt64 { 1 }
    public var queueCount: Int { 1 }
    public var queueMaxSize: Int { 128 }
    /// The largest request read from a chain (a Twrite of the largest message size, and more).
    public static let requestLimit = 1 << 20

    public let tag: [UInt8]
    /// Answers a request with a reply of at most `room` bytes.
    public var serve: (_ request: [UInt8], _ room: Int) -> [UInt8]
    /// Requests served and bytes moved each way (for `--stats`).
    public private(set) var requests = 0, bytesIn = 0, bytesOut = 0

    public init(tag: String, serve: @escaping (_ request: [UInt8], _ room: Int) -> [UInt8]) {
        self.tag = Array(tag.utf8.prefix(Int(UInt16.max)))
        self.serve = serve
    }

    /// The configuration (5.14.4): tag_len (2 bytes), then the tag.
    public func configRead(offset: Int, size: Int) -> UInt64 {
        let bytes = [UInt8(tag.count & 0xFF), UInt8(tag.count >> 8)] + tag
        guard offset >= 0 else { return 0 }
        return (0..<size).reduce(0) { v, i in offset + i < bytes.count ? v | UInt64(bytes[offset + i]) << (8 * UInt64(i)) : v }
    }
    public func configWrite(offset: Int, size: Int, value: UInt64) {}
    public func reset() {}
    public func state(_ s: inout StateCoder) {
        s.field(&requests); s.field(&bytesIn); s.field(&bytesOut)
    }

    public func process(queue: Virtqueue, index: Int) throws(VirtqueueError) -> Bool {
        var interrupt = false
        while let chain = try queue.next() {
            let request = try queue.readAll(chain, limit: Self.requestLimit)
            let room = chain.writableLength
            var reply = serve(request, room)
            // A reply the buffers cannot hold is cut: the guest sees a short message (its
            // client checks the size) rather than bytes past its buffers.
            if reply.count > room { reply = Array(reply.prefix(room)) }
            let written = try queue.writeAll(chain, reply)
            requests += 1
            bytesIn += request.count
            bytesOut += Int(written)
            if try queue.complete(chain, written: written) { interrupt = true }
        }
        return interrupt
    }
}
