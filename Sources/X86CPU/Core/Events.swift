import X86

/// An event the VMM injects (vmm(4)'s VMM_IOC_INTR, NVMM's nvmm_vcpu_inject): delivered
/// through the IDT before the next instruction.
public struct InjectedEvent: Equatable, Sendable {
    public enum Kind: Equatable, Sendable { case externalInterrupt, nmi, exception }
    public var kind: Kind
    public var vector: Int
    public var errorCode: UInt32?
    /// A #PF's linear address (CR2).
    public var faultAddress: UInt64 = 0
    public init(_ kind: Kind, vector: Int, errorCode: UInt32? = nil) {
        (self.kind, self.vector, self.errorCode) = (kind, vector, errorCode)
    }
}

/// Why `run` returned.
public enum RunStop: Equatable, Sendable {
    case exit(CPUExit)
    /// The instruction budget ran out.
    case limit
}

extension CPU {
    /// Runs the guest until an exit or until `limit` more instructions have retired.
    /// Exceptions are delivered through the guest's IDT (double fault, triple fault = shutdown
    /// exit); a pending injected event is delivered first.
    @_specialize(exported: true, where Memory == GuestMMU)
    public func run(limit: UInt64) -> RunStop {
        interruptedDelivery = nil
        // Another vCPU may have stored into code this one decoded since it last ran.
        if state.invalidationPending { applyCodeWrites() }
        if state.activity == .shutdown { return .exit(.shutdown) }
        if let e = pendingEvent {
            pendingEvent = nil
            state.activity = .active
            let exit: CPUExit?
            switch e.kind {
            case .exception:
                exit = raise(e.vector == 14 ? .pageFault(address: e.faultAddress, errorCode: e.errorCode ?? 0)
                             : Self.exception(vector: e.vector, errorCode: e.errorCode))
            case .externalInterrupt:
                exit = deliverExternal(e.vector)
            case .nmi:
                state.nmiBlocked = true
                exit = deliverExternal(e.vector, nmi: true)
            }
            if let exit { return .exit(exit) }
        }
        if state.activity == .halted { return .exit(.halt) }
        let end = state.retired &+ limit
        // Events delivered without an instruction retiring count too, so a guest whose
        // handler faults forever still ends at the limit.
        var events: UInt64 = 0
        while state.retired < end {
            // One test for everything the loop must look at between instructions.
            if _slowPath(mustLookBetweenInstructions) {
                if let x = requestedExit() { return .exit(x) }
                let debugger = state.exitRequests & RegisterFile.debuggerWatching != 0
                if debuggerBreakpointsArmed && debuggerBreakpointHere() { return .exit(.debuggerBreakpoint) }
                if state.rflags & (Flag.tf | Flag.rf) != 0 || state.breakpointsEnabled {
                    let before = state.retired
                    let hits = debuggerWatchHits
                    if let x = debugStep() { return .exit(x) }
                    if debugger && debuggerWatchHits != hits { return .exit(.debuggerBreakpoint) }
                    if state.retired == before { events &+= 1; if events >= limit { return .limit } }
                    continue
                }
                // An interrupt window held back by a shadow: one instruction, then look again.
                if case .exit(let x) = stepOne(&events) { return .exit(x) }
                if debugger && takeDebuggerWatchHits() { return .exit(.debuggerBreakpoint) }
                if _slowPath(events >= limit) { return .limit }
                continue
            }
            // A debugger's breakpoint: before the block (which ends before any other).
            if _slowPath(debuggerBreakpointsArmed) && debuggerBreakpointHere() { return .exit(.debuggerBreakpoint) }
            let rip = state.rip
            // 64-bit code runs in blocks; other modes one instruction at a time.
            if _fastPath(!state.legacySegmentation) {
                let slot = blockSlot(rip), b = blocks + slot
                // A block the budget cannot hold whole goes one instruction at a time.
                if _fastPath(b.pointee.rip == rip && state.isCurrentCode(b.pointee.key)) || prepareBlock(slot, rip),
                   _fastPath(UInt64(b.pointee.instructions) <= end &- state.retired) {
                    do throws(CPUException) {
                        if try !runBlock(slot, budget: end &- state.retired) { continue }
                    } catch {
                        if state.invalidationPending { applyCodeWrites() }
                        if let x = deliverOrExit(error) { return .exit(x) }
                        events &+= 1
                        if _slowPath(events >= limit) { return .limit }
                        continue
                    }
                }
            }
            if case .exit(let x) = stepOne(&events) { return .exit(x) }
            if _slowPath(events >= limit) { return .limit }
        }
        return .limit
    }

