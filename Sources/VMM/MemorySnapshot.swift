import GuestMemory
import NestedPaging
import X86

/// A VM's guest memory as it was at one moment, taken without copying a page: a copy-on-write
/// copy of each RAM object (`MemoryObject.frozenCopy`) and the nested pmap's leaves over RAM.
/// The running VM copies a page only when it next writes it. `release` (or deinit) gives the
/// shared frames back.
public final class GuestMemorySnapshot {
    /// The pmap's leaves over RAM when the snapshot was taken.
    public let leaves: [PmapLeaf]
    let ranges: [MemoryRange]
    private(set) var objects: [MemoryObject?]

    init(leaves: [PmapLeaf], ranges: [MemoryRange], objects: [MemoryObject?]) {
        (self.leaves, self.ranges, self.objects) = (leaves, ranges, objects)
    }

    deinit { release() }

    /// Drops the snapshot's share of guest memory.
    public func release() {
        for case let o? in objects where o.referenceCount > 0 { o.detach() }
        objects = []
    }

    /// Pages of guest RAM that exist in the snapshot.
    public var residentPages: Int { objects.reduce(0) { $0 + ($1?.residentPages ?? 0) } }

    /// Every page of guest RAM that exists, by guest-physical address, in ascending order.
    public func forEachPage(_ body: (UInt64, UnsafeRawBufferPointer) -> Void) {
        for (i, object) in objects.enumerated() {
            guard let object else { continue }
            for offset in object.residentOffsets {
                guard let hpa = try? object.frame(at: offset, create: false) else { continue }
                body(ranges[i].base.rawValue + offset, UnsafeRawBufferPointer(start: object.host.pointer(hpa), count: Int(Page.size)))
            }
        }
    }

    /// The pmap's leaves, then every page with its FNV-1a checksum, so that a damaged page is
    /// found where it lies (`VirtualMachine.restoreMemory` reads it).
    public func encode(_ s: inout StateCoder) {
        var n = leaves.count
        s.count(&n)
        for leaf in leaves {
            var gpa = leaf.gpa.rawValue, prot = leaf.protection.rawValue, a = leaf.accessed, d = leaf.dirty
            s.field(&gpa); s.field(&prot); s.field(&a); s.field(&d)
        }
        var count = residentPages
        s.count(&count)
        forEachPage { gpa, page in
            var g = gpa, b = Array(page), sum = UInt64(fnv1a32(page))
            s.field(&g); s.field(&sum); s.raw(&b)
        }
    }
}

extension VirtualMachine {
    /// Guest memory now (between runs): cheap, see `GuestMemorySnapshot`.
    public func memorySnapshot() throws -> GuestMemorySnapshot {
        let leaves = memory.pmap.leaves().filter {
            if case .ram = memory.memory.backing($0.gpa) { true } else { false }
        }
        return GuestMemorySnapshot(leaves: leaves, ranges: memory.memory.map.ranges, objects: try memory.freeze())
    }

    /// Takes guest memory back to `snapshot` (one of this VM's, not released), between runs and
    /// without copying a page: each RAM object shares the snapshot's frames again, copy-on-write,
    /// and the nested pmap forgets RAM (the next access faults each page in from its object).
    /// The vCPUs' state must be replaced next (`CPU.stateWasReplaced` drops their TLBs and
    /// decoded code, which point into the old frames).
    public func revertMemory(to snapshot: GuestMemorySnapshot) throws {
        precondition(snapshot.ranges == memory.memory.map.ranges, "a snapshot of another memory map")
        for (i, r) in memory.memory.map.ranges.enumerated() {
            guard let object = memory.memory.objects[i], let theirs = snapshot.objects[i] else { continue }
            try memory.pmap.remove(r.base, length: r.size)
            try object.revert(to: theirs)
        }
    }

    /// Reads what `GuestMemorySnapshot.encode` wrote into this VM, freshly made with the same
    /// memory map and not yet run: pages into RAM, then the pmap's leaves (with their accessed
    /// and dirty bits) over them. `base` is the coder's offset in its file, for error messages.
    public func restoreMemory(_ s: inout StateCoder, base: Int) throws(StateError) {
        var n = 0
        s.count(&n)
        var leaves: [(UInt64, UInt8, Bool, Bool)] = []
        for _ in 0..<n {
            var gpa: UInt64 = 0, prot: UInt8 = 0, a = false, d = false
            s.field(&gpa); s.field(&prot); s.field(&a); s.field(&d)
            leaves.append((gpa, prot, a, d))
        }
        var pages = 0
        s.count(&pages)
        for _ in 0..<pages {
            var gpa: UInt64 = 0, sum: UInt64 = 0, bytes: [UInt8] = []
            let at = base + s.offset
            s.field(&gpa); s.field(&sum); s.raw(&bytes)
            if let e = s.error { throw e }
            guard bytes.count == Int(Page.size), UInt64(fnv1a32(bytes)) == sum else {
                throw StateError(offset: at, problem: "the page at guest-physical \(hex(gpa)) is damaged (its checksum does not match)")
            }
            do { try writePhysical(gpa, bytes) } catch {
                throw StateError(offset: at, problem: "the page at guest-physical \(hex(gpa)) is not in this machine's RAM")
            }
        }
        if let e = s.error { throw e }
        guard s.atEnd else { throw StateError(offset: base + s.offset, problem: "bytes after the last page") }
        for (gpa, prot, a, d) in leaves {
            let g = GuestPhysicalAddress(gpa)
            guard case .ram(let object, let offset) = memory.memory.backing(g),
                  let hpa = try? object.frame(at: offset), (try? memory.pmap.enter(g, hpa, Protection(rawValue: prot))) != nil else {
                throw StateError(offset: base, problem: "a pmap leaf at \(hex(gpa)) does not map this machine's RAM")
            }
            memory.pmap.setAccessedDirty(g, accessed: a, dirty: d)
        }
    }
}
