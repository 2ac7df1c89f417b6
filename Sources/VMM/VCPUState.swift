import X86
import X86CPU

/// Which parts of a vCPU's state to read or write: NVMM's `NVMM_X64_STATE_*` flags. Reading
/// only what an exit handler needs costs only that.
public struct VCPUStateParts: OptionSet, Sendable, Hashable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    /// RAX-R15, RIP, RFLAGS.
    public static let gprs = VCPUStateParts(rawValue: 1 << 0)
    /// ES, CS, SS, DS, FS, GS, LDTR, TR, GDTR, IDTR and the CPL.
    public static let segments = VCPUStateParts(rawValue: 1 << 1)
    /// CR0, CR2, CR3, CR4, CR8, XCR0.
    public static let controlRegisters = VCPUStateParts(rawValue: 1 << 2)
    /// DR0-DR7 and the debug conditions in flight (a pending single step, deferred DR6 bits).
    public static let debugRegisters = VCPUStateParts(rawValue: 1 << 3)
    /// EFER, IA32_PKRS, every other MSR the vCPU holds, the TSC offset.
    public static let msrs = VCPUStateParts(rawValue: 1 << 4)
    /// x87, SSE, MXCSR, PKRU.
    public static let fpu = VCPUStateParts(rawValue: 1 << 5)
    /// Interrupt and NMI shadows and blocking, the activity state (halted), the monitor's
    /// exit requests, the event waiting to be delivered.
    public static let interruptState = VCPUStateParts(rawValue: 1 << 6)
    /// Retired instructions, idle time and the entropy generator: what makes the vCPU's future
    /// (guest time, RDRAND) deterministic.
    public static let counters = VCPUStateParts(rawValue: 1 << 7)
    public static let all: VCPUStateParts = [.gprs, .segments, .controlRegisters, .debugRegisters, .msrs, .fpu,
                                             .interruptState, .counters]
}

/// A segment register: the visible selector and the hidden part.
public struct VCPUSegment: Equatable, Sendable {
    public var selector: UInt16
    public var base: UInt64
    /// The limit in bytes (scaled by G).
    public var limit: UInt32
    /// Descriptor bits 40-55: type, S, DPL, P, AVL, L, D/B, G.
    public var attributes: UInt16
    public init(selector: UInt16 = 0, base: UInt64 = 0, limit: UInt32 = 0, attributes: UInt16 = 0) {
        (self.selector, self.base, self.limit, self.attributes) = (selector, base, limit, attributes)
    }
}

extension VCPUSegment {
    /// A real-mode segment: base = selector × 16, a 64 KiB limit, present read/write data (or
    /// execute/read code).
    public static func real(_ selector: UInt16, code: Bool = false) -> VCPUSegment {
        VCPUSegment(selector: selector, base: UInt64(selector) << 4, limit: 0xFFFF, attributes: code ? 0x9B : 0x93)
    }
}

/// GDTR or IDTR.
public struct VCPUTableRegister: Equatable, Sendable {
    public var base: UInt64
    public var limit: UInt16
    public init(base: UInt64 = 0, limit: UInt16 = 0) { (self.base, self.limit) = (base, limit) }
}

/// An event for a vCPU: an external interrupt, an NMI or an exception (NVMM's
/// `nvmm_vcpu_event`), to inject, waiting to be delivered, or in delivery when an exit came.
public struct VCPUEvent: Equatable, Sendable, CustomStringConvertible {
    public enum Kind: UInt8, Equatable, Sendable { case externalInterrupt, nmi, exception }
    public var kind: Kind
    public var vector: UInt8
    public var errorCode: UInt32?
    /// A #PF's linear address (CR2).
    public var faultAddress: UInt64
    public init(_ kind: Kind, vector: UInt8, errorCode: UInt32? = nil, faultAddress: UInt64 = 0) {
        (self.kind, self.vector, self.errorCode, self.faultAddress) = (kind, vector, errorCode, faultAddress)
    }
    public var description: String {
        "\(kind) vector \(vector)" + (errorCode.map { " error code \(hex(UInt64($0)))" } ?? "")
            + (kind == .exception && vector == 14 ? " address \(hex(faultAddress))" : "")
    }
}

