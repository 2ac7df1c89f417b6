import Foundation
import GuestMemory
import Testing
import VMM
import Monitor
import X86
import X86CPU

/// Nothing a guest does may crash or hang the host: guests that execute random bytes in
/// ring 0 and ring 3, with registers pointing into their own page tables and IDT (or with
/// those tables filled with random bytes from the start), with 4 GiB mapped over 16 MiB of
/// RAM (so they touch unbacked memory), each end in a guest exception (the IDT's handlers
/// skip a byte and return, so most runs go on to the limit through many exceptions), a
/// shutdown, a halt or the instruction limit; and teardown frees every frame.
/// `make test` runs 6 guests per variant; a longer campaign (README):
/// `SOFTVMM_RANDOM_GUESTS=500 swift test -c release --filter RandomGuests`.
@Suite struct RandomGuests {
    enum Variant: String, CaseIterable { case ring0, ring3, corruptTables }

    static var count: Int { Int(ProcessInfo.processInfo.environment["SOFTVMM_RANDOM_GUESTS"] ?? "") ?? 6 }

    /// The layout: GDT 0x1000, IDT 0x2000, TSS 0x3000, PML4 0x4000, PDPT 0x5000, PDs 0x6000-
    /// 0x9FFF (4 GiB in 2 MiB pages, user-accessible), the handlers at 0xA100, the
    /// stacks below 0x80000 and 0x90000, random code from 0x100000.
    static func setUp(_ machine: Machine, _ variant: Variant, _ rng: inout SplitMix64) throws {
        var low = [UInt8](repeating: 0, count: 0xB100)
        func put(_ offset: Int, _ v: UInt64) {
            for i in 0..<8 { low[offset + i] = UInt8(truncatingIfNeeded: v >> UInt64(8 * i)) }
        }
        put(0x1008, 0x00AF_9B00_0000_FFFF)  // 0x08 code64 DPL 0
        put(0x1010, 0x00CF_9300_0000_FFFF)  // 0x10 data DPL 0
        put(0x1018, 0x00CF_F300_0000_FFFF)  // 0x18 data DPL 3
        put(0x1020, 0x00AF_FB00_0000_FFFF)  // 0x20 code64 DPL 3
        put(0x1028, 0x0000_8900_3000_0067)  // 0x28 TSS at 0x3000
        for v in 0..<256 {
            // Interrupt gates, DPL 3 (so INT n from ring 3 arrives too), each to a stub at
            // 0xA100 + 16·v that drops the error code, steps RIP by one byte and returns, so the
            // random code goes on (and faults on). The double fault's handler halts.
            let stub = 0xA100 + 16 * v
            put(0x2000 + 16 * v, 0x0000_EE00_0008_0000 | UInt64(stub & 0xFFFF) | UInt64(stub >> 16) << 48)
            var bytes: [UInt8] = [8, 10, 11, 12, 13, 14, 17, 21].contains(v) ? [0x48, 0x83, 0xC4, 0x08] : []
            bytes += v == 8 ? [0xF4] : [0x48, 0xFF, 0x04, 0x24, 0x48, 0xCF]
            for (i, b) in bytes.enumerated() { low[stub + i] = b }
        }
        put(0x3004, 0x80000)                // RSP0
        put(0x4000, 0x5000 | 7)
        for i in 0..<4 { put(0x5000 + 8 * i, UInt64(0x6000 + 0x1000 * i) | 7) }
        for i in 0..<2048 { put(0x6000 + 8 * i, UInt64(i) << 21 | 0x87) }
        low[0xA000] = 0xF4                  // HLT
        low[0xA001] = 0xEB; low[0xA002] = 0xFD // jmp back to it
        if variant == .corruptTables {
            for i in 0x2000..<0x3000 { low[i] = UInt8(truncatingIfNeeded: rng.next()) }
            for i in 0x4000..<0x6000 { low[i] = UInt8(truncatingIfNeeded: rng.next()) }
        }
        try machine.vm.writePhysical(0, low)
        var code = [UInt8](repeating: 0, count: 0x10000)
        for i in 0..<code.count { code[i] = UInt8(truncatingIfNeeded: rng.next()) }
        try machine.vm.writePhysical(0x100000, code)

        var s = machine.vcpu.getState()
        s.gdtr = VCPUTableRegister(base: 0x1000, limit: 0x2F)
        s.idtr = VCPUTableRegister(base: 0x2000, limit: 0xFFF)
        s[.tr] = VCPUSegment(selector: 0x28, base: 0x3000, limit: 0x67, attributes: 0x8B)
        s.cr3 = 0x4000
        s.cr4 = CR4Bit.pae | CR4Bit.osfxsr | CR4Bit.osxmmexcpt
        s.efer = EFERBit.lme | EFERBit.lma | EFERBit.nxe | EFERBit.sce
        s.cr0 = CR0Bit.pe | CR0Bit.et | CR0Bit.pg | CR0Bit.ne
        let user = variant == .ring3
        let data = VCPUSegment(selector: user ? 0x1B : 0x10, base: 0, limit: 0xFFFF_FFFF, attributes: user ? 0xC0F3 : 0xC093)
        for r in [SegmentRegister.ds, .es, .fs, .gs, .ss] { s[r] = data }
        s[.cs] = VCPUSegment(selector: user ? 0x23 : 0x08, base: 0, limit: 0xFFFF_FFFF, attributes: user ? 0xA0FB : 0xA09B)
        s.cpl = user ? 3 : 0
        // Registers point into the tables, the code, RAM's end or anywhere.
        for r in 0..<16 {
            let choice = rng.next() % 4
            s.gprs[r] = choice == 0 ? rng.next() % 0xB000 : choice == 1 ? 0x100000 + rng.next() % 0x10000
                : choice == 2 ? 0xFF0000 + rng.next() % 0x20000 : rng.next()
        }
        s.gprs[4] = 0x90000
        s.rip = 0x100000 + rng.next() % 0xF000
        s.rflags = 2 | (rng.next() & 1 != 0 ? Flag.if : 0)
        machine.vcpu.setState(s)
    }

    @Test(arguments: Variant.allCases)
    func randomCodeEndsAsAGuestEvent(_ variant: Variant) throws {
        var outcomes: [String: Int] = [:]
        for seed in 0..<RandomGuests.count {
            var rng = SplitMix64(seed: UInt64(seed) &* 0x9E37_79B9 &+ UInt64(variant.rawValue.count))
            var config = MachineConfiguration()
            config.memorySize = 16 << 20
            config.maxInstructions = 10_000
            let host = try HostPhysicalMemory(frames: 8192)
            let machine = try Machine(configuration: config, host: host) { _ in }
            try RandomGuests.setUp(machine, variant, &rng)
            let stop = machine.run()
            switch stop {
            case .halted, .shutdown, .reset, .poweredOff, .limit, .debugExit: break
            case .error(let why), .stopped(let why): Issue.record("\(variant) seed \(seed): \(why)")
            case .breakpoint: Issue.record("\(variant) seed \(seed): a debugger breakpoint with no debugger")
            }
            outcomes[String(describing: stop).prefix(8).description, default: 0] += 1
            machine.teardown()
            #expect(host.liveFrames == 0, "\(variant) seed \(seed): \(host.liveFrames) frames live after teardown")
        }
        // Every kind of ending is expected across the seeds; print them for the log.
        print("random guests, \(variant): \(outcomes.sorted { $0.key < $1.key })")
    }
}
