import VMM
import Monitor
import X86

/// softvmm's snapshot file, version 3: a whole machine, to be restored in another process.
///
///     magic          8 bytes   "SVMSNAPS"
///     version        varint    3
///     configuration  varint length, UTF-8: `MachineConfiguration.encoded`
///     images         varint count, then per image: varint name length, UTF-8 name, a
///                              varint 32 and the 32-byte SHA-256 of its contents (what the
///                              machine was booted from; a trace recorded from the snapshot
///                              names the snapshot itself)
///     point          varint icount, varint TSC
///     body           varint length, then `MachineSnapshot.body`: the state (the machine, the
///                              vCPU as the VMM's `VCPUState` in named parts, the devices,
///                              each a length-framed section), the pmap's leaves, and every
///                              resident page with its FNV-1a checksum
///     SHA-256        varint 32, then the SHA-256 of every byte before it
///
/// Reading names the offset of what is wrong: a header field, a section of the state, a
/// page whose checksum fails, or the whole file's hash.
public enum SnapshotFile {
    public static let magic: [UInt8] = Array("SVMSNAPS".utf8)
    // 2: the machine section holds a latched NMI. 3: the vCPU is the VMM's `VCPUState` (named
    // parts), no longer the interpreter's register file word by word.
    public static let version: UInt64 = 3

    public static func encode(_ snapshot: MachineSnapshot, images: [TraceImage]) -> [UInt8] {
        var s = StateCoder()
        var version = version
        s.field(&version)
        var config = Array(snapshot.configuration.encoded.utf8)
        s.raw(&config)
        var n = images.count
        s.count(&n)
        for image in images {
            var name = Array(image.name.utf8), hash = image.sha256
            s.raw(&name); s.raw(&hash)
        }
        var icount = snapshot.point.icount, ticks = snapshot.point.ticks
        s.field(&icount); s.field(&ticks)
        var body = snapshot.body()
        s.raw(&body)
        var bytes = magic + s.bytes
        var tail = StateCoder()
        var hash = SHA256.hash(bytes)
        tail.raw(&hash)
        bytes += tail.bytes
        return bytes
    }

    /// A snapshot file read back (its body not yet restored).
    public struct Contents {
        public var configuration: MachineConfiguration
        public var images: [TraceImage]
        public var point: RunPoint
        public var body: [UInt8]
        /// Where the body starts in the file (restore errors count from the file's start).
        public var bodyOffset: Int
        /// Set when the whole file's SHA-256 does not match.
        public var damage: StateError?
    }

    public static func decode(_ bytes: [UInt8]) throws(StateError) -> Contents {
        guard bytes.count >= magic.count else {
            throw StateError(offset: bytes.count, problem: "the file ends inside the magic number (not a softvmm snapshot, or cut short)")
        }
        guard Array(bytes[0..<magic.count]) == magic else {
            throw StateError(offset: 0, problem: "not a softvmm snapshot: the first 8 bytes are not \"SVMSNAPS\"")
        }
        var s = StateCoder(restoring: Array(bytes[magic.count...]), base: magic.count)
        var version: UInt64 = 0
        s.field(&version)
        if s.error == nil && version != self.version {
            let why = version < self.version ? " (an older softvmm wrote it: take the snapshot again with this one)" : ""
            throw StateError(offset: magic.count, problem: "snapshot format version \(version): this softvmm reads version \(self.version)\(why)")
        }
        let configOffset = magic.count + s.offset
        var config: [UInt8] = []
        s.raw(&config)
        var n = 0
        s.count(&n)
        var images: [TraceImage] = []
        for _ in 0..<n {
            var name: [UInt8] = [], hash: [UInt8] = []
            s.raw(&name); s.raw(&hash)
            images.append(TraceImage(name: String(decoding: name, as: UTF8.self), sha256: hash))
        }
        var icount: UInt64 = 0, ticks: UInt64 = 0
        s.field(&icount); s.field(&ticks)
        var body: [UInt8] = []
        s.raw(&body)
        let bodyOffset = magic.count + s.offset - body.count
        let hashOffset = magic.count + s.offset
        var hash: [UInt8] = []
        s.raw(&hash)
        if let e = s.error { throw StateError(offset: e.offset, problem: "the header or its end: \(e.problem)") }
        guard s.atEnd else { throw StateError(offset: magic.count + s.offset, problem: "bytes after the snapshot's end") }
        let intact = hash.count == 32 && hash == SHA256.hash(Array(bytes[0..<hashOffset]))
        let configuration: MachineConfiguration
        do { configuration = try MachineConfiguration(encoded: String(decoding: config, as: UTF8.self)) } catch {
            throw StateError(offset: configOffset, problem: "the machine configuration: \(error)")
        }
        return Contents(configuration: configuration, images: images, point: RunPoint(icount: icount, ticks: ticks),
                        body: body, bodyOffset: bodyOffset,
                        damage: intact ? nil : StateError(offset: hashOffset, problem: "the snapshot's SHA-256 does not match its contents (the file is damaged)"))
    }

    /// A machine restored from a snapshot file, ready to run on. The body is restored first,
    /// so a damaged page or state section is named where it lies; a file whose damage only
    /// the whole-file hash shows is refused after that.
    public static func restore(_ bytes: [UInt8], host: HostPhysicalMemory, serialOutput: @escaping (UInt8) -> Void) throws -> (Machine, Contents) {
        let contents = try decode(bytes)
        let machine = try Machine(configuration: contents.configuration, host: host, serialOutput: serialOutput)
        do {
            try machine.restore(body: contents.body, base: contents.bodyOffset)
            if let damage = contents.damage { throw damage }
        } catch {
            machine.teardown()
            throw error
        }
        return (machine, contents)
    }
}
