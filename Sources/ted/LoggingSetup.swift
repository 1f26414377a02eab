import Foundation
import Logging
import TEDCore

/// Bootstraps swift-log once per process, as text or one JSON object a line.
enum LoggingSetup {
    static func bootstrap(_ settings: Settings) {
        let level = Logger.Level(rawValue: settings.logLevel) ?? .info
        switch settings.logFormat {
        case .text:
            LoggingSystem.bootstrap { label in
                var handler = TextLogHandler(label: label)
                handler.logLevel = level
                return handler
            }
        case .json:
            LoggingSystem.bootstrap { label in
                var handler = JSONLogHandler(label: label)
                handler.logLevel = level
                return handler
            }
        }
    }
}

/// `{"timestamp": ..., "level": ..., "label": ..., "message": ..., <metadata>}` on standard output.
struct JSONLogHandler: LogHandler {
    let label: String
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var entries: [(key: String, value: JSONValue)] = [
            ("timestamp", .string(Timestamp.formatISO8601(Date()))),
            ("level", .string(event.level.rawValue)),
            ("label", .string(label)),
            ("message", .string(event.message.description)),
        ]
        if let error = event.error { entries.append(("error", .string("\(error)"))) }
        let merged = metadata.merging(event.metadata ?? [:]) { _, new in new }
        for (key, value) in merged.sorted(by: { $0.key < $1.key }) {
            entries.append((key, Self.json(value)))
        }
        var line = JSONValue.object(JSONObject(entries)).serialized
        line.append(UInt8(ascii: "\n"))
        StandardOutput.write(line)
    }

    static func json(_ value: Logger.Metadata.Value) -> JSONValue {
        switch value {
        case .string(let s):
            if let i = Int64(s) { return .int(i) }
            return .string(s)
        case .stringConvertible(let c): return .string(c.description)
        case .array(let a): return .array(a.map(json))
        case .dictionary(let d): return .object(JSONObject(d.sorted { $0.key < $1.key }.map { ($0.key, json($0.value)) }))
        }
    }
}
