import GuestMemory
import NestedPaging

// The types of the layers below that the VMM's API hands out, under the VMM's name, so that
// its users (Replay, the command line) need not import those layers.

/// Host memory a VM's frames come from (GuestMemory).
public typealias HostPhysicalMemory = GuestMemory.HostPhysicalMemory
/// A VM's guest-physical memory map (GuestMemory).
public typealias MemoryMap = GuestMemory.MemoryMap
/// What a nested page fault was doing: read, write or execute (NestedPaging).
public typealias AccessType = NestedPaging.AccessType
/// One range of the guest-physical map: RAM, a device's (MMIO) or reserved (GuestMemory).
public typealias MemoryRange = GuestMemory.MemoryRange
