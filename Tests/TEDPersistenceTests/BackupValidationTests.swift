import Foundation
import Testing
import TEDCore
@testable import TEDPersistence
@testable import TEDStore

/// A backup holding a document the service could not use is refused before a restore changes anything, even with
/// `--drop` (which deletes the existing data first).
@Suite struct BackupValidationTests {
    /// A SQLite database with a game, a tick sample and a side bet is backed up; `edit` then changes the backup's
    /// text. Returns the path of the edited backup.
    static func editedBackup(in directory: URL, _ edit: (String) -> String) async throws -> String {
        let source = try SQLiteStore(path: directory.appendingPathComponent("source.sqlite").path, logger: BackupTests.logger)
        try await MigrationRunner(store: source, directory: BackupTests.migrationsDirectory).applyPending()
        let base = Date(timeIntervalSince1970: 1_700_000_000)
        for collection in [CollectionName.games, .tickSamples, .sideBets] {
            _ = try await source.documents.insert([BackupTests.document(of: collection, index: 1, base: base)], into: collection)
        }
        let backup = try await BackupWriter(store: source, directory: directory.appendingPathComponent("b").path, keep: 1).write()
        await source.close()
        let reader = try await BackupReader.open(backup.path)
        let text = try String(contentsOfFile: reader.decompressed, encoding: .utf8)
        reader.close()
        let edited = edit(text)
        #expect(edited != text, "the edit changed nothing")
        let path = directory.appendingPathComponent("edited.ndjson").path
        try edited.write(toFile: path, atomically: true, encoding: .utf8)
        return try await BackupTests.gzip(path)
    }

    @Test(arguments: [
        (#""start_tick":{"$numberLong":"0"}"#, #""start_tick":"zero""#, "field start_tick is missing or invalid"),
        (#""recommendation":"BET""#, #""recommendation":"ALL_IN""#, "field recommendation is missing or invalid"),
        (#""_id":"game-1""#, #""_id":"game-9""#, "its fields give the _id game-1"),
        (#""side_bets""#, #""side_betz""#, "collection side_betz is not one ted stores"),
    ])
    func aBackupWithADocumentTheServiceCannotUseIsRefusedBeforeTheDrop(old: String, new: String, reason: String) async throws {
        let directory = try TestServer.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let backup = try await Self.editedBackup(in: directory) { $0.replacingOccurrences(of: old, with: new) }

        // The target holds data a refused restore --drop must leave as it was.
        let target = try SQLiteStore(path: directory.appendingPathComponent("target.sqlite").path, logger: BackupTests.logger)
        try await MigrationRunner(store: target, directory: BackupTests.migrationsDirectory).applyPending()
        let kept = BackupTests.document(of: .games, index: 42, base: Date(timeIntervalSince1970: 1_750_000_000))
        _ = try await target.documents.insert([kept], into: .games)

        let restorer = BackupRestorer(store: target, migrationsDirectory: BackupTests.migrationsDirectory)
        await #expect {
            _ = try await restorer.restore(file: backup, drop: true)
        } throws: { error in
            let message = "\(error)"
            return message.contains(reason) && message.contains("nothing was changed") && message.contains("line ")
        }
        #expect(try await target.documents.find(.games, where: .all, sort: nil, limit: nil) == [kept])
        #expect(try await target.documentCount(of: .tickSamples, matching: .all) == 0)
        #expect(try await target.documentCount(of: .schemaMigrations, matching: .all) == BackupTests.Backend.sqlite.migrationLabels.count)
        await target.close()
    }

    @Test func theUneditedBackupRestores() async throws {
        let directory = try TestServer.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        // A harmless edit (the header's location), so the same path as the refused backups is taken.
        let backup = try await Self.editedBackup(in: directory) { $0.replacingOccurrences(of: "source.sqlite", with: "elsewhere.sqlite") }
        let target = try SQLiteStore(path: directory.appendingPathComponent("target.sqlite").path, logger: BackupTests.logger)
        let result = try await BackupRestorer(store: target, migrationsDirectory: BackupTests.migrationsDirectory)
            .restore(file: backup, drop: true)
        #expect(result.count(of: .games) == 1 && result.count(of: .tickSamples) == 1 && result.count(of: .sideBets) == 1)
        await target.close()
    }
}
