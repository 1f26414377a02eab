import Foundation
import Testing
@testable import TEDCore

@Suite("Timestamp")
struct TimestampTests {
    /// 2026-01-02T03:04:05Z.
    static let base: TimeInterval = 1_767_323_045

    static func seconds(_ text: String) -> TimeInterval? {
        Timestamp.parseISO8601(text)?.timeIntervalSince1970
    }

    @Test func basicUTC() {
        #expect(Self.seconds("2026-01-02T03:04:05Z") == Self.base)
        #expect(Self.seconds("2026-01-02t03:04:05z") == Self.base)
        #expect(Self.seconds("2026-01-02 03:04:05Z") == Self.base)
        #expect(Self.seconds("2026-01-02T03:04:05") == Self.base)  // no zone: UTC
        #expect(Self.seconds("1970-01-01T00:00:00Z") == 0)
        #expect(Self.seconds("2000-01-01T00:00:00Z") == 946_684_800)
        #expect(Self.seconds("1969-12-31T23:59:59Z") == -1)
    }

    @Test func offsets() {
        #expect(Self.seconds("2026-01-02T03:04:05+00:00") == Self.base)
        #expect(Self.seconds("2026-01-02T03:04:05-00:00") == Self.base)
        #expect(Self.seconds("2026-01-02T05:04:05+02:00") == Self.base)
        #expect(Self.seconds("2026-01-02T05:04:05+0200") == Self.base)
        #expect(Self.seconds("2026-01-01T21:34:05-05:30") == Self.base)
        #expect(Self.seconds("2026-01-01T21:34:05-0530") == Self.base)
        #expect(Self.seconds("2026-01-02T17:49:05+14:45") == Self.base)
        // An offset that crosses the year boundary.
        #expect(Self.seconds("2025-12-31T23:30:00-01:00") == Self.seconds("2026-01-01T00:30:00Z"))
    }

    @Test func fractions() throws {
        let half = try #require(Self.seconds("2026-01-02T03:04:05.5Z"))
        #expect(half == Self.base + 0.5)
        let comma = try #require(Self.seconds("2026-01-02T03:04:05,5Z"))
        #expect(comma == Self.base + 0.5)
        let millis = try #require(Self.seconds("2026-01-02T03:04:05.123Z"))
        #expect(abs(millis - (Self.base + 0.123)) < 1e-6)
        let micros = try #require(Self.seconds("2026-01-02T03:04:05.123456+01:00"))
        #expect(abs(micros - (Self.base - 3600 + 0.123456)) < 1e-6)
        let nanos = try #require(Self.seconds("2026-01-02T03:04:05.999999999Z"))
        #expect(abs(nanos - (Self.base + 0.999999999)) < 1e-6)
        let noZone = try #require(Self.seconds("2026-01-02T03:04:05.25"))
        #expect(noZone == Self.base + 0.25)
    }

    @Test func leapDays() {
        #expect(Self.seconds("2024-02-29T00:00:00Z") == 1_709_164_800)
        #expect(Self.seconds("2000-02-29T12:00:00Z") == 951_825_600)
        #expect(Self.seconds("2024-03-01T00:00:00Z") == 1_709_251_200)
    }

    static let invalid: [String] = [
        "", "2026", "2026-01-02", "2026-01-02T03:04Z", "2026-01-02T03:04", "2026-01-02T03:04:0",
        "2026-02-30T00:00:00Z", "2026-02-29T00:00:00Z", "1900-02-29T00:00:00Z", "2026-04-31T00:00:00Z",
        "2026-06-31T00:00:00Z", "2026-09-31T00:00:00Z", "2026-11-31T00:00:00Z", "2026-01-32T00:00:00Z",
        "2026-00-10T00:00:00Z", "2026-13-01T00:00:00Z", "2026-01-00T00:00:00Z",
        "2026-01-02T24:00:00Z", "2026-01-02T23:60:00Z", "2026-01-02T23:59:61Z", "2026-01-02T99:00:00Z",
        "2026-01-02T03:04:05.Z", "2026-01-02T03:04:05.", "2026-01-02T03:04:05.abcZ",
        "2026-01-02T03:04:05+", "2026-01-02T03:04:05+2:00", "2026-01-02T03:04:05+24:00",
        "2026-01-02T03:04:05+02:60", "2026-01-02T03:04:05+02:00Z", "2026-01-02T03:04:05ZZ", "2026-01-02T03:04:05Z ",
        " 2026-01-02T03:04:05Z", "2026-01-02T03:04:05 UTC", "2026-01-02T03:04:05GMT",
        "2026/01/02T03:04:05Z", "2026-01-02X03:04:05Z", "2026-01-02T03-04-05Z", "26-01-02T03:04:05Z",
        "2026-1-2T03:04:05Z", "+2026-01-02T03:04:05", "２０２６-01-02T03:04:05Z", "2026-01-02T03:04:05.12é",
        "Fri, 02 Jan 2026 03:04:05 GMT", "1767323045",
    ]

