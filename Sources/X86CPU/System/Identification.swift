import X86
import X86Decoder

/// A CPUID leaf and subleaf (the subleaf is 0 for leaves that have none).
public struct CPUIDLeaf: Hashable, Sendable {
    public var leaf: UInt32, subleaf: UInt32
    public init(_ leaf: UInt32, _ subleaf: UInt32 = 0) { (self.leaf, self.subleaf) = (leaf, subleaf) }
}

/// CPUID's four output registers.
public struct CPUIDResult: Equatable, Sendable {
    public var eax: UInt32, ebx: UInt32, ecx: UInt32, edx: UInt32
    public init(_ eax: UInt32, _ ebx: UInt32, _ ecx: UInt32, _ edx: UInt32) { (self.eax, self.ebx, self.ecx, self.edx) = (eax, ebx, ecx, edx) }
    public var tuple: (UInt32, UInt32, UInt32, UInt32) { (eax, ebx, ecx, edx) }
}

/// What CPUID reports, and the deterministic sources behind RDTSC and RDRAND.
/// Only what the interpreter implements is reported; everything else reads as absent
/// (and its encodings raise #UD). A monitor can hide features (`hidden`) or replace whole
/// leaves (`overrides`), as KVM_SET_CPUID and bhyve's CPUID policy do: a hidden instruction
/// still runs, as on hardware behind a masking hypervisor, but the CR4 bits of hidden
/// features become reserved, so an OS cannot turn on what it was told is absent.
public struct CPUModel: Sendable {
    /// Whose processor this is: CPUID's vendor string, family and brand, and every behaviour
    /// where Intel and AMD differ (decoding, SYSCALL outside 64-bit mode, NaN propagation in
    /// DPPS, the x87 details in X87*.swift, ...). The host's vendor plays no part.
    public var vendor: Vendor = .intel
    /// CPUID leaf 0's vendor string (12 bytes).
    public var vendorString: String { vendor == .amd ? "AuthenticAMD" : "GenuineIntel" }
    /// CPUID leaves 0x80000002-4: the processor brand string (at most 47 bytes), which Linux
    /// shows as /proc/cpuinfo's "model name".
    public var brand: String {
        let ghz = tscFrequency / 10_000_000
        let frequency = "\(ghz / 100).\(ghz % 100 < 10 ? "0" : "")\(ghz % 100)GHz"
        return "softvmm \(vendor == .amd ? "AMD" : "Intel")-model virtual CPU @ " + frequency
    }
    /// The guest's time-stamp counter advances this much per retired instruction.
    public var tscPerInstruction: UInt64 = 1
    /// Guest time, in TSC ticks on top of the instruction's own, that PAUSE and a MOV to CR0 or
    /// CR4 take. On hardware these stall the core (PAUSE some 140 cycles on Intel's cores
    /// since Skylake; a serializing write to CR0 or CR4 some hundred), so a guest that waits by
    /// spinning on the TSC (Linux's udelay, kvm-unit-tests' delay() and vmexit loops) spins
    /// for as long in guest time but for far fewer instructions. 0 makes them ordinary
    /// instructions. The CPU ends a run at the first such instruction that reaches the VMM's
    /// tick deadline (`CPU.tickDeadline`), so no timer event is passed over.
    public var pauseTicks: UInt64 = 100
    public var controlRegisterWriteTicks: UInt64 = 100
    /// The TSC frequency CPUID states (leaves 0x15 and 0x16). Guest time is the instruction
    /// count, so with one tick per instruction the default makes an instruction last 1 ns.
    public var tscFrequency: UInt64 = 1_000_000_000
    /// The core crystal clock (leaf 0x15 ECX), the local APIC timer's input clock.
    public var crystalFrequency: UInt64 = 25_000_000
    /// RDRAND and RDSEED draw from a SplitMix64 stream with this seed.
    public var entropySeed: UInt64 = 0x5EED
    /// Feature bits cleared from CPUID's answers, by leaf.
    public var hidden: [CPUIDLeaf: CPUIDResult] = [:]
    /// Leaves answered with these values instead of the model's (applied before `hidden`).
    public var overrides: [CPUIDLeaf: CPUIDResult] = [:]
    /// XCR0 bits XSETBV accepts: x87 and SSE.
    public var xcr0Supported: UInt64 = 3
    /// The machine's logical processors (`--smp`), one core each in one package, and this
    /// vCPU's initial APIC ID (its index): leaf 1's EBX, the extended topology leaf 0xB and
    /// AMD's leaf 0x80000008 ECX. With one processor the model reports no topology leaf (as
    /// before SMP, so a one-vCPU guest's instruction counts stand).
    public var processors = 1
    public var apicID: UInt32 = 0
    /// The APIC ID bits that number the cores: enough for `processors` (leaf 0xB's core level,
    /// AMD's ApicIdCoreIdSize).
    var coreIDBits: UInt32 { UInt32(Int.bitWidth - (processors - 1).leadingZeroBitCount) }
    /// The linear-address width of the implemented paging: 57 (five-level paging) or 48.
    public var linearAddressBits: Int { reports(leaf: 7, register: 2, bit: 16) ? 57 : 48 }

