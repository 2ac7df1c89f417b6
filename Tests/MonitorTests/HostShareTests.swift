import Foundation
import Testing
import Monitor

/// The shared directory's 9P2000.L server, driven with the messages Linux's v9fs client sends
/// (include/net/9p/9p.h's formats), against a directory made for the test; and what a hostile
/// guest can send to leave the directory: "..", names with "/", symlinks out of it (relative,
/// absolute, to "/"), walks through a symlink, and a fid kept across a rename.
@Suite struct HostShareTests {
    /// A client speaking 9P2000.L to the server: builds requests, parses replies.
    final class Client {
        let server: HostShare
        var tag: UInt16 = 1
        init(_ server: HostShare) { self.server = server }

        struct Reply {
            var type: UInt8
            var bytes: [UInt8]
            var at = 7
            var errno: Int32? { type == 7 ? Int32(bitPattern: UInt32(int(7, 4))) : nil }
            func int(_ o: Int, _ n: Int) -> UInt64 { (0..<n).reduce(0) { $0 | UInt64(bytes[o + $1]) << (8 * UInt64($1)) } }
            mutating func next(_ n: Int) -> UInt64 { defer { at += n }; return int(at, n) }
            mutating func string() -> [UInt8] {
                let n = Int(next(2))
                defer { at += n }
                return Array(bytes[at..<at + n])
            }
            mutating func qid() -> (type: UInt8, path: UInt64) {
                let t = UInt8(next(1)); _ = next(4)
                return (t, next(8))
            }
        }

        enum Field { case u8(UInt8), u16(UInt16), u32(UInt32), u64(UInt64), s(String), raw([UInt8]) }

        func call(_ type: UInt8, _ fields: [Field], room: Int = 1 << 20) -> Reply {
            var b: [UInt8] = [0, 0, 0, 0, type, UInt8(tag & 0xFF), UInt8(tag >> 8)]
            func put(_ v: UInt64, _ n: Int) { for i in 0..<n { b.append(UInt8(truncatingIfNeeded: v >> (8 * UInt64(i)))) } }
            for f in fields {
                switch f {
                case .u8(let v): put(UInt64(v), 1)
                case .u16(let v): put(UInt64(v), 2)
                case .u32(let v): put(UInt64(v), 4)
                case .u64(let v): put(v, 8)
                case .s(let s): put(UInt64(s.utf8.count), 2); b += Array(s.utf8)
                case .raw(let r): b += r
                }
            }
            let n = UInt32(b.count)
            for i in 0..<4 { b[i] = UInt8(truncatingIfNeeded: n >> (8 * UInt32(i))) }
            let reply = server.handle(b, room: room)
            #expect(reply.count >= 7 && Int(reply[0]) | Int(reply[1]) << 8 | Int(reply[2]) << 16 == reply.count)
            #expect(reply[5] == UInt8(tag & 0xFF))
            tag &+= 1
            return Reply(type: reply[4], bytes: reply)
        }

        /// Version and attach: fid 0 is the root.
        func start() {
            var r = call(100, [.u32(65536), .s("9P2000.L")])
            #expect(r.type == 101 && r.next(4) == 65536 && r.string() == Array("9P2000.L".utf8))
            r = call(104, [.u32(0), .u32(~0), .s("root"), .s(""), .u32(0)])
            #expect(r.type == 105)
        }

