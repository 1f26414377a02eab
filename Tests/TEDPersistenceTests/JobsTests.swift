import Foundation
import Logging
import Synchronization
import Testing
import TEDCore
@testable import TEDPersistence
@testable import TEDStore

/// Dates used across the tests: whole seconds, so both stores keep them exactly (millisecond precision).
enum Day {
    static let midnight = Timestamp.parseISO8601("2026-03-10T00:00:00Z")!

    static func at(_ hour: Int, _ minute: Int = 0, _ second: Int = 0, dayOffset: Int = 0) -> Date {
        midnight.addingTimeInterval(Double(dayOffset * 86_400 + hour * 3600 + minute * 60 + second))
    }
}

/// The hand-computed data set of the metrics tests: hour `h` (4 resolved predictions, an even count) and hour
/// `h + 1` (3 resolved, an odd count).
enum MetricsDataSet {
    static func prediction(_ game: String, tick: Int, predicted: Int, actual: Int?, at date: Date) -> Document {
        let prediction = Prediction(gameID: game, predictedAtTick: tick, predictedEndTick: predicted, confidence: 0.5,
                                    modelVersion: "m1", timestamp: date, createdAt: date)
        return (actual.map { prediction.resolved(actualEndTick: $0) } ?? prediction).document
    }

    static func sideBet(_ game: String, tick: Int, ev: Double, recommendation: Recommendation, end: Int, at date: Date) -> Document {
        SideBet(gameID: game, placedAtTick: tick, probability: 0.3, expectedValue: ev, confidence: 0.6,
                recommendation: recommendation, timestamp: date, createdAt: date)
            .resolved(actualEndTick: end, windowTicks: 40, payoutMultiplier: 5).document
    }

    static func game(_ id: String, at date: Date) -> Document {
        GameRecord(gameID: id, startTick: 0, endTick: 100, peakPrice: 2, peakTick: 50, finalPrice: 0.1, ended: true, rugged: true,
                   hadPredictions: true, predictionCount: 2, predictionAccuracy: nil, sideBetsPlaced: 1,
                   createdAt: date, updatedAt: date).document
    }

    static func insert(into store: any DocumentStore, hour h: Date) async throws {
        let inH = h.addingTimeInterval(600)
        let h2 = h.addingTimeInterval(3600)
        _ = try await store.documents.insert([
            // Hour h: absolute errors at exactly 40, 80 and 120 ticks (within 1, 2, 3 windows), one past 120.
            prediction("g1", tick: 10, predicted: 140, actual: 100, at: inH),   // e40 1.0
            prediction("g1", tick: 20, predicted: 20, actual: 100, at: inH),    // e40 -2.0
            prediction("g2", tick: 10, predicted: 220, actual: 100, at: inH),   // e40 3.0
            prediction("g2", tick: 20, predicted: 221, actual: 100, at: h),     // e40 3.025, at the hour's first instant
            prediction("g3", tick: 10, predicted: 300, actual: nil, at: inH),   // unresolved
            // Hour h + 1.
            prediction("g4", tick: 10, predicted: 120, actual: 100, at: h2),    // e40 0.5
            prediction("g4", tick: 20, predicted: 90, actual: 100, at: h2.addingTimeInterval(60)),  // e40 -0.25
            prediction("g5", tick: 10, predicted: 180, actual: 100, at: h2.addingTimeInterval(3599)),  // e40 2.0
        ], into: .predictions)
        _ = try await store.documents.insert([game("g1", at: inH), game("g2", at: inH), game("g4", at: h2)], into: .games)
        _ = try await store.documents.insert([
            sideBet("g1", tick: 5, ev: 0.5, recommendation: .bet, end: 30, at: inH),    // won: +4
            sideBet("g2", tick: 5, ev: 0.2, recommendation: .bet, end: 44, at: inH),    // won (last tick of the window): +4
            sideBet("g3", tick: 5, ev: -0.1, recommendation: .bet, end: 100, at: inH),  // lost: -1
            sideBet("g3", tick: 6, ev: 0.3, recommendation: .skip, end: 30, at: inH),   // not placed
        ], into: .sideBets)
    }
}

