import VMM
import Monitor
import X86

/// softvmm's trace format, version 1: what a recorded run needs to be replayed and checked.
///
///     header
///       magic          8 bytes   "SVMTRACE"
///       version        2 bytes   little-endian, 1
///       configuration  varint length, then UTF-8: the run's settings in `softvmm run`'s
///                                spelling (memory, CPU model, command line, ...), which replay
///                                uses to rebuild the same machine
///       images         1 byte count, then per image: varint name length, UTF-8 name,
///                                32-byte SHA-256 of its contents (kernel, initrd)
///     events, one after another, each a tag byte then unsigned LEB128 varints:
///       1 input        icount, TSC, device (0: COM1's receiver), byte: an input through the
///                      machine's seam and the point it arrived at (a halted vCPU's count
///                      stands still while time passes, so the point needs both)
///       2 exit         icount, kind (VMExit.kindNames index), RIP (see below), a, b
///                      (io: a = port | size << 16 | in << 24, b = OUT's value;
///                       mmio/unbacked: a = GPA, b = 1 for a write; rdmsr/wrmsr: a = index,
///                       b = WRMSR's value; others: 0, 0)
///       3 fault        icount, GPA, access (0 read, 1 write, 2 fetch), outcome (0 entered,
///                      1 accessed/dirty, 2 spurious, 3 MMIO assist, 4 protection, 5 unbacked,
///                      6 copied on write), detail (entered, copied: the host-physical
///                      address; MMIO: the offset in the device's range; others: 0)
///       4 repeat       icount: an exit like the previous exit in every field but the count
///                      (a polling loop's exits: one or two bytes each)
///       5 vcpu         icount, vCPU index: another vCPU's turn begins (`--smp` only); the
///                      events after it are that vCPU's
///       6 host         icount, share index, the request's FNV-1a hash, the reply's length,
///                      then the reply's bytes: a shared directory's server answered the
///                      guest (`--share`); a replay gives the guest this reply
///       255 end        event count (the events before it), final icount
///
/// Each event's icount is written as its difference from the previous event's (wrapping, the
/// first from 0): a byte or two where the count itself takes three or more. An exit's RIP is
/// written as its difference from the previous exit's, zigzag-encoded ((d << 1) ^ (d >> 63),
/// so that small steps either way are small numbers): a loop's exits repeat their RIP.
/// The icount is the retired-instruction count when the event happened (with several vCPUs,
/// all of theirs together: the run's count), so an input fed back at the same count lands at
/// the same point of the guest's execution.
/// A trace without its end record was cut short; every reading error names the byte offset.
public enum TraceFormat {
    public static let magic: [UInt8] = Array("SVMTRACE".utf8)
    public static let version: UInt16 = 1
}

public struct TraceImage: Equatable, Sendable {
    public var name: String
    public var sha256: [UInt8]
    public init(name: String, sha256: [UInt8]) { (self.name, self.sha256) = (name, sha256) }
    public init(name: String, contents: [UInt8]) { self.init(name: name, sha256: SHA256.hash(contents)) }
}

public struct TraceHeader: Equatable, Sendable {
    public var configuration: String
    public var images: [TraceImage]
    public init(configuration: String, images: [TraceImage]) { (self.configuration, self.images) = (configuration, images) }
}

public enum TraceEvent: Equatable, Sendable, CustomStringConvertible {
    case input(icount: UInt64, ticks: UInt64, device: UInt64, byte: UInt8)
    case exit(icount: UInt64, kind: UInt64, rip: UInt64, a: UInt64, b: UInt64)
    case fault(icount: UInt64, gpa: UInt64, access: UInt64, outcome: UInt64, detail: UInt64)
    /// Another vCPU's turn begins.
    case vcpu(icount: UInt64, index: UInt64)
    /// A shared directory's server answered a request (its hash) with `reply`.
    case host(icount: UInt64, share: UInt64, request: UInt64, reply: [UInt8])

