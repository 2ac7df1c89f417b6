@_spi(Translator) import X86CPU
import X86

/// Blocks of fast forms as host code (issue 25): what `CPU.runBlock` runs in place of the
/// interpreter's loop once a block is warm. The forms it knows are emitted as host
/// instructions over the vCPU's `RegisterFile` (RBX points at it); every other form is a call
/// into the interpreter for that one form (`runFastFormEntry`), so every block translates.
///
/// The host's flags are the guest's: an ALU operation run on the host leaves exactly the
/// status flags the guest's would, and they stay in the host's RFLAGS (not written back)
/// until something can see them: a call into the interpreter, the block's end, a branch out.
/// Where a form reads the flags (ADC, SBB, Jcc, CMOVcc, SETcc, INC and DEC, which keep CF)
/// and the host's are not the guest's, the guest's status flags are loaded (never TF, DF or
/// AC). A form whose host flags could differ from the interpreter's (an undefined flag:
/// shifts, rotates, IMUL) is emitted only where the block's flag analysis says no one reads
/// them (`FastForm.flags` false); otherwise the interpreter runs it.
///
/// Register use: RBX the register file, R12 the CPU's `FormRunner`, R13 the block's forms
/// (all callee-saved, so they survive calls into the interpreter); RAX, RCX, RDX scratch.
@_spi(Translator) public final class FormTranslator: BlockTranslating {
    public let memory: CodeMemory
    /// Blocks translated, forms emitted as host code and forms run through the interpreter
    /// (as translated, not as run), code bytes written: `--stats`.
    public private(set) var translations: UInt64 = 0
    public private(set) var nativeForms: UInt64 = 0
    public private(set) var fallbackForms: UInt64 = 0
    public private(set) var codeBytes: UInt64 = 0
    /// Forms run through the interpreter, by kind (as translated): where coverage grows next.
    public private(set) var fallbacksByKind = [UInt64](repeating: 0, count: 256)

    public init(capacity: Int = 64 << 20) throws(CodeMemoryError) {
        memory = try CodeMemory(capacity: capacity)
    }

    public func translate(_ forms: UnsafePointer<FastForm>, count: Int, tlb: TranslationTLB?) -> (code: UnsafeRawPointer?, flushed: Bool) {
        var emitter = FormEmitter(tlb: tlb)
        for i in 0..<count { emitter.emit(forms + i, index: i) }
        let bytes = emitter.finish()
        var flushed = false
        var code: UnsafeRawPointer
        do throws(CodeMemoryError) {
            code = try memory.install(bytes)
        } catch {
            guard case .full = error, (try? memory.flush()) != nil, let again = try? memory.install(bytes) else { return (nil, false) }
            flushed = true
            code = again
        }
        translations &+= 1
        nativeForms &+= UInt64(emitter.native)
        fallbackForms &+= UInt64(emitter.fallbacks)
        for k in emitter.fallbackKinds { fallbacksByKind[Int(k.rawValue)] &+= 1 }
        codeBytes &+= UInt64(bytes.count)
        return (code, flushed)
    }
}

/// One block's host code, form by form (`FormTranslator`).
struct FormEmitter {
    var asm = X86Assembler()
    /// Whether the host's status flags are the guest's, and whether the register file's are
    /// stale (the host's are newer).
    var hostFlags = false, dirtyFlags = false
    /// Jumps to the epilogue, patched at the end.
    var exits: [Int] = []
    var native = 0, fallbacks = 0
    var fallbackKinds: [FastKind] = []
    /// Memory forms' slow paths, emitted after the epilogue.
    var slowPaths: [SlowPath] = []

    static let file = GPR.rbx, runner = GPR.r12, forms = GPR.r13
    static let a = GPR.rax, c = GPR.rcx, d = GPR.rdx
    static let gprs = MemoryLayout<RegisterFile>.offset(of: \.gprs)!
    static let rip = MemoryLayout<RegisterFile>.offset(of: \.rip)!
    static let rflags = MemoryLayout<RegisterFile>.offset(of: \.rflags)!
    /// CF, PF, AF, ZF, SF, OF.
    static let status: Int32 = 0x8D5
    static let formStride = MemoryLayout<FastForm>.stride
    static let entry = unsafeBitCast(runFastFormEntry, to: UInt.self)

    static func field(_ offset: Int) -> X86Assembler.Memory { X86Assembler.Memory(base: file, displacement: Int32(offset)) }
    /// General register `n` (16: `RegisterFile.noRegister`, always 0).
    static func gpr(_ n: UInt8) -> X86Assembler.Memory { field(gprs + 8 * Int(n)) }

