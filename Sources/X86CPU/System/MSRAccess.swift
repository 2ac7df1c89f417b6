// RDMSR and WRMSR: the registers CPUState keeps, the MSR file, the exits a VMM asks for;
// and the time-stamp counter.

import X86
import X86Decoder

extension CPU {
    func modelSpecificRegister(write: Bool) throws(CPUException) {
        let index = UInt32(truncatingIfNeeded: state.rcx)
        let value = (state.rdx & 0xFFFF_FFFF) << 32 | state.rax & 0xFFFF_FFFF
        if exitingMSRs.contains(index) { throw .exit(.msr(index: index, write: write ? value : nil)) }
        if write {
            switch index {
            case MSRIndex.fsBase, MSRIndex.gsBase:
                guard isCanonicalForProcessor(value) else { throw .generalProtection(0) }
                if index == MSRIndex.fsBase { state.fsBase = value } else { state.gsBase = value }
            case MSRIndex.efer:
                // LME cannot change while paging is on; LMA is read-only.
                let lmaBit = state.efer & EFERBit.lma
                let requested = value & ~EFERBit.lma | lmaBit
                if state.pagingEnabled && (requested ^ state.efer) & EFERBit.lme != 0 { throw .generalProtection(0) }
                // EFER lives in the register file (MOV CR0 sets LMA there): the MSR checks compare
                // against it, not against a value they last stored (which a loader that set
                // EFER directly never gave them: Linux's WRMSR EFER with LMA set was a #GP).
                msrs[index] = state.efer
                try msrs.write(index, requested, longModeActive: state.longModeActive, linearBits: linearBits)
                // The TLB holds rights NXE decided; a write that changes nothing keeps it (the SDM
                // asks for no flush at all: kvm-unit-tests' `access` writes EFER before each of its
                // millions of accesses, and each flush sent it through the page tables again).
                let changed = requested != state.efer
                state.efer = requested
                if changed { memory.flushTLB() }
            case MSRIndex.tsc:
                tscOffset = value &- guestTicks
            case MSRIndex.pkrs:
                guard model.reports(leaf: 7, register: 2, bit: 31), value >> 32 == 0 else { throw .generalProtection(0) }
                let changed = UInt32(value) != state.pkrs
                state.pkrs = UInt32(value)
                if changed { memory.flushTLB() } // the TLB caches access rights that PKRS decides
            default:
                try msrs.write(index, value, longModeActive: state.longModeActive, linearBits: linearBits)
            }
        } else {
            let v: UInt64
            switch index {
            case MSRIndex.fsBase: v = state.fsBase
            case MSRIndex.gsBase: v = state.gsBase
            case MSRIndex.efer: v = state.efer
            case MSRIndex.pkrs:
                guard model.reports(leaf: 7, register: 2, bit: 31) else { throw .generalProtection(0) }
                v = UInt64(state.pkrs)
            case MSRIndex.archCapabilities where !model.reports(leaf: 7, register: 3, bit: 29): throw .generalProtection(0)
            default: v = try msrs.read(index, tsc: timeStampCounter)
            }
            state.rax = v & 0xFFFF_FFFF
            state.rdx = v >> 32
        }
    }

    /// The guest's TSC: the retired-instruction count scaled, plus what WRMSR set.
    public var timeStampCounter: UInt64 { guestTicks &+ tscOffset }
    /// Guest time in TSC ticks: the retired instructions, plus the time the VMM let pass while
    /// the vCPU was halted (`idleTicks`); the TSC adds the guest's own offset (WRMSR TSC).
    public var guestTicks: UInt64 { retired &* model.tscPerInstruction &+ idleTicks }

    /// An instruction takes `ticks` of guest time beyond its own tick; at the VMM's deadline
    /// the run ends after it.
    func charge(ticks: UInt64) {
        idleTicks &+= ticks
        if guestTicks >= tickDeadline { state.exitRequests |= 2 }
    }
}
