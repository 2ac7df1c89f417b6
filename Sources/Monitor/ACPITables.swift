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
/// With PCI functions to announce (the virtio devices), the DSDT also describes the PCI host
/// bridge, \_SB.PCI0 (PNP0A03; 6.1, 6.2, 6.4): bus 0 to 255, configuration mechanism 1's ports,
/// the I/O and memory windows the devices' BARs lie in, and _PRT (6.2.13), which routes each
/// slot's INTA# to its global system interrupt. The kernel then finds the bus through ACPI, as
/// on any PC, and enables each device's interrupt as the specification has PCI interrupts:
/// level-triggered, active low (through the IOAPIC; through the 8259 pair, level in the ELCR).
public enum ACPITables {
    /// Where the tables go (the e820 map reserves it) and the PM1a event and control blocks.
    public static let base: UInt64 = 0xE0000
    public static let pm1EventBlock: UInt16 = 0x600
    public static let pm1ControlBlock: UInt16 = 0x604
    /// The interrupt the FADT gives for SCI (which never fires: no fixed event is offered).
    public static let sciInterrupt: UInt16 = 9

    static let rsdt = 0x40, fadt = 0x80, facs = 0x100, dsdt = 0x140, madt = 0x200, pciDSDT = 0x600
    /// The FACS's FIRMWARE_WAKING_VECTOR (a 32-bit physical address; real-mode CS:IP is
    /// vector >> 4 : vector & 0xF). X_FIRMWARE_WAKING_VECTOR is not honoured.
    public static let wakingVector = base + UInt64(facs) + 12

    /// The tables, to be placed at `base`.
    /// `pci`: each PCI slot with a function whose INTA# is routed, and its GSI.
    public static func build(processors: Int = 1, pci: [(slot: Int, gsi: Int)] = []) -> [UInt8] {
        // The DSDT keeps its place (and a one-vCPU guest without PCI its instruction count)
        // unless the bridge's description needs more room.
        let dsdt = pci.isEmpty ? ACPITables.dsdt : ACPITables.pciDSDT
        var b = [UInt8](repeating: 0, count: pci.isEmpty ? (processors > 1 ? 0x600 : 0x200) : 0x1000)
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
        let aml = sleepState(0x33, ACPIPower.suspendType) + sleepState(0x35, ACPIPower.softOffType) + (pci.isEmpty ? [] : hostBridge(pci))
        header(dsdt, "DSDT", 36 + aml.count, 1)
        for (i, v) in aml.enumerated() { b[dsdt + 36 + i] = v }
        checksum(dsdt, 36 + aml.count, dsdt + 9)
        return b
    }

    /// AML's PkgLength (ACPI 6.5, 20.2.4) for a body of `n` bytes: the length counts itself.
    public static func packageLength(_ n: Int) -> [UInt8] {
        if n + 1 < 0x40 { return [UInt8(n + 1)] }
        for extra in 1...3 {
            let total = n + 1 + extra
            if total < 1 << (4 + 8 * extra) {
                return [UInt8(extra << 6 | total & 0xF)] + (0..<extra).map { UInt8(truncatingIfNeeded: total >> (4 + 8 * $0)) }
            }
        }
        return []
    }

    /// Scope (\_SB) { Device (PCI0) { _HID, _UID, _CRS, _PRT } }.
    static func hostBridge(_ pci: [(slot: Int, gsi: Int)]) -> [UInt8] {
        func dword(_ v: UInt64) -> [UInt8] { [0x0C] + (0..<4).map { UInt8(truncatingIfNeeded: v >> (8 * UInt64($0))) } }
        func le(_ v: UInt64, _ n: Int) -> [UInt8] { (0..<n).map { UInt8(truncatingIfNeeded: v >> (8 * UInt64($0))) } }
        func name(_ seg: String, _ value: [UInt8]) -> [UInt8] { [0x08] + Array(seg.utf8) + value }
        func package(_ elements: [[UInt8]]) -> [UInt8] {
            let body = [UInt8(elements.count)] + elements.flatMap { $0 }
            return [0x12] + packageLength(body.count) + body
        }
        // Word address space descriptors (6.4.3.5.3): bus numbers and I/O ranges; DWord memory
        // (6.4.3.5.2); the I/O port descriptor of CONFIG_ADDRESS/CONFIG_DATA (6.4.2.5).
        func word(_ type: UInt8, _ specific: UInt8, _ min: UInt64, _ max: UInt64) -> [UInt8] {
            [0x88, 0x0D, 0x00, type, 0x0C, specific] + le(0, 2) + le(min, 2) + le(max, 2) + le(0, 2) + le(max - min + 1, 2)
        }
        func memory(_ min: UInt64, _ max: UInt64) -> [UInt8] {
            [0x87, 0x17, 0x00, 0x00, 0x0C, 0x01] + le(0, 4) + le(min, 4) + le(max, 4) + le(0, 4) + le(max - min + 1, 4)
        }
        let resources = word(2, 0, 0, 0xFF) + [0x47, 0x01] + le(0xCF8, 2) + le(0xCF8, 2) + [0x01, 0x08]
            + word(1, 3, 0, 0xCF7) + word(1, 3, 0xD00, 0xFFFF)
            + memory(0xA0000, 0xBFFFF) + memory(MachineConfiguration.virtioBase, MachineConfiguration.virtioBase + 0xAF_FFFF)
            + [0x79, 0x00]
        let crsBody = [0x0B] + le(UInt64(resources.count), 2) + resources
        let crs = name("_CRS", [0x11] + packageLength(crsBody.count) + crsBody)
        // _PRT: { address (slot << 16 | 0xFFFF), pin (0: INTA#), source (0: a GSI), the GSI }.
        let prt = name("_PRT", package(pci.map { package([dword(UInt64($0.slot) << 16 | 0xFFFF), [0x00], [0x00], dword(UInt64($0.gsi))]) }))
        let device = Array("PCI0".utf8) + name("_HID", dword(0x030A_D041)) + name("_UID", [0x00]) + crs + prt
        let deviceOp = [0x5B, 0x82] + packageLength(device.count) + device
        let scope = [0x5C] + Array("_SB_".utf8) + deviceOp
        return [0x10] + packageLength(scope.count) + scope
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