    /// Whether the run loop must look at something before the next instruction: the VMM's
    /// requests (the interrupt-window request, bit 0, counts only while RFLAGS.IF is set),
    /// single-step and RF, enabled breakpoints, a debugger's watchpoints (bit 4; its
    /// breakpoints, bit 5, are looked for before each block).
    @inline(__always) var mustLookBetweenInstructions: Bool {
        let flags = state.rflags
        return state.exitRequests & ((flags >> 9) & 1 | 2 | 8 | 16) | (flags & (Flag.tf | Flag.rf)) | (state.dr(7) & 0xFF) != 0
    }

    /// A debugger breakpoint at the next instruction, unless the vCPU is resuming from it.
    @inline(never)
    func debuggerBreakpointHere() -> Bool {
        let rip = state.linearRIP
        guard debuggerBreakpoints.contains(rip) else { return false }
        if let r = debuggerResume, r.rip == rip, r.retired == state.retired { return false }
        return true
    }

    /// The interrupt window or an immediate stop, when the VMM asked for one.
    func requestedExit() -> CPUExit? {
        let r = state.exitRequests
        if r & 2 != 0 {
            state.exitRequests = r & ~2
            return .interruptWindow
        }
        if r & 1 != 0 && state.rflags & Flag.if != 0 && !state.interruptShadow {
            state.exitRequests = r & ~1
            return .interruptWindow
        }
        if r & 8 != 0 && !state.interruptShadow {
            state.exitRequests = r & ~8
            return .interruptWindow
        }
        return nil
    }

    /// One instruction without the debug checks, delivering what it raises; `events` counts
    /// deliveries (`.limit` means go on). A cached fast form runs without `step`'s frame.
    @inline(__always) func stepOne(_ events: inout UInt64) -> RunStop {
        let rip = state.rip
        let entry = cacheEntry(rip)
        if _fastPath(entry.pointee.rip == rip && state.isCurrentCode(entry.pointee.key) && entry.pointee.fast.kind != .none) {
            do throws(CPUException) {
                _ = try executeFast(fastForm(entry), at: rip)
                state.retired &+= 1
                if _slowPath(state.invalidationPending) { applyCodeWrites() }
                return .limit
            } catch {
                if state.invalidationPending { applyCodeWrites() }
                if let x = deliverOrExit(error) { return .exit(x) }
                events &+= 1
                return .limit
            }
        }
        return stepAndDeliver(&events)
    }

    /// One instruction without the debug checks, delivering what it raises; `events` counts
    /// deliveries (`.limit` means go on).
    @inline(__always) func stepAndDeliver(_ events: inout UInt64) -> RunStop {
        switch step() {
        case .executed:
            return .limit
        case .exception(let e):
            if let x = deliverOrExit(e) { return .exit(x) }
            events &+= 1
            return .limit
        }
    }

    /// What an instruction's exception leads to: its exit (HLT halts the CPU), or delivery
    /// through the IDT, which returns an exit only when it needed the VMM or shut down.
    func deliverOrExit(_ e: CPUException) -> CPUExit? {
        if case .exit(let x) = e {
            if x == .halt { state.halt() }
            return x
        }
        return raise(e)
    }

    /// The exceptions that are faults (their frame's RIP is the faulting instruction): #DE, #BR,
    /// #UD, #NM, #TS, #NP, #SS, #GP, #PF, #MF, #AC, #XM, #VE, #CP.
    static var faultVectors: UInt32 {
        1 << 0 | 1 << 5 | 1 << 6 | 1 << 7 | 1 << 10 | 1 << 11 | 1 << 12 | 1 << 13 | 1 << 14 | 1 << 16 | 1 << 17 | 1 << 19
            | 1 << 20 | 1 << 21
    }

