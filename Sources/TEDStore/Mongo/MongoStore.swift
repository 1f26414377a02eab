import CLibMongoC
import Foundation
import Logging
import TEDCore

/// The MongoDB store, on libmongoc. Documents cross threads as BSON bytes; every libmongoc call runs on the
/// pool's own threads (`MongoClientPool.withClient`).
public final class MongoStore: DocumentStore, SchemaStore {
    public let backend: StoreBackend = .mongodb
    public let location: String
    let database: String
    /// The write path's clients and threads (flush, outcomes, leases, retention, migrations).
    let pool: MongoClientPool
    /// Reads (reports, backups, the hourly aggregation) have clients and threads of their own, so however slow or
    /// many they are, they never take what the flush needs.
    let readPool: MongoClientPool
    private let logger: Logger

    /// `writeThreadPriority`: the CPU priority of the write clients' threads (`ted serve` passes the flush's); the
    /// read clients keep theirs, since a request waits for them.
    public init(url: String, database: String, logger: Logger, writeThreadPriority: StoreThreadPriority? = nil) throws(StoreError) {
        // MongoDB refuses these characters in database names; failing here names the setting at fault.
        guard !database.isEmpty, !database.contains(where: { "/\\. \"$\0".contains($0) }) else {
            throw StoreError(.configuration, "invalid MongoDB database name '\(database)'")
        }
        pool = try MongoClientPool(url: url, threadPriority: writeThreadPriority)
        readPool = try MongoClientPool(url: url, defaultClients: Self.readClients, appName: "ted-reads")
        self.database = database
        self.logger = logger
        location = MongoURL.redacted(url) + "/" + database
    }

    public var schema: any SchemaStore { self }

    public func ping() async throws(StoreError) {
        try await pool.withClient { [self] client throws(StoreError) in
            _ = try runCommand(client, ["ping": .int32(1)], context: "ping")
        }
    }

    public func close() async {
        await pool.close()
        await readPool.close()
        logger.debug("closed the MongoDB store", metadata: ["location": "\(location)"])
    }

    // MARK: - Writes

    func insert(_ documents: [Document], into collection: CollectionName) async throws(StoreError) -> WriteOutcome {
        guard !documents.isEmpty else { return WriteOutcome() }
        let encoded = try documents.map { document throws(StoreError) in try BSONCodec.encode(document) }
        let options = try BSONCodec.encode(["ordered": false])
        let context = "insert into \(collection)"
        return try await withCollection(collection) { [self] handle throws(StoreError) in
            try withBSONViews(encoded) { views throws(StoreError) in
                try withBSONView(options) { options throws(StoreError) in
                    try withReply { reply throws(StoreError) in
                        var error = bson_error_t()
                        var views = views
                        let ok = views.withUnsafeMutableBufferPointer { buffer in
                            mongoc_collection_insert_many(handle, buffer.baseAddress, buffer.count, options, reply, &error)
                        }
                        let result = try BSONCodec.decodeReply(copyBSON(reply))
                        // A duplicate `_id` is a retry of a write that already landed: the rest still inserted.
                        let duplicates = try countDuplicates(in: result, context: context)
                        if !ok && ted_bson_error_code(&error) != Self.duplicateKey {
                            throw pool.storeError(&error, context)
                        }
                        let inserted = result["insertedCount"]?.intValue ?? (documents.count - duplicates)
                        return WriteOutcome(written: inserted, alreadyStored: duplicates)
                    }
                }
            }
        }
    }

