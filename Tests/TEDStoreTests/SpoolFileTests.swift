import Foundation
import Logging
import TEDCore
import Testing
@testable import TEDStore
import TEDTestSupport

/// `SpoolFile` on real files: order, durability across reopen, the size limit, quarantine, and damaged files.
@Suite struct SpoolFileTests {
    /// Quiet: the damage tests make the spool log errors on purpose.
    static let logger = Logger(label: "ted.test.spool", factory: { _ in SwiftLogNoOpLogHandler() })

    // MARK: Records (dates whole milliseconds, as stored)

    static func date(_ milliseconds: Int64) -> Date { Date(timeIntervalSince1970: Double(milliseconds) / 1000) }

    static func tick(_ game: String, _ tick: Int, price: Double? = nil) -> StoreRecord {
        .tickSample(TickSample(
            gameID: game, tick: tick, price: price ?? Double(tick) + 0.5,
            features: JSONObject([("n", .int(Int64(tick))), ("pad", .string(String(repeating: "p", count: 60)))]),
            timestamp: date(1_700_000_000_000 + Int64(tick)), createdAt: date(1_700_000_000_500 + Int64(tick))))
    }

    static func game(_ id: String) -> StoreRecord {
        .game(GameRecord(
            gameID: id, startTick: 0, endTick: 10, peakPrice: 2.5, peakTick: 4, finalPrice: 0.1, ended: true,
            rugged: true, hadPredictions: false, predictionCount: 0, predictionAccuracy: nil, sideBetsPlaced: 1,
            createdAt: date(1_700_000_001_000), updatedAt: date(1_700_000_002_000)))
    }

    static func prediction(_ game: String, _ tick: Int) -> StoreRecord {
        .prediction(Prediction(
            gameID: game, predictedAtTick: tick, predictedEndTick: tick + 50, confidence: 0.75,
            uncertaintyBounds: UncertaintyBounds(lower: 1, upper: 2), modelVersion: "m1",
            timestamp: date(1_700_000_003_000), createdAt: date(1_700_000_003_000)))
    }

    static func sideBet(_ game: String, _ tick: Int) -> StoreRecord {
        .sideBet(SideBet(
            gameID: game, placedAtTick: tick, probability: 0.4, expectedValue: 0.1, confidence: 0.9,
            recommendation: .bet, timestamp: date(1_700_000_004_000), createdAt: date(1_700_000_004_000)))
    }

    // MARK: Helpers

    static func path(in directory: URL) -> String { directory.appendingPathComponent("spool/spool.sqlite").path }

    static func open(_ path: String, maxBytes: Int64 = 1 << 30) async throws -> SpoolFile {
        try await SpoolFile(path: path, maxBytes: maxBytes, logger: logger)
    }

    /// Peeks and removes until the spool is empty; returns every batch.
    static func drain(_ spool: SpoolFile, limit: Int = 1000) async throws -> [SpoolBatch] {
        var batches: [SpoolBatch] = []
        while true {
            let batch = try await spool.peekOldest(limit: limit)
            if batch.isEmpty { return batches }
            #expect(Set(batch.seqs).count == batch.seqs.count)
            #expect(try await spool.remove(batch) == batch.seqs.count)
            batches.append(batch)
            try #require(batches.count < 5_000, "drain does not end")
        }
    }

    static func ticks(_ game: String, _ range: Range<Int>) -> [StoreRecord] { range.map { tick(game, $0) } }

    /// A closed spool file holding `records`, appended in batches of `batch`.
    static func makeFile(_ records: [StoreRecord], batch: Int = 200) async throws -> String {
        let path = path(in: try TestEnvironment.temporaryDirectory())
        let spool = try await open(path)
        for start in stride(from: 0, to: records.count, by: batch) {
            try await spool.append(Array(records[start..<min(start + batch, records.count)]))
        }
        await spool.close()
        #expect(!FileManager.default.fileExists(atPath: path + "-wal"), "close checkpoints and removes the WAL")
        return path
    }