    public init() {}

    /// The model of `vendor`'s processors with every implemented feature.
    public init(vendor: Vendor) {
        self.vendor = vendor
    }

    /// Hides one feature bit (register 0 = EAX ... 3 = EDX).
    public mutating func hide(leaf: UInt32, subleaf: UInt32 = 0, register: Int, bit: Int) {
        var m = hidden[CPUIDLeaf(leaf, subleaf)] ?? CPUIDResult(0, 0, 0, 0)
        switch register {
        case 0: m.eax |= 1 << UInt32(bit)
        case 1: m.ebx |= 1 << UInt32(bit)
        case 2: m.ecx |= 1 << UInt32(bit)
        default: m.edx |= 1 << UInt32(bit)
        }
        hidden[CPUIDLeaf(leaf, subleaf)] = m
    }

    /// Whether CPUID reports a feature bit.
    public func reports(leaf: UInt32, subleaf: UInt32 = 0, register: Int, bit: Int) -> Bool {
        let r = cpuid(leaf, subleaf)
        return [r.0, r.1, r.2, r.3][register] >> UInt32(bit) & 1 != 0
    }

    /// Whether CPUID reports the feature `featureNames` calls `name`.
    public func reports(feature name: String) -> Bool {
        guard let (leaf, register, bit) = Self.featureNames[name] else { return false }
        return reports(leaf: leaf, register: register, bit: bit)
    }

    /// Each CR4 bit with the feature that makes it settable (leaf, register, bit); PCE needs none.
    static let cr4Features: [(UInt64, UInt32, Int, Int)] = [
        (CR4Bit.tsd, 1, 3, 4), (CR4Bit.de, 1, 3, 2), (CR4Bit.pse, 1, 3, 3), (CR4Bit.pae, 1, 3, 6),
        (CR4Bit.mce, 1, 3, 7), (CR4Bit.pge, 1, 3, 13), (CR4Bit.osfxsr, 1, 3, 24), (CR4Bit.osxmmexcpt, 1, 3, 25),
        (CR4Bit.umip, 7, 2, 2), (CR4Bit.la57, 7, 2, 16), (CR4Bit.fsgsbase, 7, 1, 0), (CR4Bit.pcide, 1, 2, 17),
        (CR4Bit.osxsave, 1, 2, 26), (CR4Bit.smep, 7, 1, 7), (CR4Bit.smap, 7, 1, 20), (CR4Bit.pke, 7, 2, 3),
        (CR4Bit.pks, 7, 2, 31),
    ]

    /// The CR4 bits MOV CR4 accepts: those of the features CPUID reports (the rest are
    /// reserved: #GP). VME and PVI stay reserved: virtual-8086 mode is not implemented.
    public var supportedCR4: UInt64 {
        Self.cr4Features.reduce(CR4Bit.pce) { bits, f in reports(leaf: f.1, register: f.2, bit: f.3) ? bits | f.0 : bits }
    }

