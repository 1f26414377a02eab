import Foundation
import Logging
import Testing
import TEDCore
@testable import TEDStore

/// `dead_letters` in SQLite's column layout (`SQLiteRecordColumns.deadLetters`,
/// `migrations/sqlite/0008_dead_letter_columns.json`): the collection, the record's `_id`, the error and the times are
/// columns, the refused record its Extended JSON text; every row reads back as the letter kept, and a database written
/// by an older ted converts in place and back.
@Suite struct DeadLetterColumnsTests {
    static func letter(_ tick: Int, code: Int = 121, at seconds: Double) -> DeadLetter {
        DeadLetterStoreTests.letter(DeadLetterStoreTests.prediction(tick), code: code, at: seconds)
    }

    /// Letters as the dead-letter keeps them, and rows of other shapes: a letter whose record cannot be read back, one
    /// without a record, one whose error code is text, one with a field more.
    static func documents() throws -> (letters: [Document], unusual: [Document]) {
        let letters = try [letter(1, at: 10), letter(2, code: 11000, at: 20), letter(3, at: 5)].map(DeadLetterDocument.encode)
        var unreadable = try DeadLetterDocument.encode(letter(4, at: 30))
        unreadable["record"] = .string("{not json")
        var withoutRecord = try DeadLetterDocument.encode(letter(5, at: 31))
        withoutRecord["record"] = .null
        var textCode = try DeadLetterDocument.encode(letter(6, at: 32))
        textCode["error_code"] = "E121"
        var extra = try DeadLetterDocument.encode(letter(7, at: 33))
        extra["source"] = "ted-v1"
        return (letters + [unreadable, withoutRecord], [textCode, extra])
    }

    static func columns(_ store: SQLiteStore) async throws -> [String] {
        try await SQLiteLayoutMigrationTests.columns(of: "dead_letters", store)
    }

    static let expectedColumns = ["_id", "collection", "record_id", "record", "error_code", "error_message", "failed_at",
                                  "created_at", "document"]

    @Test func lettersReadBackFromTheColumns() async throws {
        let store = try PredictionColumnsTests.makeStore()
        let letters = [Self.letter(1, at: 10), Self.letter(2, code: 11000, at: 20), Self.letter(3, at: 5)]
        try await store.addDeadLetters(letters)
        #expect(try await Self.columns(store) == Self.expectedColumns)
        #expect(try await SQLiteLayoutMigrationTests.wholeDocuments(of: "dead_letters", store) == [])
        #expect(try await store.deadLetters(limit: 10) == [letters[2], letters[0], letters[1]])
        let codes = try await store.connection.run { database throws(StoreError) in
            try database.rows(#"SELECT error_code, collection, record_id FROM "dead_letters" ORDER BY created_at"#) {
                "\($0.int64(0)) \($0.text(1) ?? "") \($0.text(2) ?? "")"
            }
        }
        #expect(codes == ["121 predictions \(letters[2].recordID)", "121 predictions \(letters[0].recordID)",
                          "11000 predictions \(letters[1].recordID)"])
        await store.close()
    }

    /// Versions 0001 to 0007 applied, and `dead_letters` as ted kept it then (its table and each row's `doc`).
    @Test func anOldDatabaseConvertsInPlaceAndBack() async throws {
        let (letters, unusual) = try Self.documents()
        let documents = letters + unusual
        let store = try PredictionColumnsTests.makeStore()
        let runner = try SQLiteLayoutMigrationTests.runner(store)
        try await runner.migrate(to: 7)
        try await SQLiteLayoutMigrationTests.keepAsDocuments("dead_letters", documents, indexSQL: [], in: store)

        let labels = SQLiteLayoutMigrationTests.layoutLabels(from: "0008_dead_letter_columns")
        #expect(try await runner.up().applied.map(\.label) == labels)
        #expect(try await Self.columns(store) == Self.expectedColumns)
        let stored = try await store.find(.deadLetters, where: .all, sort: DocumentSort("_id"), limit: nil)
        #expect(try PredictionColumnsTests.text(stored) == PredictionColumnsTests.text(PredictionColumnsTests.sorted(documents)))
        #expect(try await SQLiteLayoutMigrationTests.wholeDocuments(of: "dead_letters", store)
                == unusual.map { $0["_id"]!.stringValue! }.sorted())
        let listed = documents.sorted { ($0["created_at"]!.dateValue!, $0["_id"]!.stringValue!) < ($1["created_at"]!.dateValue!, $1["_id"]!.stringValue!) }
        #expect(try await store.deadLetters(limit: 100) == listed.map(DeadLetterDocument.decode), "the same letters, in the same order")
        try await store.addDeadLetters([Self.letter(9, at: 40)])

        #expect(try await runner.down(steps: labels.count).reverted.map(\.label) == labels.reversed())
        #expect(try await Self.columns(store) == ["_id", "created_at", "doc"])
        let docs = try await store.connection.run { database throws(StoreError) in
            try database.rows(#"SELECT doc FROM "dead_letters" ORDER BY _id"#) { $0.text(0) ?? "" }
        }
        let added = try DeadLetterDocument.encode(Self.letter(9, at: 40))
        #expect(docs == (try PredictionColumnsTests.text(PredictionColumnsTests.sorted(documents + [added]))))
        #expect(try await runner.up().applied.count == labels.count)
        #expect(try await store.deadLetterCount() == documents.count + 1)
        await store.close()
    }

    /// A database where nothing was refused yet has no table for 0008 to convert: the first letter creates it, in
    /// the column layout.
    @Test func aFreshDatabaseHasNoTableUntilTheFirstLetter() async throws {
        let store = try PredictionColumnsTests.makeStore()
        _ = try await SQLiteLayoutMigrationTests.runner(store).up()
        #expect(try await Self.columns(store) == [])
        #expect(try await store.deadLetterCount() == 0)
        try await store.addDeadLetters([Self.letter(1, at: 1)])
        #expect(try await Self.columns(store) == Self.expectedColumns)
        await store.close()
    }
}
