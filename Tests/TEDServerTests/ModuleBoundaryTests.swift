import Foundation
import Testing

/// The layering the architecture promises, read from the sources: the HTTP layer reaches data only through the
/// persistence layer (it imports nothing of the store module), and only the store adapters touch the C libraries.
@Suite struct ModuleBoundaryTests {
    static let sources = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Sources")

    /// `module → files of Sources/<target>` that import it.
    static func importers(of module: String, in target: String) throws -> [String] {
        let root = sources.appendingPathComponent(target)
        guard let walker = FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil) else { return [] }
        var found: [String] = []
        for case let url as URL in walker where url.pathExtension == "swift" {
            let text = try String(contentsOf: url, encoding: .utf8)
            let imports = text.split(separator: "\n").contains { line in
                let words = line.split(separator: " ")
                return words.contains("import") && words.last.map(String.init) == module
            }
            if imports { found.append(url.path.replacingOccurrences(of: sources.path + "/", with: "")) }
        }
        return found.sorted()
    }

    @Test func theHTTPLayerImportsNothingOfTheStoreModule() throws {
        #expect(try !Self.importers(of: "TEDPersistence", in: "TEDServer").isEmpty, "the scan finds imports")
        #expect(try Self.importers(of: "TEDStore", in: "TEDServer") == [])
    }

    @Test(arguments: ["CLibMongoC", "CSQLite", "CZlib"])
    func onlyTheStoreAdaptersTouchTheCLibraries(module: String) throws {
        for target in ["TEDCore", "TEDBuffers", "TEDPersistence", "TEDServer", "ted"] {
            #expect(try Self.importers(of: module, in: target) == [], "\(target) imports \(module)")
        }
        #expect(try !Self.importers(of: module, in: "TEDStore").isEmpty, "the scan finds the adapters' imports")
    }
}
