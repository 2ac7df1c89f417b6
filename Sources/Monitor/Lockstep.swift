import Foundation
import VMM
import X86
import X86Decoder

/// `--engine lockstep` (issue 25): the same machine twice, one under the translator and one
/// under the interpreter alone, run side by side in steps of `interval` instructions. After
/// each step every vCPU's whole state (`VCPUState`) and the serial output are compared, and
/// guest RAM page by page every `memoryInterval` instructions and at the end. Both runs are
/// deterministic, so a difference is narrowed by running both again from the start to points
/// between the last agreement and the difference (the translator's code up to such a point is
/// the same as in the first run: a block runs as host code only when the budget holds all of
/// it, and the stops before the point are the same). The report names the state that differs
/// and lists the instructions the interpreter ran last.
public final class Lockstep {
    /// Makes a booted machine under `engine` whose COM1 output goes to `serial`.
    public typealias MachineMaker = (_ engine: ExecutionEngine, _ serial: @escaping (UInt8) -> Void) throws -> Machine

    let make: MachineMaker
    /// Instructions between comparisons of the vCPUs' state and the output.
    public var interval: UInt64
    /// Instructions between comparisons of guest memory.
    public var memoryInterval: UInt64
    /// The instructions listed before a difference.
    public var listingLength = 24
    /// The translator machine's COM1 output, as it comes.
    public var serialOutput: (UInt8) -> Void = { _ in }
    /// Called after each comparison with the instruction count reached.
    public var onProgress: ((UInt64) -> Void)?
    /// Comparisons made of the vCPUs' state and of memory (the first run's, not the narrowing's).
    public private(set) var comparisons = 0, memoryComparisons = 0
    /// Runs made again from the start to narrow a difference.
    public private(set) var narrowingRuns = 0

    public init(interval: UInt64 = 10_000, memoryInterval: UInt64 = 1 << 24, make: @escaping MachineMaker) {
        precondition(interval > 0 && memoryInterval > 0)
        (self.interval, self.memoryInterval, self.make) = (interval, memoryInterval, make)
    }

    public enum Outcome {
        /// Both engines ran to the same stop with the same state throughout.
        case alike(MachineStop, icount: UInt64)
        case differ(LockstepDifference)
    }

    /// Runs both machines to their end, or to the first difference.
    public func run() throws -> Outcome {
        let pair = try Pair(make, forward: serialOutput)
        defer { pair.teardown() }
        var agreed: UInt64 = 0, memoryAgreed: UInt64 = 0
        while true {
            let target = pair.icount &+ interval
            let stops = pair.run(to: target)
            let ended = stops.jit != .limit || stops.interp != .limit || pair.icount < target
            let memory = ended || pair.icount - memoryAgreed >= memoryInterval
            comparisons += 1
            if memory { memoryComparisons += 1 }
            if let found = pair.compare(stops, memory: memory) {
                // Memory differs since its last comparison, anything else since the last step.
                let from = found.pages.isEmpty ? agreed : memoryAgreed
                return .differ(try narrow(from: from, to: pair.icount, found))
            }
            agreed = pair.icount
            if memory { memoryAgreed = agreed }
            onProgress?(agreed)
            if ended { return .alike(stops.jit, icount: agreed) }
        }
    }

    /// Runs a fresh pair from the start to `point`, stopping where the first run stopped on
    /// the way (every `interval` instructions), and compares them there.
    func probe(_ point: UInt64) throws -> LockstepDifference? {
        narrowingRuns += 1
        let pair = try Pair(make, forward: nil)
        defer { pair.teardown() }
        var stops = (jit: MachineStop.limit, interp: MachineStop.limit)
        while pair.icount < point {
            stops = pair.run(to: min(point, pair.icount + interval))
            if stops.jit != .limit || stops.interp != .limit { break }
        }
        return pair.compare(stops, memory: true)
    }

    /// Halves the window (`agreed`, `differs`] until it is one instruction wide, keeping the
    /// half whose end differs; then lists the guest code.
    func narrow(from agreed: UInt64, to differs: UInt64, _ first: LockstepDifference) throws -> LockstepDifference {
        var (low, high, found) = (agreed, differs, first)
        while high - low > 1 {
            let middle = low + (high - low) / 2
            if let d = try probe(middle) { (high, found) = (middle, d) } else { low = middle }
        }
        found.agreedAt = low
        found.differsAt = high
        found.listing = try listing(upTo: high)
        return found
    }

