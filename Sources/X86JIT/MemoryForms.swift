@_spi(Translator) import X86CPU
import X86

/// Forms that touch memory, or leave the block through a register (`FormEmitter`): a fast
/// path that probes the vCPU's TLB inline, as `GuestMMU.probe` does, and does the access on
/// the host page the TLB holds; and a slow path, taken on a miss (or RFLAGS.AC set, or a
/// branch target that is not canonical), that runs the whole form through the interpreter,
/// which walks the page tables, faults, exits to the monitor for MMIO, checks watchpoints and
/// sees stores into code (a frame holding decoded code never has a write entry in the TLB, so
/// no store on the fast path can reach code).
///
/// The probe clobbers the host's flags. Where they stand for the guest's and the form does not
/// write them all, they are kept in AX around it (LAHF, SETO AL; ADD AL, 7FH and SAHF put them
/// back); where the form writes them all but they are newer than the register file's, they are
/// kept in AX for the slow path alone (a form that faults leaves the flags before it, not the
/// probe's). On the slow path they go back to the register file before the interpreter runs;
/// after it, the host's are loaded again where the fast path leaves them valid, so that both
/// paths meet in one state.
extension FormEmitter {
    static let si = GPR.rsi, r8 = GPR.r8, r10 = GPR.r10

    /// The form's linear address into RSI (no flags touched): the effective address, the
    /// 32-bit address size's truncation, then FS's or GS's base.
    mutating func address(_ ad: FastAddress) {
        let si = FormEmitter.si, c = FormEmitter.c
        effectiveAddress(ad, into: si)
        if ad.address32 { asm.mov(size: 4, si, si) }
        if ad.segment != 0 {
            asm.mov(size: 8, c, FormEmitter.field(FormEmitter.segmentBases + 8 * Int(ad.segment)))
            asm.lea(size: 8, si, X86Assembler.Memory(base: si, index: c))
        }
    }

    /// The TLB's addend for a `size`-byte access of `kind` (0 read, 1 write) at RSI into R10
    /// (the host address is R10 + RSI); the jumps to the slow path (to patch) when it cannot serve it (RBP makes every
    /// probe miss while RFLAGS.AC is set: `loadProbeKey`). Clobbers the flags, RCX and RDX.
    ///
    /// A read-modify-write (`kind` 2) needs the read entry and the write entry, as the
    /// interpreter looks them both up (so that the TLB's contents, which a guest that changes
    /// its page tables without INVLPG can see, are the same under either engine): both tags
    /// are compared, and the write entry's page taken.
    mutating func probe(kind: Int, size: Int, _ tlb: TranslationTLB) -> [Int] {
        let si = FormEmitter.si, c = FormEmitter.c, d = FormEmitter.d, r10 = FormEmitter.r10
        var misses: [Int] = []
        // The slot of the first byte's page; the tag of the last byte's (the key's bits and the
        // page's shifted left by one are apart: adding is or'ing).
        asm.mov(size: 8, c, si)
        asm.shift(.shr, size: 8, c, by: 12)
        if size == 1 {
            asm.lea(size: 8, d, X86Assembler.Memory(base: FormEmitter.keyRegister, index: c, scale: 2))
        } else {
            asm.lea(size: 8, d, X86Assembler.Memory(base: si, displacement: Int32(size - 1)))
            asm.shift(.shr, size: 8, d, by: 12)
            asm.lea(size: 8, d, X86Assembler.Memory(base: FormEmitter.keyRegister, index: d, scale: 2))
        }
        asm.alu(.and, size: 4, c, immediate: Int32(tlb.entries - 1))
        for k in (kind == 2 ? 0 : kind)...min(kind, 1) {
            let table = Int32(k * tlb.entries * 8)
            asm.alu(.cmp, size: 8, d, X86Assembler.Memory(base: FormEmitter.tagsRegister, index: c, scale: 8, displacement: table))
            misses.append(asm.jcc(.ne, 0))
        }
        let table = Int32(tlb.pagesOffset + min(kind, 1) * tlb.entries * 8)
        asm.mov(size: 8, r10, X86Assembler.Memory(base: FormEmitter.tagsRegister, index: c, scale: 8, displacement: table))
        return misses
    }