/// Everything a vCPU holds, as the VMM hands it to the monitor: NVMM's `nvmm_x64_state`,
/// with named fields, in parts (`VCPUStateParts`). A part not asked for keeps its initial value.
/// Snapshots encode this (`encode`), not the interpreter's storage.
public struct VCPUState: Equatable, Sendable {
    // MARK: .gprs
    /// RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI, R8-R15, by encoding number.
    public var gprs = [UInt64](repeating: 0, count: 16)
    public var rip: UInt64 = 0
    public var rflags: UInt64 = 2

    // MARK: .segments
    /// ES, CS, SS, DS, FS, GS, LDTR, TR (`SegmentRegister` order).
    public var segments = [VCPUSegment](repeating: VCPUSegment(), count: 8)
    public var gdtr = VCPUTableRegister()
    public var idtr = VCPUTableRegister()
    public var cpl: UInt8 = 0

    // MARK: .controlRegisters
    public var cr0: UInt64 = 0, cr2: UInt64 = 0, cr3: UInt64 = 0, cr4: UInt64 = 0, cr8: UInt64 = 0
    public var xcr0: UInt64 = 0

    // MARK: .debugRegisters
    /// DR0-DR7 (DR4 and DR5 are aliases and stay 0).
    public var dr = [UInt64](repeating: 0, count: 8)
    /// A single-step trap SYSCALL or SYSRET owes; DR6 bits the MOV SS shadow held back; DR6's
    /// B0-B3 for data breakpoints the instruction in flight hit.
    public var pendingSingleStep = false
    public var deferredDebugStatus: UInt64 = 0
    public var watchHits: UInt64 = 0

    // MARK: .msrs
    public var efer: UInt64 = 0
    public var pkrs: UInt64 = 0
    /// The other MSRs the vCPU holds, by index.
    public var msrs: [UInt32: UInt64] = [:]
    /// What the guest's writes to IA32_TIME_STAMP_COUNTER added to guest time.
    public var tscOffset: UInt64 = 0

    // MARK: .fpu
    public var fcw: UInt64 = 0x37F, fsw: UInt64 = 0, ftw: UInt64 = 0xFFFF
    public var fop: UInt64 = 0, fip: UInt64 = 0, fdp: UInt64 = 0
    /// R0-R7 (physical, not stack-relative), each as its significand then sign and exponent.
    public var x87 = [UInt64](repeating: 0, count: 16)
    /// XMM0-XMM15, each as its low quadword then its high one.
    public var xmm = [UInt64](repeating: 0, count: 32)
    public var mxcsr: UInt64 = 0x1F80
    public var pkru: UInt64 = 0

    // MARK: .interruptState
    /// The STI / MOV SS interrupt shadow covers the next instruction.
    public var interruptShadow = false
    /// The MOV SS debug shadow covers the next instruction.
    public var movSSShadow = false
    public var nmiBlocked = false
    /// `CPUState.Activity`: 0 active, 1 halted, 2 shut down.
    public var activity: UInt8 = 0
    /// Interrupt-window (1), exit (2) and NMI-window (4) requests.
    public var exitRequests: UInt64 = 0
    /// The event injected and not yet delivered.
    public var pendingEvent: VCPUEvent?

    // MARK: .counters
    public var retired: UInt64 = 0
    public var idleTicks: UInt64 = 0
    public var entropy: UInt64 = 0

    public init() {}
}

extension VCPUState {
    /// A segment register by name.
    public subscript(_ r: SegmentRegister) -> VCPUSegment {
        get { segments[r.rawValue] }
        set { segments[r.rawValue] = newValue }
    }

