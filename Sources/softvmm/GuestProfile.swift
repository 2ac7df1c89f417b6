import ArgumentParser
import Foundation
import X86

/// `softvmm run --profile FILE [--symbols System.map]`: where the guest spends its
/// instructions, from RIP sampled at a fixed instruction interval (a prime, so that no loop
/// keeps landing on one instruction), by function when a symbol table names them.
final class GuestProfile {
    static let interval: UInt64 = 9973
    let output: String
    /// Symbol start addresses, sorted, with their names.
    let symbols: [(address: UInt64, name: String)]
    var samples: [UInt64: Int] = [:]
    var total = 0

    init(output: String, symbols path: String?) throws {
        self.output = output
        var list: [(UInt64, String)] = []
        if let path {
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { throw ValidationError("cannot read \(path)") }
            for line in text.split(separator: "\n") {
                let f = line.split(separator: " ")
                guard f.count >= 3, let a = UInt64(f[0], radix: 16), "tTwW".contains(f[1]) else { continue }
                list.append((a, String(f[2])))
            }
        }
        symbols = list.sorted { $0.0 < $1.0 }
    }

    func sample(_ rip: UInt64) {
        samples[rip, default: 0] += 1
        total += 1
    }

    /// The symbol at or below `address`.
    func name(_ address: UInt64) -> String {
        var lo = 0, hi = symbols.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if symbols[mid].address <= address { lo = mid + 1 } else { hi = mid }
        }
        guard lo > 0 else { return hex(address) }
        let s = symbols[lo - 1]
        return address - s.address < 1 << 20 ? s.name : hex(address)
    }

    func write() throws {
        var byName: [String: Int] = [:]
        for (rip, n) in samples { byName[name(rip), default: 0] += n }
        var lines = ["# \(total) samples, one every \(GuestProfile.interval) instructions"]
        for (name, n) in byName.sorted(by: { $0.value > $1.value }) {
            lines.append(String(format: "%6.2f%% %8d  ", 100 * Double(n) / Double(max(total, 1)), n) + name)
        }
        guard FileManager.default.createFile(atPath: output, contents: Data((lines.joined(separator: "\n") + "\n").utf8)) else {
            throw ValidationError("cannot write \(output)")
        }
    }
}
