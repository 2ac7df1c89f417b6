import X86

extension CPU: StateCoding {
    /// The whole architectural state and what makes the CPU's future deterministic: every
    /// word of the register file (registers, segments, control, debug, x87 and SSE state, the
    /// retired count),
    /// the MSRs, the TSC offset and idle time, the entropy generator and a pending injected
    /// event. Decoded instructions and TLB entries are derived: a restore drops them.
    public func state(_ s: inout StateCoder) {
        var words = withUnsafeBytes(of: state.file.pointee) { Array($0.bindMemory(to: UInt64.self)) }
        s.field(&words)
        var values = msrs.values.keys.sorted().flatMap { [UInt64($0), msrs.values[$0]!] }
        s.field(&values)
        s.field(&tscOffset); s.field(&idleTicks); s.field(&entropy.state)
        var event = pendingEvent.map { e -> [UInt64] in
            let kind: UInt64 = switch e.kind {
            case .externalInterrupt: 0
            case .nmi: 1
            case .exception: 2
            }
            return [kind, UInt64(e.vector), e.errorCode.map { UInt64($0) | 1 << 32 } ?? 0, e.faultAddress]
        } ?? []
        s.field(&event)
        guard !s.isSaving else { return }
        guard words.count == RegisterFile.words, values.count % 2 == 0, event.isEmpty || event.count == 4 else {
            s.fail("the vCPU state has \(words.count) words (\(RegisterFile.words) expected) or a malformed MSR or event list")
            return
        }
        withUnsafeMutableBytes(of: &state.file.pointee) { raw in
            for (i, v) in words.enumerated() { raw.storeBytes(of: v, toByteOffset: 8 * i, as: UInt64.self) }
        }
        state.refreshCodeKey()
        msrs.values = [:]
        for i in stride(from: 0, to: values.count, by: 2) { msrs.values[UInt32(truncatingIfNeeded: values[i])] = values[i + 1] }
        pendingEvent = event.isEmpty ? nil : {
            var e = InjectedEvent([.externalInterrupt, .nmi, .exception][Int(min(event[0], 2))], vector: Int(event[1] & 0xFF),
                                  errorCode: event[2] >> 32 != 0 ? UInt32(truncatingIfNeeded: event[2]) : nil)
            e.faultAddress = event[3]
            return e
        }()
        interruptedDelivery = nil
        memory.flushTLB()
        invalidateDecodedInstructions()
        decodedMode = state.mode
        decodedCSBase = state.mode == .bits64 ? 0 : state.segmentBase(1)
        state.updateMode()
        syncWatchpoints()
    }
}
