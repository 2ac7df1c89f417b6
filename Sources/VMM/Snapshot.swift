import Devices
import GuestMemory
import NestedPaging
import X86
import X86CPU

/// A whole machine as it was between two slices of its run: the vCPU, the devices, the
/// machine's own counters, the nested pmap's leaves and guest memory. Taking one costs no
/// page copies: memory is a copy-on-write copy of each RAM object (`MemoryObject.frozenCopy`),
/// and the running machine copies a page only when it next writes it. `release` (or
/// deinit) gives the shared frames back.
public final class MachineSnapshot {
    public let configuration: MachineConfiguration
    public let point: RunPoint
    /// The vCPU, the machine and every device, in `StateCoder`'s encoding.
    public let state: [UInt8]
    /// The pmap's leaves over RAM when the snapshot was taken.
    public let leaves: [PmapLeaf]
    let ranges: [MemoryRange]
    private var memory: [MemoryObject?]

    init(configuration: MachineConfiguration, point: RunPoint, state: [UInt8], leaves: [PmapLeaf],
         ranges: [MemoryRange], memory: [MemoryObject?]) {
        (self.configuration, self.point, self.state, self.leaves) = (configuration, point, state, leaves)
        (self.ranges, self.memory) = (ranges, memory)
    }

    deinit { release() }

    /// Drops the snapshot's share of guest memory.
    public func release() {
        for case let o? in memory where o.referenceCount > 0 { o.detach() }
        memory = []
    }

    /// Every page of guest RAM that exists, by guest-physical address, in ascending order.
    public func forEachPage(_ body: (UInt64, UnsafeRawBufferPointer) -> Void) {
        for (i, object) in memory.enumerated() {
            guard let object else { continue }
            for offset in object.residentOffsets {
                guard let hpa = try? object.frame(at: offset, create: false) else { continue }
                body(ranges[i].base.rawValue + offset, UnsafeRawBufferPointer(start: object.host.pointer(hpa), count: Int(Page.size)))
            }
        }
    }

    /// The snapshot's body: state, pmap leaves and pages, each page with its FNV-1a checksum
    /// so that a damaged page is found where it lies (`Machine.restore(body:)` reads it).
    public func body() -> [UInt8] {
        var s = StateCoder()
        var state = self.state
        s.raw(&state)
        var n = leaves.count
        s.count(&n)
        for leaf in leaves {
            var gpa = leaf.gpa.rawValue, prot = leaf.protection.rawValue, a = leaf.accessed, d = leaf.dirty
            s.field(&gpa); s.field(&prot); s.field(&a); s.field(&d)
        }
        var count = memory.reduce(0) { $0 + ($1?.residentPages ?? 0) }
        s.count(&count)
        forEachPage { gpa, page in
            var g = gpa, b = Array(page), sum = UInt64(fnv1a32(page))
            s.field(&g); s.field(&sum); s.raw(&b)
        }
        return s.bytes
    }
}

/// FNV-1a, 32-bit: a fault log record's checksum and a snapshot page's.
func fnv1a32<S: Sequence<UInt8>>(_ bytes: S) -> UInt32 {
    var v: UInt32 = 0x811C_9DC5
    for b in bytes { v = (v ^ UInt32(b)) &* 0x0100_0193 }
    return v
}

extension Machine {
    /// The machine's own state and every device's, as one description (StateCoder).
    func stateCoding(_ s: inout StateCoder) {
        s.section("machine") { s in
            s.field(&interruptsDelivered); s.field(&mmioOperations); s.field(&exits); s.field(&unbacked)
            s.field(&cr8Shown); s.field(&extINTRequested); s.field(&resetRequested); s.field(&nmiPending)
            s.field(&vcpu.exitsByKind)
        }
        s.section("vcpu") { s in vcpu.cpu.state(&s) }
        let devices: [(String, StateCoding)] = [("clock", clock), ("com1", serial), ("debug-exit", debugExit), ("pic", pic),
                                                ("pit", pit), ("rtc", rtc), ("local-apic", lapic), ("ioapic", ioapic),
                                                ("pci", pci), ("i8042", keyboardController), ("acpi-pm1", acpiPower), ("test-device", testDevice)]
        for (name, device) in devices { s.section(name) { s in device.state(&s) } }
    }

    /// A snapshot of the machine now (between runs): cheap, see `MachineSnapshot`.
    public func snapshot() throws -> MachineSnapshot {
        var s = StateCoder()
        stateCoding(&s)
        let leaves = vm.memory.pmap.leaves().filter {
            if case .ram = vm.memory.memory.backing($0.gpa) { true } else { false }
        }
        let memory = try vm.memory.freeze()
        return MachineSnapshot(configuration: configuration, point: point, state: s.bytes, leaves: leaves,
                               ranges: vm.memory.memory.map.ranges, memory: memory)
    }

    /// Restores a snapshot's body (`MachineSnapshot.body`) into this machine, freshly made
    /// from the snapshot's configuration and not yet run. `base` is the body's offset in its
    /// file, for error messages.
    public func restore(body: [UInt8], base: Int = 0) throws(StateError) {
        var s = StateCoder(restoring: body, base: base)
        var state: [UInt8] = []
        let stateOffset = base + s.offset
        s.raw(&state)
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
            do { try vm.writePhysical(gpa, bytes) } catch {
                throw StateError(offset: at, problem: "the page at guest-physical \(hex(gpa)) is not in this machine's RAM")
            }
        }
        if let e = s.error { throw e }
        guard s.atEnd else { throw StateError(offset: base + s.offset, problem: "bytes after the last page") }
        for (gpa, prot, a, d) in leaves {
            let g = GuestPhysicalAddress(gpa)
            guard case .ram(let object, let offset) = vm.memory.memory.backing(g),
                  let hpa = try? object.frame(at: offset), (try? vm.memory.pmap.enter(g, hpa, Protection(rawValue: prot))) != nil else {
                throw StateError(offset: base, problem: "a pmap leaf at \(hex(gpa)) does not map this machine's RAM")
            }
            vm.memory.pmap.setAccessedDirty(g, accessed: a, dirty: d)
        }
        var inner = StateCoder(restoring: state, base: stateOffset)
        stateCoding(&inner)
        if let e = inner.error { throw e }
        guard inner.atEnd else { throw StateError(offset: stateOffset + inner.offset, problem: "state left over (another layout?)") }
        cr8Shown = vcpu.cr8
    }
}

extension Machine {
    /// The vCPU's state and a hash of guest memory's contents, as text: what a restored
    /// snapshot must reach to count as the same run (`softvmm run --dump-state`).
    public var finalState: String { vcpu.stateDump + "\nmemory contents fnv1a \(String(vm.memory.contentHash(), radix: 16))\n" }
}
