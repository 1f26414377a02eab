import CLibMongoC
import Foundation
import TEDCore

/// The record writes of `DocumentStore` on MongoDB: one unordered bulk write per batch, BSON built from each record,
/// and each record's fate read from the reply's `writeErrors` by index.
extension MongoStore {
    public func write(_ records: [StoreRecord], to collection: CollectionName) async throws(StoreError) -> [RecordFate] {
        guard !records.isEmpty else { return [] }
        let context = "write into \(collection)"
        let inserts = collection == .tickSamples
        let bulkOptions = try BSONCodec.encode(["ordered": false])
        let upsertOptions = try BSONCodec.encode(["upsert": true])
        // libmongoc would validate every inserted document again (UTF-8, empty, `$` and dotted keys): Swift strings
        // are valid UTF-8 by construction and ingest refuses the field names no store can hold (`EventDecoder.storableKeys`),
        // so the check found nothing and cost a tenth of the flush's CPU.
        let insertOptions = try BSONCodec.encode(["validate": false])
        var results = try await withCollection(collection) { [self] handle throws(StoreError) -> [(Int, RecordFate)] in
            guard let bulk = try withBSONView(bulkOptions, { mongoc_collection_create_bulk_operation_with_opts(handle, $0) }) else {
                throw StoreError(.operationFailed, "\(context): cannot create a bulk operation", retryable: true)
            }
            defer { mongoc_bulk_operation_destroy(bulk) }
            // Encoded here, on the store's thread, and not before the hop: the cooperative pool also runs the
            // request handlers, and a batch's encoding there delayed single ingest requests while flushing (p99).
            // A record that cannot be encoded is refused on its own; the rest go in one bulk write.
            var refusedByEncoding = [RecordFate?](repeating: nil, count: records.count)
            let (encoded, operations) = Self.encode(records, refusing: &refusedByEncoding)
            var results = refusedByEncoding.enumerated().compactMap { index, fate in fate.map { (index, $0) } }
            // Bulk index → record index, for the operations libmongoc accepted.
            var queued: [Int] = []
            queued.reserveCapacity(operations.count)
            let document = try ReusableBSONView(), selector = try ReusableBSONView()
            try withBSONView(inserts ? insertOptions : upsertOptions) { options throws(StoreError) in
                try encoded.withUnsafeBufferPointer { encoded throws(StoreError) in
                    for operation in operations {
                        var error = bson_error_t()
                        let added = try document.with(encoded[operation.document]) { document throws(StoreError) -> Bool in
                            guard let selectorBytes = operation.selector else {
                                return mongoc_bulk_operation_insert_with_opts(bulk, document, options, &error)
                            }
                            return try selector.with(encoded[selectorBytes]) { selector in
                                mongoc_bulk_operation_update_one_with_opts(bulk, selector, document, options, &error)
                            }
                        }
                        if added {
                            queued.append(operation.record)
                        } else {
                            results.append((operation.record, .refused(pool.storeError(&error, context))))
                        }
                    }
                }
            }
            guard !queued.isEmpty else { return results }
            return try withReply { reply throws(StoreError) in
                var error = bson_error_t()
                let ok = mongoc_bulk_operation_execute(bulk, reply, &error) != 0
                let result = try BSONCodec.decodeReply(copyBSON(reply))
                let writeErrors = result["writeErrors"]?.arrayValue ?? []
                if !ok && writeErrors.isEmpty { throw pool.storeError(&error, context) }
                if let concern = result["writeConcernErrors"]?.arrayValue?.first?.documentValue {
                    // The writes happened but are not known durable: write them again (idempotent).
                    throw StoreError(.operationFailed, "\(context): write concern: \(concern["errmsg"]?.stringValue ?? "error")",
                                     code: concern["code"]?.intValue ?? 0, retryable: true)
                }
                var failed: [Int: RecordFate] = [:]
                for case .document(let writeError) in writeErrors {
                    guard let index = writeError["index"]?.intValue, queued.indices.contains(index) else { continue }
                    failed[index] = Self.fate(of: writeError, inserting: inserts, context: context)
                }
                for (index, record) in queued.enumerated() {
                    results.append((record, failed[index] ?? .stored))
                }
                return results
            }
        }
        if inserts { results = try await alreadyStored(among: results, of: records, in: collection) }
        var fates = [RecordFate?](repeating: nil, count: records.count)
        for (index, fate) in results { fates[index] = fate }
        return fates.map { $0 ?? .refused(StoreError(.operationFailed, "\(context): not written")) }
    }