@Suite struct JobsTests {
    let logger = Logger(label: "test")

    enum Backend: CaseIterable { case mongodb, sqlite }

    /// Two handles on one database, as two instances of the service would have.
    func makeStores(_ backend: Backend, count: Int = 1) throws -> [any DocumentStore] {
        switch backend {
        case .mongodb:
            let url = try TestServer.mongoURL()
            let database = TestServer.uniqueDatabase()
            return try (0..<count).map { _ in try MongoStore(url: url, database: database, logger: logger) }
        case .sqlite:
            let path = try TestServer.temporaryDirectory().appendingPathComponent("ted.sqlite").path
            return try (0..<count).map { _ in try SQLiteStore(path: path, logger: logger) }
        }
    }

    func makeStore(_ backend: Backend) throws -> any DocumentStore { try makeStores(backend)[0] }

    static let retention = RetentionDays(tickSamples: 7, predictions: 30, sideBets: 60, games: 90, metricsHourly: 365)

    func settings(hour: Int = 3, batchSize: Int = 2) -> Settings {
        var settings = Settings()
        settings.retention = Self.retention
        settings.cleanupHourUTC = hour
        settings.cleanupBatchSize = batchSize
        return settings
    }

    func recordLastRun(_ date: Date, in store: any DocumentStore) async throws {
        try await store.recordJobRun(JobRun(job: RetentionCleanup.leaseName, startedAt: date, finishedAt: date, instance: "test",
                                            deleted: [:]))
    }

    /// Documents created `ages` seconds before `now` in `collection`.
    func insertAged(_ ages: [TimeInterval], into collection: CollectionName, now: Date, in store: any DocumentStore) async throws {
        let documents: [Document] = ages.enumerated().map { index, age in
            ["_id": .string("\(collection)-\(index)"), "created_at": .date(now.addingTimeInterval(-age))]
        }
        _ = try await store.documents.insert(documents, into: collection)
    }

    // MARK: - Pure decisions

    @Test func theCleanupIsDueAtTheHourAndNotBefore() {
        let schedule = CleanupSchedule(hourUTC: 3)
        let yesterday = Day.at(3, 0, 5, dayOffset: -1)
        #expect(schedule.latestSlot(atOrBefore: Day.at(2, 59, 59)) == Day.at(3, dayOffset: -1))
        #expect(schedule.latestSlot(atOrBefore: Day.at(3)) == Day.at(3))
        #expect(!schedule.isDue(now: Day.at(2, 59, 59), lastRun: yesterday))
        #expect(schedule.nextRun(now: Day.at(2, 59, 59), lastRun: yesterday) == Day.at(3))
        #expect(schedule.isDue(now: Day.at(3), lastRun: yesterday))
        #expect(!schedule.isDue(now: Day.at(23), lastRun: Day.at(3, 0, 1)))
        #expect(schedule.nextRun(now: Day.at(23), lastRun: Day.at(3, 0, 1)) == Day.at(3, dayOffset: 1))
    }

    @Test func aMissedHourOrANeverRunCleanupIsDueAtOnce() {
        let schedule = CleanupSchedule(hourUTC: 3)
        #expect(schedule.isDue(now: Day.at(10), lastRun: nil))
        #expect(schedule.isDue(now: Day.at(10), lastRun: Day.at(3, dayOffset: -3)))
        // Down at 03:00 today: the last run (yesterday 04:00) precedes today's slot.
        #expect(schedule.isDue(now: Day.at(10), lastRun: Day.at(4, dayOffset: -1)))
        #expect(schedule.nextRun(now: Day.at(10), lastRun: nil) == Day.at(10))
        // Hour 0 wraps at midnight.
        let midnight = CleanupSchedule(hourUTC: 0)
        #expect(midnight.latestSlot(atOrBefore: Day.at(23, 59, 59)) == Day.at(0))
        #expect(!midnight.isDue(now: Day.at(23, 59, 59), lastRun: Day.at(0, 0, 1)))
    }

