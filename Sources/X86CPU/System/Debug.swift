import X86

// The debug registers (SDM vol. 3, chapter 18): instruction breakpoints (a fault before the
// instruction at DRn's linear address, unless RFLAGS.RF is set), data breakpoints on writes
// or on reads and writes (a trap after the instruction that touched DRn's 1, 2, 4 or 8
// bytes), single-step (TF: a trap after the instruction), and general detect (DR7.GD: a fault
// on the next MOV DR). DR6 reports which condition fired (B0-B3, BD, BS); its bits are sticky.
// I/O breakpoints (R/W = 10 with CR4.DE) are not implemented: that combination never fires.
//
// None of this costs the common path more than one test of RFLAGS.TF/RF and DR7's enable bits
// per instruction: `debugStep` runs the instruction when any is set. Data breakpoints keep
// their pages out of the TLB (`CPUMemory.watch`, kept current by `syncWatchpoints` whenever
// a debug register changes), so the accesses to them take the MMU's slow path, which records
// hits in the register file.

/// A data breakpoint as the MMU checks it.
public struct Watchpoint: Equatable, Sendable {
    /// DR0-DR3.
    public var index: Int
    /// The first byte and the length (1, 2, 4 or 8, aligned).
    public var address: UInt64, length: UInt64
    /// Only writes trigger (R/W = 01), or reads and writes (11).
    public var writesOnly: Bool
    public init(index: Int, address: UInt64, length: UInt64, writesOnly: Bool) {
        (self.index, self.address, self.length, self.writesOnly) = (index, address, length, writesOnly)
    }
    public func overlaps(_ a: UInt64, _ size: Int, write: Bool) -> Bool {
        (write || !writesOnly) && a < address &+ length && address < a &+ UInt64(size)
    }
}

extension CPUState {
    /// What the VMM asked the run loop to stop for: bit 0, the interrupt window
    /// (RFLAGS.IF set and no interrupt shadow); bit 1, before the next instruction; bit 2,
    /// the NMI window (becomes bit 1 at the IRET that ends NMI blocking); bit 3, the end of
    /// the STI or MOV SS shadow (before the first instruction it does not cover).
    public var exitRequests: UInt64 {
        @inline(__always) get { file.pointee.exitRequests }
        set { file.pointee.exitRequests = newValue }
    }
    /// DR6's B0-B3 for data breakpoints hit by the current instruction.
    public var watchHits: UInt64 {
        @inline(__always) get { file.pointee.watchHits }
        set { file.pointee.watchHits = newValue }
    }
    /// A single-step trap the last instruction owes and has not taken: SYSCALL and
    /// SYSRET trap when TF is set at their end, which SYSRET may have set; the trap is taken
    /// before the next instruction.
    public var pendingSingleStep: Bool {
        get { file.pointee.pendingSingleStep != 0 }
        set { file.pointee.pendingSingleStep = newValue ? 1 : 0 }
    }
    /// NMIs are blocked: from an NMI's delivery until the next IRET completes.
    public var nmiBlocked: Bool {
        get { file.pointee.nmiBlocked != 0 }
        set { file.pointee.nmiBlocked = newValue ? 1 : 0 }
    }
    /// The instruction after MOV SS or POP SS (encoded as `interruptShadow` is): debug
    /// exceptions are blocked there. The single-step trap and data breakpoints of the MOV SS
    /// itself are delivered after the next instruction, and Intel drops an instruction
    /// breakpoint on that next instruction (AMD takes it).
    public var movSSShadow: Bool {
        get { file.pointee.movSSShadowEnd != 0 && file.pointee.movSSShadowEnd == retired &+ 1 }
        set { file.pointee.movSSShadowEnd = newValue ? retired &+ 2 : 0 }
    }
    /// Debug conditions the MOV SS blocking held back: DR6's B0-B3 and BS, raised
    /// with the next instruction's.
    var deferredDebugStatus: UInt64 {
        get { file.pointee.deferredDebugStatus }
        set { file.pointee.deferredDebugStatus = newValue }
    }
    /// Records a #DB's conditions in DR6: B0-B3 say which breakpoints this one matched (earlier
    /// ones are cleared), BD, BS and BT stay set until software clears them.
    func reportDebug(_ status: UInt64) {
        setDR(6, dr(6) & ~0xF | status)
    }
    /// Any breakpoint enabled (DR7's L0-L3, G0-G3).
    @inline(__always) var breakpointsEnabled: Bool { file.pointee.dr.7 & 0xFF != 0 }
}

public enum DR6Bit {
    public static let bd: UInt64 = 1 << 13, bs: UInt64 = 1 << 14
}