    func upsert(_ documents: [Document], into collection: CollectionName) async throws(StoreError) -> WriteOutcome {
        guard !documents.isEmpty else { return WriteOutcome() }
        let context = "upsert into \(collection)"
        let selectors = try documents.map { document throws(StoreError) in
            guard let id = document["_id"] else { throw StoreError(.operationFailed, "\(context): a document has no _id") }
            return try BSONCodec.encode(["_id": id])
        }
        let replacements = try documents.map { document throws(StoreError) in try BSONCodec.encode(document) }
        let bulkOptions = try BSONCodec.encode(["ordered": false])
        let replaceOptions = try BSONCodec.encode(["upsert": true])
        return try await withCollection(collection) { [self] handle throws(StoreError) in
            guard let bulk = try withBSONView(bulkOptions, { mongoc_collection_create_bulk_operation_with_opts(handle, $0) }) else {
                throw StoreError(.operationFailed, "\(context): cannot create a bulk operation")
            }
            defer { mongoc_bulk_operation_destroy(bulk) }
            var error = bson_error_t()
            // libmongoc copies each selector and replacement into the bulk command as it is added.
            try withBSONViews(selectors) { selectors throws(StoreError) in
                try withBSONViews(replacements) { replacements throws(StoreError) in
                    try withBSONView(replaceOptions) { options throws(StoreError) in
                        for (selector, replacement) in zip(selectors, replacements) {
                            guard mongoc_bulk_operation_replace_one_with_opts(bulk, selector, replacement, options, &error) else {
                                throw pool.storeError(&error, context)
                            }
                        }
                    }
                }
            }
            return try withReply { reply throws(StoreError) in
                let ok = mongoc_bulk_operation_execute(bulk, reply, &error) != 0
                let result = try BSONCodec.decodeReply(copyBSON(reply))
                if let first = result["writeErrors"]?.arrayValue?.first?.documentValue {
                    throw Self.writeError(first, context: context)
                }
                guard ok else { throw pool.storeError(&error, context) }
                let written = (result["nUpserted"]?.intValue ?? 0) + (result["nMatched"]?.intValue ?? 0)
                return WriteOutcome(written: written)
            }
        }
    }

    // MARK: - Reads and deletes

    func find(_ collection: CollectionName, where filter: DocumentFilter, sort: DocumentSort?, limit: Int?) async throws(StoreError) -> [Document] {
        if let limit, limit <= 0 { return [] }  // MongoDB reads a limit of 0 as "no limit".
        let query = try BSONCodec.encode(filter.mongoQuery)
        var options = Document()
        if let sort { options.append("sort", .document([sort.field: .int32(sort.ascending ? 1 : -1)])) }
        if let limit { options.append("limit", .int64(Int64(limit))) }
        options.append("maxTimeMS", .int64(Self.readMaxTimeMS))
        let encodedOptions = try BSONCodec.encode(options)
        return try await withCollection(collection, on: readPool) { [self] handle throws(StoreError) in
            try findRaw(handle, query: query, options: encodedOptions, context: "find in \(collection)")
                .map { bytes throws(StoreError) in try BSONCodec.decode(bytes) }
        }
    }

    func count(_ collection: CollectionName, where filter: DocumentFilter) async throws(StoreError) -> Int {
        let query = try BSONCodec.encode(filter.mongoQuery)
        return try await withCollection(collection, on: readPool) { [self] handle throws(StoreError) in
            try count(handle, query: query, context: "count in \(collection)")
        }
    }

    func delete(from collection: CollectionName, where filter: DocumentFilter, limit: Int) async throws(StoreError) -> Int {
        try await deleteOldestFirst(from: collection, matching: try BSONCodec.encode(filter.mongoQuery), limit: limit)
    }

    // MARK: - Hourly metrics