    // MARK: Order

    @Test func appendPeekRemoveGoesOldestFirstOneCollectionAtATime() async throws {
        let spool = try await Self.open(Self.path(in: try TestEnvironment.temporaryDirectory()))
        #expect(spool.isEmpty)
        #expect(try await spool.peekOldest(limit: 10).isEmpty)
        try await spool.append([Self.game("g1"), Self.tick("a", 1), Self.tick("a", 2)])
        try await spool.append([Self.prediction("a", 1), Self.game("g2"), Self.tick("a", 3)])
        try await spool.append([Self.sideBet("a", 1)])
        #expect(spool.count == 7)
        #expect(spool.countByCollection == [.games: 2, .tickSamples: 3, .predictions: 1, .sideBets: 1])
        #expect(spool.sizeBytes > 0 && spool.usedBytes <= spool.sizeBytes)

        let games = try await spool.peekOldest(limit: 10)
        #expect(games.collection == .games)
        #expect(games.records == [Self.game("g1"), Self.game("g2")])
        #expect(games.seqs == games.entries.map(\.seq) && games.seqs == games.seqs.sorted())
        #expect(try await spool.peekOldest(limit: 10) == games, "peeking again without removing returns the same batch")
        #expect(try await spool.remove(games) == 2)
        #expect(try await spool.remove(games) == 0, "removing twice is harmless")

        let firstTicks = try await spool.peekOldest(limit: 2)
        #expect(firstTicks.collection == .tickSamples)
        #expect(firstTicks.records == [Self.tick("a", 1), Self.tick("a", 2)])
        try await spool.remove(firstTicks)
        #expect(try await spool.peekOldest(limit: 10).records == [Self.prediction("a", 1)])
        try await spool.remove(try await spool.peekOldest(limit: 10))
        #expect(try await spool.peekOldest(limit: 10).records == [Self.tick("a", 3)])
        try await spool.remove(try await spool.peekOldest(limit: 10))
        #expect(spool.countByCollection == [.sideBets: 1])
        #expect(try await spool.peekOldest(limit: 10).records == [Self.sideBet("a", 1)])
        try await spool.remove(try await spool.peekOldest(limit: 10))
        #expect(spool.isEmpty && spool.count == 0)
        #expect(try await spool.peekOldest(limit: 10).isEmpty)
        #expect(spool.quarantinedCount == 0 && spool.recovery == nil)
        await spool.close()
    }

    /// Versions of one record merge (a fact keeps its first version); every row leaves the spool with the batch.
    @Test func aBatchMergesTheVersionsOfARecordAndRemovesAll() async throws {
        let spool = try await Self.open(Self.path(in: try TestEnvironment.temporaryDirectory()))
        try await spool.append([Self.tick("a", 1, price: 1.25), Self.tick("a", 2)])
        try await spool.append([Self.tick("a", 1, price: 9.75)])
        #expect(spool.count == 3)
        let batch = try await spool.peekOldest(limit: 10)
        #expect(batch.records == [Self.tick("a", 2), Self.tick("a", 1, price: 1.25)])
        #expect(batch.seqs.count == 3 && batch.superseded == 1)
        #expect(batch.entries.last?.folded == [batch.seqs[0]])
        #expect(try await spool.remove(batch) == 3)
        #expect(spool.isEmpty)
        await spool.close()
    }

    /// A spill moves up to 10,000 records in one append: more pages than the spool's page cache holds, so SQLite
    /// writes some to the WAL before the commit. Every record is still there, counted and in order, after a reopen.
    @Test func aSpillSizedAppendLargerThanThePageCacheIsKeptWhole() async throws {
        let path = Self.path(in: try TestEnvironment.temporaryDirectory())
        let records = Self.ticks("a", 0..<9_000) + [Self.game("g1"), Self.prediction("a", 3)] + Self.ticks("b", 0..<998)
        var spool = try await Self.open(path)
        try await spool.append(records)
        #expect(spool.countByCollection == [.tickSamples: 9_998, .games: 1, .predictions: 1])
        await spool.close()

        spool = try await Self.open(path)
        #expect(spool.count == records.count)
        let replayed = try await Self.drain(spool, limit: 1_000).flatMap(\.records)
        #expect(Set(replayed.map(\.id)) == Set(records.map(\.id)) && replayed.count == records.count)
        #expect(replayed.filter { $0.collection == .tickSamples } == records.filter { $0.collection == .tickSamples })
        await spool.close()
    }

