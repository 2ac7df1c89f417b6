import Devices
import Foundation
import VMM
import X86
import X86CPU

// Several vCPUs on one host thread (`--smp`): each has its local APIC and the monitor's state
// for it; they run in turn, each for a quantum of instructions, so the interleaving is a
// function of instruction counts and the exits they take, and two runs are the same run.
// Guest time is one clock: the running vCPU's. A vCPU whose turn comes catches up with it
// (the time it waited counts as idle time, as a halted vCPU's does), so the clock every vCPU
// reads only moves forward: a TSC read on one vCPU is never below a read on another before it.
//
// Atomicity: no two vCPUs ever run at once, and a vCPU's turn ends only between
// instructions, so every LOCKed read-modify-write (and every other instruction) is atomic
// with respect to the other vCPUs by construction; nothing in the interpreter locks.

/// A vCPU as the monitor keeps it: its local APIC and what waits for it.
final class ProcessorContext {
    let index: Int
    let vcpu: VirtualCPU
    let lapic: LocalAPIC
    /// The MMIO and string-I/O assist over this vCPU's state.
    let assist: InstructionAssist
    /// An NMI waiting to be taken.
    var nmiPending = false
    /// An ExtINT message came: the vCPU takes the 8259A's vector.
    var extINTRequested = false
    /// CR8 as the machine last set it from the TPR.
    var cr8Shown: UInt64 = 0
    /// An AP after RESET or INIT waits for a STARTUP IPI and runs nothing (SDM vol. 3, 9.4.2).
    var waitingForSIPI: Bool
    /// An INIT for the vCPU that sent it (to itself, or to all including itself): applied
    /// once the exit that sent it is complete.
    var initPending = false
    /// The retired count at which the vCPU's turn ends.
    var quantumEnd: UInt64 = 0

    init(index: Int, vcpu: VirtualCPU, lapic: LocalAPIC, assist: InstructionAssist) {
        (self.index, self.vcpu, self.lapic, self.assist) = (index, vcpu, lapic, assist)
        waitingForSIPI = index > 0
    }

    /// The monitor's fields, for snapshots: what waits for the vCPU (the BSP's are in the
    /// snapshot's "machine" section, as before SMP), and where it stands in its turns.
    func interruptStateCoding(_ s: inout StateCoder) {
        s.field(&nmiPending); s.field(&extINTRequested); s.field(&cr8Shown)
    }
    func turnCoding(_ s: inout StateCoder) {
        s.field(&waitingForSIPI); s.field(&initPending); s.field(&quantumEnd)
    }
}

/// The local APIC page at 0xFEE00000: every vCPU reaches its own there, unless its
/// IA32_APIC_BASE moved the page elsewhere (the assist finds it there): then this one is open
/// bus for it.
final class RunningLocalAPIC: MMIODevice {
    unowned let machine: Machine
    init(machine: Machine) { self.machine = machine }
    var here: Bool { machine.vcpu.localAPICPage == LocalAPIC.defaultBase }
    func mmioRead(offset: UInt64, size: Int) -> UInt64 {
        guard here else { return ~0 }
        machine.chargeAPICAccess()
        return machine.lapic.mmioRead(offset: offset, size: size)
    }
    func mmioWrite(offset: UInt64, size: Int, value: UInt64) {
        guard here else { return }
        machine.chargeAPICAccess()
        machine.lapic.mmioWrite(offset: offset, size: size, value: value)
    }
}

extension VirtualCPU {
    /// Where IA32_APIC_BASE puts this vCPU's xAPIC page (0xFEE00000 unless the guest moved it).
    var localAPICPage: UInt64 { (msr(MSRIndex.apicBase) ?? LocalAPIC.defaultBase) & 0x000F_FFFF_FFFF_F000 }
}

extension Machine {
    /// INIT arrived for a vCPU: its state as after RESET but for the x87, SSE and MSR state,
    /// its local APIC reset but for the ID; an AP then waits for a STARTUP IPI, the BSP starts
    /// at the reset vector. The running vCPU's own INIT waits until its exit is complete.
    func initialize(_ p: ProcessorContext) {
        if p === ctx {
            p.initPending = true
            vcpu.requestExit()
            return
        }
        reset(p)
    }