    @Test(arguments: invalid)
    func invalidTextIsRefused(_ text: String) {
        #expect(Timestamp.parseISO8601(text) == nil, "parsed \(text.debugDescription)")
    }

    @Test func formatting() {
        #expect(Timestamp.formatISO8601(Date(timeIntervalSince1970: Self.base)) == "2026-01-02T03:04:05.000Z")
        #expect(Timestamp.formatISO8601(Date(timeIntervalSince1970: Self.base + 0.123)) == "2026-01-02T03:04:05.123Z")
        #expect(Timestamp.formatISO8601(Date(timeIntervalSince1970: 0)) == "1970-01-01T00:00:00.000Z")
        #expect(Timestamp.formatISO8601(Date(timeIntervalSince1970: -0.001)) == "1969-12-31T23:59:59.999Z")
        #expect(Timestamp.formatISO8601(Date(timeIntervalSince1970: -86_400)) == "1969-12-31T00:00:00.000Z")
        #expect(Timestamp.formatISO8601(Date(timeIntervalSince1970: 1_709_164_800)) == "2024-02-29T00:00:00.000Z")
        #expect(Timestamp.formatISO8601(Date(timeIntervalSince1970: 4_102_444_799.999)) == "2099-12-31T23:59:59.999Z")
        // Sub-millisecond time is truncated, never rounded up into the next second.
        #expect(Timestamp.formatISO8601(Date(timeIntervalSince1970: Self.base + 0.9996)) == "2026-01-02T03:04:05.999Z")
        // Years of four digits are written digit by digit; the others as printf pads them.
        #expect(Timestamp.formatISO8601(Date(timeIntervalSince1970: -62_167_219_200)) == "0000-01-01T00:00:00.000Z")
        #expect(Timestamp.formatISO8601(Date(timeIntervalSince1970: 253_402_300_799.999)) == "9999-12-31T23:59:59.999Z")
        #expect(Timestamp.formatISO8601(Date(timeIntervalSince1970: 253_402_300_800)) == "10000-01-01T00:00:00.000Z")
        #expect(Timestamp.formatISO8601(Date(timeIntervalSince1970: -62_167_219_200.001)) == "-001-12-31T23:59:59.999Z")
    }

    @Test func formatThenParseRoundTrips() throws {
        for millis in stride(from: Int64(946_684_800_000), to: 4_102_444_800_000, by: 7_777_777_777) {
            let date = Date(timeIntervalSince1970: Double(millis) / 1000)
            let text = Timestamp.formatISO8601(date)
            let parsed = try #require(Timestamp.parseISO8601(text), "cannot parse \(text)")
            #expect(abs(parsed.timeIntervalSince1970 - date.timeIntervalSince1970) < 1e-6, "\(text)")
        }
    }

    @Test func parseThenFormatRoundTripsEveryMillisecond() {
        var mismatches: [String] = []
        for millis in 0..<1000 {
            let text = "2026-01-02T03:04:05." + String(format: "%03d", millis) + "Z"
            guard let date = Timestamp.parseISO8601(text) else {
                mismatches.append("unparsed \(text)")
                continue
            }
            let formatted = Timestamp.formatISO8601(date)
            if formatted != text { mismatches.append("\(text) -> \(formatted)") }
        }
        #expect(mismatches.isEmpty, "\(mismatches.count) mismatches, e.g. \(mismatches.prefix(5))")
    }

    @Test func offsetsRoundTripToUTC() throws {
        let date = try #require(Timestamp.parseISO8601("2026-07-15T23:30:00.250-02:00"))
        #expect(Timestamp.formatISO8601(date) == "2026-07-16T01:30:00.250Z")
    }

    @Test func agreesWithFoundation() throws {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        for _ in 0..<500 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let seconds = Double(946_684_800 + Int64(state >> 33) % 3_155_760_000)
            let date = Date(timeIntervalSince1970: seconds)
            let ours = Timestamp.formatISO8601(date)
            #expect(ours == formatter.string(from: date).replacingOccurrences(of: "Z", with: ".000Z"))
            #expect(Timestamp.parseISO8601(formatter.string(from: date)) == date)
        }
    }

    @Test func hourStart() {
        #expect(Timestamp.hourStart(Date(timeIntervalSince1970: Self.base)) == Date(timeIntervalSince1970: Self.base - 245))
        #expect(Timestamp.hourStart(Date(timeIntervalSince1970: 7200)) == Date(timeIntervalSince1970: 7200))
        #expect(Timestamp.hourStart(Date(timeIntervalSince1970: 7199.999)) == Date(timeIntervalSince1970: 3600))
    }
}