    public func aggregateHour(start: Date, end: Date, includeInferred: Bool) async throws(StoreError) -> HourlyFigures {
        let range = HourlyPipelines.range(start: start, end: end, includeInferred: includeInferred)
        let gamesQuery = try BSONCodec.encode(range)
        let predictionsPipeline = try BSONCodec.encode(["pipeline": .array(HourlyPipelines.predictions(range))])
        let sideBetsPipeline = try BSONCodec.encode(["pipeline": .array(HourlyPipelines.sideBets(range))])
        // The sort of the median may outgrow the server's 100 MB in-memory limit over a long period: spill to disk.
        let medianOptions = try BSONCodec.encode(["allowDiskUse": true, "maxTimeMS": .int64(Self.readMaxTimeMS)])
        let database = database
        return try await readPool.withClient { [self] client throws(StoreError) in
            func withHandle<T>(_ name: CollectionName, _ body: (OpaquePointer) throws(StoreError) -> T) throws(StoreError) -> T {
                guard let handle = mongoc_client_get_collection(client, database, name.rawValue) else {
                    throw StoreError(.operationFailed, "cannot open collection \(name)")
                }
                defer { mongoc_collection_destroy(handle) }
                return try body(handle)
            }
            let games = try withHandle(.games) { handle throws(StoreError) in
                try count(handle, query: gamesQuery, context: "count hourly games")
            }
            var predictions = try withHandle(.predictions) { handle throws(StoreError) in
                try aggregate(handle, pipeline: predictionsPipeline, context: "aggregate hourly predictions")
            }
            // The median in a second query, once the count is known: sorted by the server, only the middle value(s)
            // returned, so no array of every e40 of the period is ever built.
            let ranked = predictions.first?["ranked_e40"]?.intValue ?? 0
            if ranked > 0 {
                let pipeline = try BSONCodec.encode(["pipeline": .array(HourlyPipelines.medianE40(range, count: ranked))])
                let median = try withHandle(.predictions) { handle throws(StoreError) in
                    try aggregate(handle, pipeline: pipeline, options: medianOptions, context: "aggregate hourly median e40")
                }
                predictions[0]["median_e40"] = median.first?["median_e40"] ?? .null
            }
            let sideBets = try withHandle(.sideBets) { handle throws(StoreError) in
                try aggregate(handle, pipeline: sideBetsPipeline, context: "aggregate hourly side bets")
            }
            return HourlyPipelines.metrics(start: start, end: end, games: games, predictions: predictions, sideBets: sideBets)
        }
    }

    // MARK: - Leases

    public func acquireLease(_ name: String, owner: String, now: Date, expiresAt: Date) async throws(StoreError) -> Bool {
        let selector = try BSONCodec.encode([
            "_id": .string(name),
            "$or": .array([.document(["owner": .string(owner)]), .document(["expires_at": .document(["$lte": .date(now)])])]),
        ])
        let update = try BSONCodec.encode([
            "$set": .document(["owner": .string(owner), "expires_at": .date(expiresAt), "acquired_at": .date(now)]),
        ])
        let options = try BSONCodec.encode(["upsert": true])
        return try await withCollection(.locks) { [self] handle throws(StoreError) in
            try withBSONView(selector) { selector throws(StoreError) in
                try withBSONView(update) { update throws(StoreError) in
                    try withBSONView(options) { options throws(StoreError) in
                        var error = bson_error_t()
                        if mongoc_collection_update_one(handle, selector, update, options, nil, &error) { return true }
                        // No match, so the upsert tried to insert `_id: name`: another owner holds a live lease.
                        if ted_bson_error_code(&error) == Self.duplicateKey { return false }
                        throw pool.storeError(&error, "acquire lease \(name)")
                    }
                }
            }
        }
    }

    public func releaseLease(_ name: String, owner: String) async throws(StoreError) {
        let selector = try BSONCodec.encode(["_id": .string(name), "owner": .string(owner)])
        try await withCollection(.locks) { [self] handle throws(StoreError) in
            try withBSONView(selector) { selector throws(StoreError) in
                var error = bson_error_t()
                guard mongoc_collection_delete_one(handle, selector, nil, nil, &error) else {
                    throw pool.storeError(&error, "release lease \(name)")
                }
            }
        }
    }

    // MARK: - Schema

    public func collectionNames() async throws(StoreError) -> [String] {
        let database = database
        return try await pool.withClient { [self] client throws(StoreError) in
            guard let handle = mongoc_client_get_database(client, database) else {
                throw StoreError(.operationFailed, "cannot open database \(database)")
            }
            defer { mongoc_database_destroy(handle) }
            var error = bson_error_t()
            guard let names = mongoc_database_get_collection_names_with_opts(handle, nil, &error) else {
                throw pool.storeError(&error, "list collections")
            }
            defer { bson_strfreev(names) }
            var result: [String] = []
            var index = 0
            while let name = names[index] {
                result.append(String(cString: name))
                index += 1
            }
            return result.filter { !$0.hasPrefix("system.") }.sorted()
        }
    }

