import ArgumentParser

@main
struct SoftVMM: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "softvmm",
        abstract: "A virtual machine monitor for x86-64 guests that needs no hardware virtualization.",
        subcommands: [Run.self, Disasm.self, DecoderCheckCommand.self, DecoderCorpus.self, DecoderCases.self, Faults.self, CPUCheckCommand.self,
                      Record.self, TraceCommand.self, ReplayCommand.self, Restore.self, ExtractVmlinux.self])
}