    /// A server may report a duplicate on another unique index before the `_id` one: an insert refused that way whose
    /// `_id` is stored is a record already stored, not a refusal.
    private func alreadyStored(among results: [(Int, RecordFate)], of records: [StoreRecord],
                               in collection: CollectionName) async throws(StoreError) -> [(Int, RecordFate)] {
        let suspects = results.compactMap { index, fate -> String? in
            if case .refused(let error) = fate, error.code == Int(Self.duplicateKey) { return records[index].id }
            return nil
        }
        guard !suspects.isEmpty else { return results }
        let query = try BSONCodec.encode(["_id": .document(["$in": .array(suspects.map(DocumentValue.string))])])
        let options = try BSONCodec.encode(["projection": .document(["_id": .int32(1)])])
        let found = try await withCollection(collection) { [self] handle throws(StoreError) in
            try findRaw(handle, query: query, options: options, context: "find duplicates in \(collection)")
        }
        var stored: Set<String> = []
        for bytes in found {
            if let id = try BSONCodec.decode(bytes)["_id"]?.stringValue { stored.insert(id) }
        }
        return results.map { index, fate in stored.contains(records[index].id) ? (index, .alreadyStored) : (index, fate) }
    }

    /// Where one record's operation lies in a batch's encoded bytes.
    struct EncodedOperation: Sendable {
        var record: Int
        /// The `_id` selector of an update; nil for an insert.
        var selector: Range<Int>?
        var document: Range<Int>
    }

    /// Every record's operation laid end to end in one buffer, written straight into it: one allocation per batch,
    /// not two or three per record (malloc and free were a fifth of a drain's CPU in `perf`). A record that cannot
    /// be encoded gets its fate in `fates` and no operation.
    static func encode(_ records: [StoreRecord], refusing fates: inout [RecordFate?]) -> ([UInt8], [EncodedOperation]) {
        var writer = BSONWriter(capacity: records.count * 256)  // tick samples with a few features, without growing
        var operations: [EncodedOperation] = []
        operations.reserveCapacity(records.count)
        for index in records.indices {
            let start = writer.count
            do throws(StoreError) {
                switch records[index] {
                case .tickSample(let sample):
                    try RecordBSON.tickSample(sample, into: &writer)
                    operations.append(EncodedOperation(record: index, selector: nil, document: start..<writer.count))
                case .prediction(let prediction):
                    operations.append(try merge(id: records[index].id, index: index, into: &writer, update: MongoMergeUpdates.factWithOutcome(
                        prediction.document, outcomeFields: MongoMergeUpdates.predictionOutcome, resolved: prediction.isResolved)))
                case .sideBet(let sideBet):
                    operations.append(try merge(id: records[index].id, index: index, into: &writer, update: MongoMergeUpdates.factWithOutcome(
                        sideBet.document, outcomeFields: MongoMergeUpdates.sideBetOutcome, resolved: sideBet.isResolved)))
                case .game(let game):
                    operations.append(try merge(id: records[index].id, index: index, into: &writer, update: MongoMergeUpdates.game(game)))
                }
            } catch {
                writer.truncate(to: start)
                fates[index] = .refused(error)
            }
        }
        return (writer.bytes, operations)
    }

    /// An upsert by `_id` with `update`, which merges the record into what is stored.
    private static func merge(id: String, index: Int, into writer: inout BSONWriter,
                              update: Document) throws(StoreError) -> EncodedOperation {
        let start = writer.count
        try writer.writeDocument(["_id": .string(id)], depth: 0)
        let middle = writer.count
        try writer.writeDocument(update, depth: 0)
        return EncodedOperation(record: index, selector: start..<middle, document: middle..<writer.count)
    }

    /// A duplicate `_id` on insert is a record already stored; a duplicate on any other unique index, like any
    /// other refusal, is the record's fault; a transient server state is retried.
    static func fate(of writeError: Document, inserting: Bool, context: String) -> RecordFate {
        let code = writeError["code"]?.intValue ?? 0
        let message = writeError["errmsg"]?.stringValue ?? "write error"
        if code == Int(duplicateKey) {
            if isIDIndex(writeError) {
                // Two upserts of one new `_id` at once: the loser's write is simply made again.
                return inserting ? .alreadyStored : .retryable(StoreError(.operationFailed, "\(context): \(message)", code: code, retryable: true))
            }
            return .refused(StoreError(.operationFailed, "\(context): \(message)", code: code, retryable: false))
        }
        let retryable = MongoClientPool.retryableServerCodes.contains(UInt32(clamping: max(code, 0)))
        let error = StoreError(.operationFailed, "\(context): \(message)", code: code, retryable: retryable)
        return retryable ? .retryable(error) : .refused(error)
    }

    /// Whether a duplicate-key error is on the `_id` index (servers name it in `keyPattern` and in the message).
    private static func isIDIndex(_ writeError: Document) -> Bool {
        if let pattern = writeError["keyPattern"]?.documentValue { return pattern.keys == ["_id"] }
        let message = writeError["errmsg"]?.stringValue ?? ""
        return message.contains("index: _id_ ") || message.hasSuffix("index: _id_")
    }
}
