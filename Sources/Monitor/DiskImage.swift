import Devices
import Foundation

/// A raw disk image file as a virtio block device's backend (`--drive file=IMG,format=raw`).
/// The guest's writes go to a copy-on-write overlay in memory, page by page, and the file is
/// never written, unless writes were asked for (`snapshot=off`): then they go to the file and
/// FLUSH is fsync. `readonly=on` refuses every write.
public final class DiskImage: BlockBackend {
    public let path: String
    public let byteCount: UInt64
    public let readOnly: Bool
    /// Writes reach the file.
    public let writesToFile: Bool
    let descriptor: Int32
    /// Pages (4 KiB, by page number) the guest wrote, when the file is not written.
    var overlay: [UInt64: [UInt8]] = [:]
    static let page: UInt64 = 4096

    public enum OpenError: Error, CustomStringConvertible {
        case cannotOpen(String, Int32)
        case notSectors(String, UInt64)
        public var description: String {
            switch self {
            case .cannotOpen(let p, let e): "\(p): cannot open the disk image (\(String(cString: strerror(e))))"
            case .notSectors(let p, let n): "\(p): \(n) bytes is not a whole number of 512-byte sectors"
            }
        }
    }

    public init(path: String, readOnly: Bool, writesToFile: Bool) throws {
        let fd = open(path, writesToFile && !readOnly ? O_RDWR : O_RDONLY)
        guard fd >= 0 else { throw OpenError.cannotOpen(path, errno) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { close(fd); throw OpenError.cannotOpen(path, errno) }
        let size = UInt64(st.st_size)
        guard size % 512 == 0 else { close(fd); throw OpenError.notSectors(path, size) }
        (self.path, byteCount, self.readOnly, self.writesToFile, descriptor) = (path, size, readOnly, writesToFile && !readOnly, fd)
    }

    deinit { close(descriptor) }

    /// `count` bytes of the file at `offset` (what lies past its end reads as zeros).
    func fileBytes(at offset: UInt64, count: Int) -> [UInt8]? {
        var out = [UInt8](repeating: 0, count: count)
        var done = 0
        while done < count {
            let n = out.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress! + done, count - done, off_t(offset) + off_t(done)) }
            if n < 0 { return nil }
            if n == 0 { break }
            done += n
        }
        return out
    }

    public func read(at offset: UInt64, count: Int) -> [UInt8]? {
        guard offset <= byteCount, UInt64(count) <= byteCount - offset else { return nil }
        if overlay.isEmpty { return fileBytes(at: offset, count: count) }
        var out: [UInt8] = []
        out.reserveCapacity(count)
        var at = offset
        while out.count < count {
            let page = at / Self.page, within = Int(at % Self.page), n = min(count - out.count, Int(Self.page) - within)
            if let p = overlay[page] {
                out += p[within..<within + n]
            } else {
                guard let b = fileBytes(at: at, count: n) else { return nil }
                out += b
            }
            at += UInt64(n)
        }
        return out
    }

    public func write(at offset: UInt64, _ bytes: [UInt8]) -> Bool {
        guard !readOnly, offset <= byteCount, UInt64(bytes.count) <= byteCount - offset else { return false }
        if writesToFile {
            var done = 0
            while done < bytes.count {
                let n = bytes.withUnsafeBytes { pwrite(descriptor, $0.baseAddress! + done, bytes.count - done, off_t(offset) + off_t(done)) }
                if n <= 0 { return false }
                done += n
            }
            return true
        }
        var at = offset, done = 0
        while done < bytes.count {
            let page = at / Self.page, within = Int(at % Self.page), n = min(bytes.count - done, Int(Self.page) - within)
            var p: [UInt8]
            if let existing = overlay[page] {
                p = existing
            } else {
                let start = page * Self.page
                guard let b = fileBytes(at: start, count: Int(min(Self.page, byteCount - start))) else { return false }
                p = b
            }
            p.replaceSubrange(within..<within + n, with: bytes[done..<done + n])
            overlay[page] = p
            at += UInt64(n)
            done += n
        }
        return true
    }

    public func flush() -> Bool { writesToFile ? fsync(descriptor) == 0 : true }
}

/// A disk image held in memory (a replay's, checked against the trace's hash): the guest's
/// writes change only this copy.
public final class MemoryDisk: BlockBackend {
    var bytes: [UInt8]
    public let readOnly: Bool
    public init(bytes: [UInt8], readOnly: Bool) { (self.bytes, self.readOnly) = (bytes, readOnly) }
    public var byteCount: UInt64 { UInt64(bytes.count) & ~511 }
    public func read(at offset: UInt64, count: Int) -> [UInt8]? {
        guard offset <= byteCount, UInt64(count) <= byteCount - offset else { return nil }
        return Array(bytes[Int(offset)..<Int(offset) + count])
    }
    public func write(at offset: UInt64, _ data: [UInt8]) -> Bool {
        guard !readOnly, offset <= byteCount, UInt64(data.count) <= byteCount - offset else { return false }
        bytes.replaceSubrange(Int(offset)..<Int(offset) + data.count, with: data)
        return true
    }
    public func flush() -> Bool { true }
}
