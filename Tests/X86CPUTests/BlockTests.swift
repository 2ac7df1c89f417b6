import Testing
import X86
import X86CPU
import CPUCheck
import X86Decoder

/// Blocks (Core/Blocks.swift) against the per-instruction path, which cpu-check proves
/// against the host CPU: random runs of cpu-check's instructions, stepped one at a time and
/// run by `run(limit:)` in blocks (chained, cut at random budgets, with dead flags left
/// uncomputed), must leave the same registers, flags, RIP and memory after every budget, and
/// stop at the same instruction when one faults.
@Suite struct BlockTests {
    static let families: [Family] = [.alu, .unary, .move, .shift, .condition, .muldiv, .stack, .branch, .bits, .misc]
    let decoder = X86Decoder(mode: .bits64, vendor: hostVendor)

    func cpu(_ c: CPUCase) -> CPU<FlatMemory> {
        let cpu = CPU(memory: FlatMemory(data: c.data, code: c.bytes), model: CPUModel(vendor: hostVendor))
        for i in 0..<16 { cpu.state.gpr[i] = c.gpr[i] }
        cpu.state.rflags = c.rflags
        cpu.state.rip = FlatMemory.codeBase
        return cpu
    }

    struct Seen: Equatable, CustomStringConvertible {
        var gpr: [UInt64], rflags: UInt64, rip: UInt64, data: [UInt8], retired: UInt64
        init(_ c: CPU<FlatMemory>) {
            gpr = (0..<16).map { c.state.gpr[$0] }
            // A fault's delivery (which run attempts, and which fails here: no IDT) sets RF.
            rflags = c.state.rflags & ~Flag.rf
            (rip, data, retired) = (c.state.rip, c.memory.data, c.state.retired)
        }
        var description: String {
            "gpr " + gpr.map { hex($0) }.joined(separator: " ") + " rflags \(hex(rflags)) rip \(hex(rip)) retired \(retired)"
                + " data checksum \(data.reduce(UInt64(0)) { $0 &* 31 &+ UInt64($1) })"
        }
    }

    @Test(arguments: [UInt64(1), 2])
    func blocksRunAsStepsDo(seed: UInt64) {
        var generator = CPUCaseGenerator(seed: seed)
        var budgets = SplitMix64(seed: seed &* 77)
        var compared = 0, faults = 0
        for _ in 0..<300 {
            // A run of 2-41 instructions, starting from the first case's registers and data.
            var c = generator.next(family: Self.families[Int(budgets.next() % UInt64(Self.families.count))])
            // After the first, register forms only: the registers the first case pointed into
            // its data no longer do once other instructions have run.
            var length = 1 + Int(budgets.next() % 40)
            while length > 0 {
                let next = generator.next(family: Self.families[Int(budgets.next() % UInt64(Self.families.count))])
                let operands = decoder.decode(next.bytes).operands(address: 0)
                if operands.contains(where: { if case .memory = $0 { true } else { false } }) { continue }
                c.bytes += next.bytes
                length -= 1
            }
            // Single-step traps are the run loop's (a TF set by POPF ends the run: `step` takes none).
            c.rflags &= ~(Flag.tf | Flag.rf)
            // The reference: one instruction at a time, at most 64 (branches may loop).
            let stepped = cpu(c)
            var after: [Seen] = []
            var fault = false
            for _ in 0..<64 {
                if case .exception = stepped.step() { fault = true; break }
                after.append(Seen(stepped))
                if stepped.state.rflags & Flag.tf != 0 { break }
            }
            // Blocks: budgets of 1-4 instructions until the reference's count.
            let blocks = cpu(c)
            var done = 0
            while done < after.count {
                let budget = min(1 + Int(budgets.next() % 4), after.count - done)
                let stop = blocks.run(limit: UInt64(budget))
                #expect(stop == .limit, "stopped at \(hex(blocks.state.rip)) after \(blocks.state.retired) of \(after.count): \(c.reproducer)")
                done += budget
                #expect(Seen(blocks) == after[done - 1], "after \(done) instructions: \(c.reproducer)")
                compared += 1
                if Seen(blocks) != after[done - 1] { return }
            }
            if fault {
                // The faulting instruction: run tries to deliver its exception, cannot (no IDT),
                // and shuts down with nothing retired and RIP at it.
                faults += 1
                let reference = Seen(stepped)
                _ = blocks.run(limit: 1)
                #expect(Seen(blocks) == reference, "at the fault: \(c.reproducer)")
            }
        }
        #expect(compared > 800 && faults > 200, "\(compared) comparisons, \(faults) faults")
    }