    @Test func reopeningKeepsEverythingInOrder() async throws {
        let path = Self.path(in: try TestEnvironment.temporaryDirectory())
        var spool = try await Self.open(path)
        try await spool.append(Self.ticks("a", 0..<50))
        try await spool.append([Self.game("g1")] + Self.ticks("a", 50..<60))
        try await spool.remove(try await spool.peekOldest(limit: 10))  // ticks 0..<10
        let counts = spool.countByCollection
        await spool.close()

        spool = try await Self.open(path)
        #expect(spool.recovery == nil)
        #expect(spool.countByCollection == counts)
        #expect(spool.count == 51)
        try await spool.append([Self.tick("b", 1)])
        let batches = try await Self.drain(spool, limit: 20)
        let records = batches.flatMap(\.records)
        #expect(records == Self.ticks("a", 10..<50) + [Self.game("g1")] + Self.ticks("a", 50..<60) + [Self.tick("b", 1)])
        #expect(spool.isEmpty)
        await spool.close()

        spool = try await Self.open(path)
        #expect(spool.isEmpty)
        await spool.close()
    }

    // MARK: Size limit

    @Test func theSizeLimitRefusesWholeAppendsWithADistinctError() async throws {
        let path = Self.path(in: try TestEnvironment.temporaryDirectory())
        let maxBytes: Int64 = 256 * 1024
        var spool = try await Self.open(path, maxBytes: maxBytes)
        var next = 0
        var refusal: StoreError?
        while refusal == nil {
            do {
                try await spool.append(Self.ticks("a", next..<next + 100))
                next += 100
            } catch {
                refusal = error
            }
            try #require(next < 100_000, "the limit is never reached")
        }
        let error = try #require(refusal)
        #expect(error.isSpoolFull && error.code == SpoolFile.fullCode && error.kind == .operationFailed)
        #expect(spool.count == next, "the refused append wrote nothing")
        #expect(spool.usedBytes <= maxBytes)
        #expect(next > 0)

        // Larger than the whole limit: refused, and nothing of it is kept.
        do {
            try await spool.append(Self.ticks("big", 0..<2000))
            Issue.record("a batch larger than the limit was accepted")
        } catch {
            #expect(error.isSpoolFull)
        }
        #expect(spool.count == next)

        // Freed pages count as free: after a replay, the same appends fit again.
        try await spool.remove(try await spool.peekOldest(limit: 500))
        try await spool.append(Self.ticks("b", 0..<100))
        #expect(spool.count == next - 500 + 100)
        await spool.close()

        // Nothing partial on disk either.
        spool = try await Self.open(path, maxBytes: maxBytes)
        #expect(spool.count == next - 500 + 100)
        let records = try await Self.drain(spool).flatMap(\.records)
        #expect(records == Self.ticks("a", 500..<next) + Self.ticks("b", 0..<100))
        await spool.close()
    }

    // MARK: Damage

