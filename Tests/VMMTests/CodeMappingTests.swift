import GuestMemory
import NestedPaging
import Testing
@_spi(Testing) import VMM
import X86
import X86CPU

/// INVLPG and decoded code (SDM vol. 3, 4.10.4.1): INVLPG of a page makes a new mapping of
/// that page's code run, and of a large page, of every page in it; INVLPG of a page that holds
/// no code leaves the decoded code of every other page alone (nothing is checked again), and a
/// WRMSR that gives EFER the value it has flushes nothing. Under each engine, the translator's
/// blocks warm (translated after four runs).
@Suite struct CodeMappingTests {
    static func le64(_ v: UInt64) -> [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: v >> (8 * UInt64($0))) } }

    /// Writes `program` at the code address and each function `mov eax, value; ret` at its
    /// address, starts vCPU 0 there (RSP the stack, `registers` by number, CR4 or'd with `cr4`),
    /// and runs it to its HLT.
    static func run(_ vm: VirtualMachine, _ program: [UInt8], functions: [UInt64: UInt32], registers: [Int: UInt64] = [:],
                    cr4: UInt64 = 0) {
        let v = vm.vcpus[0]
        #expect(vm.dmaWrite(TranslatedBlockTests.code, program))
        for (at, value) in functions {
            #expect(vm.dmaWrite(at, [0xB8] + (0..<4).map { UInt8(truncatingIfNeeded: value >> (8 * UInt32($0))) } + [0xC3]))
        }
        var s = v.getState()
        s.cr4 |= cr4
        s.rip = TranslatedBlockTests.code
        s.gprs[4] = TranslatedBlockTests.stack
        for (n, value) in registers { s.gprs[n] = value }
        v.setState(s)
        _ = v.run(limit: 100_000)
        #expect(v.halted)
    }

    /// 200 passes of: call f at 0x20000 (mov eax, 1; ret), add ebx, eax, rewrite the PTE of
    /// the data page 0x30000 and INVLPG it, write EFER with its own value; then f's PTE is
    /// pointed at 0x21000 (mov eax, 7; ret), INVLPG 0x20000, call f again: EBX = 200 + 7.
    /// The first 2 MiB are mapped by 4 KiB pages (a page table at 0x4000).
    @Test(arguments: [ExecutionEngine.jit, .interpreter])
    func invlpgOfADataPageKeepsTheCode(_ engine: ExecutionEngine) throws {
        #if arch(x86_64)
        let (vm, host) = try TranslatedBlockTests.makeVM(engine)
        let v = vm.vcpus[0]
        v.translationThreshold = 4
        for i in 0..<512 { try vm.writePhysical(0x4000 + UInt64(8 * i), Self.le64(UInt64(i) << 12 | 3)) }
        try vm.writePhysical(0x3000, Self.le64(0x4003))
        let program: [UInt8] = [
            0xB9, 0xC8, 0x00, 0x00, 0x00,                     // mov ecx, 200
            0x31, 0xDB,                                       // xor ebx, ebx
            0xE8, 0xF4, 0xFF, 0x00, 0x00,                     // top: call 0x20000
            0x01, 0xC3,                                       // add ebx, eax
            0x48, 0xC7, 0xC0, 0x03, 0x00, 0x03, 0x00,         // mov rax, 0x30003
            0x48, 0x89, 0x04, 0x25, 0x80, 0x41, 0x00, 0x00,   // mov [0x4180], rax (the PTE of 0x30000)
            0x0F, 0x01, 0x3C, 0x25, 0x00, 0x00, 0x03, 0x00,   // invlpg [0x30000]
            0x51,                                             // push rcx
            0xB9, 0x80, 0x00, 0x00, 0xC0,                     // mov ecx, 0xC0000080 (EFER)
            0x0F, 0x32, 0x0F, 0x30,                           // rdmsr; wrmsr
            0x59,                                             // pop rcx
            0xFF, 0xC9, 0x75, 0xD3,                           // dec ecx; jnz top
            0x48, 0xC7, 0x04, 0x25, 0x00, 0x41, 0x00, 0x00, 0x03, 0x10, 0x02, 0x00,   // mov qword [0x4100], 0x21003
            0x0F, 0x01, 0x3C, 0x25, 0x00, 0x00, 0x02, 0x00,   // invlpg [0x20000]
            0xE8, 0xB3, 0xFF, 0x00, 0x00,                     // call 0x20000
            0x01, 0xC3, 0xF4,                                 // add ebx, eax; hlt
        ]
        let flushes = v.tlbFlushes
        Self.run(vm, program, functions: [0x20000: 1, 0x21000: 7])
        #expect(v.register(3) == 207, "the last call ran f's new mapping")
        #expect(v.tlbFlushes == flushes, "WRMSR of EFER's own value flushed the TLB")
        // The loop's blocks are checked again only after the INVLPG of f's page (a few), not
        // after each of the 200 of the data page.
        #expect(v.blocksRechecked < 10, "\(v.blocksRechecked) checks of blocks")
        if engine == .jit { #expect(try #require(v.translation).blocks > 0) }
        vm.teardown()
        #expect(host.liveFrames == 0)
        #endif
    }

    /// Code in a 2 MiB page: f at 0x200100 (mov eax, 1; ret) is called 200 times; then the page's
    /// PDE is pointed at 0x400000 (f there: mov eax, 7; ret) and INVLPG is given another 4 KiB page
    /// of the same large page (0x3FF000): it drops the whole large page, so the call after it runs
    /// the new f. EBX = 200 + 7.
    @Test(arguments: [ExecutionEngine.jit, .interpreter])
    func invlpgInALargePageDropsItsCode(_ engine: ExecutionEngine) throws {
        #if arch(x86_64)
        let (vm, host) = try TranslatedBlockTests.makeVM(engine)
        let v = vm.vcpus[0]
        v.translationThreshold = 4
        let program: [UInt8] = [
            0xB9, 0xC8, 0x00, 0x00, 0x00,                     // mov ecx, 200
            0x31, 0xDB,                                       // xor ebx, ebx
            0xE8, 0xF4, 0x00, 0x1F, 0x00,                     // top: call 0x200100
            0x01, 0xC3, 0xFF, 0xC9, 0x75, 0xF5,               // add ebx, eax; dec ecx; jnz top
            0x48, 0xC7, 0x04, 0x25, 0x08, 0x30, 0x00, 0x00, 0x83, 0x00, 0x40, 0x00,   // mov qword [0x3008], 0x400083
            0x0F, 0x01, 0x3C, 0x25, 0x00, 0xF0, 0x3F, 0x00,   // invlpg [0x3FF000]
            0xE8, 0xD5, 0x00, 0x1F, 0x00,                     // call 0x200100
            0x01, 0xC3, 0xF4,                                 // add ebx, eax; hlt
        ]
        Self.run(vm, program, functions: [0x200100: 1, 0x400100: 7])
        #expect(v.register(3) == 207, "the last call ran the large page's new mapping")
        vm.teardown()
        #expect(host.liveFrames == 0)
        #endif
    }

    /// The MMU keeps the host pages of the guest's page tables between walks, while the pmap's
    /// generation stands. The kernel side moves the page directory (GPA 0x3000) to a new host
    /// frame whose PDE 2 maps 0x400000 to GPA 0x600000 instead (a change that moves the
    /// generation, as a copy-on-write copy does): after MOV CR3 the guest's next walk reads the
    /// new frame.
    @Test func movedPageTableIsWalkedAtItsNewFrame() throws {
        let (vm, host) = try TranslatedBlockTests.makeVM(.interpreter)
        let v = vm.vcpus[0]
        try vm.writePhysical(0x500000, Self.le64(0x1111))
        try vm.writePhysical(0x700000, Self.le64(0x2222))
        let program: [UInt8] = [
            0x48, 0x8B, 0x04, 0x25, 0x00, 0x00, 0x50, 0x00,   // mov rax, [0x500000]
            0xF4,                                             // hlt
            0x0F, 0x20, 0xD9, 0x0F, 0x22, 0xD9,               // mov rcx, cr3; mov cr3, rcx
            0x48, 0x8B, 0x1C, 0x25, 0x00, 0x00, 0x50, 0x00,   // mov rbx, [0x500000]
            0xF4,                                             // hlt
        ]
        #expect(vm.dmaWrite(TranslatedBlockTests.code, program))
        var s = v.getState()
        s.rip = TranslatedBlockTests.code
        v.setState(s)
        _ = v.run(limit: 100)
        #expect(v.halted && v.register(0) == 0x1111)
        let frame = try host.allocate()
        let old = try #require(vm.memory.pmap.extract(GuestPhysicalAddress(0x3000)))
        host.pointer(frame).copyMemory(from: host.pointer(HostPhysicalAddress(old.hpa.rawValue & ~0xFFF)), byteCount: 4096)
        host.pointer(frame).storeBytes(of: UInt64(0x600083), toByteOffset: 16, as: UInt64.self)
        let generation = vm.memory.pmap.generation
        try vm.memory.pmap.enter(GuestPhysicalAddress(0x3000), frame, .all)
        #expect(vm.memory.pmap.generation != generation)
        s = v.getState()
        s.activity = 0
        v.setState(s)
        _ = v.run(limit: 100)
        #expect(v.halted && v.register(3) == 0x2222, "the walk read the page directory's old frame")
        vm.teardown()
        host.release(frame)
        #expect(host.liveFrames == 0)
    }

    /// Global pages' code survives MOV CR3 (SDM vol. 3, 4.10.4.1: MOV CR3 invalidates every
    /// translation but global ones). Address space A (CR3 0x1000) maps the first 2 MiB by 4 KiB
    /// pages, all global but g's at 0x22000 (mov eax, 10; ret); B (CR3 0x5000) maps the same but
    /// g's page to 0x23000 (mov eax, 100; ret). 200 passes call f at 0x20000 (mov eax, 1; ret)
    /// and g and reload CR3 with A; then g is called under B, and f after its PTE moves to
    /// 0x21000 (mov eax, 7; ret) and CR4.PGE is cleared and set again (which drops global
    /// translations). EBX = 200 * 11 + 100 + 7. Only g's block is checked again after each MOV
    /// CR3, not the loop's and f's on global pages.
    @Test(arguments: [ExecutionEngine.jit, .interpreter])
    func globalCodeSurvivesMovCR3(_ engine: ExecutionEngine) throws {
        #if arch(x86_64)
        let (vm, host) = try TranslatedBlockTests.makeVM(engine)
        let v = vm.vcpus[0]
        v.translationThreshold = 4
        for i in 0..<512 {
            let global: UInt64 = i == 0x22 ? 0 : 0x100
            try vm.writePhysical(0x4000 + UInt64(8 * i), Self.le64(UInt64(i) << 12 | global | 3))
            try vm.writePhysical(0x8000 + UInt64(8 * i), Self.le64(i == 0x22 ? 0x23003 : UInt64(i) << 12 | global | 3))
        }
        try vm.writePhysical(0x3000, Self.le64(0x4003))
        // B: PML4 0x5000 -> PDPT 0x6000 -> PD 0x7000 (the page table 0x8000, then A's 2 MiB pages).
        try vm.writePhysical(0x5000, Self.le64(0x6003))
        try vm.writePhysical(0x6000, Self.le64(0x7003))
        try vm.writePhysical(0x7000, Self.le64(0x8003))
        for i in 1..<8 { try vm.writePhysical(0x7000 + UInt64(8 * i), Self.le64(UInt64(i) << 21 | 0x83)) }
        let program: [UInt8] = [
            0xB9, 0xC8, 0x00, 0x00, 0x00,                     // mov ecx, 200
            0x31, 0xDB,                                       // xor ebx, ebx
            0xE8, 0xF4, 0xFF, 0x00, 0x00, 0x01, 0xC3,         // top: call 0x20000; add ebx, eax
            0xE8, 0xED, 0x1F, 0x01, 0x00, 0x01, 0xC3,         // call 0x22000; add ebx, eax
            0x0F, 0x22, 0xDE,                                 // mov cr3, rsi (A)
            0xFF, 0xC9, 0x75, 0xEB,                           // dec ecx; jnz top
            0x0F, 0x22, 0xDF,                                 // mov cr3, rdi (B)
            0xE8, 0xDC, 0x1F, 0x01, 0x00, 0x01, 0xC3,         // call 0x22000; add ebx, eax
            0x0F, 0x22, 0xDE,                                 // mov cr3, rsi (A)
            0x48, 0xC7, 0x04, 0x25, 0x00, 0x41, 0x00, 0x00, 0x03, 0x11, 0x02, 0x00,   // mov qword [0x4100], 0x21103
            0x0F, 0x20, 0xE0, 0x48, 0x0F, 0xBA, 0xF0, 0x07,   // mov rax, cr4; btr rax, 7
            0x0F, 0x22, 0xE0, 0x48, 0x0F, 0xBA, 0xE8, 0x07,   // mov cr4, rax; bts rax, 7
            0x0F, 0x22, 0xE0,                                 // mov cr4, rax
            0xE8, 0xB3, 0xFF, 0x00, 0x00, 0x01, 0xC3, 0xF4,   // call 0x20000; add ebx, eax; hlt
        ]
        Self.run(vm, program, functions: [0x20000: 1, 0x21000: 7, 0x22000: 10, 0x23000: 100],
                 registers: [6: 0x1000, 7: 0x5000], cr4: 0x80)   // CR4.PGE
        #expect(v.register(3) == 200 * 11 + 100 + 7)
        // g's block once a pass; the rest (the loop's blocks and f) would be four more a pass.
        #expect(v.blocksRechecked >= 190 && v.blocksRechecked < 250, "\(v.blocksRechecked) checks of blocks")
        if engine == .jit { #expect(try #require(v.translation).blocks > 0) }
        vm.teardown()
        #expect(host.liveFrames == 0)
        #endif
    }

    /// A page written before it held code keeps no write entry once code runs from it (the
    /// TLB's write entries for a frame go when the frame gets decoded code: `dropWriteEntries`,
    /// which finds each entry's host page from its addend and its tag's page). The program
    /// stores 5 into f's immediate at 0x20001 (a write entry for f's page), calls f (mov eax,
    /// imm32; ret), stores 7 there and calls f again: the second store must reach the code,
    /// EAX = 7 (with the write entry left, the store takes the fast path and f's old decoding
    /// runs: 5).
    @Test(arguments: [ExecutionEngine.jit, .interpreter])
    func aPageThatBecomesCodeLosesItsWriteEntries(_ engine: ExecutionEngine) throws {
        #if arch(x86_64)
        let (vm, host) = try TranslatedBlockTests.makeVM(engine)
        let v = vm.vcpus[0]
        let program: [UInt8] = [
            0xC6, 0x04, 0x25, 0x01, 0x00, 0x02, 0x00, 0x05,   // mov byte [0x20001], 5
            0xE8, 0xF3, 0xFF, 0x00, 0x00,                     // call 0x20000
            0x89, 0xC3,                                       // mov ebx, eax
            0xC6, 0x04, 0x25, 0x01, 0x00, 0x02, 0x00, 0x07,   // mov byte [0x20001], 7
            0xE8, 0xE4, 0xFF, 0x00, 0x00,                     // call 0x20000
            0xF4,                                             // hlt
        ]
        Self.run(vm, program, functions: [0x20000: 1])
        #expect(v.register(3) == 5 && v.register(0) == 7, "first call \(v.register(3)), second \(v.register(0))")
        vm.teardown()
        #expect(host.liveFrames == 0)
        #endif
    }
}
