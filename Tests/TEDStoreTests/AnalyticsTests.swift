import Foundation
import Logging
import Testing
import TEDCore
@testable import TEDStore

/// The analytics report on both real stores, against a dataset whose every figure is worked out by hand below.
@Suite struct AnalyticsTests {
    enum Backend: CaseIterable, Sendable { case mongodb, sqlite }

    /// The window is the 24 hours before `end`.
    static let end = Date(timeIntervalSince1970: 1_800_000_000)
    static let inside = end.addingTimeInterval(-3600)
    static let window = AnalyticsQuery(hours: 24, until: end)

    static func makeStore(_ backend: Backend) throws -> any DocumentStore {
        let logger = Logger(label: "test")
        return switch backend {
        case .mongodb: try MongoStore(url: TestEnvironment.mongoURL(), database: TestEnvironment.uniqueDatabaseName(), logger: logger)
        case .sqlite: try SQLiteStore(path: TestEnvironment.temporaryDirectory().appendingPathComponent("ted.sqlite").path, logger: logger)
        }
    }

    // MARK: - The dataset

    /// A prediction of game `game` with signed error `error` (predicted − actual end tick, actual end 400), resolved
    /// unless `error` is nil. Every e40 (error / 40) here is exact in binary, so sums do not depend on their order.
    static func prediction(_ game: String, model: String, confidence: Double, error: Int?, inferred: Bool = false,
                           at createdAt: Date = inside) -> Document {
        let placed = Prediction(gameID: game, predictedAtTick: 10, predictedEndTick: 400 + (error ?? 0), confidence: confidence,
                                modelVersion: model, timestamp: createdAt, createdAt: createdAt)
        guard error != nil else { return placed.document }
        return placed.resolved(actualEndTick: 400, endInferred: inferred).document
    }

    /// A side bet placed at tick 100 with the payout rules of the service (window 40 ticks, ×5: won +4, lost −1,
    /// void 0): the game ends at 120 for a win, 300 for a loss, 50 for a void (placed after the rug).
    static func sideBet(_ game: String, probability: Double, _ outcome: SideBetResult?, recommendation: Recommendation = .bet,
                        inferred: Bool = false, at createdAt: Date = inside) -> Document {
        let placed = SideBet(gameID: game, placedAtTick: 100, probability: probability, expectedValue: 0.1, confidence: 0.5,
                             recommendation: recommendation, timestamp: createdAt, createdAt: createdAt)
        guard let outcome else { return placed.document }
        let end = switch outcome {
        case .won: 120
        case .lost: 300
        case .void: 50
        }
        let resolved = placed.resolved(actualEndTick: end, windowTicks: 40, payoutMultiplier: 5, endInferred: inferred)
        precondition(resolved.actualOutcome == outcome)
        return resolved.document
    }

    static var predictions: [Document] {
        // A prediction stored without a model version (an older document): the "unknown" model's.
        var unversioned = prediction("u1", model: "unknown", confidence: 0.65, error: -40)
        unversioned["model_version"] = nil
        return [
            // v1: confidence decile 0, 1, 1, 9, 9 (confidence 1 counts in decile 9), 5; errors 20, −40, 100, −80, 0, 200.
            prediction("a1", model: "v1", confidence: 0.05, error: 20),
            prediction("a2", model: "v1", confidence: 0.15, error: -40),
            prediction("a3", model: "v1", confidence: 0.15, error: 100),
            prediction("a4", model: "v1", confidence: 0.95, error: -80),
            prediction("a5", model: "v1", confidence: 1.0, error: 0),
            prediction("a6", model: "v1", confidence: 0.55, error: 200),
            // Not resolved yet: counts in no figure.
            prediction("a7", model: "v1", confidence: 0.35, error: nil),
            // Resolved against an inferred end: only with include_inferred.
            prediction("a8", model: "v1", confidence: 0.55, error: 120, inferred: true),
            // Outside the window: a day and an hour before its end, and at its (excluded) end.
            prediction("a9", model: "v1", confidence: 0.05, error: 0, at: end.addingTimeInterval(-25 * 3600)),
            prediction("a10", model: "v1", confidence: 0.05, error: 0, at: end),
            // v2: deciles 2, 2, 7 (0.7 × 10 is 7.000000000000001 in binary); errors −20, −60, 40.
            prediction("b1", model: "v2", confidence: 0.25, error: -20),
            prediction("b2", model: "v2", confidence: 0.29, error: -60),
            prediction("b3", model: "v2", confidence: 0.7, error: 40),
            // v3: only an inferred end.
            prediction("c1", model: "v3", confidence: 0.45, error: 40, inferred: true),
            // unknown: one stored as "unknown", one without the field; decile 6, errors 0 and −40.
            prediction("u2", model: "unknown", confidence: 0.65, error: 0),
            unversioned,
        ]
    }

