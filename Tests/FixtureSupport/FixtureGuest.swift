import Foundation
import VMM
import Monitor

/// A fixture guest (Fixtures/guests/NAME): its image, and the machine configuration its
/// NAME.options (`softvmm run` options) and NAME.input (COM1's input) ask for. Shared by the
/// test targets that run fixture guests.
public struct FixtureGuest {
    public static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures/guests")

    /// Every guest with a built image, by name.
    public static var names: [String] {
        let all = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return all.filter { FileManager.default.fileExists(atPath: directory.appendingPathComponent("\($0)/\($0).bin").path) }.sorted()
    }

    public let name: String
    public let image: [UInt8]
    public var configuration = MachineConfiguration()

    /// `options: false` ignores NAME.options (the guest's full feature set).
    public init(_ name: String, options: Bool = true) throws {
        self.name = name
        image = [UInt8](try Data(contentsOf: FixtureGuest.file(name, "bin")))
        if options, let text = try? String(contentsOf: FixtureGuest.file(name, "options"), encoding: .utf8) {
            let words = text.split(whereSeparator: { $0 == " " || $0 == "\n" })
            if let i = words.firstIndex(of: "--test-device"), i + 1 < words.count,
               let base = UInt64(words[i + 1].dropFirst(2), radix: 16) {
                configuration.testDeviceBase = base
            }
            if let i = words.firstIndex(of: "--cpu"), i + 1 < words.count { try configuration.setCPU(String(words[i + 1])) }
            if let i = words.firstIndex(of: "--smp"), i + 1 < words.count, let n = Int(words[i + 1]) { configuration.processors = n }
            if let i = words.firstIndex(of: "--device"), i + 1 < words.count, words[i + 1] == "virtio-rng" { configuration.virtioRNG = true }
        }
        if let input = try? Data(contentsOf: FixtureGuest.file(name, "input")) { configuration.serialInput = [UInt8](input) }
    }

    /// Fixtures/guests/NAME/NAME.EXTENSION.
    public static func file(_ name: String, _ ext: String) -> URL { directory.appendingPathComponent("\(name)/\(name).\(ext)") }
}
