@_spi(Translator) import X86CPU

/// A loop's blocks in one translation (`TranslationContext.members`): a branch from one of
/// them into another goes straight into that one's code, with the guest's registers still in
/// the host registers that cache them and the flags, where the next block reads them, in AX.
/// It checks what `runBlock` and a chain would: that a whole pass of the next block fits in the
/// budget, and that the block in its slot is the one at its RIP with a current key (where
/// host code leaves a block, `runBlock` finds its forms by its slot). A branch back to the
/// first block's start runs it again (`loopBack`). In gzip's longest_match loop, two blocks a
/// pass, each pass went through two chains: the registers written back and loaded again, the
/// flags kept, and the target's translation looked up.
struct MemberEntry {
    /// The cached registers the member's code starts with.
    var cache: RegisterCache
    /// Whether it starts with the flags in AX (`FormEmitter.parked`); if not, they are dead
    /// where it starts (it writes them all before anything reads one or can fault).
    var flagsInAX: Bool
}

extension FormEmitter {
    /// On from the block being emitted to the block at `target`, `executed` instructions of
    /// this one's pass retired: back to the first block's start, into a member, or a chain to
    /// another translation. Falls through where it cannot (the caller leaves the block).
    mutating func goOn(to target: UInt64, executed: Int) {
        if target == head.rip {
            loopBack(executed: executed)
        } else if let m = members.firstIndex(where: { $0.context.rip == target }) {
            enter(m, executed: executed)
        } else {
            chain(to: target, executed: executed)
        }
    }

    /// Into member `m`'s code when a whole pass of it fits in the budget and its slot holds
    /// it, valid; otherwise on to what follows, with the flags and registers written back.
    mutating func enter(_ m: Int, executed: Int) {
        let member = members[m].context, d = FormEmitter.d, r8 = FormEmitter.r8, r10 = FormEmitter.r10
        let dead = FormEmitter.flagsDead(members[m].forms)
        // The checks clobber the host's flags: the guest's go to AX first where they are newer.
        let pending = dirtyFlags
        if pending { saveFlagsInAX() }
        var fail: [Int] = []
        budgetAfter(executed)
        asm.alu(.cmp, size: 8, d, immediate: Int32(member.instructions))
        fail.append(asm.jcc(.b, 0))
        // (R10 the key's temporary: R11 caches a guest register, which the member keeps.)
        asm.mov(size: 8, r8, FormEmitter.word(\.blocks))
        asm.mov(size: 8, r10, immediate: Int64(bitPattern: member.rip))
        fail += SharedCode.emitSlotHolds(&asm, slot: member.blockOffset(at: member.rip), temporary: r10)
        asm.mov(size: 8, FormEmitter.budget, d)     // the budget taken
        let before = (hostFlags, dirtyFlags, parked, afClear, cache)
        // The member starts with the flags in AX (from the register file where it is
        // current), unless they are dead there.
        if !dead && !pending { loadFlagsIntoAX() }
        (hostFlags, afClear, parked, dirtyFlags) = (false, false, !dead, !dead)
        if let entry = memberEntries[m] {
            reconcile(to: entry.cache)
        } else {
            memberEntries[m] = MemberEntry(cache: cache, flagsInAX: !dead)
        }
        if let code = memberCode[m] {
            asm.patch(asm.jmp(0), to: code)
        } else {
            memberJumps[m].append(asm.jmp(0))
        }
        edges += 1
        (hostFlags, dirtyFlags, parked, afClear, cache) = before
        for f in fail { asm.patch(f, to: asm.bytes.count) }
        if pending { storeFlagsFromAX() }
        dirtyFlags = false
        parked = false
        writeBack()
    }

    /// Starts member `m`'s code here, from the state the first branch into it left
    /// (`MemberEntry`); false when no branch went into it.
    mutating func enterMember(_ m: Int) -> Bool {
        guard let entry = memberEntries[m] else { return false }
        memberCode[m] = asm.bytes.count
        for j in memberJumps[m] { asm.patch(j, to: asm.bytes.count) }
        select(block: m + 1)
        cache = entry.cache
        (hostFlags, afClear, logicalFlags) = (false, false, false)
        (parked, dirtyFlags) = (entry.flagsInAX, entry.flagsInAX)
        return true
    }

    /// Block `n`'s forms and context (0 the first block, then the members') for what is
    /// emitted next: the interpreter's calls and the words host code leaves with name them.
    mutating func select(block n: Int) {
        block = n
        if n == 0 {
            context = head
            formsBase = headForms
        } else {
            context = members[n - 1].context
            formsBase = UnsafeRawPointer(members[n - 1].forms)
        }
    }

    /// The cached registers made `target`'s: each dirty one that `target` does not hold, or
    /// holds clean, written back, then each `target` holds loaded where it is not already.
    mutating func reconcile(to target: RegisterCache) {
        for h in RegisterCache.indices where cache.holds(h) && cache.isDirty(h)
            && (cache.guest[h] != target.guest[h] || !target.isDirty(h)) {
            asm.mov(size: 8, FormEmitter.gpr(UInt8(cache.guest[h])), RegisterCache.hosts[h])
        }
        for h in RegisterCache.indices where target.holds(h) && cache.guest[h] != target.guest[h] {
            asm.mov(size: 8, RegisterCache.hosts[h], FormEmitter.gpr(UInt8(target.guest[h])))
        }
        cache = target
    }
}
