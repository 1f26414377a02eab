import Foundation
import TEDCore

/// A record on its way to a store.
public enum StoreRecord: Sendable, Equatable {
    case game(GameRecord)
    case tickSample(TickSample)
    case prediction(Prediction)
    case sideBet(SideBet)

    public var collection: CollectionName {
        switch self {
        case .game: .games
        case .tickSample: .tickSamples
        case .prediction: .predictions
        case .sideBet: .sideBets
        }
    }

    /// The deterministic `_id`: the record's natural key.
    public var id: String {
        switch self {
        case .game(let r): r.id
        case .tickSample(let r): r.id
        case .prediction(let r): r.id
        case .sideBet(let r): r.id
        }
    }

    public var document: Document {
        switch self {
        case .game(let r): r.document
        case .tickSample(let r): r.document
        case .prediction(let r): r.document
        case .sideBet(let r): r.document
        }
    }

    /// Decodes a document of `collection` back into a record.
    public init(document: Document, collection: CollectionName) throws(StoreError) {
        var reader = DocumentReader(document: document, collection: collection)
        switch collection {
        case .games: self = .game(try GameRecord(reader: &reader))
        case .tickSamples: self = .tickSample(try TickSample(reader: &reader))
        case .predictions: self = .prediction(try Prediction(reader: &reader))
        case .sideBets: self = .sideBet(try SideBet(reader: &reader))
        default: throw StoreError(.corrupt, "no record type for collection \(collection)")
        }
    }
}

extension StoreRecord {
    /// This (stored) version merged with another version of the same record (`RecordMerge.swift`).
    public func merged(with other: StoreRecord) -> StoreRecord {
        switch (self, other) {
        case let (.game(a), .game(b)): .game(a.merged(with: b))
        case let (.prediction(a), .prediction(b)): .prediction(a.merged(with: b))
        case let (.sideBet(a), .sideBet(b)): .sideBet(a.merged(with: b))
        default: self
        }
    }
}

extension JSONValue {
    /// The value as a stored document value (integers stay integers).
    public var documentValue: DocumentValue {
        switch self {
        case .null: .null
        case .bool(let b): .bool(b)
        case .int(let i): .int64(i)
        case .double(let d): .double(d)
        case .string(let s): .string(s)
        case .array(let a): .array(a.map(\.documentValue))
        case .object(let o): .document(o.document)
        }
    }
}

extension JSONObject {
    public var document: Document { Document(entries.map { ($0.key, $0.value.documentValue) }) }
}

extension DocumentValue {
    /// Back to JSON for features read from a store (dates become ISO-8601 strings).
    public var jsonValue: JSONValue {
        switch self {
        case .double(let d): .double(d)
        case .string(let s): .string(s)
        case .document(let d): .object(d.jsonObject)
        case .array(let a): .array(a.map(\.jsonValue))
        case .bool(let b): .bool(b)
        case .date(let d): .string(Timestamp.formatISO8601(d))
        case .null: .null
        case .int32(let i): .int(Int64(i))
        case .int64(let i): .int(i)
        }
    }
}

extension Document {
    public var jsonObject: JSONObject { JSONObject(fields.map { ($0.key, $0.value.jsonValue) }) }
}

extension GameRecord {
    public var document: Document {
        [
            "_id": .string(id), "game_id": .string(gameID), "start_tick": .int64(Int64(startTick)),
            "first_tick_seen": .int64(Int64(firstTickSeen)), "end_tick": .int64(Int64(endTick)),
            "duration_ticks": .int64(Int64(durationTicks)), "ticks_seen": .int64(Int64(ticksSeen)),
            "completeness": .double(completeness),
            "peak_price": .double(peakPrice), "peak_tick": .int64(Int64(peakTick)), "final_price": .double(finalPrice),
            "ended": .bool(ended), "rugged": .bool(rugged), "end_inferred": .bool(endInferred),
            "had_predictions": .bool(hadPredictions),
            "prediction_count": .int64(Int64(predictionCount)),
            "prediction_accuracy": predictionAccuracy.map(DocumentValue.double) ?? .null,
            "side_bets_placed": .int64(Int64(sideBetsPlaced)), "created_at": .date(createdAt), "updated_at": .date(updatedAt),
        ]
    }

    init(reader r: inout DocumentReader) throws(StoreError) {
        self.init(
            gameID: try r.string("game_id"), startTick: try r.int("start_tick"), endTick: try r.int("end_tick"),
            peakPrice: try r.double("peak_price"), peakTick: try r.int("peak_tick"), finalPrice: try r.double("final_price"),
            ended: r.optionalBool("ended") ?? false, rugged: r.optionalBool("rugged") ?? false,
            hadPredictions: r.optionalBool("had_predictions") ?? false,
            predictionCount: r.optionalInt("prediction_count") ?? 0,
            predictionAccuracy: r.optionalDouble("prediction_accuracy"),
            sideBetsPlaced: r.optionalInt("side_bets_placed") ?? 0,
            createdAt: try r.date("created_at"), updatedAt: try r.date("updated_at"),
            ticksSeen: r.optionalInt("ticks_seen") ?? 0)
    }
}

extension TickSample {
    public var document: Document {
        var doc: Document = [
            "_id": .string(id), "game_id": .string(gameID), "tick": .int64(Int64(tick)), "price": .double(price),
        ]
        if let features { doc.append("features", .document(features.document)) }
        doc.append("timestamp", .date(timestamp))
        doc.append("created_at", .date(createdAt))
        return doc
    }

