import Foundation
import Testing
import Monitor

/// A raw image as a block device's backend: writes go to the overlay in memory (the file
/// unchanged) unless writes to the file were asked for; a read-only image refuses writes; an
/// image that is not whole sectors, or missing, is an error naming the file.
@Suite struct DiskImageTests {
    static func file(_ bytes: [UInt8]) throws -> String {
        let path = NSTemporaryDirectory() + "softvmm-disk-\(UUID().uuidString).img"
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test func overlayFileAndReadOnly() throws {
        let original = (0..<8192).map { UInt8(truncatingIfNeeded: $0 / 512) }
        let path = try Self.file(original)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let overlay = try DiskImage(path: path, readOnly: false, writesToFile: false)
        #expect(overlay.byteCount == 8192 && overlay.read(at: 1024, count: 4) == [2, 2, 2, 2])
        #expect(overlay.write(at: 4090, [9, 9, 9, 9, 9, 9, 9, 9]))      // across a page boundary
        #expect(overlay.read(at: 4088, count: 12) == [7, 7, 9, 9, 9, 9, 9, 9, 9, 9, 8, 8])
        #expect(overlay.flush())
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == Data(original))
        #expect(!overlay.write(at: 8190, [1, 2, 3]))                     // past the end
        #expect(overlay.read(at: 8190, count: 4) == nil)

        let toFile = try DiskImage(path: path, readOnly: false, writesToFile: true)
        #expect(toFile.write(at: 512, [0xAA]) && toFile.flush())
        #expect(try Data(contentsOf: URL(fileURLWithPath: path))[512] == 0xAA)

        let readOnly = try DiskImage(path: path, readOnly: true, writesToFile: true)
        #expect(!readOnly.write(at: 0, [1]))
    }

    @Test func badImages() throws {
        let odd = try Self.file([1, 2, 3])
        defer { try? FileManager.default.removeItem(atPath: odd) }
        #expect(throws: DiskImage.OpenError.self) { try DiskImage(path: odd, readOnly: false, writesToFile: false) }
        #expect(throws: DiskImage.OpenError.self) { try DiskImage(path: "/nonexistent/disk.img", readOnly: true, writesToFile: false) }
    }
}