    public func createCollection(_ name: CollectionName, validator: Document?) async throws(StoreError) {
        var command: Document = ["create": .string(name.rawValue)]
        if let validator { command.append("validator", .document(validator)) }
        try await runCommand(command, context: "create collection \(name)", tolerating: [Self.namespaceExists])
    }

    public func dropCollection(_ name: CollectionName) async throws(StoreError) {
        try await runCommand(["drop": .string(name.rawValue)], context: "drop collection \(name)", tolerating: [Self.namespaceNotFound])
    }

    public func indexes(of collection: CollectionName) async throws(StoreError) -> [IndexSpec] {
        try await withCollection(collection) { [self] handle throws(StoreError) in
            guard let cursor = mongoc_collection_find_indexes_with_opts(handle, nil) else {
                throw StoreError(.operationFailed, "cannot list the indexes of \(collection)")
            }
            let listed: [[UInt8]]
            do throws(StoreError) {
                listed = try drain(cursor, context: "list indexes of \(collection)")
            } catch where error.code == Int(Self.namespaceNotFound) && error.kind == .operationFailed {
                return []
            }
            var specs: [IndexSpec] = []
            for bytes in listed {
                if let spec = Self.indexSpec(try BSONCodec.decodeReply(bytes)) { specs.append(spec) }
            }
            return specs
        }
    }

    public func createIndex(_ index: IndexSpec, on collection: CollectionName) async throws(StoreError) {
        var spec: Document = [
            "key": .document(Document(index.keys.map { ($0.field, .int32(Int32(clamping: $0.order))) })),
            "name": .string(index.name),
        ]
        if index.unique { spec.append("unique", .bool(true)) }
        if let seconds = index.expireAfterSeconds { spec.append("expireAfterSeconds", .int64(Int64(seconds))) }
        try await runCommand(
            ["createIndexes": .string(collection.rawValue), "indexes": .array([.document(spec)])],
            context: "create index \(index.name) on \(collection)")
    }

    public func dropIndex(named name: String, on collection: CollectionName) async throws(StoreError) {
        // Dropping what is already gone succeeds, like `dropCollection`: migrations may be re-run.
        try await runCommand(
            ["dropIndexes": .string(collection.rawValue), "index": .string(name)],
            context: "drop index \(name) on \(collection)", tolerating: [Self.namespaceNotFound, Self.indexNotFound])
    }

    public func databaseSizeBytes() async throws(StoreError) -> Int64 {
        guard let stats = try await runCommand(["dbStats": .int32(1)], context: "dbStats", tolerating: [Self.commandNotFound])
        else { return 0 }
        if let storage = stats["storageSize"]?.doubleValue, let indexes = stats["indexSize"]?.doubleValue {
            return Int64(storage + indexes)
        }
        return Int64(stats["dataSize"]?.doubleValue ?? 0)
    }

    // MARK: - Helpers (run on pool threads)

    static let duplicateKey: UInt32 = 11000
    private static let namespaceNotFound: UInt32 = 26
    private static let indexNotFound: UInt32 = 27
    private static let namespaceExists: UInt32 = 48
    private static let commandNotFound: UInt32 = 59

    /// Clients for reads, and how long one read may run on the server before it is stopped (a report over a year of
    /// data answers 503 rather than holding a client for minutes).
    static let readClients: Int32 = 2
    static let readMaxTimeMS: Int64 = 15_000

    func withCollection<T: Sendable>(
        _ name: CollectionName, on clients: MongoClientPool? = nil,
        _ body: @escaping @Sendable (OpaquePointer) throws(StoreError) -> T
    ) async throws(StoreError) -> T {
        let database = database
        return try await (clients ?? pool).withClient { client throws(StoreError) in
            guard let handle = mongoc_client_get_collection(client, database, name.rawValue) else {
                throw StoreError(.operationFailed, "cannot open collection \(name)")
            }
            defer { mongoc_collection_destroy(handle) }
            return try body(handle)
        }
    }

    /// Runs a database command on a pool thread; nil when the server answered with one of `tolerated` codes.
    @discardableResult
    func runCommand(_ command: Document, context: String, tolerating tolerated: Set<UInt32> = []) async throws(StoreError) -> Document? {
        try await pool.withClient { [self] client throws(StoreError) in
            try runCommand(client, command, context: context, tolerating: tolerated)
        }
    }

