import Testing
import Foundation
import X86
import X86Decoder
@testable import DecoderCheck

func repoFile(_ relative: String) -> String {
    var parts = #filePath.split(separator: "/", omittingEmptySubsequences: false)
    parts.removeLast(3)
    return try! String(contentsOfFile: parts.joined(separator: "/") + "/" + relative, encoding: .utf8)
}

@Suite struct CrossCheck {
    /// Every class in the code is documented in Fixtures/decoder/known-classes.txt, and nothing else is.
    @Test func knownClassesAreDocumented() {
        let text = repoFile("Fixtures/decoder/known-classes.txt")
        let documented = Set(text.split(separator: "\n").filter { $0.hasPrefix("id: ") }.map { String($0.dropFirst(4)) })
        let coded = Set(KnownClasses.all.map(\.id))
        #expect(documented == coded)
        // Each documented class has an example and a verdict, and names the reference the code uses.
        for block in text.components(separatedBy: "\n\nid: ").dropFirst() {
            #expect(block.contains("\nexample: ") && block.contains("\nverdict: "), "\(block.prefix(40))")
            let id = String(block.prefix { $0 != "\n" })
            let host = block.contains("\nreference: host CPU")
            #expect(KnownClasses.all.first { $0.id == id }?.reference == (host ? .hostCPU : .zydis), "\(id)")
        }
    }

    /// Where softvmm and Capstone agree, nothing is classified; a known bug of
    /// Capstone's is classified only with Zydis's agreement.
    @Test func classificationNeedsTheSecondReference() {
        // The host's vendor by default, so the host CPU can settle its classes; the readings
        // that differ are checked in each vendor's.
        let host = DecoderChecker(mode: .bits64)
        let intel = DecoderChecker(mode: .bits64, vendor: .intel), amd = DecoderChecker(mode: .bits64, vendor: .amd)
        func verdict(_ bytes: [UInt8], _ checker: DecoderChecker? = nil) -> Verdict {
            bytes.withUnsafeBufferPointer { (checker ?? host).check($0).verdict }
        }
        #expect(verdict([0x48, 0x01, 0xC8]) == .agree)
        // LOCK CVTTSD2SI: Capstone accepts, the CPU and Zydis reject.
        #expect(verdict([0xF0, 0xF2, 0x4B, 0x0F, 0x2C, 0x47, 0x47]) == .known("lock-not-lockable"))
        // 66 E8: Intel (Zydis) vs AMD (Capstone); softvmm's AMD reading is Capstone's.
        #expect(verdict([0x66, 0xE8, 0, 0, 0, 0, 0x90, 0x90], intel) == .known("near-branch-66-intel"))
        #expect(verdict([0x66, 0xE8, 0, 0, 0, 0, 0x90, 0x90], amd) == .agree)
        // MOV CR1: Capstone decodes it; the host CPU raises #UD.
        #expect(verdict([0x0F, 0x22, 0xCA]) == .known("reserved-control-debug-register"))
        // 0F 1B with a register operand: Capstone and Zydis (MPX) reject it; the host executes a NOP.
        #expect(verdict([0x42, 0x0F, 0x1B, 0xCD]) == .known("hint-nop"))
        // F3 REX.B 90 (found by the fuzzer): Intel pauses, which Zydis settles on any host; AMD
        // exchanges r8 and rax, which only an AMD host can settle.
        let f3RexB90: [UInt8] = [0x66, 0xF3, 0x66, 0x47, 0x47, 0x90]
        #expect(verdict(f3RexB90, intel) == .known("mandatory-prefix-order"))
        #expect(verdict(f3RexB90, amd) == (HostCPU.vendor == .amd ? .known("xchg-r8-read-as-pause") : .unexplained("mnemonic")))
        // 66 63 with memory: Intel reads a word, which only an Intel host settles.
        let movsxd66: [UInt8] = [0x66, 0x63, 0x80, 0xFE, 0x17, 0, 0]
        #expect(verdict(movsxd66, intel) == (HostCPU.vendor == .intel ? .known("movsxd-66-word-intel") : .unexplained("operands")))
    }

