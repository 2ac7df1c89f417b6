import X86

/// The virtio entropy device (Virtual I/O Device (VIRTIO) Version 1.2, 5.4): one queue whose
/// device-writable buffers it fills with random bytes. The bytes come from a seeded
/// generator, so a run is the same run every time (and a replay needs nothing recorded).
public final class VirtioRNG: VirtioDeviceState {
    public var deviceType: UInt16 { 4 }
    public var classCode: UInt32 { 0xFF_0000 }     // unclassified, as QEMU's virtio-rng-pci
    public var deviceFeatures: UInt64 { 0 }
    public var queueCount: Int { 1 }
    public var queueMaxSize: Int { 256 }
    /// The most bytes one request gets (a driver asking for more gets this much).
    public static let requestLimit = 65536

    var random: SplitMix64
    /// The bytes handed out so far.
    public private(set) var bytesServed = 0

    public init(seed: UInt64) { random = SplitMix64(seed: seed) }

    public func configRead(offset: Int, size: Int) -> UInt64 { 0 }   // no configuration (5.4.4)
    public func configWrite(offset: Int, size: Int, value: UInt64) {}
    public func reset() {}

    public func process(queue: Virtqueue, index: Int) throws(VirtqueueError) -> Bool {
        var interrupt = false
        while let chain = try queue.next() {
            let n = min(chain.writableLength, Self.requestLimit)
            var bytes = [UInt8](repeating: 0, count: n)
            var i = 0
            while i < n {
                let word = random.next()
                for k in 0..<min(8, n - i) { bytes[i + k] = UInt8(truncatingIfNeeded: word >> (8 * UInt64(k))) }
                i += 8
            }
            let written = try queue.writeAll(chain, bytes)
            bytesServed += Int(written)
            if try queue.complete(chain, written: written) { interrupt = true }
        }
        return interrupt
    }

    public func state(_ s: inout StateCoder) {
        s.field(&random.state); s.field(&bytesServed)
    }
}