    /// INIT's effect on a vCPU and on the monitor's state for it.
    func reset(_ p: ProcessorContext) {
        p.vcpu.initialize()
        p.lapic.initialize()
        p.nmiPending = false
        p.extINTRequested = false
        p.initPending = false
        p.cr8Shown = 0
        p.waitingForSIPI = p.index > 0
    }

    /// STARTUP (SDM vol. 3, 9.4.4): a vCPU waiting for it starts in real mode at
    /// vector × 4096 (CS = vector << 8, IP 0); any other ignores it.
    func startup(_ p: ProcessorContext, vector: UInt8) {
        guard p.waitingForSIPI, !p.initPending else { return }
        p.waitingForSIPI = false
        p.vcpu.resetToRealMode(selector: UInt16(vector) << 8, ip: 0)
    }

    /// Whether a vCPU can run now: started, and not halted unless something wakes it (an
    /// interrupt it can take, an NMI).
    func runnable(_ p: ProcessorContext) -> Bool {
        if p.waitingForSIPI { return false }
        if p.initPending || !p.vcpu.halted { return true }
        return p.nmiPending || (interruptSource(for: p) != nil && p.vcpu.rflags & Flag.if != 0)
    }

    /// Chooses the vCPU to run next: the running one while its turn lasts and it can run, else
    /// the next that can in index order (a new turn); when none can, guest time jumps to the
    /// next event (each jump counts against the instruction limit, as an exit does). Returns
    /// how the run ends if nothing can ever wake a vCPU.
    func schedule(limit: UInt64) -> MachineStop? {
        if pinnedVCPU == nil && runnable(ctx) && vcpu.retired < ctx.quantumEnd { return nil }
        while true {
            if let pin = pinnedVCPU {
                // Only this vCPU runs (a debugger steps it); the others wait, their counts as
                // they were. While it waits, time moves on to what can wake it.
                let p = processors[pin]
                if runnable(p) {
                    if p !== ctx || vcpu.retired >= ctx.quantumEnd { switchTo(p) }
                    return nil
                }
                // Nothing can wake it (it waits for a STARTUP IPI another vCPU would send, or
                // halted with interrupts off): the step ends where it is.
                if p.waitingForSIPI || (!p.nmiPending && p.vcpu.rflags & Flag.if == 0) { return .limit }
            } else {
                let n = processors.count
                for k in 1...n {
                    let p = processors[(ctx.index + k) % n]
                    if runnable(p) {
                        switchTo(p)
                        return nil
                    }
                }
            }
            if pastTimeLimit { return .stopped(Machine.timeLimitReason) }
            guard idleAll() else { return .halted(interruptsEnabled: someVCPUTakesInterrupts) }
            exits += 1
            if icount &+ UInt64(exits) >= limit { return .limit }
        }
    }

    /// The running vCPU's own INIT, now that the exit that sent it is complete.
    func initializeRunning() {
        reset(ctx)
        ctx.quantumEnd = vcpu.retired
    }

    /// Gives `p` its turn: it catches up with the clock (the running vCPU's time) and runs
    /// for a quantum.
    func switchTo(_ p: ProcessorContext) {
        let now = vcpu.guestTicks
        if p !== ctx {
            ctx = p
            if now > vcpu.guestTicks { vcpu.idle(ticks: now - vcpu.guestTicks) }
            clock.now = vcpu.nanoseconds
            observer?.switched(to: p.index, icount: icount)
        }
        p.quantumEnd = vcpu.retired &+ configuration.quantum
    }

    /// Some started vCPU has interrupts enabled: a timer or an input can wake it.
    var someVCPUTakesInterrupts: Bool { processors.contains { !$0.waitingForSIPI && $0.vcpu.rflags & Flag.if != 0 } }

    /// Every vCPU waits (halted, or for a STARTUP IPI): guest time jumps to the next timer
    /// event or input. False when nothing can ever wake one: no event is due, or every halted
    /// vCPU has interrupts disabled.
    func idleAll() -> Bool {
        guard someVCPUTakesInterrupts, idleUntilNextEvent(anyInterruptsEnabled: true) else { return false }
        advanceTime()
        deliverInputs()
        return true
    }
}