    /// The last `listingLength` instructions the interpreter ran up to `point`: its machine run
    /// to the first, then one instruction at a time.
    func listing(upTo point: UInt64) throws -> [String] {
        let start = point > UInt64(listingLength) ? point - UInt64(listingLength) : 0
        let machine = try make(.interpreter) { _ in }
        defer { machine.teardown() }
        while machine.icount < start {
            machine.stopAt = min(start, machine.icount + interval)
            if machine.run() != .limit { return [] }
        }
        let decoderVendor: Vendor = machine.configuration.cpu.vendor
        var lines: [String] = []
        while machine.icount < point {
            let before = machine.vcpus.map { ($0.retired, $0.linearRIP, $0.mode, $0.debuggerTranslate($0.linearRIP)) }
            machine.stopAt = machine.icount + 1
            let stop = machine.run()
            for (i, v) in machine.vcpus.enumerated() where v.retired != before[i].0 {
                let (_, rip, mode, gpa) = before[i]
                let bytes = gpa.flatMap { machine.vm.readPhysical($0, count: 15) } ?? []
                lines.append("\(machine.vcpus.count > 1 ? "vcpu \(i) " : "")icount \(machine.icount)  "
                             + instructionListing(rip: rip, bytes: bytes, mode: mode, vendor: decoderVendor))
            }
            if stop != .limit { break }
        }
        return lines
    }

    /// The two machines and their output.
    final class Pair {
        let jit: Machine, interp: Machine
        let jitOutput = Output(), interpOutput = Output()

        init(_ make: MachineMaker, forward: ((UInt8) -> Void)?) throws {
            let jo = jitOutput, io = interpOutput
            jit = try make(.jit) { b in jo.bytes.append(b); forward?(b) }
            do { interp = try make(.interpreter) { b in io.bytes.append(b) } } catch {
                jit.teardown()
                throw error
            }
        }

        var icount: UInt64 { max(jit.icount, interp.icount) }

        func run(to point: UInt64) -> (jit: MachineStop, interp: MachineStop) {
            jit.stopAt = point
            interp.stopAt = point
            return (jit.run(), interp.run())
        }

        /// What differs between the two now, if anything: the stops, the instruction counts,
        /// each vCPU's state, the output, and with `memory` guest RAM.
        func compare(_ stops: (jit: MachineStop, interp: MachineStop), memory: Bool) -> LockstepDifference? {
            var d = LockstepDifference(agreedAt: 0, differsAt: icount)
            if stops.jit != stops.interp { d.stops = (stops.jit, stops.interp) }
            if jit.icount != interp.icount { d.state.append((nil, "instructions retired", "\(jit.icount)", "\(interp.icount)")) }
            for (i, (a, b)) in zip(jit.vcpus, interp.vcpus).enumerated() {
                let (x, y) = (a.getState(), b.getState())
                if x != y { d.state += LockstepDifference.fields(x, y).map { (i, $0.0, $0.1, $0.2) } }
            }
            if jitOutput.bytes != interpOutput.bytes {
                let common = zip(jitOutput.bytes, interpOutput.bytes).prefix { $0 == $1 }.count
                d.output = "the serial output differs from byte \(common) (translator \(jitOutput.bytes.count) bytes, interpreter \(interpOutput.bytes.count))"
            }
            if memory {
                d.pages = jit.vm.memory.differingPages(from: interp.vm.memory)
                if let page = d.pages.first, let a = jit.vm.readPhysical(page, count: 4096),
                   let b = interp.vm.readPhysical(page, count: 4096), let at = a.indices.first(where: { a[$0] != b[$0] }) {
                    let n = min(8, a.count - at)
                    let bytes = { (x: [UInt8]) in x[at..<at + n].map { String(format: "%02x", $0) }.joined(separator: " ") }
                    d.firstByte = "at guest-physical \(hex(page + UInt64(at))): translator \(bytes(a)), interpreter \(bytes(b))"
                }
            }
            return d.isEmpty ? nil : d
        }

        func teardown() {
            jit.teardown()
            interp.teardown()
        }
    }

    final class Output { var bytes: [UInt8] = [] }
}