        func walk(_ fid: UInt32, _ newFid: UInt32, _ names: [String]) -> Reply {
            call(110, [.u32(fid), .u32(newFid), .u16(UInt16(names.count))] + names.map { .s($0) })
        }
        func open(_ fid: UInt32, _ flags: UInt32) -> Reply { call(12, [.u32(fid), .u32(flags)]) }
        func read(_ fid: UInt32, _ offset: UInt64 = 0, _ count: UInt32 = 4096) -> [UInt8]? {
            var r = call(116, [.u32(fid), .u64(offset), .u32(count)])
            guard r.type == 117 else { return nil }
            let n = Int(r.next(4))
            return Array(r.bytes[11..<11 + n])
        }
        func clunk(_ fid: UInt32) { #expect(call(120, [.u32(fid)]).type == 121) }
        func getattr(_ fid: UInt32) -> Reply { call(24, [.u32(fid), .u64(0x7FF)]) }
        /// The names in a directory, through Treaddir in requests of `count` bytes.
        func list(_ fid: UInt32, count: UInt32 = 8192) -> [String] {
            var names: [String] = [], offset: UInt64 = 0
            while true {
                var r = call(40, [.u32(fid), .u64(offset), .u32(count)])
                guard r.type == 41 else { Issue.record("readdir: \(r.errno ?? 0)"); return names }
                let end = 11 + Int(r.next(4))
                if end == 11 { return names.sorted() }
                while r.at < end {
                    _ = r.qid()
                    offset = r.next(8)
                    _ = r.next(1)
                    names.append(String(decoding: r.string(), as: UTF8.self))
                }
            }
        }
    }

    /// A directory with a file, a subdirectory, symlinks out of it, and a secret beside it.
    static func makeShare() throws -> (root: String, share: String) {
        let root = NSTemporaryDirectory() + "softvmm-share-\(UUID().uuidString)"
        let share = root + "/share"
        let fm = FileManager.default
        try fm.createDirectory(atPath: share + "/sub/deeper", withIntermediateDirectories: true)
        try Data("hello from the host\n".utf8).write(to: URL(fileURLWithPath: share + "/hello.txt"))
        try Data("secret\n".utf8).write(to: URL(fileURLWithPath: root + "/secret.txt"))
        try fm.createSymbolicLink(atPath: share + "/up", withDestinationPath: "../secret.txt")
        try fm.createSymbolicLink(atPath: share + "/abs", withDestinationPath: root + "/secret.txt")
        try fm.createSymbolicLink(atPath: share + "/slash", withDestinationPath: "/")
        return (root, share)
    }

    static let rdonly: UInt32 = 0, rdwr: UInt32 = 2, directory: UInt32 = 0o200000

