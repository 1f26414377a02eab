import Foundation
import Logging
import Synchronization
import Testing
@testable import ted

/// `TextLogHandler` must write exactly the lines `StreamLogHandler` writes (operators and `scripts/faults` grep them),
/// compared byte for byte for the same events: handler metadata changed after creation (Hummingbird's request id),
/// event metadata overriding it, nested values, a metadata provider, an error, an empty label, every level.
@Suite struct TextLogHandlerTests {
    /// Collects what a handler writes.
    final class Capture: TextOutputStream, @unchecked Sendable {
        private let text = Mutex("")
        var lines: [String] { text.withLock { $0 }.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) }
        func write(_ string: String) { text.withLock { $0 += string } }
        func append(_ bytes: [UInt8]) { write(String(decoding: bytes, as: UTF8.self)) }
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String { "store said no" }
    }

    /// Logs the same statements through `make`'s handler; the statements cover what ted logs.
    static func logStatements(_ make: @escaping @Sendable (String) -> any LogHandler) {
        for label in ["ted.flush", ""] {
            var logger = Logger(label: label, factory: make)
            logger.logLevel = .trace
            logger.info("Store configured")
            logger[metadataKey: "hb.request.id"] = "3f2a"
            logger[metadataKey: "zz"] = .array(["a", .stringConvertible(42), .dictionary(["k": "v"])])
            logger.notice("Persisted: {\"tick_samples\": 1000}", metadata: ["records": "1000", "hb.request.id": "override"])
            logger.error("Error persisting tick_samples", metadata: ["collection": "tick_samples", "code": .stringConvertible(11000)])
            logger.log(level: .warning, "with an error", error: Failure())
            logger.trace("trace")
            logger.debug("debug", metadata: ["nested": .dictionary(["a": .array([])])])
            logger.critical("critical", source: "custom-source")
            logger[metadataKey: "hb.request.id"] = nil
            logger[metadataKey: "zz"] = nil
            logger.info("metadata removed again")
        }
    }

    @Test func writesTheSameLinesAsStreamLogHandler() throws {
        let provider = Logger.MetadataProvider { ["trace.id": "abc", "records": "provided"] }
        for provider in [nil, provider] {
            // Both handlers read the clock; StreamLogHandler's reading is bracketed, and a run whose bracket spans a
            // second boundary is repeated (it cannot span two in a row).
            var attempt = 0
            while true {
                attempt += 1
                let expected = Capture(), actual = Capture()
                let before = time(nil)
                Self.logStatements { label in
                    StreamLogHandler(label: label, stream: expected, metadataProvider: provider)
                }
                let after = time(nil)
                Self.logStatements { label in
                    TextLogHandler(label: label, metadataProvider: provider, now: { before }, output: actual.append)
                }
                if before != after && attempt < 3 { continue }
                #expect(actual.lines.count == 17)
                #expect(actual.lines == expected.lines)
                break
            }
        }
    }

    @Test func formatsTheTimestampAsLocalTimeWithItsOffset() {
        let line = Capture()
        var logger = Logger(label: "ted") { TextLogHandler(label: $0, metadataProvider: nil, now: { 1_800_000_000 }, output: line.append) }
        logger.logLevel = .info
        logger.info("hello")
        var seconds: time_t = 1_800_000_000
        var local = tm()
        localtime_r(&seconds, &local)
        var buffer = [CChar](repeating: 0, count: 64)
        strftime(&buffer, buffer.count, "%Y-%m-%dT%H:%M:%S%z", &local)
        let stamp = buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        #expect(line.lines.first == "\(stamp) info ted: [TEDCommandTests] hello")  // the source: the calling module
    }

    /// Below its level a handler writes nothing, however its metadata changes.
    @Test func writesNothingBelowItsLevel() {
        let line = Capture()
        var logger = Logger(label: "ted") { TextLogHandler(label: $0, metadataProvider: nil, output: line.append) }
        logger.logLevel = .info
        logger[metadataKey: "hb.request.id"] = "1"
        logger.debug("not written")
        #expect(line.lines == [""])
    }
}
