import X86

// Interrupt messages between the APICs (SDM vol. 3, 11.6 and 11.12): what the ICR of a
// local APIC, or a redirection entry of the IOAPIC, sends, and the bus that finds the local
// APICs it is for. Delivery is immediate (the ICR's delivery status never shows pending):
// the vCPUs run one at a time on one host thread, so a message lands in its targets' IRRs
// before the sender's next instruction.

/// An interrupt message: the ICR's fields (or a redirection entry's).
public struct InterruptMessage: Equatable, Sendable, CustomStringConvertible {
    /// Delivery modes (ICR bits 10:8). 3 is reserved.
    public enum Mode: UInt8, Sendable {
        case fixed = 0, lowestPriority = 1, smi = 2, reserved = 3, nmi = 4, initialize = 5, startup = 6, extINT = 7
    }
    public var vector: UInt8
    public var mode: Mode
    /// Logical destination mode (ICR bit 11).
    public var logical: Bool
    /// The destination field: 8 bits in xAPIC mode and from the IOAPIC, 32 in x2APIC mode.
    public var destination: UInt32
    /// 0 none, 1 self, 2 all including self, 3 all excluding self (ICR bits 19:18).
    public var shorthand: UInt8
    /// Level-triggered (bit 15) and, for INIT, assert (bit 14): INIT with trigger level and
    /// level de-assert is the "INIT level de-assert" message, which does nothing.
    public var levelTriggered: Bool
    public var assert: Bool
    /// The destination is an x2APIC ID (a 32-bit field, 0xFFFFFFFF broadcast).
    public var x2APIC: Bool

    public init(vector: UInt8, mode: Mode, logical: Bool = false, destination: UInt32, shorthand: UInt8 = 0,
                levelTriggered: Bool = false, assert: Bool = true, x2APIC: Bool = false) {
        (self.vector, self.mode, self.logical, self.destination, self.shorthand) = (vector, mode, logical, destination, shorthand)
        (self.levelTriggered, self.assert, self.x2APIC) = (levelTriggered, assert, x2APIC)
    }

    /// The message an ICR value sends (`x2APIC`: the ICR is the 64-bit x2APIC one, its
    /// destination in bits 63:32; else bits 63:56).
    public init(icr: UInt64, x2APIC: Bool) {
        self.init(vector: UInt8(truncatingIfNeeded: icr), mode: Mode(rawValue: UInt8((icr >> 8) & 7))!,
                  logical: icr & 1 << 11 != 0,
                  destination: x2APIC ? UInt32(truncatingIfNeeded: icr >> 32) : UInt32(truncatingIfNeeded: icr >> 56),
                  shorthand: UInt8((icr >> 18) & 3), levelTriggered: icr & 1 << 15 != 0, assert: icr & 1 << 14 != 0,
                  x2APIC: x2APIC)
    }

    public var description: String {
        let to = ["", " to self", " to all", " to all but self"][Int(shorthand & 3)]
        return "\(mode) vector \(hex(UInt64(vector)))" + (shorthand == 0 ? " to \(logical ? "logical" : "physical") \(hex(UInt64(destination)))" : to)
    }
}

/// The local APICs of a machine, by vCPU index, and the routing of messages between them.
public final class APICBus {
    public private(set) var apics: [LocalAPIC] = []

    public init() {}

    /// Adds the local APIC of the next vCPU; its ICR now sends through this bus.
    public func attach(_ apic: LocalAPIC) {
        let index = apics.count
        apics.append(apic)
        apic.onIPI = { [unowned self] m in send(m, from: index) }
    }

    /// The indices of the local APICs a message goes to (`sender`: the sending local APIC,
    /// nil for the IOAPIC). Lowest priority picks one of the matching APICs: the one whose
    /// processor priority is lowest, the lowest index among equals (a deterministic choice; the
    /// SDM leaves it to the model).
    public func targets(of m: InterruptMessage, from sender: Int?) -> [Int] {
        var out: [Int]
        switch m.shorthand {
        case 1: out = sender.map { [$0] } ?? []
        case 2: out = Array(apics.indices)
        case 3: out = apics.indices.filter { $0 != sender }
        default: out = apics.indices.filter { apics[$0].matches(m) }
        }
        if m.mode == .lowestPriority && out.count > 1 {
            let lowest = out.min { (apics[$0].ppr & 0xF0, $0) < (apics[$1].ppr & 0xF0, $1) }!
            out = [lowest]
        }
        return out
    }

    /// Sends a message to the local APICs it is for. A message that matches no APIC vanishes
    /// (the xAPIC's send-accept error is a Pentium and P6 feature, SDM vol. 3, 11.5.3).
    public func send(_ m: InterruptMessage, from sender: Int?) {
        for i in targets(of: m, from: sender) { apics[i].receive(m) }
    }
}