    static var sideBets: [Document] {
        [
            // Decile 2: won, lost, lost (probabilities 0.25, 0.28125, 0.25).
            sideBet("s1", probability: 0.25, .won),
            sideBet("s2", probability: 0.28125, .lost),
            sideBet("s3", probability: 0.25, .lost),
            // Decile 7: won, won, and a void bet that stays out of the calibration.
            sideBet("s4", probability: 0.75, .won),
            sideBet("s5", probability: 0.75, .won),
            sideBet("s6", probability: 0.75, .void),
            // Decile 0: lost.
            sideBet("s7", probability: 0.0625, .lost),
            // Placed, not resolved yet.
            sideBet("s8", probability: 0.5, nil),
            // Not a bet (SKIP): never counted.
            sideBet("s9", probability: 0.9375, .won, recommendation: .skip),
            // Won against an inferred end: only with include_inferred.
            sideBet("s10", probability: 0.9375, .won, inferred: true),
            // Outside the window.
            sideBet("s11", probability: 0.25, .won, at: end.addingTimeInterval(-25 * 3600)),
        ]
    }

    static func loaded(_ backend: Backend) async throws -> any DocumentStore {
        let store = try makeStore(backend)
        #expect(try await store.documents.insert(predictions, into: .predictions).written == predictions.count)
        #expect(try await store.documents.insert(sideBets, into: .sideBets).written == sideBets.count)
        return store
    }

    // MARK: - The figures, by hand

    static let v1 = ModelAnalytics(
        modelVersion: "v1", predictionsResolved: 6,
        meanErrorTicks: 200.0 / 6,                 // (20 − 40 + 100 − 80 + 0 + 200) / 6
        meanE40: 5.0 / 6,                          // (0.5 − 1 + 2.5 − 2 + 0 + 5) / 6
        medianE40: 0.25,                           // −2, −1, 0, 0.5, 2.5, 5: (0 + 0.5) / 2
        withinOneWindow: 3, withinTwoWindows: 4, withinThreeWindows: 5,  // |error| ≤ 40: 20, 40, 0; ≤ 80: +80; ≤ 120: +100
        calibration: [
            ConfidenceCalibration(decile: 0, predictions: 1, withinOneWindow: 1),
            ConfidenceCalibration(decile: 1, predictions: 2, withinOneWindow: 1),
            ConfidenceCalibration(decile: 5, predictions: 1, withinOneWindow: 0),
            ConfidenceCalibration(decile: 9, predictions: 2, withinOneWindow: 1),
        ])

