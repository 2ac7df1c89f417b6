/// Turns the description (Semantics.swift, checked against Encodings/) into the Swift of
/// Generated/Mnemonic.swift: `softvmm generate-isa` writes it, and X86ISATests fails when the
/// committed file is not what this produces.
public enum ISAGenerator {
    public struct SpecError: Error, CustomStringConvertible {
        public let description: String
    }

    /// The encodings, in the order the decoder reads them.
    public static let encodingSpecs: [(name: String, text: String)] = [
        ("OneByte", oneByteSpec), ("X87", x87Spec), ("TwoByte", twoByteSpec),
        ("ThreeByte38", threeByte38Spec), ("ThreeByte3A", threeByte3ASpec), ("VEX", vexSpec),
        ("3DNow", amd3DNowSpec), ("XOP", xopSpec), ("EVEX", evexSpec), ("EVEX0F38", evex0F38Spec),
    ]

    /// The meaningful lines of a spec text, spaces and tabs trimmed (comments and blank lines
    /// dropped), with their numbers: what the decoder's table builder and the generator read.
    public static func lines(_ text: String) -> [(number: Int, text: String)] {
        text.split(separator: "\n", omittingEmptySubsequences: false).enumerated().compactMap { n, line in
            var t = line[...]
            while let c = t.first, c == " " || c == "\t" { t.removeFirst() }
            while let c = t.last, c == " " || c == "\t" { t.removeLast() }
            return t.isEmpty || t.hasPrefix("#") ? nil : (n + 1, String(t))
        }
    }

    /// Every mnemonic spelling the encodings use (each "a|b|c" alternative).
    static func encodedSpellings() -> Set<String> {
        var all = Set<String>()
        for spec in encodingSpecs {
            for line in lines(spec.text) {
                guard let colon = line.text.firstIndex(of: ":") else { continue }
                let body = line.text[line.text.index(after: colon)...].drop { $0 == " " }
                let mnemonic = body.prefix { $0 != " " && $0 != ";" }
                for m in mnemonic.split(separator: "|") { all.insert(String(m)) }
            }
        }
        return all
    }

    struct Entry {
        var spelling: String
        var family: String
        var reads: UInt32 = 0, writes: UInt32 = 0, undefined: UInt32 = 0
        var countRule = "none"
        var condition = -1
        var conditionKind = "jump"
        var feature = ""
        var gated = false
        var executes: String
    }

    static let families = ["integer": "integer", "system": "system", "x87": "x87", "mmx": "mmx",
                           "sse-integer": "sseInteger", "sse-float": "sseFloat", "bmi": "bmi"]

    static func parse() throws(SpecError) -> [Entry] {
        let encoded = encodedSpellings()
        var entries: [Entry] = []
        var seen = Set<String>()
        for line in lines(semanticsSpec) {
            func fail(_ why: String) -> SpecError { SpecError(description: "Semantics.swift line \(line.number): \(why): \(line.text)") }
            let halves = line.text.split(separator: ":", maxSplits: 1)
            guard halves.count == 2 else { throw fail("no ':' between the attributes and the mnemonics") }
            let words = halves[0].split(separator: " ").map(String.init)
            guard let first = words.first, let family = families[first] else { throw fail("no known family") }
            var template = Entry(spelling: "", family: family, executes: "")
            var cc: String?
            for word in words.dropFirst() {
                let kv = word.split(separator: "=", maxSplits: 1).map(String.init)
                func flags() throws(SpecError) -> UInt32 {
                    var mask: UInt32 = 0
                    for f in kv[1].split(separator: ",") {
                        guard let bit = ISAFlag.names[String(f)] else { throw fail("unknown flag \(f)") }
                        mask |= bit
                    }
                    return mask
                }
                switch kv[0] {
                case "r" where kv.count == 2: template.reads = try flags()
                case "w" where kv.count == 2: template.writes = try flags()
                case "u" where kv.count == 2: template.undefined = try flags()
                case "count": template.countRule = "count"
                case "count-wide": template.countRule = "countWide"
                case "cc" where kv.count == 2 && ["jump", "set", "move"].contains(kv[1]): cc = kv[1]
                case "cpuid" where kv.count == 2: template.feature = kv[1]
                case "gated": template.gated = true
                case "as" where kv.count == 2: template.executes = kv[1]
                default: throw fail("unknown attribute \(word)")
                }
            }
            for m in halves[1].split(separator: " ").map(String.init) {
                guard encoded.contains(m) else { throw fail("\(m) is in no encoding") }
                guard seen.insert(m).inserted else { throw fail("\(m) is described twice") }
                var e = template
                e.spelling = m
                if e.executes.isEmpty { e.executes = m }
                if let cc {
                    let prefix = ["jump": "j", "set": "set", "move": "cmov"][cc]!
                    guard m.hasPrefix(prefix), let n = ISAFlag.conditionSuffixes.firstIndex(of: String(m.dropFirst(prefix.count))) else {
                        throw fail("\(m) is not \(prefix) followed by a condition")
                    }
                    (e.condition, e.conditionKind) = (n, cc)
                    e.reads |= ISAFlag.conditionReads[n]
                }
                entries.append(e)
            }
        }
        let spellings = Set(entries.map(\.spelling))
        for e in entries where !spellings.contains(e.executes) {
            throw SpecError(description: "Semantics.swift: \(e.spelling) runs as \(e.executes), which is not described")
        }
        return entries
    }

