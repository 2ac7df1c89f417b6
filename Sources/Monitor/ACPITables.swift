import Devices
import VMM
import X86

/// The smallest ACPI description with which a kernel can turn the machine off (ACPI 6.5,
/// chapter 5): an RSDP in the BIOS area (where a kernel booted without EFI searches, 0xE0000 to
/// 0xFFFFF), an RSDT listing one FADT (revision 1), the FACS, and a DSDT whose only object is
/// \_S5 (soft off, SLP_TYP 5 in PM1a_CNT) and \_S3 (suspend to RAM, SLP_TYP 1: the machine
/// resumes in real mode at the waking vector the kernel writes into the FACS, as firmware
/// does; `Machine.suspendToRAM`). The FADT names the fixed-hardware ports of
/// `ACPIPower` and has no SMI_CMD (always in ACPI mode), no PM timer and no GPE blocks.
/// With several vCPUs the RSDT also lists a MADT (5.2.12): a local APIC per vCPU, the IOAPIC,
/// the interrupt source overrides of a PC (ISA IRQ 0 on pin 2; the SCI level-triggered, active
/// high) and LINT1 as NMI, so that the kernel finds the APs and routes through the IOAPIC. With
/// one vCPU there is no MADT (as before SMP: a one-vCPU guest's instruction counts stand), and
/// the kernel uses the 8259 pair, as without ACPI.
public enum ACPITables {
    /// Where the tables go (the e820 map reserves it) and the PM1a event and control blocks.
    public static let base: UInt64 = 0xE0000
    public static let pm1EventBlock: UInt16 = 0x600
    public static let pm1ControlBlock: UInt16 = 0x604
    /// The interrupt the FADT gives for SCI (which never fires: no fixed event is offered).
    public static let sciInterrupt: UInt16 = 9

    static let rsdt = 0x40, fadt = 0x80, facs = 0x100, dsdt = 0x140, madt = 0x200
    /// The FACS's FIRMWARE_WAKING_VECTOR (a 32-bit physical address; real-mode CS:IP is
    /// vector >> 4 : vector & 0xF). X_FIRMWARE_WAKING_VECTOR is not honoured.
    public static let wakingVector = base + UInt64(facs) + 12

