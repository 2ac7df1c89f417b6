import X86

/// Access rights of a mapping: a view's protection, a pmap entry's permissions.
public struct Protection: OptionSet, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    public static let read = Protection(rawValue: 1)
    public static let write = Protection(rawValue: 2)
    public static let execute = Protection(rawValue: 4)
    public static let all: Protection = [.read, .write, .execute]
    public var description: String {
        (contains(.read) ? "r" : "-") + (contains(.write) ? "w" : "-") + (contains(.execute) ? "x" : "-")
    }
}

/// The byte-access protocol: all that devices, loaders and debuggers see of memory.
public protocol ByteAccessible: AnyObject {
    /// Copies `buffer.count` bytes at `offset` into `buffer`.
    func read(at offset: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws(GuestMemoryError)
    /// Copies `buffer` to `offset`.
    func write(at offset: UInt64, from buffer: UnsafeRawBufferPointer) throws(GuestMemoryError)
}

extension ByteAccessible {
    public func read(at offset: UInt64, count: Int) throws(GuestMemoryError) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        var failure: GuestMemoryError?
        out.withUnsafeMutableBytes { b in
            do throws(GuestMemoryError) { try read(at: offset, into: b) } catch { failure = error }
        }
        if let failure { throw failure }
        return out
    }

    public func write(at offset: UInt64, bytes: [UInt8]) throws(GuestMemoryError) {
        var failure: GuestMemoryError?
        bytes.withUnsafeBytes { b in
            do throws(GuestMemoryError) { try write(at: offset, from: b) } catch { failure = error }
        }
        if let failure { throw failure }
    }
}

/// Anonymous, reference-counted guest memory of a fixed size (like a UVM anonymous
/// object in OpenBSD's vmm(4)): one per RAM range. Pages come into existence
/// zero-filled when first needed (a write, or the nested fault handler asking for
/// the frame); reading a page that was never touched gives zeros without creating it.
///
/// The creator holds the first reference. `reference()` takes another (a VM, a view),
/// `detach()` drops one; when the last goes, every frame returns to host memory and
/// further use is `.objectDetached`.
public final class MemoryObject: ByteAccessible, @unchecked Sendable {
    public let size: UInt64
    public let host: HostPhysicalMemory
    /// References held; 0 once detached for the last time.
    public private(set) var referenceCount = 1
    /// Pages that have a frame.
    public private(set) var residentPages = 0
    /// Per page: its frame's HPA + 1, or 0 while the page does not exist; bit 63 marks a
    /// frame shared with a frozen copy (copy-on-write: the first write copies it).
    private var frames: [UInt64]
    static let sharedBit: UInt64 = 1 << 63
    /// Called with a page's offset when a write gave it a frame of its own (copy-on-write):
    /// whoever mapped the old frame (the nested pmap) must drop that mapping.
    public var onCopy: ((UInt64) -> Void)?

    public init(size: UInt64, host: HostPhysicalMemory) throws(GuestMemoryError) {
        guard size > 0, Page.isAligned(size), size >> Page.shift < UInt64(Int32.max) else {
            throw .sizeNotPageMultiple(size)
        }
        self.size = size
        self.host = host
        frames = [UInt64](repeating: 0, count: Int(size >> Page.shift))
    }

    /// Takes one more reference.
    public func reference() throws(GuestMemoryError) {
        guard referenceCount > 0 else { throw .objectDetached }
        referenceCount += 1
    }

    /// Drops one reference; the last one frees every page.
    public func detach() {
        precondition(referenceCount > 0, "detach of a memory object with no references")
        referenceCount -= 1
        guard referenceCount == 0 else { return }
        for i in frames.indices where frames[i] != 0 {
            host.release(HostPhysicalAddress((frames[i] & ~MemoryObject.sharedBit) - 1))
            frames[i] = 0
        }
        residentPages = 0
    }

    /// The frame holding the page at `offset` (rounded down to the page), creating the
    /// page if it does not exist yet and `create` is set; nil if it does not exist.
    public func frame(at offset: UInt64, create: Bool = true) throws(GuestMemoryError) -> HostPhysicalAddress? {
        guard referenceCount > 0 else { throw .objectDetached }
        guard offset < size else { throw .outsideObject(offset: offset, length: 1, size: size) }
        let page = Int(offset >> Page.shift)
        if frames[page] != 0 { return HostPhysicalAddress((frames[page] & ~MemoryObject.sharedBit) - 1) }
        guard create else { return nil }
        let hpa = try host.allocate()
        frames[page] = hpa.rawValue + 1
        residentPages += 1
        return hpa
    }

    /// The frame for a write to the page at `offset`: created if it does not exist, and, if it
    /// is shared with a frozen copy, first copied to a frame of this object's own (`onCopy`
    /// hears of it). Returns the frame and whether it was copied.
    public func writableFrame(at offset: UInt64) throws(GuestMemoryError) -> (hpa: HostPhysicalAddress, copied: Bool) {
        let hpa = try frame(at: offset)!
        let page = Int(offset >> Page.shift)
        guard frames[page] & MemoryObject.sharedBit != 0 else { return (hpa, false) }
        frames[page] &= ~MemoryObject.sharedBit
        guard host.isShared(hpa) else { return (hpa, false) } // the copy let go of it already
        let own = try host.allocate()
        host.pointer(own).copyMemory(from: host.pointer(hpa), byteCount: Int(Page.size))
        host.release(hpa)
        frames[page] = own.rawValue + 1
        onCopy?(UInt64(page) << Page.shift)
        return (own, true)
    }

