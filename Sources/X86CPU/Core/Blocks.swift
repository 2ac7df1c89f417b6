import X86

/// A straight-line run of fast forms from one RIP, decoded once and executed in one loop
/// (`CPU.runBlock`) without a per-instruction cache lookup or a per-instruction look at the
/// run loop's conditions.
///
/// A block ends after an unconditional branch (CALL, RET, JMP, direct or through a register),
/// before an instruction without a fast form (its `tailGeneral`: `runBlock` runs it through
/// the general path right after the block, then looks at what the run loop looks at between
/// instructions before it goes on to the next block), before an instruction that could reach into the next page, or at
/// `CPU.blockCapacity` instructions. It goes on past a Jcc (the code after it, run when it is
/// not taken): a Jcc taken leaves the block there. Only the first instruction may cross a
/// page: decoding ahead never fetches from a page the guest has not reached, so it walks no
/// page table the per-instruction path would not.
///
/// What a block does is exactly what stepping its instructions one by one does: RIP is
/// written where anything can see it (when an instruction throws, after a store into decoded
/// code, by a taken branch, at the block's end; no fast form but a branch reads it), a fault
/// or an exit lands on its own instruction with the ones before it retired, a store into
/// decoded code ends the block after the storing instruction, and a block the instruction
/// budget cannot hold whole does not run (the run loop steps its instructions one at a time). Nothing
/// a fast form does changes what the run loop checks between instructions (RFLAGS.IF, TF,
/// RF, DR7, the VMM's requests, the interrupt shadow) but CLI, which only clears IF: that
/// makes no event deliverable, and none becomes pending inside a block. So checking once per
/// block sees what checking per instruction would.
struct Block {
    /// The first instruction's RIP (~0: empty).
    var rip: UInt64 = ~0
    /// `CPUState.codeKey` (or `globalCodeKey`, when all its pages are global) when the block
    /// was last known to hold the bytes at `rip`.
    var key: UInt64 = 0
    /// The frames of the first and last byte the block decoded (its tail instruction's included).
    var frame0: UInt64 = ~0, frame1: UInt64 = ~0
    /// Where its fast forms are in `CPU.blockOps` (as run: `fuseMoves`), `blockEnd` after them.
    var ops: UInt32 = 0
    /// Where its last byte is, from `rip`.
    var lastByte: UInt16 = 0
    /// The bytes of its fast forms: where the block ends when its branch is not taken.
    var bytes: UInt16 = 0
    /// Fast forms in the block, and the instructions they retire (a fused pair is two).
    var count: UInt8 = 0
    var instructions: UInt8 = 0
    /// The instruction after the last fast form has none: it runs next, through the general path.
    var tailGeneral = false
    /// Its forms write every status flag before any reads one or can fault: the flags it
    /// starts with are never seen (translated code going on into it need not write them back).
    var flagsDeadAtStart = false
    /// Runs through the interpreter so far, until it is translated (`CPU.warm`).
    var heat: UInt16 = 0
    /// Its forms as host code (`BlockTranslating`), once translated.
    var native: UnsafeRawPointer? = nil
}

/// The slot of the block at `rip` among `slots` (a power of two).
/// Fibonacci hashing: the top bits of rip times 2^64 over the golden ratio, so that neither
/// code spread over the kernel's 16 MiB nor the kernel's and a program's code at the same
/// low bits crowd into a few slots (`rip ^ rip >> 12` had four blocks in five built again
/// after their slot was taken, in fork+exec). Host code computes the same (X86JIT's chaining).
@inline(__always) func blockSlotIndex(_ rip: UInt64, _ slots: Int) -> Int {
    Int(truncatingIfNeeded: (rip &* blockSlotMultiplier) >> UInt64(64 - slots.trailingZeroBitCount))
}

@_spi(Translator) public let blockSlotMultiplier: UInt64 = 0x9E37_79B9_7F4A_7C15

