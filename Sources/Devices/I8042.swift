/// The i8042 keyboard controller with a PS/2 keyboard and mouse that answer their commands,
/// as QEMU's pckbd and Linux's i8042 and atkbd/psmouse drivers expect, so that a kernel probes
/// them without running into its timeouts (each unanswered command is a 500 ms busy wait in
/// Linux's i8042_wait_read):
///
/// - status (0x64 read): output full (0), system flag (2), last write a command (3), not
///   inhibited (4), the output byte is the mouse's (5);
/// - controller commands (0x64 write): read/write the command byte (0x20/0x60), self-test
///   (0xAA -> 0x55), interface tests (0xAB, 0xA9 -> 0), port enable/disable (0xAD/0xAE,
///   0xA7/0xA8), the output port (0xD0/0xD1), loopback through either port (0xD2/0xD3), a byte
///   for the mouse (0xD4), and the reset line (0xFE, or the output port's bit 0 cleared),
///   which resets the machine (`onReset`);
/// - device commands (0x60 write): reset (ACK, 0xAA), identify, enable/disable, and the
///   setting commands with one parameter, all acknowledged (0xFA).
///
/// No key is ever pressed: the console is the UART. Output bytes queue in order; the head
/// raises IRQ 1 (keyboard) or IRQ 12 (mouse) when the command byte enables that interrupt.
public final class I8042: PortDevice {
    /// Queued output bytes, each with whether it comes from the mouse (bit 8).
    var output: [UInt16] = []
    var commandByte: UInt8 = 0x61
    /// A controller command waiting for its data byte (0x60, 0xD1-0xD4).
    var pendingCommand: UInt8?
    /// A device command waiting for its parameter (keyboard: low byte; mouse: bit 8 set).
    var pendingDeviceCommand: UInt16?
    var outputPort: UInt8 = 0x03
    var lastWasCommand = true
    var keyboardLevel = false, mouseLevel = false

    public var onReset: () -> Void = {}
    public var keyboardIRQ: IRQLine = .none
    public var mouseIRQ: IRQLine = .none
    public init() {}

    /// The data port (0x60) and the status/command port (0x64), apart on the bus.
    public var dataPort: PortDevice { Port(controller: self, offset: 0) }
    public var commandPort: PortDevice { Port(controller: self, offset: 4) }
    final class Port: PortDevice {
        let controller: I8042, offset: UInt16
        init(controller: I8042, offset: UInt16) { (self.controller, self.offset) = (controller, offset) }
        func portRead(offset: UInt16, size: Int) -> UInt32 { controller.portRead(offset: self.offset, size: size) }
        func portWrite(offset: UInt16, size: Int, value: UInt32) { controller.portWrite(offset: self.offset, size: size, value: value) }
    }

    public func portRead(offset: UInt16, size: Int) -> UInt32 {
        if offset == 0 {
            guard !output.isEmpty else { return 0 }
            let v = UInt32(output.removeFirst() & 0xFF)
            updateLines(newHead: true)
            return v
        }
        let head = output.first
        let full: UInt32 = head != nil ? 0x01 : 0, mouse: UInt32 = (head ?? 0) & 0x100 != 0 ? 0x20 : 0
        return full | UInt32(commandByte & 0x04) | (lastWasCommand ? 0x08 : 0) | 0x10 | mouse
    }

    public func portWrite(offset: UInt16, size: Int, value: UInt32) {
        let v = UInt8(truncatingIfNeeded: value)
        lastWasCommand = offset != 0
        if offset == 0 { writeData(v) } else { command(v) }
    }

