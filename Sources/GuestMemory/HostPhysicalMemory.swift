#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import X86

/// softvmm's "host physical memory": one large reserved host mapping, handed out
/// in 4 KiB frames. A host physical address (HPA) is an offset into the mapping.
///
/// The reservation is address space only (MAP_NORESERVE); a frame costs host memory
/// once touched. Frames come back zero-filled. `liveFrames` is what teardown tests
/// check: zero once everything is released.
public final class HostPhysicalMemory: @unchecked Sendable {
    /// Base of the mapping; `base + hpa` is the host pointer of an HPA. Stable for the object's life.
    public let base: UnsafeMutableRawPointer
    /// The most frames that can be live at once.
    public let capacity: Int
    /// Frames allocated and not yet freed.
    public private(set) var liveFrames = 0
    /// The high-water mark of `liveFrames`.
    public private(set) var peakFrames = 0

    /// Never-used frames are handed out from `next`; freed ones from `free` first.
    private var next = 0
    private var free: [UInt32] = []
    #if DEBUG
    private var allocated: [Bool]
    #endif

    /// Reserves room for `frames` frames (the cap on live frames).
    public init(frames: Int) throws(GuestMemoryError) {
        let bytes = UInt64(max(frames, 1)) << Page.shift
        guard frames > 0, frames < 1 << 32,
              let p = mmap(nil, Int(bytes), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0),
              p != MAP_FAILED else {
            throw .reservationFailed(bytes: bytes)
        }
        base = p
        capacity = frames
        #if DEBUG
        allocated = [Bool](repeating: false, count: frames)
        #endif
    }

    deinit { munmap(base, capacity << Int(Page.shift)) }

    /// A zero-filled frame, or `.outOfFrames` at the cap.
    public func allocate() throws(GuestMemoryError) -> HostPhysicalAddress {
        let frame: Int
        if let f = free.popLast() {
            frame = Int(f)
            // Freed frames are dirty; never-used ones are still the kernel's zero pages.
            (base + (frame << Int(Page.shift))).initializeMemory(as: UInt8.self, repeating: 0, count: Int(Page.size))
        } else if next < capacity {
            frame = next
            next += 1
        } else {
            throw .outOfFrames(cap: capacity)
        }
        #if DEBUG
        precondition(!allocated[frame], "frame \(frame) handed out twice")
        allocated[frame] = true
        #endif
        liveFrames += 1
        peakFrames = max(peakFrames, liveFrames)
        return HostPhysicalAddress(UInt64(frame) << Page.shift)
    }

    /// Extra holders of shared frames (copy-on-write memory objects), by frame: a frame is
    /// freed when its last holder releases it.
    private var shares: [UInt32: Int] = [:]

    /// One more holder of a live frame (a frozen copy of a memory object shares its frames).
    public func share(_ hpa: HostPhysicalAddress) {
        shares[UInt32(hpa.rawValue >> Page.shift), default: 0] += 1
    }

    /// Whether more than one holder has the frame.
    public func isShared(_ hpa: HostPhysicalAddress) -> Bool { shares[UInt32(hpa.rawValue >> Page.shift)] != nil }

    /// Returns a frame (or one holder's share of it). Freeing a frame that is not live is a
    /// host bug (a trap in debug builds).
    public func release(_ hpa: HostPhysicalAddress) {
        let frame = Int(hpa.rawValue >> Page.shift)
        if let n = shares[UInt32(frame)] {
            shares[UInt32(frame)] = n > 1 ? n - 1 : nil
            return
        }
        precondition(Page.isAligned(hpa.rawValue) && frame < next, "release of \(hpa), which was never allocated")
        #if DEBUG
        precondition(allocated[frame], "double release of \(hpa)")
        allocated[frame] = false
        #endif
        free.append(UInt32(frame))
        liveFrames -= 1
    }

    /// The host pointer of an HPA inside an allocated frame.
    @inlinable @inline(__always)
    public func pointer(_ hpa: HostPhysicalAddress) -> UnsafeMutableRawPointer {
        base + Int(hpa.rawValue)
    }
}