extension CPU {
    /// Slots for blocks, one per RIP hash: two blocks whose RIPs share a slot build each other
    /// away, and a block built again runs through the interpreter until it is warm again
    /// (restored fork+exec: 2^18 slots built 65.6K blocks, 46K of them in a slot another had
    /// taken; 2^20 built 25.6K, 5.8K so). A slot is 56 bytes; the table is zeroed memory, and
    /// only the pages of slots in use take host memory.
    static var blockSlots: Int { 1 << 20 }
    static var blockCapacity: Int { 32 }
    /// Fast forms the blocks share: built blocks take the next ones (so that a hot loop's
    /// blocks sit together in the host's caches), and all blocks are dropped when they run out.
    static var blockOpCapacity: Int { 1 << 20 }

    @inline(__always) func blockSlot(_ rip: UInt64) -> Int { blockSlotIndex(rip, CPU.blockSlots) }

    @inline(__always) func blockEntry(_ rip: UInt64) -> UnsafeMutablePointer<Block> { blocks + blockSlot(rip) }

    /// The fast forms of block `b` (their `flags` decided for the block).
    @inline(__always) func operations(_ b: UnsafePointer<Block>) -> UnsafeMutablePointer<FastForm> {
        blockOps + Int(b.pointee.ops)
    }

    /// Drops every block (and with them the fast forms they took): the slots' memory is
    /// zeroed again (given back to the host until it is used), as when it was made.
    func dropBlocks() {
        zeroAgain(blocks, CPU.blockSlots)
        blocks[blockSlotIndex(0, CPU.blockSlots)] = Block()
        blockOpsUsed = 0
    }

    /// The RIP of a block's form `i` (`i` = `count`: where its fast forms end).
    func rip(_ b: UnsafePointer<Block>, form i: Int) -> UInt64 {
        let ops = operations(b)
        var rip = b.pointee.rip
        for k in 0..<i { rip &+= UInt64(ops[k].length) }
        return rip
    }

    /// Makes `b` the valid block at `rip` (64-bit mode: RIP is the linear address): the block it
    /// holds if its bytes are still there for the current code key, or a new one. False when
    /// not even the first instruction can be decoded here (the caller steps it, which raises
    /// the fault).
    @inline(never)
    func prepareBlock(_ slot: Int, _ rip: UInt64) -> Bool {
        let b = blocks + slot
        if b.pointee.rip == rip {
            blocksRechecked &+= 1
            if let key = try? keyIfStillHeld(rip, rip &+ UInt64(b.pointee.lastByte), b.pointee.frame0, b.pointee.frame1) {
                b.pointee.key = key
                return true
            }
        }
        blocksBuilt &+= 1
        b.pointee = Block()
        if blockOpsUsed + CPU.blockCapacity + 1 > CPU.blockOpCapacity { dropBlocks() }
        let ops = blockScratch
        var block = Block()
        var r = rip, n = 0
        // Whether every instruction's pages are global: then so is the block's key.
        var allGlobal = true
        while n < CPU.blockCapacity {
            // Decoding ahead stays within the page the first instruction starts in; a block
            // ends before a debugger's breakpoint.
            if n > 0 && (r & 0xFFF > 4096 - 15 || debuggerBreakpoint(at: r)) { break }
            let e = cacheEntry(r)
            do throws(CPUException) {
                if e.pointee.rip != r {
                    e.pointee = try decode(at: r, linear: r)
                } else if !state.isCurrentCode(e.pointee.key), try !stillValid(e, linear: r) {
                    e.pointee = try decode(at: r, linear: r)
                }
            } catch {
                if n == 0 { return false }
                break
            }
            if n == 0 { block.frame0 = e.pointee.frame0 }
            allGlobal = allGlobal && e.pointee.key == state.globalCodeKey
            block.frame1 = e.pointee.frame1
            block.lastByte = UInt16(truncatingIfNeeded: r &- rip) &+ UInt16(e.pointee.length) &- 1
            let kind = e.pointee.fast.kind
            if kind == .none {
                block.tailGeneral = true
                break
            }
            ops[n] = e.pointee.fast
            n += 1
            r &+= UInt64(e.pointee.length)
            // A Jcc not taken goes on in the block; one taken leaves it.
            if kind.endsBlock && !kind.isJcc { break }
        }
        // Which flags are live, flag by flag, from the block's end (where the next code may
        // read them all) back: a flag an instruction writes without reading it is dead before it.
        let all = FastForm.statusFlags
        var live = all
        for i in stride(from: n - 1, through: 0, by: -1) {
            let (reads, writes) = ops[i].flagMasks
            // A store may end the block after it (a store into decoded code): its flags stay.
            if ops[i].kind.stores { live = all }
            ops[i].liveAfter = live
            ops[i].flags = live & writes != 0 || writes == 0
            live = live & ~writes | reads
        }
        block.flagsDeadAtStart = n > 0 && live == 0
        block.instructions = UInt8(n)
        block.ops = UInt32(blockOpsUsed)
        block.count = UInt8(fuseMoves(ops, n, into: blockOps + blockOpsUsed))
        // The forms end with `blockEnd`, so that running them needs no count.
        blockOps[blockOpsUsed + Int(block.count)] = FastForm(.blockEnd)
        block.bytes = UInt16(truncatingIfNeeded: r &- rip)
        blockOpsUsed += Int(block.count) + 1
        block.rip = rip
        block.key = state.codeKey(global: allGlobal)
        state.noteCode(from: rip, to: rip &+ UInt64(block.lastByte))
        b.pointee = block
        noteCodeSlot(block.frame0, ~Int32(slot))
        if block.frame1 != block.frame0 { noteCodeSlot(block.frame1, ~Int32(slot)) }
        if translator != nil { reattach(b) }
        return true
    }

