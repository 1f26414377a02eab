import Foundation
import Testing

/// Debian's headless Chromium, run as a process: the console's tests render the page in a real browser. Missing
/// Chromium is a failure, never a skip (`scripts/test` installs it).
struct Chromium {
    struct Missing: Error, CustomStringConvertible {
        var description: String {
            "chromium is not installed: apt-get install -y chromium (scripts/test installs it), or set TED_CHROMIUM"
        }
    }

    struct Failed: Error, CustomStringConvertible {
        let status: Int32
        let stderr: String
        var description: String { "chromium exited with \(status): \(stderr.suffix(2000))" }
    }

    let binary: String

    /// `TED_CHROMIUM`, else `chromium` or `chromium-browser` on the PATH.
    init() throws {
        let environment = ProcessInfo.processInfo.environment
        if let configured = environment["TED_CHROMIUM"], !configured.isEmpty {
            binary = configured
            return
        }
        let directories = (environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
        let found = ["chromium", "chromium-browser"].lazy.flatMap { name in directories.map { "\($0)/\(name)" } }
            .first { FileManager.default.isExecutableFile(atPath: $0) }
        guard let found else { throw Missing() }
        binary = found
    }

    /// The DOM after the page's scripts ran for `budgetMilliseconds` of virtual time (network waits do not count).
    func dumpDOM(_ url: String, budgetMilliseconds: Int = 8000) async throws -> String {
        try await run(["--virtual-time-budget=\(budgetMilliseconds)", "--dump-dom", url])
    }

    /// A PNG of the page as a window of `width` × `height` pixels shows it.
    func screenshot(_ url: String, to file: URL, width: Int, height: Int, budgetMilliseconds: Int = 8000) async throws {
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try? FileManager.default.removeItem(at: file)
        _ = try await run(["--virtual-time-budget=\(budgetMilliseconds)", "--hide-scrollbars",
                           "--window-size=\(width),\(height)", "--screenshot=\(file.path)", url])
        #expect(FileManager.default.fileExists(atPath: file.path), "no screenshot at \(file.path)")
    }

    /// Runs Chromium headless with a throwaway profile; its standard output. Killed after `timeout`.
    private func run(_ arguments: [String], timeout: Duration = .seconds(120)) async throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ted-chromium-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        // Files, not pipes: a DOM larger than a pipe's buffer would block Chromium until someone reads it.
        let stdoutURL = directory.appendingPathComponent("stdout")
        let stderrURL = directory.appendingPathComponent("stderr")
        try Data().write(to: stdoutURL)
        try Data().write(to: stderrURL)
        let stdout = try FileHandle(forWritingTo: stdoutURL)
        let stderr = try FileHandle(forWritingTo: stderrURL)
        defer {
            try? stdout.close()
            try? stderr.close()
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                             "--no-first-run", "--user-data-dir=\(directory.appendingPathComponent("profile").path)"]
            + arguments
        process.standardOutput = stdout
        process.standardError = stderr
        process.standardInput = FileHandle.nullDevice
        let status = try await withThrowingTaskGroup(of: Int32?.self) { group in
            group.addTask {
                try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Int32?, any Error>) in
                    process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
                    do { try process.run() } catch { continuation.resume(throwing: error) }
                }
            }
            group.addTask {
                try await Task.sleep(for: timeout)
                return nil
            }
            let first = try await group.next() ?? nil
            if first == nil, process.isRunning { process.terminate() }
            group.cancelAll()
            return first
        }
        let errors = (try? String(contentsOf: stderrURL, encoding: .utf8)) ?? ""
        guard let status else { throw Failed(status: -1, stderr: "timed out after \(timeout)\n" + errors) }
        guard status == 0 else { throw Failed(status: status, stderr: errors) }
        return try String(contentsOf: stdoutURL, encoding: .utf8)
    }
}
