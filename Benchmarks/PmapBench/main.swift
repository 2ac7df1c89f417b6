// Nested paging throughput (release build): extract on 4 KiB and 2 MiB leaves,
// nested faults handled per second, enter + remove. Results: Benchmarks/RESULTS.md.
import Foundation
import GuestMemory
import NestedPaging
import VMM
import Monitor
import X86

func seconds(_ body: () throws -> Void) rethrows -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    try body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}

func best(_ rounds: Int = 5, _ body: () throws -> Double) rethrows -> Double {
    var b = Double.infinity
    for _ in 0..<rounds { b = min(b, try body()) }
    return b
}

let host = try HostPhysicalMemory(frames: 1 << 20)
var rng = SplitMix64(seed: 1)
let probes = (0..<1_000_000).map { _ in rng.next() % (256 << 20) }

for format in PmapFormat.allCases {
    // extract: 256 MiB mapped with 4 KiB leaves, then with 2 MiB leaves.
    for size in [PageSize.size4K, .size2M] {
        let pmap = try Pmap(format: format, host: host)
        for gpa in stride(from: UInt64(0), to: 256 << 20, by: Int(size.bytes)) {
            try pmap.enter(GuestPhysicalAddress(gpa), HostPhysicalAddress(gpa), .all, size: size)
        }
        var sink: UInt64 = 0
        let t = best {
            seconds { for g in probes { sink &+= pmap.extract(GuestPhysicalAddress(g))!.hpa.rawValue } }
        }
        print(String(format: "%@ extract, %@ leaves: %.1f ns", format.rawValue, size.description, t / Double(probes.count) * 1e9)
              + (sink == 42 ? " " : ""))
        pmap.destroy()
    }
    // Nested faults: fault in 64 MiB of RAM page by page through the VMM's handler.
    let map = try MemoryMap([MemoryRange(.ram, base: 0, size: 1 << 30)])
    let pages = 16384
    let t = try best(3) {
        let vm = try VMMemory(map: map, host: host, format: format)
        let s = seconds { for i in 0..<pages { _ = vm.handleNestedFault(GuestPhysicalAddress(UInt64(i) << 12), .write) } }
        vm.teardown()
        return s
    }
    print(String(format: "%@ nested faults handled: %.2f M/s", format.rawValue, Double(pages) / t / 1e6))
    // enter + remove: 16384 pages entered, then removed in 2 MiB ranges.
    let t2 = try best(3) {
        let pmap = try Pmap(format: format, host: host)
        let s = try seconds {
            for i in 0..<pages { try pmap.enter(GuestPhysicalAddress(UInt64(i) << 12), HostPhysicalAddress(UInt64(i) << 12), .all) }
            for r in stride(from: UInt64(0), to: UInt64(pages) << 12, by: 0x20_0000) {
                try pmap.remove(GuestPhysicalAddress(r), length: 0x20_0000)
            }
        }
        pmap.destroy()
        return s
    }
    print(String(format: "%@ enter + remove: %.2f M pages/s", format.rawValue, Double(pages) / t2 / 1e6))
}