    /// Runs a valid block's fast forms, at most `budget` of them, retiring each, and the blocks
    /// its branches lead to while they are valid and the budget lasts (nothing a fast form
    /// does changes what the run loop checks between blocks); throws what an instruction
    /// raised (the ones before it retired, RIP at it). True when the last block's tail
    /// instruction (one without a fast form) should be stepped next.
    @inline(never)
    func runBlock(_ first: Int, budget: UInt64) throws(CPUException) -> Bool {
        // Instructions retired by the blocks run so far (`limit - budget`) are added to
        // `state.retired` on the way out (not block by block: a read-modify-write in memory per
        // block chains them).
        var slot = first, limit = budget, budget = budget
        // Another CPU the translator serves may have flushed it since this one last ran.
        noteTranslatorFlushes()
        while true {
            var b = blocks + slot
            var ops = operations(b)
            // A block the budget cannot hold whole is left to the run loop, which steps its
            // instructions one at a time.
            if _slowPath(UInt64(b.pointee.instructions) > budget) {
                state.retired &+= limit &- budget
                return false
            }
            // No fast form but a branch reads RIP: it is written when the block ends, an
            // instruction throws, or a branch writes it; only a store tells the loop anything
            // (when it went into decoded code).
            // The forms run until one says something (`blockEnd` at the end says `end`).
            var f = ops, exit: UInt8 = 0
            // The instructions the forms that ran retire, when host code said (nil: counted below).
            var retired: UInt64? = nil
            if _slowPath(b.pointee.native == nil) && translator != nil { warm(b) }
            if let code = b.pointee.native {
                // Host code runs the forms (Translation.swift), as the loop below would.
                let last: Int, counted: UInt64
                (exit, f, last, counted) = runTranslated(code, ops, instructions: b.pointee.instructions, &budget)
                retired = counted
                // Host code may have gone on into other translated blocks: the last one's form
                // said `exit`.
                if last != slot {
                    slot = last
                    b = blocks + slot
                    let chained = operations(b)
                    f = chained + (f - ops)
                    ops = chained
                }
                if _slowPath(exit & FastExit.threw != 0) {
                    state.rip = rip(b, form: f - 1 - ops)
                    state.retired &+= limit &- budget &+ UInt64((f - 1).pointee.ordinal)
                    throw translatedException
                }
            } else {
                repeat {
                    do throws(CPUException) {
                        exit = try executeFast(f, at: 0, inBlock: true)
                    } catch {
                        state.rip = rip(b, form: f - ops)
                        state.retired &+= limit &- budget &+ UInt64(f.pointee.ordinal)
                        throw error
                    }
                    f += 1
                } while exit == 0
            }
            // The instructions the forms that ran retired (a Jcc taken or a store into code
            // before the block's end leaves it there).
            let executed = exit == FastExit.end ? UInt64(b.pointee.instructions)
                : retired ?? UInt64((f - 1).pointee.ordinal) &+ UInt64((f - 1).pointee.retires)
            // What follows a store into decoded code may be stale.
            if _slowPath(exit & FastExit.codeWritten != 0) {
                if exit & FastExit.jumped == 0 { state.rip = rip(b, form: f - ops) }
                state.retired &+= limit &- budget &+ executed
                applyCodeWrites()
                return false
            }
            budget &-= executed
            var next: UInt64
            if exit == FastExit.end {
                next = b.pointee.rip &+ UInt64(b.pointee.bytes)
                state.rip = next
                if b.pointee.tailGeneral {
                    // The instruction without a fast form runs here when its decoded entry
                    // is at hand (as `step` would run it: the retired count up to date for
                    // what reads it, such as RDTSC), and the blocks go on unless it changed
                    // something the run loop must look at; otherwise the run loop steps it.
                    state.retired &+= limit &- budget
                    limit = budget
                    if _slowPath(debuggerBreakpoint(at: next)) { return budget != 0 }
                    let e = cacheEntry(next)
                    guard budget != 0, e.pointee.rip == next, state.isCurrentCode(e.pointee.key) else { return budget != 0 }
                    blockEnds[Int(e.pointee.ins.mnemonicID) & (CPU.mnemonicSlots - 1)] &+= 1
                    try execute(e)
                    state.retired &+= 1
                    budget &-= 1
                    limit = budget
                    if _slowPath(state.invalidationPending) {
                        applyCodeWrites()
                        return false
                    }
                    if _slowPath(mustLookBetweenInstructions || state.legacySegmentation) { return false }
                    next = state.rip
                }
            } else {
                next = state.rip
            }
            // The next block, if it is ready (and no breakpoint of a debugger's is there).
            slot = blockSlot(next)
            guard budget != 0, blocks[slot].rip == next, state.isCurrentCode(blocks[slot].key), !debuggerBreakpoint(at: next) else {
                state.retired &+= limit &- budget
                return false
            }
        }
    }
}