    public var icount: UInt64 {
        switch self {
        case .input(let i, _, _, _), .exit(let i, _, _, _, _), .fault(let i, _, _, _, _), .vcpu(let i, _), .host(let i, _, _, _): i
        }
    }

    /// A request's hash in a host event (FNV-1a, 64 bits).
    public static func hash(_ bytes: [UInt8]) -> UInt64 {
        bytes.reduce(0xCBF2_9CE4_8422_2325) { ($0 ^ UInt64($1)) &* 0x100_0000_01B3 }
    }

    /// A host event for a reply.
    public init(share: Int, request: [UInt8], reply: [UInt8], icount: UInt64) {
        self = .host(icount: icount, share: UInt64(share), request: TraceEvent.hash(request), reply: reply)
    }

    /// Exit kinds by their number in the trace (the VMM's own order).
    public static var exitKinds: [String] { VMExit.kindNames }
    public static let accesses = ["read", "write", "fetch"]
    public static let outcomes = ["entered", "accessed-dirty", "spurious", "mmio-assist", "protection", "unbacked", "copied"]

    static func name(_ table: [String], _ i: UInt64) -> String { i < table.count ? table[Int(i)] : "#\(i)" }

    public var description: String {
        switch self {
        case .input(let i, let t, let d, let b):
            let device = InputDevice(rawValue: UInt8(truncatingIfNeeded: d)).map { "\($0)" } ?? "device \(d)"
            return "\(i) input \(device) \(paddedHex(UInt64(b), 2)) tsc \(t)"
        case .exit(let i, let k, let rip, let a, let b):
            let kind = TraceEvent.name(TraceEvent.exitKinds, k)
            var text = "\(i) exit \(kind) rip \(hex(rip))"
            switch kind {
            case "io":
                let port = a & 0xFFFF, size = (a >> 16) & 0xFF, isIn = (a >> 24) & 1 != 0
                text += isIn ? " in port \(paddedHex(port, 4)) size \(size)" : " out port \(paddedHex(port, 4)) size \(size) value \(hex(b))"
            case "mmio", "unbacked": text += " gpa \(hex(a)) \(b != 0 ? "write" : "read")"
            case "rdmsr": text += " msr \(hex(a))"
            case "wrmsr": text += " msr \(hex(a)) value \(hex(b))"
            default: break
            }
            return text
        case .fault(let i, let g, let a, let o, let d):
            let detail = o == 0 || o == 6 ? " hpa \(hex(d))" : o == 3 ? " offset \(hex(d))" : ""
            return "\(i) fault gpa \(hex(g)) \(TraceEvent.name(TraceEvent.accesses, a)) \(TraceEvent.name(TraceEvent.outcomes, o))\(detail)"
        case .vcpu(let i, let n):
            return "\(i) vcpu \(n)"
        case .host(let i, let n, let h, let reply):
            let type = reply.count > 4 ? " type \(reply[4])" : ""
            return "\(i) host share \(n) request \(paddedHex(h, 16)) reply \(reply.count) bytes\(type)"
        }
    }

    /// The event as one JSON object (for `softvmm trace show --json`).
    public var json: String {
        switch self {
        case .input(let i, let t, let d, let b): "{\"icount\":\(i),\"event\":\"input\",\"tsc\":\(t),\"device\":\(d),\"byte\":\(b)}"
        case .exit(let i, let k, let rip, let a, let b):
            "{\"icount\":\(i),\"event\":\"exit\",\"kind\":\"\(TraceEvent.name(TraceEvent.exitKinds, k))\",\"rip\":\(rip),\"a\":\(a),\"b\":\(b)}"
        case .fault(let i, let g, let a, let o, let d):
            "{\"icount\":\(i),\"event\":\"fault\",\"gpa\":\(g),\"access\":\"\(TraceEvent.name(TraceEvent.accesses, a))\",\"outcome\":\"\(TraceEvent.name(TraceEvent.outcomes, o))\",\"detail\":\(d)}"
        case .vcpu(let i, let n): "{\"icount\":\(i),\"event\":\"vcpu\",\"vcpu\":\(n)}"
        case .host(let i, let n, let h, let reply):
            "{\"icount\":\(i),\"event\":\"host\",\"share\":\(n),\"request\":\(h),\"reply\":\"\(reply.map { paddedHex(UInt64($0), 2) }.joined())\"}"
        }
    }
}

