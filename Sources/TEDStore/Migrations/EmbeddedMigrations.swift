/// The files of `migrations/`, compiled into `ted`, so that `ted migrate` (and the check at start) works from any
/// working directory and in the Docker image without the folder next to the binary. A Swift string rather than a
/// SwiftPM resource: on Linux a resource bundle must sit beside the binary, which a copied binary loses.
/// `migrations/` stays the source: EmbeddedMigrationsTests fails unless every file here is byte-identical to its
/// file there (same checksum in the ledger), and `MIGRATIONS_DIR` still points ted at a directory instead.
public enum EmbeddedMigrations {
    public struct File: Sendable, Equatable {
        /// The path under `migrations/`: a backend's own files are in its folder (`sqlite/…`).
        public let name: String
        public let contents: String
    }

    /// Shown in place of a directory in messages.
    public static let origin = "(built into ted)"

    public static let files: [File] = [
        File(name: "0001_initial.json", contents: initial),
        File(name: "0002_flag_history.json", contents: flagHistory),
        File(name: "sqlite/0003_tick_sample_columns.json", contents: sqliteTickSampleColumns),
        File(name: "sqlite/0004_prediction_columns.json", contents: sqlitePredictionColumns),
        File(name: "sqlite/0005_side_bet_columns.json", contents: sqliteSideBetColumns),
        File(name: "sqlite/0006_game_columns.json", contents: sqliteGameColumns),
        File(name: "sqlite/0007_metrics_hourly_columns.json", contents: sqliteMetricsHourlyColumns),
        File(name: "sqlite/0008_dead_letter_columns.json", contents: sqliteDeadLetterColumns),
        File(name: "sqlite/0009_flag_history_columns.json", contents: sqliteFlagHistoryColumns),
    ]