    @Test func readsWritesAndChanges() throws {
        let (root, share) = try Self.makeShare()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let c = Client(try HostShare(path: share, readOnly: false))
        c.start()
        // Walk to a file, open it, read it.
        var r = c.walk(0, 1, ["hello.txt"])
        #expect(r.type == 111 && r.next(2) == 1)
        #expect(c.open(1, Self.rdonly).type == 13)
        #expect(c.read(1) == Array("hello from the host\n".utf8))
        #expect(c.read(1, 6, 4) == Array("from".utf8))
        r = c.getattr(1)
        #expect(r.type == 25)
        _ = r.next(8); _ = r.qid()
        #expect(r.next(4) & 0o170000 == 0o100000)              // a regular file
        _ = r.next(4); _ = r.next(4); _ = r.next(8); _ = r.next(8)
        #expect(r.next(8) == 20)                                // its size
        c.clunk(1)
        // Create a file in sub, write it, see it on the host.
        #expect(c.walk(0, 2, ["sub"]).type == 111)
        r = c.call(14, [.u32(2), .s("made.txt"), .u32(Self.rdwr | 0o100), .u32(0o644), .u32(0)])
        #expect(r.type == 15)
        r = c.call(118, [.u32(2), .u64(0), .u32(5), .raw(Array("guest".utf8))])
        #expect(r.type == 119 && r.next(4) == 5)
        #expect(FileManager.default.contents(atPath: share + "/sub/made.txt") == Data("guest".utf8))
        c.clunk(2)
        // mkdir, symlink, readlink, link, rename, truncate, unlink; the directory lists them.
        #expect(c.walk(0, 3, ["sub"]).type == 111)
        #expect(c.call(72, [.u32(3), .s("newdir"), .u32(0o755), .u32(0)]).type == 73)
        #expect(c.call(16, [.u32(3), .s("link-to-made"), .s("made.txt"), .u32(0)]).type == 17)
        #expect(c.walk(3, 4, ["link-to-made"]).type == 111)
        r = c.call(22, [.u32(4)])
        #expect(r.type == 23 && r.string() == Array("made.txt".utf8))
        #expect(c.open(4, Self.rdonly).errno == ELOOP)           // a symlink is never opened (followed) here
        #expect(c.walk(3, 5, ["made.txt"]).type == 111)
        #expect(c.call(70, [.u32(3), .u32(5), .s("hard")]).type == 71)
        #expect(c.call(74, [.u32(3), .s("hard"), .u32(0), .s("moved")]).type == 75)
        #expect(FileManager.default.contents(atPath: share + "/moved") == Data("guest".utf8))
        #expect(c.call(26, [.u32(5), .u32(0x8 | 0x1), .u32(0o600), .u32(0), .u32(0), .u64(2), .u64(0), .u64(0), .u64(0), .u64(0)]).type == 27)
        #expect(FileManager.default.contents(atPath: share + "/sub/made.txt") == Data("gu".utf8))
        let mode = try FileManager.default.attributesOfItem(atPath: share + "/sub/made.txt")[.posixPermissions] as? Int
        #expect(mode == 0o600)
        #expect(c.call(76, [.u32(0), .s("moved"), .u32(0)]).type == 77)
        #expect(!FileManager.default.fileExists(atPath: share + "/moved"))
        #expect(c.walk(0, 6, ["sub"]).type == 111 && c.open(6, Self.rdonly | Self.directory).type == 13)
        #expect(c.list(6) == [".", "..", "deeper", "link-to-made", "made.txt", "newdir"])
        // In small requests too: each resumes at the offset the last entry gave.
        c.clunk(6)
        #expect(c.walk(0, 6, ["sub"]).type == 111 && c.open(6, Self.rdonly | Self.directory).type == 13)
        #expect(c.list(6, count: 40) == [".", "..", "deeper", "link-to-made", "made.txt", "newdir"])
        // A rename of a directory carries the fids under it.
        #expect(c.walk(0, 7, ["sub", "deeper"]).type == 111)
        #expect(c.call(74, [.u32(0), .s("sub"), .u32(0), .s("renamed")]).type == 75)
        #expect(c.walk(7, 8, [".."]).type == 111)
        #expect(c.call(72, [.u32(8), .s("after"), .u32(0o755), .u32(0)]).type == 73)
        #expect(FileManager.default.fileExists(atPath: share + "/renamed/after"))
        // statfs answers; an unknown message and a malformed one are errors, not crashes.
        #expect(c.call(8, [.u32(0)]).type == 9)
        #expect(c.call(200, []).errno == EOPNOTSUPP)
        #expect(c.call(110, [.u32(0)]).errno == EPROTO)
        #expect(c.call(116, [.u32(99), .u64(0), .u32(10)]).errno == EBADF)
    }

