// The guest's own paging (issue 5, a first piece): 32-bit, PAE, and 4- and 5-level
// long-mode walks from CR3 to a guest physical address, with the SDM's checks (vol. 3, 4.5-4.6) and exact page
// fault error codes (4.7): present, read/write, user/supervisor, execute-disable, WP,
// SMEP, SMAP, protection keys, reserved bits, and the accessed/dirty updates a walk that
// succeeds makes. The table reads go through `GuestPageTables` (each is itself a GPA that
// the nested pmap translates).

/// Where the walker reads and updates page-table entries (guest physical addresses).
public protocol GuestPageTables: AnyObject {
    /// The 8-byte entry at `gpa` (4-byte for 32-bit paging: the low half is used), or nil if it
    /// cannot be read (an unbacked address: the VMM's business, not a guest #PF).
    func readEntry(_ gpa: UInt64) -> UInt64?
    /// Sets bits in the entry at `gpa` (accessed and dirty).
    func setEntryBits(_ gpa: UInt64, _ bits: UInt64)
}

/// The paging structures in use (CR0.PG, CR4.PAE, EFER.LMA, CR4.LA57).
public enum PagingStructure: Equatable, Sendable {
    /// 32-bit paging: two levels of 4-byte entries; `pse`: 4-MiB pages (CR4.PSE).
    case bits32(pse: Bool)
    /// PAE paging: the four PDPTEs as MOV CR3 loaded them, then two levels of 8-byte entries.
    case pae(pdptes: PDPTERegisters)
    /// Long mode: four levels, or five with LA57.
    case long
}

/// PAE paging's four PDPTE registers, held inline (a `PagingControl` is made for every TLB miss:
/// with an array here each one cost an allocation's reference counting).
public struct PDPTERegisters: Equatable, Sendable, ExpressibleByArrayLiteral {
    public var e0: UInt64, e1: UInt64, e2: UInt64, e3: UInt64

    public init(_ e0: UInt64, _ e1: UInt64, _ e2: UInt64, _ e3: UInt64) { (self.e0, self.e1, self.e2, self.e3) = (e0, e1, e2, e3) }

    public init(arrayLiteral elements: UInt64...) {
        precondition(elements.count == 4, "PAE paging has four PDPTEs")
        self.init(elements[0], elements[1], elements[2], elements[3])
    }

    public subscript(_ i: Int) -> UInt64 {
        switch i & 3 {
        case 0: e0
        case 1: e1
        case 2: e2
        default: e3
        }
    }
}

/// The control state a walk depends on.
public struct PagingControl: Equatable, Sendable {
    public var structure: PagingStructure = .long
    public var cr3: UInt64
    /// CR4.LA57: five levels instead of four.
    public var fiveLevel = false
    /// EFER.NXE: bit 63 is execute-disable (otherwise it is reserved).
    public var executeDisable = true
    /// CR0.WP: supervisor writes honour read-only pages.
    public var writeProtect = true
    public var smep = false, smap = false
    /// CR4.PKE and PKRU (two bits per key: access-disable, write-disable).
    public var protectionKeys = false
    public var pkru: UInt32 = 0
    /// CR4.PKS and IA32_PKRS: the same checks for supervisor pages.
    public var supervisorProtectionKeys = false
    public var pkrs: UInt32 = 0
    /// MAXPHYADDR: physical-address bits above it are reserved in entries.
    public var physicalAddressBits = 46
    /// 1-GiB pages (CPUID.80000001H:EDX.Page1GB).
    public var gigabytePages = true

    public init(cr3: UInt64) { self.cr3 = cr3 }
}

/// One access to translate.
public struct PagingAccess: Equatable, Sendable {
    public enum Kind: Sendable { case read, write, fetch }
    public var kind: Kind
    /// A user-mode access (CPL 3 and not an implicit supervisor access such as a descriptor-table read).
    public var user: Bool
    /// EFLAGS.AC, which lets explicit supervisor accesses reach user pages under SMAP.
    public var alignmentCheckFlag = false
    /// An implicit supervisor access (GDT/IDT/TSS): SMAP applies whatever AC says.
    public var implicitSupervisor = false

    public init(_ kind: Kind, user: Bool) { (self.kind, self.user) = (kind, user) }
}

/// The outcome of a walk.
public enum PagingResult: Equatable, Sendable {
    /// The guest physical address and the size of the page it lies in.
    case translated(gpa: UInt64, pageSize: UInt64)
    /// A #PF with its error code (CR2 is the linear address).
    case pageFault(errorCode: UInt32)
    /// A table read hit memory the VMM cannot read (an exit, not a guest event).
    case unreadable(gpa: UInt64)
}

/// Page-fault error code bits (SDM vol. 3, figure 4-12).
public enum PageFaultCode {
    public static let present: UInt32 = 1, write: UInt32 = 2, user: UInt32 = 4
    public static let reserved: UInt32 = 8, fetch: UInt32 = 16, protectionKey: UInt32 = 32
}

