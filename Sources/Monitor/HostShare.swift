import Foundation
import X86

// A host directory served to the guest over 9P2000.L (the protocol of Linux's v9fs with
// version=9p2000.L; the message formats are those of the Linux client, include/net/9p/9p.h,
// and of QEMU's server, which users compare with): the server behind a virtio-9p device.
//
// Confinement. Nothing outside the directory is reachable, whatever the guest sends and
// whatever it races. Every file the guest holds (a fid) is an O_PATH descriptor opened one
// name at a time from the share's root, each name relative to its parent's descriptor with
// O_NOFOLLOW: no path of more than one name is ever resolved on the host, so a symlink is
// never followed here (the guest reads it and resolves it in its own namespace), a rename
// racing a walk moves a descriptor but cannot move it out, and ".." above the root stays at
// the root. Names with "/", ".", ".." or NUL in them are refused where a name is created.
// Device nodes, FIFOs and sockets can be walked to and stat'ed but never opened (opening a
// host device or a FIFO would reach outside, or block the host).
//
// What the guest reads from the host is the outside input of a run: the machine hands every
// request to `handle` through its seam (Seam.swift's `HostReplyFeed`), where a recorder keeps
// each reply and a replay answers from the trace without touching the host.

/// A server for 9P messages: one request in, its reply out (`room`: the most bytes the
/// guest's reply buffers hold).
public protocol NinePServer: AnyObject {
    func handle(_ request: [UInt8], room: Int) -> [UInt8]
}

/// A shared directory that cannot be served.
public enum HostShareError: Error, Equatable, CustomStringConvertible {
    case cannotOpen(path: String, reason: String)
    case notDirectory(String)
    case badTag(String)
    public var description: String {
        switch self {
        case .cannotOpen(let p, let r): "cannot share \(p): \(r)"
        case .notDirectory(let p): "cannot share \(p): not a directory"
        case .badTag(let t): "the share tag \"\(t)\" must be 1 to 31 characters, none of them a comma, \"=\" or a space"
        }
    }
}

/// 9P2000.L's message numbers, and the constants of its messages.
public enum NineP {
    public static let lerror: UInt8 = 7, statfs: UInt8 = 8, lopen: UInt8 = 12, lcreate: UInt8 = 14, symlink: UInt8 = 16
    public static let mknod: UInt8 = 18, rename: UInt8 = 20, readlink: UInt8 = 22, getattr: UInt8 = 24, setattr: UInt8 = 26
    public static let xattrwalk: UInt8 = 30, xattrcreate: UInt8 = 32, readdir: UInt8 = 40, fsync: UInt8 = 50
    public static let lock: UInt8 = 52, getlock: UInt8 = 54, link: UInt8 = 70, mkdir: UInt8 = 72, renameat: UInt8 = 74
    public static let unlinkat: UInt8 = 76, version: UInt8 = 100, auth: UInt8 = 102, attach: UInt8 = 104
    public static let flush: UInt8 = 108, walk: UInt8 = 110, read: UInt8 = 116, write: UInt8 = 118, clunk: UInt8 = 120
    public static let remove: UInt8 = 122
    public static let noTag: UInt16 = 0xFFFF, noFid: UInt32 = 0xFFFF_FFFF
    /// Rread's and Rreaddir's header: size, type, tag, count.
    public static let ioHeader = 11
    /// The largest message size the server agrees to.
    public static let maxMessageSize: UInt32 = 512 * 1024
    /// Tsetattr's valid bits.
    public enum SetAttr {
        public static let mode: UInt32 = 0x1, uid: UInt32 = 0x2, gid: UInt32 = 0x4, size: UInt32 = 0x8
        public static let atime: UInt32 = 0x10, mtime: UInt32 = 0x20, atimeSet: UInt32 = 0x80, mtimeSet: UInt32 = 0x100
    }
    /// Rgetattr's valid mask for the basic fields (P9_STATS_BASIC).
    public static let statsBasic: UInt64 = 0x7FF
    /// Tlock's and Rlock's values.
    public enum Lock {
        public static let readLock: UInt8 = 0, writeLock: UInt8 = 1, unlock: UInt8 = 2
        public static let success: UInt8 = 0, blocked: UInt8 = 1, error: UInt8 = 2
    }
}

/// A 9P message's fields, read in order; running past the end is a malformed message.
struct NineReader {
    struct Short: Error {}
    let bytes: [UInt8]
    var at: Int
    let end: Int