    @Test func nothingOutsideTheShareIsReachable() throws {
        let (root, share) = try Self.makeShare()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let c = Client(try HostShare(path: share, readOnly: false))
        c.start()
        var r = c.getattr(0)
        _ = r.next(8)
        let rootQid = r.qid()
        // ".." above the root is the root, however many.
        r = c.walk(0, 1, ["..", "..", ".."])
        #expect(r.type == 111 && r.next(2) == 3)
        for _ in 0..<3 { #expect(r.qid().path == rootQid.path) }
        #expect(c.walk(1, 2, ["secret.txt"]).errno == ENOENT)
        r = c.walk(0, 2, ["..", "secret.txt"])
        #expect(r.type == 111 && r.next(2) == 1)                  // the root again, then nothing
        #expect(c.read(2) == nil)                                  // and fid 2 was not made
        // Names are one component: "a/b", "/", "." are refused where they would be resolved.
        #expect(c.walk(0, 2, ["../secret.txt"]).errno == ENOENT)
        #expect(c.walk(0, 2, ["/etc"]).errno == ENOENT)
        #expect(c.call(14, [.u32(0), .s("../escape"), .u32(Self.rdwr), .u32(0o644), .u32(0)]).errno == EINVAL)
        #expect(c.call(72, [.u32(0), .s(".."), .u32(0o755), .u32(0)]).errno == EINVAL)
        #expect(c.call(74, [.u32(0), .s("hello.txt"), .u32(0), .s("../out.txt")]).errno == EINVAL)
        #expect(!FileManager.default.fileExists(atPath: root + "/out.txt"))
        // Symlinks out are never followed: walking through one fails after it, opening one is
        // ELOOP, and the guest only ever sees their text.
        for link in ["up", "abs", "slash"] {
            r = c.walk(0, 3, [link, "etc"])
            #expect(r.type == 111 && r.next(2) == 1)        // the link itself, then nothing
            #expect(c.walk(0, 3, [link]).type == 111)
            #expect(c.open(3, Self.rdonly).errno == ELOOP)
            c.clunk(3)
        }
        // Creating through a symlink does not create outside: the name is made beside it.
        #expect(c.walk(0, 4, ["slash"]).type == 111)
        #expect(c.call(14, [.u32(4), .s("x"), .u32(Self.rdwr), .u32(0o644), .u32(0)]).errno == ENOTDIR)
        // A hard link to a symlink out links the symlink, never its target.
        #expect(c.walk(0, 5, ["abs"]).type == 111)
        #expect(c.call(70, [.u32(0), .u32(5), .s("hard-abs")]).type == 71)
        let attrs = try FileManager.default.attributesOfItem(atPath: share + "/hard-abs")
        #expect(attrs[.type] as? FileAttributeType == .typeSymbolicLink)
        // A fid held while its directory is renamed still names a file in the share, and
        // ".." from it is found from the root again.
        #expect(c.walk(0, 6, ["sub", "deeper"]).type == 111)
        #expect(c.call(74, [.u32(0), .s("sub"), .u32(0), .s("elsewhere")]).type == 75)
        r = c.walk(6, 7, ["..", "..", ".."])
        #expect(r.type == 111 && r.next(2) == 3)
        _ = r.qid(); _ = r.qid()
        #expect(r.qid().path == rootQid.path)
        // Host devices and FIFOs are never opened.
        #expect(mkfifo(share + "/fifo", 0o644) == 0)
        #expect(c.walk(0, 8, ["fifo"]).type == 111)
        #expect(c.open(8, Self.rdonly).errno == EACCES)
        #expect(c.call(18, [.u32(0), .s("dev"), .u32(0o20644), .u32(8), .u32(0), .u32(0)]).errno == EPERM)
        #expect(!FileManager.default.fileExists(atPath: share + "/dev"))
        #expect(FileManager.default.contents(atPath: root + "/secret.txt") == Data("secret\n".utf8))
    }

    @Test func readOnlyShareAndBadDirectories() throws {
        let (root, share) = try Self.makeShare()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let c = Client(try HostShare(path: share, readOnly: true))
        c.start()
        #expect(c.walk(0, 1, ["hello.txt"]).type == 111)
        #expect(c.open(1, Self.rdwr).errno == EROFS)
        #expect(c.open(1, Self.rdonly).type == 13)
        #expect(c.call(118, [.u32(1), .u64(0), .u32(1), .raw([0x41])]).errno == EBADF)
        #expect(c.call(72, [.u32(0), .s("d"), .u32(0o755), .u32(0)]).errno == EROFS)
        #expect(c.call(76, [.u32(0), .s("hello.txt"), .u32(0)]).errno == EROFS)
        #expect(FileManager.default.fileExists(atPath: share + "/hello.txt"))
        #expect(throws: HostShareError.self) { try HostShare(path: root + "/missing", readOnly: false) }
        #expect(throws: HostShareError.notDirectory(share + "/hello.txt")) { try HostShare(path: share + "/hello.txt", readOnly: false) }
        #expect(throws: HostShareError.self) { try HostShare.checkTag("a,b") }
        #expect(throws: HostShareError.self) { try HostShare.checkTag("") }
    }
}
