import Foundation
import VMM
import Monitor

/// The interactive console of `softvmm run` when standard input is a terminal, as QEMU's
/// `-nographic` behaves: the terminal is put in raw mode (every key, Ctrl-C included, goes to
/// the guest's COM1), restored at the end, and Ctrl-A X quits (Ctrl-A Ctrl-A sends a Ctrl-A).
///
/// The keys come in through the machine's one input seam: each is due at the point the
/// machine asks, so a recording of the session holds it, and a replay delivers it there.
final class TerminalInput: InputFeed {
    let fd: Int32
    var pending: [UInt8] = []
    var afterEscape = false
    let now: () -> RunPoint
    let quit: () -> Void
    var quitting = false
    private var saved = termios()
    private var raw = false

    init(fd: Int32 = 0, now: @escaping () -> RunPoint, quit: @escaping () -> Void) {
        (self.fd, self.now, self.quit) = (fd, now, quit)
    }

    /// Raw mode (cfmakeraw: no echo, no line editing, no signals from keys, no output processing).
    func enterRawMode() {
        guard tcgetattr(fd, &saved) == 0 else { return }
        var t = saved
        cfmakeraw(&t)
        raw = tcsetattr(fd, TCSANOW, &t) == 0
    }

    func restore() {
        if raw { _ = tcsetattr(fd, TCSANOW, &saved); raw = false }
    }

    var nextDue: RunPoint? {
        if pending.isEmpty { read(timeoutMilliseconds: 0) }
        return pending.isEmpty ? nil : now()
    }

    func take() -> ExternalInput? {
        guard !pending.isEmpty else { return nil }
        return ExternalInput(point: now(), device: .serial, byte: pending.removeFirst())
    }

    /// Waits the whole time (nil: until a key comes); a key, or Ctrl-A X, ends it early. True
    /// on a key or quit: the machine goes round again and delivers it, or stops.
    func wait(nanoseconds: UInt64?) -> Bool {
        var left = nanoseconds.map { $0 / 1_000_000 }
        repeat {
            let ms = min(left ?? 1000, 1000)
            read(timeoutMilliseconds: Int32(ms))
            if !pending.isEmpty || quitting { return true }
            left = left.map { $0 - ms }
        } while left != 0
        return false
    }

    /// Reads what the terminal has (waiting up to `timeoutMilliseconds` for the first byte)
    /// and takes out the Ctrl-A commands.
    func read(timeoutMilliseconds: Int32) {
        var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&p, 1, timeoutMilliseconds) > 0 else { return }
        var buffer = [UInt8](repeating: 0, count: 256)
        let n = Foundation.read(fd, &buffer, buffer.count)
        guard n > 0 else { return }
        for b in buffer[0..<n] {
            if afterEscape {
                afterEscape = false
                switch b {
                case UInt8(ascii: "x"), UInt8(ascii: "X"):
                    quitting = true
                    quit()
                case 0x01: pending.append(0x01)
                default: pending += [0x01, b]
                }
            } else if b == 0x01 {
                afterEscape = true
            } else {
                pending.append(b)
            }
        }
    }
}
