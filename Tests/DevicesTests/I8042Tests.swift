import Devices
import Testing

/// The i8042 answers the probe Linux's i8042 and atkbd drivers make (drivers/input/serio/
/// i8042.c), so that none of its 500 ms busy waits runs out; the byte sequences are the ones
/// the driver checks for (and QEMU's pckbd gives).
@Suite struct I8042Tests {
    final class Lines {
        var kbd: [Bool] = [], mouse: [Bool] = []
    }

    func make() -> (I8042, Lines) {
        let c = I8042(), lines = Lines()
        c.keyboardIRQ = IRQLine { lines.kbd.append($0) }
        c.mouseIRQ = IRQLine { lines.mouse.append($0) }
        return (c, lines)
    }

    func command(_ c: I8042, _ v: UInt8) { c.portWrite(offset: 4, size: 1, value: UInt32(v)) }
    func data(_ c: I8042, _ v: UInt8) { c.portWrite(offset: 0, size: 1, value: UInt32(v)) }
    func status(_ c: I8042) -> UInt32 { c.portRead(offset: 4, size: 1) }
    /// Every byte waiting, with whether the status said it is the mouse's.
    func drain(_ c: I8042) -> [(UInt8, Bool)] {
        var out: [(UInt8, Bool)] = []
        while status(c) & 1 != 0 { let s = status(c); out.append((UInt8(c.portRead(offset: 0, size: 1)), s & 0x20 != 0)) }
        return out
    }

    @Test func controllerProbe() {
        let (c, _) = make()
        #expect(status(c) & 0x10 != 0, "not inhibited (Linux: \"Keylock active\" otherwise)")
        #expect(drain(c).isEmpty)
        command(c, 0xAA)
        #expect(drain(c).map(\.0) == [0x55] && status(c) & 0x04 != 0)
        command(c, 0x20)
        let ctr = drain(c)
        #expect(ctr.map(\.0) == [0x65] && !ctr[0].1, "the reset value with the system flag the self-test set")
        command(c, 0x60); data(c, 0x47)
        command(c, 0x20)
        #expect(drain(c).map(\.0) == [0x47])
        // AUX loopback (Linux's i8042_check_aux): the byte comes back as the mouse's.
        command(c, 0xD3); data(c, 0x5A)
        let loop = drain(c)
        #expect(loop.count == 1 && loop[0].0 == 0x5A && loop[0].1)
        command(c, 0xA9)
        #expect(drain(c).map(\.0) == [0x00])
        command(c, 0xAB)
        #expect(drain(c).map(\.0) == [0x00])
    }

    @Test func keyboardAndMouseAnswer() {
        let (c, _) = make()
        data(c, 0xFF)                       // keyboard reset
        #expect(drain(c).map(\.0) == [0xFA, 0xAA])
        data(c, 0xF2)                       // identify: an MF2 keyboard, translated
        #expect(drain(c).map(\.0) == [0xFA, 0xAB, 0x83])
        data(c, 0xED); data(c, 0x00)        // LEDs: command and parameter acknowledged
        #expect(drain(c).map(\.0) == [0xFA, 0xFA])
        command(c, 0xD4); data(c, 0xF2)     // mouse identify: a standard mouse
        let id = drain(c)
        #expect(id.map(\.0) == [0xFA, 0x00] && id.allSatisfy(\.1))
        command(c, 0xD4); data(c, 0xFF)
        #expect(drain(c).map(\.0) == [0xFA, 0xAA, 0x00])
    }

    @Test func interruptsFollowTheCommandByte() {
        let (c, lines) = make()
        command(c, 0x60); data(c, 0x03)     // both interrupts enabled
        data(c, 0xF2)                        // three keyboard bytes: an edge for each
        _ = drain(c)
        #expect(lines.kbd == [true, false, true, false, true, false])
        command(c, 0xD4); data(c, 0xF2)
        _ = drain(c)
        #expect(lines.mouse == [true, false, true, false])
        command(c, 0x60); data(c, 0x00)     // disabled: bytes wait, no line moves
        let before = lines.kbd.count
        data(c, 0xF4)
        #expect(lines.kbd.count == before && status(c) & 1 != 0)
    }

    @Test func resetLine() {
        let (c, _) = make()
        var resets = 0
        c.onReset = { resets += 1 }
        command(c, 0xFE)
        command(c, 0xD1); data(c, 0x02)     // output port with bit 0 (reset) low
        command(c, 0xD1); data(c, 0x03)
        #expect(resets == 2)
    }
}
