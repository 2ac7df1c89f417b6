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
/// at once. One region (64 MiB by default) is reserved; code is appended 16-byte aligned.
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
    /// Bytes in use.
    public private(set) var used = 0
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

    /// Copies `code` into the cache and returns where it starts, executable. Throws `.full`
    /// when there is no room (the caller flushes and translates again).
    public func install(_ code: [UInt8]) throws(CodeMemoryError) -> UnsafeRawPointer {
        let start = (used + CodeMemory.alignment - 1) & ~(CodeMemory.alignment - 1)
        guard !code.isEmpty, start + code.count <= capacity else { throw .full(capacity: capacity, needed: code.count) }
        if let writable {
            code.withUnsafeBytes { (writable + start).copyMemory(from: $0.baseAddress!, byteCount: code.count) }
        } else {
            let firstPage = start / CodeMemory.pageSize * CodeMemory.pageSize
            let pages = (start + code.count - firstPage + CodeMemory.pageSize - 1) / CodeMemory.pageSize * CodeMemory.pageSize
            guard mprotect(base + firstPage, pages, PROT_READ | PROT_WRITE) == 0 else { throw .protectionFailed(errno: errno) }
            code.withUnsafeBytes { (base + start).copyMemory(from: $0.baseAddress!, byteCount: code.count) }
            guard mprotect(base + firstPage, pages, PROT_READ | PROT_EXEC) == 0 else { throw .protectionFailed(errno: errno) }
        }
        used = start + code.count
        return UnsafeRawPointer(base + start)
    }

    /// Drops every translation, and gives the pages' memory back.
    public func flush() throws(CodeMemoryError) {
        guard used > 0 else { return }
        let pages = (used + CodeMemory.pageSize - 1) / CodeMemory.pageSize * CodeMemory.pageSize
        if let writable {
            _ = madvise(writable, pages, Int32(MADV_REMOVE))
        } else {
            guard mprotect(base, pages, PROT_NONE) == 0 else { throw .protectionFailed(errno: errno) }
            _ = madvise(base, pages, Int32(MADV_DONTNEED))
        }
        used = 0
        flushes += 1
    }
}
