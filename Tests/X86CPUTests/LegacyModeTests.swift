import CPUCheck
import Testing
import X86
import X86CPU

/// The instructions that exist only outside 64-bit mode (DAA, DAS, AAA, AAS, AAM, AAD, SALC,
/// BOUND, ARPL) and JCXZ (address size 16), each input run natively in compatibility mode and in the interpreter (with
/// the host's vendor as its model) and compared: the registers' low 32 bits, RIP, and every
/// status flag, the ones the SDM leaves undefined included (the interpreter's reading of them
/// was taken from an AMD and an Intel host: Decimal.swift).
struct LegacyModeTests {
    static let statusFlags: UInt64 = Flag.cf | Flag.pf | Flag.af | Flag.zf | Flag.sf | Flag.of

    static var fxImage: [UInt8] {
        var fx = [UInt8](repeating: 0, count: 512)
        fx[0] = 0x7F; fx[1] = 0x03            // FCW
        fx[24] = 0x80; fx[25] = 0x1F          // MXCSR
        return fx
    }

    /// Runs `bytes` from `eax`, `flags` (and ECX, EDX, EBX, the data) both ways; a description
    /// of the difference, or nil.
    func difference(_ name: String, _ bytes: [UInt8], eax: UInt64, flags: UInt64, ecx: UInt64 = 0, edx: UInt64 = 0,
                    ebx: UInt64 = 0, data: [UInt8] = [UInt8](repeating: 0, count: FlatMemory.dataSize)) -> String? {
        var gpr = [UInt64](repeating: 0, count: 16)
        gpr[0] = eax; gpr[1] = ecx; gpr[2] = edx; gpr[3] = ebx
        gpr[4] = FlatMemory.dataBase + 0x1000
        let c = CPUCase(family: .misc, bytes: bytes, gpr: gpr, rflags: flags | 2, data: data, fx: Self.fxImage)
        let host = HostExecution.run(code: bytes, gpr: gpr, rflags: c.rflags, data: data, fx: c.fx, bits: 32)
        let ours = runInterpreter(c, bits: 32)
        let compared = Self.statusFlags
        switch (host, ours) {
        case (.stepped(let h), .stepped(let s)):
            let hr = (0..<8).map { h.gpr[$0] & 0xFFFF_FFFF }, sr = (0..<8).map { s.gpr[$0] & 0xFFFF_FFFF }
            if hr == sr && h.rip == s.rip && h.rflags & compared == s.rflags & compared { return nil }
            return "\(name) eax=\(hex(eax)) flags=\(hex(flags)): host eax=\(hex(hr[0])) ecx=\(hex(hr[1])) flags=\(hex(h.rflags & compared)) rip=\(hex(h.rip)); "
                + "softvmm eax=\(hex(sr[0])) ecx=\(hex(sr[1])) flags=\(hex(s.rflags & compared)) rip=\(hex(s.rip))"
        default:
            return host == ours ? nil : "\(name) eax=\(hex(eax)) flags=\(hex(flags)): host \(host), softvmm \(ours)"
        }
    }

    func hex(_ v: UInt64) -> String { "0x" + String(v, radix: 16) }

    /// Every AL with every AF and CF; AH varies with AL, so AAA/AAS carry into and borrow from it.
    @Test(arguments: [("daa", [UInt8(0x27)]), ("das", [0x2F]), ("aaa", [0x37]), ("aas", [0x3F])])
    func adjustments(_ name: String, _ bytes: [UInt8]) {
        var failures: [String] = []
        for al in UInt64(0)..<256 {
            for flags in [0, Flag.af, Flag.cf, Flag.af | Flag.cf] {
                let eax = 0x1234_0000 | ((al &* 37 &+ 0xF0) & 0xFF) << 8 | al
                if let d = difference(name, bytes, eax: eax, flags: flags | (al & 1 == 0 ? Flag.zf | Flag.of : Flag.sf)) {
                    failures.append(d)
                }
            }
        }
        #expect(failures.isEmpty, "\(failures.count) of 1024: \(failures.prefix(4))")
    }

