// The system family (Semantics.swift's `system`): its dispatch, and MOV to and from segment,
// control and debug registers. The family's larger parts have files of their own: far
// transfers, port I/O, SYSCALL and SYSENTER, MSR access, system segments, XSAVE.

import X86
import X86Decoder

extension CPU {
    /// #GP(0) unless at CPL 0 (and in protected mode where the instruction needs it).
    func requireCPL0() throws(CPUException) {
        if state.cpl != 0 { throw .generalProtection(0) }
    }

    var iopl: Int { Int(state.rflags >> 12) & 3 }

    /// MOV to or from a segment, control or debug register; PUSH/POP of a segment register.
    func moveSystemRegister(_ op: Op, _ ins: Instruction, _ ops: OperandList, _ osz: Int) throws(CPUException) {
        if op == .push, case .register(let r) = ops[0] {
            return try push(UInt64(state.segment(SegmentRegister(rawValue: Int(r.number))!).selector), size: osz)
        }
        if op == .pop, case .register(let r) = ops[0] {
            let sp = state.rsp
            let v = try pop(size: osz)
            do throws(CPUException) {
                try loadSegment(SegmentRegister(rawValue: Int(r.number))!, UInt16(truncatingIfNeeded: v))
            } catch { state.rsp = sp; throw error }
            if r.number == 2 { state.interruptShadow = true; state.movSSShadow = true }
            return
        }
        guard case .register(let d) = ops[0] else {
            // MOV m16, Sreg.
            guard case .register(let s) = ops[1], s.kind == .segment else { throw .invalidOpcode }
            return try write(place(ops[0]), UInt64(state.segment(SegmentRegister(rawValue: Int(s.number))!).selector))
        }
        switch d.kind {
        case .segment:
            guard d.number != 1 && d.number < 6 else { throw .invalidOpcode }
            let v = try read(place(ops[1]))
            try loadSegment(SegmentRegister(rawValue: Int(d.number))!, UInt16(truncatingIfNeeded: v))
            if d.number == 2 { state.interruptShadow = true; state.movSSShadow = true }
        case .control:
            try requireCPL0()
            guard case .register(let s) = ops[1] else { throw .invalidOpcode }
            try writeControlRegister(Int(d.number), state.gpr[Int(s.number)] & sizeMask(s.size))
        case .debug:
            try requireCPL0()
            try generalDetect()
            guard case .register(let s) = ops[1] else { throw .invalidOpcode }
            let n = try debugRegisterNumber(Int(d.number))
            var v = state.gpr[Int(s.number)] & sizeMask(s.size)
            if n == 6 { v = v & 0xE00F | 0xFFFF_0FF0 }
            if n == 7 { v = v & ~0xD000 | 0x400 }
            if n >= 6 && v >> 32 != 0 { throw .generalProtection(0) }
            state.setDR(n, v)
            syncWatchpoints()
        default:
            guard case .register(let s) = ops[1] else { throw .invalidOpcode }
            switch s.kind {
            case .segment:
                try write(place(ops[0]), UInt64(state.segment(SegmentRegister(rawValue: Int(s.number))!).selector))
            case .control:
                try requireCPL0()
                let v: UInt64
                switch s.number {
                case 0: v = state.cr0
                case 2: v = state.cr2
                case 3: v = state.cr3
                case 4: v = state.cr4
                case 8: v = state.cr8
                default: throw .invalidOpcode
                }
                state.gpr[Int(d.number)] = v & sizeMask(d.size)
            case .debug:
                try requireCPL0()
                try generalDetect()
                state.gpr[Int(d.number)] = state.dr(try debugRegisterNumber(Int(s.number))) & sizeMask(d.size)
            default: throw .invalidOpcode
            }
        }
    }

    /// DR7.GD: any MOV DR is a #DB fault with DR6.BD set, and GD clears for the handler.
    func generalDetect() throws(CPUException) {
        guard state.dr(7) & 1 << 13 != 0 else { return }
        state.setDR(6, state.dr(6) | DR6Bit.bd)
        state.setDR(7, state.dr(7) & ~(1 << 13))
        throw .debug
    }

