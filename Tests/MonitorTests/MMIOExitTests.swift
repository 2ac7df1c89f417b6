import Devices
import GuestMemory
import NestedPaging
import Testing
import VMM
import Monitor
import X86

/// An MMIO access is classified once, by the kernel side's fault handler: its exit carries
/// the memory map's range and the offset in it, and the vCPU's decoded instruction, and the
/// assist sends the access to that range's device.
@Suite struct MMIOExitTests {
    final class Exits: MachineObserver {
        var mmio: [MMIOExit] = []
        func exit(_ exit: VMExit, icount: UInt64, rip: UInt64) { if case .mmio(let m) = exit { mmio.append(m) } }
        func fault(gpa: GuestPhysicalAddress, access: AccessType, outcome: NestedFaultOutcome, icount: UInt64) {}
        func input(_ input: ExternalInput) {}
    }

    @Test func exitCarriesTheRangeOffsetAndInstruction() throws {
        let base: UInt64 = 0xFEB0_0000
        var code: [UInt8] = [0x48, 0xBB] + (0..<8).map { UInt8(truncatingIfNeeded: (base + 0x10) >> (8 * UInt64($0))) } // mov rbx, base + 0x10
        code += [0xC7, 0x43, 0x04, 0x78, 0x56, 0x34, 0x12]   // mov dword [rbx + 4], 0x12345678
        code += [0x8B, 0x43, 0x04]                           // mov eax, [rbx + 4]
        code += [0x3D, 0x78, 0x56, 0x34, 0x12, 0x75, 0x05]   // cmp eax, 0x12345678; jne fail
        code += [0xB0, 0x21, 0xE6, 0xF4, 0xF4]               // mov al, 0x21; out 0xf4, al; hlt
        code += [0xB0, 0x22, 0xE6, 0xF4, 0xF4]               // fail: mov al, 0x22; out 0xf4, al; hlt
        let image = makeELF(is64: true, entry: 0x100000, segments: [(0x100000, code, UInt64(code.count))])
        let host = try HostPhysicalMemory(frames: 8192)
        let machine = try Machine(configuration: MachineConfiguration(), host: host) { _ in }
        let exits = Exits()
        machine.observer = exits
        try machine.boot(image: image)
        #expect(machine.run() == .debugExit(code: 0x21))
        let testRange = try #require(try MachineConfiguration().memoryMap().ranges.firstIndex { $0.base.rawValue == base })
        try #require(exits.mmio.count == 2)
        for (i, m) in exits.mmio.enumerated() {
            #expect(m.gpa == base + 0x14 && m.linear == base + 0x14 && m.write == (i == 0) && !m.walk)
            #expect(m.range == testRange && m.offset == 0x14, "\(m)")
            #expect(m.decoded?.rip == 0x100000 + (i == 0 ? 10 : 17), "the vCPU's decoded instruction: \(m)")
            #expect(m.instruction.isEmpty, "no second fetch of the bytes")
        }
        #expect(machine.testDevice.writes == 1 && machine.testDevice.reads == 1)
        machine.teardown()
        #expect(host.liveFrames == 0)
    }

    /// IA32_APIC_BASE moves the local APIC page (SDM vol. 3, 11.4.4): the version register
    /// answers at the new base (addresses nothing else backs), and 0xFEE00000 is open bus for
    /// this vCPU; the access is no unbacked one (kvm-unit-tests' apic.c test_apicbase).
    @Test func movedAPICPageAnswersAtItsNewBase() throws {
        var code: [UInt8] = [0xB9, 0x1B, 0x00, 0x00, 0x00]               // mov ecx, IA32_APIC_BASE
        code += [0xB8, 0x00, 0x09, 0xD4, 0xFE, 0x31, 0xD2, 0x0F, 0x30]  // wrmsr 0xFED40000 | EN | BSP
        code += [0xBF, 0x30, 0x00, 0xD4, 0xFE, 0x8B, 0x07]              // mov edi, 0xFED40030; mov eax, [rdi]
        code += [0x3D, 0x14, 0x00, 0x05, 0x00, 0x75, 0x11]              // cmp eax, 0x50014; jne fail
        code += [0xBF, 0x30, 0x00, 0xE0, 0xFE, 0x8B, 0x07]              // mov edi, 0xFEE00030; mov eax, [rdi]
        code += [0x83, 0xF8, 0xFF, 0x75, 0x05]                          // cmp eax, -1; jne fail
        code += [0xB0, 0x21, 0xE6, 0xF4, 0xF4]                          // mov al, 0x21; out 0xf4, al; hlt
        code += [0xB0, 0x22, 0xE6, 0xF4, 0xF4]                          // fail
        let image = makeELF(is64: true, entry: 0x100000, segments: [(0x100000, code, UInt64(code.count))])
        let host = try HostPhysicalMemory(frames: 8192)
        let machine = try Machine(configuration: MachineConfiguration(), host: host) { _ in }
        try machine.boot(image: image)
        #expect(machine.run() == .debugExit(code: 0x21))
        #expect(machine.unbacked == 0)
        machine.teardown()
        #expect(host.liveFrames == 0)
    }
}
