import X86

// Virtio over PCI, version 1 ("modern", Virtual I/O Device (VIRTIO) Version 1.2, 4.1): a PCI
// function with vendor 0x1AF4 and device 0x1040 + the device type, whose memory BAR holds the
// transport's four structures, each found through a vendor-specific PCI capability
// (4.1.4): the common configuration (features, status, the queues), the ISR status, the
// device's own configuration and the notification area. The interrupt is INTx (pin A): the
// ISR's bits say why, and reading the ISR clears them and lowers the line (4.1.4.5).
//
// The device behind it (`VirtioDevice`) does the work when the driver notifies a queue,
// synchronously, through guest memory (`GuestPhysicalAccess`). A driver that breaks the
// queue rules gets DEVICE_NEEDS_RESET (2.1.2) and the error is kept for the monitor to report;
// the host goes on.

/// A virtio device type behind the PCI transport.
public protocol VirtioDevice: AnyObject {
    /// The virtio device ID (5): 2 block, 4 entropy, 9 9P transport.
    var deviceType: UInt16 { get }
    /// The PCI class code (base class, subclass, programming interface).
    var classCode: UInt32 { get }
    /// The device's own feature bits (the transport adds VERSION_1, INDIRECT_DESC, EVENT_IDX).
    var deviceFeatures: UInt64 { get }
    /// How many queues, and the largest size the driver may give each.
    var queueCount: Int { get }
    var queueMaxSize: Int { get }
    /// The device-specific configuration structure.
    func configRead(offset: Int, size: Int) -> UInt64
    func configWrite(offset: Int, size: Int, value: UInt64)
    /// The driver notified queue `index`: take what it made available, complete it, and return
    /// whether the driver wants an interrupt for what was used.
    func process(queue: Virtqueue, index: Int) throws(VirtqueueError) -> Bool
    /// The driver reset the device (status 0): back to the state before the driver found it.
    func reset()
}

/// Feature bits every device here offers (6).
public enum VirtioFeature {
    public static let indirectDescriptors: UInt64 = 1 << 28, eventIndex: UInt64 = 1 << 29, version1: UInt64 = 1 << 32
}

/// The device status bits (2.1).
public enum VirtioStatus {
    public static let acknowledge: UInt8 = 1, driver: UInt8 = 2, driverOK: UInt8 = 4, featuresOK: UInt8 = 8
    public static let needsReset: UInt8 = 64, failed: UInt8 = 128
}

/// One PCI virtio function's transport: the BAR's registers and the queues.
public final class VirtioPCI: MMIODevice {
    public let device: VirtioDevice
    let memory: GuestPhysicalAccess
    /// Raises or lowers the function's INTx line.
    public var setInterruptLine: (Bool) -> Void = { _ in }

    /// Where each structure lies in the BAR, and the BAR's size.
    public enum Layout {
        public static let common: UInt64 = 0x0000, isr: UInt64 = 0x1000, deviceConfig: UInt64 = 0x2000
        public static let notify: UInt64 = 0x3000, notifyMultiplier: UInt64 = 4, barSize: UInt64 = 0x4000
    }

    struct QueueSetup {
        var size: UInt16, enabled = false, descriptors: UInt64 = 0, driver: UInt64 = 0, device: UInt64 = 0, vector: UInt16 = 0xFFFF
    }

    var deviceFeatureSelect: UInt32 = 0, driverFeatureSelect: UInt32 = 0
    public private(set) var driverFeatures: UInt64 = 0
    public private(set) var status: UInt8 = 0
    var configGeneration: UInt8 = 0
    var queueSelect: UInt16 = 0
    var configVector: UInt16 = 0xFFFF
    var setups: [QueueSetup]
    public private(set) var queues: [Virtqueue?]
    /// The ISR status: bit 0 a used buffer, bit 1 a configuration change.
    public private(set) var isr: UInt8 = 0
    /// The rule a driver broke (the device then needs a reset), for the monitor to report.
    public private(set) var lastError: VirtqueueError?

