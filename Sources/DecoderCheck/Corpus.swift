import Foundation
import X86
import X86Decoder

/// What went wrong reading a corpus file: each case names the problem.
public enum CorpusError: Error, CustomStringConvertible {
    case unreadable(String)
    case notELF64(String)
    case noTextSection(String)
    case truncated(String, what: String)

    public var description: String {
        switch self {
        case .unreadable(let p): "\(p): cannot read the file"
        case .notELF64(let p): "\(p): not a little-endian 64-bit ELF file"
        case .noTextSection(let p): "\(p): has no .text section"
        case .truncated(let p, let what): "\(p): the file ends inside its \(what)"
        }
    }
}

/// The `.text` section of an ELF64 file: its bytes and its virtual address.
public struct ELFText {
    public var bytes: [UInt8]
    public var address: UInt64

    public init(path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else { throw CorpusError.unreadable(path) }
        let b = [UInt8](data)
        func u16(_ o: Int) -> Int { Int(b[o]) | Int(b[o + 1]) << 8 }
        func u32(_ o: Int) -> Int { u16(o) | u16(o + 2) << 16 }
        func u64(_ o: Int) -> UInt64 { UInt64(u32(o)) | UInt64(u32(o + 4)) << 32 }
        guard b.count >= 64, b[0] == 0x7F, b[1] == 0x45, b[2] == 0x4C, b[3] == 0x46, b[4] == 2, b[5] == 1 else {
            throw CorpusError.notELF64(path)
        }
        let shoff = Int(u64(0x28)), shentsize = u16(0x3A), shnum = u16(0x3C), shstrndx = u16(0x3E)
        guard shoff > 0, shentsize >= 64, shoff + shnum * shentsize <= b.count, shstrndx < shnum else {
            throw CorpusError.truncated(path, what: "section headers")
        }
        let strtab = Int(u64(shoff + shstrndx * shentsize + 0x18))
        for i in 0..<shnum {
            let h = shoff + i * shentsize
            var nameEnd = strtab + u32(h)
            let nameStart = nameEnd
            while nameEnd < b.count && b[nameEnd] != 0 { nameEnd += 1 }
            guard nameEnd < b.count else { throw CorpusError.truncated(path, what: "section names") }
            guard String(decoding: b[nameStart..<nameEnd], as: UTF8.self) == ".text" else { continue }
            let addr = u64(h + 0x10), off = Int(u64(h + 0x18)), size = Int(u64(h + 0x20))
            guard off + size <= b.count else { throw CorpusError.truncated(path, what: ".text section") }
            bytes = Array(b[off..<(off + size)])
            address = addr
            return
        }
        throw CorpusError.noTextSection(path)
    }
}

/// The cross-check over real code: a linear sweep, comparing each instruction.
public struct CorpusReport: Sendable {
    public var instructions = 0
    public var bytes = 0
    public var agree = 0
    public var perClass: [String: Int] = [:]
    public var classExamples: [String: CheckedCase] = [:]
    public var unexplained = 0
    public var firstUnexplained: [CheckedCase] = []
}

/// Decodes `bytes` linearly (by softvmm's lengths; one byte on an invalid
/// reading) and checks every instruction against Capstone.
public func runCorpus(_ text: ELFText, mode: CPUMode = .bits64, keep: Int = 20) -> CorpusReport {
    let checker = DecoderChecker(mode: mode)
    var report = CorpusReport()
    report.bytes = text.bytes.count
    text.bytes.withUnsafeBufferPointer { buf in
        var offset = 0
        while offset < buf.count {
            let window = UnsafeBufferPointer(rebasing: buf[offset..<min(buf.count, offset + 15)])
            let c = checker.check(window)
            report.instructions += 1
            switch c.verdict {
            case .agree: report.agree += 1
            case .known(let id):
                report.perClass[id, default: 0] += 1
                if report.classExamples[id] == nil { report.classExamples[id] = c }
            case .unexplained:
                report.unexplained += 1
                if report.firstUnexplained.count < keep { report.firstUnexplained.append(c) }
            }
            offset += c.ours.status == .valid ? Int(c.ours.length) : 1
        }
    }
    return report
}
