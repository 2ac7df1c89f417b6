import X86
import X86CPU

/// Words of a fixed-size tuple of UInt64 as an array, and back.
private func array<T>(_ tuple: T) -> [UInt64] { withUnsafeBytes(of: tuple) { Array($0.bindMemory(to: UInt64.self)) } }
private func store<T>(_ values: [UInt64], into tuple: inout T) {
    withUnsafeMutableBytes(of: &tuple) { raw in
        for (i, v) in values.prefix(raw.count / 8).enumerated() { raw.storeBytes(of: v, toByteOffset: 8 * i, as: UInt64.self) }
    }
}

extension VCPUEvent {
    init(_ e: InjectedEvent) {
        let kind: Kind = switch e.kind {
        case .externalInterrupt: .externalInterrupt
        case .nmi: .nmi
        case .exception: .exception
        }
        self.init(kind, vector: UInt8(truncatingIfNeeded: e.vector), errorCode: e.errorCode, faultAddress: e.faultAddress)
    }

    /// An exception the interpreter raised (its vector, error code and #PF address).
    public init(_ e: CPUException) {
        var address: UInt64 = 0
        if case .pageFault(let a, _) = e { address = a }
        self.init(.exception, vector: UInt8(truncatingIfNeeded: e.vector), errorCode: e.errorCode, faultAddress: address)
    }

    var injected: InjectedEvent {
        var e = InjectedEvent([.externalInterrupt, .nmi, .exception][Int(kind.rawValue)], vector: Int(vector), errorCode: errorCode)
        e.faultAddress = faultAddress
        return e
    }
}

extension VirtualCPU {
    /// The parts of the vCPU's state asked for, copied out (vmm(4)'s VMM_IOC_READREGS, NVMM's
    /// `nvmm_vcpu_getstate`); the others keep `VCPUState`'s initial values.
    public func getState(_ parts: VCPUStateParts = .all) -> VCPUState {
        let f = cpu.state.file.pointee
        var v = VCPUState()
        if parts.contains(.gprs) {
            v.gprs = array(f.gprs)
            (v.rip, v.rflags) = (f.rip, f.rflags)
        }
        if parts.contains(.segments) {
            let (sel, base, lim, attr) = (array(f.selectors), array(f.segmentBases), array(f.segmentLimits), array(f.segmentAttributes))
            v.segments = (0..<8).map {
                VCPUSegment(selector: UInt16(truncatingIfNeeded: sel[$0]), base: base[$0], limit: UInt32(truncatingIfNeeded: lim[$0]),
                            attributes: UInt16(truncatingIfNeeded: attr[$0]))
            }
            v.gdtr = VCPUTableRegister(base: f.gdtrBase, limit: UInt16(truncatingIfNeeded: f.gdtrLimit))
            v.idtr = VCPUTableRegister(base: f.idtrBase, limit: UInt16(truncatingIfNeeded: f.idtrLimit))
            v.cpl = UInt8(truncatingIfNeeded: f.cpl)
        }
        if parts.contains(.controlRegisters) {
            (v.cr0, v.cr2, v.cr3, v.cr4, v.cr8, v.xcr0) = (f.cr0, f.cr2, f.cr3, f.cr4, f.cr8, f.xcr0)
        }
        if parts.contains(.debugRegisters) {
            v.dr = array(f.dr)
            (v.pendingSingleStep, v.deferredDebugStatus, v.watchHits) = (f.pendingSingleStep != 0, f.deferredDebugStatus, f.watchHits)
        }
        if parts.contains(.msrs) {
            (v.efer, v.pkrs, v.msrs, v.tscOffset) = (f.efer, f.pkrs, cpu.msrs.values, cpu.tscOffset)
        }
        if parts.contains(.fpu) {
            (v.fcw, v.fsw, v.ftw, v.fop, v.fip, v.fdp) = (f.fcw, f.fsw, f.ftw, f.fop, f.fip, f.fdp)
            (v.x87, v.xmm, v.mxcsr, v.pkru) = (array(f.x87), array(f.xmm), f.mxcsr, f.pkru)
        }
        if parts.contains(.interruptState) {
            // A shadow covers the next instruction when its end is the count after it.
            v.interruptShadow = f.interruptShadowEnd != 0 && f.interruptShadowEnd == f.retired &+ 1
            v.movSSShadow = f.movSSShadowEnd != 0 && f.movSSShadowEnd == f.retired &+ 1
            (v.nmiBlocked, v.activity, v.exitRequests) = (f.nmiBlocked != 0, UInt8(truncatingIfNeeded: f.activity), f.exitRequests)
            v.pendingEvent = cpu.pendingEvent.map(VCPUEvent.init)
        }
        if parts.contains(.counters) {
            (v.retired, v.idleTicks, v.entropy) = (f.retired, cpu.idleTicks, cpu.entropyState)
        }
        return v
    }

