import X86
import X86Decoder

/// What a string instruction does with its elements.
enum StringKind { case move, compare, store, load, scan }

extension CPU {
    /// MOVS, CMPS, STOS, LODS, SCAS with REP/REPE/REPNE: the whole repetition in one step
    /// (RCX counts down, RSI/RDI move by the element size, backwards with DF). The count,
    /// source and destination registers have the address size's width. A fault stops the
    /// repetition with the registers describing the elements done so far, as the CPU does.
    func string(_ op: Op, _ ins: Instruction) throws(CPUException) {
        let kind: StringKind, size: Int
        switch op {
        case .movsb: (kind, size) = (.move, 1)
        case .movsw: (kind, size) = (.move, 2)
        case .movsd: (kind, size) = (.move, 4)
        case .movsq: (kind, size) = (.move, 8)
        case .cmpsb: (kind, size) = (.compare, 1)
        case .cmpsw: (kind, size) = (.compare, 2)
        case .cmpsd: (kind, size) = (.compare, 4)
        case .cmpsq: (kind, size) = (.compare, 8)
        case .stosb: (kind, size) = (.store, 1)
        case .stosw: (kind, size) = (.store, 2)
        case .stosd: (kind, size) = (.store, 4)
        case .stosq: (kind, size) = (.store, 8)
        case .lodsb: (kind, size) = (.load, 1)
        case .lodsw: (kind, size) = (.load, 2)
        case .lodsd: (kind, size) = (.load, 4)
        case .lodsq: (kind, size) = (.load, 8)
        case .scasb: (kind, size) = (.scan, 1)
        case .scasw: (kind, size) = (.scan, 2)
        case .scasd: (kind, size) = (.scan, 4)
        default: (kind, size) = (.scan, 8)
        }
        let asz = Int(ins.addressSize), am = sizeMask(asz)
        let step = state.flag(Flag.df) ? 0 &- UInt64(size) : UInt64(size)
        let repeated = ins.prefixes.contains(.repe) || ins.prefixes.contains(.repne)
        let compares = kind == .compare || kind == .scan
        // For CMPS/SCAS the last of F2/F3 decides between REPNE and REPE.
        let whileEqual = ins.lastRepeat == 0xF3
        let readsSource = kind == .move || kind == .load || kind == .compare
        let usesDestination = kind != .load
        // The source is DS or the override; the destination is always ES.
        let source = ins.segmentOverride == 0xFF ? 3 : Int(ins.segmentOverride)
        // REP MOVS/STOS forward in 64-bit addressing: whole runs within a page at a time.
        let bulk = repeated && step == UInt64(size) && asz == 8 && base(of: source) == 0 && (kind == .move || kind == .store)
        var iterations = 0
        while true {
            if repeated && state.rcx & am == 0 { break }
            // A long repetition is interruptible: after a slice it stops with RIP still at the
            // instruction and the registers describing the progress, and the next step goes on
            // (so a huge RCX cannot hold the host in one step).
            if repeated && iterations == CPU.repeatSlice {
                state.rip &-= UInt64(ins.length)
                break
            }
            iterations &+= 1
            // A bulk run (the elements up to the next page boundary) is one iteration whether
            // the host copies it in one block or, where it cannot (a watched page, a device, a
            // fault to take at the right element), element by element: where the repetition
            // stops for a slice depends on the registers only, never on the path taken.
            var elements: UInt64 = 1
            if bulk {
                let run = runLength(movs: kind == .move, size: size)
                if run > 1 {
                    if try moveRun(movs: kind == .move, size: size, elements: run) { continue }
                    elements = run
                }
            }
            for _ in 0..<elements {
                let si = state.rsi & am, di = state.rdi & am
                let rsi = linear(source, si), rdi = linear(0, di)
                if readsSource { try checkCanonical(rsi, size, stack: false) }
                if usesDestination { try checkCanonical(rdi, size, stack: false) }
                switch kind {
                case .move:
                    try store(rdi, size: size, value: try memory.read(rsi, size: size))
                case .store:
                    try store(rdi, size: size, value: state.rax & sizeMask(size))
                case .load:
                    try write(.gpr(GPR.rax, size: size, high: false), try memory.read(rsi, size: size))
                case .compare:
                    let a = try memory.read(rsi, size: size), b = try memory.read(rdi, size: size)
                    _ = arithmetic(.cmp, a, b, size: size)
                case .scan:
                    let b = try memory.read(rdi, size: size)
                    _ = arithmetic(.cmp, state.rax & sizeMask(size), b, size: size)
                }
                if readsSource { setAddressRegister(GPR.rsi, (si &+ step) & am, asz) }
                if usesDestination { setAddressRegister(GPR.rdi, (di &+ step) & am, asz) }
                guard repeated else { return }
                setAddressRegister(GPR.rcx, (state.rcx &- 1) & am, asz)
                if compares && state.flag(Flag.zf) != whileEqual { return }
            }
        }
    }

    /// The elements a bulk run of REP MOVS/STOS covers from here: up to the next page boundary
    /// of the destination (and of the source for MOVS), at most RCX; 1 where the run would be
    /// a single element or MOVS's source overlaps the destination ahead (it replicates:
    /// element by element).
    @inline(__always)
    func runLength(movs: Bool, size: Int) -> UInt64 {
        let rsi = state.rsi, rdi = state.rdi
        var room = Int(4096 - (rdi & 4095))
        if movs { room = min(room, Int(4096 - (rsi & 4095))) }
        let elements = min(UInt64(room / size), state.rcx)
        guard elements > 1 else { return 1 }
        if movs, rdi > rsi, rdi < rsi &+ elements &* UInt64(size) { return 1 }
        return elements
    }

    /// Moves a run of `elements` (`runLength`) in one block; false when the host cannot (a
    /// non-canonical end, a watched page, a device, a fault: the elements go one by one).
    @inline(__always)
    func moveRun(movs: Bool, size: Int, elements: UInt64) throws(CPUException) -> Bool {
        let rsi = state.rsi, rdi = state.rdi
        let bytes = Int(elements) * size
        guard isCanonical(rdi), isCanonical(rdi &+ UInt64(bytes) &- 1) else { return false }
        guard memory.block(to: rdi, from: movs ? rsi : nil, pattern: state.rax & sizeMask(size),
                           size: size, count: bytes) else { return false }
        noteStore(rdi, bytes)
        if movs { state.rsi = rsi &+ UInt64(bytes) }
        state.rdi = rdi &+ UInt64(bytes)
        state.rcx = state.rcx &- elements
        return true
    }

    /// Elements (or page-sized runs) a REP string instruction does per step.
    static var repeatSlice: Int { 1024 }

    /// Writes RSI/RDI/RCX at the address size (a 32-bit write clears the upper half).
    @inline(__always) func setAddressRegister(_ n: Int, _ v: UInt64, _ asz: Int) {
        switch asz {
        case 8: state.gpr[n] = v
        case 4: state.gpr[n] = v & 0xFFFF_FFFF
        default: state.gpr[n] = (state.gpr[n] & ~0xFFFF) | (v & 0xFFFF)
        }
    }
}
