import Foundation
import Testing
@testable import TEDPersistence
import TEDStore

/// Backups are decompressed with zlib within limits: a file that expands too far, or far more than a backup
/// compresses, is refused before it fills the disk.
@Suite struct GzipInflaterTests {
    /// `bytes` written to a file and gzip-compressed; returns the `.gz` path.
    static func gzipped(_ bytes: Data, in directory: URL, name: String) async throws -> String {
        let path = directory.appendingPathComponent(name).path
        try bytes.write(to: URL(fileURLWithPath: path))
        return try await BackupTests.gzip(path)
    }

    /// Text that compresses about as well as a backup does (a few times, not a thousand).
    static func text(bytes: Int) -> Data {
        var generator = SystemRandomNumberGenerator()
        var text = ""
        while text.utf8.count < bytes {
            text += #"{"c":"tick_samples","d":{"_id":"g-\#(UInt32.random(in: 0...UInt32.max, using: &generator))","#
                + #""price":\#(Double.random(in: 0...100, using: &generator))}}"# + "\n"
        }
        return Data(text.utf8)
    }

    @Test func aFileExpandingPastTheSizeLimitIsRefused() async throws {
        let directory = try TestServer.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = try await Self.gzipped(Self.text(bytes: 3 << 20), in: directory, name: "big.ndjson")
        await #expect {
            _ = try await BackupReader.open(file, scratchDirectory: directory.path,
                                            limits: ExpansionLimits(maxBytes: 1 << 20, maxRatio: 1000))
        } throws: { error in
            "\(error)".contains("expands past 1048576 bytes: refusing it")
        }
        // Nothing decompressed is left behind.
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).allSatisfy { !$0.hasPrefix("ted-restore-") })
        let reader = try await BackupReader.open(file, scratchDirectory: directory.path,
                                                 limits: ExpansionLimits(maxBytes: 4 << 20, maxRatio: 1000))
        let original = try Data(contentsOf: directory.appendingPathComponent("big.ndjson"))
        #expect(try Data(contentsOf: URL(fileURLWithPath: reader.decompressed)) == original)
        reader.close()
    }

    @Test func aFileExpandingFarMoreThanABackupIsRefused() async throws {
        let directory = try TestServer.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        // Zeros compress about 1,000 times: a small file that would fill a disk.
        let bomb = try await Self.gzipped(Data(count: 8 << 20), in: directory, name: "zeros")
        await #expect {
            _ = try await BackupReader.open(bomb, scratchDirectory: directory.path)
        } throws: { error in
            "\(error)".contains("expands more than 250 times its size: refusing it")
        }
    }

    @Test func aFileThatExpandsALotButWithinTheLimitsIsReadWhole() async throws {
        let directory = try TestServer.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        // Each piece read expands to many output buffers: the output of every one must come through.
        var bytes = Data(count: 5 << 20)
        bytes[bytes.count - 1] = UInt8(ascii: "\n")
        let file = try await Self.gzipped(bytes, in: directory, name: "zeros")
        let reader = try await BackupReader.open(file, scratchDirectory: directory.path,
                                                 limits: ExpansionLimits(maxBytes: 1 << 30, maxRatio: 100_000))
        #expect(try Data(contentsOf: URL(fileURLWithPath: reader.decompressed)) == bytes)
        #expect(reader.gzipComplaint == nil)
        reader.close()
    }

    @Test func concatenatedMembersAreReadAsGzipReadsThem() async throws {
        let directory = try TestServer.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let first = try await Self.gzipped(Data("one\n".utf8), in: directory, name: "a")
        let second = try await Self.gzipped(Data("two\n".utf8), in: directory, name: "b")
        let both = directory.appendingPathComponent("both.gz")
        try (try Data(contentsOf: URL(fileURLWithPath: first)) + Data(contentsOf: URL(fileURLWithPath: second))).write(to: both)
        let reader = try await BackupReader.open(both.path, scratchDirectory: directory.path)
        #expect(try String(contentsOfFile: reader.decompressed, encoding: .utf8) == "one\ntwo\n")
        #expect(reader.gzipComplaint == nil)
        reader.close()
    }
}