extension CPU {
    /// The breakpoints DR7 enables: (index, R/W, length in bytes, address).
    func enabledBreakpoints() -> [(Int, UInt64, UInt64, UInt64)] {
        let dr7 = state.dr(7)
        return (0..<4).compactMap { n in
            guard dr7 >> UInt64(2 * n) & 3 != 0 else { return nil }
            let rw = dr7 >> UInt64(16 + 4 * n) & 3
            let len: UInt64 = [1, 2, 8, 4][Int(dr7 >> UInt64(18 + 4 * n) & 3)]
            return (n, rw, len, state.dr(n) & ~(len - 1))
        }
    }

    /// Hands the data breakpoints to the MMU when DR0-DR3 or DR7 changed: MOV DR calls it, and
    /// the VMM after setting state (the comparison keeps a state write-back that changed no
    /// debug register from flushing the TLB).
    public func syncWatchpoints(force: Bool = false) {
        let key = (state.dr(0), state.dr(1), state.dr(2), state.dr(3), state.breakpointsEnabled ? state.dr(7) : 0)
        guard key != watchKey || force else { return }
        watchKey = key
        let w = enabledBreakpoints().compactMap { b -> Watchpoint? in
            b.1 == 1 || b.1 == 3 ? Watchpoint(index: b.0, address: b.3, length: b.2, writesOnly: b.1 == 1) : nil
        }
        memory.watch(w + debuggerWatchpoints)
    }

    /// A debugger's breakpoints or watchpoints changed (or the whole state was replaced): the
    /// run loop looks after every instruction while a watchpoint is set (exit request bit 4),
    /// and the MMU watches their pages; while a breakpoint is set (bit 5) it looks before
    /// every block and every instruction it runs alone, and blocks end before breakpoints
    /// (those built before go).
    func debuggerChanged(breakpointsChanged: Bool = true) {
        var r = state.exitRequests & ~RegisterFile.debuggerRequests
        if !debuggerWatchpoints.isEmpty { r |= RegisterFile.debuggerWatching }
        if !debuggerBreakpoints.isEmpty { r |= RegisterFile.debuggerBreaking }
        state.exitRequests = r
        if breakpointsChanged { dropBlocks() }
        syncWatchpoints(force: true)
    }

    /// After an instruction under a debugger: its watchpoints' hits move to
    /// `debuggerWatchHits` (the guest's DR6 never sees them); true when there were any.
    @inline(never)
    func takeDebuggerWatchHits() -> Bool {
        let hits = state.watchHits & ~0xF
        guard hits != 0 else { return false }
        state.watchHits &= 0xF
        debuggerWatchHits |= hits
        return true
    }

    /// Runs one instruction with the debug conditions checked: RF, instruction breakpoints
    /// before it, data breakpoints and single-step after it. Returns an exit when one is needed.
    @inline(never)
    func debugStep() -> CPUExit? {
        let flags = state.rflags
        if state.pendingSingleStep {
            state.pendingSingleStep = false
            state.reportDebug(DR6Bit.bs)
            return raise(.debug)
        }
        let blocked = state.movSSShadow
        if flags & Flag.rf == 0 && state.breakpointsEnabled && !(blocked && vendor == .intel) {
            let rip = state.linearRIP
            var hits: UInt64 = 0
            for b in enabledBreakpoints() where b.1 == 0 && b.3 == rip { hits |= 1 << UInt64(b.0) }
            if hits != 0 {
                state.reportDebug(hits)
                return raise(.debug) // a fault: RIP stays at the instruction
            }
        }
        state.watchHits = 0
        tfSampledAtEnd = false
        switch step() {
        case .executed:
            // RF lets one instruction past its breakpoint; an instruction that set it (IRET) keeps it.
            if flags & Flag.rf != 0 { state.rflags &= ~Flag.rf }
            _ = takeDebuggerWatchHits()
            var status = state.watchHits | state.deferredDebugStatus
            state.watchHits = 0
            state.deferredDebugStatus = 0
            // Single-step: TF as the instruction began, except for SYSCALL and SYSRET, which
            // trap when TF is set at their end (they leave `pendingSingleStep` saying so).
            if state.pendingSingleStep || (flags & Flag.tf != 0 && !tfSampledAtEnd) { status |= DR6Bit.bs }
            state.pendingSingleStep = false
            tfSampledAtEnd = false
            if status != 0 && state.movSSShadow {
                // This was MOV SS or POP SS: its traps wait for the next instruction's end.
                state.deferredDebugStatus = status
                return nil
            }
            if status != 0 {
                state.reportDebug(status)
                return raise(.debug)
            }
            return nil
        case .exception(let e):
            state.watchHits = 0
            return deliverOrExit(e)
        }
    }
}
