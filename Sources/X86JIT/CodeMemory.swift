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

/// The translation cache's memory, W^X: one reserved region (64 MiB by default) whose pages
/// are never writable and executable at once. Code is appended 16-byte aligned: the pages it
/// touches are made writable (and not executable), filled, then made executable (and not
/// writable) again. Code is installed only while no host code runs (the vCPU's thread is in
/// the interpreter), so a page that is briefly not executable is never being run. `flush`
/// drops everything (the pages go back to no access).
public final class CodeMemory {
    public let base: UnsafeMutableRawPointer
    public let capacity: Int
    /// Bytes in use.
    public private(set) var used = 0
    /// Whole-cache flushes so far.
    public private(set) var flushes = 0
    static let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))
    static let alignment = 16

    public init(capacity: Int = 64 << 20) throws(CodeMemoryError) {
        let size = (capacity + CodeMemory.pageSize - 1) / CodeMemory.pageSize * CodeMemory.pageSize
        guard size > 0, let p = mmap(nil, size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0), p != MAP_FAILED else {
            throw .reservationFailed(bytes: capacity, errno: errno)
        }
        base = p
        self.capacity = size
    }

    deinit { munmap(base, capacity) }

    /// Copies `code` into the cache and returns where it starts, executable. Throws `.full`
    /// when there is no room (the caller flushes and translates again).
    public func install(_ code: [UInt8]) throws(CodeMemoryError) -> UnsafeRawPointer {
        let start = (used + CodeMemory.alignment - 1) & ~(CodeMemory.alignment - 1)
        guard !code.isEmpty, start + code.count <= capacity else { throw .full(capacity: capacity, needed: code.count) }
        let firstPage = start / CodeMemory.pageSize * CodeMemory.pageSize
        let pages = (start + code.count - firstPage + CodeMemory.pageSize - 1) / CodeMemory.pageSize * CodeMemory.pageSize
        guard mprotect(base + firstPage, pages, PROT_READ | PROT_WRITE) == 0 else { throw .protectionFailed(errno: errno) }
        code.withUnsafeBytes { (base + start).copyMemory(from: $0.baseAddress!, byteCount: code.count) }
        guard mprotect(base + firstPage, pages, PROT_READ | PROT_EXEC) == 0 else { throw .protectionFailed(errno: errno) }
        used = start + code.count
        return UnsafeRawPointer(base + start)
    }

    /// Drops every translation: the pages go back to no access (and give their memory back).
    public func flush() throws(CodeMemoryError) {
        guard used > 0 else { return }
        let pages = (used + CodeMemory.pageSize - 1) / CodeMemory.pageSize * CodeMemory.pageSize
        guard mprotect(base, pages, PROT_NONE) == 0 else { throw .protectionFailed(errno: errno) }
        _ = madvise(base, pages, Int32(MADV_DONTNEED))
        used = 0
        flushes += 1
    }
}
