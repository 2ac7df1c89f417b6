import VMM
import X86

/// The registers a debugger sees, always in the 64-bit layout whatever mode the guest is in
/// (so that gdb's `g` packet never changes size across a mode switch): the order and sizes of
/// gdb's amd64 description (features/i386/64bit-core.xml, 64bit-sse.xml, 64bit-segments.xml),
/// then the system registers as QEMU's x86-64 stub orders them. `targetDescription` is the
/// XML gdb reads through qXfer:features:read; `encode`/`decode` are the `g`/`G` packets'
/// bytes, register by register, little-endian.
public enum RemoteRegisters {
    public enum Kind: Sendable { case gpr(Int), rip, rflags, segment(Int), st(Int), fpu(Int), xmm(Int), mxcsr, base(Int), control(Int), efer }

    public struct Register: Sendable {
        public var name: String
        public var bits: Int
        public var kind: Kind
        public var type: String
        public var group: String?
        public var feature: Int
    }

    static let features = ["org.gnu.gdb.i386.core", "org.gnu.gdb.i386.sse", "org.gnu.gdb.i386.segments", "org.softvmm.x86.system"]

    /// The registers in gdb's numbering.
    public static let all: [Register] = {
        var r: [Register] = []
        // RAX, RBX, RCX, RDX, RSI, RDI, RBP, RSP, R8-R15: VCPUState's encoding numbers.
        let names = ["rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "rsp"] + (8...15).map { "r\($0)" }
        let numbers = [0, 3, 1, 2, 6, 7, 5, 4] + Array(8...15)
        for (n, i) in zip(names, numbers) {
            r.append(Register(name: n, bits: 64, kind: .gpr(i), type: n == "rbp" || n == "rsp" ? "data_ptr" : "int64", feature: 0))
        }
        r.append(Register(name: "rip", bits: 64, kind: .rip, type: "code_ptr", feature: 0))
        r.append(Register(name: "eflags", bits: 32, kind: .rflags, type: "i386_eflags", feature: 0))
        // CS, SS, DS, ES, FS, GS: VCPUState's SegmentRegister numbers.
        for (n, i) in zip(["cs", "ss", "ds", "es", "fs", "gs"], [1, 2, 3, 0, 4, 5]) {
            r.append(Register(name: n, bits: 32, kind: .segment(i), type: "int32", feature: 0))
        }
        for i in 0..<8 { r.append(Register(name: "st\(i)", bits: 80, kind: .st(i), type: "i387_ext", feature: 0)) }
        for (i, n) in ["fctrl", "fstat", "ftag", "fiseg", "fioff", "foseg", "fooff", "fop"].enumerated() {
            r.append(Register(name: n, bits: 32, kind: .fpu(i), type: "int", group: "float", feature: 0))
        }
        for i in 0..<16 { r.append(Register(name: "xmm\(i)", bits: 128, kind: .xmm(i), type: "vec128", feature: 1)) }
        r.append(Register(name: "mxcsr", bits: 32, kind: .mxcsr, type: "i386_mxcsr", group: "vector", feature: 1))
        r.append(Register(name: "fs_base", bits: 64, kind: .base(0), type: "int", feature: 2))
        r.append(Register(name: "gs_base", bits: 64, kind: .base(1), type: "int", feature: 2))
        r.append(Register(name: "k_gs_base", bits: 64, kind: .base(2), type: "int", group: "system", feature: 3))
        for (n, i) in [("cr0", 0), ("cr2", 2), ("cr3", 3), ("cr4", 4), ("cr8", 8)] {
            r.append(Register(name: n, bits: 64, kind: .control(i), type: "int", group: "system", feature: 3))
        }
        r.append(Register(name: "efer", bits: 64, kind: .efer, type: "int", group: "system", feature: 3))
        return r
    }()

    /// The `g` packet's size in bytes.
    public static var packetBytes: Int { all.reduce(0) { $0 + $1.bits / 8 } }

    /// IA32_KERNEL_GS_BASE.
    static let kernelGSBase: UInt32 = 0xC000_0102

    /// The target description (GDB manual, "Target Descriptions"): the architecture, then each
    /// feature's registers in order, with the types gdb predefines or 64bit-sse.xml defines.
    public static let targetDescription: String = {
        var xml = """
            <?xml version="1.0"?>
            <!DOCTYPE target SYSTEM "gdb-target.dtd">
            <target version="1.0">
            <architecture>i386:x86-64</architecture>

            """
        for (f, feature) in features.enumerated() {
            xml += "<feature name=\"\(feature)\">\n"
            if f == 0 {
                xml += """
                    <flags id="i386_eflags" size="4">
                      <field name="CF" start="0" end="0"/><field name="" start="1" end="1"/><field name="PF" start="2" end="2"/>
                      <field name="AF" start="4" end="4"/><field name="ZF" start="6" end="6"/><field name="SF" start="7" end="7"/>
                      <field name="TF" start="8" end="8"/><field name="IF" start="9" end="9"/><field name="DF" start="10" end="10"/>
                      <field name="OF" start="11" end="11"/><field name="NT" start="14" end="14"/><field name="RF" start="16" end="16"/>
                      <field name="VM" start="17" end="17"/><field name="AC" start="18" end="18"/><field name="VIF" start="19" end="19"/>
                      <field name="VIP" start="20" end="20"/><field name="ID" start="21" end="21"/>
                    </flags>

                    """
            }
            if f == 1 {
                xml += """
                    <vector id="v8bf16" type="bfloat16" count="8"/><vector id="v4f" type="ieee_single" count="4"/>
                    <vector id="v2d" type="ieee_double" count="2"/><vector id="v16i8" type="int8" count="16"/>
                    <vector id="v8i16" type="int16" count="8"/><vector id="v4i32" type="int32" count="4"/>
                    <vector id="v2i64" type="int64" count="2"/>
                    <union id="vec128"><field name="v8_bfloat16" type="v8bf16"/><field name="v4_float" type="v4f"/>
                      <field name="v2_double" type="v2d"/><field name="v16_int8" type="v16i8"/><field name="v8_int16" type="v8i16"/>
                      <field name="v4_int32" type="v4i32"/><field name="v2_int64" type="v2i64"/><field name="uint128" type="uint128"/></union>
                    <flags id="i386_mxcsr" size="4">
                      <field name="IE" start="0" end="0"/><field name="DE" start="1" end="1"/><field name="ZE" start="2" end="2"/>
                      <field name="OE" start="3" end="3"/><field name="UE" start="4" end="4"/><field name="PE" start="5" end="5"/>
                      <field name="DAZ" start="6" end="6"/><field name="IM" start="7" end="7"/><field name="DM" start="8" end="8"/>
                      <field name="ZM" start="9" end="9"/><field name="OM" start="10" end="10"/><field name="UM" start="11" end="11"/>
                      <field name="PM" start="12" end="12"/><field name="FZ" start="15" end="15"/>
                    </flags>

                    """
            }
            for (n, reg) in all.enumerated() where reg.feature == f {
                xml += "  <reg name=\"\(reg.name)\" bitsize=\"\(reg.bits)\" type=\"\(reg.type)\" regnum=\"\(n)\""
                xml += (reg.group.map { " group=\"\($0)\"" } ?? "") + "/>\n"
            }
            xml += "</feature>\n"
        }
        return xml + "</target>\n"
    }()

    /// One register's bytes, little-endian.
    public static func value(_ reg: Register, _ s: VCPUState) -> [UInt8] {
        func le(_ v: UInt64, _ n: Int) -> [UInt8] { (0..<n).map { UInt8(truncatingIfNeeded: v >> (8 * UInt64($0))) } }
        switch reg.kind {
        case .gpr(let i): return le(s.gprs[i], 8)
        case .rip: return le(s.rip, 8)
        case .rflags: return le(s.rflags, 4)
        case .segment(let i): return le(UInt64(s.segments[i].selector), 4)
        case .st(let i):
            let physical = (Int(s.fsw >> 11 & 7) + i) & 7
            return le(s.x87[2 * physical], 8) + le(s.x87[2 * physical + 1], 2)
        case .fpu(let i):
            let v: UInt64 = [s.fcw, s.fsw, s.ftw, s.fip >> 32 & 0xFFFF, s.fip & 0xFFFF_FFFF, s.fdp >> 32 & 0xFFFF, s.fdp & 0xFFFF_FFFF, s.fop][i]
            return le(v, 4)
        case .xmm(let i): return le(s.xmm[2 * i], 8) + le(s.xmm[2 * i + 1], 8)
        case .mxcsr: return le(s.mxcsr, 4)
        case .base(let i):
            if i == 2 { return le(s.msrs[kernelGSBase] ?? 0, 8) }
            return le(s.segments[4 + i].base, 8)
        case .control(let i): return le([0: s.cr0, 2: s.cr2, 3: s.cr3, 4: s.cr4, 8: s.cr8][i] ?? 0, 8)
        case .efer: return le(s.efer, 8)
        }
    }

    /// Sets one register from its bytes (as many as its size). Selectors change only the
    /// selector (the descriptor cache stays, as a debugger's write does on hardware VMMs).
    public static func set(_ reg: Register, _ bytes: ArraySlice<UInt8>, _ s: inout VCPUState) {
        func word(_ from: Int, _ n: Int) -> UInt64 {
            (0..<n).reduce(0) { $0 | UInt64(bytes[bytes.startIndex + from + $1]) << (8 * UInt64($1)) }
        }
        switch reg.kind {
        case .gpr(let i): s.gprs[i] = word(0, 8)
        case .rip: s.rip = word(0, 8)
        case .rflags: s.rflags = word(0, 4) | 2
        case .segment(let i): s.segments[i].selector = UInt16(truncatingIfNeeded: word(0, 4))
        case .st(let i):
            let physical = (Int(s.fsw >> 11 & 7) + i) & 7
            s.x87[2 * physical] = word(0, 8)
            s.x87[2 * physical + 1] = word(8, 2)
        case .fpu(let i):
            let v = word(0, 4)
            switch i {
            case 0: s.fcw = v
            case 1: s.fsw = v
            case 2: s.ftw = v
            case 3: s.fip = s.fip & 0xFFFF_FFFF | (v & 0xFFFF) << 32
            case 4: s.fip = s.fip & ~0xFFFF_FFFF | v
            case 5: s.fdp = s.fdp & 0xFFFF_FFFF | (v & 0xFFFF) << 32
            case 6: s.fdp = s.fdp & ~0xFFFF_FFFF | v
            default: s.fop = v & 0x7FF
            }
        case .xmm(let i): (s.xmm[2 * i], s.xmm[2 * i + 1]) = (word(0, 8), word(8, 8))
        case .mxcsr: s.mxcsr = word(0, 4)
        case .base(let i):
            if i == 2 { s.msrs[kernelGSBase] = word(0, 8) } else { s.segments[4 + i].base = word(0, 8) }
        case .control(let i):
            let v = word(0, 8)
            switch i {
            case 0: s.cr0 = v
            case 2: s.cr2 = v
            case 3: s.cr3 = v
            case 4: s.cr4 = v
            default: s.cr8 = v
            }
        case .efer: s.efer = word(0, 8)
        }
    }

    /// The `g` packet's bytes.
    public static func encode(_ s: VCPUState) -> [UInt8] { all.flatMap { value($0, s) } }

    /// A `G` packet's bytes into the state; false (and no change) when the size is not the
    /// layout's.
    public static func decode(_ bytes: [UInt8], into s: inout VCPUState) -> Bool {
        guard bytes.count == packetBytes else { return false }
        var at = 0
        for reg in all {
            set(reg, bytes[at..<at + reg.bits / 8], &s)
            at += reg.bits / 8
        }
        return true
    }
}
