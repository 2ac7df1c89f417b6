import Testing
import X86
import GuestMemory
import VMM
import X86CPU

/// The VMM's register sets (`VCPUState`, NVMM's `nvmm_x64_state` in parts): what is written
/// reads back exactly, a part not named is left alone, the encoding snapshots use restores
/// the same state, and the vCPU acts on what was written.
@Suite struct VCPUStateTests {
    static func makeVM() throws -> (VirtualMachine, HostPhysicalMemory) {
        let host = try HostPhysicalMemory(frames: 256)
        let vm = try VirtualMachine(name: "state", map: try MemoryMap([MemoryRange(.ram, base: 0, size: 0x10000)]), host: host)
        return (vm, host)
    }

    /// Every field of every part, random but valid (RFLAGS bit 1, CPL 0-3, an activity state).
    static func random(_ rng: inout SplitMix64) -> VCPUState {
        var s = VCPUState()
        s.gprs = (0..<16).map { _ in rng.next() }
        s.rip = rng.next()
        s.rflags = rng.next() & 0x3F_7FD5 | 2
        s.segments = (0..<8).map { _ in
            VCPUSegment(selector: UInt16(truncatingIfNeeded: rng.next()), base: rng.next(),
                        limit: UInt32(truncatingIfNeeded: rng.next()), attributes: UInt16(truncatingIfNeeded: rng.next()) & 0xF0FF)
        }
        s.gdtr = VCPUTableRegister(base: rng.next(), limit: UInt16(truncatingIfNeeded: rng.next()))
        s.idtr = VCPUTableRegister(base: rng.next(), limit: UInt16(truncatingIfNeeded: rng.next()))
        s.cpl = UInt8(rng.next() % 4)
        (s.cr0, s.cr2, s.cr3, s.cr4, s.cr8, s.xcr0) = (rng.next(), rng.next(), rng.next(), rng.next(), rng.next() & 15, rng.next())
        s.dr = (0..<8).map { _ in rng.next() }
        (s.pendingSingleStep, s.deferredDebugStatus, s.watchHits) = (rng.next() & 1 != 0, rng.next(), rng.next() & 15)
        (s.efer, s.pkrs, s.tscOffset) = (rng.next(), rng.next(), rng.next())
        s.msrs = [0x1B: rng.next(), 0xC000_0081: rng.next(), 0x277: rng.next()]
        (s.fcw, s.fsw, s.ftw, s.fop, s.fip, s.fdp) = (rng.next(), rng.next(), rng.next(), rng.next(), rng.next(), rng.next())
        s.x87 = (0..<16).map { _ in rng.next() }
        s.xmm = (0..<32).map { _ in rng.next() }
        (s.mxcsr, s.pkru) = (rng.next(), rng.next())
        (s.interruptShadow, s.movSSShadow, s.nmiBlocked) = (rng.next() & 1 != 0, rng.next() & 1 != 0, rng.next() & 1 != 0)
        s.activity = UInt8(rng.next() % 3)
        s.exitRequests = rng.next() & 7
        s.pendingEvent = rng.next() & 1 != 0 ? nil
            : VCPUEvent(.exception, vector: 14, errorCode: UInt32(truncatingIfNeeded: rng.next()), faultAddress: rng.next())
        (s.retired, s.idleTicks, s.entropy) = (rng.next(), rng.next(), rng.next())
        return s
    }

    @Test func everyPartReadsBackAsWritten() throws {
        let (vm, host) = try Self.makeVM()
        var rng = SplitMix64(seed: 20)
        for _ in 0..<50 {
            let s = Self.random(&rng)
            vm.vcpus[0].setState(s)
            #expect(vm.vcpus[0].getState() == s)
        }
        vm.teardown()
        #expect(host.liveFrames == 0)
    }