    /// A jump to the slow path (returned) unless `r` holds a canonical address (48-bit: one
    /// that is not may still be canonical under five-level paging, which the slow path knows).
    mutating func canonical(_ r: Int, temporary t: Int) -> Int {
        asm.mov(size: 8, t, r)
        asm.shift(.shl, size: 8, t, by: 16)
        asm.shift(.sar, size: 8, t, by: 16)
        asm.alu(.cmp, size: 8, t, r)
        return asm.jcc(.ne, 0)
    }

    /// Form `i` with a fast path of its own, or false (the caller runs it through the
    /// interpreter). The host's flags must be the guest's wherever they were before, except
    /// after a form that writes them all (then they are its).
    mutating func memoryForm(_ f: UnsafePointer<FastForm>, index i: Int) -> Bool {
        guard let tlb else { return false }
        let form = f.pointee, k = form.kind
        let size = Int(form.size)
        let d = FormEmitter.d, si = FormEmitter.si
        let r10 = FormEmitter.r10
        // The host address: the TLB entry's addend plus the linear address (one addition fewer
        // before the access than adding them first).
        let at = X86Assembler.Memory(base: r10, index: si), r8 = FormEmitter.r8
        let aluOp = X86Assembler.ALU(rawValue: form.op.rawValue)
        let writesFlags: Bool
        switch k {
        case .cmpMR, .cmpMI, .testMR, .testMI: writesFlags = true
        case .incM, .decM:
            // CF stays: the guest's flags go into the host's (if anyone reads CF after), and are
            // kept around the probes.
            if form.liveAfter & FormEmitter.carry != 0 { needFlags() }
            writesFlags = false
        case .aluRM, .aluMR, .aluMI:
            guard form.op != .adc && form.op != .sbb else { return false }
            writesFlags = true
        case .shiftM:
            // A count that is not 0 writes them all (`shiftFlags` where they are read).
            writesFlags = true
        default: writesFlags = false
        }
        // The probe clobbers the host's flags: they are kept in AX where the fast path needs
        // them after it (the form does not write them all) or the slow path needs them (they
        // are newer than the register file's, and the interpreter must start from them: a
        // form that faults leaves the flags before it). Where they are in AX already
        // (`parked`), the slow path takes them from there.
        let inAX = parked
        let entry = inAX ? (true, true) : (hostFlags, dirtyFlags)
        let save = !inAX && hostFlags && (!writesFlags || dirtyFlags)
        if save { saveFlagsInAX() }
        missGroups = []
        var leaves = false
        switch k {
        case .load8, .load16, .load32, .load64:
            // Straight into the host register caching `d`.
            address(form.address)
            miss(probe(kind: 0, size: Int(form.x), tlb))
            let from = Int(form.x), hd = destination(form.d)
            if from < 4 { asm.extend(signed: false, size: 4, hd, from: from, at) } else { asm.mov(size: from, hd, at) }
        case .load:
            // A byte or a word into the host register caching `d`, the rest of it kept.
            address(form.address)
            miss(probe(kind: 0, size: Int(form.x), tlb))
            asm.mov(size: Int(form.x), modified(form.d), at)
        case .loadSigned:
            // MOVSX/MOVSXD straight into the host register caching `d` (written whole: 32 or 64
            // bits).
            address(form.address)
            miss(probe(kind: 0, size: Int(form.x), tlb))
            asm.extend(signed: true, size: size, destination(form.d), from: Int(form.x), at)
        case .store, .storeImm:
            address(form.address)
            miss(probe(kind: 1, size: size, tlb))
            if k == .store {
                asm.mov(size: size, at, operand(form.s, scratch: d))
            } else {
                asm.mov(size: size, at, immediate: Int32(truncatingIfNeeded: Int64(bitPattern: form.imm)))
            }
        case .cmpMR, .cmpMI, .testMR, .testMI:
            address(form.address)
            miss(probe(kind: 0, size: size, tlb))
            asm.mov(size: size, d, at)
            if k == .cmpMI {
                asm.alu(.cmp, size: size, d, immediate: Int32(truncatingIfNeeded: Int64(bitPattern: form.imm)))
            } else if k == .cmpMR {
                asm.alu(.cmp, size: size, d, operand(form.s, scratch: r8))
            } else {
                if k == .cmpMR || k == .testMR { load(form.s, into: r8) } else { asm.mov(size: 8, r8, immediate: Int64(bitPattern: form.imm)) }
                aluExact(k == .cmpMR ? .cmp : nil, size: size, d, r8, flags: true)
            }
        case .aluRM:
            address(form.address)
            miss(probe(kind: 0, size: size, tlb))
            if form.op.writesResult, let aluOp {
                // On the host register caching `d`, memory the second operand.
                let hd = modified(form.d)
                asm.alu(aluOp, size: size, hd, at)
                noteLogical(aluOp, flags: true)
            } else {
                asm.mov(size: size, r8, at)
                load(form.d, into: d)
                aluExact(aluOp, size: size, d, r8, flags: true)
            }
        case .aluMR, .aluMI:
            guard let aluOp, form.op.writesResult else { return false }
            address(form.address)
            miss(probe(kind: 2, size: size, tlb))
            if k == .aluMR {
                asm.alu(aluOp, size: size, at, operand(form.s, scratch: d))
            } else {
                asm.alu(aluOp, size: size, at, immediate: Int32(truncatingIfNeeded: Int64(bitPattern: form.imm)))
            }
            noteLogical(aluOp, flags: true)
        case .incM, .decM:
            address(form.address)
            miss(probe(kind: 2, size: size, tlb))
        case .shiftM:
            // In RAX (RDX holds the host's flags in `shiftFlags`; RCX SHR's operand).
            let op: X86Assembler.Shift = form.op == .shr ? .shr : form.op == .sar ? .sar : .shl
            let a = FormEmitter.a
            address(form.address)
            miss(probe(kind: 2, size: size, tlb))
            asm.mov(size: size, a, at)
            if form.flags && op == .shr { asm.mov(size: 8, FormEmitter.c, a) }
            asm.shift(op, size: size, a, by: form.x)
            asm.mov(size: size, at, a)
            if form.flags { shiftFlags(op, size: size) }
        case .push, .pushImm, .call, .callReg:
            // CALL's target is checked before anything is pushed.
            if k == .callReg {
                load(form.s, into: r8)
                miss([canonical(r8, temporary: d)])
            }
            load(4, into: si)
            asm.lea(size: 8, si, X86Assembler.Memory(base: si, displacement: -8))
            miss(probe(kind: 1, size: 8, tlb))
            // PUSH RSP pushes RSP's old value (not written yet).
            switch k {
            case .push: asm.mov(size: 8, d, operand(form.s, scratch: d))
            case .pushImm: asm.mov(size: 8, d, immediate: Int64(bitPattern: form.imm))
            default: asm.mov(size: 8, d, immediate: Int64(bitPattern: form.returnAddress))
            }
            asm.mov(size: 8, at, d)
            store(4, from: si)
            if k == .call {
                storeRIP(form.imm, through: d)
            } else if k == .callReg {
                asm.mov(size: 8, FormEmitter.field(FormEmitter.rip), r8)
            }
            leaves = k == .call || k == .callReg
        case .pop, .leave, .ret:
            load(k == .leave ? 5 : 4, into: si)
            miss(probe(kind: 0, size: 8, tlb))
            asm.mov(size: 8, d, at)
            if k == .ret { miss([canonical(d, temporary: FormEmitter.r8)]) }
            asm.lea(size: 8, si, X86Assembler.Memory(base: si, displacement: 8))
            store(4, from: si)
            switch k {
            case .pop: store(form.d, from: d)
            case .leave: store(5, from: d)
            default:
                asm.mov(size: 8, FormEmitter.field(FormEmitter.rip), d)
                leaves = true
            }
        case .jmpReg:
            load(form.s, into: d)
            miss([canonical(d, temporary: FormEmitter.r8)])
            asm.mov(size: 8, FormEmitter.field(FormEmitter.rip), d)
            leaves = true
        default:
            return false
        }
        if save && !writesFlags {
            // Newer than the register file's, they stay in AX for the next form if it leaves
            // RAX alone and reads none (`settleParkedFlags`): a load after a load costs no
            // SAHF, LAHF and SETO between them.
            if dirtyFlags && FormEmitter.keepsParkedFlags(k) {
                parked = true
                hostFlags = false
            } else {
                restoreFlagsFromAX()
            }
        }
        if k == .incM || k == .decM {
            asm.unary(k == .incM ? .inc : .dec, size: size, at)
            flagsWritten()
        }
        // (A shift whose flags are read wrote them to the register file: `shiftFlags`.)
        if writesFlags && !(k == .shiftM && form.flags) { flagsWritten() }
        let done = (hostFlags, dirtyFlags), doneParked = parked
        switch k {
        case .call: chain(to: form.imm, executed: Int(form.ordinal) + form.retires)
        case .callReg: chain(to: .register(r8), executed: Int(form.ordinal) + form.retires)
        case .ret, .jmpReg: chain(to: .register(d), executed: Int(form.ordinal) + form.retires)
        default: break
        }
        if leaves { exit(FastExit.jumped, index: i) }
        // The slow path goes after the block's code (`finish`), and comes back here.
        slowPaths.append(SlowPath(misses: missGroups, restoreFlags: save || inAX, entry: entry, index: i, block: block,
                                  reloadFlags: done.0 && !leaves, reparkFlags: doneParked && !leaves,
                                  back: asm.bytes.count, doneCache: cache))
        (hostFlags, dirtyFlags) = done
        return true
    }
}

