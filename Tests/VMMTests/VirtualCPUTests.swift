import Testing
import X86
import GuestMemory
import VMM
import X86CPU

/// What a monitor running several vCPUs relies on: pause-loop exiting, and the vCPUs' shared
/// view of code (a store by one vCPU to code another has decoded is seen by both).
@Suite struct VirtualCPUTests {
    /// A VM of `count` vCPUs, each in real mode at 0000:1000 over 64 KiB of RAM holding `code`.
    static func makeVM(_ code: [UInt8], count: Int = 1) throws -> (VirtualMachine, HostPhysicalMemory) {
        let host = try HostPhysicalMemory(frames: 256)
        let vm = try VirtualMachine(name: "vcpus", map: try MemoryMap([MemoryRange(.ram, base: 0, size: 0x10000)]), vcpuCount: count,
                                    host: host)
        try vm.writePhysical(0x1000, code)
        for v in vm.vcpus { v.resetToRealMode(selector: 0, ip: 0x1000) }
        return (vm, host)
    }

    /// `pause; jmp pause`: with pause-loop exiting the run ends after the first PAUSE, as an
    /// interrupt-window exit the vCPU says came from PAUSE; without it, the budget runs out.
    @Test func pauseLoopExiting() throws {
        let (vm, _) = try Self.makeVM([0xF3, 0x90, 0xEB, 0xFC])
        let v = vm.vcpus[0]
        #expect(v.run(limit: 1000) == .limit && !v.takePauseExit())
        v.pauseExiting = true
        let before = v.retired
        #expect(v.run(limit: 1000) == .interruptWindow)
        #expect(v.takePauseExit() && !v.takePauseExit())
        #expect(v.retired - before == 1 && v.rip == 0x1002)         // right after the PAUSE
        vm.teardown()
    }

    /// vCPU 1 runs `mov al, 1; pause; jmp` (decoding it; pause-loop exiting ends each run at
    /// the PAUSE); vCPU 0 stores 2 over the immediate; vCPU 1's next round loads 2. Nothing
    /// else tells vCPU 1 its decoded code changed.
    @Test func aStoreByOneVCPUDropsTheOthersDecodedCode() throws {
        let loop: [UInt8] = [0xB0, 0x01, 0xF3, 0x90, 0xEB, 0xFA]   // mov al, 1; pause; jmp back
        let store: [UInt8] = [0xC6, 0x06, 0x01, 0x10, 0x02, 0xF4]   // mov byte [0x1001], 2; hlt
        let (vm, _) = try Self.makeVM(loop, count: 2)
        try vm.writePhysical(0x2000, store)
        let (a, b) = (vm.vcpus[0], vm.vcpus[1])
        b.pauseExiting = true
        #expect(b.run(limit: 10) == .interruptWindow && b.register(0) & 0xFF == 1)
        #expect(b.run(limit: 10) == .interruptWindow && b.register(0) & 0xFF == 1)
        a.resetToRealMode(selector: 0, ip: 0x2000)
        #expect(a.run(limit: 10) == .halt)
        #expect(vm.readPhysical(0x1001, count: 1) == [2])
        #expect(b.run(limit: 10) == .interruptWindow && b.register(0) & 0xFF == 2)
        vm.teardown()
    }

    /// An NMI held back only by STI's shadow: the shadow window ends the run before the first
    /// instruction the shadow does not cover (one instruction on), where an exit requested
    /// before the next instruction would come before the shadow's instruction, again and again
    /// (kvm-unit-tests' apic.c test_sti_nmi livelocked so).
    @Test func shadowWindowComesAfterTheShadowedInstruction() throws {
        let (vm, _) = try Self.makeVM([0xFB, 0x90, 0x90, 0xEB, 0xFD])  // sti; nop; nop; jmp back
        let v = vm.vcpus[0]
        #expect(v.run(limit: 1) == .limit && v.interruptShadow && !v.nmiDeliverable)
        v.requestExit()
        #expect(v.run(limit: 100) == .interruptWindow && v.rip == 0x1001 && v.interruptShadow)
        v.requestShadowWindow()
        #expect(v.run(limit: 100) == .interruptWindow)
        #expect(v.rip == 0x1002 && !v.interruptShadow && v.nmiDeliverable)
        v.requestShadowWindow()
        #expect(v.run(limit: 100) == .interruptWindow && v.rip == 0x1002)   // no shadow: at once
        vm.teardown()
    }