    /// AAM and AAD with their usual base, others, and 0 (AAM: #DE).
    @Test func asciiMultiplyDivide() {
        var failures: [String] = []
        for base: UInt8 in [10, 16, 7, 1, 255, 0] {
            for al in stride(from: UInt64(0), to: 256, by: base == 10 ? 1 : 5) {
                let eax = 0xABCD_0000 | ((al &* 91) & 0xFF) << 8 | al
                for (name, opcode) in [("aam", UInt8(0xD4)), ("aad", 0xD5)] {
                    if let d = difference(name, [opcode, base], eax: eax, flags: al & 1 == 0 ? Flag.cf | Flag.af | Flag.of : 0) {
                        failures.append(d)
                    }
                }
            }
        }
        #expect(failures.isEmpty, "\(failures.count): \(failures.prefix(4))")
    }

    @Test func salc() {
        for flags in [0, Flag.cf] {
            let d = difference("salc", [0xD6], eax: 0x1234_5678, flags: flags)
            #expect(d == nil, "\(d ?? "")")
        }
    }

    /// BOUND with 16- and 32-bit operands: inside, at both bounds, and outside (#BR).
    @Test func bound() {
        var data = [UInt8](repeating: 0, count: FlatMemory.dataSize)
        func put(_ v: UInt32, at o: Int, _ size: Int) { for i in 0..<size { data[o + i] = UInt8(truncatingIfNeeded: v >> (8 * UInt32(i))) } }
        put(0xFFFF_FFF0, at: 0x100, 4); put(0x0000_0100, at: 0x104, 4)   // dword bounds [-16, 256]
        put(0xFFF0, at: 0x200, 2); put(0x0100, at: 0x202, 2)             // word bounds
        let ebx = FlatMemory.dataBase
        var failures: [String] = []
        for index: UInt64 in [0, 0xFFFF_FFF0, 0xFFFF_FFEF, 0x100, 0x101, 0x7FFF_FFFF, 0x8000_0000, 0xFFF0, 0x1234_0100] {
            // bound eax, [ebx + 0x100]; bound ax, [ebx + 0x200]
            if let d = difference("bound", [0x62, 0x83, 0x00, 0x01, 0x00, 0x00], eax: index, flags: 0, ebx: ebx, data: data) { failures.append(d) }
            if let d = difference("bound", [0x66, 0x62, 0x83, 0x00, 0x02, 0x00, 0x00], eax: index, flags: 0, ebx: ebx, data: data) { failures.append(d) }
        }
        #expect(failures.isEmpty, "\(failures)")
    }

    /// JCXZ (67 E3) tests CX alone, JECXZ (E3) all of ECX; taken and not.
    @Test func jumpIfCXZero() {
        var failures: [String] = []
        for ecx: UInt64 in [0, 1, 0x10000, 0xFFFF_0000, 0xFFFF] {
            if let d = difference("jcxz", [0x67, 0xE3, 0x05], eax: 0, flags: 0, ecx: ecx) { failures.append(d) }
            if let d = difference("jecxz", [0xE3, 0x05], eax: 0, flags: 0, ecx: ecx) { failures.append(d) }
        }
        #expect(failures.isEmpty, "\(failures)")
    }

    /// ARPL with every pair of RPLs, register and memory destinations.
    @Test func arpl() {
        var failures: [String] = []
        for destination: UInt64 in [0x0010, 0x0011, 0x0012, 0x0013, 0xFFFF_FFF8] {
            for source: UInt64 in [0x20, 0x21, 0x22, 0x23] {
                // arpl ax, cx
                if let d = difference("arpl", [0x63, 0xC8], eax: destination, flags: Flag.zf, ecx: source) { failures.append(d) }
                if let d = difference("arpl", [0x63, 0xC8], eax: destination, flags: 0, ecx: source) { failures.append(d) }
            }
        }
        #expect(failures.isEmpty, "\(failures)")
    }
}

