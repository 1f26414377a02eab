import ArgumentParser

@main
struct TED: AsyncParsableCommand {
    static let version = "0.1.0"

    static let configuration = CommandConfiguration(
        commandName: "ted",
        abstract: "Persistence service for the rugs.fun game tracker.",
        version: version,
        subcommands: [ServeCommand.self, MigrateCommand.self, CleanupCommand.self, SimulateCommand.self,
                      BackupCommand.self, RestoreCommand.self, VerifyCommand.self,
                      DeadLetterCommand.self, ExportCommand.self,
                      CatchUpCommand.self],
        defaultSubcommand: ServeCommand.self)
}
