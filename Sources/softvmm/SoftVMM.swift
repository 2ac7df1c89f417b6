import ArgumentParser
import Foundation

@main
struct SoftVMM: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "softvmm",
        abstract: "A virtual machine monitor for x86-64 guests that needs no hardware virtualization.",
        subcommands: [Run.self, Exec.self, Disasm.self, DecoderCheckCommand.self, DecoderCorpus.self, DecoderCases.self, Faults.self, CPUCheckCommand.self,
                      Record.self, TraceCommand.self, ReplayCommand.self, Restore.self, ExtractVmlinux.self])

    /// Under the name qemu-system-x86_64 (or softvmm-system-x86_64, the link the build makes),
    /// softvmm is the QEMU-compatible front end; otherwise its own command line.
    static func main() {
        let name = CommandLine.arguments.first.map { URL(fileURLWithPath: $0).lastPathComponent } ?? ""
        if name.hasPrefix("qemu-system") || name.hasPrefix("softvmm-system") {
            QEMUFrontEnd.program = name
            Foundation.exit(QEMUFrontEnd.main(Array(CommandLine.arguments.dropFirst())))
        }
        main(nil)
    }
}
