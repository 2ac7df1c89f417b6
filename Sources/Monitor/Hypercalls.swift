import Devices
import VMM
import X86

// Hypercalls: VMCALL under an Intel CPU model, VMMCALL under an AMD one, with KVM's calling
// convention (Linux, Documentation/virt/kvm/x86/hypercalls.rst), the one guests and test
// suites (kvm-unit-tests' apic, hypercall and vmexit entries) speak to a VMM. The number is
// in RAX, the arguments in RBX, RCX, RDX and RSI, the result goes to RAX. Outside 64-bit
// mode every register counts as its low 32 bits and so does the result. A call from CPL > 0
// is refused with -KVM_EPERM; a number not served here gets -KVM_ENOSYS, as KVM answers
// one it does not know. softvmm does not advertise KVM's CPUID leaves (0x40000000): a guest
// kernel that probes for them uses none of this, so Linux's instruction counts stay as they
// were.

/// The hypercall numbers served, and KVM's error values (include/uapi/linux/kvm_para.h).
enum KVMHypercall {
    /// KVM_HC_VAPIC_POLL_IRQ: nothing to do (interrupts are checked at every instruction).
    static let vapicPollIRQ: UInt64 = 1
    /// KVM_HC_SEND_IPI (bitmap low, bitmap high, lowest APIC ID, ICR): fixed or NMI IPIs to
    /// the APIC IDs the two bitmaps name, counted from the lowest; the result is how many
    /// were sent.
    static let sendIPI: UInt64 = 10
    /// KVM_HC_SCHED_YIELD (APIC ID): the caller waits on that vCPU; its turn ends.
    static let schedYield: UInt64 = 11

    static let ePERM: Int64 = 1, eINVAL: Int64 = 22, eNOSYS: Int64 = 1000
}

extension Machine {
    /// A hypercall exit: the result in RAX, and the 3-byte instruction completed.
    func handleHypercall() {
        let wide = vcpu.mode == .bits64
        let mask: UInt64 = wide ? ~0 : 0xFFFF_FFFF
        let number = vcpu.register(GPR.rax) & mask
        let args = [GPR.rbx, GPR.rcx, GPR.rdx, GPR.rsi].map { vcpu.register($0) & mask }
        let result: Int64
        if vcpu.cpl != 0 {
            result = -KVMHypercall.ePERM
        } else {
            switch number {
            case KVMHypercall.vapicPollIRQ:
                result = 0
            case KVMHypercall.sendIPI:
                result = paravirtualIPI(bitmap: (args[0], args[1]), lowest: args[2], icr: args[3], clusterSize: wide ? 64 : 32)
            case KVMHypercall.schedYield:
                if processors.count > 1 { ctx.quantumEnd = vcpu.retired }
                result = 0
            default:
                result = -KVMHypercall.eNOSYS
            }
        }
        vcpu.setRegister(GPR.rax, UInt64(bitPattern: result) & mask)
        vcpu.completeInstruction(length: 3)
    }

    /// KVM_HC_SEND_IPI: the ICR's vector, delivery mode and trigger go to each APIC ID named,
    /// by physical destination; a logical destination or a shorthand is -KVM_EINVAL. Bit i of
    /// the low bitmap is APIC ID `lowest + i`, bit i of the high one `lowest + clusterSize + i`.
    func paravirtualIPI(bitmap: (UInt64, UInt64), lowest: UInt64, icr: UInt64, clusterSize: UInt64) -> Int64 {
        if icr & (1 << 11 | 3 << 18) != 0 { return -KVMHypercall.eINVAL }
        var message = InterruptMessage(icr: icr, x2APIC: true)
        var sent: Int64 = 0
        for (half, bits) in [bitmap.0, bitmap.1].enumerated() {
            for i in 0..<clusterSize where bits >> i & 1 != 0 {
                let (id, overflow) = lowest.addingReportingOverflow(UInt64(half) * clusterSize + i)
                guard !overflow, id <= UInt64(UInt32.max),
                      let target = apicBus.apics.firstIndex(where: { $0.globallyEnabled && UInt64($0.id) == id }) else { continue }
                message.destination = UInt32(id)
                apicBus.apics[target].receive(message)
                sent += 1
            }
        }
        return sent
    }
}
