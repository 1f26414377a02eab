import Foundation
import Testing
import TEDCore
@testable import TEDStore

/// The tick samples' direct BSON is byte for byte what the general path writes for the same record.
@Suite struct RecordBSONTests {
    static let at = Date(timeIntervalSince1970: 1_767_225_600.25)

    static func object(_ value: JSONValue) -> JSONObject {
        guard case .object(let object) = value else { preconditionFailure("an object literal") }
        return object
    }

    static let samples: [TickSample] = [
        TickSample(gameID: "g", tick: 0, price: 1, features: nil, timestamp: at, createdAt: at),
        TickSample(gameID: "gäme-€", tick: 123_456, price: 0.000_123,
                   features: object(["volatility": .double(0.0123), "ticks_since_peak": .int(7), "flag": .bool(true),
                                     "none": .null, "label": .string("ünïcode"),
                                     "nested": ["list": [.int(1), .double(2.5), [], [:]]]]),
                   timestamp: at.addingTimeInterval(0.001), createdAt: at.addingTimeInterval(3600)),
        TickSample(gameID: "", tick: -1, price: -.infinity, features: object([:]), timestamp: Date(timeIntervalSince1970: 0),
                   createdAt: Date(timeIntervalSince1970: -1)),
        // The `_id`'s tick is written digit by digit: the extremes of `Int` spell as `String(tick)` does.
        TickSample(gameID: "g", tick: .min, price: 1, features: nil, timestamp: at, createdAt: at),
        TickSample(gameID: "g", tick: .max, price: 1, features: nil, timestamp: at, createdAt: at),
        TickSample(gameID: "a-game-id-longer-than-fifteen-bytes", tick: 10, price: 1, features: nil, timestamp: at, createdAt: at),
    ]

    static func direct(_ sample: TickSample) throws(StoreError) -> [UInt8] {
        var writer = BSONWriter()
        try RecordBSON.tickSample(sample, into: &writer)
        return writer.bytes
    }

    @Test(arguments: samples)
    func directBSONEqualsTheDocumentPath(_ sample: TickSample) throws {
        #expect(try Self.direct(sample) == BSONCodec.encode(sample.document))
    }

    /// A writer that starts smaller than one document grows as it writes, keeping what it wrote.
    @Test func aWriterGrowsPastItsFirstCapacity() throws {
        var writer = BSONWriter(capacity: 1)
        for sample in Self.samples { try RecordBSON.tickSample(sample, into: &writer) }
        #expect(writer.bytes == (try Self.samples.flatMap { sample throws(StoreError) in try BSONCodec.encode(sample.document) }))
    }

    /// A record that cannot be encoded leaves nothing behind in the batch's buffer.
    @Test func truncatingForgetsARefusedRecord() throws {
        var writer = BSONWriter()
        try RecordBSON.tickSample(Self.samples[0], into: &writer)
        let kept = writer.count
        let refused = TickSample(gameID: "g", tick: 2, price: 1, features: Self.object(["a\u{0}b": .int(1)]), timestamp: Self.at, createdAt: Self.at)
        #expect(throws: StoreError.self) { try RecordBSON.tickSample(refused, into: &writer) }
        writer.truncate(to: kept)
        try RecordBSON.tickSample(Self.samples[1], into: &writer)
        #expect(writer.bytes == (try BSONCodec.encode(Self.samples[0].document) + BSONCodec.encode(Self.samples[1].document)))
    }

    @Test func aNULInAFeatureKeyIsRefusedAsOnTheDocumentPath() {
        let sample = TickSample(gameID: "g", tick: 1, price: 1, features: Self.object(["a\u{0}b": .int(1)]), timestamp: Self.at, createdAt: Self.at)
        #expect(throws: StoreError.self) { try Self.direct(sample) }
        #expect(throws: StoreError.self) { try BSONCodec.encode(sample.document) }
    }
}
