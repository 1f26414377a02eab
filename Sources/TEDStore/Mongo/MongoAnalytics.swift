import Foundation
import TEDCore

/// The analytics report in MongoDB: one aggregation groups the window's predictions by model version and confidence
/// decile, one groups its placed side bets by probability decile, and each model's median e40 is ranked by the
/// server as the hourly median is (`HourlyPipelines.medianE40`). Only groups and middle values leave the server.
extension MongoStore {
    public func analytics(_ query: AnalyticsQuery) async throws(StoreError) -> AnalyticsReport {
        let range = HourlyPipelines.range(start: query.start, end: query.end, includeInferred: query.includeInferred)
        var predictionsMatch = range
        if let model = query.modelVersion { predictionsMatch["model_version"] = AnalyticsPipelines.modelVersion(model) }
        let predictionsPipeline = try BSONCodec.encode(["pipeline": .array(AnalyticsPipelines.predictions(predictionsMatch))])
        let sideBetsPipeline = try BSONCodec.encode(["pipeline": .array(AnalyticsPipelines.sideBets(range))])
        // As for the hourly median: the sort may outgrow the server's in-memory limit over a long window.
        let medianOptions = try BSONCodec.encode(["allowDiskUse": true, "maxTimeMS": .int64(Self.readMaxTimeMS)])

        var tally = AnalyticsTally()
        let predictionGroups = try await withCollection(.predictions, on: readPool) { [self] handle throws(StoreError) in
            try aggregate(handle, pipeline: predictionsPipeline, context: "aggregate analytics of predictions")
        }
        for group in predictionGroups { if let group = AnalyticsPipelines.predictionGroup(group) { tally.add(group) } }
        let sideBetGroups = try await withCollection(.sideBets, on: readPool) { [self] handle throws(StoreError) in
            try aggregate(handle, pipeline: sideBetsPipeline, context: "aggregate analytics of side bets")
        }
        for group in sideBetGroups { tally.add(AnalyticsPipelines.sideBetGroup(group)) }

        // One median query per model version with resolved predictions (MongoDB 4.4 has no per-group rank without
        // gathering the values): a deployment has a handful of models, and each query is stopped after readMaxTimeMS.
        var medians: [String: Double] = [:]
        for (model, count) in tally.rankedE40 {
            var ofModel = range
            ofModel["model_version"] = AnalyticsPipelines.modelVersion(model)
            let pipeline = try BSONCodec.encode(["pipeline": .array(HourlyPipelines.medianE40(ofModel, count: count))])
            let median = try await withCollection(.predictions, on: readPool) { [self] handle throws(StoreError) in
                try aggregate(handle, pipeline: pipeline, options: medianOptions, context: "aggregate analytics median e40")
            }
            medians[model] = median.first?["median_e40"]?.doubleValue
        }
        return tally.report(medianE40: medians)
    }
}

/// The analytics pipelines: only operators of MongoDB 4.4, and no stage gathers records into one document.
enum AnalyticsPipelines {
    /// The model version the records without one are reported under (as `Prediction` reads them back).
    static let unknownModel = "unknown"

    /// Matches `model` as a model version; records without one are the "unknown" model's.
    static func modelVersion(_ model: String) -> DocumentValue {
        model == unknownModel ? .document(["$in": .array([.string(model), .null])]) : .string(model)
    }

    /// The decile of the number at `path` (`Decile`): ⌊10·value⌋ within 0...9; null when it is not a number.
    static func decile(_ path: String) -> DocumentValue {
        let tenths: DocumentValue = .document(["$floor": .document(["$multiply": .array([.string(path), .int32(10)])])])
        let clamped: DocumentValue = .document(["$max": .array([.int32(0), .document(["$min": .array([.int32(9), tenths])])])])
        return .document(["$cond": .array([HourlyPipelines.isNumber(path), clamped, .null])])
    }

    static func predictions(_ match: Document) -> [DocumentValue] {
        typealias P = HourlyPipelines
        let rawError = "$error_metrics.raw_error", e40 = "$error_metrics.e40"
        let group: Document = [
            "_id": .document([
                "model": .document(["$ifNull": .array(["$model_version", .string(unknownModel)])]),
                "decile": decile("$confidence"),
            ]),
            "resolved": P.countIf(P.resolved),
            "signed_errors": P.countIf(P.all(P.resolved, P.isNumber(rawError))),
            "error_sum": .document(["$sum": P.valueIf(P.resolved, .string(rawError))]),
            "ranked_e40": P.countIf(P.all(P.resolved, P.isNumber(e40))),
            "e40_sum": .document(["$sum": P.valueIf(P.resolved, .string(e40))]),
            "within_1_window": P.absoluteErrorAtMost(40),
            "within_2_windows": P.absoluteErrorAtMost(80),
            "within_3_windows": P.absoluteErrorAtMost(120),
        ]
        return [.document(["$match": .document(match)]), .document(["$group": .document(group)])]
    }

    static func sideBets(_ range: Document) -> [DocumentValue] {
        typealias P = HourlyPipelines
        func outcome(_ result: SideBetResult) -> DocumentValue { .document(["$eq": .array(["$actual_outcome", .string(result.rawValue)])]) }
        func outcome(in results: [SideBetResult]) -> DocumentValue {
            .document(["$in": .array(["$actual_outcome", .array(results.map { .string($0.rawValue) })])])
        }
        let settled = outcome(in: [.won, .lost])
        var match = range
        match["recommendation"] = .string(Recommendation.bet.rawValue)
        let group: Document = [
            "_id": decile("$probability"),
            "placed": .document(["$sum": .int32(1)]),
            "resolved": P.countIf(outcome(in: [.won, .lost, .void])),
            "won": P.countIf(outcome(.won)),
            "lost": P.countIf(outcome(.lost)),
            "void": P.countIf(outcome(.void)),
            "net_payout": .document(["$sum": P.valueIf(settled, "$payout")]),
            "settled_probability_sum": .document(["$sum": P.valueIf(settled, "$probability")]),
        ]
        return [.document(["$match": .document(match)]), .document(["$group": .document(group)])]
    }

    /// A group of `predictions`; nil for a model version that is not a string (never written by this service).
    static func predictionGroup(_ document: Document) -> AnalyticsTally.PredictionGroup? {
        guard let model = document.value(at: "_id.model")?.stringValue else { return nil }
        func count(_ field: String) -> Int { document[field]?.intValue ?? 0 }
        return AnalyticsTally.PredictionGroup(
            model: model, decile: document.value(at: "_id.decile")?.intValue, resolved: count("resolved"),
            signedErrors: count("signed_errors"), errorSum: document["error_sum"]?.doubleValue ?? 0,
            ranked: count("ranked_e40"), e40Sum: document["e40_sum"]?.doubleValue ?? 0,
            withinOneWindow: count("within_1_window"), withinTwoWindows: count("within_2_windows"),
            withinThreeWindows: count("within_3_windows"))
    }

    static func sideBetGroup(_ document: Document) -> AnalyticsTally.SideBetGroup {
        func count(_ field: String) -> Int { document[field]?.intValue ?? 0 }
        return AnalyticsTally.SideBetGroup(
            decile: document["_id"]?.intValue, placed: count("placed"), resolved: count("resolved"), won: count("won"),
            lost: count("lost"), void: count("void"), netPayout: document["net_payout"]?.doubleValue ?? 0,
            settledProbabilitySum: document["settled_probability_sum"]?.doubleValue ?? 0)
    }
}
