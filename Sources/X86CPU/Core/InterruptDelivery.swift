// Interrupt and exception delivery through the IDT in IA-32e mode (issue 5, a first
// piece): the 16-byte gate, the checks that turn a delivery into #GP/#NP (SDM vol. 3,
// 6.12.1 and 6.14), and the frame: which stack (IST, the TSS's RSPn on a privilege change,
// or the current one, aligned to 16 bytes), what is pushed, where execution continues and
// which RFLAGS bits are cleared. The caller reads the gate, the code segment's descriptor
// and the TSS; this decides.

/// A 64-bit mode IDT gate (16 bytes).
public struct InterruptGate: Equatable, Sendable {
    public var low: UInt64, high: UInt64
    public init(low: UInt64, high: UInt64) { (self.low, self.high) = (low, high) }

    public var offset: UInt64 { low & 0xFFFF | ((low >> 48) & 0xFFFF) << 16 | (high & 0xFFFF_FFFF) << 32 }
    public var selector: SegmentSelector { SegmentSelector(UInt16((low >> 16) & 0xFFFF)) }
    public var ist: Int { Int((low >> 32) & 7) }
    public var type: Int { Int((low >> 40) & 0xF) }
    public var dpl: Int { Int((low >> 45) & 3) }
    public var present: Bool { low & (1 << 47) != 0 }
    /// An interrupt gate (type 0xE) clears IF; a trap gate (0xF) leaves it.
    public var isInterruptGate: Bool { type == 0xE }
}

/// How an event arrived, which decides the gate DPL check and the EXT bit of error codes.
public enum InterruptSource: Equatable, Sendable {
    /// INT n, INT3, INTO: the gate's DPL must be at least the CPL.
    case software
    /// An exception or an external interrupt (EXT = 1 in error codes it causes).
    case external
}

/// What delivering the event does.
public struct InterruptFrame: Equatable, Sendable {
    /// The stack pointer after the pushes.
    public var rsp: UInt64
    /// What is pushed, first pushed first: SS, RSP, RFLAGS, CS, RIP, and the error code if any.
    public var pushedSS: UInt64, pushedRSP: UInt64, pushedRFLAGS: UInt64, pushedCS: UInt64, pushedRIP: UInt64
    public var errorCode: UInt64?
    public var cs: SegmentSelector
    public var rip: UInt64
    public var cpl: Int
    /// On a privilege change SS becomes a null selector with RPL = the new CPL.
    public var ss: SegmentSelector?
    /// TF, NT, RF (and IF for an interrupt gate) are cleared.
    public var clearFlags: UInt64

    /// The quadwords pushed, first pushed first.
    public var pushed: [UInt64] {
        [pushedSS, pushedRSP, pushedRFLAGS, pushedCS, pushedRIP] + (errorCode.map { [$0] } ?? [])
    }
    public var pushedCount: Int { errorCode == nil ? 5 : 6 }
}

/// A delivery that passed the gate's and the code segment's checks: where it goes, and where
/// its stack comes from.
public struct InterruptTarget: Equatable, Sendable {
    public var cs: SegmentSelector
    public var rip: UInt64
    public var cpl: Int
    public var privilegeChange: Bool
    public var clearFlags: UInt64
    /// The TSS quadword holding the new stack pointer (RSPn at 4 + 8n, ISTn at 0x24 + 8(n-1)),
    /// or nil: the current stack.
    public var tssStackOffset: UInt64?
}

public enum InterruptDelivery {
    /// The gate's address for `vector`, or the #GP error code (vector·8 + 2 + EXT) when it lies
    /// beyond IDTR's limit.
    public static func gateAddress(vector: Int, idtBase: UInt64, idtLimit: UInt32,
                                   source: InterruptSource) -> Result<UInt64, SegmentFault> {
        let end = UInt64(vector) * 16 + 15
        guard end <= UInt64(idtLimit) else { return .failure(.generalProtection(idtErrorCode(vector, source))) }
        return .success(idtBase &+ UInt64(vector) * 16)
    }

    static func idtErrorCode(_ vector: Int, _ source: InterruptSource) -> UInt16 {
        UInt16(truncatingIfNeeded: vector * 8 + 2 + (source == .external ? 1 : 0))
    }

    /// The checks for delivering `vector` through `gate` (its code segment `code`, read by the
    /// caller from the GDT; nil if the selector lies beyond the table) at privilege `cpl`, and
    /// where the delivery goes, or the fault it raises instead. The caller then reads the
    /// stack pointer the target names from the TSS, if any, and builds the `frame`.
    public static func target(vector: Int, gate: InterruptGate, code: SegmentDescriptor?, cpl: Int,
                              source: InterruptSource) -> Result<InterruptTarget, SegmentFault> {
        let idtCode = idtErrorCode(vector, source)
        guard gate.type == 0xE || gate.type == 0xF else { return .failure(.generalProtection(idtCode)) }
        if source == .software && gate.dpl < cpl { return .failure(.generalProtection(idtCode)) }
        guard gate.present else { return .failure(.notPresent(idtCode)) }
        let sel = gate.selector
        let ext: UInt16 = source == .external ? 1 : 0
        guard !sel.isNull, let d = code else { return .failure(.generalProtection(sel.errorCode | ext)) }
        // A 64-bit code segment (L set, D clear) whose DPL is at most the CPL.
        guard d.isCode, d.longMode, !d.defaultBig, d.dpl <= cpl else { return .failure(.generalProtection(sel.errorCode | ext)) }
        guard d.present else { return .failure(.notPresent(sel.errorCode | ext)) }
        let newCPL = d.isConforming ? cpl : d.dpl
        let privilegeChange = newCPL < cpl
        var offset: UInt64?
        if gate.ist != 0 {
            offset = 0x24 + 8 * UInt64(gate.ist - 1)
        } else if privilegeChange {
            offset = 4 + 8 * UInt64(newCPL)
        }
        let tf: UInt64 = 1 << 8, nt: UInt64 = 1 << 14, rf: UInt64 = 1 << 16, interruptFlag: UInt64 = 1 << 9
        return .success(InterruptTarget(cs: SegmentSelector(sel.value & ~3 | UInt16(newCPL)), rip: gate.offset, cpl: newCPL,
                                        privilegeChange: privilegeChange,
                                        clearFlags: tf | nt | rf | (gate.isInterruptGate ? interruptFlag : 0),
                                        tssStackOffset: offset))
    }

    /// The frame for a delivery to `target` from the state given: `stack` is the TSS's
    /// quadword the target names (ignored when it names none: the current `rsp`), aligned
    /// down to 16 bytes before the pushes.
    public static func frame(_ target: InterruptTarget, errorCode: UInt64?, rip: UInt64, cs: UInt16, rflags: UInt64,
                             rsp: UInt64, ss: UInt16, stack: UInt64) -> InterruptFrame {
        let top = (target.tssStackOffset == nil ? rsp : stack) & ~0xF
        let count: UInt64 = errorCode == nil ? 5 : 6
        return InterruptFrame(rsp: top &- 8 * count, pushedSS: UInt64(ss), pushedRSP: rsp, pushedRFLAGS: rflags,
                              pushedCS: UInt64(cs), pushedRIP: rip, errorCode: errorCode,
                              cs: target.cs, rip: target.rip, cpl: target.cpl,
                              ss: target.privilegeChange ? SegmentSelector(UInt16(target.cpl)) : nil,
                              clearFlags: target.clearFlags)
    }
}
