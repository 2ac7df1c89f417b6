import Testing
import X86
import GuestMemory
@testable import NestedPaging

/// A deliberately simple reference model of a pmap: sorted, non-overlapping extents
/// of guest physical memory, each mapping to contiguous host memory with one protection.
struct ModelPmap {
    struct Extent { var gpa: UInt64; var length: UInt64; var hpa: UInt64; var prot: Protection }
    var extents: [Extent] = []

    /// Cuts [start, end) out of every extent.
    mutating func carve(_ start: UInt64, _ end: UInt64) {
        var out: [Extent] = []
        for x in extents {
            let xEnd = x.gpa + x.length
            if xEnd <= start || x.gpa >= end { out.append(x); continue }
            if x.gpa < start { out.append(Extent(gpa: x.gpa, length: start - x.gpa, hpa: x.hpa, prot: x.prot)) }
            if xEnd > end { out.append(Extent(gpa: end, length: xEnd - end, hpa: x.hpa + (end - x.gpa), prot: x.prot)) }
        }
        extents = out.sorted { $0.gpa < $1.gpa }
    }

    mutating func enter(_ gpa: UInt64, _ hpa: UInt64, _ prot: Protection, _ size: UInt64) {
        carve(gpa, gpa + size)
        extents.append(Extent(gpa: gpa, length: size, hpa: hpa, prot: prot))
        extents.sort { $0.gpa < $1.gpa }
    }

    mutating func protect(_ start: UInt64, _ end: UInt64, _ prot: Protection) {
        let inside = extents.compactMap { x -> Extent? in
            let lo = max(x.gpa, start), hi = min(x.gpa + x.length, end)
            return lo < hi ? Extent(gpa: lo, length: hi - lo, hpa: x.hpa + (lo - x.gpa), prot: prot) : nil
        }
        carve(start, end)
        extents = (extents + inside).sorted { $0.gpa < $1.gpa }
    }

    func extract(_ g: UInt64) -> (hpa: UInt64, prot: Protection)? {
        for x in extents where g >= x.gpa && g < x.gpa + x.length { return (x.hpa + (g - x.gpa), x.prot) }
        return nil
    }

    var mappedBytes: UInt64 { extents.reduce(0) { $0 + $1.length } }
}

@Suite struct PmapAgainstModel {
    static let seeds: [UInt64] = [1, 2, 3, 4, 5, 6]

    /// Long mixed sequences of enter, remove, protect, extract and translate, in both formats,
    /// both A/D modes and all three page sizes, checked against the model after every step.
    @Test(arguments: PmapFormat.allCases, [AccessedDirtyMode.hardware, .emulated])
    func randomSequences(format: PmapFormat, mode: AccessedDirtyMode) throws {
        for seed in Self.seeds {
            try run(seed: seed, format: format, mode: mode, steps: 1500)
        }
    }

    func run(seed: UInt64, format: PmapFormat, mode: AccessedDirtyMode, steps: Int) throws {
        var rng = SplitMix64(seed: seed &* 0x9E37 &+ (format == .ept ? 0 : 1) &+ (mode == .hardware ? 0 : 2))
        let host = try HostPhysicalMemory(frames: 1 << 14)
        let pmap = try Pmap(format: format, adMode: mode, host: host)
        var model = ModelPmap()
        let window: UInt64 = 4 << 30 // four 1 GiB slots
        let rights: [Protection] = format == .ept
            ? [.read, [.read, .write], [.read, .execute], .all, .execute]
            : [.read, [.read, .write], [.read, .execute], .all]
        let where_ = "seed \(seed), \(format), \(mode)"
        for step in 0..<steps {
            let op = rng.next() % 10
            let size: PageSize = [.size4K, .size4K, .size4K, .size2M, .size2M, .size1G][Int(rng.next() % 6)]
            let gpa = rng.next() % window & ~(size.bytes - 1)
            switch op {
            case 0...4:
                let hpa = (rng.next() % (1 << 40)) & ~(size.bytes - 1)
                let prot = rights[Int(rng.next() % UInt64(rights.count))]
                try pmap.enter(GuestPhysicalAddress(gpa), HostPhysicalAddress(hpa), prot, size: size)
                model.enter(gpa, hpa, prot, size.bytes)
            case 5, 6:
                let len = (rng.next() % 1024 + 1) * Page.size * (rng.next() % 4 == 0 ? 512 : 1)
                let start = rng.next() % window & ~Page.mask
                let gen = pmap.generation
                try pmap.remove(GuestPhysicalAddress(start), length: len)
                model.carve(start, start + len)
                #expect(pmap.generation != gen, "\(where_), step \(step): remove bumps the generation")
            case 7:
                let len = (rng.next() % 1024 + 1) * Page.size
                let start = rng.next() % window & ~Page.mask
                let prot = rights[Int(rng.next() % UInt64(rights.count))]
                try pmap.protect(GuestPhysicalAddress(start), length: len, prot)
                model.protect(start, start + len, prot)
            default:
                break
            }
            // Probe: random points, and the edges of the last operation.
            var probes = (0..<12).map { _ in rng.next() % window }
            probes += [gpa, gpa &- 1, gpa + size.bytes - 1, gpa + size.bytes]
            for g in probes where g < window {
                let want = model.extract(g)
                let got = pmap.extract(GuestPhysicalAddress(g))
                #expect(got?.hpa.rawValue == want?.hpa && got?.protection == want?.prot,
                        "\(where_), step \(step): extract \(hex(g)): pmap \(String(describing: got)), model \(String(describing: want))")
                let access = AccessType.allCases[Int(rng.next() % 3)]
                var result = pmap.translate(GuestPhysicalAddress(g), access)
                if case .failure(let v) = result, v.accessedDirtyFault {
                    #expect(pmap.emulateAccessedDirty(GuestPhysicalAddress(g), access))
                    result = pmap.translate(GuestPhysicalAddress(g), access)
                }
                let allowed = want.map { $0.prot.contains(access.needs) } ?? false
                switch result {
                case .success(let t):
                    #expect(allowed && t.hpa.rawValue == want?.hpa, "\(where_), step \(step): translate \(access) \(hex(g))")
                case .failure(let v):
                    #expect(!allowed && v.present == (want != nil) && !v.accessedDirtyFault,
                            "\(where_), step \(step): translate \(access) \(hex(g)): \(v)")
                }
            }
            let mapped = pmap.leafCounts.reduce(UInt64(0)) { $0 + UInt64($1.value) * $1.key.bytes }
            #expect(mapped == model.mappedBytes, "\(where_), step \(step): mapped bytes")
        }
        pmap.destroy()
        #expect(pmap.tableFrames == 0 && host.liveFrames == 0, "\(where_): destroy frees every table frame")
    }
}