    mutating func u8() throws(Short) -> UInt8 {
        guard at < end else { throw Short() }
        at += 1
        return bytes[at - 1]
    }
    mutating func int(_ n: Int) throws(Short) -> UInt64 {
        guard end - at >= n else { throw Short() }
        var v: UInt64 = 0
        for i in 0..<n { v |= UInt64(bytes[at + i]) << (8 * UInt64(i)) }
        at += n
        return v
    }
    mutating func u16() throws(Short) -> UInt16 { UInt16(try int(2)) }
    mutating func u32() throws(Short) -> UInt32 { UInt32(try int(4)) }
    mutating func u64() throws(Short) -> UInt64 { try int(8) }
    mutating func bytes(_ n: Int) throws(Short) -> ArraySlice<UInt8> {
        guard n >= 0, end - at >= n else { throw Short() }
        at += n
        return bytes[at - n..<at]
    }
    /// A string: its length (2 bytes), then its bytes (not necessarily UTF-8).
    mutating func string() throws(Short) -> [UInt8] { Array(try bytes(Int(try u16()))) }
}

/// A 9P reply being built.
struct NineWriter {
    var bytes: [UInt8]
    init(type: UInt8, tag: UInt16) { bytes = [0, 0, 0, 0, type, UInt8(tag & 0xFF), UInt8(tag >> 8)] }
    mutating func int(_ v: UInt64, _ n: Int) { for i in 0..<n { bytes.append(UInt8(truncatingIfNeeded: v >> (8 * UInt64(i)))) } }
    mutating func u8(_ v: UInt8) { bytes.append(v) }
    mutating func u16(_ v: UInt16) { int(UInt64(v), 2) }
    mutating func u32(_ v: UInt32) { int(UInt64(v), 4) }
    mutating func u64(_ v: UInt64) { int(v, 8) }
    mutating func string<C: Collection>(_ s: C) where C.Element == UInt8 { u16(UInt16(s.count)); bytes += s }
    /// The message with its size filled in.
    var message: [UInt8] {
        var m = bytes
        let n = UInt32(m.count)
        for i in 0..<4 { m[i] = UInt8(truncatingIfNeeded: n >> (8 * UInt32(i))) }
        return m
    }
}

/// A host directory served over 9P2000.L.
public final class HostShare: NinePServer {
    public let path: String
    public let readOnly: Bool
    let rootFD: Int32
    var fids: [UInt32: Fid] = [:]
    var messageSize = 8192
    /// Each host device seen, numbered in the order seen (the share's own is 0): a qid's path
    /// is the inode number with the device's number in its top byte, so that two files on two
    /// file systems under the share never share a qid.
    var devices: [UInt64: UInt64] = [:]
    /// Requests served (for `--stats`).
    public private(set) var requests = 0

    /// A file the guest holds: its O_PATH descriptor, its names from the root, the user it
    /// acts for, and what it opened.
    final class Fid {
        var fd: Int32
        var names: [[UInt8]]
        var uid: UInt32
        var mode: mode_t
        /// Open for reading or writing (a regular file), or for reading entries (a directory).
        var open: Int32 = -1
        var dir: OpaquePointer?
        init(fd: Int32, names: [[UInt8]], uid: UInt32, mode: mode_t) { (self.fd, self.names, self.uid, self.mode) = (fd, names, uid, mode) }
        var isDirectory: Bool { mode & S_IFMT == S_IFDIR }
        var isRegular: Bool { mode & S_IFMT == S_IFREG }
        var isSymlink: Bool { mode & S_IFMT == S_IFLNK }
    }

    static let oPath: Int32 = 0o10000000, atEmptyPath: Int32 = 0x1000

