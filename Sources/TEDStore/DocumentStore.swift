import Foundation
import TEDCore

/// A named collection (MongoDB) or table (SQLite).
public struct CollectionName: RawRepresentable, Hashable, Sendable, CustomStringConvertible, Comparable {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public init(_ rawValue: String) { self.rawValue = rawValue }
    public var description: String { rawValue }
    public static func < (lhs: CollectionName, rhs: CollectionName) -> Bool { lhs.rawValue < rhs.rawValue }

    public static let games = CollectionName("games")
    public static let tickSamples = CollectionName("tick_samples")
    public static let predictions = CollectionName("predictions")
    public static let sideBets = CollectionName("side_bets")
    public static let metricsHourly = CollectionName("metrics_hourly")
    /// The migration ledger.
    public static let schemaMigrations = CollectionName("schema_migrations")
    /// Leases and the migration lock: `{_id: name, owner, expires_at}`.
    public static let locks = CollectionName("locks")
    /// Records the store refused for good, with their error: `{_id: "<collection>/<record _id>", collection,
    /// record_id, record, error_code, error_message, failed_at, created_at}`.
    public static let deadLetters = CollectionName("dead_letters")

    /// The collections the flush writes, in the order it writes them.
    public static let flushed: [CollectionName] = [.games, .predictions, .sideBets, .tickSamples]
    /// Every collection that holds data (and retention applies to).
    public static let data: [CollectionName] = [.games, .tickSamples, .predictions, .sideBets, .metricsHourly]
}

/// Why a store call failed. Messages never carry credentials.
public struct StoreError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        /// The server cannot be reached or selected: retry later.
        case unavailable
        /// The server answered with an error for this operation.
        case operationFailed
        /// A stored document could not be read.
        case corrupt
        /// Bad configuration (URL, path).
        case configuration
    }

    public let kind: Kind
    public let message: String
    public let code: Int
    /// Whether the same write may succeed later (network, failover, a busy or full disk). Anything else is a refusal:
    /// writing the same record again would fail the same way.
    public let isRetryable: Bool

    /// `retryable` defaults to whether the store is unavailable; adapters that know better say so.
    public init(_ kind: Kind, _ message: String, code: Int = 0, retryable: Bool? = nil) {
        self.kind = kind
        self.message = message
        self.code = code
        self.isRetryable = retryable ?? (kind == .unavailable)
    }

    public var description: String { message }
}

/// What became of one record of a batch.
public enum RecordFate: Sendable, Equatable {
    /// Written (inserted or merged).
    case stored
    /// Already stored with the same `_id` (a retry or a re-sent fact): not an error.
    case alreadyStored
    /// Not written this time; may succeed later (see `StoreError.isRetryable`).
    case retryable(StoreError)
    /// Refused for good: it goes to the dead-letter, never back to the queue.
    case refused(StoreError)
}

/// What the service asks of a store. Every method may block on I/O inside the implementation, never on the
/// caller's event loop. Every write is idempotent thanks to deterministic `_id`s. It refines the persistence layer's
/// ports in domain terms (`Ports/StorePorts.swift`), which each adapter implements natively.
public protocol DocumentStore: StorePorts {
    var backend: StoreBackend { get }
    /// Where the data lives, safe to log (no password).
    var location: String { get }

    func ping() async throws(StoreError)

    /// Writes records of one collection as merges that commute (see `RecordMerge.swift`): facts are inserted once,
    /// outcomes only ever set, games merged monotonically, so versions may arrive in any order. Returns each
    /// record's fate, in order; throws when the call failed as a whole (nothing can be said of single records).
    func write(_ records: [StoreRecord], to collection: CollectionName) async throws(StoreError) -> [RecordFate]

    /// Resolves in the store the unresolved predictions and side bets of those of `gameIDs` whose stored game has
    /// ended, against its stored end tick, and sets the game's counters from its stored predictions and side bets.
    /// Records stored before a restart, or by another instance, are resolved too. Idempotent.
    func resolveOutcomes(ofGames gameIDs: [String], rules: OutcomeRules) async throws(StoreError)

    /// Computes the hourly metrics of [start, end) in the database (`HourlyFigures`). Records with
    /// `end_inferred` (games whose rug was never seen, and their outcomes) count only with `includeInferred`.
    func aggregateHour(start: Date, end: Date, includeInferred: Bool) async throws(StoreError) -> HourlyFigures