extension CPU {
    /// Writes the `n` forms at `ops` to `out` as a block runs them, and returns how many that
    /// is: a MOV between registers goes into the form of the operation that next overwrites
    /// its destination (`FastForm.fusing(move:)`), moved down past forms that only work on
    /// registers (no fault, no exit, nothing seen until the pair ends) and neither touch the
    /// MOV's destination nor write its source. Where anything can see the state (a fault, an
    /// exit, the block's end) it is the one the instructions in order leave. Each form learns
    /// how many instructions come before it.
    func fuseMoves(_ ops: UnsafeMutablePointer<FastForm>, _ n: Int, into out: UnsafeMutablePointer<FastForm>) -> Int {
        // The MOV each form takes (-1: none), and the MOVs that went into a later form.
        let taker = blockTakers
        taker.update(repeating: -1, count: n)
        for i in 0..<n where ops[i].kind == .movRR {
            let d = ops[i].d, s = ops[i].s
            var j = i + 1
            while j < n && j <= i + 8 {
                if taker[j] < 0, ops[j].fusing(move: ops[i]) != nil {
                    taker[j] = i
                    // A MOV that went into a later form is not written on its own.
                    ops[i].kind = .none
                    break
                }
                guard let (reads, writes) = ops[j].registerEffect,
                      (reads | writes) & (1 << d) == 0, writes & (1 << s) == 0 else { break }
                j += 1
            }
        }
        var count = 0, ordinal = 0
        for j in 0..<n where ops[j].kind != .none {
            var form = taker[j] < 0 ? ops[j] : ops[j].fusing(move: ops[taker[j]])!
            form.ordinal = UInt8(ordinal)
            ordinal += form.retires
            out[count] = form
            count += 1
        }
        return count
    }
}

