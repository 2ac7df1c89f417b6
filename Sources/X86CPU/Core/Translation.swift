import X86

/// What a translator (X86JIT, issue 25) gives the interpreter: host code for a block's fast
/// forms, run in `CPU.runBlock` in place of `executeFast` form by form, with exactly its
/// effects (DESIGN.md: the translator is checked against the interpreter).
///
/// The host code is entered through its translator's `TranslatedBlock` entry (the same for
/// every block, `Translation.entry`): it gets the vCPU's `RegisterFile` (with the
/// `TranslationWords` after it), the block's code and `runBlock`'s budget, and returns
/// `FastExit` bits in bits 0-7 with, in bits 8-15, the index of the form that said something
/// (as `runBlock`'s loop stops at the first form whose `executeFast` returns nonzero;
/// `blockEnd` says `end`), in bits 16-47 the slot of the block it belongs to, and in bits 48-55
/// the instructions that block retired up to and with that form (its `ordinal` plus its
/// `retires`: `runBlock` need not read the forms, which host code did not touch, to count
/// them). `FastExit.threw`: that form raised `CPU.translatedException`, with everything before
/// it done and nothing of it. The forms it runs through the interpreter it hands to
/// `runFastFormEntry` with the CPU's `FormRunner` (`TranslationContext.runner`). The register
/// file holds the guest's state, RFLAGS included, whenever anything can see it: at a call into
/// the interpreter and at the return.
@_spi(Translator) public protocol BlockTranslating: AnyObject {
    /// Host code for the `count` forms at `forms` (the last one `blockEnd`), or nil when the
    /// block is not worth it. A translator that drops every earlier translation to make room
    /// says so first (`KeptTranslations.flushed`): the CPU forgets them before it keeps this one.
    func translate(_ forms: UnsafePointer<FastForm>, count: Int, context: TranslationContext) -> Translation?
    /// The translations kept for the CPUs this translator serves (one cache for them all).
    var kept: KeptTranslations { get }
}

/// A block's host code, the copy of its forms the code names (which lives as long as the
/// code does), and the entry that runs it (a `TranslatedBlock`, the same for every
/// translation until a flush: `KeptTranslations.entry`). A translator that dropped every
/// earlier translation to make room says so through `KeptTranslations.flushed()` first.
@_spi(Translator) public struct Translation {
    public var code: UnsafeRawPointer
    public var forms: UnsafePointer<FastForm>
    public var entry: UnsafeRawPointer
    public init(code: UnsafeRawPointer, forms: UnsafePointer<FastForm>, entry: UnsafeRawPointer) {
        (self.code, self.forms, self.entry) = (code, forms, entry)
    }
}

/// A translation kept apart from its block (`KeptTranslations`), by the block's RIP: a block
/// built there again, or on another CPU the translator serves, with the same forms and the same
/// way out gets the host code back at once (its slot was taken by another block meanwhile, the
/// blocks were dropped when their forms ran out, a TLB flush found its frames changed, a store
/// into its frame dropped it): the code is a function of the forms, the RIP and what follows
/// the block, nothing else (whatever it needs of its vCPU it finds through the register file:
/// `TranslationWords`).
struct KeptTranslation {
    var rip: UInt64 = ~0
    /// `TranslationContext.next` (~0: none).
    var next: UInt64 = ~0
    var count = 0
    var code: UnsafeRawPointer? = nil
    var forms: UnsafePointer<FastForm>? = nil
    /// The CPU that made it (`CPU.identity`), for `--stats`.
    var maker: UInt = 0
}

/// The translations a translator keeps for every CPU it serves, by block RIP
/// (`KeptTranslation`): one translation cache for the vCPUs of a machine, as build item 3 of
/// issue 25 asks. A block a vCPU translated runs as host code on every vCPU that builds the
/// same block, or warms it (`CPU.reattach`). When the translator drops its code (its memory is
/// full) it says so here (`flushed`): each CPU forgets its blocks' translations before it runs
/// host code again.
@_spi(Translator) public final class KeptTranslations {
    static var slots: Int { 1 << 18 }
    /// Zeroed memory: a zero entry has no code and matches no block.
    let entries: UnsafeMutablePointer<KeptTranslation>
    /// The translator's flushes so far, in a word a CPU compares with the count it last saw.
    let flushes: UnsafeMutablePointer<UInt64>
    /// The entry of every translation since the last flush (`Translation.entry`).
    public var entry: UnsafeRawPointer? = nil