/// The first difference `--engine lockstep` found between the translator and the interpreter.
public struct LockstepDifference: CustomStringConvertible {
    /// The last instruction count at which both agreed, and the first at which they differ.
    public var agreedAt: UInt64
    public var differsAt: UInt64
    /// The stops, when the machines stopped differently.
    public var stops: (jit: MachineStop, interp: MachineStop)?
    /// The fields of a vCPU's state that differ (vCPU index, field, translator's, interpreter's).
    public var state: [(vcpu: Int?, field: String, jit: String, interp: String)] = []
    public var output: String?
    /// The guest-physical pages whose contents differ (the first 16), and the first bytes so.
    public var pages: [UInt64] = []
    public var firstByte: String?
    /// The interpreter's last instructions up to `differsAt`.
    public var listing: [String] = []

    init(agreedAt: UInt64, differsAt: UInt64) { (self.agreedAt, self.differsAt) = (agreedAt, differsAt) }

    var isEmpty: Bool { stops == nil && state.isEmpty && output == nil && pages.isEmpty }

    static let gprNames = ["rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15"]

    /// The fields of two vCPU states that differ, by name (general registers by theirs,
    /// other arrays by index), with each side's value.
    static func fields(_ a: VCPUState, _ b: VCPUState) -> [(String, String, String)] {
        var out: [(String, String, String)] = []
        for (x, y) in zip(Mirror(reflecting: a).children, Mirror(reflecting: b).children) {
            let name = x.label ?? "?"
            if let u = x.value as? [UInt64], let v = y.value as? [UInt64], u.count == v.count {
                for i in u.indices where u[i] != v[i] {
                    out.append((name == "gprs" && i < 16 ? gprNames[i] : "\(name)[\(i)]", hex(u[i]), hex(v[i])))
                }
                continue
            }
            if let u = x.value as? [UInt32: UInt64], let v = y.value as? [UInt32: UInt64] {
                for k in Set(u.keys).union(v.keys).sorted() where u[k] != v[k] {
                    out.append(("\(name)[\(hex(UInt64(k)))]", u[k].map { hex($0) } ?? "none", v[k].map { hex($0) } ?? "none"))
                }
                continue
            }
            let (s, t) = (value(x.value), value(y.value))
            if s != t { out.append((name, s, t)) }
        }
        return out
    }

    static func value(_ v: Any) -> String {
        switch v {
        case let n as UInt64: hex(n)
        case let n as UInt32: hex(UInt64(n))
        case let n as UInt16: hex(UInt64(n))
        default: String(describing: v)
        }
    }

    public var description: String {
        var lines = ["the translator and the interpreter differ after instruction \(differsAt) (they agreed at \(agreedAt))"]
        if let stops { lines.append("  stops: translator \(stops.jit), interpreter \(stops.interp)") }
        for s in state {
            lines.append("  \(s.vcpu.map { "vcpu \($0) " } ?? "")\(s.field): translator \(s.jit), interpreter \(s.interp)")
        }
        if let output { lines.append("  \(output)") }
        if !pages.isEmpty {
            lines.append("  guest memory differs in \(pages.count == 16 ? "16 or more pages" : "\(pages.count) page\(pages.count == 1 ? "" : "s")"): \(pages.map { hex($0) }.joined(separator: ", "))")
            if let firstByte { lines.append("  first difference \(firstByte)") }
        }
        if !listing.isEmpty {
            lines.append("  the interpreter's last instructions up to there:")
            lines += listing.map { "    " + $0 }
        }
        return lines.joined(separator: "\n")
    }
}

/// One line of a listing of guest code: the address, the instruction's bytes (the first 8 of
/// what does not decode) and its text, as `softvmm replay` and the lockstep engine print them.
public func instructionListing(rip: UInt64, bytes: [UInt8], mode: CPUMode, vendor: Vendor = .intel) -> String {
    let ins = X86Decoder(mode: mode, vendor: vendor).decode(bytes)
    let shown = bytes.prefix(ins.status == .valid ? Int(ins.length) : min(bytes.count, 8)).map { String(format: "%02x", $0) }
    return "\(hex(rip))  \(shown.joined(separator: " ").padding(toLength: 30, withPad: " ", startingAt: 0)) \(IntelFormatter().format(ins, address: rip))"
}