    @Test func aRowWithAFlippedByteIsQuarantinedAndTheOthersReplay() async throws {
        let records = Self.ticks("a", 0..<20) + [Self.tick("a", 777, price: 777.25)] + Self.ticks("a", 20..<40)
        let path = try await Self.makeFile(records)
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        let marker = Data("777.25".utf8)
        let found = try #require(bytes.range(of: marker), "the document is in the file")
        #expect(bytes[found.upperBound...].range(of: marker) == nil, "the marker is unique")
        bytes[found.lowerBound] = UInt8(ascii: "8")  // still valid JSON: only the checksum can tell
        try bytes.write(to: URL(fileURLWithPath: path))

        var spool = try await Self.open(path)
        #expect(spool.recovery == nil, "the file itself is sound")
        #expect(spool.count == 41)
        let replayed = try await Self.drain(spool, limit: 7).flatMap(\.records)
        #expect(replayed == Self.ticks("a", 0..<20) + Self.ticks("a", 20..<40))
        #expect(spool.quarantinedCount == 1)
        #expect(spool.isEmpty)
        await spool.close()

        spool = try await Self.open(path)
        #expect(spool.quarantinedCount == 1, "the quarantine is kept")
        #expect(spool.isEmpty)
        await spool.close()
    }

    @Test func aFileTruncatedToHalfOpensAndItsReadableRowsAreRecovered() async throws {
        let records = Self.ticks("a", 0..<2000)
        let path = try await Self.makeFile(records)
        let size = try #require(try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.truncate(atOffset: UInt64(size / 2))
        try handle.close()

        var spool = try await Self.open(path)
        let recovery = try #require(spool.recovery)
        #expect(FileManager.default.fileExists(atPath: recovery.movedAsideTo))
        #expect(recovery.movedAsideTo.hasPrefix(path + ".corrupt-"))
        #expect(recovery.recovered > 0 && recovery.recovered < 2000)
        #expect(recovery.unreadableIsExact)
        #expect(recovery.recovered + recovery.unreadable == 2000)
        #expect(spool.count == recovery.recovered)
        let replayed = try await Self.drain(spool).flatMap(\.records)
        #expect(replayed.count == recovery.recovered)
        let original = Set(records.map(\.id))
        #expect(replayed.allSatisfy { original.contains($0.id) && records.contains($0) })
        let ticks = replayed.compactMap { if case .tickSample(let t) = $0 { t.tick } else { nil } }
        #expect(ticks == ticks.sorted() && Set(ticks).count == ticks.count, "recovered rows keep their order")

        // The fresh spool works and is healthy when reopened.
        try await spool.append([Self.game("after")])
        await spool.close()
        spool = try await Self.open(path)
        #expect(spool.recovery == nil)
        #expect(try await spool.peekOldest(limit: 5).records == [Self.game("after")])
        await spool.close()
    }

    static func key(_ record: StoreRecord) -> String { "\(record.collection):\(record.id)" }

    /// A record too big for one page (its cell continues on overflow pages).
    static func bigTick(_ game: String, _ tick: Int) -> StoreRecord {
        .tickSample(TickSample(
            gameID: game, tick: tick, price: 1.5,
            features: JSONObject([("pad", .string(String(repeating: "\(tick % 10)", count: 9_000)))]),
            timestamp: date(1_700_000_000_000), createdAt: date(1_700_000_000_500)))
    }

    @Test func thePageScannerReadsEveryRowOfAHealthyFileIncludingOverflowPages() async throws {
        let records = Self.ticks("a", 0..<600) + [Self.bigTick("big", 1)] + Self.ticks("b", 0..<10) + [Self.bigTick("big", 2)]
        let path = try await Self.makeFile(records)
        guard let scanner = SpoolPageScanner(path: path) else {
            Issue.record("cannot open \(path)")
            return
        }
        var found: [SpoolRawRow] = []
        try scanner.forEachRow { found.append($0) }
        let decoded = try found.sorted { $0.seq < $1.seq }.map { row in try row.validate().get() }
        #expect(decoded == records)
    }

    /// Truncates the file to 70% and zeroes the `spool` table's root (page 2: the first table created), so no b-tree
    /// lookup reaches a row although most leaf pages are intact.
    static func cutTreeAndTail(_ path: String) throws {
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        #expect(bytes[4096] == 0x05, "page 2 is the root of a table b-tree with interior pages")
        bytes = bytes.prefix(bytes.count * 7 / 10)
        bytes.replaceSubrange(4096..<8192, with: Data(count: 4096))
        try bytes.write(to: URL(fileURLWithPath: path))
    }