    /// The TLB memory forms probe inline (nil: they run through the interpreter).
    let tlb: TranslationTLB?
    static let userAccess = MemoryLayout<RegisterFile>.offset(of: \.userAccess)!
    static let segmentBases = MemoryLayout<RegisterFile>.offset(of: \.segmentBases)!
    /// RFLAGS.AC: the memory's own probe decides (`GuestMMU.probeWithAC`).
    static let alignmentCheck: Int32 = 1 << 18

    /// RBP, R14 and R15 hold the TLB's epoch word, read tags and read pages (the write
    /// arrays follow each at `entries` words).
    static let epochRegister = GPR.rbp, tagsRegister = GPR.r14, pagesRegister = GPR.r15
    static let saved = [GPR.rbx, GPR.rbp, GPR.r12, GPR.r13, GPR.r14, GPR.r15]

    init(tlb: TranslationTLB?) {
        self.tlb = tlb
        for r in FormEmitter.saved { asm.push(r) }
        // Six pushes after the return address: 8 more keep calls 16-byte aligned.
        asm.alu(.sub, size: 8, GPR.rsp, immediate: 8)
        asm.mov(size: 8, FormEmitter.file, GPR.rdi)
        asm.mov(size: 8, FormEmitter.runner, GPR.rsi)
        asm.mov(size: 8, FormEmitter.forms, GPR.rdx)
        if let tlb {
            asm.mov(size: 8, FormEmitter.epochRegister, immediate: Int64(Int(bitPattern: tlb.epoch)))
            asm.mov(size: 8, FormEmitter.tagsRegister, immediate: Int64(Int(bitPattern: tlb.tags)))
            asm.mov(size: 8, FormEmitter.pagesRegister, immediate: Int64(Int(bitPattern: tlb.pages)))
        }
    }

    /// The code, the epilogue appended and every exit patched to reach it.
    mutating func finish() -> [UInt8] {
        let epilogue = asm.bytes.count
        asm.alu(.add, size: 8, GPR.rsp, immediate: 8)
        for r in FormEmitter.saved.reversed() { asm.pop(r) }
        asm.ret()
        emitSlowPaths()
        for at in exits { asm.patch(at, to: epilogue) }
        return asm.bytes
    }

    // MARK: flags

    /// The guest's status flags into the host's, unless they are there.
    mutating func needFlags() {
        guard !hostFlags else { return }
        asm.mov(size: 8, FormEmitter.d, FormEmitter.field(FormEmitter.rflags))
        asm.alu(.and, size: 4, FormEmitter.d, immediate: FormEmitter.status)
        asm.push(FormEmitter.d)
        asm.popfq()
        hostFlags = true
    }

    /// The host's status flags into the register file, if they are newer (the host's stay).
    mutating func syncFlags() {
        guard dirtyFlags else { return }
        asm.pushfq()
        asm.pop(FormEmitter.d)
        asm.alu(.and, size: 4, FormEmitter.d, immediate: FormEmitter.status)
        asm.mov(size: 8, FormEmitter.c, FormEmitter.field(FormEmitter.rflags))
        asm.alu(.and, size: 8, FormEmitter.c, immediate: ~FormEmitter.status)
        asm.alu(.or, size: 8, FormEmitter.c, FormEmitter.d)
        asm.mov(size: 8, FormEmitter.field(FormEmitter.rflags), FormEmitter.c)
        dirtyFlags = false
    }

    /// A guest instruction just set the host's flags (as the interpreter sets the guest's, or
    /// where no one reads them before they are overwritten).
    mutating func flagsWritten() { hostFlags = true; dirtyFlags = true }

    /// Returns `bits | index << 8` from the block (the flags written back first).
    mutating func exit(_ bits: UInt8, index: Int) {
        syncFlags()
        asm.mov(size: 4, FormEmitter.a, immediate: Int64(bits) | Int64(index) << 8)
        exits.append(asm.jmp(0))
    }

    // MARK: forms

    static func alu(_ k: FastKind, from first: FastKind) -> (X86Assembler.ALU?, Bool) {
        let i = k.rawValue - first.rawValue
        // FastOp order: add, or, adc, sbb, and, sub, xor, cmp, test (8: TEST, not an ALU group op).
        return i == 8 ? (nil, false) : (X86Assembler.ALU(rawValue: i)!, i != 7)
    }

    static func condition(_ cc: UInt8) -> X86Assembler.Condition { X86Assembler.Condition(rawValue: cc & 15)! }