    /// DR4 and DR5 alias DR6 and DR7 unless CR4.DE makes them #UD.
    func debugRegisterNumber(_ n: Int) throws(CPUException) -> Int {
        switch n {
        case 0...3, 6, 7: return n
        case 4, 5:
            if state.cr4 & CR4Bit.de != 0 { throw .invalidOpcode }
            return n + 2
        default: throw .invalidOpcode
        }
    }

    /// MOV CRn with ControlRegisters' checks; paging changes flush the TLB and the decoded code.
    func writeControlRegister(_ n: Int, _ value: UInt64) throws(CPUException) {
        var c = ControlRegisters()
        c.cr0 = state.cr0; c.cr2 = state.cr2; c.cr3 = state.cr3; c.cr4 = state.cr4; c.efer = state.efer
        c.supportedCR4 = supportedCR4
        switch n {
        case 0:
            try c.writeCR0(value, in64BitCode: state.mode == .bits64)
        case 2: c.cr2 = value
        case 3: try c.writeCR3(value)
        case 4:
            try c.writeCR4(value)
        case 8:
            if value >> 4 != 0 { throw .generalProtection(0) }
            state.cr8 = value
            // Below the monitor's TPR threshold an interrupt it holds may now be taken.
            if value < tprThreshold { state.exitRequests |= 2 }
            return
        default: throw .invalidOpcode
        }
        // PAE paging's PDPTEs are checked when CR3 (or CR0.PG/CR4.PAE) loads them: reserved bits are #GP(0).
        let pae = c.cr0 & CR0Bit.pg != 0 && c.cr4 & CR4Bit.pae != 0 && c.efer & EFERBit.lma == 0
        if pae && (n == 3 || n == 0 || n == 4) {
            for i in 0..<4 {
                let e = try systemRead(c.cr3 & 0xFFFF_FFE0 &+ UInt64(8 * i), 8)
                if e & 1 != 0 && e & (0x1E6 | ~((1 << UInt64(c.physicalAddressBits)) - 1)) != 0 { throw .generalProtection(0) }
            }
        }
        if n == 0 || n == 4 { charge(ticks: model.controlRegisterWriteTicks) }
        let changed = (c.cr0 ^ state.cr0, c.cr3 ^ state.cr3, c.cr4 ^ state.cr4)
        state.cr0 = c.cr0; state.cr2 = c.cr2; state.cr3 = c.cr3; state.cr4 = c.cr4
        state.efer = c.efer
        let pagingChanged = changed.0 & (CR0Bit.pg | CR0Bit.wp | CR0Bit.pe) != 0
            || changed.2 & (CR4Bit.pae | CR4Bit.pse | CR4Bit.pge | CR4Bit.smep | CR4Bit.smap | CR4Bit.pke | CR4Bit.la57 | CR4Bit.pcide) != 0
        if n == 3 || pagingChanged {
            // MOV CR3 keeps global translations (SDM vol. 3, 4.10.4.1); the other changes drop them.
            if pagingChanged { memory.flushTLB() } else { memory.flushNonGlobalTLB() }
            // Frame-tracking memories keep decoded code across address spaces (their flush moved
            // the code epoch: each entry is checked against its frame before it runs again).
            if !Memory.tracksCodeFrames { invalidateDecodedInstructions() }
        }
        modeMaybeChanged()
    }

    /// INVPCID (SDM vol. 2): type 0 invalidates one address in one PCID, 1 one PCID, 2 every
    /// PCID including global translations, 3 every PCID except global ones. The TLB here is not
    /// tagged by PCID, so every type drops at least what it must (type 0 the page, the others
    /// everything: dropping more than asked is always allowed), after the #GP checks of each type.
    func invalidatePCID(_ ops: OperandList) throws(CPUException) {
        try requireCPL0() // virtual-8086 mode runs at CPL 3
        guard case .register(let r) = ops[0], case .memory(let m) = ops[1] else { throw .invalidOpcode }
        let type = state.gpr[Int(r.number)] & (state.mode == .bits64 ? ~0 : 0xFFFF_FFFF)
        let a = try checkedAddress(m, size: 16)
        let pcid = try memory.read(a, size: 8), address = try memory.read(a &+ 8, size: 8)
        let pcide = state.cr4 & CR4Bit.pcide != 0
        switch type {
        case 0:
            guard pcid <= 0xFFF, pcide || pcid == 0, isCanonicalForProcessor(address) else { throw .generalProtection(0) }
            memory.flushTLB(page: address)
            codeMappingChanged(address)
        case 1:
            guard pcid <= 0xFFF, pcide || pcid == 0 else { throw .generalProtection(0) }
            memory.flushNonGlobalTLB()
        case 2:
            memory.flushTLB()
        case 3:
            memory.flushNonGlobalTLB()
        default:
            throw .generalProtection(0)
        }
    }