/// Far JMP and CALL through memory in 64-bit mode against the host, with selectors that name
/// each kind of descriptor in Linux's GDT (user code, 32-bit user code, kernel code, data,
/// the TSS, none): the interpreter sees the same GDT (FlatMemory.gdt), so the outcome is the
/// host's. (cpu-check's 1M-case seed-4 campaign drew two such selectors.)
struct FarTransferTests {
    @Test(arguments: [UInt16(0x33), 0x30, 0x23, 0x20, 0x2B, 0x10, 0x43, 0x7B, 0x80, 0x00, 0x37])
    func throughLinuxGDT(_ selector: UInt16) {
        var data = [UInt8](repeating: 0, count: FlatMemory.dataSize)
        let offset: UInt64 = 0x1234_5678_9ABC
        for i in 0..<8 { data[0x100 + i] = UInt8(truncatingIfNeeded: offset >> (8 * UInt64(i))) }
        var fx = [UInt8](repeating: 0, count: 512)
        fx[0] = 0x7F; fx[1] = 0x03; fx[24] = 0x80; fx[25] = 0x1F
        for bytes: [UInt8] in [[0xFF, 0x2B], [0xFF, 0x1B], [0x48, 0xFF, 0x2B], [0x48, 0xFF, 0x1B]] {
            var d = data
            let wide = bytes[0] == 0x48
            let at = 0x100 + (wide ? 8 : 4)
            d[at] = UInt8(selector & 0xFF); d[at + 1] = UInt8(selector >> 8)
            var gpr = [UInt64](repeating: 0, count: 16)
            gpr[3] = FlatMemory.dataBase + 0x100
            gpr[4] = FlatMemory.dataBase + 0x1000
            let c = CPUCase(family: .unary, bytes: bytes, gpr: gpr, rflags: 2, data: d, fx: fx)
            let mismatch = checkCase(c)
            #expect(mismatch == nil, "\(bytes) selector \(selector): \(mismatch.map { "host \($0.host), softvmm \($0.softvmm)" } ?? "")")
        }
    }
}

extension FarTransferTests {
    /// The indirect far JMP's REX.W form by vendor: Intel reads m16:64, so a selector after a
    /// 64-bit offset reaches the 32-bit user code segment, where EIP takes the offset's low 32
    /// bits (an Intel host, Sapphire Rapids class, jumps to 0x56789ABC from 0x1234_5678_9ABC);
    /// AMD reads m16:32 and finds the offset's upper half as the selector (0: #GP).
    @Test(arguments: [(Vendor.intel, UInt64(0x1000), true), (.intel, 0x1_0000_1000, true), (.amd, 0x1000, false)])
    func wideFarJumpByVendor(_ vendor: Vendor, _ offset: UInt64, _ jumps: Bool) {
        var data = [UInt8](repeating: 0, count: FlatMemory.dataSize)
        for i in 0..<8 { data[0x100 + i] = UInt8(truncatingIfNeeded: offset >> (8 * UInt64(i))) }
        data[0x108] = 0x23
        let c = CPU(memory: FlatMemory(data: data, code: [0x48, 0xFF, 0x2B]), model: CPUModel(vendor: vendor))
        c.state.gdtr = TableRegister(base: FlatMemory.gdtBase, limit: FlatMemory.gdtLimit)
        c.state.rip = FlatMemory.codeBase
        c.state.gpr[3] = FlatMemory.dataBase + 0x100
        let result = c.step()
        if jumps {
            #expect(result == .executed && c.state.rip == offset & 0xFFFF_FFFF && c.state.mode == .bits32)
        } else {
            #expect(result == .exception(.generalProtection(0)) && c.state.rip == FlatMemory.codeBase)
        }
    }
}