    private func runCommand(
        _ client: OpaquePointer, _ command: Document, context: String, tolerating tolerated: Set<UInt32> = []
    ) throws(StoreError) -> Document? {
        let encoded = try BSONCodec.encode(command)
        return try withBSONView(encoded) { command throws(StoreError) in
            try withReply { reply throws(StoreError) in
                var error = bson_error_t()
                guard mongoc_client_command_simple(client, database, command, nil, reply, &error) else {
                    if ted_bson_error_domain(&error) == MONGOC_ERROR_SERVER.rawValue, tolerated.contains(ted_bson_error_code(&error)) {
                        return nil
                    }
                    throw pool.storeError(&error, context)
                }
                return try BSONCodec.decodeReply(copyBSON(reply))
            }
        }
    }

    /// The documents `find` returns, as BSON bytes.
    func findRaw(_ handle: OpaquePointer, query: [UInt8], options: [UInt8], context: String) throws(StoreError) -> [[UInt8]] {
        try withBSONView(query) { query throws(StoreError) in
            try withBSONView(options) { options throws(StoreError) in
                guard let cursor = mongoc_collection_find_with_opts(handle, query, options, nil) else {
                    throw StoreError(.operationFailed, "\(context): cannot open a cursor")
                }
                return try drain(cursor, context: context)
            }
        }
    }

    func aggregate(_ handle: OpaquePointer, pipeline: [UInt8], options: [UInt8]? = nil, context: String) throws(StoreError) -> [Document] {
        try withBSONView(pipeline) { pipeline throws(StoreError) in
            func run(_ options: OpaquePointer?) throws(StoreError) -> [Document] {
                guard let cursor = mongoc_collection_aggregate(handle, MONGOC_QUERY_NONE, pipeline, options, nil) else {
                    throw StoreError(.operationFailed, "\(context): cannot open a cursor")
                }
                return try drain(cursor, context: context).map { bytes throws(StoreError) in try BSONCodec.decodeReply(bytes) }
            }
            let encoded: [UInt8]
            if let options { encoded = options } else { encoded = try BSONCodec.encode(["maxTimeMS": .int64(Self.readMaxTimeMS)]) }
            return try withBSONView(encoded) { options throws(StoreError) in try run(options) }
        }
    }

    func count(_ handle: OpaquePointer, query: [UInt8], context: String) throws(StoreError) -> Int {
        try withBSONView(query) { query throws(StoreError) in
            var error = bson_error_t()
            let count = mongoc_collection_count_documents(handle, query, nil, nil, nil, &error)
            guard count >= 0 else { throw pool.storeError(&error, context) }
            return Int(count)
        }
    }

    /// Copies every document of `cursor` into Swift bytes, then destroys the cursor.
    private func drain(_ cursor: OpaquePointer, context: String) throws(StoreError) -> [[UInt8]] {
        defer { mongoc_cursor_destroy(cursor) }
        var documents: [[UInt8]] = []
        var current: OpaquePointer?
        while mongoc_cursor_next(cursor, &current) {
            if let current { documents.append(copyBSON(current)) }
        }
        var error = bson_error_t()
        if mongoc_cursor_error(cursor, &error) { throw pool.storeError(&error, context) }
        return documents
    }

    /// Counts duplicate-key write errors; any other write error fails the whole call (it is retried later).
    private func countDuplicates(in result: Document, context: String) throws(StoreError) -> Int {
        var duplicates = 0
        for case .document(let writeError) in result["writeErrors"]?.arrayValue ?? [] {
            guard writeError["code"]?.intValue == Int(Self.duplicateKey) else {
                throw Self.writeError(writeError, context: context)
            }
            duplicates += 1
        }
        return duplicates
    }

    private static func writeError(_ writeError: Document, context: String) -> StoreError {
        let code = writeError["code"]?.intValue ?? 0
        let message = writeError["errmsg"]?.stringValue ?? "write error"
        return StoreError(.operationFailed, "\(context): \(message)", code: code)
    }