    public init() {
        precondition(_isPOD(KeptTranslation.self), "zeroed entries must be valid ones")
        entries = zeroedMemory(KeptTranslation.self, KeptTranslations.slots, "kept translations")
        flushes = .allocate(capacity: 1)
        flushes.initialize(to: 0)
    }

    /// The translator dropped all its code: nothing kept is valid, and every CPU forgets the
    /// translations its blocks hold.
    public func flushed() {
        zeroAgain(entries, KeptTranslations.slots)
        flushes.pointee &+= 1
        entry = nil
    }

    /// Where block `b`'s translation is kept.
    @inline(__always) func entry(_ rip: UInt64) -> UnsafeMutablePointer<KeptTranslation> {
        entries + blockSlotIndex(rip, KeptTranslations.slots)
    }

    deinit {
        releaseZeroed(entries, KeptTranslations.slots)
        flushes.deallocate()
    }
}

/// What a translation may rely on besides its forms: the TLB's shape, to probe it inline, and
/// what a block that branches back to its own start needs to run again without leaving the
/// host code (as `runBlock` would run it again): its RIP and instruction count, and where its
/// slot is among the CPU's blocks (the block is still valid while its key is the code key or
/// the global code key: `CPUState.isCurrentCode`). Nothing of one CPU: the code finds the CPU's
/// blocks, code keys, TLB and interpreter through the register file (`TranslationWords`).
@_spi(Translator) public struct TranslationContext {
    public var tlb: TranslationTLB?
    public var rip: UInt64
    public var instructions: Int
    /// The blocks' slots: a branch with a known target goes on into that block's translation
    /// while it is valid, as `runBlock` would (`BlockLayout` has a slot's fields).
    public var blockStride: Int
    public var blockSlots: Int
    /// Where the block goes when its forms end (nil: an instruction without a fast form comes next).
    public var next: UInt64?
    /// Where the slot of the block at `rip` is from the blocks' start.
    public func blockOffset(at rip: UInt64) -> Int { blockSlotIndex(rip, blockSlots) * blockStride }
    /// This block's slot (host code returns it in bits 16 and up: the block whose form said the
    /// `FastExit` bits, after it went on into others).
    public var slot: Int { blockSlotIndex(rip, blockSlots) }
    /// Blocks translated with this one, in its page, that its branches reach and that reach
    /// back to its start (a loop's blocks: `CPU.loopMembers`). Host code goes from one to
    /// another with the guest's registers kept in host registers, once it has checked, as
    /// `runBlock` would, that the next one is in its slot, valid, and fits in the budget.
    public var members: [TranslationMember] = []
}

/// A block translated with another (`TranslationContext.members`): its forms (the last one
/// `blockEnd`) and what its own translation would rely on.
@_spi(Translator) public struct TranslationMember {
    public var forms: UnsafePointer<FastForm>
    public var count: Int
    public var context: TranslationContext
    public init(forms: UnsafePointer<FastForm>, count: Int, context: TranslationContext) {
        (self.forms, self.count, self.context) = (forms, count, context)
    }
}

/// The entry of translated blocks: (register file, block's code, instruction budget) ->
/// `FastExit` bits | form index << 8 | block slot << 16 | instructions retired << 48. The
/// budget is `runBlock`'s (the instructions it may still retire, this block's included): a
/// block that runs itself again, or goes on into another, takes each whole pass out of it,
/// and does so only while a whole pass of the next fits. (Kept in a word of its own: among
/// the `TranslationWords`, restored fork+exec ran 5-10% slower.)
@_spi(Translator) public typealias TranslatedBlock = @convention(c) (UnsafeMutableRawPointer, UnsafeRawPointer, UnsafeMutablePointer<UInt64>) -> UInt64

