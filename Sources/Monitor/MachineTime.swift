import Devices
import Foundation
import VMM
import X86
import X86CPU

// The machine's time and interrupts: the firmware state it starts from, the clock and the
// timed devices, interrupt routing (8259A pair, IOAPIC, local APIC, the TPR), the APIC and
// other MSR exits, and sleeping through a halt.

extension Machine {
    /// The platform as a PC's firmware (SeaBIOS, under QEMU) leaves it for a boot loader:
    /// the 8259As at vectors 0x08 and 0x70 with IRQs 0, 1, 2, 6, 8, 12 and 14 unmasked; the
    /// PIT's counter 0 as an 18.2 Hz square wave; the local APIC software-enabled (spurious
    /// vector 0xFF) in virtual-wire mode: LINT0 ExtINT, LINT1 NMI.
    func setFirmwareState() {
        // The timer first: the PICs' initialization then clears the request its start made
        // (the firmware took its interrupts before it handed over).
        for (offset, value) in [(3, 0x36), (0, 0), (0, 0)] as [(UInt16, UInt32)] { pit.portWrite(offset: offset, size: 1, value: value) }
        let master = pic.chip(slave: false), slave = pic.chip(slave: true)
        for (chip, bytes) in [(master, [0x11, 0x08, 0x04, 0x01, 0xB8]), (slave, [0x11, 0x70, 0x02, 0x01, 0x8E])] {
            chip.portWrite(offset: 0, size: 1, value: UInt32(bytes[0]))
            for b in bytes.dropFirst() { chip.portWrite(offset: 1, size: 1, value: UInt32(b)) }
        }
        lapic.mmioWrite(offset: UInt64(LocalAPIC.Register.svr), size: 4, value: 0x1FF)
        lapic.mmioWrite(offset: UInt64(LocalAPIC.Register.lvtLINT0), size: 4, value: 0x8700)
        lapic.mmioWrite(offset: UInt64(LocalAPIC.Register.lvtLINT1), size: 4, value: 0x8400)
    }

    /// An ISA interrupt line: to the 8259A pair and to the IOAPIC (IRQ 0 on pin 2, as on
    /// QEMU's PC and in the interrupt source override a firmware would describe).
    func isaIRQ(_ n: Int) -> IRQLine {
        IRQLine { [unowned self] level in
            pic.setIRQ(n, level)
            ioapic.setPin(n == 0 ? 2 : n, level)
        }
    }

    /// Brings the clock to the vCPU's time (or the host's, with `--realtime`) and the timer
    /// devices up to it.
    func advanceTime() {
        if configuration.realtime {
            let host = hostElapsed
            if host > vcpu.nanoseconds { vcpu.idle(ticks: vcpu.ticks(nanoseconds: host - vcpu.nanoseconds)) }
        }
        clock.now = vcpu.nanoseconds
        pit.advance()
        for p in processors { p.lapic.advance() }
        rtc.advance()
        serial.advance()
    }

    /// The earliest timer event, in guest nanoseconds (the timed devices called directly, not
    /// through an array of existentials: this runs on every exit).
    func nextEvent() -> UInt64? {
        var next = UInt64.max
        if let t = pit.nextEvent() { next = min(next, t) }
        for p in processors { if let t = p.lapic.nextEvent() { next = min(next, t) } }
        if let t = rtc.nextEvent() { next = min(next, t) }
        if let t = serial.nextEvent() { next = min(next, t) }
        if let t = stopAtTime { next = min(next, t) }
        return next == .max ? nil : next
    }

    /// An interrupt the controllers present: injected if the vCPU can take it now, or an
    /// interrupt window asked for (the INTA cycle happens only at injection).
    func offerInterrupt() {
        synchronizeTPR()
        vcpu.tprThreshold = UInt64(lapic.tprThreshold)
        // A debugger's single step: the instruction runs, not a handler (the interrupt waits).
        if holdsInterrupts {
            vcpu.cancelInterruptWindow()
            return
        }
        // An NMI first: it waits only for the previous NMI's handler (its IRET) and the shadow.
        if nmiPending {
            if vcpu.nmiDeliverable {
                vcpu.inject(VCPUEvent(.nmi, vector: 2))
                nmiPending = false
                interruptsDelivered += 1
            } else if vcpu.nmiBlocked {
                vcpu.requestNMIWindow()
            } else if vcpu.interruptShadow {
                vcpu.requestShadowWindow()
            } else {
                vcpu.requestExit()
            }
        }
        guard let source = interruptSource else {
            vcpu.cancelInterruptWindow()
            return
        }
        if vcpu.interruptible {
            let vector = source == .localAPIC ? lapic.acknowledge() : pic.acknowledge()
            if source == .pic { extINTRequested = false }
            vcpu.inject(VCPUEvent(.externalInterrupt, vector: UInt8(truncatingIfNeeded: vector)))
            interruptsDelivered += 1
        } else {
            vcpu.requestInterruptWindow()
        }
    }

