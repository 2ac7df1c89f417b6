import X86

// Each device's state, listed once for saving and restoring (StateCoder): what a snapshot
// needs to continue the device exactly. Wiring (IRQ lines, callbacks, the clock) is the
// machine's and is made again, not saved; constants set at creation are not saved either.

extension GuestClock: StateCoding {
    public func state(_ s: inout StateCoder) { s.field(&now) }
}

extension UART16550: StateCoding {
    public func state(_ s: inout StateCoder) {
        s.field(&input); s.field(&received); s.field(&loopback)
        s.field(&ier); s.field(&lcr); s.field(&mcr); s.field(&scr); s.field(&fcr); s.field(&divisor)
        s.field(&thrEmptyPending); s.field(&irqLevel); s.field(&transmitted); s.field(&nextArrival)
    }
}

extension DebugExit: StateCoding {
    public func state(_ s: inout StateCoder) { s.field(&code) }
}

extension PIC8259 {
    mutating func state(_ s: inout StateCoder) {
        s.field(&irr); s.field(&imr); s.field(&isr); s.field(&lastLevels); s.field(&elcr)
        s.field(&priorityAdd); s.field(&vectorBase); s.field(&readISR); s.field(&poll); s.field(&specialMask)
        s.field(&initState); s.field(&needICW4); s.field(&single); s.field(&autoEOI); s.field(&rotateOnAutoEOI)
        s.field(&specialFullyNested)
    }
}

extension PICPair: StateCoding {
    public func state(_ s: inout StateCoder) {
        master.state(&s)
        slave.state(&s)
        s.field(&interruptRequested)
    }
}

extension PIT8254.Counter {
    mutating func state(_ s: inout StateCoder) {
        s.field(&count); s.field(&loadTime); s.field(&mode); s.field(&bcd); s.field(&access)
        s.field(&readState); s.field(&writeState); s.field(&writeLatch); s.field(&latched); s.field(&latchState)
        s.field(&status); s.field(&statusLatched); s.field(&gate); s.field(&counting); s.field(&nullCount)
    }
}

extension PIT8254: StateCoding {
    public func state(_ s: inout StateCoder) {
        for i in 0..<3 { counters[i].state(&s) }
        s.field(&out0); s.field(&speakerData); s.field(&lastLook)
    }
}

extension RTC: StateCoding {
    public func state(_ s: inout StateCoder) {
        s.field(&epoch); s.field(&index); s.field(&cmos); s.field(&nextPeriodic); s.field(&nextSecond)
    }
}

extension LocalAPIC: StateCoding {
    public func state(_ s: inout StateCoder) {
        s.field(&id); s.field(&globallyEnabled); s.field(&x2APIC); s.field(&irr); s.field(&isr); s.field(&tmr)
        s.field(&tpr); s.field(&ldr); s.field(&dfr); s.field(&svr); s.field(&esr); s.field(&pendingErrors); s.field(&icr)
        s.field(&lvt); s.field(&initialCount); s.field(&divideConfiguration); s.field(&timerStart); s.field(&timerExpiry)
        s.field(&tscDeadline); s.field(&tscDeadlineTime); s.field(&delivered)
    }
}

extension IOAPIC: StateCoding {
    public func state(_ s: inout StateCoder) {
        s.field(&select); s.field(&id); s.field(&redirection); s.field(&levels)
    }
}

extension PCIConfigurationSpace: StateCoding {
    /// The address register and each function's header bytes (which bytes are writable is
    /// fixed by the functions, made at creation).
    public func state(_ s: inout StateCoder) {
        s.field(&address)
        for key in functions.keys.sorted() { s.raw(&functions[key]!.bytes) }
    }
}

extension I8042: StateCoding {
    public func state(_ s: inout StateCoder) {
        s.field(&output); s.field(&commandByte); s.field(&pendingCommand); s.field(&pendingDeviceCommand)
        s.field(&outputPort); s.field(&lastWasCommand); s.field(&keyboardLevel); s.field(&mouseLevel)
    }
}

extension ACPIPower: StateCoding {
    public func state(_ s: inout StateCoder) {
        s.field(&status); s.field(&enable); s.field(&control)
    }
}

extension TestDevice: StateCoding {
    public func state(_ s: inout StateCoder) {
        s.raw(&storage); s.field(&reads); s.field(&writes)
    }
}