    /// v1 with the inferred prediction (error 120, e40 3, decile 5).
    static let v1WithInferred = ModelAnalytics(
        modelVersion: "v1", predictionsResolved: 7, meanErrorTicks: 320.0 / 7, meanE40: 8.0 / 7,
        medianE40: 0.5,                            // −2, −1, 0, 0.5, 2.5, 3, 5
        withinOneWindow: 3, withinTwoWindows: 4, withinThreeWindows: 6,
        calibration: [
            ConfidenceCalibration(decile: 0, predictions: 1, withinOneWindow: 1),
            ConfidenceCalibration(decile: 1, predictions: 2, withinOneWindow: 1),
            ConfidenceCalibration(decile: 5, predictions: 2, withinOneWindow: 0),
            ConfidenceCalibration(decile: 9, predictions: 2, withinOneWindow: 1),
        ])

    static let v2 = ModelAnalytics(
        modelVersion: "v2", predictionsResolved: 3, meanErrorTicks: -40.0 / 3, meanE40: -1.0 / 3,
        medianE40: -0.5,                           // −1.5, −0.5, 1
        withinOneWindow: 2, withinTwoWindows: 3, withinThreeWindows: 3,
        calibration: [
            ConfidenceCalibration(decile: 2, predictions: 2, withinOneWindow: 1),
            ConfidenceCalibration(decile: 7, predictions: 1, withinOneWindow: 1),
        ])

    static let v3 = ModelAnalytics(
        modelVersion: "v3", predictionsResolved: 1, meanErrorTicks: 40, meanE40: 1, medianE40: 1,
        withinOneWindow: 1, withinTwoWindows: 1, withinThreeWindows: 1,
        calibration: [ConfidenceCalibration(decile: 4, predictions: 1, withinOneWindow: 1)])

    static let unknown = ModelAnalytics(
        modelVersion: "unknown", predictionsResolved: 2, meanErrorTicks: -20, meanE40: -0.5, medianE40: -0.5,
        withinOneWindow: 2, withinTwoWindows: 2, withinThreeWindows: 2,
        calibration: [ConfidenceCalibration(decile: 6, predictions: 2, withinOneWindow: 2)])

    /// s1–s8: 8 placed, 7 resolved; won s1, s4, s5; lost s2, s3, s7; void s6. Net 3 × 4 − 3 × 1 = 9 over 6 settled.
    static let bets = SideBetAnalytics(
        placed: 8, resolved: 7, won: 3, lost: 3, void: 1, netPayout: 9,
        calibration: [
            ProbabilityCalibration(decile: 0, bets: 1, won: 0, predictedWinRate: 0.0625),
            ProbabilityCalibration(decile: 2, bets: 3, won: 1, predictedWinRate: 0.78125 / 3),
            ProbabilityCalibration(decile: 7, bets: 2, won: 2, predictedWinRate: 0.75),
        ])

    /// With s10 (won, decile 9).
    static let betsWithInferred = SideBetAnalytics(
        placed: 9, resolved: 8, won: 4, lost: 3, void: 1, netPayout: 13,
        calibration: bets.calibration + [ProbabilityCalibration(decile: 9, bets: 1, won: 1, predictedWinRate: 0.9375)])

    // MARK: - Tests

    @Test(arguments: Backend.allCases)
    func everyFigureOfTheWindow(_ backend: Backend) async throws {
        let store = try await Self.loaded(backend)
        let report = try await store.analytics(Self.window)
        #expect(report.models.map(\.modelVersion) == ["unknown", "v1", "v2"])
        #expect(report.models == [Self.unknown, Self.v1, Self.v2])
        #expect(report.sideBets == Self.bets)
        // The derived figures, by hand too.
        #expect(report.models.first { $0.modelVersion == "v1" }?.accuracyOneWindow == 0.5)
        #expect(report.models.first { $0.modelVersion == "v1" }?.accuracyThreeWindows == 5.0 / 6)
        #expect(report.sideBets.roiPercentage == 150)
        #expect(report.sideBets.calibration.map(\.realisedWinRate) == [0, 1.0 / 3, 1])
        await store.close()
    }