    /// Base + index × scale + displacement into `r` (not RCX, which it uses), no flags touched.
    mutating func effectiveAddress(_ ad: FastAddress, into r: Int) {
        let c = FormEmitter.c, none = FastAddress.none
        let disp = Int64(bitPattern: ad.displacement)
        let short = ad.address32 || Int64(Int32(truncatingIfNeeded: disp)) == disp
        let base: Int? = ad.base == none ? nil : r, index: Int? = ad.index == none ? nil : c
        if base != nil { asm.mov(size: 8, r, FormEmitter.gpr(ad.base)) }
        if index != nil { asm.mov(size: 8, c, FormEmitter.gpr(ad.index)) }
        if base == nil && index == nil {
            asm.mov(size: 8, r, immediate: short ? Int64(Int32(truncatingIfNeeded: disp)) : disp)
        } else if short {
            asm.lea(size: 8, r, X86Assembler.Memory(base: base, index: index, scale: 1 << Int(ad.scale), displacement: Int32(truncatingIfNeeded: disp)))
        } else {
            asm.lea(size: 8, r, X86Assembler.Memory(base: base, index: index, scale: 1 << Int(ad.scale)))
            asm.mov(size: 8, c, immediate: disp)
            asm.lea(size: 8, r, X86Assembler.Memory(base: r, index: c))
        }
    }