/// A trace that cannot be read, with the byte offset where reading stopped.
public enum TraceError: Error, Equatable, CustomStringConvertible {
    case badMagic
    case unsupportedVersion(UInt16)
    case truncated(what: String, offset: Int)
    case badVarint(offset: Int)
    case badTag(UInt8, offset: Int)
    case badText(what: String, offset: Int)
    case badEnd(recorded: UInt64, read: Int, offset: Int)
    case trailingBytes(offset: Int)
    case imageMismatch(name: String, expected: String, actual: String, offset: Int)
    case imageCount(recorded: Int, given: Int, offset: Int)
    case badConfiguration(String, offset: Int)

    public var description: String {
        switch self {
        case .badMagic: "not a softvmm trace: the first 8 bytes are not \"SVMTRACE\" (offset 0)"
        case .unsupportedVersion(let v): "trace format version \(v) at offset 8: this softvmm reads version \(TraceFormat.version)"
        case .truncated(let what, let o): "the trace ends inside \(what) at offset \(o) (cut short?)"
        case .badVarint(let o): "a number longer than 64 bits at offset \(o)"
        case .badTag(let t, let o): "unknown event tag \(t) at offset \(o)"
        case .badText(let what, let o): "\(what) at offset \(o) is not UTF-8"
        case .badEnd(let r, let n, let o): "the end record at offset \(o) counts \(r) events, but \(n) precede it"
        case .trailingBytes(let o): "bytes after the end record, from offset \(o)"
        case .imageMismatch(let name, let e, let a, let o):
            "\(name) is not the image the trace was recorded with: its SHA-256 is \(a), the trace's (at offset \(o)) is \(e)"
        case .imageCount(let r, let g, let o): "the trace names \(r) images (count at offset \(o)), but \(g) were given"
        case .badConfiguration(let why, let o): "the machine configuration at offset \(o) cannot be read: \(why)"
        }
    }
}

/// Builds a trace in memory. Bytes are appended through a raw pointer, with room made once
/// per event: a recorder writes several varints on every exit, and an array's uniqueness
/// and capacity checks per byte were most of recording's cost.
public final class TraceWriter {
    private var base: UnsafeMutablePointer<UInt8>
    private var capacity = 1 << 16
    private var length = 0
    public private(set) var count = 0
    var lastICount: UInt64 = 0
    /// Where full chunks go (a file), or nil to keep the whole trace in memory.
    let sink: ((UnsafeRawBufferPointer) -> Void)?
    /// The trace so far, or what `sink` has not been given yet (without the end record).
    public var bytes: [UInt8] { Array(UnsafeBufferPointer(start: base, count: length)) }

    /// With a `sink`, the trace leaves in chunks of 1 MiB as it is recorded (the memory
    /// stays small); `finished` returns what is left.
    public init(header: TraceHeader, sink: ((UnsafeRawBufferPointer) -> Void)? = nil) {
        self.sink = sink
        if sink != nil { capacity = TraceWriter.chunk + 4096 }
        base = .allocate(capacity: capacity)
        append(contentsOf: TraceFormat.magic)
        append(contentsOf: [UInt8(TraceFormat.version & 0xFF), UInt8(TraceFormat.version >> 8)])
        text(header.configuration)
        append(contentsOf: [UInt8(header.images.count)])
        for image in header.images {
            text(image.name)
            append(contentsOf: image.sha256)
        }
    }

