import X86

// The GDB remote serial protocol's framing (GDB manual, appendix E, "Overview"): a packet is
// `$payload#cc`, cc the payload's byte sum modulo 256 in two hex digits; the receiver answers
// `+` (received) or `-` (send again). In a payload `}` escapes the next byte (XOR 0x20), which
// `#`, `$`, `}` and `*` must be sent as; `*` after a byte repeats it (run-length encoding,
// which only replies use). Outside a packet, the byte 0x03 is an interrupt request (Ctrl-C).
//
// The client is outside the host's trust: a packet that does not end, a wrong checksum, an
// escape at the end, bytes between packets — each is an event the server answers (`-`, or an
// error reply), never a crash or unbounded memory.

/// What the bytes from the client amount to.
public enum RemoteEvent: Equatable, Sendable {
    /// A whole packet with a good checksum: its payload, unescaped.
    case packet([UInt8])
    /// Ctrl-C: stop the target.
    case interrupt
    /// `+` or `-` for the server's last packet.
    case acknowledged, resend
    /// A packet whose checksum did not match (the server answers `-`).
    case badChecksum
    /// A packet longer than the server accepts (answered `-` too; its bytes were dropped).
    case oversized
}

/// Splits the client's byte stream into events, as it arrives in pieces.
public struct RemotePacketReader {
    /// The largest payload accepted (what qSupported's PacketSize promises, with room).
    public let limit: Int
    enum Phase { case idle, payload, escaped, checksum1, checksum2 }
    var phase = Phase.idle
    var payload: [UInt8] = []
    var sum: UInt8 = 0
    var checksum: UInt8 = 0
    var tooLong = false

    public init(limit: Int = 0x4000) { self.limit = limit }

    static func hexDigit(_ b: UInt8) -> UInt8? {
        switch b {
        case 0x30...0x39: b - 0x30
        case 0x61...0x66: b - 0x61 + 10
        case 0x41...0x46: b - 0x41 + 10
        default: nil
        }
    }

    /// The events the bytes complete.
    public mutating func feed<C: Sequence>(_ bytes: C) -> [RemoteEvent] where C.Element == UInt8 {
        var events: [RemoteEvent] = []
        for b in bytes {
            switch phase {
            case .idle:
                switch b {
                case 0x24: (phase, payload, sum, tooLong) = (.payload, [], 0, false)
                case 0x03: events.append(.interrupt)
                case 0x2B: events.append(.acknowledged)
                case 0x2D: events.append(.resend)
                default: break      // noise between packets is dropped, as gdb's own stub does
                }
            case .payload, .escaped:
                if b == 0x23 && phase == .payload {
                    phase = .checksum1
                    continue
                }
                if b == 0x24 && phase == .payload {
                    // A new packet before this one ended: this one is lost (gdb resends it).
                    (payload, sum, tooLong) = ([], 0, false)
                    events.append(.badChecksum)
                    continue
                }
                sum &+= b
                var byte = b
                if phase == .escaped {
                    byte ^= 0x20
                    phase = .payload
                } else if b == 0x7D {
                    phase = .escaped
                    continue
                }
                if payload.count < limit { payload.append(byte) } else { tooLong = true }
            case .checksum1:
                guard let d = Self.hexDigit(b) else { phase = .idle; events.append(.badChecksum); continue }
                checksum = d << 4
                phase = .checksum2
            case .checksum2:
                phase = .idle
                guard let d = Self.hexDigit(b), checksum | d == sum else { events.append(.badChecksum); continue }
                events.append(tooLong ? .oversized : .packet(payload))
                payload = []
            }
        }
        return events
    }
}

/// A packet on the wire for `payload`, escaped and with its checksum.
public func remotePacket(_ payload: [UInt8]) -> [UInt8] {
    var out: [UInt8] = [0x24]
    var sum: UInt8 = 0
    for b in payload {
        if b == 0x23 || b == 0x24 || b == 0x7D || b == 0x2A {
            out += [0x7D, b ^ 0x20]
            sum &+= 0x7D &+ (b ^ 0x20)
        } else {
            out.append(b)
            sum &+= b
        }
    }
    let hex = Array("0123456789abcdef".utf8)
    return out + [0x23, hex[Int(sum >> 4)], hex[Int(sum & 0xF)]]
}

public func remotePacket(_ text: String) -> [UInt8] { remotePacket(Array(text.utf8)) }

/// Hex as the protocol writes memory and registers: two lowercase digits a byte.
public enum RemoteHex {
    static let digits = Array("0123456789abcdef".utf8)

    public static func encode<C: Sequence>(_ bytes: C) -> String where C.Element == UInt8 {
        var out: [UInt8] = []
        for b in bytes { out += [digits[Int(b >> 4)], digits[Int(b & 0xF)]] }
        return String(decoding: out, as: UTF8.self)
    }

    /// The bytes of an even-length hex string, or nil.
    public static func decode<C: Collection>(_ text: C) -> [UInt8]? where C.Element == UInt8 {
        guard text.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(text.count / 2)
        var high: UInt8?
        for c in text {
            guard let d = RemotePacketReader.hexDigit(c) else { return nil }
            if let h = high { out.append(h << 4 | d); high = nil } else { high = d }
        }
        return out
    }

    /// A number in hex (addresses, lengths, register numbers), or nil.
    public static func number<C: Collection>(_ text: C) -> UInt64? where C.Element == UInt8 {
        guard !text.isEmpty, text.count <= 16 else { return nil }
        var v: UInt64 = 0
        for c in text {
            guard let d = RemotePacketReader.hexDigit(c) else { return nil }
            v = v << 4 | UInt64(d)
        }
        return v
    }
}
