// IN, OUT, INS and OUTS: the I/O permission checks, then an I/O exit (or a port bus the
// CPU was given, as the monitor's assist gives it).

import X86
import X86Decoder

/// A port bus the CPU can use directly (the monitor's I/O assist runs INS/OUTS through one);
/// without one, port I/O leaves the CPU as an I/O exit.
public protocol PortIOHandler: AnyObject {
    func portRead(_ port: UInt16, size: Int) -> UInt32
    func portWrite(_ port: UInt16, size: Int, value: UInt32)
}

extension CPU {
    /// The I/O permission check: at CPL > IOPL in protected mode the TSS's bitmap must allow
    /// every byte of the access (#GP(0) otherwise).
    func checkIOPermission(_ port: UInt16, _ size: Int) throws(CPUException) {
        guard state.protectedMode, state.cpl > iopl || state.rflags & Flag.vm != 0 else { return }
        let tr = state.segment(.tr)
        guard tr.type == 0xB || tr.type == 0x9, tr.limit >= 0x67 else { throw .generalProtection(0) }
        let bitmap = UInt64(try systemRead(tr.base &+ 0x66, 2))
        let byte = bitmap + UInt64(port >> 3)
        guard byte + 1 <= UInt64(tr.limit) else { throw .generalProtection(0) }
        let bits = try systemRead(tr.base &+ byte, 2)
        let mask = ((UInt64(1) << UInt64(size)) - 1) << UInt64(port & 7)
        if bits & mask != 0 { throw .generalProtection(0) }
    }

    func portIO(isIn: Bool, _ ops: OperandList, _ ins: Instruction) throws(CPUException) {
        let portOperand = isIn ? ops[1] : ops[0], dataOperand = isIn ? ops[0] : ops[1]
        let port: UInt16
        if case .immediate(let v, _) = portOperand { port = UInt16(v & 0xFF) } else { port = UInt16(truncatingIfNeeded: state.rdx) }
        guard case .register(let r) = dataOperand else { throw .invalidOpcode }
        let size = r.size
        try checkIOPermission(port, size)
        if let io = ioHandler {
            if isIn {
                try write(place(dataOperand), UInt64(io.portRead(port, size: size)))
            } else {
                io.portWrite(port, size: size, value: UInt32(truncatingIfNeeded: state.rax & sizeMask(size)))
            }
            return
        }
        throw .exit(.io(IOExit(port: port, size: size, isIn: isIn, value: UInt32(truncatingIfNeeded: state.rax & sizeMask(size)),
                               length: Int(ins.length))))
    }

    /// INS/OUTS: with an I/O handler (the monitor's assist), the whole repetition runs here;
    /// otherwise the instruction exits with the string details.
    func stringIO(_ op: Op, _ ins: Instruction) throws(CPUException) {
        let isIn = op == .insb || op == .insw || op == .insd
        let size = op == .insb || op == .outsb ? 1 : (op == .insw || op == .outsw ? 2 : 4)
        let port = UInt16(truncatingIfNeeded: state.rdx)
        try checkIOPermission(port, size)
        let asz = Int(ins.addressSize), am = sizeMask(asz)
        let rep = ins.prefixes.contains(.repe) || ins.prefixes.contains(.repne)
        let source = ins.segmentOverride == 0xFF ? 3 : Int(ins.segmentOverride)
        guard let io = ioHandler else {
            throw .exit(.io(IOExit(port: port, size: size, isIn: isIn, string: true, rep: rep, addressSize: asz,
                                   segment: isIn ? 0 : source, length: Int(ins.length))))
        }
        let step = state.flag(Flag.df) ? 0 &- UInt64(size) : UInt64(size)
        var iterations = 0
        while !rep || state.rcx & am != 0 {
            if rep && iterations == CPU.repeatSlice {
                state.rip &-= UInt64(ins.length) // interruptible, as in Strings.swift
                break
            }
            iterations &+= 1
            if isIn {
                let di = state.rdi & am
                let a = linear(0, di)
                _ = try memory.read(a, size: size) // the destination must be writable before the port is read
                try store(a, size: size, value: UInt64(io.portRead(port, size: size)))
                setAddressRegister(GPR.rdi, (di &+ step) & am, asz)
            } else {
                let si = state.rsi & am
                io.portWrite(port, size: size, value: UInt32(truncatingIfNeeded: try memory.read(linear(source, si), size: size)))
                setAddressRegister(GPR.rsi, (si &+ step) & am, asz)
            }
            guard rep else { break }
            setAddressRegister(GPR.rcx, (state.rcx &- 1) & am, asz)
        }
    }
}