    @Test(arguments: Backend.allCases)
    func inferredEndsCountOnlyWhenIncluded(_ backend: Backend) async throws {
        let store = try await Self.loaded(backend)
        var query = Self.window
        query.includeInferred = true
        let report = try await store.analytics(query)
        #expect(report.models == [Self.unknown, Self.v1WithInferred, Self.v2, Self.v3])
        #expect(report.sideBets == Self.betsWithInferred)
        #expect(report.sideBets.roiPercentage == 1300.0 / 7)
        await store.close()
    }

    @Test(arguments: Backend.allCases)
    func aModelVersionFiltersThePredictionsOnly(_ backend: Backend) async throws {
        let store = try await Self.loaded(backend)
        func report(_ model: String, inferred: Bool = false) async throws -> AnalyticsReport {
            try await store.analytics(AnalyticsQuery(hours: 24, until: Self.end, modelVersion: model, includeInferred: inferred))
        }
        #expect(try await report("v2") == AnalyticsReport(models: [Self.v2], sideBets: Self.bets))
        // "unknown" also finds the prediction stored without a model version.
        #expect(try await report("unknown").models == [Self.unknown])
        #expect(try await report("v3").models == [])
        #expect(try await report("v3", inferred: true).models == [Self.v3])
        #expect(try await report("nope") == AnalyticsReport(models: [], sideBets: Self.bets))
        await store.close()
    }

    @Test(arguments: Backend.allCases)
    func aModelWithNothingResolvedHasNoFigures(_ backend: Backend) async throws {
        let store = try Self.makeStore(backend)
        _ = try await store.documents.insert([Self.prediction("n1", model: "new", confidence: 0.5, error: nil)], into: .predictions)
        _ = try await store.documents.insert([Self.sideBet("n1", probability: 0.5, nil)], into: .sideBets)
        let report = try await store.analytics(Self.window)
        #expect(report.models == [ModelAnalytics(modelVersion: "new")])
        #expect(report.models.first?.accuracyOneWindow == nil)
        #expect(report.sideBets == SideBetAnalytics(placed: 1))
        #expect(report.sideBets.roiPercentage == nil)
        await store.close()
    }

    @Test(arguments: Backend.allCases)
    func anEmptyStoreReportsNothing(_ backend: Backend) async throws {
        let store = try Self.makeStore(backend)
        #expect(try await store.analytics(Self.window) == AnalyticsReport())
        await store.close()
    }

    /// The same data gives the same report from MongoDB and SQLite, for every kind of query.
    @Test func bothStoresAgree() async throws {
        let mongo = try await Self.loaded(.mongodb)
        let sqlite = try await Self.loaded(.sqlite)
        for model in [nil, "v1", "unknown"] {
            for inferred in [false, true] {
                for hours in [1, 24, 8760] {
                    let query = AnalyticsQuery(hours: hours, until: Self.end, modelVersion: model, includeInferred: inferred)
                    #expect(try await mongo.analytics(query) == sqlite.analytics(query), "\(query)")
                }
            }
        }
        await mongo.close()
        await sqlite.close()
    }

    // MARK: - The MongoDB pipelines

    /// Only operators of MongoDB 4.4 (as the hourly pipelines), and no stage gathers values into one document.
    @Test func thePipelinesUseOnlyMongoDB44AndGatherNoArrays() {
        let range = HourlyPipelines.range(start: Self.window.start, end: Self.window.end, includeInferred: false)
        // `$ne` is the range's query operator (`end_inferred`), the others expression operators of MongoDB 3.x.
        let allowed = HourlyPipelinesTests.mongoDB44.union(["$ne", "$ifNull", "$floor", "$min", "$max"])
        for pipeline in [AnalyticsPipelines.predictions(range), AnalyticsPipelines.sideBets(range)] {
            let used = HourlyPipelinesTests.operators(in: .array(pipeline))
            #expect(used.subtracting(allowed).isEmpty, "not in MongoDB 4.4: \(used.subtracting(allowed).sorted())")
            #expect(used.isDisjoint(with: ["$push", "$addToSet"]))
        }
    }
}