    /// The failure the fault suite found: once the interior pages are lost (here the root, and a truncation), the leaf
    /// pages are intact but out of reach of any b-tree lookup; the page scan reads them.
    @Test func aLostRootAndATruncationStillRecoverTheLeafPagesBeforeTheCut() async throws {
        let records = Self.ticks("a", 0..<6000) + [Self.bigTick("big", 1)] + Self.ticks("b", 0..<4500)
        let path = try await Self.makeFile(records, batch: 35)
        try Self.cutTreeAndTail(path)

        let spool = try await Self.open(path)
        let recovery = try #require(spool.recovery)
        #expect(recovery.unreadableIsExact)
        #expect(recovery.recovered + recovery.unreadable == records.count)
        #expect(recovery.recovered >= records.count / 2, "recovered \(recovery.recovered) of \(records.count)")
        let replayed = try await Self.drain(spool).flatMap(\.records)
        #expect(replayed.count == recovery.recovered)
        let positions = Dictionary(uniqueKeysWithValues: records.enumerated().map { (Self.key($1), $0) })
        let order = replayed.compactMap { positions[Self.key($0)] }
        #expect(order.count == replayed.count, "only appended records come back")
        #expect(Set(order).count == order.count, "no row comes back twice")
        #expect(zip(replayed, order).allSatisfy { $0 == records[$1] }, "every row comes back as appended")
        #expect(order == order.sorted(), "recovered rows keep their order")
        await spool.close()
    }

    /// Rows already replayed (deleted) are not brought back by the page scan: replaying one again could overwrite a
    /// newer version of its record in the store.
    @Test func aDamagedFileNeverBringsBackReplayedRows() async throws {
        let records = Self.ticks("a", 0..<4000) + Self.ticks("b", 0..<4000)
        let path = Self.path(in: try TestEnvironment.temporaryDirectory())
        var spool = try await Self.open(path)
        for start in stride(from: 0, to: records.count, by: 100) {
            try await spool.append(Array(records[start..<start + 100]))
        }
        var removed: [StoreRecord] = []
        while removed.count < 3000 {
            let batch = try await spool.peekOldest(limit: 500)
            #expect(try await spool.remove(batch) == batch.seqs.count)
            removed += batch.records
        }
        await spool.close()
        try Self.cutTreeAndTail(path)

        spool = try await Self.open(path)
        let recovery = try #require(spool.recovery)
        #expect(recovery.recovered > 0)
        #expect(recovery.unreadableIsExact)
        #expect(recovery.recovered + recovery.unreadable == records.count - removed.count)
        let replayed = Set(try await Self.drain(spool).flatMap(\.records).map(Self.key))
        #expect(replayed.count == recovery.recovered)
        #expect(replayed.intersection(removed.map(Self.key)).count == 0, "replayed rows came back")
        #expect(replayed.isSubset(of: records.map(Self.key)))
        await spool.close()
    }

    @Test func aFileWithRandomBytesInTheMiddleOpensAndAccountsForEveryRow() async throws {
        let records = Self.ticks("a", 0..<1500) + [Self.game("g")] + Self.ticks("b", 0..<500)
        let path = try await Self.makeFile(records)
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        var random = SeededRandom(seed: 42)
        let start = bytes.count / 2
        for offset in start..<min(bytes.count, start + 3 * 4096) { bytes[offset] = UInt8.random(in: 0...255, using: &random) }
        try bytes.write(to: URL(fileURLWithPath: path))

        let spool = try await Self.open(path)
        try await Self.checkAccounting(spool, records)
        await spool.close()
    }