    /// A Swift identifier for a spelling: `movsd.sse` is `movsdSSE`; keywords are quoted.
    static func identifier(_ spelling: String) -> String {
        let parts = spelling.split(separator: ".")
        let name = String(parts[0]) + parts.dropFirst().map { $0.uppercased() }.joined()
        return ["in", "repeat", "default", "case", "switch", "return"].contains(name) ? "`\(name)`" : name
    }

    static func hex(_ v: UInt32) -> String { v == 0 ? "0" : "0x" + String(v, radix: 16, uppercase: true) }

    /// The generated file's text.
    public static func source() throws(SpecError) -> String {
        let entries = try parse()
        var features = [""]
        for e in entries where !features.contains(e.feature) { features.append(e.feature) }
        var out = """
        // Generated by ISAGenerator from Sources/X86ISA/Semantics.swift: do not edit; run `make isa`.
        // (X86ISATests fails when this file is not what the generator makes of the description.)

        /// Every mnemonic the semantic table describes; `unimplemented` for the rest.
        public enum Mnemonic: UInt16, CaseIterable, Sendable {
            case unimplemented

        """
        for e in entries { out += "    case \(identifier(e.spelling))\n" }
        out += """
        }

        extension Mnemonic {
            /// The CPUID features the description names (`MnemonicFacts.featureIndex`).
            public static let featureNames: [String] = [\(features.map { "\"\($0)\"" }.joined(separator: ", "))]

            /// How the encodings spell each mnemonic, by raw value.
            static let spellings: [String] = [
                "",

        """
        for e in entries { out += "        \"\(e.spelling)\",\n" }
        out += """
            ]

            /// What the description says of each mnemonic, by raw value.
            @usableFromInline static let table: [MnemonicFacts] = [
                MnemonicFacts(.unimplemented, executes: .unimplemented),

        """
        for e in entries {
            var args = [".\(e.family)"]
            if e.reads != 0 { args.append("reads: \(hex(e.reads))") }
            if e.writes != 0 { args.append("writes: \(hex(e.writes))") }
            if e.undefined != 0 { args.append("undefined: \(hex(e.undefined))") }
            if e.countRule != "none" { args.append("countRule: .\(e.countRule)") }
            if e.condition >= 0 { args.append("condition: \(e.condition), conditionKind: .\(e.conditionKind)") }
            if !e.feature.isEmpty { args.append("feature: \(features.firstIndex(of: e.feature)!)") }
            if e.gated { args.append("gated: true") }
            args.append("executes: .\(identifier(e.executes).replacingBackticks())")
            out += "        MnemonicFacts(\(args.joined(separator: ", "))),  // \(e.spelling)\n"
        }
        out += """
            ]
        }

        """
        return out
    }
}

extension String {
    /// An identifier after a dot needs no quoting (`.in`).
    func replacingBackticks() -> String { filter { $0 != "`" } }
}
