import X86
import X86Decoder

/// What one step did.
public enum StepResult: Equatable, Sendable {
    case executed
    case exception(CPUException)
}

/// The interpreter: fetch, decode, execute, one instruction at a time. This first
/// version covers the general-purpose integer core in 64-bit mode; instructions it
/// does not implement raise #UD (and are absent from its CPUID once CPUID exists).
///
/// An instruction that raises an exception changes no architectural state: results
/// are computed first and written back only when every access has succeeded.
public final class CPU<Memory: CPUMemory> {
    public let state = CPUState()
    public let memory: Memory
    /// Intel and AMD differ in a few places (66 on near branches); the decoder follows `vendor`.
    public let vendor: Vendor
    let decoder: X86Decoder
    let fetchBuffer = UnsafeMutablePointer<UInt8>.allocate(capacity: 16)

    public init(memory: Memory, vendor: Vendor = .intel) {
        self.memory = memory
        self.vendor = vendor
        decoder = X86Decoder(mode: .bits64, vendor: vendor)
    }
    deinit { fetchBuffer.deallocate() }

    /// Executes one instruction.
    public func step() -> StepResult {
        do throws(CPUException) {
            let n = try memory.fetch(state.rip, into: fetchBuffer, max: 15)
            let ins = decoder.decode(fetchBuffer, count: n)
            switch ins.status {
            case .valid: break
            case .truncated: throw .pageFault(address: state.rip &+ UInt64(n), errorCode: 0x14)
            case .invalid: throw ins.length >= 15 ? .generalProtection(0) : .invalidOpcode
            }
            try execute(ins)
            return .executed
        } catch {
            return .exception(error)
        }
    }

    var opTable: [Op] { interpreterOps }
}

/// Per mnemonic ID, the operation that executes it.
let interpreterOps: [Op] = Instruction.mnemonicNames.map { Op(rawValue: $0) ?? .unimplemented }

/// Whether the interpreter implements this decoded instruction.
public func interpreterImplements(_ ins: Instruction) -> Bool {
    guard ins.status == .valid else { return false }
    let op = interpreterOps[Int(ins.mnemonicID)]
    guard op != .unimplemented, ins.map != .amd3DNow, !ins.map.isEVEX, !ins.map.isXOP else { return false }
    if ins.map.isVEX { return op.isBMI }
    // movsd and cmpsd are also SSE2 instructions (0F map).
    if op.rawValue.hasPrefix("movs") || op.rawValue.hasPrefix("cmps") { return ins.map == .legacy || op == .movsx || op == .movsxd }
    return true
}
