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

    @Test func aNULInAFeatureKeyIsRefusedAsOnTheDocumentPath() {
        let sample = TickSample(gameID: "g", tick: 1, price: 1, features: Self.object(["a\u{0}b": .int(1)]), timestamp: Self.at, createdAt: Self.at)
        #expect(throws: StoreError.self) { try Self.direct(sample) }
        #expect(throws: StoreError.self) { try BSONCodec.encode(sample.document) }
    }
}
