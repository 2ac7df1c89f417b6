// Operand specifications in the SDM's appendix-A notation: an addressing
// method (a capital letter) and an operand-size code. One spec is three bytes.

/// Where an operand comes from (SDM vol. 2, A.2.1).
public enum OperandKind: UInt8, Sendable {
    case none
    case E      // ModRM r/m: general register or memory
    case G      // ModRM reg: general register
    case R      // ModRM r/m: general register only
    case M      // ModRM r/m: memory only
    case I      // immediate
    case one    // the constant 1 (shift by one)
    case J      // relative branch target
    case O      // moffs: absolute offset, no ModRM
    case A      // far pointer immediate (seg:offset)
    case Z      // general register in the opcode's low three bits
    case fixedGPR, fixedSegment, st0, xmm0
    case S      // ModRM reg: segment register
    case C      // ModRM reg: control register
    case D      // ModRM reg: debug register
    case P      // ModRM reg: MMX register
    case Q      // ModRM r/m: MMX register or memory
    case N      // ModRM r/m: MMX register only
    case V      // ModRM reg: XMM/YMM register
    case W      // ModRM r/m: XMM/YMM register or memory
    case U      // ModRM r/m: XMM/YMM register only
    case H      // VEX.vvvv: XMM/YMM register
    case L      // imm8[7:4]: XMM/YMM register (VEX /is4)
    case B      // VEX.vvvv: general register
    case STi    // ModRM r/m: x87 register st(i)
    case X      // string source, DS:rSI
    case Y      // string destination, ES:rDI
    case vsib   // VSIB memory: vector index (gathers)
    case KG     // ModRM reg: opmask register k0-k7
    case KE     // ModRM r/m: opmask register or memory
    case KR     // ModRM r/m: opmask register only
    case KH     // VEX.vvvv: opmask register
    case Im4    // imm8[3:0] of the /is4 byte (VPERMIL2PS/PD)
}

/// Operand-size codes (SDM vol. 2, A.2.2), plus the few this table needs.
public enum SizeCode: UInt8, Sendable {
    case none
    case b, w, d, q, dq, qq, t
    case v      // operand size: 2, 4 or 8
    case z      // 2 for 16-bit operand size, else 4
    case y      // 8 with REX.W/VEX.W in 64-bit mode, else 4
    case a      // BOUND: two operands of operand size
    case p      // far pointer: 2 + (2 or 4 or 8)
    case s      // pseudo-descriptor: 6 (10 in 64-bit mode)
    case m      // 8 in 64-bit mode, else 4 (control/debug moves, INVEPT)
    case vw     // register: operand size; memory: word
    case dw     // register: 32-bit; memory: word
    case db     // register: 32-bit; memory: byte
    case zw     // register: z; memory: word (LAR, LSL)
    case zd     // register: z; memory: dword (MOVSXD with 66 reads 32 bits: the host CPU faults at a page end)
    case x      // the vector length: 16, 32 (VEX.L = 1, EVEX.L'L = 1) or 64 (EVEX.L'L = 2)
    case xq     // register x; memory 8 at 128 bits, else x (MOVDDUP)
    case zm     // 64: a ZMM register, or 64 bytes of memory
    case h      // half of x (the register is XMM, YMM or ZMM by that size, at least XMM)
    case qtr    // quarter of x
    case oct    // eighth of x
    case env    // x87 environment: 14 or 28
    case state  // x87 state: 94 or 108
    case fx512  // FXSAVE area
    case xs     // XSAVE area (size not fixed)
    case ibs    // imm8 sign-extended to operand size
    case iv     // immediate of operand size, 64-bit with REX.W
    case asz    // the address size (rAX of VMRUN, CLZERO)
    case k384   // Key Locker handle: 48 bytes
    case k512   // Key Locker handle: 64 bytes
}

/// One operand of an instruction form.
public struct OperandSpec: Hashable, Sendable {
    public var kind: OperandKind
    public var size: SizeCode
    /// Register number for fixed-register operands; for VSIB, the index
    /// element size (4 or 8).
    public var number: UInt8

    public init(_ kind: OperandKind, _ size: SizeCode = .none, _ number: UInt8 = 0) {
        self.kind = kind
        self.size = size
        self.number = number
    }