    @Test func backfillComputesMissedHoursPlusTheLastThree() {
        let backfill = MetricsBackfill()
        let now = Day.at(12, 30)
        // Newest stored 02:00: 03:00 ... 11:00.
        #expect(backfill.hours(now: now, newestStored: Day.at(2)) == (3...11).map { Day.at($0) })
        // Up to date: the last three complete hours are recomputed anyway.
        #expect(backfill.hours(now: now, newestStored: Day.at(11)) == [Day.at(9), Day.at(10), Day.at(11)])
        // Down for a month, or nothing stored yet: seven days back at most.
        let week = backfill.hours(now: now, newestStored: Day.at(0, dayOffset: -30))
        #expect(week.count == 168)
        #expect(week.first == Day.at(12, dayOffset: -7))
        #expect(week.last == Day.at(11))
        #expect(backfill.hours(now: now, newestStored: nil) == week)
    }

    @Test func theMetricsJobRunsAFewMinutesPastEachHour() {
        let backfill = MetricsBackfill()
        #expect(backfill.nextRun(after: Day.at(12, 3)) == Day.at(12, 5))
        #expect(backfill.nextRun(after: Day.at(12, 5)) == Day.at(13, 5))
        #expect(backfill.nextRun(after: Day.at(12, 30)) == Day.at(13, 5))
    }

    // MARK: - Retention cleanup