    /// CPUID(leaf, subleaf) -> (eax, ebx, ecx, edx), after overrides and hidden bits. The bits
    /// that follow the vCPU's state (OSXSAVE, OSPKE) are added by the CPU.
    public func cpuid(_ leaf: UInt32, _ subleaf: UInt32) -> (UInt32, UInt32, UInt32, UInt32) {
        // Leaves without subleaves ignore ECX.
        let key = CPUIDLeaf(leaf, leaf == 7 || leaf == 0xD || leaf == 0xB ? subleaf : 0)
        var r = overrides[key] ?? base(leaf, subleaf)
        if let h = hidden[key] { r = CPUIDResult(r.eax & ~h.eax, r.ebx & ~h.ebx, r.ecx & ~h.ecx, r.edx & ~h.edx) }
        return r.tuple
    }

    /// The model's own answer.
    func base(_ leaf: UInt32, _ subleaf: UInt32) -> CPUIDResult {
        let v = Array(vendorString.utf8)
        func word(_ bytes: [UInt8], _ i: Int) -> UInt32 {
            (0..<4).reduce(0) { $0 | UInt32(i + $1 < bytes.count ? bytes[i + $1] : 0) << (8 * UInt32($1)) }
        }
        let amd = vendor == .amd
        switch leaf {
        case 0: return CPUIDResult(0x16, word(v, 0), word(v, 8), word(v, 4))
        case 1:
            // Family 6. EBX: CLFLUSH line size 8 × 8 bytes.
            // ECX: SSE3 (0), PCLMULQDQ (1), SSSE3 (9), CX16 (13), PCID (17), SSE4.1 (19), SSE4.2 (20),
            //      MOVBE (22), POPCNT (23), XSAVE (26), RDRAND (30); OSXSAVE (27) follows CR4 (the
            //      CPU adds it). No AVX (28): not implemented.
            // EDX: FPU (0), DE (2), PSE (3), TSC (4), MSR (5), PAE (6), MCE (7: CR4.MCE, no #MC is
            //      ever raised), CX8 (8), SEP (11), MTRR (12), PGE (13), CMOV (15), PAT (16),
            //      CLFSH (19), MMX (23), FXSR (24), SSE (25), SSE2 (26).
            //      APIC (9): the machine's local APIC, with x2APIC (ECX 21) and the TSC-deadline
            //      timer (ECX 24).
            let ecx: UInt32 = 1 << 0 | 1 << 1 | 1 << 9 | 1 << 13 | 1 << 17 | 1 << 19 | 1 << 20 | 1 << 21 | 1 << 22
                | 1 << 23 | 1 << 24 | 1 << 26 | 1 << 30
            let edx: UInt32 = 1 << 0 | 1 << 2 | 1 << 3 | 1 << 4 | 1 << 5 | 1 << 6 | 1 << 7 | 1 << 8 | 1 << 9 | 1 << 11
                | 1 << 12 | 1 << 13 | 1 << 15 | 1 << 16 | 1 << 19 | 1 << 23 | 1 << 24 | 1 << 25 | 1 << 26
            // EAX: Intel family 6, model 0x60; AMD family 0x17 (0xF + extended 8), model 1, stepping 2.
            // EBX: the initial APIC ID (31:24) and, with HTT (EDX 28), the logical processors
            // in the package (23:16).
            let smp = processors > 1
            let ebx: UInt32 = 8 << 8 | apicID << 24 | (smp ? UInt32(min(processors, 255)) << 16 : 0)
            return CPUIDResult(amd ? 0x0080_0F12 : 0x0006_0600, ebx, ecx, edx | (smp ? 1 << 28 : 0))
        case 6:
            // ARAT (EAX 2): the APIC timer runs in every power state.
            return CPUIDResult(1 << 2, 0, 0, 0)
        case 7 where subleaf == 0:
            // EBX: FSGSBASE (0), BMI1 (3), SMEP (7), BMI2 (8), INVPCID (10), RDSEED (18), ADX (19),
            //      SMAP (20), CLFLUSHOPT (23); Intel only, as its hosts report: FDP_EXCPTN_ONLY (6)
            //      and FCS/FDS deprecated (13), how the x87 keeps its pointers (X87Execute.swift).
            // ECX: UMIP (2), PKU (3; OSPKE (4) follows CR4), LA57 (16), RDPID (22), PKS (31: Intel
            //      only, supervisor protection keys).
            // EDX: IA32_ARCH_CAPABILITIES (29), an Intel MSR.
            return CPUIDResult(0, 1 << 0 | 1 << 3 | 1 << 7 | 1 << 8 | 1 << 10 | 1 << 18 | 1 << 19 | 1 << 20 | 1 << 23
                                   | (amd ? 0 : 1 << 6 | 1 << 13),
                               1 << 2 | 1 << 3 | 1 << 16 | 1 << 22 | (amd ? 0 : 1 << 31), amd ? 0 : 1 << 29)
        case 0xB where processors > 1:
            // Extended topology (SDM vol. 2, CPUID leaf 0BH): level 0 the thread (one per core),
            // level 1 the core (`processors` of them); EAX the bits to shift the x2APIC ID by to
            // reach the next level, EBX the logical processors at the level, ECX the level number
            // and type, EDX the x2APIC ID. Past level 1: an invalid level (type 0).
            switch subleaf {
            case 0: return CPUIDResult(0, 1, 0 | 1 << 8, apicID)
            case 1: return CPUIDResult(coreIDBits, UInt32(processors), 1 | 2 << 8, apicID)
            default: return CPUIDResult(0, 0, subleaf & 0xFF, apicID)
            }
        case 0xD where subleaf == 0:
            // XSAVE: x87 and SSE (XCR0 bits 0-1); the legacy area and header take 576 bytes.
            return CPUIDResult(3, 576, 576, 0)
        case 0xD where subleaf == 1:
            return CPUIDResult(1, 0, 0, 0) // XSAVEOPT
        case 0x15:
            // TSC / crystal ratio (EBX / EAX) and the crystal's frequency in Hz (ECX).
            let g = gcd(tscFrequency, crystalFrequency)
            return CPUIDResult(UInt32(truncatingIfNeeded: crystalFrequency / g), UInt32(truncatingIfNeeded: tscFrequency / g),
                               UInt32(truncatingIfNeeded: crystalFrequency), 0)
        case 0x16:
            // Base and maximum frequency, and the bus (reference) frequency, in MHz.
            let mhz = UInt32(truncatingIfNeeded: tscFrequency / 1_000_000)
            return CPUIDResult(mhz, mhz, UInt32(truncatingIfNeeded: crystalFrequency / 1_000_000), 0)
        case 0x8000_0000:
            // AMD repeats the vendor string here.
            return CPUIDResult(0x8000_0008, amd ? word(v, 0) : 0, amd ? word(v, 8) : 0, amd ? word(v, 4) : 0)
        case 0x8000_0001:
            // ECX: LAHF/SAHF in 64-bit mode (0), LZCNT (5), PREFETCHW (8);
            // EDX: SYSCALL (11), NX (20), 1-GiB pages (26), RDTSCP (27), long mode (29). AMD also
            // repeats leaf 1's EDX bits 0-9, 12-17, 23 and 24 here, and gives the family in EAX.
            let mirrored: UInt32 = amd ? base(1, 0).edx & 0x0183_F3FF : 0
            return CPUIDResult(amd ? base(1, 0).eax : 0, 0, 1 << 0 | 1 << 5 | 1 << 8,
                               mirrored | 1 << 11 | 1 << 20 | 1 << 26 | 1 << 27 | 1 << 29)
        case 0x8000_0002...0x8000_0004:
            // The brand string, 16 bytes a leaf, NUL-padded.
            let b = Array(brand.utf8.prefix(47)), o = Int(leaf - 0x8000_0002) * 16
            return CPUIDResult(word(b, o), word(b, o + 4), word(b, o + 8), word(b, o + 12))
        case 0x8000_0008:
            // 46 physical and 48 or 57 linear address bits.
            // AMD: ECX gives the cores in the package less one (7:0) and the APIC ID bits that
            // number them (15:12).
            let cores: UInt32 = amd && processors > 1
                ? UInt32(processors - 1) | coreIDBits << 12 : 0
            return CPUIDResult(46 | UInt32(linearAddressBits) << 8, 0, cores, 0)
        default: return CPUIDResult(0, 0, 0, 0)
        }
    }