/// Where a memory's TLB is, for host code that probes it inline (`TranslationTLBProviding`):
/// per access kind (0 read, 1 write) `entries` tags then `entries` addends at `tags + kind *
/// entries` and `pages + kind * entries` (an address in the entry's page plus its addend is
/// its host address); a tag is the linear page of the
/// access's last byte shifted left by one, or'ed with the register file's `userAccess` and
/// the word at `epoch`. An access whose first byte's slot holds its last byte's tag is within
/// one page that the TLB serves with nothing left to check (`GuestMMU.hit`), unless
/// RFLAGS.AC is set (then the memory's own probe decides). `noMatch` in place of the
/// `userAccess` and epoch bits makes a tag that no entry holds, valid or not.
@_spi(Translator) public struct TranslationTLB {
    public var tags: UnsafeRawPointer
    public var pages: UnsafeRawPointer
    public var epoch: UnsafeRawPointer
    public var entries: Int
    public var noMatch: UInt64
    public init(tags: UnsafeRawPointer, pages: UnsafeRawPointer, epoch: UnsafeRawPointer, entries: Int, noMatch: UInt64) {
        (self.tags, self.pages, self.epoch, self.entries, self.noMatch) = (tags, pages, epoch, entries, noMatch)
    }
    /// Where the pages are from the tags, in bytes (the same for every vCPU's TLB: host code
    /// reaches both through one register).
    public var pagesOffset: Int { pages - tags }
}

/// A memory whose TLB host code may probe inline (`GuestMMU`).
@_spi(Translator) public protocol TranslationTLBProviding: AnyObject {
    var translationTLB: TranslationTLB { get }
}

extension FastExit {
    /// Host code's answer: the form raised `CPU.translatedException`.
    @_spi(Translator) public static let threw: UInt8 = 0x80
}

/// The interpreter's side of a call from host code: runs one fast form as a block does
/// (`CPU.executeFast` with `inBlock`), its exception kept for `runBlock`. Not generic, so that
/// host code can reach it through `runFastFormEntry`.
@_spi(Translator) open class FormRunner {
    init() {}
    /// `FastExit` bits, or `FastExit.threw`.
    func run(_ f: UnsafePointer<FastForm>) -> UInt32 { UInt32(FastExit.threw) }
}

final class CPUFormRunner<Memory: CPUMemory>: FormRunner {
    /// Unretained: the CPU owns its runner. Reached through `_withUnsafeGuaranteedRef`, so
    /// that a call costs no reference counting (a retain and a release per call were 70% of
    /// the host's time in a loop of calls).
    let cpu: Unmanaged<CPU<Memory>>
    init(_ cpu: CPU<Memory>) { self.cpu = Unmanaged.passUnretained(cpu) }

    // The vtable reaches the generic body, which goes to the VM's specialization at once.
    @_specialize(exported: true, where Memory == GuestMMU)
    override func run(_ f: UnsafePointer<FastForm>) -> UInt32 {
        cpu._withUnsafeGuaranteedRef { $0.runForm(f) }
    }
}

extension CPU {
    /// One form for host code (`FormRunner`): its `FastExit` bits, or `FastExit.threw` with
    /// the exception kept in `translatedException`.
    @inline(never)
    func runForm(_ f: UnsafePointer<FastForm>) -> UInt32 {
        do throws(CPUException) {
            return UInt32(try executeFast(f, at: 0, inBlock: true))
        } catch {
            translatedException = error
            return UInt32(FastExit.threw)
        }
    }
}

/// Host code's call into the interpreter for one form: (the CPU's `FormRunner`, the form) ->
/// `FastExit` bits or `FastExit.threw`.
@_spi(Translator) public let runFastFormEntry: @convention(c) (UnsafeMutableRawPointer, UnsafeRawPointer) -> UInt32 = { runner, f in
    Unmanaged<FormRunner>.fromOpaque(runner)._withUnsafeGuaranteedRef { $0.run(f.assumingMemoryBound(to: FastForm.self)) }
}

extension CPU {
    /// Drops every block's translation (the translator's cache was flushed, or the translator
    /// changed): a block that had one counts its runs from 0 again, to be translated again
    /// when it is warm; `heat`: every block does.
    func forgetTranslations(heat: Bool = false) {
        seenFlushes = translatorFlushes.pointee
        guard anyTranslated || (heat && blocksBuilt > 0) else { return }
        for i in 0..<CPU.blockSlots where heat || blocks[i].native != nil {
            blocks[i].native = nil
            blocks[i].heat = 0
        }
        anyTranslated = false
    }

    /// The translator flushed its code since this CPU last looked (on this CPU or another it
    /// serves): the blocks forget their translations, before any runs.
    @inline(__always) func noteTranslatorFlushes() {
        if _slowPath(translatorFlushes.pointee != seenFlushes) { forgetTranslations() }
    }

