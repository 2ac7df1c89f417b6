import Debugger
import Foundation
import FoundationXML
import Testing
import VMM

/// The GDB remote protocol's framing and the register layout gdb is given.
@Suite struct RemoteProtocolTests {
    /// Packets as the GDB manual writes them ($g#67, $OK#9a, $?#3f), escapes, run across reads.
    @Test func framing() {
        #expect(remotePacket("g") == Array("$g#67".utf8))
        #expect(remotePacket("OK") == Array("$OK#9a".utf8))
        #expect(remotePacket("?") == Array("$?#3f".utf8))
        var r = RemotePacketReader()
        #expect(r.feed(Array("+$g#67".utf8)) == [.acknowledged, .packet(Array("g".utf8))])
        // Split anywhere, with noise and Ctrl-C between packets.
        var events: [RemoteEvent] = []
        for b in Array("xx".utf8) + [0x03] + Array("$?#3".utf8) { events += r.feed([b]) }
        events += r.feed(Array("f-".utf8))
        #expect(events == [.interrupt, .packet(Array("?".utf8)), .resend])
        #expect(r.feed([0x03]) == [.interrupt])
        // Every byte value survives escaping.
        let all = (0...255).map { UInt8($0) }
        #expect(r.feed(remotePacket(all)) == [.packet(all)])
        // A wrong checksum, a bad digit, a packet cut by the next one.
        #expect(r.feed(Array("$g#68".utf8)) == [.badChecksum])
        #expect(r.feed(Array("$g#6z".utf8)) == [.badChecksum])
        #expect(r.feed(Array("$g$OK#9a".utf8)) == [.badChecksum, .packet(Array("OK".utf8))])
        // Too long: dropped, never held whole.
        var small = RemotePacketReader(limit: 16)
        #expect(small.feed(remotePacket(String(repeating: "m", count: 100))) == [.oversized])
        #expect(small.feed(remotePacket("OK")) == [.packet(Array("OK".utf8))])
        #expect(RemoteHex.decode(Array("00ff7A".utf8)) == [0, 0xFF, 0x7A] && RemoteHex.decode(Array("0".utf8)) == nil)
        #expect(RemoteHex.number(Array("ffffffff81000000".utf8)) == 0xFFFF_FFFF_8100_0000 && RemoteHex.number(Array("x1".utf8)) == nil)
    }

    /// The layout: gdb's amd64 core and SSE registers in gdb's order, then the segment bases
    /// and the system registers; the description's sizes are the packet's; a state goes
    /// through the packet and back unchanged.
    @Test func registerLayout() throws {
        let names = RemoteRegisters.all.map(\.name)
        // gdb's amd64 numbering (amd64-tdep.h: AMD64_RAX_REGNUM 0 ... AMD64_MXCSR_REGNUM 56).
        let gdb = ["rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "rsp"] + (8...15).map { "r\($0)" }
            + ["rip", "eflags", "cs", "ss", "ds", "es", "fs", "gs"] + (0..<8).map { "st\($0)" }
            + ["fctrl", "fstat", "ftag", "fiseg", "fioff", "foseg", "fooff", "fop"] + (0..<16).map { "xmm\($0)" } + ["mxcsr"]
        #expect(Array(names.prefix(57)) == gdb)
        #expect(Array(names.dropFirst(57)) == ["fs_base", "gs_base", "k_gs_base", "cr0", "cr2", "cr3", "cr4", "cr8", "efer"])
        // The XML is well formed, and its registers are the packet's, in order, with their sizes.
        final class Collect: NSObject, XMLParserDelegate {
            var regs: [(String, Int, Int)] = []
            func parser(_ p: XMLParser, didStartElement e: String, namespaceURI: String?, qualifiedName: String?, attributes a: [String: String]) {
                if e == "reg" { regs.append((a["name"] ?? "", Int(a["bitsize"] ?? "") ?? 0, Int(a["regnum"] ?? "") ?? -1)) }
            }
        }
        let parser = XMLParser(data: Data(RemoteRegisters.targetDescription.utf8)), c = Collect()
        parser.delegate = c
        #expect(parser.parse())
        #expect(c.regs.map(\.0) == names && c.regs.map(\.2) == Array(0..<names.count))
        #expect(c.regs.reduce(0) { $0 + $1.1 } == 8 * RemoteRegisters.packetBytes)
        #expect(RemoteRegisters.packetBytes == 608)
        var s = VCPUState()
        for i in 0..<16 { s.gprs[i] = 0x1111_1111_1111_1111 &* UInt64(i + 1) }
        s.rip = 0xFFFF_FFFF_8100_0010; s.rflags = 0x246
        for i in 0..<6 { s.segments[i].selector = UInt16(8 * i + 3); }
        s.segments[4].base = 0x7F00_0000_1000; s.segments[5].base = 0xFFFF_8880_0000_0000
        s.msrs[0xC000_0102] = 0x1234
        s.fsw = 3 << 11                                // TOP = 3: st0 is R3
        for i in 0..<8 { (s.x87[2 * i], s.x87[2 * i + 1]) = (UInt64(i) << 56 | 0xABCD, 0x4000 | UInt64(i)) }
        for i in 0..<32 { s.xmm[i] = UInt64(i) &* 0x0101_0101_0101_0101 }
        (s.cr0, s.cr2, s.cr3, s.cr4, s.cr8, s.efer, s.mxcsr, s.fcw, s.ftw) = (0x8005_0033, 0x42, 0x1000, 0x3406F0, 4, 0xD01, 0x1F80, 0x37F, 0x3F)
        s.fip = 0x0010_0040_2000; s.fdp = 0x0018_0080_3000; s.fop = 0x5D9
        let g = RemoteRegisters.encode(s)
        #expect(g.count == RemoteRegisters.packetBytes)
        #expect(Array(g[0..<8]) == Array(repeating: 0x11, count: 8))    // rax
        #expect(Array(g[8..<16]) == Array(repeating: 0x44, count: 8))   // rbx is encoding 3
        let st0 = 16 * 8 + 8 + 4 + 6 * 4
        #expect(Array(g[st0..<st0 + 10]) == [0xCD, 0xAB, 0, 0, 0, 0, 0, 3, 0x03, 0x40])   // R3: x87[6], x87[7]
        var back = VCPUState()
        back.fsw = s.fsw
        #expect(RemoteRegisters.decode(g, into: &back))
        #expect(back.gprs == s.gprs && back.rip == s.rip && back.rflags == s.rflags && back.x87 == s.x87 && back.xmm == s.xmm)
        #expect(back.segments[4].base == s.segments[4].base && back.msrs[0xC000_0102] == 0x1234 && back.cr3 == 0x1000 && back.efer == 0xD01)
        #expect(back.fip == s.fip && back.fdp == s.fdp && back.fop == s.fop && back.ftw == s.ftw)
        #expect(!RemoteRegisters.decode(Array(g.dropLast()), into: &back))
    }
}