    func gcd(_ a: UInt64, _ b: UInt64) -> UInt64 { b == 0 ? max(a, 1) : gcd(b, a % b) }

    /// Feature names as QEMU's `-cpu` and Linux's /proc/cpuinfo spell them: (leaf, register, bit).
    public static let featureNames: [String: (UInt32, Int, Int)] = [
        "fpu": (1, 3, 0), "de": (1, 3, 2), "pse": (1, 3, 3), "tsc": (1, 3, 4), "msr": (1, 3, 5), "pae": (1, 3, 6),
        "mce": (1, 3, 7), "cx8": (1, 3, 8), "sep": (1, 3, 11), "mtrr": (1, 3, 12), "pge": (1, 3, 13), "cmov": (1, 3, 15),
        "pat": (1, 3, 16), "clflush": (1, 3, 19), "mmx": (1, 3, 23), "fxsr": (1, 3, 24), "sse": (1, 3, 25), "sse2": (1, 3, 26),
        "pni": (1, 2, 0), "sse3": (1, 2, 0), "pclmulqdq": (1, 2, 1), "ssse3": (1, 2, 9), "cx16": (1, 2, 13), "pcid": (1, 2, 17),
        "sse4.1": (1, 2, 19), "sse4_1": (1, 2, 19), "sse4.2": (1, 2, 20), "sse4_2": (1, 2, 20), "movbe": (1, 2, 22),
        "popcnt": (1, 2, 23), "xsave": (1, 2, 26), "rdrand": (1, 2, 30), "apic": (1, 3, 9), "x2apic": (1, 2, 21),
        "tsc-deadline": (1, 2, 24), "arat": (6, 0, 2),
        "fsgsbase": (7, 1, 0), "bmi1": (7, 1, 3), "smep": (7, 1, 7), "bmi2": (7, 1, 8), "invpcid": (7, 1, 10),
        "fdp-excptn-only": (7, 1, 6), "zero-fcs-fds": (7, 1, 13), "rdseed": (7, 1, 18), "adx": (7, 1, 19), "smap": (7, 1, 20), "clflushopt": (7, 1, 23), "clwb": (7, 1, 24),
        "umip": (7, 2, 2), "pku": (7, 2, 3), "la57": (7, 2, 16), "rdpid": (7, 2, 22),
        "arch-capabilities": (7, 3, 29),
        "lahf_lm": (0x8000_0001, 2, 0), "abm": (0x8000_0001, 2, 5), "3dnowprefetch": (0x8000_0001, 2, 8),
        "syscall": (0x8000_0001, 3, 11), "nx": (0x8000_0001, 3, 20), "pdpe1gb": (0x8000_0001, 3, 26),
        "rdtscp": (0x8000_0001, 3, 27), "lm": (0x8000_0001, 3, 29),
    ]