    /// Parses an operand token of the table notation, or nil.
    static func parse(_ token: String) -> OperandSpec? {
        switch token {
        case "AL": return OperandSpec(.fixedGPR, .b, 0)
        case "CL": return OperandSpec(.fixedGPR, .b, 1)
        case "AX": return OperandSpec(.fixedGPR, .w, 0)
        case "DX": return OperandSpec(.fixedGPR, .w, 2)
        case "rAX": return OperandSpec(.fixedGPR, .v, 0)
        case "eAX": return OperandSpec(.fixedGPR, .z, 0)
        case "aAX": return OperandSpec(.fixedGPR, .asz, 0)
        case "EAX": return OperandSpec(.fixedGPR, .d, 0)
        case "RAX": return OperandSpec(.fixedGPR, .q, 0)
        case "RCX": return OperandSpec(.fixedGPR, .q, 1)
        case "RDX": return OperandSpec(.fixedGPR, .q, 2)
        case "ECX": return OperandSpec(.fixedGPR, .d, 1)
        case "EDX": return OperandSpec(.fixedGPR, .d, 2)
        case "ES": return OperandSpec(.fixedSegment, .w, 0)
        case "CS": return OperandSpec(.fixedSegment, .w, 1)
        case "SS": return OperandSpec(.fixedSegment, .w, 2)
        case "DS": return OperandSpec(.fixedSegment, .w, 3)
        case "FS": return OperandSpec(.fixedSegment, .w, 4)
        case "GS": return OperandSpec(.fixedSegment, .w, 5)
        case "ST0": return OperandSpec(.st0, .t)
        case "STi": return OperandSpec(.STi, .t)
        case "XMM0": return OperandSpec(.xmm0, .dq)
        case "1": return OperandSpec(.one, .b)
        case "Mvdx": return OperandSpec(.vsib, .x, 4)
        case "Mvdh": return OperandSpec(.vsib, .h, 4)
        case "Mvqx": return OperandSpec(.vsib, .x, 8)
        default: break
        }
        if token == "Im4" { return OperandSpec(.Im4, .b) }
        if token.hasPrefix("K"), token.count >= 2 {
            let k: OperandKind
            switch token.dropFirst().first {
            case "G": k = .KG
            case "E": k = .KE
            case "R": k = .KR
            case "H": k = .KH
            default: return nil
            }
            let rest = String(token.dropFirst(2))
            guard rest.isEmpty || SizeCode.byName[rest] != nil else { return nil }
            return OperandSpec(k, rest.isEmpty ? .q : SizeCode.byName[rest]!)
        }
        guard let first = token.first else { return nil }
        let kind: OperandKind
        switch first {
        case "E": kind = .E
        case "G": kind = .G
        case "R": kind = .R
        case "M": kind = .M
        case "I": kind = .I
        case "J": kind = .J
        case "O": kind = .O
        case "A": kind = .A
        case "Z": kind = .Z
        case "S": kind = .S
        case "C": kind = .C
        case "D": kind = .D
        case "P": kind = .P
        case "Q": kind = .Q
        case "N": kind = .N
        case "V": kind = .V
        case "W": kind = .W
        case "U": kind = .U
        case "H": kind = .H
        case "L": kind = .L
        case "B": kind = .B
        case "X": kind = .X
        case "Y": kind = .Y
        default: return nil
        }
        let rest = String(token.dropFirst())
        let size: SizeCode
        switch rest {
        case "": size = .none
        case "512": size = .fx512
        default:
            guard let s = SizeCode.byName[rest] else { return nil }
            size = s
        }
        return OperandSpec(kind, size)
    }

    /// True for the ModRM.rm operands that can name memory.
    var canNameMemory: Bool {
        switch kind {
        case .E, .M, .W, .Q, .KE, .vsib: true
        default: false
        }
    }

    /// True for operands encoded as immediate bytes after ModRM/SIB/displacement.
    var isImmediate: Bool {
        switch kind {
        case .I, .J, .O, .A, .L: true
        default: false
        }
    }
}

extension SizeCode {
    static let byName: [String: SizeCode] = [
        "b": .b, "w": .w, "d": .d, "q": .q, "dq": .dq, "qq": .qq, "t": .t, "v": .v,
        "z": .z, "y": .y, "a": .a, "p": .p, "s": .s, "m": .m, "vw": .vw, "dw": .dw,
        "db": .db, "zw": .zw, "zd": .zd, "x": .x, "xq": .xq, "h": .h, "qtr": .qtr, "oct": .oct, "env": .env,
        "state": .state, "xs": .xs, "bs": .ibs, "v64": .iv, "asz": .asz, "k384": .k384, "k512": .k512, "zm": .zm,
    ]
}