    /// An index as `listIndexes` describes it; nil for the `_id` index.
    private static func indexSpec(_ document: Document) -> IndexSpec? {
        guard let name = document["name"]?.stringValue, name != "_id_" else { return nil }
        let keys = (document["key"]?.documentValue?.fields ?? []).map { field in
            // Special indexes ("text", "2dsphere", "hashed") have no direction: 0.
            (field: field.key, order: field.value.doubleValue.map { $0 < 0 ? -1 : 1 } ?? 0)
        }
        return IndexSpec(
            name: name, keys: keys, unique: document["unique"]?.boolValue ?? false,
            expireAfterSeconds: document["expireAfterSeconds"]?.intValue)
    }
}

extension DocumentFilter {
    /// The MongoDB query document for this filter.
    var mongoQuery: Document {
        switch self {
        case .all:
            return Document()
        case .ids(let ids):
            return ["_id": .document(["$in": .array(ids.map(DocumentValue.string))])]
        case .idAfter(let id):
            return ["_id": .document(["$gt": .string(id)])]
        case .equals(let field, let value):
            return [field: value]
        case .dateRange(let field, let from, let to):
            var bounds = Document()
            if let from { bounds.append("$gte", .date(from)) }
            if let to { bounds.append("$lt", .date(to)) }
            return bounds.isEmpty ? Document() : [field: .document(bounds)]
        case .and(let filters):
            // MongoDB rejects an empty `$and`.
            return filters.isEmpty ? Document() : ["$and": .array(filters.map { .document($0.mongoQuery) })]
        }
    }
}

/// The hourly metrics pipelines: everything is counted, averaged and ranked by the server.
enum HourlyPipelines {
    /// The records created in [start, end), without those marked `end_inferred` unless `includeInferred`.
    static func range(start: Date, end: Date, includeInferred: Bool) -> Document {
        var range: Document = ["created_at": .document(["$gte": .date(start), "$lt": .date(end)])]
        // Games, predictions and side bets alike carry `end_inferred`; older documents without it count as seen.
        if !includeInferred { range["end_inferred"] = .document(["$ne": .bool(true)]) }
        return range
    }

    static let resolved: DocumentValue = .document(["$eq": .array(["$resolved", true])])

    static func isNumber(_ path: String) -> DocumentValue { .document(["$isNumber": .string(path)]) }

    static func all(_ conditions: DocumentValue...) -> DocumentValue { .document(["$and": .array(conditions)]) }

    /// 1 when `condition` holds, else 0: summed, it counts.
    static func countIf(_ condition: DocumentValue) -> DocumentValue {
        .document(["$sum": .document(["$cond": .array([condition, .int32(1), .int32(0)])])])
    }

    /// `value` when `condition` holds, else null (which `$avg` and `$sum` skip).
    static func valueIf(_ condition: DocumentValue, _ value: DocumentValue) -> DocumentValue {
        .document(["$cond": .array([condition, value, .null])])
    }

    static func absoluteErrorAtMost(_ ticks: Int32) -> DocumentValue {
        countIf(all(resolved, isNumber("$error_metrics.absolute_error"),
                    .document(["$lte": .array(["$error_metrics.absolute_error", .int32(ticks)])])))
    }

    static func predictions(_ range: Document) -> [DocumentValue] {
        let e40 = "$error_metrics.e40"
        let group: Document = [
            "_id": .null,
            "made": .document(["$sum": .int32(1)]),
            "resolved": countIf(resolved),
            // How many values the median ranks (resolved, e40 a number): `medianE40` picks the middle of them.
            "ranked_e40": countIf(all(resolved, isNumber(e40))),
            "mean_e40": .document(["$avg": valueIf(resolved, .string(e40))]),
            "mean_absolute_error": .document(["$avg": valueIf(resolved, "$error_metrics.absolute_error")]),
            "within_1_window": absoluteErrorAtMost(40),
            "within_2_windows": absoluteErrorAtMost(80),
            "within_3_windows": absoluteErrorAtMost(120),
        ]
        return [
            .document(["$match": .document(range)]),
            .document(["$group": .document(group)]),
        ]
    }