    /// PAUSE takes the model's `pauseTicks` on top of its own tick, and the run ends after the
    /// PAUSE that reaches the monitor's tick deadline (its next timer event), as an
    /// interrupt-window exit, not at the end of the instruction budget.
    @Test func pauseTakesTimeAndStopsAtTheTickDeadline() throws {
        let (vm, _) = try Self.makeVM([0xF3, 0x90, 0xEB, 0xFC])   // pause; jmp pause
        let v = vm.vcpus[0]
        let perPause = v.model.pauseTicks + 1
        #expect(v.model.pauseTicks > 0)
        let t0 = v.guestTicks
        #expect(v.run(limit: 2) == .limit)                       // one PAUSE, one JMP
        #expect(v.guestTicks - t0 == perPause + 1)
        v.tickDeadline = v.guestTicks + 10 * perPause
        let before = v.retired
        #expect(v.run(limit: 1_000_000) == .interruptWindow)
        #expect(v.guestTicks >= v.tickDeadline && v.guestTicks < v.tickDeadline + perPause + 1)
        #expect(v.retired - before < 25)
        vm.teardown()
    }

    /// A device's write to guest RAM (DMA) over code a vCPU decoded reaches that vCPU as its
    /// own store would; a write that leaves RAM writes nothing.
    @Test func aDMAWriteDropsDecodedCode() throws {
        let (vm, _) = try Self.makeVM([0xB0, 0x01, 0xF3, 0x90, 0xEB, 0xFA])   // mov al, 1; pause; jmp back
        let v = vm.vcpus[0]
        v.pauseExiting = true
        #expect(v.run(limit: 10) == .interruptWindow && v.register(0) & 0xFF == 1)
        #expect(vm.dmaWrite(0x1001, [2]))
        #expect(v.run(limit: 10) == .interruptWindow && v.register(0) & 0xFF == 2)
        #expect(!vm.dmaWrite(0xFFFF, [7, 7]))                       // the second byte is past RAM
        #expect(vm.readPhysical(0xFFFF, count: 1) == [0])
        vm.teardown()
    }

    /// REP STOSB over 4 MiB in 64-bit mode: one step stops at the same element whether the
    /// host stores each page's run in one block or element by element (a debugger's
    /// watchpoint, armed anywhere, keeps the MMU from taking the block path): where a long
    /// repetition is cut into steps, and so the instruction count and guest time, never
    /// depends on the path.
    @Test func aRepetitionIsCutAtTheSameElementOnEveryPath() throws {
        func run(watching: Bool) throws -> (rcx: UInt64, rdi: UInt64, retired: UInt64) {
            // 64-bit mode, identity paging of the first 16 MiB.
            let (vm, _) = try TranslatedBlockTests.makeVM(.interpreter)
            defer { vm.teardown() }
            // mov rdi, 0x200000; mov ecx, 0x400000; xor eax, eax; rep stosb; hlt
            try vm.writePhysical(0x10000, [0x48, 0xC7, 0xC7, 0x00, 0x00, 0x20, 0x00, 0xB9, 0x00, 0x00, 0x40, 0x00,
                                           0x31, 0xC0, 0xF3, 0xAA, 0xF4])
            let v = vm.vcpus[0]
            var s = v.getState()
            s.rip = 0x10000
            v.setState(s)
            if watching { v.debuggerWatchpoints = [DebuggerWatchpoint(address: 0xA00000, length: 8, writesOnly: false)] }
            #expect(v.run(limit: 4) == .limit)                       // the three moves and one step of the REP
            let r = (v.register(1), v.register(7), v.retired)
            #expect(v.run(limit: 100_000) == .halt)
            #expect(v.register(1) == 0 && v.register(7) == 0x600000)
            return r
        }
        let blocks = try run(watching: false), elements = try run(watching: true)
        #expect(blocks.rcx < 0x400000 && blocks.rcx == elements.rcx && blocks.rdi == elements.rdi && blocks.retired == elements.retired,
                "one step: \(blocks) in blocks, \(elements) element by element")
    }
}