    /// The model names `-cpu` accepts and the vendor each stands for: `max` is the Intel model
    /// with everything implemented; QEMU's EPYC models select the AMD one. (`host` is resolved
    /// by the command line to one of these, from the host's vendor.)
    public static func vendor(ofModel name: String) -> Vendor? {
        if name == "max" || name == "Intel" { return .intel }
        if name == "EPYC" || name.hasPrefix("EPYC-") || name == "AMD" { return .amd }
        return nil
    }

    /// A model from QEMU-style `-cpu` syntax: a model name (`max`, `EPYC`) followed by
    /// `,-feature` to hide one; `,+feature` is accepted for what is already reported.
    /// Throws a message naming the first part it does not understand.
    public init(parsing spec: String) throws(CPUModelError) {
        let parts = spec.split(separator: ",").map(String.init)
        guard let first = parts.first, let vendor = Self.vendor(ofModel: first) else { throw .unknownModel(parts.first ?? "") }
        self.init(vendor: vendor)
        for part in parts.dropFirst() {
            guard let sign = part.first, sign == "-" || sign == "+", let f = Self.featureNames[String(part.dropFirst())] else {
                throw .unknownFeature(part)
            }
            if sign == "-" {
                hide(leaf: f.0, register: f.1, bit: f.2)
            } else if !reports(leaf: f.0, register: f.1, bit: f.2) {
                throw .notImplemented(String(part.dropFirst()))
            }
        }
    }
}

/// Why a `-cpu` string was refused.
public enum CPUModelError: Error, Equatable, CustomStringConvertible {
    case unknownModel(String)
    case unknownFeature(String)
    case notImplemented(String)
    public var description: String {
        switch self {
        case .unknownModel(let m): "unknown CPU model \"\(m)\": use max (Intel), EPYC (AMD) or host, then ,-feature to hide features"
        case .unknownFeature(let f): "\"\(f)\" is not +feature or -feature with a known feature name"
        case .notImplemented(let f): "feature \(f) is not implemented, so it cannot be added"
        }
    }
}

