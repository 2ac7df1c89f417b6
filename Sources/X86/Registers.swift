/// The register files an instruction operand can name.
public enum RegisterClass: UInt8, Sendable {
    case gpr8        // al, cl, ..., r15b (spl/bpl/sil/dil need REX)
    case gpr8High    // ah, ch, dh, bh (only without REX)
    case gpr16, gpr32, gpr64
    case segment     // es, cs, ss, ds, fs, gs
    case control     // cr0..cr15
    case debug       // dr0..dr15
    case x87         // st(0)..st(7)
    case mmx         // mm0..mm7
    case xmm, ymm, zmm
    case mask        // k0..k7
    case bound       // bnd0..bnd3
    case instructionPointer // ip, eip, rip (number = 0, 1, 2)
}

/// A register: its class and its number within the class.
public struct Register: Hashable, Sendable, CustomStringConvertible {
    public var kind: RegisterClass
    public var number: UInt8

    @inlinable public init(_ kind: RegisterClass, _ number: UInt8) {
        self.kind = kind
        self.number = number
    }

    public static let rip = Register(.instructionPointer, 2)
    public static let eip = Register(.instructionPointer, 1)
    public static let ip = Register(.instructionPointer, 0)

    /// Width in bytes (x87 registers are 10 bytes).
    public var size: Int {
        switch kind {
        case .gpr8, .gpr8High: 1
        case .gpr16, .segment: 2
        case .gpr32: 4
        case .gpr64, .control, .debug, .mmx, .mask: 8
        case .x87: 10
        case .xmm, .bound: 16
        case .ymm: 32
        case .zmm: 64
        case .instructionPointer: [2, 4, 8][Int(number)]
        }
    }

    public var name: String {
        let n = Int(number)
        switch kind {
        case .gpr8: return Register.gpr8Names[n]
        case .gpr8High: return ["ah", "ch", "dh", "bh"][n & 3]
        case .gpr16: return Register.gpr16Names[n]
        case .gpr32: return n < 8 ? "e" + Register.gpr16Names[n] : "r\(n)d"
        case .gpr64: return n < 8 ? "r" + Register.gpr16Names[n] : "r\(n)"
        case .segment: return ["es", "cs", "ss", "ds", "fs", "gs", "seg6", "seg7"][n & 7]
        case .control: return "cr\(n)"
        case .debug: return "dr\(n)"
        case .x87: return "st(\(n))"
        case .mmx: return "mm\(n)"
        case .xmm: return "xmm\(n)"
        case .ymm: return "ymm\(n)"
        case .zmm: return "zmm\(n)"
        case .mask: return "k\(n)"
        case .bound: return "bnd\(n)"
        case .instructionPointer: return ["ip", "eip", "rip"][n]
        }
    }
    public var description: String { name }

    static let gpr8Names = ["al", "cl", "dl", "bl", "spl", "bpl", "sil", "dil",
                            "r8b", "r9b", "r10b", "r11b", "r12b", "r13b", "r14b", "r15b"]
    static let gpr16Names = ["ax", "cx", "dx", "bx", "sp", "bp", "si", "di",
                             "r8w", "r9w", "r10w", "r11w", "r12w", "r13w", "r14w", "r15w"]

    /// The general-purpose register of `size` bytes numbered `number`
    /// (for size 1 without REX, 4..7 are ah..bh).
    @inlinable public static func gpr(_ number: Int, size: Int, rex: Bool = true) -> Register {
        switch size {
        case 1: return (!rex && number >= 4 && number < 8) ? Register(.gpr8High, UInt8(number - 4)) : Register(.gpr8, UInt8(number))
        case 2: return Register(.gpr16, UInt8(number))
        case 4: return Register(.gpr32, UInt8(number))
        default: return Register(.gpr64, UInt8(number))
        }
    }
}

/// The general registers' encoding numbers (ModRM, SIB, REX), for code that indexes a
/// register file by number.
public enum GPR {
    public static let rax = 0, rcx = 1, rdx = 2, rbx = 3, rsp = 4, rbp = 5, rsi = 6, rdi = 7
    public static let r8 = 8, r9 = 9, r10 = 10, r11 = 11, r12 = 12, r13 = 13, r14 = 14, r15 = 15
}