extension FastForm {
    /// This form with the MOV between registers `move` fused in front, or nil when it cannot
    /// take one: an ALU operation (but CMP and TEST, which leave the MOV's destination to it),
    /// NOT, IMUL of two registers, or a shift or rotate by a constant, of `move`'s destination
    /// and size, which then reads `move`'s source in its place (its second operand too when
    /// that is the same register) and overwrites the destination.
    func fusing(move: FastForm) -> FastForm? {
        guard move.d == d, move.size == size, fused == 0 else { return nil }
        var pair = self
        switch kind {
        case .add64, .or64, .adc64, .sbb64, .and64, .sub64, .xor64, .add32, .or32, .adc32, .sbb32, .and32, .sub32, .xor32:
            pair.x = move.s
            if s == d { pair.s = move.s }
        case .add64i, .or64i, .adc64i, .sbb64i, .and64i, .sub64i, .xor64i, .add32i, .or32i, .adc32i, .sbb32i, .and32i, .sub32i, .xor32i:
            pair.x = move.s
        case .shl64, .shr64, .sar64, .rol64, .ror64, .rol32, .ror32, .shift:
            pair.s = move.s
        case .not:
            pair.x = move.s
        case .imul:
            pair.x = move.s
            if s == d { pair.s = move.s }
        default:
            return nil
        }
        pair.fused = 1
        pair.length = move.length &+ length
        return pair
    }

    /// The registers a form that touches nothing but registers reads and writes, as masks by
    /// register number; nil for one that touches memory, can fault or exit, or branches.
    var registerEffect: (reads: UInt16, writes: UInt16)? {
        let d: UInt16 = 1 << (self.d & 15), s: UInt16 = 1 << (self.s & 15), x: UInt16 = 1 << (self.x & 15)
        switch kind {
        case .add64, .or64, .adc64, .sbb64, .and64, .sub64, .xor64, .add32, .or32, .adc32, .sbb32, .and32, .sub32, .xor32:
            return (x | s, d)
        case .cmp64, .test64, .cmp32, .test32: return (x | s, 0)
        case .add64i, .or64i, .adc64i, .sbb64i, .and64i, .sub64i, .xor64i, .add32i, .or32i, .adc32i, .sbb32i, .and32i, .sub32i, .xor32i:
            return (x, d)
        case .cmp64i, .test64i, .cmp32i, .test32i: return (x, 0)
        case .aluRR: return (d | s, op.writesResult ? d : 0)
        case .aluRI, .aluHighRI: return (d, op.writesResult ? d : 0)
        case .movRR, .extend, .extendSigned: return (s, d)
        case .movRI: return (0, d)
        case .movRINarrow: return (d, d)
        case .lea:
            let base: UInt16 = address.base == FastAddress.none ? 0 : 1 << address.base
            let index: UInt16 = address.index == FastAddress.none ? 0 : 1 << address.index
            return (base | index, d)
        case .inc, .dec, .neg, .bswap, .setcc: return (d, d)
        case .not, .imul: return (x | s, d)
        case .shl64, .shr64, .sar64, .rol64, .ror64, .rol32, .ror32, .shift: return (s, d)
        case .shiftCL: return (d | 1 << 1, d)
        case .imulImm: return (s, d)
        case .mul: return (1 << 0 | s, 1 << 0 | 1 << 2)
        case .cmov: return (d | s, d)
        case .cdqe: return (1 << 0, 1 << 0)
        case .cqo: return (1 << 0, 1 << 2)
        case .nop: return (0, 0)
        default: return nil
        }
    }

    /// The status flags (RFLAGS bits) the form reads and writes: every flag read where it tests
    /// or merges them, or can fault or exit (where RFLAGS must be exact); the flags it writes
    /// (its result's, the ones the SDM leaves undefined included: the interpreter gives them
    /// values).
    @_spi(Translator) public var flagMasks: (reads: UInt16, writes: UInt16) {
        let all = FastForm.statusFlags, cf = UInt16(Flag.cf), of = UInt16(Flag.of)
        switch kind {
        case .adc64, .sbb64, .adc32, .sbb32, .adc64i, .sbb64i, .adc32i, .sbb32i: return (cf, all)
        case .aluRR, .aluRI, .aluHighRI: return (op == .adc || op == .sbb ? cf : 0, all)
        // INC and DEC keep CF; rotates write CF and OF only.
        case .inc, .dec: return (0, all & ~cf)
        case .incM, .decM: return (all, all & ~cf)
        case .rol64, .ror64, .rol32, .ror32: return (0, cf | of)
        case .bitR: return (0, cf)
        case .bitM: return (all, cf)
        case .setcc, .cmov: return (FastForm.conditionFlags(x), 0)
        default:
            let (reads, writes) = flagEffect
            return (reads ? all : 0, writes ? all : 0)
        }
    }