    public init(device: VirtioDevice, memory: GuestPhysicalAccess) {
        self.device = device
        self.memory = memory
        setups = Array(repeating: QueueSetup(size: UInt16(device.queueMaxSize)), count: device.queueCount)
        queues = Array(repeating: nil, count: device.queueCount)
    }

    /// Everything the device offers.
    public var offeredFeatures: UInt64 {
        device.deviceFeatures | VirtioFeature.version1 | VirtioFeature.indirectDescriptors | VirtioFeature.eventIndex
    }

    /// The PCI function: its IDs, one 64-bit memory BAR at `barBase`, pin A on `irq`, and
    /// the four virtio capabilities (4.1.4).
    public func pciFunction(barBase: UInt64, irq: UInt8) -> PCIFunctionDescription {
        var d = PCIFunctionDescription(vendor: 0x1AF4, device: 0x1040 + device.deviceType, classCode: device.classCode, revision: 1)
        d.subsystemVendor = 0x1AF4
        d.subsystem = 0x1100
        d.bars = [PCIBar(index: 0, base: barBase, size: Layout.barSize, is64: true)]
        d.interruptPin = 1
        d.interruptLine = irq
        func le32(_ v: UInt64) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: v >> (8 * UInt64($0))) } }
        func capability(_ type: UInt8, _ offset: UInt64, _ length: UInt64, extra: [UInt8] = []) -> (id: UInt8, body: [UInt8]) {
            (0x09, [UInt8(16 + extra.count), type, 0, 0, 0, 0] + le32(offset) + le32(length) + extra)
        }
        d.capabilities = [
            capability(1, Layout.common, 0x40),
            capability(2, Layout.notify, Layout.notifyMultiplier * UInt64(device.queueCount), extra: le32(Layout.notifyMultiplier)),
            capability(3, Layout.isr, 1),
            capability(4, Layout.deviceConfig, 0x1000),
        ]
        return d
    }

    // MARK: the BAR

    public func mmioRead(offset: UInt64, size: Int) -> UInt64 {
        switch offset {
        case Layout.common..<Layout.common + 0x40: return commonRead(Int(offset - Layout.common), size)
        case Layout.isr:
            let v = isr
            if v != 0 {
                isr = 0
                setInterruptLine(false)
            }
            return UInt64(v)
        case Layout.deviceConfig..<Layout.deviceConfig + 0x1000: return device.configRead(offset: Int(offset - Layout.deviceConfig), size: size)
        default: return 0
        }
    }

    public func mmioWrite(offset: UInt64, size: Int, value: UInt64) {
        switch offset {
        case Layout.common..<Layout.common + 0x40: commonWrite(Int(offset - Layout.common), size, value)
        case Layout.deviceConfig..<Layout.deviceConfig + 0x1000:
            device.configWrite(offset: Int(offset - Layout.deviceConfig), size: size, value: value)
        case Layout.notify..<Layout.notify + Layout.notifyMultiplier * UInt64(device.queueCount):
            notify(Int((offset - Layout.notify) / Layout.notifyMultiplier))
        default: break
        }
    }

    /// The common configuration structure (4.1.4.3), field by field; a field is read whole
    /// and a part of it from its bytes.
    func commonRead(_ offset: Int, _ size: Int) -> UInt64 {
        let (start, width) = Self.commonField(offset)
        let whole = commonValue(start)
        let shift = UInt64(8 * (offset - start))
        let mask: UInt64 = size >= 8 ? ~0 : (1 << UInt64(8 * size)) - 1
        return width == 0 ? 0 : (whole >> shift) & mask
    }

    /// The field holding byte `offset`: its first byte and width (0 for none).
    static func commonField(_ offset: Int) -> (Int, Int) {
        switch offset {
        case 0x00..<0x10: return (offset & ~3, 4)
        case 0x10..<0x14: return (offset & ~1, 2)
        case 0x14, 0x15: return (offset, 1)
        case 0x16..<0x20: return (offset & ~1, 2)
        case 0x20..<0x38: return (offset & ~7, 8)
        case 0x38..<0x3C: return (offset & ~1, 2)
        default: return (offset, 0)
        }
    }

    var selected: QueueSetup? { Int(queueSelect) < setups.count ? setups[Int(queueSelect)] : nil }

    func commonValue(_ start: Int) -> UInt64 {
        switch start {
        case 0x00: return UInt64(deviceFeatureSelect)
        case 0x04: return deviceFeatureSelect < 2 ? (offeredFeatures >> (32 * UInt64(deviceFeatureSelect))) & 0xFFFF_FFFF : 0
        case 0x08: return UInt64(driverFeatureSelect)
        case 0x0C: return driverFeatureSelect < 2 ? (driverFeatures >> (32 * UInt64(driverFeatureSelect))) & 0xFFFF_FFFF : 0
        case 0x10: return UInt64(configVector)
        case 0x12: return UInt64(device.queueCount)
        case 0x14: return UInt64(status)
        case 0x15: return UInt64(configGeneration)
        case 0x16: return UInt64(queueSelect)
        case 0x18: return UInt64(selected?.size ?? 0)
        case 0x1A: return UInt64(selected?.vector ?? 0xFFFF)
        case 0x1C: return selected?.enabled == true ? 1 : 0
        case 0x1E: return UInt64(queueSelect)              // queue_notify_off: the queue's index
        case 0x20: return selected?.descriptors ?? 0
        case 0x28: return selected?.driver ?? 0
        case 0x30: return selected?.device ?? 0
        case 0x38: return UInt64(queueSelect)              // queue_notify_data
        default: return 0
        }
    }

    func commonWrite(_ offset: Int, _ size: Int, _ value: UInt64) {
        let (start, width) = Self.commonField(offset)
        guard width > 0 else { return }
        // A partial write merges into the field (the 64-bit addresses come as two halves).
        let shift = UInt64(8 * (offset - start))
        let lanes: UInt64 = (size >= 8 ? ~0 : (1 << UInt64(8 * size)) - 1) << shift
        let v = commonValue(start) & ~lanes | (value << shift) & lanes
        let q = Int(queueSelect)
        let queueWritable = q < setups.count && !setups[q].enabled && status & VirtioStatus.driverOK == 0
        switch start {
        case 0x00: deviceFeatureSelect = UInt32(truncatingIfNeeded: v)
        case 0x08: driverFeatureSelect = UInt32(truncatingIfNeeded: v)
        case 0x0C:
            guard driverFeatureSelect < 2, status & VirtioStatus.featuresOK == 0 else { return }
            let s = 32 * UInt64(driverFeatureSelect)
            driverFeatures = driverFeatures & ~(0xFFFF_FFFF << s) | (v & 0xFFFF_FFFF) << s
        case 0x10: configVector = UInt16(truncatingIfNeeded: v)
        case 0x14: writeStatus(UInt8(truncatingIfNeeded: v))
        case 0x16: queueSelect = UInt16(truncatingIfNeeded: v)
        case 0x18 where queueWritable:
            // A size the driver picks: a power of two no larger than the maximum (2.7).
            let n = Int(UInt16(truncatingIfNeeded: v))
            if n > 0 && n <= device.queueMaxSize && n & (n - 1) == 0 { setups[q].size = UInt16(n) }
        case 0x1A where q < setups.count: setups[q].vector = UInt16(truncatingIfNeeded: v)
        case 0x1C where queueWritable && v & 1 == 1: enableQueue(q)
        case 0x20 where queueWritable: setups[q].descriptors = v
        case 0x28 where queueWritable: setups[q].driver = v
        case 0x30 where queueWritable: setups[q].device = v
        default: break
        }
    }

    /// The driver writes the status: 0 resets; FEATURES_OK holds only for features the device
    /// offered and VERSION_1 among them (3.1.1); bits are never cleared otherwise.
    func writeStatus(_ v: UInt8) {
        if v == 0 { return resetDevice() }
        var s = v | status & VirtioStatus.needsReset
        if s & VirtioStatus.featuresOK != 0 && status & VirtioStatus.featuresOK == 0 {
            let ok = driverFeatures & ~offeredFeatures == 0 && driverFeatures & VirtioFeature.version1 != 0
            if !ok { s &= ~VirtioStatus.featuresOK }
        }
        status = s
    }

    func enableQueue(_ q: Int) {
        let s = setups[q]
        do throws(VirtqueueError) {
            queues[q] = try Virtqueue(size: Int(s.size), descriptors: s.descriptors, available: s.driver, used: s.device,
                                      eventIndex: driverFeatures & VirtioFeature.eventIndex != 0, memory: memory)
            setups[q].enabled = true
        } catch {
            fail(error)
        }
    }

    /// The driver notified queue `q`: the device processes it (only once DRIVER_OK is set).
    func notify(_ q: Int) {
        guard q < queues.count, let queue = queues[q], status & VirtioStatus.driverOK != 0,
              status & VirtioStatus.needsReset == 0 else { return }
        do throws(VirtqueueError) {
            if try device.process(queue: queue, index: q) { raise(bit: 1) }
        } catch {
            fail(error)
        }
    }

    /// A queue broke a rule: DEVICE_NEEDS_RESET, and a configuration-change interrupt.
    func fail(_ error: VirtqueueError) {
        lastError = error
        status |= VirtioStatus.needsReset
        configGeneration &+= 1
        raise(bit: 2)
    }

    func raise(bit: UInt8) {
        isr |= bit
        setInterruptLine(true)
    }

    func resetDevice() {
        (deviceFeatureSelect, driverFeatureSelect, driverFeatures, status, queueSelect, configVector) = (0, 0, 0, 0, 0, 0xFFFF)
        setups = Array(repeating: QueueSetup(size: UInt16(device.queueMaxSize)), count: device.queueCount)
        queues = Array(repeating: nil, count: device.queueCount)
        if isr != 0 { isr = 0; setInterruptLine(false) }
        device.reset()
    }
}