    @Test func aFileOfZerosOpensAsAFreshSpool() async throws {
        let path = try await Self.makeFile(Self.ticks("a", 0..<300))
        let size = try #require(try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int)
        try Data(count: size).write(to: URL(fileURLWithPath: path))

        let spool = try await Self.open(path)
        let recovery = try #require(spool.recovery)
        #expect(recovery.recovered == 0)
        #expect(!recovery.unreadableIsExact, "nothing is known about what a file of zeros held")
        #expect(FileManager.default.fileExists(atPath: recovery.movedAsideTo))
        #expect(spool.isEmpty)
        try await spool.append([Self.tick("a", 1)])
        #expect(try await spool.peekOldest(limit: 5).records == [Self.tick("a", 1)])
        await spool.close()
    }

    /// Random damage of every kind: opening never throws, and every row is replayed, quarantined or reported lost.
    @Test func randomDamageNeverStopsTheOpen() async throws {
        let records = Self.ticks("a", 0..<250) + [Self.game("g1"), Self.prediction("a", 3)] + Self.ticks("b", 0..<50)
        let pristine = try await Self.makeFile(records)
        let original = try Data(contentsOf: URL(fileURLWithPath: pristine))
        var random = SeededRandom(seed: 7)
        for round in 0..<16 {
            let path = Self.path(in: try TestEnvironment.temporaryDirectory())
            try FileManager.default.createDirectory(
                atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            var bytes = original
            switch round % 4 {
            case 0:  // truncated anywhere
                bytes = bytes.prefix(Int.random(in: 1..<bytes.count, using: &random))
            case 1:  // a run of random bytes anywhere
                let start = Int.random(in: 0..<bytes.count, using: &random)
                for offset in start..<min(bytes.count, start + Int.random(in: 1...6000, using: &random)) {
                    bytes[offset] = UInt8.random(in: 0...255, using: &random)
                }
            case 2:  // single flipped bits, including in the header
                for _ in 0..<8 {
                    let offset = round == 2 ? Int.random(in: 0..<100, using: &random) : Int.random(in: 0..<bytes.count, using: &random)
                    bytes[offset] ^= 1 << UInt8.random(in: 0...7, using: &random)
                }
            default:  // a zeroed page
                let page = Int.random(in: 0..<(bytes.count / 4096), using: &random)
                bytes.replaceSubrange(page * 4096..<(page + 1) * 4096, with: Data(count: 4096))
            }
            try bytes.write(to: URL(fileURLWithPath: path))
            let spool = try await Self.open(path)
            try await Self.checkAccounting(spool, records)
            await spool.close()
        }
    }

    /// Replays `spool` and checks every one of `records` was replayed (in order), quarantined or reported lost.
    static func checkAccounting(_ spool: SpoolFile, _ records: [StoreRecord]) async throws {
        let quarantinedAtOpen = spool.quarantinedCount
        let replayed = try await drain(spool).flatMap(\.records)
        var position: [String: Int] = [:]
        for (index, record) in records.enumerated() { position["\(record.collection):\(record.id)"] = index }
        let indexes = replayed.compactMap { position["\($0.collection):\($0.id)"] }
        #expect(indexes.count == replayed.count, "only appended records come back")
        #expect(Set(indexes).count == indexes.count, "no record comes back twice")
        for (record, index) in zip(replayed, indexes) { #expect(records[index] == record) }
        if let recovery = spool.recovery {
            #expect(replayed.count == recovery.recovered)
            #expect(spool.quarantinedCount == quarantinedAtOpen, "the salvage already checked every row")
            if recovery.unreadableIsExact { #expect(recovery.recovered + recovery.unreadable == records.count) }
        } else {
            #expect(replayed.count + spool.quarantinedCount == records.count)
        }
    }

    // MARK: Throughput

    @Test func tenThousandRecordsInBatchesOf500() async throws {
        let spool = try await Self.open(Self.path(in: try TestEnvironment.temporaryDirectory()))
        for start in stride(from: 0, to: 10_000, by: 500) {
            try await spool.append(Self.ticks("a", start..<start + 500))
        }
        #expect(spool.count == 10_000)
        let batches = try await Self.drain(spool, limit: 1000)
        #expect(batches.count == 10)
        #expect(batches.flatMap(\.records).count == 10_000)
        #expect(spool.isEmpty)
        await spool.close()
    }
}
