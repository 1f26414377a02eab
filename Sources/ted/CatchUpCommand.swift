import ArgumentParser
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import TEDCore

/// `ted catch-up`: asks the running service to write what its in-memory rings still hold from the periods
/// persistence was off (`POST /api/persistence/catch-up`). The rings live in the service's memory, so the command
/// can only ask it over HTTP. URLSession, as `ted simulate` uses it: one request to a local service needs no client
/// library beside Foundation's (the runtime image already carries libcurl for it); AsyncHTTPClient would add
/// NIOSSL and HTTP/2 to the release build for nothing this call uses.
struct CatchUpCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "catch-up",
        abstract: "Write what the running service still holds in memory from the periods persistence was off.",
        discussion: """
            Calls POST /api/persistence/catch-up on the service at HOST:PORT with ADMIN_TOKEN (from the environment \
            and .env, as `ted serve` reads them). Persistence must be on: the service answers 409 otherwise and \
            writes nothing. A second catch-up writes nothing new. Exit status 1 when the service refused or failed.
            """)

    @Option(help: "Base URL of the service (default: http://HOST:PORT from the settings; 127.0.0.1 for 0.0.0.0).")
    var url: String?

    func run() async throws {
        let settings = try SettingsLoader.loadOrExit(environment: ProcessInfo.processInfo.environment)
        guard let token = settings.adminToken else {
            throw CommandOutput.failure("ADMIN_TOKEN is not set: the catch-up is an admin action")
        }
        let base = url ?? "http://\(Self.reachableHost(settings.host)):\(settings.port)"
        guard let target = URL(string: base.trimmingSuffix("/") + "/api/persistence/catch-up") else {
            throw CommandOutput.failure("--url must be an http(s) URL such as http://127.0.0.1:8000")
        }
        var request = URLRequest(url: target)
        request.httpMethod = "POST"
        request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        request.timeoutInterval = 30
        let (data, response): (Data, URLResponse)
        do {
            (data, response) = try await URLSession.shared.data(for: request)
        } catch {
            throw CommandOutput.failure("Cannot reach the service at \(base): \(error.localizedDescription)")
        }
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        let reply = (try? JSONParser.parse(Array(data)))?.objectValue
        guard status == 200, case .object(let counts)? = reply?["caught_up"] else {
            let message = reply?["error"]?.stringValue ?? String(decoding: data.prefix(300), as: UTF8.self)
            throw CommandOutput.failure("The service answered HTTP \(status): \(message)")
        }
        if case .array(let periods)? = reply?["periods"] {
            print("Off periods taken: \(periods.count)")
            for case .object(let period) in periods {
                print("  \(period["from"]?.stringValue ?? "?") → \(period["to"]?.stringValue ?? "?")")
            }
        }
        for (collection, count) in counts.entries { print("  \(collection): \(count.numberValue.map { Int($0) } ?? 0) queued") }
        print("✓ Catch-up queued; the flush writes it (records the store already has count as already stored)")
    }

    /// A wildcard bind address is not one to connect to: the service listens on loopback too.
    static func reachableHost(_ host: String) -> String {
        switch host {
        case "0.0.0.0", "": "127.0.0.1"
        case "::", "[::]": "[::1]"
        default: host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
        }
    }
}

private extension String {
    func trimmingSuffix(_ suffix: Character) -> String {
        var copy = self
        while copy.last == suffix { copy.removeLast() }
        return copy
    }
}
