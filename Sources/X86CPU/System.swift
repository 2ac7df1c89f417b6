import X86
import X86Decoder

/// A port bus the CPU can use directly (the monitor's I/O assist runs INS/OUTS through one);
/// without one, port I/O leaves the CPU as an I/O exit.
public protocol PortIOHandler: AnyObject {
    func portRead(_ port: UInt16, size: Int) -> UInt32
    func portWrite(_ port: UInt16, size: Int, value: UInt32)
}

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
        let changed = (c.cr0 ^ state.cr0, c.cr3 ^ state.cr3, c.cr4 ^ state.cr4)
        state.cr0 = c.cr0; state.cr2 = c.cr2; state.cr3 = c.cr3; state.cr4 = c.cr4
        state.efer = c.efer
        if n == 3 || changed.0 & (CR0Bit.pg | CR0Bit.wp | CR0Bit.pe) != 0
            || changed.2 & (CR4Bit.pae | CR4Bit.pse | CR4Bit.pge | CR4Bit.smep | CR4Bit.smap | CR4Bit.pke | CR4Bit.la57 | CR4Bit.pcide) != 0 {
            memory.flushTLB()
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
            memory.flushTLB()
        case 2, 3:
            memory.flushTLB()
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
                state.pkru = UInt32(truncatingIfNeeded: state.rax)
                memory.flushTLB() // the TLB caches access rights that PKRU decides
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
            let k = msrs.values[MSRIndex.kernelGSBase] ?? 0
            msrs.values[MSRIndex.kernelGSBase] = state.gsBase
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
            try write(place(ops[0]), msrs.values[MSRIndex.tscAux] ?? 0)
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
            try extendedState(save: op != .xrstor && op != .xrstor64, ops)
        case .lar, .lsl, .verr, .verw:
            try descriptorQuery(op, ops)
        default: // ud0, ud1, ud2
            throw .invalidOpcode
        }
    }

    // MARK: LLDT, LTR

    func loadSystemSegment(_ task: Bool, _ selector: UInt16) throws(CPUException) {
        let s = SegmentSelector(selector)
        if s.isNull {
            guard !task else { throw .generalProtection(0) }
            state.setSegment(.ldtr, SegmentState(selector: selector, base: 0, limit: 0, attributes: 0))
            return
        }
        guard !s.usesLDT, let (d, a) = try descriptor(s) else { throw .generalProtection(UInt32(s.errorCode)) }
        // LDT: type 2; TSS: available 16-bit (1) or 32/64-bit (9) — the 16-bit one only outside long mode.
        let typeOK = task ? (d.type == 9 || (d.type == 1 && !state.longModeActive)) : d.type == 2
        guard !d.isCodeOrData, typeOK else { throw .generalProtection(UInt32(s.errorCode)) }
        guard d.present else { throw .segmentNotPresent(UInt32(s.errorCode)) }
        var high: UInt64 = 0
        if state.longModeActive {
            let upper = try systemRead(a &+ 8, 8)
            // The upper half's type field (bits 44:40 of the quadword) must be 0; its low dword is
            // the base's bits 63:32, whatever they are.
            if (upper >> 40) & 0x1F != 0 { throw .generalProtection(UInt32(s.errorCode)) }
            high = upper & 0xFFFF_FFFF
            guard isCanonicalForProcessor(d.base | high << 32) else { throw .generalProtection(UInt32(s.errorCode)) }
        }
        if task {
            // The TSS becomes busy.
            try systemWrite(a &+ 5, 1, ((d.raw >> 40) & 0xFF) | 2)
            var busy = d
            busy.raw |= 2 << 40
            state.setSegment(.tr, SegmentState(selector: selector, descriptor: busy, baseHigh: high))
        } else {
            state.setSegment(.ldtr, SegmentState(selector: selector, descriptor: d, baseHigh: high))
        }
    }

    // MARK: LAR, LSL, VERR, VERW

    func descriptorQuery(_ op: Op, _ ops: OperandList) throws(CPUException) {
        guard !state.realAddressing else { throw .invalidOpcode }
        let source = op == .lar || op == .lsl ? ops[1] : ops[0]
        let s = SegmentSelector(UInt16(truncatingIfNeeded: try read(place(source))))
        var ok = false
        var d = SegmentDescriptor(0)
        if !s.isNull, let (found, _) = try descriptor(s) {
            d = found
            let privileged = !(d.isConforming) && (d.dpl < state.cpl || d.dpl < s.rpl)
            switch op {
            case .verr: ok = d.isCodeOrData && d.isReadable && !privileged
            case .verw: ok = d.isData && d.isWritable && !privileged
            default:
                // LAR also accepts gates and LDT/TSS descriptors; LSL only LDT/TSS among system types.
                let systemOK = op == .lar ? [1, 2, 3, 4, 5, 9, 0xB, 0xC].contains(d.type) : [1, 2, 3, 9, 0xB].contains(d.type)
                ok = (d.isCodeOrData || systemOK) && !privileged
            }
        }
        state.set(Flag.zf, ok)
        guard ok, op == .lar || op == .lsl else { return }
        let v = op == .lar ? d.raw >> 32 & 0x00F0_FF00 : UInt64(d.limit)
        try write(place(ops[0]), v)
    }

    // MARK: MSRs

    func modelSpecificRegister(write: Bool) throws(CPUException) {
        let index = UInt32(truncatingIfNeeded: state.rcx)
        let value = (state.rdx & 0xFFFF_FFFF) << 32 | state.rax & 0xFFFF_FFFF
        if exitingMSRs.contains(index) { throw .exit(.msr(index: index, write: write ? value : nil)) }
        if write {
            switch index {
            case MSRIndex.fsBase, MSRIndex.gsBase:
                guard isCanonicalForProcessor(value) else { throw .generalProtection(0) }
                if index == MSRIndex.fsBase { state.fsBase = value } else { state.gsBase = value }
            case MSRIndex.efer:
                // LME cannot change while paging is on; LMA is read-only.
                let lmaBit = state.efer & EFERBit.lma
                let requested = value & ~EFERBit.lma | lmaBit
                if state.pagingEnabled && (requested ^ state.efer) & EFERBit.lme != 0 { throw .generalProtection(0) }
                // EFER lives in the register file (MOV CR0 sets LMA there): the MSR checks compare
                // against it, not against a value they last stored (which a loader that set
                // EFER directly never gave them: Linux's WRMSR EFER with LMA set was a #GP).
                msrs.values[index] = state.efer
                try msrs.write(index, requested, longModeActive: state.longModeActive, linearBits: linearBits)
                state.efer = requested
                memory.flushTLB()
            case MSRIndex.tsc:
                tscOffset = value &- guestTicks
            case MSRIndex.pkrs:
                guard model.reports(leaf: 7, register: 2, bit: 31), value >> 32 == 0 else { throw .generalProtection(0) }
                state.pkrs = UInt32(value)
                memory.flushTLB() // the TLB caches access rights that PKRS decides
            default:
                try msrs.write(index, value, longModeActive: state.longModeActive, linearBits: linearBits)
            }
        } else {
            let v: UInt64
            switch index {
            case MSRIndex.fsBase: v = state.fsBase
            case MSRIndex.gsBase: v = state.gsBase
            case MSRIndex.efer: v = state.efer
            case MSRIndex.pkrs:
                guard model.reports(leaf: 7, register: 2, bit: 31) else { throw .generalProtection(0) }
                v = UInt64(state.pkrs)
            case MSRIndex.archCapabilities where !model.reports(leaf: 7, register: 3, bit: 29): throw .generalProtection(0)
            default: v = try msrs.read(index, tsc: timeStampCounter)
            }
            state.rax = v & 0xFFFF_FFFF
            state.rdx = v >> 32
        }
    }

    /// The guest's TSC: the retired-instruction count scaled, plus what WRMSR set.
    public var timeStampCounter: UInt64 { guestTicks &+ tscOffset }
    /// Guest time in TSC ticks: the retired instructions, plus the time the VMM let pass while
    /// the vCPU was halted (`idleTicks`); the TSC adds the guest's own offset (WRMSR TSC).
    public var guestTicks: UInt64 { retired &* model.tscPerInstruction &+ idleTicks }

    // MARK: far transfers

    /// The far pointer of a far JMP/CALL: an immediate (ptr16:16/32) or memory (m16:16/32/64).
    func farPointer(_ ops: OperandList, _ osz: Int) throws(CPUException) -> (selector: UInt16, offset: UInt64) {
        switch ops[0] {
        case .farPointer(let s, let o): return (s, o)
        case .memory(let m):
            let a = try checkedAddress(m, size: osz + 2)
            let offset = try memory.read(a, size: osz)
            return (UInt16(try memory.read(a &+ UInt64(osz), size: 2)), offset)
        default: throw .invalidOpcode
        }
    }

    func farTransfer(call: Bool, _ ops: OperandList, _ osz: Int) throws(CPUException) {
        // AMD has no m16:64 far pointer: REX.W leaves the indirect forms at 32 bits (the APM's
        // JMP (Far)/CALL (Far); the host shows it). Intel reads the 64-bit offset.
        let osz = vendor == .amd ? min(osz, 4) : osz
        let (selector, offset) = try farPointer(ops, osz)
        let target = offset & sizeMask(osz)
        try transaction { () throws(CPUException) in
            // The target's checks come before anything is pushed.
            let cs = state.realAddressing ? realSegment(.cs, selector) : try farTarget(selector)
            if call {
                try push(UInt64(state.segment(.cs).selector), size: osz)
                try push(state.rip, size: osz)
            }
            setCodeSegment(cs, cpl: state.cpl)
            if state.mode == .bits64 && !isCanonical(target) { throw .generalProtection(0) }
            // Outside 64-bit code the offset must lie within the new CS (a 64-bit offset into a
            // 32-bit segment, Intel's REX.W form, is #GP(0)).
            if state.mode != .bits64 && target > UInt64(cs.limit) { throw .generalProtection(0) }
            state.rip = target
        }
    }

    /// RETF [imm16], to the same or an outer privilege level.
    func farReturn(_ ops: OperandList, _ osz: Int) throws(CPUException) {
        var release: UInt64 = 0
        if let imm = ops.first, case .immediate(let n, _) = imm { release = n & 0xFFFF }
        try transaction { () throws(CPUException) in
            let ip = try pop(size: osz) & sizeMask(osz)
            let selector = UInt16(truncatingIfNeeded: try pop(size: osz))
            setStackPointer(state.rsp &+ release)
            if state.realAddressing {
                setCodeSegment(realSegment(.cs, selector), cpl: state.cpl)
                state.rip = ip
                return
            }
            let (cs, rpl) = try returnCodeSegment(selector)
            if rpl > state.cpl {
                let sp = try pop(size: osz), ss = UInt16(truncatingIfNeeded: try pop(size: osz))
                try loadReturnStack(ss, sp &+ release, rpl: rpl, to64: cs.longMode)
            }
            let outer = rpl > state.cpl
            setCodeSegment(cs, cpl: rpl)
            if outer { nullifyInaccessibleSegments() }
            if state.mode == .bits64 && !isCanonical(ip) { throw .generalProtection(0) }
            state.rip = ip
        }
    }

    /// The code segment RET or IRET returns to: RPL at least the CPL; conforming DPL at most RPL,
    /// non-conforming DPL equal to it.
    func returnCodeSegment(_ selector: UInt16) throws(CPUException) -> (SegmentState, Int) {
        let s = SegmentSelector(selector)
        guard !s.isNull else { throw .generalProtection(0) }
        guard let (d0, a) = try descriptor(s), d0.isCode, s.rpl >= state.cpl else { throw .generalProtection(UInt32(s.errorCode)) }
        var d = d0
        if d.isConforming ? d.dpl > s.rpl : d.dpl != s.rpl { throw .generalProtection(UInt32(s.errorCode)) }
        guard d.present else { throw .segmentNotPresent(UInt32(s.errorCode)) }
        if state.longModeActive && d.longMode && d.defaultBig { throw .generalProtection(UInt32(s.errorCode)) }
        try markAccessed(&d, at: a)
        return (SegmentState(selector: selector, descriptor: d), s.rpl)
    }

    /// SS:RSP on a return to an outer level (a null SS is allowed returning to 64-bit code below CPL 3).
    func loadReturnStack(_ selector: UInt16, _ sp: UInt64, rpl: Int, to64: Bool) throws(CPUException) {
        let s = SegmentSelector(selector)
        if s.isNull {
            guard to64 && rpl != 3 else { throw .generalProtection(0) }
            state.setSegment(.ss, SegmentState(selector: selector, base: 0, limit: 0, attributes: UInt16(rpl) << 5))
        } else {
            guard let (d0, a) = try descriptor(s), s.rpl == rpl, d0.dpl == rpl, d0.isWritable else {
                throw .generalProtection(UInt32(s.errorCode))
            }
            var d = d0
            guard d.present else { throw .stackFault(UInt32(s.errorCode)) }
            try markAccessed(&d, at: a)
            state.setSegment(.ss, SegmentState(selector: selector, descriptor: d))
        }
        state.rsp = sp
    }

    /// IRET/IRETD/IRETQ: real mode, protected mode (same or outer level), IA-32e mode (64-bit
    /// mode always pops SS:RSP). Returns to virtual-8086 mode and nested tasks are not
    /// supported (#GP(0)).
    func interruptReturn(_ osz: Int) throws(CPUException) {
        try transaction { () throws(CPUException) in
            if !state.protectedMode {
                let ip = try pop(size: osz), cs = UInt16(truncatingIfNeeded: try pop(size: osz)), flags = try pop(size: osz)
                setCodeSegment(realSegment(.cs, cs), cpl: 0)
                let writable: UInt64 = osz == 2 ? 0x7FD5 : 0x25_7FD5
                state.rflags = state.rflags & ~writable | flags & writable | 2
                state.rip = ip & sizeMask(osz)
                return
            }
            if state.rflags & Flag.nt != 0 && !state.longModeActive { throw .generalProtection(0) }
            let from64 = state.mode == .bits64
            let ip = try pop(size: osz), selector = UInt16(truncatingIfNeeded: try pop(size: osz))
            let flags = try pop(size: osz)
            let (cs, rpl) = try returnCodeSegment(selector)
            if flags & Flag.vm != 0 && state.cpl == 0 && !state.longModeActive && osz == 4 { throw .generalProtection(0) }
            let outer = rpl > state.cpl
            if outer || from64 {
                let sp = try pop(size: osz), ss = UInt16(truncatingIfNeeded: try pop(size: osz))
                if outer || SegmentSelector(ss).rpl != rpl || !SegmentSelector(ss).isNull {
                    try loadReturnStack(ss, sp, rpl: rpl, to64: cs.longMode)
                } else {
                    state.setSegment(.ss, SegmentState(selector: ss, base: 0, limit: 0, attributes: UInt16(rpl) << 5))
                    state.rsp = sp
                }
            }
            // Which flags the image may change: IF needs CPL <= IOPL, IOPL (and VIF/VIP) CPL 0.
            var writable: UInt64 = Flag.status | Flag.tf | Flag.df | Flag.nt | Flag.rf | Flag.ac | Flag.id
            if state.cpl <= iopl { writable |= Flag.if }
            if state.cpl == 0 { writable |= Flag.iopl | Flag.vif | Flag.vip }
            if osz == 2 { writable &= 0xFFFF }
            state.rflags = state.rflags & ~writable | flags & writable | 2
            setCodeSegment(cs, cpl: rpl)
            if outer { nullifyInaccessibleSegments() }
            let target = ip & sizeMask(osz)
            if state.mode == .bits64 && !isCanonical(target) { throw .generalProtection(0) }
            state.rip = target
        }
    }

    // MARK: PUSHF, POPF

    func pushFlags(_ osz: Int) throws(CPUException) {
        // The image has RF and VM clear.
        try push(state.rflags & ~(Flag.rf | Flag.vm) & sizeMask(osz), size: osz)
    }

    /// POPF: TF, DF, NT, AC, ID and the status flags always change; IF only at CPL <= IOPL;
    /// IOPL only at CPL 0; RF is cleared; VM, VIF and VIP stay. A 16-bit POPF changes the low half.
    func popFlags(_ osz: Int) throws(CPUException) {
        let v = try pop(size: osz)
        var writable: UInt64 = Flag.status | Flag.tf | Flag.df | Flag.nt | Flag.ac | Flag.id
        if !state.protectedMode || state.cpl <= iopl { writable |= Flag.if }
        if !state.protectedMode || state.cpl == 0 { writable |= Flag.iopl }
        if osz == 2 { writable &= 0xFFFF }
        state.rflags = (state.rflags & ~writable & ~Flag.rf) | (v & writable) | 2
    }

    // MARK: port I/O

    /// The I/O permission check: at CPL > IOPL in protected mode the TSS's bitmap must allow
    /// every byte of the access (#GP(0) otherwise).
    func checkIOPermission(_ port: UInt16, _ size: Int) throws(CPUException) {
        guard state.protectedMode, state.cpl > iopl || state.rflags & Flag.vm != 0 else { return }
        let tr = state.segment(.tr)
        guard tr.type == 0xB || tr.type == 0x9, tr.limit >= 0x67 else { throw .generalProtection(0) }
        let bitmap = UInt64(try systemRead(tr.base &+ 0x66, 2))
        let byte = bitmap + UInt64(port >> 3)
        guard byte + 1 <= UInt64(tr.limit) else { throw .generalProtection(0) }
        let bits = try systemRead(tr.base &+ byte, 2)
        let mask = ((UInt64(1) << UInt64(size)) - 1) << UInt64(port & 7)
        if bits & mask != 0 { throw .generalProtection(0) }
    }

    func portIO(isIn: Bool, _ ops: OperandList, _ ins: Instruction) throws(CPUException) {
        let portOperand = isIn ? ops[1] : ops[0], dataOperand = isIn ? ops[0] : ops[1]
        let port: UInt16
        if case .immediate(let v, _) = portOperand { port = UInt16(v & 0xFF) } else { port = UInt16(truncatingIfNeeded: state.rdx) }
        guard case .register(let r) = dataOperand else { throw .invalidOpcode }
        let size = r.size
        try checkIOPermission(port, size)
        if let io = ioHandler {
            if isIn {
                try write(place(dataOperand), UInt64(io.portRead(port, size: size)))
            } else {
                io.portWrite(port, size: size, value: UInt32(truncatingIfNeeded: state.rax & sizeMask(size)))
            }
            return
        }
        throw .exit(.io(IOExit(port: port, size: size, isIn: isIn, value: UInt32(truncatingIfNeeded: state.rax & sizeMask(size)),
                               length: Int(ins.length))))
    }

    /// INS/OUTS: with an I/O handler (the monitor's assist), the whole repetition runs here;
    /// otherwise the instruction exits with the string details.
    func stringIO(_ op: Op, _ ins: Instruction) throws(CPUException) {
        let isIn = op == .insb || op == .insw || op == .insd
        let size = op == .insb || op == .outsb ? 1 : (op == .insw || op == .outsw ? 2 : 4)
        let port = UInt16(truncatingIfNeeded: state.rdx)
        try checkIOPermission(port, size)
        let asz = Int(ins.addressSize), am = sizeMask(asz)
        let rep = ins.prefixes.contains(.repe) || ins.prefixes.contains(.repne)
        let source = ins.segmentOverride == 0xFF ? 3 : Int(ins.segmentOverride)
        guard let io = ioHandler else {
            throw .exit(.io(IOExit(port: port, size: size, isIn: isIn, string: true, rep: rep, addressSize: asz,
                                   segment: isIn ? 0 : source, length: Int(ins.length))))
        }
        let step = state.flag(Flag.df) ? 0 &- UInt64(size) : UInt64(size)
        var iterations = 0
        while !rep || state.rcx & am != 0 {
            if rep && iterations == CPU.repeatSlice {
                state.rip &-= UInt64(ins.length) // interruptible, as in Strings.swift
                break
            }
            iterations &+= 1
            if isIn {
                let di = state.rdi & am
                let a = linear(0, di)
                _ = try memory.read(a, size: size) // the destination must be writable before the port is read
                try store(a, size: size, value: UInt64(io.portRead(port, size: size)))
                setAddressRegister(GPR.rdi, (di &+ step) & am, asz)
            } else {
                let si = state.rsi & am
                io.portWrite(port, size: size, value: UInt32(truncatingIfNeeded: try memory.read(linear(source, si), size: size)))
                setAddressRegister(GPR.rsi, (si &+ step) & am, asz)
            }
            guard rep else { break }
            setAddressRegister(GPR.rcx, (state.rcx &- 1) & am, asz)
        }
    }

    // MARK: SYSCALL, SYSRET, SYSENTER, SYSEXIT

    /// SYSCALL and SYSRET take a single-step trap when TF is set at their end, not at their
    /// start (so a SYSCALL whose FMASK clears TF traps nowhere, and a SYSRET that sets TF traps
    /// before the first user instruction).
    func singleStepByFinalTF() {
        tfSampledAtEnd = true
        state.pendingSingleStep = state.rflags & Flag.tf != 0
    }

    /// SYSCALL. Intel: #UD outside 64-bit mode. AMD: also from compatibility mode (to CSTAR)
    /// and legacy mode (to STAR's EIP).
    func systemCall() throws(CPUException) {
        guard state.efer & EFERBit.sce != 0 else { throw .invalidOpcode }
        if vendor == .intel && state.mode != .bits64 { throw .invalidOpcode }
        defer { singleStepByFinalTF() }
        let star = msrs.values[MSRIndex.star] ?? 0
        let selector = UInt16(truncatingIfNeeded: star >> 32) & 0xFFFC
        if state.longModeActive {
            state.rcx = state.rip
            state.r11 = state.rflags & ~Flag.rf
            let target = state.mode == .bits64 ? (msrs.values[MSRIndex.lstar] ?? 0) : (msrs.values[MSRIndex.cstar] ?? 0)
            state.rflags = (state.rflags & ~(msrs.values[MSRIndex.fmask] ?? 0) & ~Flag.rf) | 2
            setCodeSegment(SegmentState(selector: selector, base: 0, limit: 0xFFFF_FFFF, attributes: 0xA09B), cpl: 0)
            state.setSegment(.ss, SegmentState(selector: selector &+ 8, base: 0, limit: 0xFFFF_FFFF, attributes: 0xC093))
            state.rip = target
        } else {
            state.rcx = state.rip & 0xFFFF_FFFF
            state.rflags &= ~(Flag.vm | Flag.if | Flag.rf)
            setCodeSegment(SegmentState(selector: selector, base: 0, limit: 0xFFFF_FFFF, attributes: 0xC09B), cpl: 0)
            state.setSegment(.ss, SegmentState(selector: selector &+ 8, base: 0, limit: 0xFFFF_FFFF, attributes: 0xC093))
            state.rip = star & 0xFFFF_FFFF
        }
    }

    /// SYSRET. Intel: #UD outside 64-bit mode, and #GP(0) in ring 0 for a non-canonical RCX.
    /// AMD: also from legacy mode (to a flat 32-bit ring 3, IF set), and a non-canonical RCX is
    /// loaded as it is (the fetch at CPL 3 then faults).
    func systemReturn(_ ins: Instruction) throws(CPUException) {
        guard state.efer & EFERBit.sce != 0, state.protectedMode else { throw .invalidOpcode }
        if vendor == .intel && state.mode != .bits64 { throw .invalidOpcode }
        try requireCPL0()
        let star = msrs.values[MSRIndex.star] ?? 0
        let base = UInt16(truncatingIfNeeded: star >> 48)
        if !state.longModeActive {
            defer { singleStepByFinalTF() }
            state.rflags |= Flag.if
            setCodeSegment(SegmentState(selector: base | 3, base: 0, limit: 0xFFFF_FFFF, attributes: 0xC0FB), cpl: 3)
            state.setSegment(.ss, SegmentState(selector: (base &+ 8) | 3, base: 0, limit: 0xFFFF_FFFF, attributes: 0xC0F3))
            state.rip = state.rcx & 0xFFFF_FFFF
            return
        }
        let to64 = ins.ext & 8 != 0 && state.mode == .bits64
        if to64 && vendor == .intel && !isCanonical(state.rcx) { throw .generalProtection(0) }
        defer { singleStepByFinalTF() }
        state.rflags = state.r11 & 0x3C_7FD7 | 2
        if to64 {
            setCodeSegment(SegmentState(selector: (base &+ 16) | 3, base: 0, limit: 0xFFFF_FFFF, attributes: 0xA0FB), cpl: 3)
            state.rip = state.rcx
        } else {
            setCodeSegment(SegmentState(selector: base | 3, base: 0, limit: 0xFFFF_FFFF, attributes: 0xC0FB), cpl: 3)
            state.rip = state.rcx & 0xFFFF_FFFF
        }
        // SS's selector changes; its cached attributes are a flat writable DPL-3 segment.
        state.setSegment(.ss, SegmentState(selector: (base &+ 8) | 3, base: 0, limit: 0xFFFF_FFFF, attributes: 0xC0F3))
    }

    /// SYSENTER. AMD: #UD in long mode.
    func sysenter() throws(CPUException) {
        if vendor == .amd && state.longModeActive { throw .invalidOpcode }
        guard state.protectedMode else { throw .generalProtection(0) }
        let cs = UInt16(truncatingIfNeeded: msrs.values[MSRIndex.sysenterCS] ?? 0) & 0xFFFC
        guard cs != 0 else { throw .generalProtection(0) }
        state.rflags &= ~(Flag.vm | Flag.if | Flag.rf)
        let long = state.longModeActive
        setCodeSegment(SegmentState(selector: cs, base: 0, limit: 0xFFFF_FFFF, attributes: long ? 0xA09B : 0xC09B), cpl: 0)
        state.setSegment(.ss, SegmentState(selector: cs &+ 8, base: 0, limit: 0xFFFF_FFFF, attributes: 0xC093))
        let eip = msrs.values[MSRIndex.sysenterEIP] ?? 0, esp = msrs.values[MSRIndex.sysenterESP] ?? 0
        state.rip = long ? eip : eip & 0xFFFF_FFFF
        state.rsp = long ? esp : esp & 0xFFFF_FFFF
    }

    /// SYSEXIT. AMD: #UD in long mode.
    func sysexit(_ ins: Instruction) throws(CPUException) {
        if vendor == .amd && state.longModeActive { throw .invalidOpcode }
        guard state.protectedMode else { throw .generalProtection(0) }
        try requireCPL0()
        let base = UInt16(truncatingIfNeeded: msrs.values[MSRIndex.sysenterCS] ?? 0)
        guard base & 0xFFFC != 0 else { throw .generalProtection(0) }
        let to64 = ins.ext & 8 != 0
        if to64 && (!isCanonical(state.rdx) || !isCanonical(state.rcx)) { throw .generalProtection(0) }
        let cs = (to64 ? base &+ 32 : base &+ 16) | 3
        setCodeSegment(SegmentState(selector: cs, base: 0, limit: 0xFFFF_FFFF, attributes: to64 ? 0xA0FB : 0xC0FB), cpl: 3)
        state.setSegment(.ss, SegmentState(selector: (cs &+ 8) | 3, base: 0, limit: 0xFFFF_FFFF, attributes: 0xC0F3))
        state.rip = to64 ? state.rdx : state.rdx & 0xFFFF_FFFF
        state.rsp = to64 ? state.rcx : state.rcx & 0xFFFF_FFFF
    }

    // MARK: XSAVE, XRSTOR (the x87 and SSE components, standard format)

    func extendedState(save: Bool, _ ops: OperandList) throws(CPUException) {
        guard state.cr4 & CR4Bit.osxsave != 0 else { throw .invalidOpcode }
        guard case .memory(let m) = ops[0] else { throw .invalidOpcode }
        let a = try checkedAddress(m, size: 576)
        if a & 63 != 0 { throw .generalProtection(0) }
        let rfbm = ((state.rdx & 0xFFFF_FFFF) << 32 | state.rax & 0xFFFF_FFFF) & state.xcr0
        if save {
            let image = state.fxsaveImage()
            var header = try loadBytes(a &+ 512, 8)
            var ranges: [Range<Int>] = []
            if rfbm & 1 != 0 { ranges += [0..<24, 32..<160] }
            if rfbm & 2 != 0 { ranges += [160..<416] }
            if rfbm & 3 != 0 { ranges += [24..<32] } // MXCSR and MXCSR_MASK
            _ = try memory.read(a &+ 575, size: 1)
            for r in ranges { try storeBytes(a &+ UInt64(r.lowerBound), Array(image[r])) }
            header[0] = header[0] & ~UInt8(rfbm & 3) | UInt8(rfbm & 3)
            try storeBytes(a &+ 512, header)
        } else {
            let header = try loadBytes(a &+ 512, 64)
            func quad(_ i: Int) -> UInt64 { (0..<8).reduce(0) { $0 | UInt64(header[i + $1]) << UInt64(8 * $1) } }
            let bv = quad(0), comp = quad(8)
            if comp != 0 || bv & ~state.xcr0 != 0 || header[16..<64].contains(where: { $0 != 0 }) { throw .generalProtection(0) }
            var image = state.fxsaveImage()
            let saved = try loadBytes(a, 512)
            if rfbm & 3 != 0 {
                let mxcsr = UInt32(saved[24]) | UInt32(saved[25]) << 8 | UInt32(saved[26]) << 16 | UInt32(saved[27]) << 24
                if mxcsr & ~0xFFFF != 0 { throw .generalProtection(0) }
                image.replaceSubrange(24..<28, with: saved[24..<28])
            }
            if rfbm & 1 != 0 {
                if bv & 1 != 0 {
                    image.replaceSubrange(0..<24, with: saved[0..<24])
                    image.replaceSubrange(32..<160, with: saved[32..<160])
                } else {
                    // The initial x87 state: FCW 037F, everything else zero, all registers empty.
                    for i in 0..<24 { image[i] = 0 }
                    for i in 32..<160 { image[i] = 0 }
                    image[0] = 0x7F; image[1] = 0x03
                }
            }
            if rfbm & 2 != 0 {
                if bv & 2 != 0 { image.replaceSubrange(160..<416, with: saved[160..<416]) } else { for i in 160..<416 { image[i] = 0 } }
            }
            state.loadFXSAVEImage(image)
            state.fcw = x87ControlWord(state.fcw)
            updateErrorSummary()
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