    /// Whether the page at `offset` shares its frame with a frozen copy.
    public func isCopyOnWrite(at offset: UInt64) -> Bool {
        let page = Int(offset >> Page.shift)
        return page < frames.count && frames[page] & MemoryObject.sharedBit != 0
    }

    /// A copy of the object as it is now, made without copying a page: both share every
    /// frame, and the first write to a page on either side gives that side its own copy
    /// (a snapshot of a running VM costs a reference per resident page). The copy holds the
    /// first reference of its own.
    public func frozenCopy() throws(GuestMemoryError) -> MemoryObject {
        guard referenceCount > 0 else { throw .objectDetached }
        let copy = try MemoryObject(size: size, host: host)
        for i in frames.indices where frames[i] != 0 {
            frames[i] |= MemoryObject.sharedBit
            host.share(HostPhysicalAddress((frames[i] & ~MemoryObject.sharedBit) - 1))
            copy.frames[i] = frames[i]
        }
        copy.residentPages = residentPages
        return copy
    }

    /// Makes this object's contents those of `copy` (a frozen copy taken earlier), again
    /// without copying a page: its own frames go, and it shares every frame of the copy's,
    /// copy-on-write on both sides. The caller drops the mappings of the old frames.
    public func revert(to copy: MemoryObject) throws(GuestMemoryError) {
        guard referenceCount > 0, copy.referenceCount > 0 else { throw .objectDetached }
        guard copy.size == size else { throw .outsideObject(offset: 0, length: Int(copy.size), size: size) }
        for i in frames.indices {
            if frames[i] != 0 { host.release(HostPhysicalAddress((frames[i] & ~MemoryObject.sharedBit) - 1)) }
            let theirs = copy.frames[i]
            guard theirs != 0 else { frames[i] = 0; continue }
            copy.frames[i] = theirs | MemoryObject.sharedBit
            host.share(HostPhysicalAddress((theirs & ~MemoryObject.sharedBit) - 1))
            frames[i] = theirs | MemoryObject.sharedBit
        }
        residentPages = copy.residentPages
    }

    /// The offsets of the pages that have frames, in order.
    public var residentOffsets: [UInt64] { frames.indices.filter { frames[$0] != 0 }.map { UInt64($0) << Page.shift } }

    public func read(at offset: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws(GuestMemoryError) {
        try forEachPage(offset, buffer.count) { (at, done, n) throws(GuestMemoryError) in
            let dest = buffer.baseAddress! + done
            if let hpa = try frame(at: at, create: false) {
                dest.copyMemory(from: host.pointer(hpa) + Int(at & Page.mask), byteCount: n)
            } else {
                dest.initializeMemory(as: UInt8.self, repeating: 0, count: n)
            }
        }
    }

    public func write(at offset: UInt64, from buffer: UnsafeRawBufferPointer) throws(GuestMemoryError) {
        try forEachPage(offset, buffer.count) { (at, done, n) throws(GuestMemoryError) in
            let hpa = try writableFrame(at: at).hpa
            (host.pointer(hpa) + Int(at & Page.mask)).copyMemory(from: buffer.baseAddress! + done, byteCount: n)
        }
    }

    /// Checks the access, then calls `body(offset, bytesDone, bytesInThisPage)` per page it touches.
    private func forEachPage(_ offset: UInt64, _ count: Int,
                             _ body: (UInt64, Int, Int) throws(GuestMemoryError) -> Void) throws(GuestMemoryError) {
        guard referenceCount > 0 else { throw .objectDetached }
        let (end, overflow) = offset.addingReportingOverflow(UInt64(count))
        guard !overflow, end <= size else { throw .outsideObject(offset: offset, length: count, size: size) }
        var done = 0
        while done < count {
            let at = offset + UInt64(done)
            let n = min(count - done, Int(Page.size - (at & Page.mask)))
            try body(at, done, n)
            done += n
        }
    }

    /// Opens a view with its own protection; it holds a reference until closed.
    public func view(_ protection: Protection) throws(GuestMemoryError) -> MemoryView {
        try reference()
        return MemoryView(object: self, protection: protection)
    }
}

/// A mapping of a memory object into a consumer (a device model, a debugger, a
/// read-only monitor), like vmd's shared mapping of vmm(4)'s objects. It holds a
/// reference, so the object outlives a torn-down VM until the view is closed.
public final class MemoryView: ByteAccessible, @unchecked Sendable {
    public let object: MemoryObject
    public let protection: Protection
    public private(set) var isOpen = true

    init(object: MemoryObject, protection: Protection) {
        self.object = object
        self.protection = protection
    }

    /// Drops the view's reference. Closing twice is harmless.
    public func close() {
        guard isOpen else { return }
        isOpen = false
        object.detach()
    }

    public func read(at offset: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws(GuestMemoryError) {
        guard isOpen else { throw .viewClosed }
        guard protection.contains(.read) else { throw .viewProtection(write: false) }
        try object.read(at: offset, into: buffer)
    }

    public func write(at offset: UInt64, from buffer: UnsafeRawBufferPointer) throws(GuestMemoryError) {
        guard isOpen else { throw .viewClosed }
        guard protection.contains(.write) else { throw .viewProtection(write: true) }
        try object.write(at: offset, from: buffer)
    }
}