    deinit { base.deallocate() }

    /// Room for `n` more bytes.
    @inline(__always)
    func reserve(_ n: Int) {
        if _slowPath(capacity - length < n) { grow(n) }
    }

    /// Gives the sink what has been recorded (a recorder about to stop, or at a checkpoint).
    public func flush() {
        if let sink, length > 0 {
            sink(UnsafeRawBufferPointer(start: base, count: length))
            length = 0
        }
    }

    static let chunk = 1 << 20

    @inline(never)
    func grow(_ n: Int) {
        if let sink, length > 0 {
            sink(UnsafeRawBufferPointer(start: base, count: length))
            length = 0
            if capacity >= n { return }
        }
        while capacity - length < n { capacity *= 2 }
        let b = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity)
        b.update(from: base, count: length)
        base.deallocate()
        base = b
    }

    func append(contentsOf bytes: [UInt8]) {
        reserve(bytes.count)
        (base + length).update(from: bytes, count: bytes.count)
        length += bytes.count
    }

    /// Unsigned LEB128 at `p` (room already made: at most 10 bytes); returns the next byte.
    @inline(__always)
    static func varint(_ v: UInt64, at p: UnsafeMutablePointer<UInt8>) -> UnsafeMutablePointer<UInt8> {
        var v = v, p = p
        while v >= 0x80 {
            p.pointee = UInt8(truncatingIfNeeded: v) | 0x80
            p += 1
            v >>= 7
        }
        p.pointee = UInt8(truncatingIfNeeded: v)
        return p + 1
    }

    /// An event: its tag, then its fields as varints, the first (the icount) as the difference
    /// from the previous event's.
    @inline(__always)
    func record(_ tag: UInt8, _ icount: UInt64, _ f1: UInt64, _ f2: UInt64, _ f3: UInt64, _ f4: UInt64?) {
        reserve(1 + 5 * 10)
        var p = base + length
        p.pointee = tag
        p = TraceWriter.varint(icount &- lastICount, at: p + 1)
        p = TraceWriter.varint(f1, at: p)
        p = TraceWriter.varint(f2, at: p)
        p = TraceWriter.varint(f3, at: p)
        if let f4 { p = TraceWriter.varint(f4, at: p) }
        length = p - base
        lastICount = icount
        count += 1
    }

    /// A vCPU switch (tag 5): the icount's difference and the vCPU.
    public func appendSwitch(icount: UInt64, vcpu: UInt64) {
        reserve(1 + 2 * 10)
        var p = base + length
        p.pointee = 5
        p = TraceWriter.varint(icount &- lastICount, at: p + 1)
        p = TraceWriter.varint(vcpu, at: p)
        length = p - base
        lastICount = icount
        count += 1
    }

    func text(_ s: String) {
        let utf8 = Array(s.utf8)
        reserve(10)
        length = TraceWriter.varint(UInt64(utf8.count), at: base + length) - base
        append(contentsOf: utf8)
    }

    /// An exit event, written field by field (the recorder's path: no event value built).
    @inline(__always)
    public func appendExit(icount: UInt64, kind: UInt64, rip: UInt64, a: UInt64, b: UInt64) {
        if kind == lastExit.kind && rip == lastRIP && a == lastExit.a && b == lastExit.b && count > 0 {
            reserve(11)
            (base + length).pointee = 4
            length = TraceWriter.varint(icount &- lastICount, at: base + length + 1) - base
            lastICount = icount
            count += 1
            return
        }
        record(2, icount, kind, zigzag(rip &- lastRIP), a, b)
        lastRIP = rip
        lastExit = (kind, a, b)
    }
    var lastRIP: UInt64 = 0
    /// The previous exit's fields (a repeat of it is written short); kind ~0 before the first.
    var lastExit: (kind: UInt64, a: UInt64, b: UInt64) = (~0, 0, 0)

    @inline(__always)
    func zigzag(_ d: UInt64) -> UInt64 { d << 1 ^ UInt64(bitPattern: Int64(bitPattern: d) >> 63) }

    public func append(_ event: TraceEvent) {
        switch event {
        case .input(let i, let t, let d, let b): record(1, i, t, d, UInt64(b), nil)
        case .exit(let i, let k, let rip, let a, let b): appendExit(icount: i, kind: k, rip: rip, a: a, b: b)
        case .fault(let i, let g, let a, let o, let d): record(3, i, g, a, o, d)
        case .vcpu(let i, let n): appendSwitch(icount: i, vcpu: n)
        case .host(let i, let n, let h, let reply):
            record(6, i, n, h, UInt64(reply.count), nil)
            append(contentsOf: reply)
        }
    }

    /// The trace with its end record.
    public func finished(icount: UInt64) -> [UInt8] {
        var end = [UInt8](repeating: 0, count: 21)
        let n = end.withUnsafeMutableBufferPointer { b in
            var p = b.baseAddress!
            p.pointee = 255
            p = TraceWriter.varint(UInt64(count), at: p + 1)
            p = TraceWriter.varint(icount, at: p)
            return p - b.baseAddress!
        }
        var out = [UInt8]()
        out.reserveCapacity(length + n)
        out.append(contentsOf: UnsafeBufferPointer(start: base, count: length))
        out.append(contentsOf: end[0..<n])
        return out
    }
}