    // migrations/0001_initial.json, byte for byte (the empty line keeps its final newline).
    private static let initial = #"""
{
  "description": "The tracker's collections. _id is each record's natural key (so no unique index repeats it); every secondary index slows inserts about 3x, so only those a query needs are here.",
  "up": {
    "create_collections": [
      { "name": "games" },
      { "name": "predictions" },
      { "name": "side_bets" },
      { "name": "tick_samples" },
      { "name": "metrics_hourly" }
    ],
    "create_indexes": [
      {
        "collection": "games", "name": "created_at_1",
        "keys": [{ "field": "created_at", "order": 1 }],
        "why": "retention deletes games older than GAME_RETENTION_DAYS by created_at, oldest first"
      },
      {
        "collection": "predictions", "name": "created_at_1",
        "keys": [{ "field": "created_at", "order": 1 }],
        "why": "retention deletes predictions older than PREDICTION_RETENTION_DAYS by created_at, oldest first"
      },
      {
        "collection": "predictions", "name": "game_id_1",
        "keys": [{ "field": "game_id", "order": 1 }],
        "why": "outcomes and the game endpoint read a game's predictions by game_id"
      },
      {
        "collection": "side_bets", "name": "created_at_1",
        "keys": [{ "field": "created_at", "order": 1 }],
        "why": "retention deletes side bets older than SIDEBET_RETENTION_DAYS by created_at, oldest first"
      },
      {
        "collection": "side_bets", "name": "game_id_1",
        "keys": [{ "field": "game_id", "order": 1 }],
        "why": "outcomes and the game endpoint read a game's side bets by game_id"
      },
      {
        "collection": "tick_samples", "name": "created_at_1",
        "keys": [{ "field": "created_at", "order": 1 }],
        "why": "retention deletes tick samples older than TICK_RETENTION_DAYS by created_at, oldest first"
      },
      {
        "collection": "metrics_hourly", "name": "created_at_1",
        "keys": [{ "field": "created_at", "order": 1 }],
        "why": "retention deletes hourly metrics older than METRICS_RETENTION_DAYS by created_at (_id is the hour start)"
      }
    ]
  },
  "down": {
    "drop_collections": ["metrics_hourly", "tick_samples", "side_bets", "predictions", "games"]
  }
}

"""#

    // migrations/0002_flag_history.json, byte for byte (the empty line keeps its final newline).
    private static let flagHistory = #"""
{
  "description": "The flag history: every change of PERSISTENCE_ENABLED (when, from, to, source, admin token fingerprint, host). Operator audit data, kept apart from the game data; _id is a deterministic key of the change, so a re-sync never duplicates one.",
  "up": {
    "create_collections": [
      { "name": "flag_history" }
    ],
    "create_indexes": [
      {
        "collection": "flag_history", "name": "created_at_1",
        "keys": [{ "field": "created_at", "order": 1 }],
        "why": "GET /api/persistence/flag-history reads the newest changes first by created_at (the time of the change)"
      }
    ]
  },
  "down": {
    "drop_collections": ["flag_history"]
  }
}

"""#

    // migrations/sqlite/0003_tick_sample_columns.json, byte for byte (the empty line keeps its final newline).
    private static let sqliteTickSampleColumns = #"""
{
  "description": "SQLite only: tick_samples in real columns (_id, game_id, tick, price, features JSON or NULL, timestamp and created_at in epoch ms) instead of one JSON document per row, so the flush binds six plain values per sample. Existing rows are converted in place, each to exactly the document it was; one the columns cannot rebuild keeps its whole document beside them. MongoDB keeps documents and has no version 0003.",
  "up": {
    "layouts": [
      { "collection": "tick_samples", "layout": "columns" }
    ]
  },
  "down": {
    "layouts": [
      { "collection": "tick_samples", "layout": "documents" }
    ]
  }
}

"""#

    // migrations/sqlite/0004_prediction_columns.json, byte for byte.
    private static let sqlitePredictionColumns = #"""
{
  "description": "SQLite only: predictions in real columns (a column per field of the stored prediction: ids and model as text, ticks as integers, confidence as a real, timestamps in epoch ms, flags 0 or 1, uncertainty_bounds, features_used and error_metrics as JSON) instead of one JSON document per row, so outcome resolution, analytics and the hourly aggregate read plain columns. Existing rows are converted in place, each to exactly the document it was (one the columns cannot rebuild keeps its whole document beside them). MongoDB keeps documents and has no version 0004.",
  "up": {
    "layouts": [
      { "collection": "predictions", "layout": "columns" }
    ]
  },
  "down": {
    "layouts": [
      { "collection": "predictions", "layout": "documents" }
    ]
  }
}

"""#

    // migrations/sqlite/0005_side_bet_columns.json, byte for byte.
    private static let sqliteSideBetColumns = #"""
{
  "description": "SQLite only: side_bets in real columns (a column per field of the stored side bet: ids, recommendation and outcome as text, ticks as integers, probability, expected value, confidence and payout as reals, timestamps in epoch ms, flags 0 or 1) instead of one JSON document per row, so outcome resolution, analytics and the hourly aggregate read plain columns. Existing rows are converted in place, each to exactly the document it was (one the columns cannot rebuild keeps its whole document beside them). MongoDB keeps documents and has no version 0005.",
  "up": {
    "layouts": [
      { "collection": "side_bets", "layout": "columns" }
    ]
  },
  "down": {
    "layouts": [
      { "collection": "side_bets", "layout": "documents" }
    ]
  }
}

"""#

    // migrations/sqlite/0006_game_columns.json, byte for byte.
    private static let sqliteGameColumns = #"""
{
  "description": "SQLite only: games in real columns (a column per field of the stored game: game_id as text, ticks and counters as integers, completeness and prices as reals, flags 0 or 1, created_at and updated_at in epoch ms) instead of one JSON document per row, so the game list, outcome resolution and the hourly aggregate read plain columns. Existing rows are converted in place, each to exactly the document it was (one the columns cannot rebuild keeps its whole document beside them). MongoDB keeps documents and has no version 0006.",
  "up": {
    "layouts": [
      { "collection": "games", "layout": "columns" }
    ]
  },
  "down": {
    "layouts": [
      { "collection": "games", "layout": "documents" }
    ]
  }
}

"""#

    // migrations/sqlite/0007_metrics_hourly_columns.json, byte for byte.
    private static let sqliteMetricsHourlyColumns = #"""
{
  "description": "SQLite only: metrics_hourly in real columns (a column per figure, those of prediction_metrics and side_bet_metrics included: counts as integers, means, median, net payout and ROI as reals or NULL, hour_start, hour_end, created_at and updated_at in epoch ms) instead of one JSON document per row, so the hourly rows are read and sorted by plain columns. Existing rows are converted in place, each to exactly the document it was (one the columns cannot rebuild keeps its whole document beside them). MongoDB keeps documents and has no version 0007.",
  "up": {
    "layouts": [
      { "collection": "metrics_hourly", "layout": "columns" }
    ]
  },
  "down": {
    "layouts": [
      { "collection": "metrics_hourly", "layout": "documents" }
    ]
  }
}

"""#

    // migrations/sqlite/0008_dead_letter_columns.json, byte for byte.
    private static let sqliteDeadLetterColumns = #"""
{
  "description": "SQLite only: dead_letters in real columns (collection, record_id and error_message as text, error_code as an integer, failed_at and created_at in epoch ms, the refused record kept as its Extended JSON text in record, as it is an arbitrary record the store refused) instead of one JSON document per row, so the list, its order and the counts read plain columns. A database where no record was refused yet has no table to convert: ted creates it in the column layout on the first refusal. Existing rows are converted in place, each to exactly the document it was (one the columns cannot rebuild keeps its whole document beside them). MongoDB keeps documents and has no version 0008.",
  "up": {
    "layouts": [
      { "collection": "dead_letters", "layout": "columns" }
    ]
  },
  "down": {
    "layouts": [
      { "collection": "dead_letters", "layout": "documents" }
    ]
  }
}

"""#

    // migrations/sqlite/0009_flag_history_columns.json, byte for byte.
    private static let sqliteFlagHistoryColumns = #"""
{
  "description": "SQLite only: flag_history in real columns (at and created_at in epoch ms, from and to as from_enabled and to_enabled 0 or 1, source, token_fingerprint and host as text) instead of one JSON document per row, so the history is read newest first from plain columns. Existing rows are converted in place, each to exactly the document it was (one the columns cannot rebuild keeps its whole document beside them). MongoDB keeps documents and has no version 0009.",
  "up": {
    "layouts": [
      { "collection": "flag_history", "layout": "columns" }
    ]
  },
  "down": {
    "layouts": [
      { "collection": "flag_history", "layout": "documents" }
    ]
  }
}

"""#
}
