import GuestMemory
import Testing
import Monitor

/// Hypercalls with KVM's calling convention (Linux, Documentation/virt/kvm/x86/hypercalls.rst):
/// the CPU model's vendor's instruction exits to the monitor, the other vendor's is #UD, and
/// the answers are KVM's: -KVM_ENOSYS for an unknown number, -KVM_EINVAL for a PV IPI with
/// a logical destination, and the count of IPIs sent, each landing in the named APIC's IRR.
@Suite struct HypercallTests {
    /// Runs 64-bit `code` at 1 MiB under the CPU model `cpu`; the guest reports through port
    /// 0xF4.
    static func run(_ code: [UInt8], cpu: String) throws -> MachineStop {
        let image = makeELF(is64: true, entry: 0x100000, segments: [(0x100000, code, UInt64(code.count))])
        var config = MachineConfiguration()
        try config.setCPU(cpu)
        let host = try HostPhysicalMemory(frames: 8192)
        let machine = try Machine(configuration: config, host: host) { _ in }
        try machine.boot(image: image)
        let stop = machine.run()
        machine.teardown()
        #expect(host.liveFrames == 0)
        return stop
    }

    /// `cmp rax, imm32; jne fail` where `fail` is `skip` bytes on.
    static func expectRAX(_ v: Int32, failAfter skip: UInt8) -> [UInt8] {
        [0x48, 0x3D] + withUnsafeBytes(of: v.littleEndian, Array.init) + [0x0F, 0x85] + [skip, 0, 0, 0]
    }

    /// The checks, each followed by a jump to the failure exit (status 0x22) if RAX is wrong.
    static func checks(hypercall: [UInt8]) -> [UInt8] {
        var body: [UInt8] = []
        var jumps: [Int] = []   // offsets of each jne's rel32
        func check(_ v: Int32) { body += expectRAX(v, failAfter: 0); jumps.append(body.count - 4) }
        body += [0xFA]                                                      // cli
        body += [0xBF, 0xF0, 0x00, 0xE0, 0xFE, 0xC7, 0x07, 0xFF, 0x01, 0x00, 0x00]  // mov edi, 0xFEE000F0; mov dword [rdi], 0x1FF
        body += [0xB8, 0x39, 0x30, 0x00, 0x00] + hypercall                  // mov eax, 12345; hypercall
        check(-1000)                                                        // -KVM_ENOSYS
        body += [0xB8, 0x0A, 0x00, 0x00, 0x00, 0xBB, 0x01, 0x00, 0x00, 0x00]  // mov eax, 10; mov ebx, 1 (APIC ID 0)
        body += [0x31, 0xC9, 0x31, 0xD2, 0xBE, 0x40, 0x08, 0x00, 0x00] + hypercall  // ecx = edx = 0; esi = logical | 0x40
        check(-22)                                                          // -KVM_EINVAL
        body += [0xB8, 0x0A, 0x00, 0x00, 0x00, 0xBE, 0x50, 0x00, 0x00, 0x00] + hypercall  // eax = 10; esi = fixed 0x50
        check(1)                                                            // one IPI sent
        body += [0xBF, 0x20, 0x02, 0xE0, 0xFE, 0x8B, 0x07]                  // mov edi, 0xFEE00220; mov eax, [rdi] (IRR 0x40-0x5F)
        check(0x10000)                                                      // vector 0x50 requested
        body += [0xB8, 0x0A, 0x00, 0x00, 0x00, 0xBA, 0x05, 0x00, 0x00, 0x00] + hypercall  // lowest APIC ID 5: nobody
        check(0)
        body += [0xB0, 0x21, 0xE6, 0xF4, 0xF4]                              // pass: out 0xf4, 0x21; hlt
        let fail = body.count
        body += [0xB0, 0x22, 0xE6, 0xF4, 0xF4]
        for j in jumps {
            let rel = Int32(fail - (j + 4))
            withUnsafeBytes(of: rel.littleEndian) { for (i, b) in $0.enumerated() { body[j + i] = b } }
        }
        return body
    }

    static let vmcall: [UInt8] = [0x0F, 0x01, 0xC1], vmmcall: [UInt8] = [0x0F, 0x01, 0xD9]

    @Test func intelModelServesVMCALL() throws {
        #expect(try Self.run(Self.checks(hypercall: Self.vmcall), cpu: "max") == .debugExit(code: 0x21))
        // VMMCALL is AMD's: #UD, and with no IDT the guest shuts down.
        #expect(try Self.run(Self.vmmcall, cpu: "max") == .shutdown)
    }

    @Test func amdModelServesVMMCALL() throws {
        #expect(try Self.run(Self.checks(hypercall: Self.vmmcall), cpu: "EPYC") == .debugExit(code: 0x21))
        #expect(try Self.run(Self.vmcall, cpu: "EPYC") == .shutdown)
    }
}
