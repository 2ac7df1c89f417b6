import Testing
import X86
import GuestMemory
import NestedPaging
@testable import VMM

@Suite struct VMMemoryTests {
    static let ranges = [
        MemoryRange(.ram, base: 0, size: 0x9F000),
        MemoryRange(.reserved, base: 0x9F000, size: 0x61000),
        MemoryRange(.ram, base: 0x100000, size: 0x400000),
        MemoryRange(.mmio, base: 0xFEC00000, size: 0x1000),
        MemoryRange(.mmio, base: 0xFEE00000, size: 0x1000),
        MemoryRange(.ram, base: 0x1_0000_0000, size: 0x200000),
    ]

    /// Several RAM and MMIO ranges, every page faulted in, views open, teardown: the host
    /// frame allocator reports zero live frames once the last view is closed, and not before.
    @Test(arguments: PmapFormat.allCases)
    func teardownLeavesNothing(format: PmapFormat) throws {
        let host = try HostPhysicalMemory(frames: 1 << 16)
        let vm = try VMMemory(map: try MemoryMap(Self.ranges), host: host, format: format)
        var ramPages = 0
        for r in Self.ranges {
            for page in stride(from: r.base.rawValue, to: r.end, by: Int(Page.size)) {
                let outcome = vm.handleNestedFault(GuestPhysicalAddress(page + 8), .write)
                switch r.kind {
                case .ram:
                    guard case .entered = outcome else { Issue.record("\(hex(page)): \(outcome)"); return }
                    ramPages += 1
                case .mmio: #expect(outcome == .mmioAssist(range: Self.ranges.firstIndex(of: r)!, offset: page - r.base.rawValue + 8))
                case .reserved: #expect(outcome == .unbacked(gpa: GuestPhysicalAddress(page + 8)))
                }
            }
        }
        #expect(vm.pmap.entryCount == ramPages)
        #expect(host.liveFrames == ramPages + vm.pmap.tableFrames)
        let view = try vm.memory.objects[2]!.view(.read)
        let other = try vm.memory.objects[5]!.view([.read, .write])
        vm.teardown()
        #expect(host.liveFrames == (0x400000 + 0x200000) / 4096, "the viewed objects stay")
        view.close()
        #expect(host.liveFrames == 0x200000 / 4096)
        try other.write(at: 0, bytes: [1])
        other.close()
        #expect(host.liveFrames == 0, "nothing leaks")
    }

    @Test func faultHandlerOutcomes() throws {
        let host = try HostPhysicalMemory(frames: 1024)
        let vm = try VMMemory(map: try MemoryMap(Self.ranges), host: host, format: .ept, adMode: .emulated)
        guard case .entered(let hpa) = vm.handleNestedFault(GuestPhysicalAddress(0x1234), .read) else { Issue.record(); return }
        #expect(vm.pmap.extract(GuestPhysicalAddress(0x1234))?.hpa == HostPhysicalAddress(hpa.rawValue + 0x234))
        // Entered with its intent only: the first access takes the emulated A/D fault.
        #expect(vm.handleNestedFault(GuestPhysicalAddress(0x1234), .read) == .accessedDirty)
        #expect(vm.handleNestedFault(GuestPhysicalAddress(0x1234), .read) == .spurious)
        #expect(vm.handleNestedFault(GuestPhysicalAddress(0x1238), .write) == .accessedDirty)
        #expect(vm.pmap.dirtyPages(GuestPhysicalAddress(0), length: 0x10000).map(\.gpa.rawValue) == [0x1000])
        #expect(vm.handleNestedFault(GuestPhysicalAddress(0x2_0000_0000), .read) == .unbacked(gpa: GuestPhysicalAddress(0x2_0000_0000)))
        vm.teardown()
        #expect(host.liveFrames == 0)
    }

    @Test(arguments: PmapFormat.allCases, [AccessedDirtyMode.hardware, .emulated])
    func faultLogsReplay(format: PmapFormat, mode: AccessedDirtyMode) throws {
        let map = try MemoryMap(Self.ranges)
        let text = try FaultLog.recordRandom(map: map, format: format, adMode: mode, count: 400, seed: 7, hostFrames: 1 << 14)
        let log = try FaultLog.parse(text)
        #expect(log.faults.count == 400)
        #expect(try FaultLog.replay(log, hostFrames: 1 << 14) == nil)
        // The same seed gives the same log.
        #expect(try FaultLog.recordRandom(map: map, format: format, adMode: mode, count: 400, seed: 7, hostFrames: 1 << 14) == text)
    }

    @Test func badLogsAreTypedErrors() throws {
        let map = try MemoryMap(Self.ranges)
        let text = try FaultLog.recordRandom(map: map, format: .npt, adMode: .hardware, count: 50, seed: 3, hostFrames: 1 << 12)
        var lines = text.split(separator: "\n").map(String.init)
        // A corrupted record is named by its index (record 0 is the header).
        var corrupted = lines
        var bad = corrupted[7].split(separator: " ").map(String.init)
        bad[2] = "1" + bad[2] // another GPA, the checksum left as it was
        corrupted[7] = bad.joined(separator: " ")
        #expect(throws: FaultLog.ParseError(record: 7, problem: "checksum mismatch (the record is corrupted)")) {
            try FaultLog.parse(corrupted.joined(separator: "\n"))
        }
        // A log cut inside a record, and one cut between records (no trailer).
        let cut = String(text.prefix(text.count - 20))
        #expect(throws: FaultLog.ParseError(record: 51, problem: "the log is truncated inside this record")) {
            try FaultLog.parse(cut)
        }
        #expect(throws: FaultLog.ParseError(record: 31, problem: "the log is truncated (no trailer)")) {
            try FaultLog.parse(lines.prefix(31).joined(separator: "\n"))
        }
        // A well-formed record with another outcome: the replay reports the first divergence.
        var words = lines[5].split(separator: " ").map(String.init)
        words.removeLast()
        words[4] = "spurious"
        let body = words.joined(separator: " ")
        lines[5] = body + " " + String(FaultLog.checksum(body), radix: 16)
        let divergence = try FaultLog.replay(try FaultLog.parse(lines.joined(separator: "\n")), hostFrames: 1 << 12)
        #expect(divergence?.index == 4 && divergence?.expected == "spurious")
    }
}