    /// A new translator (or none): where host code finds this CPU's interpreter, blocks and
    /// TLB (`TranslationWords`), the translator's kept translations and flushes; every block's
    /// translation is forgotten, and its runs counted from 0 again.
    func attach(_ translator: (any BlockTranslating)?) {
        if formRunner == nil { formRunner = CPUFormRunner(self) }
        runnerEntry = Unmanaged.passUnretained(formRunner!).toOpaque()
        state.words.pointee.runner = UInt(bitPattern: runnerEntry)
        state.words.pointee.blocks = UInt(bitPattern: blocks)
        if let tlb = (memory as? TranslationTLBProviding)?.translationTLB {
            state.words.pointee.tlbTags = UInt(bitPattern: tlb.tags)
            state.words.pointee.tlbEpoch = UInt(bitPattern: tlb.epoch)
        }
        keptTranslations = translator?.kept
        translatorFlushes = UnsafePointer(keptTranslations?.flushes ?? noFlushes)
        forgetTranslations(heat: true)
    }

    /// Where block `b` (just built) would keep its translation.
    @inline(__always) func keptEntry(_ b: UnsafePointer<Block>) -> UnsafeMutablePointer<KeptTranslation>? {
        keptTranslations?.entry(b.pointee.rip)
    }

    /// This CPU, as `KeptTranslation.maker`.
    var identity: UInt { UInt(bitPattern: ObjectIdentifier(self)) }

    /// Where block `b` goes when its forms end (nil: an instruction without a fast form).
    func next(_ b: UnsafePointer<Block>) -> UInt64? { b.pointee.tailGeneral ? nil : b.pointee.rip &+ UInt64(b.pointee.bytes) }

    /// Gives block `b` (just built, or warm) the translation kept for its RIP if it has the
    /// same forms and the same way out; whether it did.
    @discardableResult
    func reattach(_ b: UnsafeMutablePointer<Block>) -> Bool {
        guard let k = keptEntry(b), let entry = keptTranslations?.entry else { return false }
        let count = Int(b.pointee.count) + 1
        guard k.pointee.rip == b.pointee.rip, k.pointee.count == count, k.pointee.next == next(b) ?? ~0,
              let code = k.pointee.code, let forms = k.pointee.forms else { return false }
        let ops = operations(b)
        for i in 0..<count where !ops[i].sameAs(forms[i]) { return false }
        noteTranslatorFlushes()
        b.pointee.native = code
        translationEntry = entry
        anyTranslated = true
        translationsReattached &+= 1
        if k.pointee.maker != identity { translationsShared &+= 1 }
        return true
    }

    /// Counts a run of block `b` (not translated yet) and translates it when it is warm.
    @inline(never)
    func warm(_ b: UnsafeMutablePointer<Block>) {
        b.pointee.heat &+= 1
        guard b.pointee.heat == translationThreshold, let translator else { return }
        // Another vCPU may have translated the same block since this one built it.
        if reattach(b) { return }
        var context = translationContext(b)
        context.members = loopMembers(b).map {
            TranslationMember(forms: operations($0), count: Int($0.pointee.count) + 1, context: translationContext($0))
        }
        guard let t = translator.translate(operations(b), count: Int(b.pointee.count) + 1, context: context) else { return }
        // A flush to make room dropped every earlier translation.
        noteTranslatorFlushes()
        translationEntry = t.entry
        b.pointee.native = t.code
        blocksTranslated &+= 1
        anyTranslated = true
        // A loop's translation holds its other blocks' code too: it is right for this block's
        // forms only with theirs (it stays with this block, and is not kept for others).
        guard context.members.isEmpty else {
            loopsTranslated &+= 1
            return
        }
        keptEntry(b)?.pointee = KeptTranslation(rip: b.pointee.rip, next: context.next ?? ~0, count: Int(b.pointee.count) + 1,
                                                code: t.code, forms: t.forms, maker: identity)
    }

    /// What block `b`'s translation relies on besides its forms.
    func translationContext(_ b: UnsafePointer<Block>) -> TranslationContext {
        TranslationContext(tlb: (memory as? TranslationTLBProviding)?.translationTLB, rip: b.pointee.rip,
                           instructions: Int(b.pointee.instructions),
                           blockStride: MemoryLayout<Block>.stride, blockSlots: CPU.blockSlots, next: next(b))
    }