    /// CR8 and the local APIC's TPR are one register: a CR8 the guest changed sets the TPR
    /// (its low nibble clears); otherwise CR8 shows the TPR (written through the APIC). A MOV
    /// to CR8 exits only below the TPR threshold, so this runs after every exit, before the
    /// exit's handler can read the TPR.
    @inline(__always) func synchronizeTPR() {
        if vcpu.cr8 != cr8Shown { lapic.tpr = UInt32(vcpu.cr8) << 4 }
        cr8Shown = UInt64(lapic.tpr >> 4)
        vcpu.cr8 = cr8Shown
    }

    enum InterruptSource { case localAPIC, pic }
    /// Where the interrupt waiting for the running vCPU comes from (a halted one wakes for it).
    var interruptSource: InterruptSource? { interruptSource(for: ctx) }

    /// Where the interrupt waiting for a vCPU comes from: its local APIC's IRR first, then the
    /// 8259A's INTR if it reaches the CPU (as QEMU orders them).
    func interruptSource(for p: ProcessorContext) -> InterruptSource? {
        if p.lapic.deliverableVector != nil { return .localAPIC }
        return pic.interruptRequested && (p.lapic.acceptsPICInterrupts || p.extINTRequested) ? .pic : nil
    }

    /// Host nanoseconds since the machine was made (`--realtime`).
    var hostElapsed: UInt64 { DispatchTime.now().uptimeNanoseconds - hostStart }

    /// RDMSR/WRMSR of the local APIC's MSRs; a refused access is #GP(0).
    func handleMSR(_ index: UInt32, write value: UInt64?) {
        var result: UInt64? = nil
        var ok = true
        switch index {
        case MSRIndex.apicBase:
            if let value {
                // BSP (8), EXTD (10), EN (11), the base (12 up to MAXPHYADDR).
                let allowed: UInt64 = ((1 << UInt64(vcpu.physicalAddressBits)) - 1) & ~0xFFF | 1 << 8 | 1 << 10 | 1 << 11
                let old = vcpu.msr(index) ?? 0
                ok = value & ~allowed == 0 && (value ^ old) & (1 << 8) == 0
                    && lapic.setBase(enabled: value & 1 << 11 != 0, x2APIC: value & 1 << 10 != 0)
                if ok { vcpu.setMSR(index, value) }
            } else {
                result = vcpu.msr(index) ?? 0
            }
        case MSRIndex.tscDeadline:
            if let value {
                let tsc = vcpu.timeStampCounter
                let wait = value > tsc ? value - tsc : 0
                lapic.setTSCDeadline(value, at: clock.now &+ vcpu.nanoseconds(ticks: wait))
            } else {
                result = lapic.tscDeadline
            }
        default:
            chargeAPICAccess()
            if let value { ok = lapic.writeMSR(index, value) } else { result = lapic.readMSR(index); ok = result != nil }
        }
        guard ok else {
            vcpu.inject(VCPUEvent(.exception, vector: 13, errorCode: 0))
            return
        }
        if let result {
            vcpu.setRegister(0, result & 0xFFFF_FFFF)
            vcpu.setRegister(2, result >> 32)
        }
        vcpu.completeInstruction(length: 2)
    }

    /// The TSC ticks until the timer event at `event` (guest nanoseconds): 0 once it is due.
    func ticksUntil(_ event: UInt64) -> UInt64 {
        event > clock.now ? vcpu.ticks(nanoseconds: event - clock.now) : 0
    }

    /// A halted vCPU (every vCPU, with `anyInterruptsEnabled`: the caller has found one that
    /// takes interrupts): guest time jumps to the next timer event or input (or, with
    /// `--realtime`, waits for it). Returns false when nothing can ever wake it.
    func idleUntilNextEvent(anyInterruptsEnabled: Bool = false) -> Bool {
        guard anyInterruptsEnabled || vcpu.rflags & Flag.if != 0 else { return false }
        let now = vcpu.guestTicks
        var wait: UInt64?
        if let next = nextEvent() {
            if configuration.realtime {
                let host = hostElapsed
                if next > host { usleep(UInt32(min((next - host) / 1000, 1_000_000))) }
            }
            let ns = vcpu.nanoseconds
            wait = next > ns ? max(1, vcpu.ticks(nanoseconds: next - ns)) : 0
        }
        let due = input?.nextDue
        if due == nil, let feed = input, feed.wait(nanoseconds: wait.map { vcpu.nanoseconds(ticks: $0) }) {
            // A live feed's input came during the halt: it is due now.
            return true
        }
        if let due {
            let ticks = due.ticks > now ? due.ticks - now : 0
            wait = min(wait ?? ticks, ticks)
        }
        guard let wait else { return false }
        vcpu.idle(ticks: wait)
        return true
    }
}
