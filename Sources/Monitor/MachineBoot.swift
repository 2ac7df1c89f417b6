import Devices
import Foundation
import VMM
import X86
import X86CPU

// Booting: a kernel image chosen by what it is, its load plan written to guest memory, and
// the entry state (with the long-mode page tables a 64-bit entry needs).

extension Machine {
    /// Loads a plan and sets the vCPU to the protocol's entry state.
    public func load(_ plan: LoadPlan) throws {
        for s in plan.segments {
            try vm.writePhysical(s.address, s.bytes)
        }
        var s = vcpu.getState()
        for (n, v) in plan.registers { s.gprs[n] = v }
        s.rip = plan.entry
        s.rflags = 2
        switch plan.mode {
        case .real:
            s[.cs] = .real(0, code: true)
        case .protected32:
            // Multiboot's state: flat 4 GiB 32-bit code and data segments, PE on, paging off.
            s.cr0 = CR0Bit.pe | CR0Bit.et
            let code = VCPUSegment(selector: 0x10, base: 0, limit: 0xFFFF_FFFF, attributes: 0xC09B)
            let data = VCPUSegment(selector: 0x18, base: 0, limit: 0xFFFF_FFFF, attributes: 0xC093)
            for r in [SegmentRegister.ds, .es, .fs, .gs, .ss] { s[r] = data }
            s[.cs] = code
        case .long64:
            try buildLongModeTables(&s, at: (plan.end + 0xFFF) & ~0xFFF)
        case .linux64:
            try buildLongModeTables(&s, at: GuestLoader.linuxTables, linux: true)
        }
        vcpu.setState(s)
    }

    /// A GDT and identity-mapped page tables (4 GiB in 2 MiB pages) in seven pages at `base`,
    /// and the vCPU in 64-bit mode at CPL 0. ELF64 puts them after the image, with code at
    /// selector 0x08 and data at 0x10; Linux's protocol wants __BOOT_CS 0x10 and __BOOT_DS 0x18.
    func buildLongModeTables(_ s: inout VCPUState, at base: UInt64, linux: Bool = false) throws {
        let gdt = base, pml4 = base + 0x1000, pdpt = base + 0x2000, pd = base + 0x3000
        var tables = [UInt8](repeating: 0, count: 0x7000)
        func put(_ offset: Int, _ v: UInt64) {
            for i in 0..<8 { tables[offset + i] = UInt8(truncatingIfNeeded: v >> UInt64(8 * i)) }
        }
        let codeSelector: UInt16 = linux ? 0x10 : 0x08, dataSelector: UInt16 = linux ? 0x18 : 0x10
        put(0x08, 0x00AF_9B00_0000_FFFF) // 64-bit code
        put(Int(codeSelector), 0x00AF_9B00_0000_FFFF)
        put(Int(dataSelector), 0x00CF_9300_0000_FFFF) // data
        put(0x1000, pdpt | 3)
        for i in 0..<4 { put(0x2000 + 8 * i, (pd + UInt64(i) * 0x1000) | 3) }
        for i in 0..<2048 { put(0x3000 + 8 * i, UInt64(i) << 21 | 0x83) }
        try vm.writePhysical(base, tables)
        s.gdtr = VCPUTableRegister(base: gdt, limit: UInt16(dataSelector + 7))
        s.cr3 = pml4
        s.cr4 = CR4Bit.pae
        s.efer = EFERBit.lme | EFERBit.lma
        s.cr0 = CR0Bit.pe | CR0Bit.et | CR0Bit.pg
        let data = VCPUSegment(selector: dataSelector, base: 0, limit: 0xFFFF_FFFF, attributes: 0xC093)
        for r in [SegmentRegister.ds, .es, .fs, .gs, .ss] { s[r] = data }
        s[.cs] = VCPUSegment(selector: codeSelector, base: 0, limit: 0xFFFF_FFFF, attributes: 0xA09B)
    }

    /// Loads a kernel image by what it is: a Linux kernel (a bzImage or a vmlinux ELF file), a
    /// Multiboot kernel (header in the first 8 KiB), another ELF file, or else a flat binary run as a boot sector (real mode at 0000:7C00).
    static let takesInitrd = "a kernel that takes an initrd (a Linux bzImage or vmlinux, or a Multiboot kernel)"

    public func boot(image: [UInt8]) throws {
        let ramTop = configuration.memorySize
        let memory = [BootMemoryRegion(base: 0, length: 0x9F000, available: true),
                      BootMemoryRegion(base: 0x100000, length: ramTop - 0x100000, available: true)]
        let modules = configuration.initrd.map { [BootModule(bytes: $0, commandLine: "initrd")] } ?? []
        let plan: LoadPlan
        if GuestLoader.isBzImage(image) || GuestLoader.isLinuxELF(image) {
            // The e820 map: low RAM, the legacy hole (VGA, option ROMs, BIOS), RAM above 1 MiB.
            let e820 = [memory[0], BootMemoryRegion(base: 0x9F000, length: 0x100000 - 0x9F000, available: false), memory[1]]
            plan = try GuestLoader.linux(image, commandLine: configuration.commandLine, initrd: configuration.initrd, memory: e820)
        } else if let multiboot = try? GuestLoader.multiboot(image, commandLine: configuration.commandLine, modules: modules, memory: memory) {
            plan = multiboot
        } else if image.starts(with: [0x7F, 0x45, 0x4C, 0x46]) {
            plan = try GuestLoader.elf(image)
            if configuration.initrd != nil { throw LoaderError.badMagic(what: Self.takesInitrd) }
        } else if configuration.initrd != nil {
            // Only a Linux or Multiboot kernel takes an initrd: anything else given one is a mistake.
            throw LoaderError.badMagic(what: Self.takesInitrd)
        } else {
            plan = try GuestLoader.flat(image, at: 0x7C00)
        }
        // Firmware's part: the ACPI tables in the BIOS area, for power-off and suspend, and the
        // PCI bus when it has devices.
        let tables = ACPITables.build(processors: processors.count, pci: pciInterrupts)
        try vm.writePhysical(ACPITables.base, tables)
        try load(plan)
        setFirmwareState()
        if input == nil && !configuration.serialInput.isEmpty { input = ScheduledInput(serial: configuration.serialInput) }
    }
}