    /// The host-CPU reference itself: it tells #UD, length, and a fault on the guard page apart.
    @Test func hostCPUProbe() {
        #expect(HostCPU.probe([0x90])?.outcome == .stepped(length: 1))
        #expect(HostCPU.probe([0x48, 0x01, 0xC8])?.outcome == .stepped(length: 3))
        #expect(HostCPU.probe([0x0F, 0x0B])?.outcome == .undefined)
        // mov eax, [rax + 0x17fc] reads the last dword before the guard page; +0x17fe crosses into it.
        #expect(HostCPU.probe([0x8B, 0x80, 0xFC, 0x17, 0, 0])?.outcome == .stepped(length: 6))
        #expect(HostCPU.probe([0x8B, 0x80, 0xFE, 0x17, 0, 0])?.outcome == .fault)
        // MOVSXD with 66 reads a word from memory on Intel (the SDM's r/m16: the last two bytes
        // before the guard page), a dword on AMD (a fault); softvmm's two readings say so.
        let movsxd66: [UInt8] = [0x66, 0x63, 0x80, 0xFE, 0x17, 0, 0]
        #expect(HostCPU.probe(movsxd66)?.outcome == (HostCPU.vendor == .intel ? .stepped(length: 7) : .fault))
        for (vendor, size) in [(Vendor.intel, 2), (.amd, 4)] {
            #expect(X86Decoder(mode: .bits64, vendor: vendor).decode(movsxd66).operands().last
                    .map { if case .memory(let m) = $0 { m.size } else { 0 } } == size)
        }
        // 32-bit code runs in compatibility mode: 40 is INC EAX there (one byte), and 16-bit
        // addressing through 67 reaches [si], below the scratch pages.
        #expect(HostCPU.probe([0x40], mode: .bits32)?.outcome == .stepped(length: 1))
        #expect(HostCPU.probe([0x67, 0x8B, 0x04], mode: .bits32)?.outcome == .fault)
        #expect(HostCPU.probe([0x90], mode: .bits16) == nil)
        // Register effects: F3 41 90 exchanges r8d and eax on AMD; Intel pauses (both unchanged).
        let high: [UInt64] = [0x0123_4567_89AB_CDEF, 2, 3, 4, 5, 6, 7, 8]
        let r = [UInt8]([0xF3, 0x41, 0x90]).withUnsafeBufferPointer { HostCPU.probeRegisters($0, high: high) }
        #expect(r?.0.outcome == .stepped(length: 3))
        if HostCPU.vendor == .amd {
            #expect(r.map { $0.1[0] } == 0x89AB_CDEF)
        } else {
            #expect(r.map { $0.1[8] } == high[0])
        }
    }

    /// A fixed-seed slice: the campaign is deterministic (same seed, same counts).
    @Test func campaignIsDeterministic() {
        let a = runCampaign(mode: .bits64, seed: 5, count: 3000)
        let b = runCampaign(mode: .bits64, seed: 5, count: 3000)
        #expect(a.perMap.mapValues(\.agree) == b.perMap.mapValues(\.agree))
        #expect(a.unexplainedCount == b.unexplainedCount)
        #expect(a.perMap.values.reduce(0) { $0 + $1.total } == 3000)
    }
}

@Suite struct FuzzRegressions {
    /// Every input the fuzzer found (Fixtures/fuzz/decoder/crash-*) passes the fuzzer's checks now.
    @Test func fuzzInputsReplay() throws {
        var parts = #filePath.split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(3)
        let dir = parts.joined(separator: "/") + "/Fixtures/fuzz/decoder"
        let names = try FileManager.default.contentsOfDirectory(atPath: dir).filter { !$0.hasPrefix(".") && $0 != "README.md" }
        let check = FuzzCheck()
        for name in names {
            let bytes = [UInt8](FileManager.default.contents(atPath: dir + "/" + name) ?? Data())
            let problem = bytes.withUnsafeBufferPointer { check.problem($0) }
            #expect(problem == nil, "\(name): \(problem ?? "")")
        }
    }
}