/// A virtio device whose own state a snapshot holds.
public protocol VirtioDeviceState: VirtioDevice {
    func state(_ s: inout StateCoder)
}

extension VirtioPCI: StateCoding {
    /// The transport's registers, each queue's setup and where the device stands in it, then
    /// the device's own state. A restored enabled queue is made again over the same rings.
    public func state(_ s: inout StateCoder) {
        s.field(&deviceFeatureSelect); s.field(&driverFeatureSelect); s.field(&driverFeatures); s.field(&status)
        s.field(&configGeneration); s.field(&queueSelect); s.field(&configVector); s.field(&isr)
        for q in setups.indices {
            s.field(&setups[q].size); s.field(&setups[q].enabled); s.field(&setups[q].descriptors)
            s.field(&setups[q].driver); s.field(&setups[q].device); s.field(&setups[q].vector)
            var last = queues[q]?.lastAvailable ?? 0, used = queues[q]?.usedIndex ?? 0
            s.field(&last); s.field(&used)
            if !s.isSaving {
                queues[q] = nil
                let u = setups[q]
                if u.enabled {
                    queues[q] = try? Virtqueue(size: Int(u.size), descriptors: u.descriptors, available: u.driver, used: u.device,
                                               eventIndex: driverFeatures & VirtioFeature.eventIndex != 0, memory: memory)
                    queues[q]?.restore(lastAvailable: last, usedIndex: used)
                }
            }
        }
        (device as? VirtioDeviceState)?.state(&s)
    }
}