    /// The instructions of System.swift.
    func system(_ op: Op, _ ins: Instruction, _ ops: OperandList, _ osz: Int) throws(CPUException) {
        // Instructions a VMM can turn off (Semantics.swift's `gated`: VMX's "enable INVPCID"
        // and "enable RDTSCP" controls): hidden from CPUID, they are #UD, as on a processor
        // without them.
        if op.facts.gated, !model.reports(feature: op.facts.feature) { throw .invalidOpcode }
        switch op {
        case .lgdt, .lidt:
            try requireCPL0()
            guard case .memory(let m) = ops[0] else { throw .invalidOpcode }
            let a = try checkedAddress(m, size: state.mode == .bits64 ? 10 : 6)
            let limit = try memory.read(a, size: 2)
            var base = try memory.read(a &+ 2, size: state.mode == .bits64 ? 8 : 4)
            if state.mode != .bits64 && osz == 2 { base &= 0xFF_FFFF }
            if state.mode == .bits64 && !isCanonicalForProcessor(base) { throw .generalProtection(0) }
            let t = TableRegister(base: base, limit: UInt16(limit))
            if op == .lgdt { state.gdtr = t } else { state.idtr = t }
        case .sgdt, .sidt:
            if state.cr4 & CR4Bit.umip != 0 && state.cpl > 0 { throw .generalProtection(0) }
            guard case .memory(let m) = ops[0] else { throw .invalidOpcode }
            let a = try checkedAddress(m, size: state.mode == .bits64 ? 10 : 6)
            let t = op == .sgdt ? state.gdtr : state.idtr
            let width = state.mode == .bits64 ? 8 : 4
            _ = try memory.read(a &+ UInt64(1 + width), size: 1)
            try store(a, size: 2, value: UInt64(t.limit))
            try store(a &+ 2, size: width, value: t.base)
        case .lldt, .ltr:
            guard !state.realAddressing else { throw .invalidOpcode }
            try requireCPL0()
            try loadSystemSegment(op == .ltr, UInt16(truncatingIfNeeded: try read(place(ops[0]))))
        case .sldt, .str:
            guard !state.realAddressing else { throw .invalidOpcode }
            if state.cr4 & CR4Bit.umip != 0 && state.cpl > 0 { throw .generalProtection(0) }
            let v = UInt64(state.segment(op == .str ? .tr : .ldtr).selector)
            try write(place(ops[0]), v)
        case .lmsw:
            try requireCPL0()
            // Only PE, MP, EM, TS; PE can be set but not cleared.
            let v = try read(place(ops[0])) & 0xF
            try writeControlRegister(0, state.cr0 & ~0xE | v | (state.cr0 & 1))
        case .smsw:
            if state.cr4 & CR4Bit.umip != 0 && state.cpl > 0 { throw .generalProtection(0) }
            let d = place(ops[0])
            try write(d, state.cr0 & (size(d) == 2 ? 0xFFFF : ~0))
        case .clts:
            try requireCPL0()
            state.cr0 &= ~CR0Bit.ts
        case .invlpg:
            try requireCPL0()
            guard case .memory(let m) = ops[0] else { throw .invalidOpcode }
            let a = linearAddress(m)
            memory.flushTLB(page: a)
            codeMappingChanged(a)
        case .stac, .clac:
            // SMAP's override: EFLAGS.AC, set or cleared at CPL 0 only (#UD elsewhere).
            if state.cpl != 0 { throw .invalidOpcode }
            if op == .stac { state.rflags |= Flag.ac } else { state.rflags &= ~Flag.ac }
        case .invpcid:
            try invalidatePCID(ops)
        case .rdpkru, .wrpkru:
            // #UD without CR4.PKE; ECX (and EDX for WRPKRU) must be zero.
            if state.cr4 & CR4Bit.pke == 0 { throw .invalidOpcode }
            if state.rcx & 0xFFFF_FFFF != 0 || (op == .wrpkru && state.rdx & 0xFFFF_FFFF != 0) {
                throw .generalProtection(0)
            }
            if op == .rdpkru {
                state.rax = UInt64(state.pkru)
                state.rdx = 0
            } else {
                let pkru = UInt32(truncatingIfNeeded: state.rax)
                // The TLB caches access rights that PKRU decides (the same value changes none).
                if pkru != state.pkru {
                    state.pkru = pkru
                    memory.flushTLB()
                }
            }
        case .invd, .wbinvd:
            try requireCPL0()
        case .rdmsr, .wrmsr:
            try requireCPL0()
            try modelSpecificRegister(write: op == .wrmsr)
        case .ljmp, .lcall:
            try farTransfer(call: op == .lcall, ops, osz)
        case .retf, .retfq:
            try farReturn(ops, osz)
        case .iret, .iretd, .iretq:
            try interruptReturn(osz)
            // IRET ends NMI blocking; a VMM waiting to inject an NMI (the NMI window, exit
            // request bit 2) gets its exit before the next instruction.
            if state.nmiBlocked {
                state.nmiBlocked = false
                if state.exitRequests & 4 != 0 { state.exitRequests = state.exitRequests & ~4 | 2 }
            }
        case .int, .int3, .into, .int1:
            var vector = 3
            if op == .int, case .immediate(let v, _) = ops[0] { vector = Int(v & 0xFF) }
            if op == .into {
                guard state.flag(Flag.of) else { return }
                vector = 4
            }
            // The delivery clears TF, so no single-step trap follows (stepping resumes after
            // the handler's IRET). A #DB that MOV SS blocking held back is still taken, after
            // the delivery, except after ICEBP, whose own #DB it merges with.
            tfSampledAtEnd = true
            state.pendingSingleStep = false
            if op == .int1 {
                state.deferredDebugStatus = 0
                try deliver(vector: 1, errorCode: nil, source: .external, returnRIP: state.rip)
                return
            }
            try deliver(vector: vector, errorCode: nil, source: .software, returnRIP: state.rip)
        case .cli:
            if state.protectedMode && state.cpl > iopl { throw .generalProtection(0) }
            state.rflags &= ~Flag.if
        case .sti:
            if state.protectedMode && state.cpl > iopl { throw .generalProtection(0) }
            if !state.flag(Flag.if) { state.interruptShadow = true }
            state.rflags |= Flag.if
        case .hlt:
            try requireCPL0()
            throw .exit(.halt)
        case .vmcall, .vmmcall:
            // VMCALL in VMX non-root operation always exits; VMMCALL exits under SVM's
            // intercept. The other vendor's instruction is #UD (SDM vol. 3, 25.1.2; APM vol. 3).
            guard hypercallExiting, (op == .vmcall) == (vendor == .intel) else { throw .invalidOpcode }
            throw .exit(.hypercall)
        case .in, .out:
            try portIO(isIn: op == .in, ops, ins)
        case .insb, .insw, .insd, .outsb, .outsw, .outsd:
            try stringIO(op, ins)
        case .syscall:
            try systemCall()
        case .sysret:
            try systemReturn(ins)
        case .sysenter:
            try sysenter()
        case .sysexit:
            try sysexit(ins)
        case .swapgs:
            try requireCPL0()
            let k = msrs.kernelGSBase ?? 0
            msrs.kernelGSBase = state.gsBase
            state.gsBase = k
        case .rdfsbase, .rdgsbase, .wrfsbase, .wrgsbase:
            guard state.cr4 & CR4Bit.fsgsbase != 0 else { throw .invalidOpcode }
            let d = place(ops[0])
            if op == .rdfsbase || op == .rdgsbase {
                try write(d, op == .rdfsbase ? state.fsBase : state.gsBase)
            } else {
                let v = try read(d)
                guard isCanonicalForProcessor(v) else { throw .generalProtection(0) }
                if op == .wrfsbase { state.fsBase = v } else { state.gsBase = v }
            }
        case .rdpid:
            try write(place(ops[0]), msrs[MSRIndex.tscAux] ?? 0)
        case .lds, .les, .lss, .lfs, .lgs:
            guard case .memory(let m) = ops[1] else { throw .invalidOpcode }
            let a = try checkedAddress(m, size: osz + 2)
            let offset = try memory.read(a, size: osz)
            let selector = UInt16(try memory.read(a &+ UInt64(osz), size: 2))
            let r: SegmentRegister = op == .lds ? .ds : op == .les ? .es : op == .lss ? .ss : op == .lfs ? .fs : .gs
            try loadSegment(r, selector)
            try write(place(ops[0]), offset)
        case .bound:
            // The signed index against the two bounds at the memory operand: #BR outside them.
            guard case .memory(let m) = ops[1] else { throw .invalidOpcode }
            let a = try checkedAddress(m, size: 2 * osz)
            let lower = signExtend(try memory.read(a, size: osz), osz)
            let upper = signExtend(try memory.read(a &+ UInt64(osz), size: osz), osz)
            let index = Int64(bitPattern: signExtend(try read(place(ops[0])), osz))
            if index < Int64(bitPattern: lower) || index > Int64(bitPattern: upper) { throw .boundRange }
        case .arpl:
            // Protected mode only: raise the destination selector's RPL to the source's (ZF=1).
            guard state.cr0 & CR0Bit.pe != 0, state.rflags & Flag.vm == 0 else { throw .invalidOpcode }
            let d = place(ops[0])
            let destination = try read(d), source = try read(place(ops[1]))
            if destination & 3 < source & 3 {
                try write(d, destination & ~3 | source & 3)
                state.set(Flag.zf, true)
            } else {
                state.set(Flag.zf, false)
            }
        case .pushaw, .pushal:
            let width = op == .pushaw ? 2 : 4
            let sp = state.rsp
            do throws(CPUException) {
                for i in 0..<8 { try push((i == 4 ? sp : state.gpr[i]) & sizeMask(width), size: width) }
            } catch { state.rsp = sp; throw error }
        case .popaw, .popal:
            let width = op == .popaw ? 2 : 4
            var values = [UInt64](repeating: 0, count: 8)
            let sp = state.rsp
            do throws(CPUException) {
                for i in (0..<8).reversed() { values[i] = try pop(size: width) }
            } catch { state.rsp = sp; throw error }
            for i in 0..<8 where i != 4 { try write(.gpr(i, size: width, high: false), values[i]) }
        case .xlatb:
            let asz = Int(ins.addressSize)
            let seg = ins.segmentOverride == 0xFF ? 3 : Int(ins.segmentOverride)
            let offset = (state.rbx &+ (state.rax & 0xFF)) & sizeMask(asz)
            let v = try memory.read(linear(seg, offset), size: 1)
            state.rax = state.rax & ~0xFF | v
        case .xgetbv:
            guard state.cr4 & CR4Bit.osxsave != 0 else { throw .invalidOpcode }
            guard state.rcx & 0xFFFF_FFFF == 0 else { throw .generalProtection(0) }
            state.rax = state.xcr0 & 0xFFFF_FFFF
            state.rdx = state.xcr0 >> 32
        case .xsetbv:
            guard state.cr4 & CR4Bit.osxsave != 0 else { throw .invalidOpcode }
            try requireCPL0()
            let v = (state.rdx & 0xFFFF_FFFF) << 32 | state.rax & 0xFFFF_FFFF
            guard state.rcx & 0xFFFF_FFFF == 0, v & 1 == 1, v & ~model.xcr0Supported == 0 else { throw .generalProtection(0) }
            state.xcr0 = v
        case .xsave, .xsave64, .xsaveopt, .xsaveopt64, .xrstor, .xrstor64:
            try extendedState(save: op != .xrstor && op != .xrstor64, wide: op == .xsave64 || op == .xsaveopt64 || op == .xrstor64, ops)
        case .lar, .lsl, .verr, .verw:
            try descriptorQuery(op, ops)
        default: // ud0, ud1, ud2
            throw .invalidOpcode
        }
    }
}

extension CPU {
    /// INVLPG or INVPCID of one address: decoded code from it must go (a frame-tracking
    /// memory's flush of the page already moved the code epoch).
    func codeMappingChanged(_ address: UInt64) {
        if !Memory.tracksCodeFrames && codePages[Int(truncatingIfNeeded: address >> 12) & (CPU.codePageSlots - 1)] == address >> 12 {
            state.invalidationPending = true
        }
    }
}
