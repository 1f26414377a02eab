import Foundation
import Testing
@testable import TEDCore

/// `.env.example` is what `./scripts/serve` copies to `.env`: it must start the service as is and document
/// every variable the settings read.
@Suite struct EnvExampleTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    @Test func theExampleIsAValidConfigurationWithTheDefaults() throws {
        let text = try String(contentsOf: Self.root.appendingPathComponent(".env.example"), encoding: .utf8)
        let settings = try Settings(values: DotEnv.parse(text))
        #expect(settings == (try Settings(values: [:])))
        #expect(!settings.persistenceEnabled)
        #expect(settings.backend == .sqlite)
    }

    @Test func everyVariableTheSettingsReadIsDocumented() throws {
        let example = DotEnv.parse(try String(contentsOf: Self.root.appendingPathComponent(".env.example"), encoding: .utf8))
        let source = try String(contentsOf: Self.root.appendingPathComponent("Sources/TEDCore/Settings/Settings.swift"), encoding: .utf8)
        let regex = try NSRegularExpression(pattern: #"reader\.\w+\("([A-Z_]+)""#)
        let names = regex.matches(in: source, range: NSRange(source.startIndex..., in: source)).compactMap {
            Range($0.range(at: 1), in: source).map { String(source[$0]) }
        }
        #expect(names.count > 30)
        let undocumented = Set(names).subtracting(example.keys).subtracting(["ENV_FILE"])
        #expect(undocumented.isEmpty, "not in .env.example: \(undocumented.sorted())")
    }
}
