import Foundation
import Logging
import Testing
import TEDCore
@testable import TEDStore

/// The tick samples' direct JSON text is byte for byte what the general writer makes of the same record's `Document`,
/// and the SQLite store's tick-sample writes keep every row readable as before.
@Suite struct TickSampleJSONTests {
    static let when = Date(timeIntervalSince1970: 1_767_225_600.25)

    static let samples: [TickSample] = [
        TickSample(gameID: "g", tick: 0, price: 1, features: nil, timestamp: when, createdAt: when),
        TickSample(gameID: "gäme-€ \"quoted\" \\ \n", tick: 123_456, price: 0.000_123,
                   features: (["volatility": .double(0.0123), "ticks_since_peak": .int(7), "flag": .bool(true),
                               "none": .null, "label": .string("ünïcode \u{1}"), "$types": .int(1),
                               "nested": ["list": [.int(1), .double(2.5), [], [:], ["deep": .double(-0.0)]]]] as JSONValue).objectValue,
                   timestamp: when.addingTimeInterval(0.001), createdAt: when.addingTimeInterval(3600)),
        // Values JSON cannot tell apart get `$types` annotations, inside the features too, in document order.
        TickSample(gameID: "", tick: -1, price: -.infinity,
                   features: (["nan": .double(.nan), "low": .int(-1_000_000_000_000_000_000),
                               "in": [.double(.infinity), .int(.min)]] as JSONValue).objectValue,
                   timestamp: Date(timeIntervalSince1970: 0), createdAt: Date(timeIntervalSince1970: -1)),
        TickSample(gameID: "g", tick: Int.min, price: .nan, features: JSONObject([]), timestamp: when, createdAt: when),
    ]

    static func directText(_ sample: TickSample) throws -> (text: [UInt8], createdAt: Int64) {
        var writer = DocumentJSONWriter()
        let createdAt = try writer.encode(sample, id: sample.id)
        return (Array(writer.bytes), createdAt)
    }

    @Test(arguments: samples)
    func directTextEqualsTheDocumentPath(_ sample: TickSample) throws {
        let direct = try Self.directText(sample)
        #expect(String(decoding: direct.text, as: UTF8.self) == String(decoding: try DocumentJSON.encode(sample.document), as: UTF8.self))
        #expect(direct.createdAt == (try DocumentJSON.milliseconds(sample.createdAt)))
    }

    /// One writer serves a whole batch: a sample with annotations leaves nothing behind for the next one.
    @Test func aReusedWriterWritesEachSampleAfreshAsTheDocumentPath() throws {
        var writer = DocumentJSONWriter()
        for sample in Self.samples + Self.samples.reversed() {
            _ = try writer.encode(sample, id: sample.id)
            #expect(Array(writer.bytes) == (try DocumentJSON.encode(sample.document)))
        }
    }

    @Test func featuresNestedTooDeeplyAreRefusedAsOnTheDocumentPath() throws {
        var deep = JSONValue.int(1)
        for _ in 0..<JSONParser.maxDepth { deep = .object(JSONObject([("d", deep)])) }
        let sample = TickSample(gameID: "g", tick: 1, price: 1, features: deep.objectValue, timestamp: Self.when, createdAt: Self.when)
        #expect(throws: StoreError.self) { try Self.directText(sample) }
        #expect(throws: StoreError.self) { try DocumentJSON.encode(sample.document) }

        var shallower = JSONValue.int(1)
        for _ in 0..<(JSONParser.maxDepth - 1) { shallower = .object(JSONObject([("d", shallower)])) }
        let fits = TickSample(gameID: "g", tick: 1, price: 1, features: shallower.objectValue, timestamp: Self.when, createdAt: Self.when)
        #expect(try Self.directText(fits).text == DocumentJSON.encode(fits.document))
    }

    @Test func aDateOutOfRangeIsRefusedAsOnTheDocumentPath() {
        let sample = TickSample(gameID: "g", tick: 1, price: 1, features: nil, timestamp: Self.when,
                                createdAt: Date(timeIntervalSince1970: 1e300))
        #expect(throws: StoreError.self) { try Self.directText(sample) }
        #expect(throws: StoreError.self) { try DocumentJSON.encode(sample.document) }
    }

    /// Through the store: the rows read back as the samples' documents, `created_at` is the column the
    /// retention and range queries use, a second write is `alreadyStored`, and a sample the store cannot hold is
    /// refused alone.
    @Test func theSQLiteStoreWritesTickSamplesThatReadBackAsTheirDocuments() async throws {
        let path = try TestEnvironment.temporaryDirectory().appendingPathComponent("ted.sqlite").path
        let store = try SQLiteStore(path: path, logger: Logger(label: "test"))
        let unstorable = TickSample(gameID: "bad", tick: 1, price: 1, features: nil, timestamp: Self.when,
                                    createdAt: Date(timeIntervalSince1970: 1e300))
        let records = (Self.samples + [unstorable]).map(StoreRecord.tickSample)
        let fates = try await store.write(records, to: .tickSamples)
        #expect(fates.prefix(Self.samples.count).allSatisfy { $0 == .stored })
        guard case .refused? = fates.last else {
            Issue.record("the unstorable sample was not refused: \(String(describing: fates.last))")
            return
        }
        #expect(try await store.write(Array(records.prefix(2)), to: .tickSamples) == [.alreadyStored, .alreadyStored])

        let stored = try await store.documents.find(.tickSamples, where: .all, sort: DocumentSort("_id"), limit: nil)
        let expected = Self.samples.map(\.document).sorted { $0["_id"]!.stringValue! < $1["_id"]!.stringValue! }
        // NaN is not equal to itself: compare the text both give.
        #expect(try stored.map(DocumentJSON.encode) == expected.map(DocumentJSON.encode))
        let lastHour = DocumentFilter.dateRange("created_at", from: Self.when.addingTimeInterval(3599), to: Self.when.addingTimeInterval(3601))
        #expect(try await store.documents.find(.tickSamples, where: lastHour, sort: nil, limit: nil).map { $0["_id"] } == [.string(Self.samples[1].id)])
        await store.close()
    }
}