    init(reader r: inout DocumentReader) throws(StoreError) {
        self.init(
            gameID: try r.string("game_id"), tick: try r.int("tick"), price: try r.double("price"),
            features: r.optionalDocument("features")?.jsonObject,
            timestamp: try r.date("timestamp"), createdAt: try r.date("created_at"))
    }
}

extension Prediction {
    public var document: Document {
        var doc: Document = [
            "_id": .string(id), "game_id": .string(gameID), "predicted_at_tick": .int64(Int64(predictedAtTick)),
            "predicted_end_tick": .int64(Int64(predictedEndTick)), "confidence": .double(confidence),
        ]
        if let bounds = uncertaintyBounds {
            doc.append("uncertainty_bounds", .document(["lower": .double(bounds.lower), "upper": .double(bounds.upper)]))
        }
        if let featuresUsed { doc.append("features_used", .document(featuresUsed.document)) }
        doc.append("model_version", .string(modelVersion))
        doc.append("timestamp", .date(timestamp))
        doc.append("created_at", .date(createdAt))
        doc.append("resolved", .bool(isResolved))
        doc.append("actual_end_tick", actualEndTick.map { .int64(Int64($0)) } ?? .null)
        doc.append("end_inferred", .bool(endInferred))
        if let m = errorMetrics {
            doc.append("error_metrics", .document([
                "raw_error": .int64(Int64(m.rawError)), "e40": .double(m.e40),
                "absolute_error": .int64(Int64(m.absoluteError)), "within_windows": .int64(Int64(m.withinWindows)),
            ]))
        } else {
            doc.append("error_metrics", .null)
        }
        return doc
    }

    init(reader r: inout DocumentReader) throws(StoreError) {
        self.init(
            gameID: try r.string("game_id"), predictedAtTick: try r.int("predicted_at_tick"),
            predictedEndTick: try r.int("predicted_end_tick"), confidence: try r.double("confidence"),
            uncertaintyBounds: try r.optionalDocument("uncertainty_bounds").map { bounds throws(StoreError) in
                let b = DocumentReader(document: bounds, collection: r.collection)
                return UncertaintyBounds(lower: try b.double("lower"), upper: try b.double("upper"))
            },
            featuresUsed: r.optionalDocument("features_used")?.jsonObject,
            modelVersion: r.optionalString("model_version") ?? "unknown",
            timestamp: try r.date("timestamp"), createdAt: try r.date("created_at"))
        if let actual = r.optionalInt("actual_end_tick") {
            self = resolved(actualEndTick: actual, endInferred: r.optionalBool("end_inferred") ?? false)
        }
    }
}

extension SideBet {
    public var document: Document {
        [
            "_id": .string(id), "game_id": .string(gameID), "placed_at_tick": .int64(Int64(placedAtTick)),
            "probability": .double(probability), "expected_value": .double(expectedValue), "confidence": .double(confidence),
            "recommendation": .string(recommendation.rawValue), "timestamp": .date(timestamp), "created_at": .date(createdAt),
            "resolved": .bool(isResolved),
            "actual_end_tick": actualEndTick.map { .int64(Int64($0)) } ?? .null,
            "actual_outcome": actualOutcome.map { .string($0.rawValue) } ?? .null,
            "payout": payout.map(DocumentValue.double) ?? .null,
            "end_inferred": .bool(endInferred),
        ]
    }

    init(reader r: inout DocumentReader) throws(StoreError) {
        guard let recommendation = Recommendation(rawValue: try r.string("recommendation")) else {
            throw r.corrupt("recommendation")
        }
        self.init(
            gameID: try r.string("game_id"), placedAtTick: try r.int("placed_at_tick"),
            probability: try r.double("probability"), expectedValue: try r.double("expected_value"),
            confidence: try r.double("confidence"), recommendation: recommendation,
            timestamp: try r.date("timestamp"), createdAt: try r.date("created_at"))
        actualEndTick = r.optionalInt("actual_end_tick")
        actualOutcome = r.optionalString("actual_outcome").flatMap(SideBetResult.init(rawValue:))
        payout = r.optionalDouble("payout")
        endInferred = r.optionalBool("end_inferred") ?? false
    }
}

/// Typed reads from a stored document, naming the field when it is missing or of the wrong type.
struct DocumentReader {
    let document: Document
    let collection: CollectionName

    func corrupt(_ field: String) -> StoreError {
        StoreError(.corrupt, "\(collection) document \(document["_id"]?.stringValue ?? "?"): field \(field) is missing or invalid")
    }

    func string(_ field: String) throws(StoreError) -> String {
        guard let v = document[field]?.stringValue else { throw corrupt(field) }
        return v
    }

    func int(_ field: String) throws(StoreError) -> Int {
        guard let v = document[field]?.intValue else { throw corrupt(field) }
        return v
    }

    func double(_ field: String) throws(StoreError) -> Double {
        guard let v = document[field]?.doubleValue else { throw corrupt(field) }
        return v
    }

    func date(_ field: String) throws(StoreError) -> Date {
        guard let v = document[field]?.dateValue else { throw corrupt(field) }
        return v
    }

    func optionalString(_ field: String) -> String? { document[field]?.stringValue }
    func optionalInt(_ field: String) -> Int? { document[field]?.intValue }
    func optionalDouble(_ field: String) -> Double? { document[field]?.doubleValue }
    func optionalBool(_ field: String) -> Bool? { document[field]?.boolValue }
    func optionalDocument(_ field: String) -> Document? { document[field]?.documentValue }
}
