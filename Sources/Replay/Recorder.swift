import VMM
import X86CPU

/// Records a run through the machine's seam: every exit, stamped with the instruction count
/// and RIP at which it happened, into a trace (Trace.swift).
public final class Recorder: MachineObserver {
    public private(set) var writer: TraceWriter

    public init(header: TraceHeader) { writer = TraceWriter(header: header) }

    public func exit(_ exit: VMExit, icount: UInt64, rip: UInt64) {
        writer.append(Recorder.event(exit, icount: icount, rip: rip))
    }

    /// The trace, ended at the run's final instruction count.
    public func finished(icount: UInt64) -> [UInt8] { writer.finished(icount: icount) }

    /// An exit as a trace event: its kind and the fields that tell two exits of a kind apart.
    public static func event(_ exit: VMExit, icount: UInt64, rip: UInt64) -> TraceEvent {
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
        case .halt, .shutdown, .limit, .interruptWindow: break
        }
        return .exit(icount: icount, kind: UInt64(exit.kindIndex), rip: rip, a: a, b: b)
    }
}