public enum GuestPaging {
    /// Translates `address` under `control` for `access`, setting accessed (and, for a
    /// write, dirty) bits only when the access is allowed.
    public static func translate(_ address: UInt64, _ control: PagingControl, _ access: PagingAccess,
                                 tables: some GuestPageTables) -> PagingResult {
        var leaf: UInt64 = 0
        return translate(address, control, access, tables: tables, leaf: &leaf)
    }

    /// `translate`, which also gives the leaf entry of a walk that translated (its G bit, bit 8,
    /// says whether the translation is global).
    public static func translate(_ address: UInt64, _ control: PagingControl, _ access: PagingAccess,
                                 tables: some GuestPageTables, leaf: inout UInt64) -> PagingResult {
        switch control.structure {
        case .long: return walk(address, control, access, tables: tables, levels: control.fiveLevel ? 5 : 4, root: control.cr3, leaf: &leaf)
        case .pae(let pdptes):
            // The PDPTE registers stand for the top level: not present is a #PF; their reserved
            // bits were checked when CR3 was loaded (#GP then).
            let pdpte = pdptes[Int((address >> 30) & 3)]
            if pdpte & 1 == 0 { return .pageFault(errorCode: errorCode(control, access)) }
            return walk(address & 0xFFFF_FFFF, control, access, tables: tables, levels: 2, root: pdpte, leaf: &leaf)
        case .bits32(let pse):
            return walk32(address & 0xFFFF_FFFF, control, access, tables: tables, pse: pse, leaf: &leaf)
        }
    }

    /// The error code's access bits: W for writes, U for user accesses, I/D for fetches when
    /// execute-disable (NXE with PAE or long mode) or SMEP is on.
    static func errorCode(_ control: PagingControl, _ access: PagingAccess) -> UInt32 {
        var code: UInt32 = 0
        var nx = control.executeDisable
        if case .bits32 = control.structure { nx = false } // 32-bit paging has no execute-disable
        switch access.kind {
        case .write: code |= PageFaultCode.write
        case .fetch: if nx || control.smep { code |= PageFaultCode.fetch }
        case .read: break
        }
        if access.user { code |= PageFaultCode.user }
        return code
    }

    /// 32-bit paging: a page directory and page tables of 4-byte entries; with PSE, 4-MiB pages
    /// whose bits 20:13 hold physical-address bits 39:32 (bit 21 reserved).
    static func walk32(_ address: UInt64, _ control: PagingControl, _ access: PagingAccess,
                       tables: some GuestPageTables, pse: Bool, leaf: inout UInt64) -> PagingResult {
        let code = errorCode(control, access)
        let pdeAddress = (control.cr3 & 0xFFFF_F000) + ((address >> 22) & 0x3FF) * 4
        guard let pdeRaw = tables.readEntry(pdeAddress) else { return .unreadable(gpa: pdeAddress) }
        let pde = pdeRaw & 0xFFFF_FFFF
        if pde & 1 == 0 { return .pageFault(errorCode: code) }
        if pse && pde & 0x80 != 0 {
            let high = (pde >> 13) & 0xFF
            if pde & (1 << 21) != 0 || high >> UInt64(max(0, control.physicalAddressBits - 32)) != 0 {
                return .pageFault(errorCode: code | PageFaultCode.present | PageFaultCode.reserved)
            }
            if let fault = protectionFault(control, access, writable: pde & 2 != 0, userPage: pde & 4 != 0,
                                           executable: true, key: 0) {
                return .pageFault(errorCode: code | PageFaultCode.present | fault)
            }
            tables.setEntryBits(pdeAddress, access.kind == .write ? 0x60 : 0x20)
            leaf = pde
            return .translated(gpa: high << 32 | pde & 0xFFC0_0000 | address & 0x3F_FFFF, pageSize: 4 << 20)
        }
        let pteAddress = (pde & 0xFFFF_F000) + ((address >> 12) & 0x3FF) * 4
        guard let pteRaw = tables.readEntry(pteAddress) else { return .unreadable(gpa: pteAddress) }
        let pte = pteRaw & 0xFFFF_FFFF
        if pte & 1 == 0 { return .pageFault(errorCode: code) }
        if let fault = protectionFault(control, access, writable: pde & pte & 2 != 0, userPage: pde & pte & 4 != 0,
                                       executable: true, key: 0) {
            return .pageFault(errorCode: code | PageFaultCode.present | fault)
        }
        tables.setEntryBits(pdeAddress, 0x20)
        tables.setEntryBits(pteAddress, access.kind == .write ? 0x60 : 0x20)
        leaf = pte
        return .translated(gpa: pte & 0xFFFF_F000 | address & 0xFFF, pageSize: 4096)
    }

