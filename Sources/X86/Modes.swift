/// The code-segment mode an instruction is decoded and executed in: it fixes
/// the default operand and address sizes (CS.D, CS.L) and which encodings exist.
public enum CPUMode: UInt8, Sendable, CaseIterable, CustomStringConvertible {
    /// Real mode, virtual-8086 and 16-bit protected-mode code segments.
    case bits16 = 16
    /// 32-bit protected mode and compatibility mode with CS.D = 1.
    case bits32 = 32
    /// 64-bit mode (long mode, CS.L = 1).
    case bits64 = 64

    public var description: String { "\(rawValue)-bit" }

    public init?(bits: Int) {
        switch bits {
        case 16: self = .bits16
        case 32: self = .bits32
        case 64: self = .bits64
        default: return nil
        }
    }
}

/// Whose reading of vendor-dependent encodings to follow (SDM vs APM).
public enum Vendor: Sendable, CaseIterable {
    /// Intel: in 64-bit mode, near branches ignore the 66 prefix (operand size 64).
    case intel
    /// AMD: a 66 prefix makes near branches 16-bit (rel16, IP truncated).
    case amd
}

/// Exception vectors (SDM vol. 3, table 6-1).
public enum ExceptionVector: UInt8, Sendable, CustomStringConvertible {
    case divideError = 0, debug = 1, nmi = 2, breakpoint = 3, overflow = 4
    case boundRange = 5, invalidOpcode = 6, deviceNotAvailable = 7, doubleFault = 8
    case invalidTSS = 10, segmentNotPresent = 11, stackFault = 12
    case generalProtection = 13, pageFault = 14, x87FloatingPoint = 16
    case alignmentCheck = 17, machineCheck = 18, simdFloatingPoint = 19
    case virtualization = 20, controlProtection = 21

    public var mnemonic: String {
        switch self {
        case .divideError: "#DE"
        case .debug: "#DB"
        case .nmi: "NMI"
        case .breakpoint: "#BP"
        case .overflow: "#OF"
        case .boundRange: "#BR"
        case .invalidOpcode: "#UD"
        case .deviceNotAvailable: "#NM"
        case .doubleFault: "#DF"
        case .invalidTSS: "#TS"
        case .segmentNotPresent: "#NP"
        case .stackFault: "#SS"
        case .generalProtection: "#GP"
        case .pageFault: "#PF"
        case .x87FloatingPoint: "#MF"
        case .alignmentCheck: "#AC"
        case .machineCheck: "#MC"
        case .simdFloatingPoint: "#XM"
        case .virtualization: "#VE"
        case .controlProtection: "#CP"
        }
    }
    public var description: String { mnemonic }
}