    /// Takes or renews the lease `name` for `owner` until `expiresAt`, if it is free, expired or already ours.
    func acquireLease(_ name: String, owner: String, now: Date, expiresAt: Date) async throws(StoreError) -> Bool
    func releaseLease(_ name: String, owner: String) async throws(StoreError)

    /// Schema operations, for migrations.
    var schema: any SchemaStore { get }

    func close() async

    // MARK: Analytics

    /// How each model version and the side bets did over `query`'s window (`GET /api/persistence/analytics`),
    /// computed in the database with bounded memory: records grouped and summed there (`AnalyticsTally`), medians
    /// ranked there. Records with `end_inferred` count only with `query.includeInferred`, as in `aggregateHour`.
    func analytics(_ query: AnalyticsQuery) async throws(StoreError) -> AnalyticsReport

    // MARK: Game recordings

    /// Up to `limit` tick samples of `gameID` with a tick above `afterTick`, ascending by tick, without their
    /// features: one page of the game's recording. Read through the `_id` range of this service's keys
    /// (`game_id:tick`, see `RecordedTick.idRange`), so no secondary index is needed on the busiest collection;
    /// tick samples stored under other `_id`s (TED-V1's ObjectIds) are not found.
    func recordedTicks(ofGame gameID: String, afterTick: Int, limit: Int) async throws(StoreError) -> [RecordedTick]
}

extension DocumentStore {
    /// The hourly metrics as stored and reported by default: without inferred ends.
    public func aggregateHour(start: Date, end: Date) async throws(StoreError) -> HourlyFigures {
        try await aggregateHour(start: start, end: end, includeInferred: false)
    }
}

/// An index as the migrations declare it.
public struct IndexSpec: Sendable, Equatable {
    public var name: String
    /// Field → 1 (ascending) or -1 (descending), in order.
    public var keys: [(field: String, order: Int)]
    public var unique: Bool
    public var expireAfterSeconds: Int?

    public init(name: String, keys: [(field: String, order: Int)], unique: Bool = false, expireAfterSeconds: Int? = nil) {
        self.name = name
        self.keys = keys
        self.unique = unique
        self.expireAfterSeconds = expireAfterSeconds
    }

    public static func == (lhs: IndexSpec, rhs: IndexSpec) -> Bool {
        lhs.name == rhs.name && lhs.unique == rhs.unique && lhs.expireAfterSeconds == rhs.expireAfterSeconds
            && lhs.keys.count == rhs.keys.count
            && zip(lhs.keys, rhs.keys).allSatisfy { $0.field == $1.field && $0.order == $1.order }
    }

    /// Same keys in the same order (the options may differ).
    public func hasSameKeys(as other: IndexSpec) -> Bool {
        keys.count == other.keys.count && zip(keys, other.keys).allSatisfy { $0.field == $1.field && $0.order == $1.order }
    }
}

/// Collections and indexes: what migrations create, inspect and drop. Read methods never write anything.
public protocol SchemaStore: Sendable {
    func collectionNames() async throws(StoreError) -> [String]
    func createCollection(_ name: CollectionName, validator: Document?) async throws(StoreError)
    func dropCollection(_ name: CollectionName) async throws(StoreError)
    /// Secondary indexes (not the `_id` index / primary key).
    func indexes(of collection: CollectionName) async throws(StoreError) -> [IndexSpec]
    func createIndex(_ index: IndexSpec, on collection: CollectionName) async throws(StoreError)
    func dropIndex(named name: String, on collection: CollectionName) async throws(StoreError)
    /// Bytes the database takes (data + indexes), as the store reports it.
    func databaseSizeBytes() async throws(StoreError) -> Int64

    // Storage layouts (a backend's own migrations, `migrations/sqlite/`): converts an existing collection's rows to
    // `layout` in place; returns how many rows it converted, nil when the collection was missing or had the layout.
    func changeLayout(of collection: CollectionName, to layout: StoredLayout) async throws(StoreError) -> Int?

    // The layout each existing table has in the database, beside the one this version reads and writes it in
    // (`ted verify`, readiness); none for a store that keeps every collection one way (MongoDB). Writes nothing.
    func tableLayouts() async throws(StoreError) -> [TableLayout]
}

extension SchemaStore {
    /// A store with one way of keeping documents (MongoDB) has no layouts to change.
    public func changeLayout(of collection: CollectionName, to layout: StoredLayout) async throws(StoreError) -> Int? {
        throw StoreError(.operationFailed, "this store keeps \(collection) one way only: no \(layout.rawValue) layout")
    }
}