    mutating func emit(_ f: UnsafePointer<FastForm>, index i: Int) {
        let form = f.pointee
        let a = FormEmitter.a, c = FormEmitter.c
        let g = FormEmitter.gpr
        let k = form.kind
        switch k {
        case .add64, .or64, .adc64, .sbb64, .and64, .sub64, .xor64, .cmp64, .test64,
             .add32, .or32, .adc32, .sbb32, .and32, .sub32, .xor32, .cmp32, .test32:
            let size = k.rawValue >= FastKind.add32.rawValue ? 4 : 8
            let (op, writes) = FormEmitter.alu(k, from: size == 8 ? .add64 : .add32)
            if op == .adc || op == .sbb { needFlags() }
            asm.mov(size: 8, a, g(form.x))
            asm.mov(size: 8, c, g(form.s))
            if let op { asm.alu(op, size: size, a, c) } else { asm.test(size: size, a, c) }
            if writes { asm.mov(size: 8, g(form.d), a) }
            flagsWritten()
        case .add64i, .or64i, .adc64i, .sbb64i, .and64i, .sub64i, .xor64i, .cmp64i, .test64i,
             .add32i, .or32i, .adc32i, .sbb32i, .and32i, .sub32i, .xor32i, .cmp32i, .test32i:
            let size = k.rawValue >= FastKind.add32i.rawValue ? 4 : 8
            let (op, writes) = FormEmitter.alu(k, from: size == 8 ? .add64i : .add32i)
            let imm = Int64(bitPattern: form.imm)
            // A 64-bit immediate is a sign-extended 32-bit one (as decoded); a 32-bit one is
            // its low half.
            let fits = size == 4 || Int64(Int32(truncatingIfNeeded: imm)) == imm
            if op == .adc || op == .sbb { needFlags() }
            asm.mov(size: 8, a, g(form.x))
            if let op, fits {
                asm.alu(op, size: size, a, immediate: Int32(truncatingIfNeeded: imm))
            } else {
                asm.mov(size: 8, c, immediate: size == 4 ? Int64(UInt32(truncatingIfNeeded: imm)) : imm)
                if let op { asm.alu(op, size: size, a, c) } else { asm.test(size: size, a, c) }
            }
            if writes { asm.mov(size: 8, g(form.d), a) }
            flagsWritten()
        case .movRR:
            asm.mov(size: 8, a, g(form.s))
            if form.size == 4 { asm.mov(size: 4, a, a) }
            asm.mov(size: 8, g(form.d), a)
        case .movRI:
            asm.mov(size: 8, a, immediate: Int64(bitPattern: form.imm))
            asm.mov(size: 8, g(form.d), a)
        case .extend, .extendSigned:
            // MOVZX from a byte or word, MOV of a doubleword (MOVSXD r32), MOVSX, MOVSXD.
            let from = Int(form.x)
            asm.mov(size: 8, c, g(form.s))
            if k == .extend {
                if from == 4 { asm.mov(size: 4, a, c) } else { asm.extend(signed: false, size: 4, a, from: from, c) }
            } else {
                asm.extend(signed: true, size: Int(form.size), a, from: from, c)
            }
            asm.mov(size: 8, g(form.d), a)
        case .lea:
            effectiveAddress(form.address, into: a)
            if form.address.address32 || form.size == 4 { asm.mov(size: 4, a, a) }
            asm.mov(size: 8, g(form.d), a)
        case .inc, .dec:
            // CF stays: the guest's.
            needFlags()
            asm.mov(size: 8, a, g(form.d))
            asm.unary(k == .inc ? .inc : .dec, size: Int(form.size), a)
            asm.mov(size: 8, g(form.d), a)
            flagsWritten()
        case .not:
            asm.mov(size: 8, a, g(form.x))
            asm.unary(.not, size: Int(form.size), a)
            asm.mov(size: 8, g(form.d), a)
        case .neg:
            asm.mov(size: 8, a, g(form.d))
            asm.unary(.neg, size: Int(form.size), a)
            asm.mov(size: 8, g(form.d), a)
            flagsWritten()
        case .shl64, .shr64, .sar64, .rol64, .ror64, .rol32, .ror32, .shift:
            // Undefined flags (OF past a count of 1, AF) may differ from the interpreter's.
            guard !form.flags else { return fallback(f, index: i) }
            let op: X86Assembler.Shift = switch k {
            case .shl64: .shl
            case .shr64: .shr
            case .sar64: .sar
            case .rol64, .rol32: .rol
            case .ror64, .ror32: .ror
            default: form.op == .shr ? .shr : form.op == .sar ? .sar : .shl
            }
            asm.mov(size: 8, a, g(form.s))
            asm.shift(op, size: k == .rol32 || k == .ror32 || k == .shift ? 4 : 8, a, by: form.x)
            asm.mov(size: 8, g(form.d), a)
            flagsWritten()
        case .imul:
            // SF, ZF, AF and PF are undefined.
            guard !form.flags else { return fallback(f, index: i) }
            asm.mov(size: 8, a, g(form.x))
            asm.mov(size: 8, c, g(form.s))
            asm.imul(size: Int(form.size), a, c)
            asm.mov(size: 8, g(form.d), a)
            flagsWritten()
        case .cmov:
            needFlags()
            asm.mov(size: 8, a, g(form.d))
            asm.mov(size: 8, c, g(form.s))
            asm.cmov(FormEmitter.condition(form.x), size: Int(form.size), a, c)
            asm.mov(size: 8, g(form.d), a)
        case .setcc:
            needFlags()
            asm.mov(size: 8, a, g(form.d))
            asm.set(FormEmitter.condition(form.x), a)
            asm.mov(size: 8, g(form.d), a)
        case .cdqe:
            asm.mov(size: 8, c, g(0))
            asm.extend(signed: true, size: 8, a, from: 4, c)
            asm.mov(size: 8, g(0), a)
        case .nop:
            break
        case .jmp:
            asm.mov(size: 8, a, immediate: Int64(bitPattern: form.imm))
            asm.mov(size: 8, FormEmitter.field(FormEmitter.rip), a)
            exit(FastExit.jumped, index: i)
        case .jo, .jno, .jb, .jae, .je, .jne, .jbe, .ja, .js, .jns, .jp, .jnp, .jl, .jge, .jle, .jg:
            needFlags()
            // Not taken: on in the block, the flags as they are; taken: RIP, the flags written
            // back, out.
            let skip = asm.jcc(FormEmitter.condition((k.rawValue - FastKind.jo.rawValue) ^ 1), 0)
            let (host, dirty) = (hostFlags, dirtyFlags)
            asm.mov(size: 8, a, immediate: Int64(bitPattern: form.imm))
            asm.mov(size: 8, FormEmitter.field(FormEmitter.rip), a)
            exit(FastExit.jumped, index: i)
            (hostFlags, dirtyFlags) = (host, dirty)
            asm.patch(skip, to: asm.bytes.count)
        case .blockEnd:
            exit(FastExit.end, index: i)
            return
        case .load, .load8, .load16, .load32, .load64, .loadSigned, .store, .storeImm, .cmpMR, .cmpMI, .testMR, .testMI,
             .aluRM, .aluMR, .aluMI, .push, .pushImm, .pop, .leave, .call, .ret, .jmpReg, .callReg:
            guard memoryForm(f, index: i) else { return fallback(f, index: i) }
        default:
            fallback(f, index: i)
            return
        }
        native += 1
    }

    /// A form with no host code of its own: a call into the interpreter for it.
    mutating func fallback(_ f: UnsafePointer<FastForm>, index i: Int) {
        call(index: i)
        fallbacks += 1
        fallbackKinds.append(f.pointee.kind)
    }

    /// A call into the interpreter for form `i`: the flags written back first; out of the
    /// block with its answer unless that is 0.
    mutating func call(index i: Int) {
        syncFlags()
        asm.mov(size: 8, GPR.rdi, FormEmitter.runner)
        asm.lea(size: 8, GPR.rsi, X86Assembler.Memory(base: FormEmitter.forms, displacement: Int32(i * FormEmitter.formStride)))
        asm.mov(size: 8, FormEmitter.a, immediate: Int64(bitPattern: UInt64(FormEmitter.entry)))
        asm.call(register: FormEmitter.a)
        asm.test(size: 4, FormEmitter.a, FormEmitter.a)
        let skip = asm.jcc(.e, 0)
        asm.alu(.or, size: 4, FormEmitter.a, immediate: Int32(i << 8))
        exits.append(asm.jmp(0))
        asm.patch(skip, to: asm.bytes.count)
        hostFlags = false
    }
}
