import ArgumentParser
import Foundation
import TEDCore
import TEDPersistence
import TEDStore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `ted export`: records of the configured store as NDJSON or CSV files for other tools (DuckDB, pandas, a
/// spreadsheet), streamed page by page.
struct ExportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Export stored records as NDJSON or CSV (one collection, or all of them into a directory).",
        discussion: """
            Reads the store the settings name (environment and ENV_FILE / .env, as `ted serve`), \
            \(CollectionExporter.defaultPageSize) records at a time in _id order, and writes each collection's \
            documented schema (README.md, "Exports"): the same bytes from MongoDB and SQLite for the same records. \
            --since/--until select [since, until) on games.created_at, tick_samples/predictions/side_bets.timestamp \
            and metrics_hourly.hour_start; --game on game_id (metrics_hourly has none: --all leaves it out). A file \
            appears only when complete. The service may keep running: records written during the export may or may \
            not be in it. Exit codes: 0 done, 1 error, 64 bad options.
            """)

    @Option(help: "The collection: games, tick_samples, predictions, side_bets or metrics_hourly.")
    var collection: String?

    @Flag(help: "Every collection, one file each (<collection>.<format>) in the directory --out.")
    var all = false

    @Option(help: "Records from this time on (ISO-8601 date-time, or a date: UTC midnight).")
    var since: String?

    @Option(help: "Records before this time (ISO-8601 date-time, or a date: UTC midnight).")
    var until: String?

    @Option(help: "Only the records of this game_id.")
    var game: String?

    @Option(help: "ndjson or csv.")
    var format: String?

    @Option(help: "The file to write (a directory with --all).")
    var out: String?

    func validate() throws {
        do {
            _ = try plan()
        } catch {
            throw ValidationError(error.message)
        }
    }

    private func plan() throws(ExportError) -> ExportPlan {
        try ExportPlan(collection: collection, all: all, since: since, until: until, game: game, format: format, out: out)
    }

    func run() async throws {
        let plan: ExportPlan
        do {
            plan = try self.plan()
        } catch {
            throw CommandOutput.failure(error.message)
        }
        try await BackupSession.run { store, settings in
            let exporter = CollectionExporter(store: store)
            let line = isatty(STDERR_FILENO) == 1 ? ProgressLine() : nil
            do throws(ExportError) {
                for collection in plan.skipped { print("  \(collection): left out (its records have no game_id)") }
                for job in plan.jobs {
                    var total: Int?
                    if line != nil { total = try await exporter.count(job.schema, query: plan.query) }
                    let result = try await exporter.export(job.schema, query: plan.query, format: plan.format, to: job.path) { progress in
                        line?.show(progress, total: total)
                    }
                    line?.clear()
                    print("✓ \(job.schema.collection): \(result.records) record(s) → \(job.path) (\(CommandOutput.formatBytes(result.bytes)))")
                }
            } catch {
                line?.clear()
                throw CommandOutput.failure(MongoURL.scrub(error.message, url: settings.mongoURL))
            }
        }
    }
}

/// The progress line on a terminal's standard error, redrawn at most ten times a second.
private final class ProgressLine {
    private var shown: ContinuousClock.Instant?

    func show(_ progress: ExportProgress, total: Int?) {
        let now = ContinuousClock.now
        if let shown, now - shown < .milliseconds(100) { return }
        shown = now
        var text = "\(progress.collection): \(progress.records)"
        if let total, total > 0 { text += " of \(total) (\(min(100, progress.records * 100 / total))%)" }
        FileHandle.standardError.write(Data("\r\u{1B}[K\(text) record(s), \(CommandOutput.formatBytes(progress.bytes))".utf8))
    }

    func clear() {
        guard shown != nil else { return }
        shown = nil
        FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
    }
}