    /// Writes the parts given (vmm(4)'s VMM_IOC_WRITEREGS, NVMM's `nvmm_vcpu_setstate`); the
    /// TLB and decoded code are dropped only when something they depend on (control
    /// registers, segments, descriptor tables, CPL, mode) changed.
    public func setState(_ v: VCPUState, _ parts: VCPUStateParts = .all) {
        let before = cpu.state.file.pointee
        do {
            let p = cpu.state.file
            if parts.contains(.gprs) {
                store(v.gprs, into: &p.pointee.gprs)
                (p.pointee.rip, p.pointee.rflags) = (v.rip, v.rflags | 2)
            }
            if parts.contains(.segments) {
                store(v.segments.map { UInt64($0.selector) }, into: &p.pointee.selectors)
                store(v.segments.map(\.base), into: &p.pointee.segmentBases)
                store(v.segments.map { UInt64($0.limit) }, into: &p.pointee.segmentLimits)
                store(v.segments.map { UInt64($0.attributes) }, into: &p.pointee.segmentAttributes)
                (p.pointee.gdtrBase, p.pointee.gdtrLimit) = (v.gdtr.base, UInt64(v.gdtr.limit))
                (p.pointee.idtrBase, p.pointee.idtrLimit) = (v.idtr.base, UInt64(v.idtr.limit))
                p.pointee.cpl = UInt64(v.cpl & 3)
            }
            if parts.contains(.controlRegisters) {
                (p.pointee.cr0, p.pointee.cr2, p.pointee.cr3, p.pointee.cr4) = (v.cr0, v.cr2, v.cr3, v.cr4)
                (p.pointee.cr8, p.pointee.xcr0) = (v.cr8, v.xcr0)
            }
            if parts.contains(.debugRegisters) {
                store(v.dr, into: &p.pointee.dr)
                (p.pointee.pendingSingleStep, p.pointee.deferredDebugStatus) = (v.pendingSingleStep ? 1 : 0, v.deferredDebugStatus)
                p.pointee.watchHits = v.watchHits
            }
            if parts.contains(.msrs) { (p.pointee.efer, p.pointee.pkrs) = (v.efer, v.pkrs) }
            if parts.contains(.fpu) {
                (p.pointee.fcw, p.pointee.fsw, p.pointee.ftw) = (v.fcw, v.fsw, v.ftw)
                (p.pointee.fop, p.pointee.fip, p.pointee.fdp) = (v.fop, v.fip, v.fdp)
                store(v.x87, into: &p.pointee.x87)
                store(v.xmm, into: &p.pointee.xmm)
                (p.pointee.mxcsr, p.pointee.pkru) = (v.mxcsr, v.pkru)
            }
            // The shadows are kept as the retired count they end at: a new count carries the
            // shadows as they stand unless they are written too.
            let shadows = parts.contains(.interruptState) ? (v.interruptShadow, v.movSSShadow)
                : (cpu.state.interruptShadow, cpu.state.movSSShadow)
            if parts.contains(.counters) { p.pointee.retired = v.retired }
            if parts.contains(.interruptState) || parts.contains(.counters) {
                let next = p.pointee.retired &+ 1
                p.pointee.interruptShadowEnd = shadows.0 ? next : 0
                p.pointee.movSSShadowEnd = shadows.1 ? next : 0
            }
            if parts.contains(.interruptState) {
                (p.pointee.nmiBlocked, p.pointee.activity) = (v.nmiBlocked ? 1 : 0, UInt64(v.activity))
                // The debugger's bits stay the debugger's.
                p.pointee.exitRequests = v.exitRequests & ~RegisterFile.debuggerRequests | p.pointee.exitRequests & RegisterFile.debuggerRequests
            }
        }
        if parts.contains(.msrs) {
            cpu.msrs.values = v.msrs
            cpu.tscOffset = v.tscOffset
        }
        if parts.contains(.interruptState) { cpu.pendingEvent = v.pendingEvent?.injected }
        if parts.contains(.counters) { (cpu.idleTicks, cpu.entropyState) = (v.idleTicks, v.entropy) }
        cpu.state.updateMode()
        let same = withUnsafePointer(to: before) { RegisterFile.systemWordsEqual($0, cpu.state.file) }
        cpu.state.refreshCodeKey()
        if !same { stateChanged() }
        cpu.syncWatchpoints()
    }
}