    /// The exception for an injected vector (a #PF's with its linear address).
    public static func exception(vector: Int, errorCode: UInt32?, faultAddress: UInt64 = 0) -> CPUException {
        let c = errorCode ?? 0
        switch vector {
        case 0: return .divideError
        case 1: return .debug
        case 3: return .breakpoint
        case 4: return .overflow
        case 5: return .boundRange
        case 6: return .invalidOpcode
        case 7: return .deviceNotAvailable
        case 8: return .doubleFault
        case 10: return .invalidTSS(c)
        case 11: return .segmentNotPresent(c)
        case 12: return .stackFault(c)
        case 14: return .pageFault(address: faultAddress, errorCode: c)
        case 16: return .x87FloatingPoint
        case 17: return .alignmentCheck
        case 19: return .simdFloatingPoint
        default: return .generalProtection(c)
        }
    }

    /// Delivers an exception, escalating as the SDM's table 6-5 says: a contributory fault (or
    /// a #PF) while delivering a contributory fault or #PF is a double fault; any fault while
    /// delivering a double fault is a triple fault, which shuts the CPU down (a shutdown exit).
    /// Returns an exit when delivery needed the VMM (or shut down).
    ///
    /// A fault's frame holds RFLAGS with RF set (SDM vol. 3, 18.3.1.1: every fault but an
    /// instruction breakpoint), so that the IRET back to the faulting instruction does not
    /// stop at an instruction breakpoint there again; traps and aborts push RF as it was.
    func raise(_ first: CPUException) -> CPUExit? {
        var current = first
        for _ in 0..<4 {
            if case .pageFault(let a, _) = current { state.cr2 = a }
            if Self.faultVectors & 1 << UInt32(current.vector) != 0 { state.rflags |= Flag.rf }
            do throws(CPUException) {
                try deliver(vector: current.vector, errorCode: current.errorCode, source: .external, returnRIP: state.rip)
                return nil
            } catch {
                if case .exit(let x) = error {
                    // Like VMX's IDT-vectoring information: the VMM learns which event was
                    // being delivered when the access left the CPU, and finishes delivering it.
                    interruptedDelivery = current
                    return x
                }
                if current == .doubleFault { break }
                let firstIsPF: Bool = if case .pageFault = current { true } else { false }
                let secondIsPF: Bool = if case .pageFault = error { true } else { false }
                let double = (current.isContributory && error.isContributory) || (firstIsPF && (error.isContributory || secondIsPF))
                current = double ? .doubleFault : error
            }
        }
        state.activity = .shutdown
        return .shutdown
    }

    /// An external interrupt or NMI (no error code; EXT set in error codes delivery raises).
    func deliverExternal(_ vector: Int, nmi: Bool = false) -> CPUExit? {
        do throws(CPUException) {
            try deliver(vector: vector, errorCode: nil, source: .external, returnRIP: state.rip)
            return nil
        } catch {
            if case .exit(let x) = error {
                pendingEvent = InjectedEvent(nmi ? .nmi : .externalInterrupt, vector: vector)
                return x
            }
            return raise(error)
        }
    }

    /// Delivers an exception through the IDT now (escalating as `raise` does): the monitor's
    /// assist finishes a delivery the vCPU's exit interrupted. Returns an exit if this one
    /// needs the VMM as well.
    public func deliverException(_ e: CPUException) -> CPUExit? {
        interruptedDelivery = nil
        return raise(e)
    }

    /// Delivers `vector` through the IDT in the current mode, returning to `returnRIP`.
    func deliver(vector: Int, errorCode: UInt32?, source: InterruptSource, returnRIP: UInt64) throws(CPUException) {
        try transaction { () throws(CPUException) in
            if !state.protectedMode {
                try deliverReal(vector, returnRIP)
            } else if state.longModeActive {
                try deliverLong(vector, errorCode, source, returnRIP)
            } else {
                try deliverProtected(vector, errorCode, source, returnRIP)
            }
            state.interruptShadow = false
            state.activity = .active
        }
    }