    /// The flags condition `cc` (0-15, as Jcc's low nibble) tests.
    static func conditionFlags(_ cc: UInt8) -> UInt16 {
        let (cf, pf, zf) = (UInt16(Flag.cf), UInt16(Flag.pf), UInt16(Flag.zf)), (sf, of) = (UInt16(Flag.sf), UInt16(Flag.of))
        switch cc >> 1 {
        case 0: return of
        case 1: return cf
        case 2: return zf
        case 3: return cf | zf
        case 4: return sf
        case 5: return pf
        case 6: return sf | of
        default: return zf | sf | of
        }
    }

    /// How the form uses RFLAGS' status flags: `reads` when it needs the ones before it (it
    /// tests or merges them, or it can fault or exit, where RFLAGS must be exact), `writes`
    /// when it writes some; a form that writes without reading writes all six.
    @_spi(Translator) public var flagEffect: (reads: Bool, writes: Bool) {
        switch kind {
        case .none: (true, true)
        // Not an instruction; the code after the block may read every flag.
        case .blockEnd: (true, false)
        case .add64, .or64, .and64, .sub64, .xor64, .cmp64, .test64, .add32, .or32, .and32, .sub32, .xor32, .cmp32, .test32,
             .add64i, .or64i, .and64i, .sub64i, .xor64i, .cmp64i, .test64i,
             .add32i, .or32i, .and32i, .sub32i, .xor32i, .cmp32i, .test32i:
            (false, true)
        case .adc64, .sbb64, .adc32, .sbb32, .adc64i, .sbb64i, .adc32i, .sbb32i: (true, true)
        case .aluRR, .aluRI, .aluHighRI: (op == .adc || op == .sbb, true)
        case .aluRM, .aluMR, .aluMI, .cmpMR, .cmpMI, .testMR, .testMI: (true, true)
        case .movRR, .movRI, .movRINarrow, .extend, .extendSigned, .lea, .nop, .bswap, .cdqe, .cqo, .not: (false, false)
        case .load, .load8, .load16, .load32, .load64, .loadSigned, .store, .storeImm,
             .push, .pushImm, .pushM, .pushf, .pop, .leave, .call, .callReg, .ret, .jmp, .jmpReg,
             .swapgs, .clac, .stac, .cli:
            (true, false)
        case .inc, .dec, .incM, .decM, .xaddM, .cmpxchgM, .bitM: (true, true)
        // CF only: the rest stay.
        case .bitR: (true, true)
        case .shl64, .shr64, .sar64, .shift: (false, true)
        // It can fault: the flags before it must be exact.
        case .shiftM: (true, true)
        // Rotates write CF and OF only.
        case .rol64, .ror64, .rol32, .ror32: (true, true)
        case .imul, .imulImm, .mul, .neg: (false, true)
        case .jo, .jno, .jb, .jae, .je, .jne, .jbe, .ja, .js, .jns, .jp, .jnp, .jl, .jge, .jle, .jg,
             .setcc, .cmov, .cmovLoad: (true, false)
        // A count of 0 leaves the flags as they were.
        case .shiftCL: (true, true)
        }
    }
}

extension FastKind {
    /// Writes memory.
    var stores: Bool {
        switch self {
        case .aluMR, .aluMI, .incM, .decM, .xaddM, .cmpxchgM, .bitM, .shiftM, .store, .storeImm, .push, .pushImm, .pushM, .pushf, .call,
             .callReg: true
        default: false
        }
    }

    /// A branch: the block ends after it.
    var endsBlock: Bool {
        switch self {
        case .call, .callReg, .ret, .jmp, .jmpReg: true
        default: isJcc
        }
    }

    /// One of the Jcc kinds.
    var isJcc: Bool { (FastKind.jo.rawValue...FastKind.jg.rawValue).contains(rawValue) }
}
