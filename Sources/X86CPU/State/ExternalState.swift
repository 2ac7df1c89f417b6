import X86

extension CPU {
    /// After the whole state was written from outside (the VMM restoring a snapshot's
    /// `VCPUState`): nothing derived from the old state stands, nor the exception delivery an
    /// exit interrupted. Decoded instructions and TLB entries go.
    public func stateWasReplaced() {
        state.updateMode()
        state.refreshCodeKey()
        interruptedDelivery = nil
        memory.flushTLB()
        invalidateDecodedInstructions()
        decodedMode = state.mode
        decodedCSBase = state.mode == .bits64 ? 0 : state.segmentBase(1)
        // The debugger's bits in the exit requests are the debugger's, not the state's.
        debuggerChanged()
    }
}
