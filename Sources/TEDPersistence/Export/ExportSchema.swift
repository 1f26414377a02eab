import TEDCore
import TEDStore

/// What an exported field holds; every value of a kind is written one way, whichever store it came from.
public indirect enum ExportKind: Sendable {
    case string
    /// A whole number (an integral double of an old document counts).
    case integer
    /// Any number, written as a double (`1.0`, `0.25`, `1e-07`).
    case number
    case boolean
    /// ISO-8601 UTC with milliseconds (`2026-11-22T20:21:31.123Z`).
    case date
    /// A free-form object (features): canonical JSON, keys sorted at every level.
    case json
    /// An object of fixed fields: nested in NDJSON, one CSV column per field (`parent.child`).
    case object([ExportField])
}

public struct ExportField: Sendable {
    public let name: String
    public let kind: ExportKind

    public init(_ name: String, _ kind: ExportKind) {
        self.name = name
        self.kind = kind
    }
}

/// The documented layout of one collection's export: its fields in canonical order (the order of the records'
/// documents in `RecordCoding.swift`), the date field `--since`/`--until` compare, and whether `--game` applies.
/// Fields a stored document lacks are null; fields outside the schema are not exported (a backup keeps them).
public struct ExportSchema: Sendable {
    public let collection: CollectionName
    public let fields: [ExportField]
    /// The date field of the time filter.
    public let timeField: String
    /// Whether the documents carry `game_id`.
    public let hasGameID: Bool

    /// The CSV header: one column per scalar, nested fields as `parent.child`.
    public var columns: [String] { Self.columns(of: fields, prefix: "") }

    private static func columns(of fields: [ExportField], prefix: String) -> [String] {
        fields.flatMap { field -> [String] in
            if case .object(let children) = field.kind { return columns(of: children, prefix: prefix + field.name + ".") }
            return [prefix + field.name]
        }
    }

    /// Every exportable collection, in the order `--all` writes them.
    public static let all: [ExportSchema] = [games, tickSamples, predictions, sideBets, metricsHourly]

    public static func of(_ collection: CollectionName) -> ExportSchema? { all.first { $0.collection == collection } }

    public static let games = ExportSchema(collection: .games, fields: [
        ExportField("_id", .string), ExportField("game_id", .string), ExportField("start_tick", .integer),
        ExportField("first_tick_seen", .integer), ExportField("end_tick", .integer), ExportField("duration_ticks", .integer),
        ExportField("ticks_seen", .integer), ExportField("completeness", .number), ExportField("peak_price", .number),
        ExportField("peak_tick", .integer), ExportField("final_price", .number), ExportField("ended", .boolean),
        ExportField("rugged", .boolean), ExportField("end_inferred", .boolean), ExportField("had_predictions", .boolean),
        ExportField("prediction_count", .integer), ExportField("prediction_accuracy", .number),
        ExportField("side_bets_placed", .integer), ExportField("created_at", .date), ExportField("updated_at", .date),
    ], timeField: "created_at", hasGameID: true)

    public static let tickSamples = ExportSchema(collection: .tickSamples, fields: [
        ExportField("_id", .string), ExportField("game_id", .string), ExportField("tick", .integer),
        ExportField("price", .number), ExportField("features", .json), ExportField("timestamp", .date),
        ExportField("created_at", .date),
    ], timeField: "timestamp", hasGameID: true)

    public static let predictions = ExportSchema(collection: .predictions, fields: [
        ExportField("_id", .string), ExportField("game_id", .string), ExportField("predicted_at_tick", .integer),
        ExportField("predicted_end_tick", .integer), ExportField("confidence", .number),
        ExportField("uncertainty_bounds", .object([ExportField("lower", .number), ExportField("upper", .number)])),
        ExportField("features_used", .json), ExportField("model_version", .string), ExportField("timestamp", .date),
        ExportField("created_at", .date), ExportField("resolved", .boolean), ExportField("actual_end_tick", .integer),
        ExportField("end_inferred", .boolean),
        ExportField("error_metrics", .object([
            ExportField("raw_error", .integer), ExportField("e40", .number), ExportField("absolute_error", .integer),
            ExportField("within_windows", .integer),
        ])),
    ], timeField: "timestamp", hasGameID: true)

    public static let sideBets = ExportSchema(collection: .sideBets, fields: [
        ExportField("_id", .string), ExportField("game_id", .string), ExportField("placed_at_tick", .integer),
        ExportField("probability", .number), ExportField("expected_value", .number), ExportField("confidence", .number),
        ExportField("recommendation", .string), ExportField("timestamp", .date), ExportField("created_at", .date),
        ExportField("resolved", .boolean), ExportField("actual_end_tick", .integer), ExportField("actual_outcome", .string),
        ExportField("payout", .number), ExportField("end_inferred", .boolean),
    ], timeField: "timestamp", hasGameID: true)

    public static let metricsHourly = ExportSchema(collection: .metricsHourly, fields: [
        ExportField("_id", .string), ExportField("hour_start", .date), ExportField("hour_end", .date),
        ExportField("games_analyzed", .integer), ExportField("predictions_made", .integer),
        ExportField("predictions_resolved", .integer),
        ExportField("prediction_metrics", .object([
            ExportField("median_e40", .number), ExportField("mean_e40", .number), ExportField("mean_absolute_error", .number),
            ExportField("within_1_window", .integer), ExportField("within_2_windows", .integer),
            ExportField("within_3_windows", .integer),
        ])),
        ExportField("side_bet_metrics", .object([
            ExportField("total_recommended", .integer), ExportField("bets_placed", .integer),
            ExportField("positive_ev_count", .integer), ExportField("bets_won", .integer), ExportField("bets_lost", .integer),
            ExportField("net_payout", .number), ExportField("roi_percentage", .number),
        ])),
        ExportField("created_at", .date), ExportField("updated_at", .date),
    ], timeField: "hour_start", hasGameID: false)
}