/// A trace read back: header, events and the final instruction count.
public struct Trace: Equatable, Sendable {
    public var header: TraceHeader
    public var events: [TraceEvent]
    public var finalICount: UInt64
    /// Where each image's SHA-256 lies in the file, and the image count (for error messages).
    public private(set) var imageHashOffsets: [Int] = []
    public private(set) var imageCountOffset = 0
    /// The configuration text's offset (its length varint): right after the magic and version.
    public static let configurationOffset = 10

    public init(header: TraceHeader, events: [TraceEvent], finalICount: UInt64) {
        (self.header, self.events, self.finalICount) = (header, events, finalICount)
    }

    public init(bytes: [UInt8]) throws(TraceError) {
        var r = Reader(bytes: bytes)
        guard bytes.count >= 8 else {
            if Array(bytes) == Array(TraceFormat.magic.prefix(bytes.count)) { throw .truncated(what: "the magic number", offset: bytes.count) }
            throw .badMagic
        }
        guard Array(bytes[0..<8]) == TraceFormat.magic else { throw .badMagic }
        r.offset = 8
        let version = UInt16(try r.byte("the version")) | UInt16(try r.byte("the version")) << 8
        guard version == TraceFormat.version else { throw .unsupportedVersion(version) }
        let configuration = try r.text("the configuration")
        imageCountOffset = r.offset
        let imageCount = try r.byte("the image count")
        var images: [TraceImage] = []
        for _ in 0..<imageCount {
            let name = try r.text("an image name")
            imageHashOffsets.append(r.offset)
            images.append(TraceImage(name: name, sha256: try r.take(32, "an image hash")))
        }
        header = TraceHeader(configuration: configuration, images: images)
        events = []
        var last: UInt64 = 0, lastRIP: UInt64 = 0
        var lastExitEvent: TraceEvent?
        while true {
            if let e = events.last { last = e.icount }
            let at = r.offset
            let tag = try r.byte("an event tag (no end record)")
            switch tag {
            case 1:
                let i = last &+ (try r.varint("an input event")), t = try r.varint("an input event")
                let d = try r.varint("an input event"), b = try r.varint("an input event")
                events.append(.input(icount: i, ticks: t, device: d, byte: UInt8(truncatingIfNeeded: b)))
            case 2:
                let i = last &+ (try r.varint("an exit event")), k = try r.varint("an exit event")
                let z = try r.varint("an exit event")
                let rip = lastRIP &+ (z >> 1 ^ (0 &- (z & 1)))
                lastRIP = rip
                let a = try r.varint("an exit event"), b = try r.varint("an exit event")
                events.append(.exit(icount: i, kind: k, rip: rip, a: a, b: b))
                lastExitEvent = events.last
            case 3:
                let i = last &+ (try r.varint("a fault event")), g = try r.varint("a fault event")
                let a = try r.varint("a fault event"), o = try r.varint("a fault event"), d = try r.varint("a fault event")
                events.append(.fault(icount: i, gpa: g, access: a, outcome: o, detail: d))
            case 4:
                let i = last &+ (try r.varint("a repeated exit"))
                guard let previous = lastExitEvent, case .exit(_, let k, let rip, let a, let b) = previous else {
                    throw .badTag(tag, offset: at)
                }
                events.append(.exit(icount: i, kind: k, rip: rip, a: a, b: b))
            case 5:
                let i = last &+ (try r.varint("a vcpu event")), n = try r.varint("a vcpu event")
                events.append(.vcpu(icount: i, index: n))
            case 6:
                let i = last &+ (try r.varint("a host event")), n = try r.varint("a host event")
                let h = try r.varint("a host event"), length = try r.varint("a host event")
                guard length <= UInt64(bytes.count - r.offset) else { throw .truncated(what: "a host event's reply", offset: bytes.count) }
                events.append(.host(icount: i, share: n, request: h, reply: try r.take(Int(length), "a host event's reply")))
            case 255:
                let n = try r.varint("the end record")
                finalICount = try r.varint("the end record")
                guard n == UInt64(events.count) else { throw .badEnd(recorded: n, read: events.count, offset: at) }
                guard r.offset == bytes.count else { throw .trailingBytes(offset: r.offset) }
                return
            default:
                throw .badTag(tag, offset: at)
            }
        }
    }