    /// Writing one part leaves the others as they were; reading one part fills only that one.
    @Test func partsAreIndependent() throws {
        let (vm, _) = try Self.makeVM()
        var rng = SplitMix64(seed: 21)
        let parts: [VCPUStateParts] = [.gprs, .segments, .controlRegisters, .debugRegisters, .msrs, .fpu, .interruptState, .counters]
        for part in parts {
            let base = Self.random(&rng), other = Self.random(&rng)
            vm.vcpus[0].setState(base)
            vm.vcpus[0].setState(other, part)
            let now = vm.vcpus[0].getState()
            for p in parts {
                let expected = p == part ? other : base
                #expect(VCPUStateTests.project(now, p) == VCPUStateTests.project(expected, p), "wrote \(part.rawValue), read \(p.rawValue)")
            }
            #expect(VCPUStateTests.project(vm.vcpus[0].getState(part), part) == VCPUStateTests.project(other, part))
        }
    }

    /// The part `p` of `s`, everything else at its initial value.
    static func project(_ s: VCPUState, _ p: VCPUStateParts) -> VCPUState {
        var v = VCPUState()
        switch p {
        case .gprs: (v.gprs, v.rip, v.rflags) = (s.gprs, s.rip, s.rflags)
        case .segments: (v.segments, v.gdtr, v.idtr, v.cpl) = (s.segments, s.gdtr, s.idtr, s.cpl)
        case .controlRegisters: (v.cr0, v.cr2, v.cr3, v.cr4, v.cr8, v.xcr0) = (s.cr0, s.cr2, s.cr3, s.cr4, s.cr8, s.xcr0)
        case .debugRegisters: (v.dr, v.pendingSingleStep, v.deferredDebugStatus, v.watchHits) = (s.dr, s.pendingSingleStep, s.deferredDebugStatus, s.watchHits)
        case .msrs: (v.efer, v.pkrs, v.msrs, v.tscOffset) = (s.efer, s.pkrs, s.msrs, s.tscOffset)
        case .fpu:
            (v.fcw, v.fsw, v.ftw, v.fop, v.fip, v.fdp) = (s.fcw, s.fsw, s.ftw, s.fop, s.fip, s.fdp)
            (v.x87, v.xmm, v.mxcsr, v.pkru) = (s.x87, s.xmm, s.mxcsr, s.pkru)
        case .interruptState:
            (v.interruptShadow, v.movSSShadow, v.nmiBlocked, v.activity) = (s.interruptShadow, s.movSSShadow, s.nmiBlocked, s.activity)
            (v.exitRequests, v.pendingEvent) = (s.exitRequests, s.pendingEvent)
        default: (v.retired, v.idleTicks, v.entropy) = (s.retired, s.idleTicks, s.entropy)
        }
        return v
    }

    /// The snapshot encoding restores the same state into another vCPU; a damaged one is a
    /// typed error naming the part.
    @Test func encodingRestoresTheSameState() throws {
        let (a, _) = try Self.makeVM(), (b, _) = try Self.makeVM()
        var rng = SplitMix64(seed: 22)
        let s = Self.random(&rng)
        a.vcpus[0].setState(s)
        var out = StateCoder()
        a.vcpus[0].state(&out)
        var back = StateCoder(restoring: out.bytes)
        b.vcpus[0].state(&back)
        #expect(back.error == nil && back.atEnd)
        #expect(b.vcpus[0].getState() == s)
        var cut = StateCoder(restoring: Array(out.bytes.dropLast(9)))
        b.vcpus[0].state(&cut)
        #expect(cut.error != nil)
    }

    /// What is written acts: an interrupt shadow or a waiting event holds back an external
    /// interrupt that RFLAGS.IF would let in, and a real-mode CS at 0x7E0 is 16-bit code.
    @Test func theVCPUActsOnWhatWasWritten() throws {
        let (vm, _) = try Self.makeVM()
        let vcpu = vm.vcpus[0]
        var s = vcpu.getState()
        s.rflags = 2 | Flag.if
        vcpu.setState(s)
        #expect(vcpu.interruptible)
        s.interruptShadow = true
        vcpu.setState(s, .interruptState)
        #expect(!vcpu.interruptible)
        s.interruptShadow = false
        s.pendingEvent = VCPUEvent(.nmi, vector: 2)
        vcpu.setState(s, .interruptState)
        #expect(!vcpu.interruptible)
        s.pendingEvent = nil
        s[.cs] = .real(0x7E0, code: true)
        vcpu.setState(s)
        #expect(vcpu.interruptible && vcpu.mode == .bits16 && vcpu.segment(.cs).base == 0x7E00)
    }
}