    /// The exact median of the `count` ranked e40 values: the middle value, or the mean of the two middle values for
    /// an even count (`$median` is approximate, and MongoDB 7 only). Sorted by the server and skipped to the middle,
    /// so memory holds at most half the values, spilling to disk with `allowDiskUse`, instead of one array of all
    /// of them (which a year of predictions would push past the 16 MB document limit). Only operators of
    /// MongoDB 4.4 (`$sortArray`, 5.2, is not needed).
    static func medianE40(_ range: Document, count: Int) -> [DocumentValue] {
        let field = "error_metrics.e40"
        var match = range
        match["resolved"] = true
        match[field] = .document(["$type": "number"])
        return [
            .document(["$match": .document(match)]),
            .document(["$project": .document(["_id": .int32(0), "e40": .string("$" + field)])]),
            .document(["$sort": .document(["e40": .int32(1)])]),
            .document(["$skip": .int64(Int64((count - 1) / 2))]),
            .document(["$limit": .int64(count % 2 == 1 ? 1 : 2)]),
            .document(["$group": .document(["_id": .null, "median_e40": .document(["$avg": "$e40"])])]),
        ]
    }

    static func sideBets(_ range: Document) -> [DocumentValue] {
        let bet: DocumentValue = .document(["$eq": .array(["$recommendation", "BET"])])
        let won = all(bet, .document(["$eq": .array(["$actual_outcome", "WON"])]))
        let lost = all(bet, .document(["$eq": .array(["$actual_outcome", "LOST"])]))
        let settled = all(bet, .document(["$in": .array(["$actual_outcome", .array(["WON", "LOST"])])]))
        let group: Document = [
            "_id": .null,
            "total_recommended": .document(["$sum": .int32(1)]),
            "bets_placed": countIf(bet),
            "positive_ev_count": countIf(.document(["$gt": .array(["$expected_value", .int32(0)])])),
            "bets_won": countIf(won),
            "bets_lost": countIf(lost),
            "net_payout": .document(["$sum": valueIf(settled, "$payout")]),
        ]
        let settledCount: DocumentValue = .document(["$add": .array(["$bets_won", "$bets_lost"])])
        let roi: DocumentValue = .document(["$cond": .array([
            .document(["$gt": .array([settledCount, .int32(0)])]),
            .document(["$multiply": .array([.document(["$divide": .array(["$net_payout", settledCount])]), .int32(100)])]),
            .null,
        ])])
        return [
            .document(["$match": .document(range)]),
            .document(["$group": .document(group)]),
            .document(["$addFields": .document(["roi_percentage": roi])]),
        ]
    }

    /// The figures from the aggregation results (no group document when nothing fell in the hour).
    static func metrics(start: Date, end: Date, games: Int, predictions: [Document], sideBets: [Document]) -> HourlyFigures {
        let p = predictions.first ?? Document()
        let s = sideBets.first ?? Document()
        func count(_ value: DocumentValue?) -> Int64 { Int64(value?.intValue ?? 0) }
        var metrics = HourlyFigures(start: start, end: end)
        metrics.gamesAnalyzed = Int64(games)
        metrics.predictionsMade = count(p["made"])
        metrics.predictionsResolved = count(p["resolved"])
        metrics.medianE40 = p["median_e40"]?.doubleValue
        metrics.meanE40 = p["mean_e40"]?.doubleValue
        metrics.meanAbsoluteError = p["mean_absolute_error"]?.doubleValue
        metrics.withinOneWindow = count(p["within_1_window"])
        metrics.withinTwoWindows = count(p["within_2_windows"])
        metrics.withinThreeWindows = count(p["within_3_windows"])
        metrics.totalRecommended = count(s["total_recommended"])
        metrics.betsPlaced = count(s["bets_placed"])
        metrics.positiveEVCount = count(s["positive_ev_count"])
        metrics.betsWon = count(s["bets_won"])
        metrics.betsLost = count(s["bets_lost"])
        metrics.netPayout = s["net_payout"]?.doubleValue ?? 0
        metrics.roiPercentage = s["roi_percentage"]?.doubleValue
        return metrics
    }
}