    /// MOVs between registers fused into the operation that next overwrites their destination,
    /// moved down past others (`CPU.fuseMoves`): random runs of register MOVs, ALU operations,
    /// shifts, NOT, IMUL and Jcc on four registers, so that most MOVs find a taker, ended by a
    /// JMP to itself (so that the block ends there and runs whole), must leave what stepping
    /// them one at a time leaves: run whole, and cut at random budgets.
    @Test(arguments: [UInt64(3), 4])
    func fusedMovesRunAsStepsDo(seed: UInt64) {
        var random = SplitMix64(seed: seed)
        for _ in 0..<400 {
            let n = 2 + Int(random.next() % 30)
            var code: [UInt8] = []
            for _ in 0..<n { code += Self.registerInstruction(&random) }
            code += [0xEB, 0xFE]
            let gpr = (0..<4).map { _ in random.next() }
            let rflags = 2 | random.next() & 0x8D5
            func make() -> CPU<FlatMemory> {
                let cpu = CPU(memory: FlatMemory(data: [], code: code), model: CPUModel(vendor: hostVendor))
                for i in 0..<4 { cpu.state.gpr[i] = gpr[i] }
                cpu.state.rflags = rflags
                cpu.state.rip = FlatMemory.codeBase
                return cpu
            }
            let stepped = make()
            var after: [Seen] = []
            for _ in 0...n {
                _ = stepped.step()
                after.append(Seen(stepped))
            }
            let reproducer = code.map { String($0, radix: 16) }.joined(separator: " ")
            let whole = make()
            #expect(whole.run(limit: UInt64(n + 1)) == .limit)
            #expect(Seen(whole) == after[n], "run whole: \(reproducer)")
            let cut = make()
            var done = 0
            while done <= n {
                let budget = min(1 + Int(random.next() % 6), n + 1 - done)
                _ = cut.run(limit: UInt64(budget))
                done += budget
                #expect(Seen(cut) == after[done - 1], "after \(done) instructions: \(reproducer)")
                if Seen(cut) != after[done - 1] { return }
            }
        }
    }

    /// One instruction on RAX, RCX, RDX or RBX, 32- or 64-bit: MOV (most often), ADD-CMP or
    /// TEST with a register, ADD-CMP with an immediate, ROL/ROR/SHL/SHR/SAR by a constant, NOT, IMUL, or a Jcc to
    /// the next instruction.
    static func registerInstruction(_ random: inout SplitMix64) -> [UInt8] {
        let rex: [UInt8] = random.next() & 1 == 0 ? [0x48] : []
        let d = UInt8(random.next() % 4), s = UInt8(random.next() % 4)
        switch random.next() % 8 {
        case 0, 1, 2: return rex + [0x89, 0xC0 | s << 3 | d]
        case 3: return rex + [[0x01, 0x09, 0x11, 0x19, 0x21, 0x29, 0x31, 0x39, 0x85][Int(random.next() % 9)], 0xC0 | s << 3 | d]
        case 4: return rex + [0x83, 0xC0 | UInt8(random.next() % 8) << 3 | d, UInt8(truncatingIfNeeded: random.next())]
        case 5:
            let shifts: [UInt8] = [0, 1, 4, 5, 7]
            return rex + [0xC1, 0xC0 | shifts[Int(random.next() % 5)] << 3 | d, UInt8(1 + random.next() % 31)]
        case 6: return random.next() & 1 == 0 ? rex + [0xF7, 0xD0 | d] : rex + [0x0F, 0xAF, 0xC0 | d << 3 | s]
        default: return [0x70 + UInt8(random.next() % 16), 0x00]
        }
    }
}
