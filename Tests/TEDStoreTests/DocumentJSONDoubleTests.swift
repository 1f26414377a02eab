import Foundation
import Testing
@testable import TEDStore
import TEDTestSupport

/// Doubles in stored JSON: the short paths (whole numbers, decimals of up to 6 places) write exactly the text
/// `description` gives, which every stored document had before them, and the text reads back as the same double.
@Suite struct DocumentJSONDoubleTests {
    static func text(_ value: Double) throws -> String {
        String(decoding: try DocumentJSON.encodeValue(.double(value)), as: UTF8.self)
    }

    static let edges: [Double] = [
        0.0001, 0.00015, 0.00099, 0.001, 0.013, 0.01 + 3 * 0.001, -0.25, 0.07, 0.1 + 0.2, 1.5, 999_999_999.5,
        999_999_999.999999, 123_456_789.123456, 0.000_099_999, 9.999e-5, 1e-4 - 1e-20, 1e9 + 0.5, 2.5e-3, 1.000001,
        1 / 3, 2 / 3, -1e-4, 0.5, 7.0, -7.0, 1e14, 123_456_789_012_345, .pi, -.pi, 1e-7, 1e20, .ulpOfOne, -0.000_123_4,
        // Just below the short path's range, where `description` switches to an exponent.
        0.00005, 0.000012, -0.00009, 0.000001, 1e9, 1_000_000_000.25,
    ]

    @Test func edgeValuesAreWrittenAsDescriptionWritesThem() throws {
        for value in Self.edges {
            #expect(try Self.text(value) == value.description, "\(value)")
        }
    }

    /// Decimals as an ingest parses them (`m / 10^k`), and arbitrary doubles, around every magnitude the short
    /// path takes or leaves; a fixed seed so a failure replays.
    @Test func randomValuesAreWrittenAsDescriptionWritesThem() throws {
        var random = SeededRandom(seed: 0x5EED)
        for _ in 0..<200_000 {
            let places = Int(random.next() % 9)
            // Few digits or many, so small magnitudes come up too.
            let digits = Double(random.next() % (random.next() % 2 == 0 ? 1000 : 10_000_000_000)) * (random.next() % 2 == 0 ? 1 : -1)
            let decimal = digits / pow(10, Double(places))
            let exponent = Double(Int(random.next() % 30)) - 15
            let arbitrary = Double(bitPattern: random.next() >> 2) .truncatingRemainder(dividingBy: 1) * pow(10, exponent)
            for value in [decimal, arbitrary, decimal * 1e-3] where value.isFinite && value != 0 {
                let text = try Self.text(value)
                guard text == value.description else {
                    Issue.record("\(value.description) written as \(text)")
                    return
                }
            }
        }
    }
}