/// A memory form's slow path, emitted after the block's code: the flags back as they were,
/// the whole form through the interpreter, out of the block if it says so, the host's flags
/// loaded again where the fast path leaves them valid, back after the form.
struct SlowPath {
    /// Jumps here, each group with the cached registers where it jumps.
    var misses: [(jumps: [Int], cache: RegisterCache)]
    var restoreFlags: Bool
    var entry: (hostFlags: Bool, dirtyFlags: Bool)
    var index: Int
    /// The block (`FormEmitter.block`) whose form it runs.
    var block: Int
    var reloadFlags: Bool
    /// The fast path leaves the flags in AX (`FormEmitter.parked`): so does this one.
    var reparkFlags: Bool
    var back: Int
    /// The cached registers where both paths meet.
    var doneCache: RegisterCache
}

extension FormEmitter {
    mutating func emitSlowPaths() {
        for p in slowPaths {
            for group in p.misses {
                for m in group.jumps { asm.patch(m, to: asm.bytes.count) }
                (afClear, parked) = (false, false)
                if p.restoreFlags { restoreFlagsFromAX() }
                (hostFlags, dirtyFlags) = p.entry
                // No register is written before a jump here: the dirty cached ones are the
                // guest's as the form starts.
                cache = group.cache
                select(block: p.block)
                call(index: p.index)
                // The interpreter may have written any register: the cached ones are loaded again.
                reload(p.doneCache)
                if p.reloadFlags { needFlags() }
                if p.reparkFlags { loadFlagsIntoAX() }
                asm.patch(asm.jmp(0), to: p.back)
            }
        }
    }

    /// Jumps to the slow path, taken with the cached registers as they are now.
    mutating func miss(_ jumps: [Int]) { missGroups.append((jumps, cache)) }
}