    /// Real mode: the 4-byte vector at IDTR.base + 4·vector; FLAGS, CS and IP are pushed.
    func deliverReal(_ vector: Int, _ returnRIP: UInt64) throws(CPUException) {
        let idt = state.idtr
        guard UInt64(vector) * 4 + 3 <= UInt64(idt.limit) else { throw .generalProtection(UInt32(vector * 8 + 2)) }
        let entry = try systemRead(idt.base &+ UInt64(vector) * 4, 4)
        try push(state.rflags & 0xFFFF, size: 2)
        try push(UInt64(state.segment(.cs).selector), size: 2)
        try push(returnRIP & 0xFFFF, size: 2)
        state.rflags &= ~(Flag.if | Flag.tf | Flag.ac | Flag.rf)
        setCodeSegment(realSegment(.cs, UInt16(truncatingIfNeeded: entry >> 16)), cpl: 0)
        state.rip = entry & 0xFFFF
    }

    /// Protected mode (not IA-32e): 8-byte interrupt and trap gates, 16- or 32-bit; a change to
    /// an inner privilege level takes SS:ESP from the 32-bit TSS. Task gates are not supported
    /// (#GP with the IDT error code).
    func deliverProtected(_ vector: Int, _ errorCode: UInt32?, _ source: InterruptSource, _ returnRIP: UInt64) throws(CPUException) {
        let ext: UInt32 = source == .external ? 1 : 0
        let idtCode = UInt32(vector * 8 + 2) + ext
        let idt = state.idtr
        guard UInt64(vector) * 8 + 7 <= UInt64(idt.limit) else { throw .generalProtection(idtCode) }
        let gate = try systemRead(idt.base &+ UInt64(vector) * 8, 8)
        let type = Int(gate >> 40) & 0xF, dpl = Int(gate >> 45) & 3
        guard [0x6, 0x7, 0xE, 0xF].contains(type) else { throw .generalProtection(idtCode) }
        if source == .software && dpl < state.cpl { throw .generalProtection(idtCode) }
        guard gate & (1 << 47) != 0 else { throw .segmentNotPresent(idtCode) }
        let wide = type >= 0xE
        let offset = wide ? (gate & 0xFFFF) | ((gate >> 48) << 16) : gate & 0xFFFF
        let sel = SegmentSelector(UInt16(truncatingIfNeeded: gate >> 16))
        guard !sel.isNull else { throw .generalProtection(ext) }
        guard let (d0, a) = try descriptor(sel) else { throw .generalProtection(UInt32(sel.errorCode) | ext) }
        var d = d0
        guard d.isCode, d.dpl <= state.cpl else { throw .generalProtection(UInt32(sel.errorCode) | ext) }
        guard d.present else { throw .segmentNotPresent(UInt32(sel.errorCode) | ext) }
        try markAccessed(&d, at: a)
        let newCPL = d.isConforming ? state.cpl : d.dpl
        let oldFlags = state.rflags, oldCS = UInt64(state.segment(.cs).selector)
        let width = wide ? 4 : 2
        if newCPL < state.cpl {
            let oldSS = UInt64(state.segment(.ss).selector), oldESP = state.rsp & state.stackMask
            let tr = state.segment(.tr)
            let ssOffset = UInt64(8 + 8 * newCPL), espOffset = UInt64(4 + 8 * newCPL)
            guard UInt64(tr.limit) >= ssOffset + 1 else { throw .invalidTSS(UInt32(tr.selector & 0xFFFC) | ext) }
            let newSS = UInt16(truncatingIfNeeded: try systemRead(tr.base &+ ssOffset, 2))
            let newESP = try systemRead(tr.base &+ espOffset, 4)
            let ss = SegmentSelector(newSS)
            guard !ss.isNull else { throw .invalidTSS(ext) }
            guard let (sd0, sa) = try descriptor(ss), ss.rpl == newCPL, sd0.dpl == newCPL, sd0.isWritable else {
                throw .invalidTSS(UInt32(ss.errorCode) | ext)
            }
            var sd = sd0
            guard sd.present else { throw .stackFault(UInt32(ss.errorCode) | ext) }
            try markAccessed(&sd, at: sa)
            state.cpl = newCPL
            state.setSegment(.ss, SegmentState(selector: newSS, descriptor: sd))
            state.rsp = newESP
            try push(oldSS, size: width)
            try push(oldESP, size: width)
        }
        try push(oldFlags, size: width)
        try push(oldCS, size: width)
        try push(returnRIP, size: width)
        if let errorCode { try push(UInt64(errorCode), size: width) }
        state.rflags &= ~(Flag.tf | Flag.nt | Flag.rf | Flag.vm | (type & 1 == 0 ? Flag.if : 0))
        setCodeSegment(SegmentState(selector: sel.value & ~3 | UInt16(newCPL), descriptor: d), cpl: newCPL)
        state.rip = offset
    }

