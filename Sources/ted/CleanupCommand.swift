import ArgumentParser
import Foundation
import Logging
import TEDCore
import TEDPersistence
import TEDStore

/// `ted cleanup`: the retention cleanup on demand. `--dry-run` reports what it would delete and deletes nothing.
struct CleanupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cleanup",
        abstract: "Delete records older than their retention now (or report them with --dry-run).",
        discussion: "Runs under the same lease as the service's daily cleanup, so it never overlaps with one.")

    @Flag(help: "Report per collection what would be deleted; delete nothing.")
    var dryRun = false

    func run() async throws {
        let settings = try SettingsLoader.loadOrExit(environment: ProcessInfo.processInfo.environment)
        LoggingSetup.bootstrap(settings)
        let logger = Logger(label: "ted.cleanup")
        let store: any DocumentStore
        do {
            store = try StoreFactory.make(settings: settings, logger: Logger(label: "ted.store"))
        } catch {
            throw Self.failure("Cannot open the store: \(MongoURL.scrub(error.message, url: settings.mongoURL))")
        }
        let cleanup = RetentionCleanup(store: store, settings: settings, logger: logger)
        do throws(StoreError) {
            if dryRun {
                try await preview(cleanup)
            } else {
                try await runNow(cleanup)
            }
            await store.close()
        } catch {
            await store.close()
            throw Self.failure(MongoURL.scrub(error.message, url: settings.mongoURL))
        }
    }

    private func preview(_ cleanup: RetentionCleanup) async throws(StoreError) {
        print("Dry run: nothing is deleted.")
        for row in try await cleanup.preview(now: Date()) {
            let oldest = row.oldest.map(Timestamp.formatISO8601) ?? "-"
            print("  \(row.collection): \(row.count) would be deleted (created before \(Timestamp.formatISO8601(row.cutoff)); oldest \(oldest))")
        }
    }

    private func runNow(_ cleanup: RetentionCleanup) async throws(StoreError) {
        switch try await cleanup.run(clock: SystemClock()) {
        case .completed(let deleted, _):
            for (collection, _) in cleanup.cutoffs(now: Date()) { print("  \(collection): \(deleted[collection] ?? 0) deleted") }
            print("✓ Data cleanup completed")
        case .leaseHeld(let holder):
            throw StoreError(.operationFailed, "another instance (\(holder ?? "unknown")) is running the cleanup; try again later")
        case .stopped, .notDue:
            // Without a schedule only a lost lease (a stall longer than its TTL) ends a run early.
            throw StoreError(.operationFailed, "the cleanup stopped before completion: the lease passed to another instance")
        }
    }

    private static func failure(_ message: String) -> ExitCode {
        FileHandle.standardError.write(Data("ted cleanup: \(message)\n".utf8))
        return ExitCode(1)
    }
}
