import ArgumentParser
import CLZMA
import Foundation
import VMM
import Monitor

/// `softvmm extract-vmlinux`: the uncompressed kernel out of a bzImage, so that `softvmm run`
/// can start it at startup_64 and skip the in-guest decompressor (which retires billions of
/// instructions decompressing it on every boot).
struct ExtractVmlinux: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "extract-vmlinux",
        abstract: "Write the vmlinux ELF file a bzImage carries (its XZ payload, decompressed).")

    @Argument(help: "The bzImage.") var image: String
    @Option(name: .shortAndLong, help: "Where to write the vmlinux.") var output: String

    func run() throws {
        guard let data = FileManager.default.contents(atPath: image) else { throw ValidationError("cannot read \(image)") }
        let vmlinux = try KernelPayload.vmlinux(fromBzImage: [UInt8](data))
        guard FileManager.default.createFile(atPath: output, contents: Data(vmlinux)) else {
            throw ValidationError("cannot write \(output)")
        }
        print("\(output): \(vmlinux.count) bytes")
    }
}

/// Why a bzImage's payload could not be taken out.
enum PayloadError: Error, CustomStringConvertible {
    case compression(String)
    case xz(String)
    case notLinux

    var description: String {
        switch self {
        case .compression(let name): "the payload is \(name)-compressed: only XZ (Debian's and most distributions' choice) is supported"
        case .xz(let why): "the XZ payload does not decompress: \(why)"
        case .notLinux: "the decompressed payload is not a 64-bit Linux ELF kernel"
        }
    }
}

enum KernelPayload {
    /// The payload's compression, by its first bytes (as the kernel's Makefile.lib writes them).
    static func compression(_ p: ArraySlice<UInt8>) -> String {
        let magics: [(String, [UInt8])] = [("XZ", [0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00]), ("gzip", [0x1F, 0x8B]),
                                           ("bzip2", [0x42, 0x5A, 0x68]), ("LZMA", [0x5D, 0x00, 0x00]),
                                           ("LZO", [0x89, 0x4C, 0x5A, 0x4F]), ("LZ4", [0x02, 0x21, 0x4C, 0x18]),
                                           ("zstd", [0x28, 0xB5, 0x2F, 0xFD])]
        return magics.first { p.starts(with: $0.1) }?.0 ?? "an unknown format"
    }

    /// The payload sits at payload_offset from the protected-mode kernel's start, payload_length
    /// long (the header's checks cover both); XZ with the x86 BCJ filter, the uncompressed
    /// size appended in 4 bytes that the stream's end leaves unread.
    static func vmlinux(fromBzImage image: [UInt8]) throws -> [UInt8] {
        let h = try GuestLoader.linuxHeader(image)
        func field(_ o: Int) -> Int { (0..<4).reduce(0) { $0 | Int(image[o + $1]) << (8 * $1) } }
        let start = h.kernelOffset + field(0x248)
        let payload = image[start..<start + field(0x24C)]
        let kind = compression(payload)
        guard kind == "XZ" else { throw PayloadError.compression(kind) }
        let out = try xz(payload)
        guard GuestLoader.isLinuxELF(out) else { throw PayloadError.notLinux }
        return out
    }

    static func xz(_ input: ArraySlice<UInt8>) throws -> [UInt8] {
        var stream = lzma_stream()
        guard lzma_stream_decoder(&stream, UInt64.max, 0) == LZMA_OK else { throw PayloadError.xz("liblzma would not start a decoder") }
        defer { lzma_end(&stream) }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        let status: lzma_ret = input.withUnsafeBufferPointer { inBuf in
            stream.next_in = inBuf.baseAddress
            stream.avail_in = inBuf.count
            while true {
                let r = chunk.withUnsafeMutableBufferPointer { outBuf -> lzma_ret in
                    stream.next_out = outBuf.baseAddress
                    stream.avail_out = outBuf.count
                    return lzma_code(&stream, LZMA_FINISH)
                }
                out += chunk[0..<chunk.count - stream.avail_out]
                if r != LZMA_OK { return r }
            }
        }
        switch status {
        case LZMA_STREAM_END: return out
        case LZMA_DATA_ERROR: throw PayloadError.xz("corrupt data after \(stream.total_in) bytes")
        case LZMA_BUF_ERROR: throw PayloadError.xz("it ends early, after \(stream.total_in) bytes")
        case LZMA_FORMAT_ERROR: throw PayloadError.xz("not an XZ stream")
        case LZMA_OPTIONS_ERROR: throw PayloadError.xz("filters liblzma does not support")
        default: throw PayloadError.xz("liblzma error \(status.rawValue) after \(stream.total_in) bytes")
        }
    }
}