    @Test(arguments: Backend.allCases)
    func backdatedDocumentsAreDeletedAndNewerKeptPerCollection(_ backend: Backend) async throws {
        let store = try makeStore(backend)
        let now = Day.at(10)
        let cleanup = RetentionCleanup(store: store, settings: settings(), logger: logger)
        for collection in CollectionName.data {
            let retention = Double(try #require(Self.retention.days(for: collection))) * 86_400
            // Three past the retention (two batches of 2), one exactly at it and one fresh: those two stay.
            try await insertAged([retention + 86_400, retention + 1, retention + 3600, retention, 60], into: collection, now: now, in: store)
        }
        let outcome = try await cleanup.run(clock: ManualClock(now))
        #expect(outcome == .completed(deleted: Dictionary(uniqueKeysWithValues: CollectionName.data.map { ($0, 3) }), at: now))
        for collection in CollectionName.data {
            let kept = try await store.documents.find(collection, where: .all, sort: DocumentSort("_id"), limit: nil)
            #expect(kept.compactMap { $0["_id"]?.stringValue } == ["\(collection)-3", "\(collection)-4"])
        }
        #expect(try await cleanup.lastRun() == now)
        // The lease is released once the run ends.
        #expect(try await cleanup.lease.holder(now: now) == nil)
        await store.close()
    }

    @Test(arguments: Backend.allCases)
    func theDryRunReportsAndDeletesNothing(_ backend: Backend) async throws {
        let store = try makeStore(backend)
        let now = Day.at(10)
        let week = 7.0 * 86_400
        try await insertAged([week + 7200, week + 60, 30], into: .tickSamples, now: now, in: store)
        let cleanup = RetentionCleanup(store: store, settings: settings(), logger: logger)
        let previews = try await cleanup.preview(now: now)
        #expect(previews.map(\.collection) == CollectionName.data)
        let ticks = try #require(previews.first { $0.collection == .tickSamples })
        #expect(ticks.count == 2)
        #expect(ticks.oldest == now.addingTimeInterval(-week - 7200))
        #expect(ticks.cutoff == now.addingTimeInterval(-week))
        #expect(previews.filter { $0.collection != .tickSamples }.allSatisfy { $0.count == 0 && $0.oldest == nil })
        #expect(try await store.documentCount(of: .tickSamples, matching: .all) == 3)
        #expect(try await cleanup.lastRun() == nil)
        await store.close()
    }

    @Test(arguments: Backend.allCases)
    func aCleanupStopsBetweenBatchesWhenAskedAndIsNotRecorded(_ backend: Backend) async throws {
        let store = try makeStore(backend)
        let now = Day.at(10)
        try await insertAged((0..<10).map { 8 * 86_400 + Double($0) }, into: .tickSamples, now: now, in: store)
        let cleanup = RetentionCleanup(store: store, settings: settings(), logger: logger)
        // The flag "goes off" after three batches: the empty one of games (cleaned first), then two of tick samples.
        let batchesAllowed = Mutex(3)
        let outcome = try await cleanup.run(clock: ManualClock(now)) {
            batchesAllowed.withLock { left in
                defer { left -= 1 }
                return left > 0
            }
        }
        guard case .stopped(let deleted) = outcome else { Issue.record("expected a stop, got \(outcome)"); return }
        #expect(deleted.values.reduce(0, +) == 4)
        #expect(try await store.documentCount(of: .tickSamples, matching: .all) == 6)
        #expect(try await cleanup.lastRun() == nil)
        #expect(try await cleanup.lease.holder(now: now) == nil)
        await store.close()
    }

    @Test(arguments: Backend.allCases)
    func theServiceCleansAtTheConfiguredHourAndNotBefore(_ backend: Backend) async throws {
        let store = try makeStore(backend)
        let clock = ManualClock(Day.at(2))
        try await recordLastRun(Day.at(3, 0, 5, dayOffset: -1), in: store)
        try await insertAged([8 * 86_400, 60], into: .tickSamples, now: Day.at(2), in: store)
        let status = JobsStatus(instanceID: "me")
        let cleaner = RetentionCleaner(store: store, settings: settings(), flag: .forTests(enabled: true), status: status,
                                       clock: clock, logger: logger)
        let task = Task { try await cleaner.run() }
        try await clock.waitForSleepers()
        #expect(try await store.documentCount(of: .tickSamples, matching: .all) == 2)
        #expect(status.snapshot.nextCleanupAt == Day.at(3))
        clock.advance(to: Day.at(2, 59, 59))
        try await clock.waitForSleepers()
        #expect(try await store.documentCount(of: .tickSamples, matching: .all) == 2)
        clock.advance(to: Day.at(3))
        try await clock.waitForSleepers()
        #expect(try await store.documentCount(of: .tickSamples, matching: .all) == 1)
        let snapshot = status.snapshot
        #expect(snapshot.lastCleanupAt == Day.at(3))
        #expect(snapshot.nextCleanupAt == Day.at(3, dayOffset: 1))
        #expect(snapshot.cleanupLeaseHolder == JobLease.processInstanceID)
        // Later the same day nothing runs again.
        clock.advance(to: Day.at(15))
        try await clock.waitForSleepers()
        #expect(try await RetentionCleanup(store: store, settings: settings(), logger: logger).lastRun() == Day.at(3))
        task.cancel()
        try await task.value
        await store.close()
    }

    @Test(arguments: Backend.allCases)
    func afterDowntimeTheServiceCatchesUpAtStart(_ backend: Backend) async throws {
        let store = try makeStore(backend)
        let clock = ManualClock(Day.at(10))
        try await recordLastRun(Day.at(3, dayOffset: -3), in: store)
        try await insertAged([8 * 86_400], into: .tickSamples, now: Day.at(10), in: store)
        let cleaner = RetentionCleaner(store: store, settings: settings(), flag: .forTests(enabled: true),
                                       status: JobsStatus(), clock: clock, logger: logger)
        let task = Task { try await cleaner.run() }
        try await clock.waitForSleepers()
        #expect(try await store.documentCount(of: .tickSamples, matching: .all) == 0)
        #expect(try await cleaner.cleanup.lastRun() == Day.at(10))
        task.cancel()
        try await task.value
        await store.close()
    }

    @Test(arguments: Backend.allCases)
    func withPersistenceOffTheServiceDoesNothing(_ backend: Backend) async throws {
        let store = try makeStore(backend)
        let clock = ManualClock(Day.at(10))
        try await insertAged([8 * 86_400], into: .tickSamples, now: Day.at(10), in: store)
        let flag = PersistenceFlag.forTests(enabled: false)
        let cleaner = RetentionCleaner(store: store, settings: settings(), flag: flag, status: JobsStatus(), clock: clock, logger: logger)
        let task = Task { try await cleaner.run() }
        try await clock.waitForSleepers()
        #expect(try await store.documentCount(of: .tickSamples, matching: .all) == 1)
        // Turned on, it catches up at the next check.
        flag.set(true, source: .api)
        clock.advance(to: Day.at(10, 1))
        try await clock.waitForSleepers()
        #expect(try await store.documentCount(of: .tickSamples, matching: .all) == 0)
        task.cancel()
        try await task.value
        await store.close()
    }

    @Test(arguments: Backend.allCases)
    func twoInstancesRunOneCleanup(_ backend: Backend) async throws {
        let stores = try makeStores(backend, count: 2)
        let now = Day.at(3, 0, 30)
        try await recordLastRun(Day.at(3, dayOffset: -1), in: stores[0])
        try await insertAged((0..<6).map { 8 * 86_400 + Double($0) }, into: .tickSamples, now: now, in: stores[0])
        let schedule = CleanupSchedule(hourUTC: 3)
        let cleanups = stores.enumerated().map { index, store in
            RetentionCleanup(store: store, retention: Self.retention, batchSize: 2,
                             lease: JobLease(store: store, name: RetentionCleanup.leaseName, owner: "instance-\(index)"), logger: logger)
        }
        async let first = cleanups[0].run(clock: ManualClock(now), schedule: schedule)
        async let second = cleanups[1].run(clock: ManualClock(now), schedule: schedule)
        let outcomes = try await [first, second]
        let completed = outcomes.filter { if case .completed = $0 { true } else { false } }
        #expect(completed.count == 1, "\(outcomes)")
        #expect(completed.first == .completed(deleted: [.tickSamples: 6, .games: 0, .predictions: 0, .sideBets: 0, .metricsHourly: 0], at: now))
        #expect(outcomes.allSatisfy {
            switch $0 {
            case .completed, .notDue, .leaseHeld: true
            case .stopped: false
            }
        })
        // Once done, a further attempt from either instance finds it not due.
        #expect(try await cleanups[1].run(clock: ManualClock(now.addingTimeInterval(60)), schedule: schedule) == .notDue(lastRun: now))
        for store in stores { await store.close() }
    }

    @Test(arguments: Backend.allCases)
    func aCrashedOwnersLeaseExpires(_ backend: Backend) async throws {
        let store = try makeStore(backend)
        let now = Day.at(10)
        try await insertGames(hourly: Day.at(8), to: Day.at(9), into: store)
        #expect(try await store.acquireLease(HourlyMetricsCalculator.leaseName, owner: "crashed", now: now, expiresAt: now.addingTimeInterval(300)))
        let calculator = HourlyMetricsCalculator(store: store, logger: logger)
        #expect(try await calculator.run(clock: ManualClock(now.addingTimeInterval(10))) == .leaseHeld(by: "crashed"))
        #expect(try await store.documentCount(of: .metricsHourly, matching: .all) == 0)
        guard case .computed(let hours) = try await calculator.run(clock: ManualClock(now.addingTimeInterval(301))) else {
            Issue.record("the expired lease was not taken over")
            return
        }
        #expect(hours == [Day.at(8)])  // the one hour with records
        await store.close()
    }

    // MARK: - Hourly metrics

    @Test(arguments: Backend.allCases)
    func hourlyMetricsMatchTheHandComputedValues(_ backend: Backend) async throws {
        let store = try makeStore(backend)
        let h = Day.at(5)
        try await MetricsDataSet.insert(into: store, hour: h)
        let calculator = HourlyMetricsCalculator(store: store, logger: logger)
        let first = try await calculator.compute(hour: h, now: Day.at(7))
        let stored = try #require(try await store.hourlyMetrics(id: "2026-03-10T05:00:00.000Z"))
        #expect(stored == first)
        #expect(stored["hour_start"]?.dateValue == h)
        #expect(stored["created_at"]?.dateValue == Day.at(7))
        #expect(stored["games_analyzed"]?.intValue == 2)
        #expect(stored["predictions_made"]?.intValue == 5)
        #expect(stored["predictions_resolved"]?.intValue == 4)
        func number(_ path: String) -> Double? { stored.value(at: path)?.doubleValue }
        func count(_ path: String) -> Int? { stored.value(at: path)?.intValue }
        #expect(number("prediction_metrics.median_e40") == 2.0)  // (1 + 3) / 2 of −2, 1, 3, 3.025
        #expect(abs(try #require(number("prediction_metrics.mean_e40")) - 1.25625) < 1e-9)
        #expect(abs(try #require(number("prediction_metrics.mean_absolute_error")) - 90.25) < 1e-9)
        #expect(count("prediction_metrics.within_1_window") == 1)
        #expect(count("prediction_metrics.within_2_windows") == 2)
        #expect(count("prediction_metrics.within_3_windows") == 3)
        #expect(count("side_bet_metrics.total_recommended") == 4)
        #expect(count("side_bet_metrics.bets_placed") == 3)
        #expect(count("side_bet_metrics.positive_ev_count") == 3)
        #expect(count("side_bet_metrics.bets_won") == 2)
        #expect(count("side_bet_metrics.bets_lost") == 1)
        #expect(number("side_bet_metrics.net_payout") == 7)
        #expect(abs(try #require(number("side_bet_metrics.roi_percentage")) - 700.0 / 3) < 1e-9)

        let second = try await calculator.compute(hour: h.addingTimeInterval(3600), now: Day.at(7))
        #expect(second.value(at: "prediction_metrics.median_e40")?.doubleValue == 0.5)  // odd: the middle of −0.25, 0.5, 2
        #expect(second["predictions_resolved"]?.intValue == 3)
        #expect(second["games_analyzed"]?.intValue == 1)
        #expect(second.value(at: "prediction_metrics.within_1_window")?.intValue == 2)
        #expect(second.value(at: "side_bet_metrics.roi_percentage") == .null)
        await store.close()
    }

    @Test(arguments: Backend.allCases)
    func recomputingAnHourReplacesItsDocumentAndKeepsCreatedAt(_ backend: Backend) async throws {
        let store = try makeStore(backend)
        let h = Day.at(5)
        try await MetricsDataSet.insert(into: store, hour: h)
        let calculator = HourlyMetricsCalculator(store: store, logger: logger)
        try await calculator.compute(hour: h, now: Day.at(6, 5))
        // A late outcome: the unresolved prediction resolves.
        _ = try await store.documents.upsert([MetricsDataSet.prediction("g3", tick: 10, predicted: 300, actual: 100, at: h.addingTimeInterval(600))],
                                   into: .predictions)
        try await calculator.compute(hour: h, now: Day.at(7, 5))
        let documents = try await store.documents.find(.metricsHourly, where: .all, sort: nil, limit: nil)
        #expect(documents.count == 1)
        #expect(documents.first?["predictions_resolved"]?.intValue == 5)
        #expect(documents.first?["created_at"]?.dateValue == Day.at(6, 5))
        #expect(documents.first?["updated_at"]?.dateValue == Day.at(7, 5))
        await store.close()
    }

    /// One game at ten past each of the hours `from` (inclusive) to `to` (exclusive): hours with records.
    func insertGames(hourly from: Date, to: Date, into store: any DocumentStore) async throws {
        let games = stride(from: from.timeIntervalSince1970, to: to.timeIntervalSince1970, by: 3600).map { start in
            MetricsDataSet.game("game-\(Int(start))", at: Date(timeIntervalSince1970: start + 600))
        }
        _ = try await store.documents.insert(games, into: .games)
    }

    @Test(arguments: Backend.allCases)
    func twoInstancesWriteOneDocumentPerHour(_ backend: Backend) async throws {
        let stores = try makeStores(backend, count: 2)
        let now = Day.at(12, 5)
        try await insertGames(hourly: Day.at(12, dayOffset: -1), to: Day.at(12), into: stores[0])
        let calculators = stores.enumerated().map { index, store in
            HourlyMetricsCalculator(store: store, backfill: MetricsBackfill(maximumBackfillHours: 24),
                                    lease: JobLease(store: store, name: HourlyMetricsCalculator.leaseName, owner: "instance-\(index)"),
                                    logger: logger)
        }
        async let first = calculators[0].run(clock: ManualClock(now))
        async let second = calculators[1].run(clock: ManualClock(now))
        _ = try await [first, second]
        // And again, as the next runs of both would.
        _ = try await calculators[1].run(clock: ManualClock(now.addingTimeInterval(60)))
        _ = try await calculators[0].run(clock: ManualClock(now.addingTimeInterval(120)))
        let ids = try await stores[0].documents.find(.metricsHourly, where: .all, sort: DocumentSort("hour_start"), limit: nil)
            .compactMap { $0["_id"]?.stringValue }
        #expect(ids.count == 24)
        #expect(Set(ids).count == 24)
        #expect(ids.first == "2026-03-09T12:00:00.000Z")
        #expect(ids.last == "2026-03-10T11:00:00.000Z")
        for store in stores { await store.close() }
    }

    @Test(arguments: Backend.allCases)
    func theMetricsJobFillsMissedHoursAtStartThenRunsHourly(_ backend: Backend) async throws {
        let store = try makeStore(backend)
        try await insertGames(hourly: Day.at(4), to: Day.at(10), into: store)
        let calculator = HourlyMetricsCalculator(store: store, logger: logger)
        try await calculator.compute(hour: Day.at(4), now: Day.at(5, 5))
        let clock = ManualClock(Day.at(9, 30))
        let status = JobsStatus()
        let job = HourlyMetricsJob(store: store, flag: .forTests(enabled: true), status: status, clock: clock, logger: logger)
        let task = Task { try await job.run() }
        try await clock.waitForSleepers()
        // Down from 05:05 to 09:30: 05:00 ... 08:00 filled.
        #expect(try await store.documentCount(of: .metricsHourly, matching: .all) == 5)
        #expect(status.snapshot.lastMetricsHour == Day.at(8))
        #expect(status.snapshot.nextMetricsRunAt == Day.at(10, 5))
        clock.advance(to: Day.at(10, 4))
        try await clock.waitForSleepers()
        #expect(try await store.documentCount(of: .metricsHourly, matching: .all) == 5)
        clock.advance(to: Day.at(10, 5))
        try await clock.waitForSleepers()
        #expect(try await store.documentCount(of: .metricsHourly, matching: .all) == 6)
        let nine = try #require(try await store.hourlyMetrics(id: "2026-03-10T09:00:00.000Z"))
        #expect(nine["created_at"]?.dateValue == Day.at(10, 5))
        #expect(status.snapshot.lastMetricsHour == Day.at(9))
        #expect(status.snapshot.metricsLeaseHolder == JobLease.processInstanceID)
        task.cancel()
        try await task.value
        await store.close()
    }

    /// A first start used to write 168 documents of zeros (the whole 7-day backfill): only hours with records are
    /// stored, and hours before the first record are not even aggregated.
    @Test(arguments: Backend.allCases)
    func aBackfillStoresOnlyHoursWithRecords(_ backend: Backend) async throws {
        let store = try makeStore(backend)
        let calculator = HourlyMetricsCalculator(store: store, logger: logger)
        let now = Day.at(12, 5)
        #expect(try await calculator.run(clock: ManualClock(now)) == .computed([]))
        #expect(try await store.documentCount(of: .metricsHourly, matching: .all) == 0)
        // A prediction 30 hours back and a side bet 3 hours back: two hours with records, nothing else.
        _ = try await store.documents.insert([MetricsDataSet.prediction("g1", tick: 1, predicted: 140, actual: 100, at: Day.at(6, 20, dayOffset: -1))],
                                   into: .predictions)
        _ = try await store.documents.insert([MetricsDataSet.sideBet("g2", tick: 1, ev: 0.1, recommendation: .bet, end: 30, at: Day.at(9, 1))],
                                   into: .sideBets)
        #expect(try await calculator.run(clock: ManualClock(now.addingTimeInterval(60))) == .computed([Day.at(6, dayOffset: -1), Day.at(9)]))
        let ids = try await store.documents.find(.metricsHourly, where: .all, sort: DocumentSort("hour_start"), limit: nil).compactMap { $0["_id"]?.stringValue }
        #expect(ids == ["2026-03-09T06:00:00.000Z", "2026-03-10T09:00:00.000Z"])
        await store.close()
    }

    /// The current hour, for the metrics report: computed from the records so far, marked live, never stored.
    @Test(arguments: Backend.allCases)
    func theCurrentHourIsComputedLiveAndNotStored(_ backend: Backend) async throws {
        let store = try makeStore(backend)
        let h = Day.at(5)
        try await MetricsDataSet.insert(into: store, hour: h)
        let calculator = HourlyMetricsCalculator(store: store, logger: logger)
        let live = try #require(try await calculator.live(hour: h, now: Day.at(5, 30)))
        #expect(live["_id"]?.stringValue == "2026-03-10T05:00:00.000Z")
        #expect(live["live"] == .bool(true))
        #expect(live["predictions_resolved"]?.intValue == 4)
        #expect(live.value(at: "prediction_metrics.median_e40")?.doubleValue == 2.0)
        #expect(try await calculator.live(hour: Day.at(8), now: Day.at(8, 30)) == nil)
        #expect(try await store.documentCount(of: .metricsHourly, matching: .all) == 0)
        await store.close()
    }

    /// The exact median over many values, odd and even counts, skipping unresolved predictions and non-numbers: the
    /// MongoDB pipeline finds it by sorting and skipping, without an array of the values.
    @Test(arguments: Backend.allCases)
    func theMedianIsExactOverManyValues(_ backend: Backend) async throws {
        let store = try makeStore(backend)
        let h = Day.at(5)
        // e40 = k for k in 0...100, inserted in a scrambled order, plus unresolved predictions with wild guesses.
        var documents = (0...100).map { k in
            MetricsDataSet.prediction("g\((k * 37) % 101)", tick: k, predicted: 100 + 40 * ((k * 37) % 101), actual: 100,
                                      at: h.addingTimeInterval(Double(k)))
        }
        documents += (0..<20).map { MetricsDataSet.prediction("open", tick: $0, predicted: 99_999, actual: nil, at: h) }
        _ = try await store.documents.insert(documents, into: .predictions)
        let odd = try await store.aggregateHour(start: h, end: h.addingTimeInterval(3600))
        #expect(odd.predictionsResolved == 101)
        #expect(odd.medianE40 == 50)
        _ = try await store.documents.insert([MetricsDataSet.prediction("extra", tick: 1, predicted: 100 + 40 * 1000, actual: 100, at: h)],
                                   into: .predictions)
        let even = try await store.aggregateHour(start: h, end: h.addingTimeInterval(3600))
        #expect(even.medianE40 == 50.5)
        let none = try await store.aggregateHour(start: Day.at(8), end: Day.at(9))
        #expect(none.medianE40 == nil)
        await store.close()
    }
}