    func command(_ v: UInt8) {
        pendingCommand = nil
        switch v {
        case 0x20: queue(commandByte)
        case 0x60, 0xD1, 0xD2, 0xD3, 0xD4: pendingCommand = v
        case 0xA7: commandByte |= 0x20
        case 0xA8: commandByte &= ~0x20
        case 0xA9, 0xAB: queue(0x00)                // interface test passed
        case 0xAA: commandByte |= 0x04; queue(0x55)  // self-test passed; the system flag
        case 0xAD: commandByte |= 0x10
        case 0xAE: commandByte &= ~0x10
        case 0xC0: queue(0x00)                      // the input port
        case 0xD0: queue(outputPort)
        case 0xF0...0xFF: if v & 1 == 0 { onReset() } // pulse output lines: bit 0 is the reset line
        default: break
        }
    }

    func writeData(_ v: UInt8) {
        let pending = pendingCommand
        pendingCommand = nil
        switch pending {
        case 0x60:
            commandByte = v
            updateLines(newHead: false)
        case 0xD1:
            outputPort = v
            if v & 1 == 0 { onReset() }
        case 0xD2: queue(v)
        case 0xD3: queue(v, mouse: true)
        case 0xD4: mouseCommand(v)
        default: keyboardCommand(v)
        }
    }

    /// The keyboard's answers (scan code set 2, an MF2 keyboard).
    func keyboardCommand(_ v: UInt8) {
        if let p = pendingDeviceCommand, p & 0x100 == 0 {
            pendingDeviceCommand = nil
            queue(0xFA)
            if p == 0xF0 && v == 0 { queue(0x02) }    // which scan code set: 2
            return
        }
        switch v {
        case 0xED, 0xF0, 0xF3: pendingDeviceCommand = UInt16(v); queue(0xFA)
        case 0xEE: queue(0xEE)                      // echo
        case 0xF2: queue(0xFA); queue(0xAB); queue(0x83)
        case 0xF4, 0xF5, 0xF6, 0xF7, 0xF8, 0xF9, 0xFA: queue(0xFA)
        case 0xFF: queue(0xFA); queue(0xAA)         // reset: self-test passed
        default: queue(0xFE)                        // resend
        }
    }

    /// The mouse's answers (a standard PS/2 mouse, ID 0).
    func mouseCommand(_ v: UInt8) {
        if let p = pendingDeviceCommand, p & 0x100 != 0 {  // the parameter of E8 or F3
            pendingDeviceCommand = nil
            queue(0xFA, mouse: true)
            return
        }
        switch v {
        case 0xE8, 0xF3: pendingDeviceCommand = 0x100 | UInt16(v); queue(0xFA, mouse: true)
        case 0xE9: for b: UInt8 in [0xFA, 0x00, 0x02, 0x64] { queue(b, mouse: true) } // status: resolution 2, rate 100
        case 0xEB: for b: UInt8 in [0xFA, 0x08, 0x00, 0x00] { queue(b, mouse: true) } // a packet: no motion
        case 0xF2: queue(0xFA, mouse: true); queue(0x00, mouse: true)
        case 0xFF: for b: UInt8 in [0xFA, 0xAA, 0x00] { queue(b, mouse: true) }
        default: queue(0xFA, mouse: true)
        }
    }

    func queue(_ b: UInt8, mouse: Bool = false) {
        output.append(UInt16(b) | (mouse ? 0x100 : 0))
        if output.count == 1 { updateLines(newHead: true) }
    }

    /// Drives IRQ 1 or 12 from the head byte; a new head is a new edge.
    func updateLines(newHead: Bool) {
        let head = output.first
        let kbd = head.map { $0 & 0x100 == 0 && commandByte & 0x01 != 0 } ?? false
        let mouse = head.map { $0 & 0x100 != 0 && commandByte & 0x02 != 0 } ?? false
        if keyboardLevel && (newHead || !kbd) { keyboardLevel = false; keyboardIRQ.lower() }
        if mouseLevel && (newHead || !mouse) { mouseLevel = false; mouseIRQ.lower() }
        if kbd && !keyboardLevel { keyboardLevel = true; keyboardIRQ.raise() }
        if mouse && !mouseLevel { mouseLevel = true; mouseIRQ.raise() }
    }
}
