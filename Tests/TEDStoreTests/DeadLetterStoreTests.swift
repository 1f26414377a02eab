import Foundation
import Testing
import TEDCore
@testable import TEDStore

/// The dead-letter port (`DeadLetterStore`) on both real stores.
@Suite struct DeadLetterStoreTests {
    static let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    static func prediction(_ tick: Int) -> StoreRecord {
        .prediction(Prediction(gameID: "g", predictedAtTick: tick, predictedEndTick: 100, confidence: 0.5, modelVersion: "m",
                               timestamp: t0, createdAt: t0))
    }

    static func letter(_ record: StoreRecord, code: Int = 121, at seconds: Double) -> DeadLetter {
        DeadLetter(refused: record, error: StoreError(.operationFailed, "refused \(code)", code: code),
                   at: t0.addingTimeInterval(seconds))
    }

    @Test(arguments: PortStores.Backend.allCases)
    func lettersAreListedOldestFirstWithTheirRecordAndError(_ backend: PortStores.Backend) async throws {
        let store = try PortStores.make(backend)
        #expect(try await store.deadLetters(limit: 10) == [], "no letter, no table yet")
        #expect(try await store.deadLetterCount() == 0)
        let letters = [Self.letter(Self.prediction(3), at: 30), Self.letter(Self.prediction(1), at: 10),
                       Self.letter(Self.prediction(2), code: 2, at: 20)]
        try await store.addDeadLetters(letters)
        #expect(try await store.deadLetterCount() == 3)
        #expect(try await store.deadLetters(limit: 10) == [letters[1], letters[2], letters[0]])
        #expect(try await store.deadLetters(limit: 2) == [letters[1], letters[2]])
        #expect(try await store.deadLetters(limit: 0) == [])
        await store.close()
    }

    @Test(arguments: PortStores.Backend.allCases)
    func aRecordRefusedAgainReplacesItsLetterAndMovesLast(_ backend: PortStores.Backend) async throws {
        let store = try PortStores.make(backend)
        try await store.addDeadLetters([Self.letter(Self.prediction(1), at: 10), Self.letter(Self.prediction(2), at: 20)])
        let again = Self.letter(Self.prediction(1), code: 2, at: 30)
        try await store.addDeadLetters([again])
        #expect(try await store.deadLetterCount() == 2)
        #expect(try await store.deadLetters(limit: 10) == [Self.letter(Self.prediction(2), at: 20), again])
        await store.close()
    }

    @Test(arguments: PortStores.Backend.allCases)
    func removingTakesOnlyTheNamedRecordsOfThatCollection(_ backend: PortStores.Backend) async throws {
        let store = try PortStores.make(backend)
        let tick = StoreRecord.tickSample(TickSample(gameID: "g", tick: 1, price: 1, features: nil, timestamp: Self.t0, createdAt: Self.t0))
        let bet = StoreRecord.sideBet(SideBet(gameID: "g", placedAtTick: 1, probability: 0.3, expectedValue: 0.2, confidence: 0.5,
                                              recommendation: .bet, timestamp: Self.t0, createdAt: Self.t0))
        #expect(tick.id == bet.id, "the same _id in two collections")
        let letters = [Self.letter(Self.prediction(1), at: 1), Self.letter(tick, at: 2), Self.letter(bet, at: 3)]
        try await store.addDeadLetters(letters)
        try await store.removeDeadLetters(of: .sideBets, recordIDs: [bet.id, Self.prediction(1).id, "absent"])
        #expect(try await store.deadLetters(limit: 10) == [letters[0], letters[1]])
        try await store.removeDeadLetters(of: .predictions, recordIDs: [])
        #expect(try await store.deadLetterCount() == 2)
        await store.close()
    }

    @Test(arguments: PortStores.Backend.allCases)
    func purgeDeletesEveryLetterPastOneBatchAndSaysHowMany(_ backend: PortStores.Backend) async throws {
        let store = try PortStores.make(backend)
        #expect(try await store.purgeDeadLetters() == 0)
        let count = SQLiteStore.deadLetterPurgeBatch + 1
        try await store.addDeadLetters((0..<count).map { Self.letter(Self.prediction($0), at: Double($0)) })
        #expect(try await store.purgeDeadLetters() == count)
        #expect(try await store.deadLetterCount() == 0)
        await store.close()
    }

    @Test(arguments: PortStores.Backend.allCases)
    func aLetterWhoseRecordCannotBeReadIsListedWithoutIt(_ backend: PortStores.Backend) async throws {
        let store = try PortStores.make(backend)
        var document = try DeadLetterDocument.encode(Self.letter(Self.prediction(1), at: 1))
        document["record"] = .string("{not json")
        _ = try await store.documents.upsert([document], into: .deadLetters)
        let listed = try await store.deadLetters(limit: 10)
        #expect(listed.count == 1)
        #expect(listed.first?.record == nil)
        #expect(listed.first?.recordID == Self.prediction(1).id)
        #expect(listed.first?.errorCode == 121)
        await store.close()
    }
}
