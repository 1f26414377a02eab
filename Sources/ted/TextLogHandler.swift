import Foundation
import Logging

/// The text log format, line for line what swift-log's `StreamLogHandler` writes
/// (`<timestamp> <level> <label>: <key=value ...> [<source>] <message>`), which the deployment guide and
/// `scripts/faults` grep for. Unlike `StreamLogHandler`, it formats its metadata only when it writes a line:
/// `StreamLogHandler` re-formats the whole metadata string on every change, and Hummingbird sets a request id on
/// each request's logger, so every request paid for a string no line at that level ever used (3% of a request's
/// CPU in `perf`).
struct TextLogHandler: LogHandler {
    let label: String
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]
    var metadataProvider: Logger.MetadataProvider?
    /// Seconds since the epoch for a line's timestamp (a test fixes it).
    private let now: @Sendable () -> time_t
    private let output: @Sendable ([UInt8]) -> Void

    init(label: String, metadataProvider: Logger.MetadataProvider? = LoggingSystem.metadataProvider,
         now: @escaping @Sendable () -> time_t = { time(nil) },
         output: @escaping @Sendable ([UInt8]) -> Void = StandardOutput.write) {
        self.label = label
        self.metadataProvider = metadataProvider
        self.now = now
        self.output = output
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let pretty = Self.prettify(effectiveMetadata(event))
        let line = "\(Self.timestamp(now())) \(event.level)\(label.isEmpty ? "" : " ")\(label):\(pretty.map { " \($0)" } ?? "") [\(event.source)] \(event.message)\n"
        output(Array(line.utf8))
    }

    /// The handler's metadata, then the provider's, then the event's, then the error's, each overriding the one before
    /// (`StreamLogHandler`'s order).
    private func effectiveMetadata(_ event: LogEvent) -> Logger.Metadata {
        var merged = metadata
        if let provided = metadataProvider?.get(), !provided.isEmpty {
            merged.merge(provided) { _, provided in provided }
        }
        if let explicit = event.metadata, !explicit.isEmpty {
            merged.merge(explicit) { _, explicit in explicit }
        }
        if let error = event.error {
            merged["error.message"] = "\(error)"
            merged["error.type"] = "\(String(reflecting: type(of: error)))"
        }
        return merged
    }

    private static func prettify(_ metadata: Logger.Metadata) -> String? {
        guard !metadata.isEmpty else { return nil }
        return metadata.sorted { $0.key < $1.key }.map { "\($0)=\($1)" }.joined(separator: " ")
    }

    /// Local time with its UTC offset, as `StreamLogHandler` prints it.
    static func timestamp(_ seconds: time_t) -> String {
        var seconds = seconds
        var local = tm()
        guard localtime_r(&seconds, &local) != nil else { return "<unknown>" }
        var buffer = [CChar](repeating: 0, count: 255)
        strftime(&buffer, buffer.count, "%Y-%m-%dT%H:%M:%S%z", &local)
        return buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }
}

/// Standard output for log lines.
enum StandardOutput {
    /// One write(2) per line, so lines from concurrent tasks never interleave. What `print` buffered goes first, so
    /// a command's output and its log lines keep their order in a pipe (as they did through one `FILE`).
    @Sendable static func write(_ line: [UInt8]) {
        fflush(nil)  // every output stream: `stdout` is a global C variable Swift 6 will not read from here
        line.withUnsafeBytes { bytes in
            _ = Foundation.write(STDOUT_FILENO, bytes.baseAddress, bytes.count)
        }
    }
}