    /// The state in `StateCoder`'s encoding, a named section a part, every field by name in the
    /// code below: the snapshot format (SnapshotFile.swift) is this, not the interpreter's storage.
    public mutating func encode(_ s: inout StateCoder) {
        s.section("gprs") { s in
            s.field(&gprs); s.field(&rip); s.field(&rflags)
        }
        s.section("segments") { s in
            var selectors = segments.map { UInt64($0.selector) }, bases = segments.map(\.base)
            var limits = segments.map { UInt64($0.limit) }, attributes = segments.map { UInt64($0.attributes) }
            s.field(&selectors); s.field(&bases); s.field(&limits); s.field(&attributes)
            s.field(&gdtr.base); s.field(&gdtr.limit); s.field(&idtr.base); s.field(&idtr.limit); s.field(&cpl)
            guard !s.isSaving else { return }
            guard [selectors.count, bases.count, limits.count, attributes.count].allSatisfy({ $0 == 8 }) else {
                s.fail("the segment registers are not eight")
                return
            }
            segments = (0..<8).map {
                VCPUSegment(selector: UInt16(truncatingIfNeeded: selectors[$0]), base: bases[$0],
                            limit: UInt32(truncatingIfNeeded: limits[$0]), attributes: UInt16(truncatingIfNeeded: attributes[$0]))
            }
        }
        s.section("control") { s in
            s.field(&cr0); s.field(&cr2); s.field(&cr3); s.field(&cr4); s.field(&cr8); s.field(&xcr0)
        }
        s.section("debug") { s in
            s.field(&dr); s.field(&pendingSingleStep); s.field(&deferredDebugStatus); s.field(&watchHits)
        }
        s.section("msrs") { s in
            s.field(&efer); s.field(&pkrs); s.field(&tscOffset)
            var pairs = msrs.keys.sorted().flatMap { [UInt64($0), msrs[$0]!] }
            s.field(&pairs)
            guard !s.isSaving else { return }
            guard pairs.count % 2 == 0 else { s.fail("the MSR list has an index without a value"); return }
            msrs = [:]
            for i in stride(from: 0, to: pairs.count, by: 2) { msrs[UInt32(truncatingIfNeeded: pairs[i])] = pairs[i + 1] }
        }
        s.section("fpu") { s in
            s.field(&fcw); s.field(&fsw); s.field(&ftw); s.field(&fop); s.field(&fip); s.field(&fdp)
            s.field(&x87); s.field(&xmm); s.field(&mxcsr); s.field(&pkru)
        }
        s.section("interrupt") { s in
            s.field(&interruptShadow); s.field(&movSSShadow); s.field(&nmiBlocked); s.field(&activity); s.field(&exitRequests)
            var event: [UInt64] = pendingEvent.map { e -> [UInt64] in
                [UInt64(e.kind.rawValue), UInt64(e.vector), e.errorCode.map { UInt64($0) | 1 << 32 } ?? 0, e.faultAddress]
            } ?? []
            s.field(&event)
            guard !s.isSaving else { return }
            guard event.isEmpty || (event.count == 4 && event[0] <= 2) else { s.fail("the pending event is malformed"); return }
            pendingEvent = event.isEmpty ? nil
                : VCPUEvent(VCPUEvent.Kind(rawValue: UInt8(event[0]))!, vector: UInt8(truncatingIfNeeded: event[1]),
                            errorCode: event[2] >> 32 != 0 ? UInt32(truncatingIfNeeded: event[2]) : nil, faultAddress: event[3])
        }
        s.section("counters") { s in
            s.field(&retired); s.field(&idleTicks); s.field(&entropy)
        }
        guard !s.isSaving else { return }
        guard gprs.count == 16, dr.count == 8, x87.count == 16, xmm.count == 32 else {
            s.fail("the vCPU state has \(gprs.count) general, \(dr.count) debug, \(x87.count / 2) x87 or \(xmm.count / 2) XMM registers")
            return
        }
    }
}