    /// The tables, to be placed at `base`.
    public static func build(processors: Int = 1) -> [UInt8] {
        var b = [UInt8](repeating: 0, count: processors > 1 ? 0x600 : 0x200)
        func put(_ at: Int, _ v: UInt64, _ n: Int) { for i in 0..<n { b[at + i] = UInt8(truncatingIfNeeded: v >> (8 * UInt64(i))) } }
        func text(_ at: Int, _ s: String) { for (i, c) in s.utf8.enumerated() { b[at + i] = c } }
        func checksum(_ at: Int, _ length: Int, _ field: Int) {
            b[field] = 0
            b[field] = UInt8(truncatingIfNeeded: 0 &- b[at..<at + length].reduce(0) { $0 &+ Int($1) })
        }
        /// A system description table's header (signature, length, revision, OEM fields); the
        /// checksum is filled last.
        func header(_ at: Int, _ signature: String, _ length: Int, _ revision: UInt8) {
            text(at, signature); put(at + 4, UInt64(length), 4); b[at + 8] = revision
            text(at + 10, "SOFTVM"); text(at + 16, "SOFTVMM "); put(at + 24, 1, 4); text(at + 28, "SVMM"); put(at + 32, 1, 4)
        }
        // RSDP (ACPI 1.0 form, 20 bytes): signature, checksum, OEM, revision 0, the RSDT.
        text(0, "RSD PTR "); text(9, "SOFTVM"); put(16, base + UInt64(rsdt), 4)
        checksum(0, 20, 8)
        // RSDT: the FADT, and the MADT with several vCPUs.
        let rsdtLength = processors > 1 ? 44 : 40
        header(rsdt, "RSDT", rsdtLength, 1); put(rsdt + 36, base + UInt64(fadt), 4)
        if processors > 1 { put(rsdt + 40, base + UInt64(madt), 4) }
        checksum(rsdt, rsdtLength, rsdt + 9)
        if processors > 1 { buildMADT(processors: processors, header: header, put: put, checksum: checksum) }
        // FADT revision 1 (116 bytes).
        header(fadt, "FACP", 116, 1)
        put(fadt + 36, base + UInt64(facs), 4)                  // FIRMWARE_CTRL
        put(fadt + 40, base + UInt64(dsdt), 4)                  // DSDT
        put(fadt + 46, UInt64(sciInterrupt), 2)                 // SCI_INT
        put(fadt + 56, UInt64(pm1EventBlock), 4)                // PM1a_EVT_BLK
        put(fadt + 64, UInt64(pm1ControlBlock), 4)              // PM1a_CNT_BLK
        b[fadt + 88] = 4; b[fadt + 89] = 2                      // PM1_EVT_LEN, PM1_CNT_LEN
        put(fadt + 96, 101, 2); put(fadt + 98, 1001, 2)         // P_LVL2/3_LAT: no C2, no C3
        put(fadt + 112, 1 << 0 | 1 << 4 | 1 << 5, 4)            // WBINVD; power and sleep buttons not fixed features
        checksum(fadt, 116, fadt + 9)
        // FACS: signature, length, no hardware signature, no waking vector until the kernel writes one.
        text(facs, "FACS"); put(facs + 4, 64, 4)
        // DSDT: Name (_S3, Package (4) { 1, 1, Zero, Zero }), Name (_S5, Package (4) { 5, 5, Zero, Zero }).
        func sleepState(_ digit: UInt8, _ type: UInt16) -> [UInt8] {
            [0x08, 0x5F, 0x53, digit, 0x5F, 0x12, 0x08, 0x04, 0x0A, UInt8(type), 0x0A, UInt8(type), 0x00, 0x00]
        }
        let aml = sleepState(0x33, ACPIPower.suspendType) + sleepState(0x35, ACPIPower.softOffType)
        header(dsdt, "DSDT", 36 + aml.count, 1)
        for (i, v) in aml.enumerated() { b[dsdt + 36 + i] = v }
        checksum(dsdt, 36 + aml.count, dsdt + 9)
        return b
    }

    /// The MADT at `madt` (ACPI 6.5, 5.2.12), revision 1: the local APICs' address and
    /// PCAT_COMPAT (the 8259 pair is there too), then its structures.
    static func buildMADT(processors: Int, header: (Int, String, Int, UInt8) -> Void,
                          put: (Int, UInt64, Int) -> Void, checksum: (Int, Int, Int) -> Void) {
        var at = madt + 44
        put(madt + 36, LocalAPIC.defaultBase, 4)
        put(madt + 40, 1, 4)
        // Processor Local APIC (type 0): processor UID, APIC ID, flags (1: enabled).
        for i in 0..<processors {
            put(at, 0, 1); put(at + 1, 8, 1); put(at + 2, UInt64(i), 1); put(at + 3, UInt64(i), 1); put(at + 4, 1, 4)
            at += 8
        }
        // I/O APIC (type 1): ID 0, its address, global system interrupt base 0.
        put(at, 1, 1); put(at + 1, 12, 1); put(at + 2, 0, 1); put(at + 4, IOAPIC.defaultBase, 4); put(at + 8, 0, 4)
        at += 12
        // Interrupt Source Overrides (type 2): bus 0 (ISA), source IRQ, GSI, flags (MPS INTI:
        // 0 conforms to the bus; 0xD active high, level-triggered).
        for (irq, gsi, flags) in [(0, 2, 0), (UInt64(sciInterrupt), UInt64(sciInterrupt), 0xD)] as [(UInt64, UInt64, UInt64)] {
            put(at, 2, 1); put(at + 1, 10, 1); put(at + 2, 0, 1); put(at + 3, irq, 1); put(at + 4, gsi, 4); put(at + 8, flags, 2)
            at += 10
        }
        // Local APIC NMI (type 4): every processor (UID 0xFF), flags 0, LINT1.
        put(at, 4, 1); put(at + 1, 6, 1); put(at + 2, 0xFF, 1); put(at + 3, 0, 2); put(at + 5, 1, 1)
        at += 6
        header(madt, "APIC", at - madt, 1)
        checksum(madt, at - madt, madt + 9)
    }
}