    /// The 8-byte-entry walk of PAE (two levels below the PDPTEs) and long mode (four or five).
    static func walk(_ address: UInt64, _ control: PagingControl, _ access: PagingAccess,
                     tables: some GuestPageTables, levels: Int, root: UInt64, leaf: inout UInt64) -> PagingResult {
        let addressMask: UInt64 = ((1 << UInt64(control.physicalAddressBits)) - 1) & ~0xFFF
        // Bits 51:MAXPHYADDR are reserved in every entry (62:52 are ignored, or the protection
        // key in a leaf); bit 63 is reserved without NXE.
        let reservedHigh: UInt64 = ((1 << 52) - 1) & ~((1 << UInt64(control.physicalAddressBits)) - 1)
        let xdReserved: UInt64 = control.executeDisable ? 0 : 1 << 63
        let code = errorCode(control, access)
        var table = root & addressMask
        var writable = true, userPage = true, executable = true
        var visited = VisitedEntries()
        for level in stride(from: levels, through: 1, by: -1) {
            let index = (address >> UInt64(12 + 9 * (level - 1))) & 0x1FF
            let entryAddress = table + index * 8
            guard let entry = tables.readEntry(entryAddress) else { return .unreadable(gpa: entryAddress) }
            if entry & 1 == 0 { return .pageFault(errorCode: code) }
            let pageSize = entry & 0x80 != 0
            // Reserved bits: beyond MAXPHYADDR, XD without NXE, PS where no large page can be,
            // and a large page's address bits below its alignment.
            var reserved = entry & (reservedHigh | xdReserved) != 0
            if pageSize && (level >= 4 || (level == 3 && !control.gigabytePages)) { reserved = true }
            if pageSize && (level == 2 || level == 3) {
                let low: UInt64 = level == 2 ? 0x1F_E000 : 0x3FFF_E000
                if entry & low != 0 { reserved = true }
            }
            if reserved { return .pageFault(errorCode: code | PageFaultCode.present | PageFaultCode.reserved) }
            writable = writable && entry & 2 != 0
            userPage = userPage && entry & 4 != 0
            executable = executable && !(control.executeDisable && entry & (1 << 63) != 0)
            visited.append(entryAddress)
            if level == 1 || pageSize {
                let size: UInt64 = 1 << UInt64(12 + 9 * (level - 1))
                if let fault = protectionFault(control, access, writable: writable, userPage: userPage,
                                               executable: executable, key: UInt32((entry >> 59) & 0xF)) {
                    return .pageFault(errorCode: code | PageFaultCode.present | fault)
                }
                // Allowed: accessed on every entry used, dirty on the leaf for a write.
                for i in 0..<visited.count - 1 { tables.setEntryBits(visited[i], 0x20) }
                tables.setEntryBits(entryAddress, access.kind == .write ? 0x60 : 0x20)
                let base = entry & addressMask & ~(size - 1)
                leaf = entry
                return .translated(gpa: base | (address & (size - 1)), pageSize: size)
            }
            table = entry & addressMask
        }
        preconditionFailure("a walk always ends at a leaf")
    }

    /// The protection checks of SDM vol. 3, 4.6 for a present leaf: extra error-code bits, or nil.
    /// A protection-key violation sets PK even when the access also breaks the page's other
    /// rights (a user write to a read-only page whose key is access-disabled: 0x27).
    static func protectionFault(_ c: PagingControl, _ a: PagingAccess, writable: Bool, userPage: Bool,
                                executable: Bool, key: UInt32) -> UInt32? {
        var violation = false
        if a.user {
            if !userPage { return 0 }
            if a.kind == .write && !writable { violation = true }
            if a.kind == .fetch && !executable { violation = true }
        } else {
            if a.kind == .write && !writable && c.writeProtect { violation = true }
            if a.kind == .fetch && (!executable || (c.smep && userPage)) { violation = true }
            // SMAP: supervisor data access to a user page, unless explicit with EFLAGS.AC set.
            if c.smap && userPage && a.kind != .fetch && (a.implicitSupervisor || !a.alignmentCheckFlag) { violation = true }
        }
        // Protection keys: data accesses only; PKRU for user pages, PKRS for supervisor pages
        // (reached here only by supervisor-mode accesses). A write-disabled key stops a
        // supervisor-mode write only with CR0.WP.
        if a.kind != .fetch && (userPage ? c.protectionKeys : c.supervisorProtectionKeys) {
            let rights = ((userPage ? c.pkru : c.pkrs) >> (2 * key)) & 3
            if rights & 1 != 0 { return PageFaultCode.protectionKey }
            if a.kind == .write && rights & 2 != 0 && (a.user || c.writeProtect) { return PageFaultCode.protectionKey }
        }
        return violation ? 0 : nil
    }
}

/// The addresses of the entries a walk used, in order (five levels at most), kept without an
/// array's allocation.
struct VisitedEntries {
    private var e0: UInt64 = 0, e1: UInt64 = 0, e2: UInt64 = 0, e3: UInt64 = 0, e4: UInt64 = 0
    private(set) var count = 0

    mutating func append(_ a: UInt64) {
        switch count {
        case 0: e0 = a
        case 1: e1 = a
        case 2: e2 = a
        case 3: e3 = a
        default: e4 = a
        }
        count += 1
    }

    subscript(_ i: Int) -> UInt64 {
        switch i {
        case 0: e0
        case 1: e1
        case 2: e2
        case 3: e3
        default: e4
        }
    }
}