    /// The blocks to translate with block `b` (`TranslationContext.members`): built, valid, in
    /// `b`'s page and frame, reached from `b` by branches with known targets (up to four), when
    /// one of them branches back to `b`'s start; none otherwise. Host code checks each one's
    /// slot before it goes into its code (another block may hold the slot by then, or a TLB
    /// flush have left it to be checked again); while `b` holds, they hold the same bytes (a
    /// store into their frame drops every block of it, `b` with them).
    func loopMembers(_ b: UnsafeMutablePointer<Block>) -> [UnsafeMutablePointer<Block>] {
        let page = b.pointee.rip >> 12, frame = b.pointee.frame0
        guard b.pointee.frame1 == frame else { return [] }
        var region = [b], loops = false, i = 0
        while i < region.count {
            let x = region[i]
            i += 1
            let ops = operations(x)
            var targets: [UInt64] = []
            for k in 0..<Int(x.pointee.count) where ops[k].kind == .jmp || ops[k].kind.isJcc { targets.append(ops[k].imm) }
            if let n = next(x) { targets.append(n) }
            for t in targets {
                if t == b.pointee.rip { loops = true }
                guard region.count < 5, t >> 12 == page, !region.contains(where: { $0.pointee.rip == t }) else { continue }
                let s = blocks + blockSlot(t)
                guard s.pointee.rip == t, state.isCurrentCode(s.pointee.key), s.pointee.frame0 == frame, s.pointee.frame1 == frame else { continue }
                region.append(s)
            }
        }
        return loops ? Array(region.dropFirst()) : []
    }

    /// Runs block `b`'s host code: `FastExit` bits, a pointer past the form that said them
    /// (as the interpreter's loop leaves it), the slot of the block that form is in, and the
    /// instructions that block retired up to and with it; `translatedException` when it
    /// threw. `budget` loses the whole passes the block made over itself. While a debugger's
    /// breakpoints are armed the code gets no budget beyond the block's own `instructions`:
    /// it neither runs the block again nor goes on into another (`runBlock` looks for a
    /// breakpoint before each block), and host code need not look at the breakpoints.
    @inline(__always)
    func runTranslated(_ code: UnsafeRawPointer, _ ops: UnsafeMutablePointer<FastForm>, instructions: UInt8,
                       _ budget: inout UInt64) -> (UInt8, UnsafeMutablePointer<FastForm>, Int, UInt64) {
        let given = _slowPath(debuggerBreakpointsArmed) ? min(budget, UInt64(instructions)) : budget
        translationBudget.pointee = given
        let r = unsafeBitCast(translationEntry, to: TranslatedBlock.self)(UnsafeMutableRawPointer(state.file), code, translationBudget)
        budget &-= given &- translationBudget.pointee
        return (UInt8(truncatingIfNeeded: r), ops + Int(truncatingIfNeeded: (r >> 8) & 0xFF) + 1,
                Int(truncatingIfNeeded: (r >> 16) & 0xFFFF_FFFF), (r >> 48) & 0xFF)
    }
}

extension CPU {
    /// Runs the instruction at RIP as a block of its own, translated at once, as `step` runs
    /// it (an exception raised, not delivered): cpu-check's way to run its cases through the
    /// translator. An instruction that is not a block of one fast form goes through `step`.
    @_spi(Translator) public func stepTranslated() -> StepResult {
        guard translator != nil, !state.legacySegmentation else { return step() }
        let rip = state.rip, slot = blockSlot(rip), b = blocks + slot
        guard prepareBlock(slot, rip), b.pointee.count == 1, b.pointee.instructions == 1 else { return step() }
        if b.pointee.native == nil {
            b.pointee.heat = translationThreshold &- 1
            warm(b)
        }
        do throws(CPUException) {
            _ = try runBlock(slot, budget: 1)
            return .executed
        } catch {
            return .exception(error)
        }
    }
}

/// Where a block's fields are, for host code that goes on into the next block itself
/// (`TranslationContext.block(at:)`).
@_spi(Translator) public enum BlockLayout {
    public static let rip = MemoryLayout<Block>.offset(of: \.rip)!
    public static let key = MemoryLayout<Block>.offset(of: \.key)!
    public static let instructions = MemoryLayout<Block>.offset(of: \.instructions)!
    public static let native = MemoryLayout<Block>.offset(of: \.native)!
    public static let flagsDeadAtStart = MemoryLayout<Block>.offset(of: \.flagsDeadAtStart)!
}
