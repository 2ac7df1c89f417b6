#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Why executable memory could not be had or used.
public enum CodeMemoryError: Error, Equatable, CustomStringConvertible {
    case reservationFailed(bytes: Int, errno: Int32)
    case protectionFailed(errno: Int32)
    case full(capacity: Int, needed: Int)

    public var description: String {
        switch self {
        case .reservationFailed(let n, let e): "cannot reserve \(n) bytes for translated code: \(String(cString: strerror(e)))"
        case .protectionFailed(let e): "cannot change the protection of translated code: \(String(cString: strerror(e)))"
        case .full(let c, let n): "the translation cache (\(c) bytes) has no room for \(n) more"
        }
    }
}

/// The translation cache's memory, W^X: no page of it is ever mapped writable and executable
/// at once. One region (64 MiB by default) is reserved; code is installed 16-byte aligned,
/// hot code (what runs) from the region's start up and cold code (what seldom runs, and data)
/// from its end down, so that the code that runs shares the host's cache lines and pages
/// with as little else as can be.
///
/// Where the kernel gives anonymous shared memory (`memfd_create`), the region is mapped twice:
/// an executable view that is never writable (`base`, where code runs) and a writable view that
/// is never executable, at another address, where code is written. Installing code is then a
/// copy, with no system call (two `mprotect`s per translation were a fifth of the host's time
/// in a guest starting processes). Otherwise the pages an installation touches are made
/// writable (and not executable), filled, then made executable (and not writable) again;
/// code is installed only while no host code runs (the vCPU's thread is in the interpreter),
/// so a page that is briefly not executable is never being run.
///
/// `flush` drops everything (the pages' memory goes back to the kernel).
public final class CodeMemory {
    public let base: UnsafeMutableRawPointer
    public let capacity: Int
    /// The writable view (nil: one view whose protection changes).
    let writable: UnsafeMutableRawPointer?
    public var hasTwoViews: Bool { writable != nil }
    /// Bytes in use: hot code from the start, cold code from the end.
    public private(set) var used = 0
    public private(set) var coldUsed = 0
    /// Whole-cache flushes so far.
    public private(set) var flushes = 0
    static let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))
    static let alignment = 16

    typealias MemfdCreate = @convention(c) (UnsafePointer<CChar>, UInt32) -> Int32

    /// `twoViews` false: one view whose protection changes, even where two could be had.
    public init(capacity: Int = 64 << 20, twoViews: Bool = true) throws(CodeMemoryError) {
        let size = (capacity + CodeMemory.pageSize - 1) / CodeMemory.pageSize * CodeMemory.pageSize
        guard size > 0 else { throw .reservationFailed(bytes: capacity, errno: EINVAL) }
        self.capacity = size
        if twoViews, let views = CodeMemory.dualMapping(size) {
            (base, writable) = views
            return
        }
        guard let p = mmap(nil, size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0), p != MAP_FAILED else {
            throw .reservationFailed(bytes: capacity, errno: errno)
        }
        base = p
        writable = nil
    }

    /// An executable and a writable view of one anonymous shared file, or nil.
    static func dualMapping(_ size: Int) -> (UnsafeMutableRawPointer, UnsafeMutableRawPointer)? {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "memfd_create") else { return nil }
        let fd = unsafeBitCast(symbol, to: MemfdCreate.self)("softvmm-translations", 1 /* MFD_CLOEXEC */)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        guard ftruncate(fd, off_t(size)) == 0,
              let x = mmap(nil, size, PROT_READ | PROT_EXEC, MAP_SHARED, fd, 0), x != MAP_FAILED else { return nil }
        guard let w = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0), w != MAP_FAILED else {
            munmap(x, size)
            return nil
        }
        return (x, w)
    }

    deinit {
        munmap(base, capacity)
        if let writable { munmap(writable, capacity) }
    }

    /// Copies `code` into the cache (`cold`: among the cold code) and returns where it
    /// starts, executable. Throws `.full` when there is no room (the caller flushes and
    /// translates again).
    public func install(_ code: [UInt8], cold: Bool = false) throws(CodeMemoryError) -> UnsafeRawPointer {
        let at = try reserve(code.count, cold: cold)
        try write(code, at: at)
        return UnsafeRawPointer(base + at)
    }

    /// Takes `count` bytes (`cold`: among the cold code) and returns their offset from `base`,
    /// for `write`; throws `.full` when there is no room.
    public func reserve(_ count: Int, cold: Bool = false) throws(CodeMemoryError) -> Int {
        let mask = CodeMemory.alignment - 1
        let hotEnd = (used + mask) & ~mask, coldStart = (capacity - coldUsed - count) & ~mask
        guard count > 0, cold ? coldStart >= used : hotEnd + count <= capacity - coldUsed else {
            throw .full(capacity: capacity, needed: count)
        }
        if cold {
            coldUsed = capacity - coldStart
            return coldStart
        }
        used = hotEnd + count
        return hotEnd
    }

    /// Writes `bytes` at `offset` (in memory `reserve` gave).
    public func write(_ bytes: [UInt8], at offset: Int) throws(CodeMemoryError) {
        guard !bytes.isEmpty else { return }
        if let writable {
            bytes.withUnsafeBytes { (writable + offset).copyMemory(from: $0.baseAddress!, byteCount: bytes.count) }
            return
        }
        let firstPage = offset / CodeMemory.pageSize * CodeMemory.pageSize
        let pages = (offset + bytes.count - firstPage + CodeMemory.pageSize - 1) / CodeMemory.pageSize * CodeMemory.pageSize
        guard mprotect(base + firstPage, pages, PROT_READ | PROT_WRITE) == 0 else { throw .protectionFailed(errno: errno) }
        bytes.withUnsafeBytes { (base + offset).copyMemory(from: $0.baseAddress!, byteCount: bytes.count) }
        guard mprotect(base + firstPage, pages, PROT_READ | PROT_EXEC) == 0 else { throw .protectionFailed(errno: errno) }
    }

    /// Drops every translation, and gives the pages' memory back.
    public func flush() throws(CodeMemoryError) {
        guard used > 0 || coldUsed > 0 else { return }
        let page = CodeMemory.pageSize
        let hot = (used + page - 1) / page * page, coldStart = (capacity - coldUsed) / page * page
        for (start, length) in [(0, hot), (coldStart, capacity - coldStart)] where length > 0 {
            if let writable {
                _ = madvise(writable + start, length, Int32(MADV_REMOVE))
            } else {
                guard mprotect(base + start, length, PROT_NONE) == 0 else { throw .protectionFailed(errno: errno) }
                _ = madvise(base + start, length, Int32(MADV_DONTNEED))
            }
        }
        used = 0
        coldUsed = 0
        flushes += 1
    }
}