/// A model's CPUID answers for leaves 0-0x1F and 0x80000000-0x8000001F at subleaf 0 (and
/// leaves 7 and 0xD at subleaf 1), computed once: CPUID then reads an array instead of the
/// model's dictionaries and strings. Other leaves and subleaves ask the model.
struct CPUIDTable {
    var basic: [CPUIDResult] = [], extended: [CPUIDResult] = [], subleafOne: [CPUIDResult] = []

    init(_ model: CPUModel) {
        func result(_ l: UInt32, _ s: UInt32) -> CPUIDResult {
            let (a, b, c, d) = model.cpuid(l, s)
            return CPUIDResult(a, b, c, d)
        }
        basic = (0..<32).map { result($0, 0) }
        extended = (0..<32).map { result(0x8000_0000 + $0, 0) }
        subleafOne = [result(7, 1), result(0xD, 1)]
    }

    @inline(__always) func answer(_ leaf: UInt32, _ subleaf: UInt32) -> (UInt32, UInt32, UInt32, UInt32)? {
        let perSubleaf = leaf == 7 || leaf == 0xD
        if (perSubleaf && subleaf > 1) || leaf == 0xB { return nil }
        if perSubleaf && subleaf == 1 { return subleafOne[leaf == 7 ? 0 : 1].tuple }
        if leaf < 32 { return basic[Int(leaf)].tuple }
        let e = leaf &- 0x8000_0000
        return e < 32 ? extended[Int(e)].tuple : nil
    }
}

extension CPU {
    /// CPUID, RDTSC, RDTSCP, RDRAND, RDSEED.
    func identification(_ op: Op, _ ops: OperandList) throws(CPUException) {
        switch op {
        case .cpuid:
            let leaf = UInt32(truncatingIfNeeded: state.rax), subleaf = UInt32(truncatingIfNeeded: state.rcx)
            if !exitingCPUIDLeaves.isEmpty && exitingCPUIDLeaves.contains(leaf) {
                throw .exit(.cpuid(leaf: leaf, subleaf: subleaf))
            }
            let (a, b, c, d) = cpuidTable.answer(leaf, subleaf) ?? model.cpuid(leaf, subleaf)
            // OSXSAVE and OSPKE reflect CR4.
            var c1 = c
            if leaf == 1 && state.cr4 & CR4Bit.osxsave != 0 { c1 |= 1 << 27 }
            // APIC (leaf 1 EDX 9) reads 0 while IA32_APIC_BASE.EN is clear (SDM vol. 3, 11.4.3).
            var d1 = d
            if leaf == 1, let base = msrs[MSRIndex.apicBase], base & 1 << 11 == 0 { d1 &= ~(1 << 9) }
            if leaf == 7 && state.rcx & 0xFFFF_FFFF == 0 && state.cr4 & CR4Bit.pke != 0 { c1 |= 1 << 4 }
            state.rax = UInt64(a); state.rbx = UInt64(b); state.rcx = UInt64(c1); state.rdx = UInt64(d1)
        case .rdtsc, .rdtscp:
            // A hidden RDTSCP is #UD (VMX's "enable RDTSCP" control).
            if op == .rdtscp && !model.reports(leaf: 0x8000_0001, register: 3, bit: 27) { throw .invalidOpcode }
            // Guest time is the retired-instruction count: the same run reads the same values.
            if state.cr4 & CR4Bit.tsd != 0 && state.cpl > 0 && state.protectedMode { throw .generalProtection(0) }
            let tsc = timeStampCounter
            state.rax = tsc & 0xFFFF_FFFF
            state.rdx = tsc >> 32
            if op == .rdtscp { state.rcx = (msrs[MSRIndex.tscAux] ?? 0) & 0xFFFF_FFFF }
        default: // rdrand, rdseed: always succeed (CF = 1), from the seeded stream.
            let d = place(ops[0])
            try write(d, entropy.next())
            state.rflags = (state.rflags & ~Flag.status) | Flag.cf
        }
    }
}