    public init(path: String, readOnly: Bool) throws(HostShareError) {
        self.path = path
        self.readOnly = readOnly
        let fd = Glibc.open(path, HostShare.oPath | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else {
            let e = errno
            if e == ENOTDIR { throw .notDirectory(path) }
            throw .cannotOpen(path: path, reason: String(cString: strerror(e)))
        }
        // O_PATH opens a directory one cannot search: the first walk would fail.
        guard faccessat(fd, ".", R_OK | X_OK, 0) == 0 || getuid() == 0 else {
            Glibc.close(fd)
            throw .cannotOpen(path: path, reason: "permission denied")
        }
        rootFD = fd
    }

    deinit {
        for f in fids.values { release(f) }
        Glibc.close(rootFD)
    }

    /// Checks a share tag: 1 to 31 bytes (the guest's mount names it), no separators.
    public static func checkTag(_ tag: String) throws(HostShareError) {
        guard (1...31).contains(tag.utf8.count), !tag.contains(where: { ",= ".contains($0) }) else { throw .badTag(tag) }
    }

    // MARK: messages

    public func handle(_ request: [UInt8], room: Int) -> [UInt8] {
        requests += 1
        guard request.count >= 7 else { return HostShare.errorReply(tag: NineP.noTag, EPROTO) }
        let size = Int(UInt32(request[0]) | UInt32(request[1]) << 8 | UInt32(request[2]) << 16 | UInt32(request[3]) << 24)
        let type = request[4], tag = UInt16(request[5]) | UInt16(request[6]) << 8
        guard size >= 7, size <= request.count else { return HostShare.errorReply(tag: tag, EPROTO) }
        var r = NineReader(bytes: request, at: 7, end: size)
        let limit = max(0, min(room, messageSize))
        do {
            return try serve(type: type, tag: tag, &r, limit: limit)
        } catch let e as Errno {
            return HostShare.errorReply(tag: tag, e.code)
        } catch {
            return HostShare.errorReply(tag: tag, EPROTO)     // a field ran past the message's end
        }
    }

    struct Errno: Error { var code: Int32 }

    /// Rlerror for `request` (its tag, where it has one).
    public static func errorReply(to request: [UInt8], _ code: Int32) -> [UInt8] {
        errorReply(tag: request.count >= 7 ? UInt16(request[5]) | UInt16(request[6]) << 8 : NineP.noTag, code)
    }

    static func errorReply(tag: UInt16, _ code: Int32) -> [UInt8] {
        var w = NineWriter(type: NineP.lerror, tag: tag)
        w.u32(UInt32(bitPattern: code))
        return w.message
    }

    func fid(_ n: UInt32) throws -> Fid {
        guard let f = fids[n] else { throw Errno(code: EBADF) }
        return f
    }

    /// The result of a system call: its value, or the errno it set, thrown.
    @discardableResult
    func check(_ result: Int32) throws -> Int32 {
        if result < 0 { throw Errno(code: errno) }
        return result
    }

    /// A name the guest creates or looks up by: one component, not "." or "..".
    func checkName(_ name: [UInt8]) throws {
        guard !name.isEmpty, name.count <= 255, !name.contains(0x2F), !name.contains(0), name != [0x2E], name != [0x2E, 0x2E] else {
            throw Errno(code: name.count > 255 ? ENAMETOOLONG : EINVAL)
        }
    }

    func writable() throws { if readOnly { throw Errno(code: EROFS) } }

    func serve(type: UInt8, tag: UInt16, _ r: inout NineReader, limit: Int) throws -> [UInt8] {
        var w = NineWriter(type: type &+ 1, tag: tag)
        switch type {
        case NineP.version:
            let size = try r.u32(), version = try r.string()
            for f in fids.values { release(f) }
            fids = [:]
            messageSize = Int(min(size, NineP.maxMessageSize))
            w.u32(UInt32(messageSize))
            w.string(version == Array("9P2000.L".utf8) ? version : Array("unknown".utf8))
        case NineP.auth:
            throw Errno(code: EOPNOTSUPP)
        case NineP.attach:
            let n = try r.u32(), afid = try r.u32()
            _ = try r.string(); _ = try r.string()
            let uid = try r.u32()
            guard afid == NineP.noFid else { throw Errno(code: EOPNOTSUPP) }
            guard fids[n] == nil else { throw Errno(code: EBADF) }
            let fd = try check(fcntl(rootFD, F_DUPFD_CLOEXEC, 0))
            let st = try stat(fd)
            fids[n] = Fid(fd: fd, names: [], uid: uid, mode: st.st_mode)
            qid(st, &w)
        case NineP.walk:
            try walk(&r, &w)
        case NineP.lopen:
            let f = try fid(try r.u32()), flags = try r.u32()
            try open(f, flags: flags)
            qid(try stat(f.fd), &w)
            w.u32(0)
        case NineP.lcreate:
            let f = try fid(try r.u32()), name = try r.string(), flags = try r.u32(), mode = try r.u32(), gid = try r.u32()
            try writable()
            try checkName(name)
            let fd = try check(withName(name) { openat(f.fd, $0, HostShare.openFlags(flags) | O_CREAT | O_NOFOLLOW | O_CLOEXEC, mode_t(mode & 0o7777)) })
            setOwner(f.fd, name, uid: f.uid, gid: gid)
            let pathFD = withName(name) { openat(f.fd, $0, HostShare.oPath | O_NOFOLLOW | O_CLOEXEC) }
            guard pathFD >= 0 else { let e = errno; Glibc.close(fd); throw Errno(code: e) }
            let st = try stat(pathFD)
            Glibc.close(f.fd)
            if f.open >= 0 { Glibc.close(f.open) }
            (f.fd, f.open, f.mode) = (pathFD, fd, st.st_mode)
            f.names.append(name)
            qid(st, &w)
            w.u32(0)
        case NineP.symlink:
            let f = try fid(try r.u32()), name = try r.string(), target = try r.string(), gid = try r.u32()
            try writable()
            try checkName(name)
            guard !target.contains(0) else { throw Errno(code: EINVAL) }
            try check(withName(target) { t in withName(name) { symlinkat(t, f.fd, $0) } })
            setOwner(f.fd, name, uid: f.uid, gid: gid)
            qid(try stat(at: f.fd, name), &w)
        case NineP.mknod:
            let f = try fid(try r.u32()), name = try r.string(), mode = try r.u32()
            _ = try r.u32(); _ = try r.u32()
            let gid = try r.u32()
            try writable()
            try checkName(name)
            // Regular files, FIFOs and sockets only: no host device node is made here.
            let kind = mode_t(mode) & S_IFMT
            guard kind == S_IFREG || kind == S_IFIFO || kind == S_IFSOCK || kind == 0 else { throw Errno(code: EPERM) }
            try check(withName(name) { mknodat(f.fd, $0, mode_t(mode), 0) })
            setOwner(f.fd, name, uid: f.uid, gid: gid)
            qid(try stat(at: f.fd, name), &w)
        case NineP.mkdir:
            let f = try fid(try r.u32()), name = try r.string(), mode = try r.u32(), gid = try r.u32()
            try writable()
            try checkName(name)
            try check(withName(name) { mkdirat(f.fd, $0, mode_t(mode & 0o7777)) })
            setOwner(f.fd, name, uid: f.uid, gid: gid)
            qid(try stat(at: f.fd, name), &w)
        case NineP.rename:
            let f = try fid(try r.u32()), d = try fid(try r.u32()), name = try r.string()
            try writable()
            try checkName(name)
            guard !f.names.isEmpty else { throw Errno(code: EBUSY) }     // the root
            try inParent(f) { parent, last in try check(withName(last) { o in withName(name) { renameat(parent, o, d.fd, $0) } }) }
            moved(from: f.names, to: d.names + [name])
        case NineP.renameat:
            let od = try fid(try r.u32()), oldName = try r.string(), nd = try fid(try r.u32()), newName = try r.string()
            try writable()
            try checkName(oldName)
            try checkName(newName)
            try check(withName(oldName) { o in withName(newName) { renameat(od.fd, o, nd.fd, $0) } })
            moved(from: od.names + [oldName], to: nd.names + [newName])
        case NineP.unlinkat:
            let d = try fid(try r.u32()), name = try r.string(), flags = try r.u32()
            try writable()
            try checkName(name)
            try check(withName(name) { unlinkat(d.fd, $0, Int32(bitPattern: flags) & AT_REMOVEDIR) })
        case NineP.remove:
            let n = try r.u32()
            let f = try fid(n)
            defer { clunk(n) }
            try writable()
            guard !f.names.isEmpty else { throw Errno(code: EBUSY) }
            try inParent(f) { parent, last in try check(withName(last) { unlinkat(parent, $0, f.isDirectory ? AT_REMOVEDIR : 0) }) }
        case NineP.link:
            let d = try fid(try r.u32()), f = try fid(try r.u32()), name = try r.string()
            try writable()
            try checkName(name)
            guard !f.isDirectory, !f.names.isEmpty else { throw Errno(code: EPERM) }
            try inParent(f) { parent, last in try check(withName(last) { o in withName(name) { linkat(parent, o, d.fd, $0, 0) } }) }
        case NineP.readlink:
            let f = try fid(try r.u32())
            guard f.isSymlink else { throw Errno(code: EINVAL) }
            var buffer = [CChar](repeating: 0, count: 4096)
            let n = readlinkat(f.fd, "", &buffer, buffer.count)
            guard n >= 0 else { throw Errno(code: errno) }
            w.string(buffer[0..<n].map { UInt8(bitPattern: $0) })
        case NineP.getattr:
            let f = try fid(try r.u32())
            _ = try r.u64()
            attributes(try stat(f.fd), &w)
        case NineP.setattr:
            let f = try fid(try r.u32())
            try setAttributes(f, &r)
        case NineP.statfs:
            let f = try fid(try r.u32())
            var s = statvfs()
            try check(fstatvfs(f.fd, &s))
            w.u32(0x0102_1997)      // V9FS_MAGIC, as the guest would see from any 9p server
            w.u32(UInt32(truncatingIfNeeded: s.f_bsize))
            w.u64(UInt64(s.f_blocks)); w.u64(UInt64(s.f_bfree)); w.u64(UInt64(s.f_bavail))
            w.u64(UInt64(s.f_files)); w.u64(UInt64(s.f_ffree)); w.u64(UInt64(s.f_fsid))
            w.u32(UInt32(truncatingIfNeeded: s.f_namemax))
        case NineP.read:
            let f = try fid(try r.u32()), offset = try r.u64(), count = try r.u32()
            guard f.open >= 0, f.isRegular else { throw Errno(code: EBADF) }
            let n = min(Int(count), max(0, limit - NineP.ioHeader))
            var data = [UInt8](repeating: 0, count: n)
            let got = data.withUnsafeMutableBytes { pread(f.open, $0.baseAddress, n, off_t(Int64(bitPattern: offset))) }
            guard got >= 0 else { throw Errno(code: errno) }
            w.u32(UInt32(got))
            w.bytes += data[0..<got]
        case NineP.write:
            let f = try fid(try r.u32()), offset = try r.u64(), count = try r.u32()
            let data = try r.bytes(Int(count))
            guard f.open >= 0, f.isRegular else { throw Errno(code: EBADF) }
            let n = data.withUnsafeBytes { pwrite(f.open, $0.baseAddress, data.count, off_t(Int64(bitPattern: offset))) }
            guard n >= 0 else { throw Errno(code: errno) }
            w.u32(UInt32(n))
        case NineP.readdir:
            let f = try fid(try r.u32()), offset = try r.u64(), count = try r.u32()
            try readdir(f, offset: offset, count: min(Int(count), max(0, limit - NineP.ioHeader)), &w)
        case NineP.fsync:
            let f = try fid(try r.u32())
            _ = try r.u32()
            if f.open >= 0 { try check(fsync(f.open)) }
        case NineP.lock:
            let f = try fid(try r.u32()), type = try r.u8()
            _ = try r.u32()
            let start = try r.u64(), length = try r.u64()
            w.u8(lock(f, type: type, start: start, length: length))
        case NineP.getlock:
            let f = try fid(try r.u32()), type = try r.u8(), start = try r.u64(), length = try r.u64(), proc = try r.u32()
            let client = try r.string()
            var l = flock()
            l.l_type = Int16(type == NineP.Lock.readLock ? F_RDLCK : F_WRLCK)
            (l.l_whence, l.l_start, l.l_len) = (Int16(SEEK_SET), off_t(Int64(bitPattern: start)), off_t(Int64(bitPattern: length)))
            if f.open >= 0 { try check(fcntl(f.open, F_GETLK, &l)) } else { l.l_type = Int16(F_UNLCK) }
            // A lock another host process holds shows as the guest's own: the guest's kernel
            // keeps its processes' locks itself.
            w.u8(l.l_type == Int16(F_UNLCK) ? NineP.Lock.unlock : l.l_type == Int16(F_RDLCK) ? NineP.Lock.readLock : NineP.Lock.writeLock)
            w.u64(UInt64(bitPattern: Int64(l.l_start))); w.u64(UInt64(bitPattern: Int64(l.l_len)))
            w.u32(proc)
            w.string(client)
        case NineP.xattrwalk, NineP.xattrcreate:
            throw Errno(code: EOPNOTSUPP)
        case NineP.flush:
            _ = try r.u16()      // requests are answered as they come: nothing is in flight
        case NineP.clunk:
            let n = try r.u32()
            _ = try fid(n)
            clunk(n)
        default:
            throw Errno(code: EOPNOTSUPP)
        }
        return w.message
    }

    // MARK: walking

    func walk(_ r: inout NineReader, _ w: inout NineWriter) throws {
        let n = try r.u32(), newN = try r.u32(), count = Int(try r.u16())
        let f = try fid(n)
        guard count <= 16 else { throw Errno(code: EINVAL) }       // MAXWELEM
        guard newN == n || fids[newN] == nil else { throw Errno(code: EBADF) }
        var names: [[UInt8]] = []
        for _ in 0..<count { names.append(try r.string()) }
        var fd = try check(fcntl(f.fd, F_DUPFD_CLOEXEC, 0)), path = f.names, mode = f.mode
        var qids = 0
        w.u16(0)
        for name in names {
            let next: Int32
            if name == [0x2E, 0x2E] {
                // Up: the root's parent is the root, and the parent is found again from the
                // root (a descriptor's own ".." could lie outside after the host moved it).
                if !path.isEmpty { path.removeLast() }
                next = (try? walkFromRoot(path)) ?? -1
            } else {
                guard !name.isEmpty, !name.contains(0x2F), !name.contains(0), name != [0x2E] else { errno = ENOENT; break }
                next = withName(name) { openat(fd, $0, HostShare.oPath | O_NOFOLLOW | O_CLOEXEC) }
                if next >= 0 { path.append(name) }
            }
            guard next >= 0 else { break }
            Glibc.close(fd)
            fd = next
            guard let st = try? stat(fd) else { break }
            mode = st.st_mode
            qid(st, &w)
            qids += 1
        }
        if qids == 0 && count > 0 {
            let e = errno
            Glibc.close(fd)
            throw Errno(code: e == 0 ? ENOENT : e)
        }
        w.bytes[7] = UInt8(qids)
        guard qids == count else { Glibc.close(fd); return }
        if newN == n { release(f) }
        fids[newN] = Fid(fd: fd, names: path, uid: f.uid, mode: mode)
    }

    /// A fresh O_PATH descriptor for `names` from the root, one name at a time.
    func walkFromRoot(_ names: [[UInt8]]) throws -> Int32 {
        var fd = try check(fcntl(rootFD, F_DUPFD_CLOEXEC, 0))
        for name in names {
            let next = withName(name) { openat(fd, $0, HostShare.oPath | O_NOFOLLOW | O_CLOEXEC) }
            let e = errno
            Glibc.close(fd)
            guard next >= 0 else { throw Errno(code: e) }
            fd = next
        }
        return fd
    }

    /// Runs `body` with a descriptor for the directory holding `f` (found again from the root)
    /// and `f`'s name in it; `f` is not the root.
    func inParent<R>(_ f: Fid, _ body: (Int32, [UInt8]) throws -> R) throws -> R {
        let parent = try walkFromRoot(Array(f.names.dropLast()))
        defer { Glibc.close(parent) }
        return try body(parent, f.names[f.names.count - 1])
    }

    /// After a rename: every fid at or under the old names is now under the new ones.
    func moved(from old: [[UInt8]], to new: [[UInt8]]) {
        for f in fids.values where f.names.count >= old.count && Array(f.names.prefix(old.count)) == old {
            f.names = new + f.names.dropFirst(old.count)
        }
    }

    // MARK: opening

    /// Lopen's flags (Linux's open flags, as the 9P2000.L client sends them) as the host's:
    /// the access mode, O_TRUNC, O_APPEND, O_DIRECTORY and the sync flags; never O_CREAT
    /// (Tlcreate's job), O_NOCTTY, O_NONBLOCK or O_DIRECT.
    static func openFlags(_ flags: UInt32) -> Int32 {
        let f = Int32(bitPattern: flags)
        return f & (O_ACCMODE | O_TRUNC | O_APPEND | O_DIRECTORY | O_DSYNC | O_SYNC | O_EXCL)
    }

    func open(_ f: Fid, flags: UInt32) throws {
        guard f.open < 0 && f.dir == nil else { throw Errno(code: EBADF) }
        let host = HostShare.openFlags(flags) & ~O_EXCL
        if readOnly && (host & O_ACCMODE != O_RDONLY || host & O_TRUNC != 0) { throw Errno(code: EROFS) }
        if f.isDirectory {
            guard host & O_ACCMODE == O_RDONLY else { throw Errno(code: EISDIR) }
            let fd = try check(openat(f.fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC))
            guard let d = fdopendir(fd) else { let e = errno; Glibc.close(fd); throw Errno(code: e) }
            f.dir = d
            return
        }
        // Only regular files: a host device, FIFO or socket stays closed.
        guard f.isRegular else { throw Errno(code: f.isSymlink ? ELOOP : EACCES) }
        guard host & O_DIRECTORY == 0 else { throw Errno(code: ENOTDIR) }
        // The very file the fid names, through its descriptor's /proc link (no name resolved).
        var fd = Glibc.open("/proc/self/fd/\(f.fd)", host | O_CLOEXEC | O_NOCTTY)
        if fd < 0 && errno == ENOENT && !f.names.isEmpty {
            // No /proc: by name from the parent (still one name, never followed).
            fd = try inParent(f) { parent, last in withName(last) { openat(parent, $0, host | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW) } }
        }
        f.open = try check(fd)
    }

    func release(_ f: Fid) {
        if let d = f.dir { closedir(d) }
        if f.open >= 0 { Glibc.close(f.open) }
        Glibc.close(f.fd)
        (f.dir, f.open, f.fd) = (nil, -1, -1)
    }

    func clunk(_ n: UInt32) {
        if let f = fids.removeValue(forKey: n) { release(f) }
    }

    // MARK: attributes

    func stat(_ fd: Int32) throws -> stat {
        var st = Glibc.stat()
        try check(fstatat(fd, "", &st, HostShare.atEmptyPath | AT_SYMLINK_NOFOLLOW))
        return st
    }

    func stat(at dir: Int32, _ name: [UInt8]) throws -> stat {
        var st = Glibc.stat()
        try check(withName(name) { fstatat(dir, $0, &st, AT_SYMLINK_NOFOLLOW) })
        return st
    }

    func qidPath(device: UInt64, inode: UInt64) -> UInt64 {
        let n: UInt64
        if let d = devices[device] { n = d } else { n = UInt64(devices.count); devices[device] = n }
        return n << 56 ^ inode
    }

    /// A qid: the type (directory 0x80, symlink 0x02), a version that changes with the file's
    /// modification time and size (as QEMU's), and the path.
    func qid(_ st: stat, _ w: inout NineWriter) {
        let kind = st.st_mode & S_IFMT
        w.u8(kind == S_IFDIR ? 0x80 : kind == S_IFLNK ? 0x02 : 0)
        w.u32(UInt32(truncatingIfNeeded: UInt64(bitPattern: Int64(st.st_mtim.tv_sec)) ^ UInt64(bitPattern: Int64(st.st_size)) << 8))
        w.u64(qidPath(device: UInt64(st.st_dev), inode: UInt64(st.st_ino)))
    }

    func attributes(_ st: stat, _ w: inout NineWriter) {
        w.u64(NineP.statsBasic)
        qid(st, &w)
        w.u32(st.st_mode); w.u32(st.st_uid); w.u32(st.st_gid)
        w.u64(UInt64(st.st_nlink)); w.u64(UInt64(st.st_rdev)); w.u64(UInt64(bitPattern: Int64(st.st_size)))
        w.u64(UInt64(st.st_blksize)); w.u64(UInt64(bitPattern: Int64(st.st_blocks)))
        for t in [st.st_atim, st.st_mtim, st.st_ctim] {
            w.u64(UInt64(bitPattern: Int64(t.tv_sec))); w.u64(UInt64(bitPattern: Int64(t.tv_nsec)))
        }
        for _ in 0..<4 { w.u64(0) }     // btime, gen, data_version: not in the basic set
    }

    func setAttributes(_ f: Fid, _ r: inout NineReader) throws {
        let valid = try r.u32(), mode = try r.u32(), uid = try r.u32(), gid = try r.u32(), size = try r.u64()
        let aSec = try r.u64(), aNsec = try r.u64(), mSec = try r.u64(), mNsec = try r.u64()
        try writable()
        let link = "/proc/self/fd/\(f.fd)"
        if valid & NineP.SetAttr.mode != 0 && !f.isSymlink {
            try check(fchmodat(AT_FDCWD, link, mode_t(mode & 0o7777), 0))
        }
        if valid & (NineP.SetAttr.uid | NineP.SetAttr.gid) != 0 {
            let u = valid & NineP.SetAttr.uid != 0 ? uid : UInt32.max, g = valid & NineP.SetAttr.gid != 0 ? gid : UInt32.max
            try check(fchownat(f.fd, "", u, g, HostShare.atEmptyPath | AT_SYMLINK_NOFOLLOW))
        }
        if valid & NineP.SetAttr.size != 0 {
            guard f.isRegular else { throw Errno(code: f.isDirectory ? EISDIR : EINVAL) }
            if f.open >= 0 && fcntl(f.open, F_GETFL) & O_ACCMODE != O_RDONLY {
                try check(ftruncate(f.open, off_t(Int64(bitPattern: size))))
            } else {
                try check(truncate(link, off_t(Int64(bitPattern: size))))
            }
        }
        if valid & (NineP.SetAttr.atime | NineP.SetAttr.mtime) != 0 && !f.isSymlink {
            let now = (1 << 30) - 1, omit = (1 << 30) - 2
            func time(_ on: UInt32, _ set: UInt32, _ s: UInt64, _ ns: UInt64) -> timespec {
                valid & on == 0 ? timespec(tv_sec: 0, tv_nsec: omit)
                    : valid & set == 0 ? timespec(tv_sec: 0, tv_nsec: now)
                    : timespec(tv_sec: Int(bitPattern: UInt(s)), tv_nsec: Int(ns))
            }
            var times = [time(NineP.SetAttr.atime, NineP.SetAttr.atimeSet, aSec, aNsec),
                         time(NineP.SetAttr.mtime, NineP.SetAttr.mtimeSet, mSec, mNsec)]
            try check(utimensat(AT_FDCWD, link, &times, 0))
        }
    }

    /// A new file's owner: the user the fid acts for and the group asked for. Like QEMU's
    /// security_model=none, a host that does not allow it (not root) leaves the file its own.
    func setOwner(_ dir: Int32, _ name: [UInt8], uid: UInt32, gid: UInt32) {
        _ = withName(name) { fchownat(dir, $0, uid, gid, AT_SYMLINK_NOFOLLOW) }
    }

    // MARK: directories and locks

    /// Treaddir: entries from `offset` (0: the start; otherwise an offset an entry gave) while
    /// they fit in `count` bytes, each qid, offset of the next, type and name.
    func readdir(_ f: Fid, offset: UInt64, count: Int, _ w: inout NineWriter) throws {
        guard let d = f.dir else { throw Errno(code: EBADF) }
        if offset == 0 { rewinddir(d) } else { seekdir(d, Int(bitPattern: UInt(offset))) }
        let dirDevice = UInt64((try? stat(f.fd))?.st_dev ?? 0)
        w.u32(0)
        var used = 0
        while true {
            let position = telldir(d)
            errno = 0
            guard let e = Glibc.readdir(d) else {
                if errno != 0 && used == 0 { throw Errno(code: errno) }
                break
            }
            let name: [UInt8] = withUnsafeBytes(of: e.pointee.d_name) { raw in
                Array(raw.prefix(while: { $0 != 0 }))
            }
            let size = 13 + 8 + 1 + 2 + name.count
            if used + size > count {
                seekdir(d, position)
                break
            }
            let type = e.pointee.d_type
            w.u8(type == UInt8(DT_DIR) ? 0x80 : type == UInt8(DT_LNK) ? 0x02 : 0)
            w.u32(0)
            w.u64(qidPath(device: dirDevice, inode: UInt64(e.pointee.d_ino)))
            w.u64(UInt64(bitPattern: Int64(e.pointee.d_off)))
            w.u8(type)
            w.string(name)
            used += size
        }
        let n = UInt32(used)
        for i in 0..<4 { w.bytes[7 + i] = UInt8(truncatingIfNeeded: n >> (8 * UInt32(i))) }
    }

    /// Tlock: a POSIX lock on the host file, never waiting (the guest's client retries a
    /// blocking lock). The guest's kernel keeps its own processes' locks apart; the host lock
    /// keeps the guest's apart from other host processes'.
    func lock(_ f: Fid, type: UInt8, start: UInt64, length: UInt64) -> UInt8 {
        guard f.open >= 0 else { return NineP.Lock.error }
        var l = flock()
        l.l_type = Int16(type == NineP.Lock.readLock ? F_RDLCK : type == NineP.Lock.writeLock ? F_WRLCK : F_UNLCK)
        (l.l_whence, l.l_start, l.l_len) = (Int16(SEEK_SET), off_t(Int64(bitPattern: start)), off_t(Int64(bitPattern: length)))
        if fcntl(f.open, F_SETLK, &l) == 0 { return NineP.Lock.success }
        return errno == EAGAIN || errno == EACCES ? NineP.Lock.blocked : NineP.Lock.error
    }

    /// Calls `body` with `name` as a C string.
    func withName<R>(_ name: [UInt8], _ body: (UnsafePointer<CChar>) -> R) -> R {
        (name + [0]).withUnsafeBufferPointer { b in
            b.baseAddress!.withMemoryRebound(to: CChar.self, capacity: b.count) { body($0) }
        }
    }
}
