import Foundation
import Replay
import Testing

@Suite struct TraceFormatTests {
    static let header = TraceHeader(configuration: "-m 64M --cpu max --append console=ttyS0",
                                    images: [TraceImage(name: "kernel", contents: Array("kernel bytes".utf8))])
    static let events: [TraceEvent] = [
        .input(icount: 1234, ticks: 9_000_000, device: 0, byte: 0x41),
        .exit(icount: 5000, kind: 0, rip: 0x100020, a: 0x3F8 | 1 << 16, b: 0x41),
        .fault(icount: 5001, gpa: 0xFEE0_0000, access: 1, outcome: 3, detail: 0x30),
        // The same exit again (a repeat record), then once more after a lower RIP (a negative
        // difference) and a differing value.
        .exit(icount: 5007, kind: 0, rip: 0x100020, a: 0x3F8 | 1 << 16, b: 0x41),
        .exit(icount: 5007, kind: 0, rip: 0x100020, a: 0x3F8 | 1 << 16, b: 0x41),
        .exit(icount: 5020, kind: 0, rip: 0xFFF0, a: 0x3F8 | 1 << 16, b: 0x42),
        .exit(icount: UInt64.max, kind: 6, rip: 0xFFFF_FFFF_8100_0000, a: 0x6E0, b: UInt64.max),
        // A shared directory's reply (an Rversion), then one with no bytes, then an exit
        // again (its RIP's difference from the exit before the replies).
        TraceEvent(share: 1, request: [0x13, 0, 0, 0, 100, 0xFF, 0xFF], reply: [0x15, 0, 0, 0, 101, 0xFF, 0xFF] + Array(repeating: 7, count: 14), icount: 3),
        .host(icount: 3, share: 0, request: 0, reply: []),
        .exit(icount: 5, kind: 0, rip: 0xFFFF_FFFF_8100_0010, a: 1, b: 2),
    ]

    static var bytes: [UInt8] {
        let w = TraceWriter(header: header)
        for e in events { w.append(e) }
        return w.finished(icount: 99_999)
    }

    @Test func roundTrip() throws {
        let t = try Trace(bytes: TraceFormatTests.bytes)
        #expect(t.header == TraceFormatTests.header)
        #expect(t.events == TraceFormatTests.events)
        #expect(t.finalICount == 99_999)
    }

    /// A polling loop's exits: each repeat of the previous exit takes two bytes.
    @Test func repeatedExitsAreShort() throws {
        let w = TraceWriter(header: TraceFormatTests.header)
        let start = w.bytes.count
        var events: [TraceEvent] = []
        for i in 0..<1000 { events.append(.exit(icount: 100 + 3 * UInt64(i), kind: 0, rip: 0x1000E1, a: 0x3F8 | 1 << 16, b: 10)) }
        for e in events { w.append(e) }
        #expect(w.bytes.count - start <= 12 + 999 * 2)
        #expect(try Trace(bytes: w.finished(icount: 5000)).events == events)
    }

    /// The oracle: coreutils' sha256sum on the same bytes.
    @Test func sha256AgreesWithSha256sum() throws {
        for n in [0, 1, 55, 56, 63, 64, 65, 1000] {
            let data = (0..<n).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
            let url = FileManager.default.temporaryDirectory.appendingPathComponent("sha-\(n)-\(getpid())")
            try Data(data).write(to: url)
            defer { try? FileManager.default.removeItem(at: url) }
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/sha256sum")
            p.arguments = [url.path]
            let pipe = Pipe()
            p.standardOutput = pipe
            try p.run()
            p.waitUntilExit()
            let out = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            #expect(SHA256.hex(SHA256.hash(data)) == String(out.prefix(64)), "\(n) bytes")
        }
    }

    /// Every prefix of a trace is an error that says it was cut short, at the offset where the
    /// bytes ran out; none is read as a complete trace.
    @Test func everyTruncationIsNamed() {
        let full = TraceFormatTests.bytes
        for n in 0..<full.count {
            do {
                _ = try Trace(bytes: Array(full.prefix(n)))
                Issue.record("a \(n)-byte prefix read as a whole trace")
            } catch {
                guard case .truncated(_, let offset) = error else { Issue.record("prefix \(n): \(error)"); continue }
                #expect(offset <= n, "prefix \(n): offset \(offset)")
            }
        }
    }

    @Test func badHeadersAreNamed() {
        var b = TraceFormatTests.bytes
        b[0] = UInt8(ascii: "X")
        #expect(throws: TraceError.badMagic) { try Trace(bytes: b) }
        b = TraceFormatTests.bytes
        b[8] = 2
        #expect(throws: TraceError.unsupportedVersion(2)) { try Trace(bytes: b) }
        b = TraceFormatTests.bytes + [0]
        #expect(throws: TraceError.trailingBytes(offset: TraceFormatTests.bytes.count)) { try Trace(bytes: b) }
    }

    @Test func imagesAreChecked() throws {
        let t = try Trace(bytes: TraceFormatTests.bytes)
        try t.check(images: [("kernel", Array("kernel bytes".utf8))])
        #expect(throws: TraceError.self) { try t.check(images: [("kernel", Array("other bytes".utf8))]) }
        // The error names the image and the offset of the recorded hash, which is there.
        let offset = try #require(t.imageHashOffsets.first)
        #expect(Array(TraceFormatTests.bytes[offset..<offset + 32]) == SHA256.hash(Array("kernel bytes".utf8)))
        #expect(throws: TraceError.imageMismatch(name: "kernel", expected: SHA256.hex(SHA256.hash(Array("kernel bytes".utf8))),
                                                 actual: SHA256.hex(SHA256.hash([1, 2, 3])), offset: offset)) {
            try t.check(images: [("kernel", [1, 2, 3])])
        }
        #expect(throws: TraceError.imageCount(recorded: 1, given: 2, offset: t.imageCountOffset)) {
            try t.check(images: [("kernel", Array("kernel bytes".utf8)), ("initrd", [])])
        }
        let message = "\(TraceError.imageMismatch(name: "kernel", expected: "aa", actual: "bb", offset: offset))"
        #expect(message.contains("kernel") && message.contains("offset \(offset)"))
    }

    /// Random corruption of any byte is read or refused with a typed error, never a crash.
    @Test func corruptionIsATypedError() {
        let full = TraceFormatTests.bytes
        var seed: UInt64 = 0x5EED
        for _ in 0..<2000 {
            seed = seed &* 6364136223846793005 &+ 1442695040888963407
            var b = full
            let i = Int((seed >> 33) % UInt64(b.count))
            b[i] ^= UInt8(truncatingIfNeeded: seed >> 13) | 1
            _ = try? Trace(bytes: b)
        }
    }
}