    /// Checks that `images` (name, contents) are the ones the trace was recorded with.
    public func check(images: [(name: String, contents: [UInt8])]) throws(TraceError) {
        if header.images.count != images.count {
            throw .imageCount(recorded: header.images.count, given: images.count, offset: imageCountOffset)
        }
        for (i, (recorded, given)) in zip(header.images, images).enumerated() {
            let actual = SHA256.hash(given.contents)
            if actual != recorded.sha256 {
                throw .imageMismatch(name: given.name, expected: SHA256.hex(recorded.sha256), actual: SHA256.hex(actual),
                                     offset: i < imageHashOffsets.count ? imageHashOffsets[i] : 0)
            }
        }
    }

    struct Reader {
        let bytes: [UInt8]
        var offset = 0

        mutating func byte(_ what: String) throws(TraceError) -> UInt8 {
            guard offset < bytes.count else { throw .truncated(what: what, offset: offset) }
            offset += 1
            return bytes[offset - 1]
        }

        mutating func varint(_ what: String) throws(TraceError) -> UInt64 {
            let start = offset
            var v: UInt64 = 0, shift: UInt64 = 0
            while true {
                let b = try byte(what)
                if shift == 63 && b > 1 || shift > 63 { throw .badVarint(offset: start) }
                v |= UInt64(b & 0x7F) << shift
                if b & 0x80 == 0 { return v }
                shift += 7
            }
        }

        mutating func take(_ n: Int, _ what: String) throws(TraceError) -> [UInt8] {
            guard bytes.count - offset >= n else { throw .truncated(what: what, offset: bytes.count) }
            offset += n
            return Array(bytes[offset - n..<offset])
        }

        mutating func text(_ what: String) throws(TraceError) -> String {
            let n = try varint(what)
            guard n <= UInt64(bytes.count - offset) else { throw .truncated(what: what, offset: bytes.count) }
            let at = offset
            let raw = try take(Int(n), what)
            guard let s = String(validating: raw, as: UTF8.self) else { throw .badText(what: what, offset: at) }
            return s
        }
    }
}
