import Devices
import Testing

/// The 8254's counter 0 as IRQ 0 sees it, driven register by register with a clock that only
/// moves when told.
@Suite struct PITTests {
    /// Counter 0 loaded in `mode` with `count`, and the edges its IRQ line saw.
    final class Bench {
        let clock = GuestClock()
        var edges: [Bool] = []
        lazy var pit = PIT8254(clock: clock, irq0: IRQLine { [unowned self] level in edges.append(level) })
        func load(mode: Int, count: UInt16) {
            pit.portWrite(offset: 3, size: 1, value: UInt32(0x30 | mode << 1))  // counter 0, LSB then MSB
            pit.portWrite(offset: 0, size: 1, value: UInt32(count & 0xFF))
            pit.portWrite(offset: 0, size: 1, value: UInt32(count >> 8))
        }
        /// Rising edges seen: each is an interrupt request to an edge-triggered 8259A.
        var risingEdges: Int { zip([false] + edges, edges).filter { !$0 && $1 }.count }
    }

    /// Mode 4 (Linux's one-shot clock event): OUT goes low for one tick at terminal count and
    /// rises again; a look at each side of the 838 ns strobe (a port access in guest time is
    /// 1 µs) still sees the edge.
    @Test func strobeSteppedOverStillInterrupts() {
        let b = Bench()
        b.clock.now = 1_000_000
        b.load(mode: 4, count: 20)                        // terminal count after 16.76 µs
        let before = b.risingEdges
        b.clock.now += 16_700                             // tick 19: just before the strobe
        b.pit.advance()
        b.clock.now += 1_000                              // tick 21: past it, never inside it
        b.pit.advance()
        #expect(b.risingEdges == before + 1)
        // It happens once: the counter wraps through 0xFFFF without another strobe.
        b.clock.now += 10_000_000
        b.pit.advance()
        #expect(b.risingEdges == before + 1)
        #expect(b.pit.nextEvent() == nil)
    }

    /// Looking inside the strobe, as the machine's scheduled wake does: low, then high.
    @Test func strobeSeenAtItsTicks() throws {
        let b = Bench()
        b.load(mode: 4, count: 20)
        let low = try #require(b.pit.nextEvent())
        b.clock.now = low
        b.pit.advance()
        #expect(b.edges.last == false)
        b.clock.now = try #require(b.pit.nextEvent())
        b.pit.advance()
        #expect(b.edges.last == true)
        #expect(b.risingEdges == 2)                         // the load's initial high, then the strobe's end
    }
}
