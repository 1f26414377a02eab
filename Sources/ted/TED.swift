import ArgumentParser
import Foundation

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

    /// ArgumentParser's own `main`, after the allocator is tuned: here, first thing on the main thread, before any
    /// other thread has allocated. From `ServeCommand.run`, which runs on another thread, a second malloc arena
    /// already existed and the limit no longer applied to it (BENCHMARKS.md, memory). `serve` also moves Swift
    /// concurrency onto NIO's event loops here, while this is still the main thread and no task has started.
    static func main() async {
        MemoryTuning.apply(environment: ProcessInfo.processInfo.environment)
        do {
            var command = try parseAsRoot()
            if command is ServeCommand { EventLoopExecutor.install() }
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            exit(withError: error)
        }
    }
}