    /// IA-32e mode: 16-byte gates, IST and RSPn stacks from the 64-bit TSS, the 16-byte
    /// aligned frame (InterruptDelivery.target does the checks, InterruptDelivery.frame builds it).
    func deliverLong(_ vector: Int, _ errorCode: UInt32?, _ source: InterruptSource, _ returnRIP: UInt64) throws(CPUException) {
        let idt = state.idtr
        let gateAddress: UInt64
        switch InterruptDelivery.gateAddress(vector: vector, idtBase: idt.base, idtLimit: UInt32(idt.limit), source: source) {
        case .success(let a): gateAddress = a
        case .failure(let f): throw f.exception
        }
        let gate = InterruptGate(low: try systemRead(gateAddress, 8), high: try systemRead(gateAddress &+ 8, 8))
        var code: SegmentDescriptor?
        if !gate.selector.isNull, let (d, _) = try descriptor(gate.selector) { code = d }
        let target: InterruptTarget
        switch InterruptDelivery.target(vector: vector, gate: gate, code: code, cpl: state.cpl, source: source) {
        case .success(let t): target = t
        case .failure(let f): throw f.exception
        }
        // The new stack from the TSS (RSP0-2 at 4, IST1-7 at 0x24), when the target names one.
        var stack: UInt64 = 0
        if let offset = target.tssStackOffset { stack = try systemRead(state.segment(.tr).base &+ offset, 8) }
        let frame = InterruptDelivery.frame(target, errorCode: errorCode.map { UInt64($0) }, rip: returnRIP,
                                            cs: state.segment(.cs).selector, rflags: state.rflags, rsp: state.rsp,
                                            ss: state.segment(.ss).selector, stack: stack)
        guard isCanonical(frame.rsp) else { throw .stackFault(source == .external ? 1 : 0) }
        state.cpl = frame.cpl
        // Pushed from the top down, as the CPU pushes them (a fault part way leaves what it wrote).
        let top = frame.rsp &+ 8 * UInt64(frame.pushedCount)
        try store(top &- 8, size: 8, value: frame.pushedSS)
        try store(top &- 16, size: 8, value: frame.pushedRSP)
        try store(top &- 24, size: 8, value: frame.pushedRFLAGS)
        try store(top &- 32, size: 8, value: frame.pushedCS)
        try store(top &- 40, size: 8, value: frame.pushedRIP)
        if let e = frame.errorCode { try store(top &- 48, size: 8, value: e) }
        if let ss = frame.ss {
            state.setSegment(.ss, SegmentState(selector: ss.value, base: 0, limit: 0, attributes: UInt16(frame.cpl) << 5))
        }
        state.rsp = frame.rsp
        state.rflags &= ~frame.clearFlags
        // The frame exists only for a present code descriptor: the one read above.
        if let code { setCodeSegment(SegmentState(selector: frame.cs.value, descriptor: code), cpl: frame.cpl) }
        state.rip = frame.rip
    }
}
