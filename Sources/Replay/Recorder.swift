import VMM
import Monitor
import X86

/// Records a run through the machine's seam (VMM's Seam.swift) into a trace (Trace.swift):
/// every input with the point it arrived at, every exit with its instruction count and RIP,
/// every nested fault with its outcome.
public final class Recorder: MachineObserver {
    public let writer: TraceWriter

    /// With a `sink`, the trace is written out in chunks as the run goes (`TraceWriter`).
    public init(header: TraceHeader, sink: ((UnsafeRawBufferPointer) -> Void)? = nil) {
        writer = TraceWriter(header: header, sink: sink)
    }

    public func exit(_ exit: VMExit, icount: UInt64, rip: UInt64) {
        let (a, b) = TraceEvent.fields(exit)
        writer.appendExit(icount: icount, kind: UInt64(exit.kindIndex), rip: rip, a: a, b: b)
    }

    public func fault(gpa: GuestPhysicalAddress, access: AccessType, outcome: NestedFaultOutcome, icount: UInt64) {
        writer.append(TraceEvent(gpa: gpa, access: access, outcome: outcome, icount: icount))
    }

    public func input(_ input: ExternalInput) { writer.append(TraceEvent(input)) }

    public func switched(to vcpu: Int, icount: UInt64) { writer.appendSwitch(icount: icount, vcpu: UInt64(vcpu)) }

    public func hostReply(share: Int, request: [UInt8], reply: [UInt8], icount: UInt64) {
        writer.append(TraceEvent(share: share, request: request, reply: reply, icount: icount))
    }

    /// The trace, ended at the run's final instruction count.
    public func finished(icount: UInt64) -> [UInt8] { writer.finished(icount: icount) }
}

extension TraceEvent {
    /// An exit as a trace event: its kind and the fields that tell two exits of a kind apart.
    public init(_ exit: VMExit, icount: UInt64, rip: UInt64) {
        let (a, b) = TraceEvent.fields(exit)
        self = .exit(icount: icount, kind: UInt64(exit.kindIndex), rip: rip, a: a, b: b)
    }

    /// The two fields that tell two exits of a kind apart.
    @inline(__always)
    static func fields(_ exit: VMExit) -> (UInt64, UInt64) {
        var a: UInt64 = 0, b: UInt64 = 0
        switch exit {
        case .io(let io):
            a = UInt64(io.port) | UInt64(io.size) << 16 | (io.isIn ? 1 << 24 : 0)
            b = io.isIn ? 0 : UInt64(io.value)
        case .mmio(let m):
            a = m.gpa
            b = m.write ? 1 : 0
        case .unbacked(let gpa, let access, _, _):
            a = gpa
            b = access == .write ? 1 : 0
        case .rdmsr(let index): a = UInt64(index)
        case .wrmsr(let index, let value): (a, b) = (UInt64(index), value)
        case .cpuid(let leaf, let subleaf): (a, b) = (UInt64(leaf), UInt64(subleaf))
        case .halt, .shutdown, .limit, .interruptWindow, .hypercall, .breakpoint: break
        }
        return (a, b)
    }

    public init(gpa: GuestPhysicalAddress, access: AccessType, outcome: NestedFaultOutcome, icount: UInt64) {
        let code: UInt64, detail: UInt64
        switch outcome {
        case .entered(let hpa): (code, detail) = (0, hpa.rawValue)
        case .accessedDirty: (code, detail) = (1, 0)
        case .spurious: (code, detail) = (2, 0)
        case .mmioAssist(_, let offset): (code, detail) = (3, offset)
        case .protection: (code, detail) = (4, 0)
        case .unbacked: (code, detail) = (5, 0)
        case .copied(let hpa): (code, detail) = (6, hpa.rawValue)
        }
        self = .fault(icount: icount, gpa: gpa.rawValue, access: UInt64(access.rawValue), outcome: code, detail: detail)
    }

    public init(_ input: ExternalInput) {
        self = .input(icount: input.point.icount, ticks: input.point.ticks, device: UInt64(input.device.rawValue), byte: input.byte)
    }
}
