import ArgumentParser
import Dispatch
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Synchronization
import TEDCore

/// `ted simulate`: sends a realistic, reproducible live feed (see `FeedGenerator`) to a running `ted serve`.
struct SimulateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Send a synthetic live feed (games, predictions, side bets) to a running ted.",
        discussion: """
            Games follow a random walk until a rug drawn from a hazard rate; every tick carries a game_state, a \
            prediction of the rug tick and now and then a side-bet signal. The same --seed gives the same feed \
            (timestamps start at the time the run starts). Paced, one request per tick; with --as-fast-as-possible, \
            --batch events per request (NDJSON to /api/ingest, a JSON array to /api/game-state). \
            --endpoint game-state sends only the game updates, in the raw rugs.fun shape. \
            Exit status 1 when a request failed.
            """)

    enum Endpoint: String, ExpressibleByArgument, CaseIterable {
        case ingest
        case gameState = "game-state"
    }

    @Option(help: "Base URL of the service.") var url = "http://127.0.0.1:8000"
    @Option(help: "ingest (/api/ingest, all events) or game-state (/api/game-state, raw game updates only).")
    var endpoint: Endpoint = .ingest
    @Option(help: "Seed of the feed (default: random, printed).") var seed: UInt64?
    @Option(help: "Stop after this many games have rugged.") var games: Int?
    @Option(help: "Stop after this many seconds.") var duration: Double?
    @Option(name: .customLong("tick-ms"), help: "Milliseconds between ticks when paced.") var tickMs = 250
    @Flag(help: "Send without pacing, --batch events per request.") var asFastAsPossible = false
    @Option(help: "Events per request with --as-fast-as-possible (whole ticks, so a request may carry a few more).")
    var batch = 500
    @Option(help: "Bearer token for the ingest endpoints (default: $INGEST_TOKEN).") var token: String?
    @Option(help: "Seconds between progress lines.") var progressEvery = 5.0

    func validate() throws {
        guard tickMs >= 1 else { throw ValidationError("--tick-ms must be ≥ 1") }
        guard (1...TEDLimits.maxEventsPerRequest).contains(batch) else {
            throw ValidationError("--batch must be from 1 to \(TEDLimits.maxEventsPerRequest)")
        }
        if let games, games < 1 { throw ValidationError("--games must be ≥ 1") }
        if let duration, !(duration > 0) { throw ValidationError("--duration must be > 0") }
        guard progressEvery > 0 else { throw ValidationError("--progress-every must be > 0") }
        guard let base = URL(string: url), base.scheme == "http" || base.scheme == "https", base.host != nil else {
            throw ValidationError("--url must be an http(s) URL such as http://127.0.0.1:8000")
        }
    }

    func run() async throws {
        let seed = self.seed ?? UInt64.random(in: 0...UInt64.max)
        var configuration = FeedGenerator.Configuration(seed: seed)
        configuration.tickInterval = Double(tickMs) / 1000
        let startMillis = (Date().timeIntervalSince1970 * 1000).rounded()
        configuration.startTime = Date(timeIntervalSince1970: startMillis / 1000)
        var generator = FeedGenerator(configuration: configuration)

        let path = endpoint == .ingest ? "/api/ingest" : "/api/game-state"
        var base = url
        while base.hasSuffix("/") { base.removeLast() }
        let target = URL(string: base + path)!
        let client = FeedClient(url: target, ndjson: endpoint == .ingest,
                                token: token ?? ProcessInfo.processInfo.environment["INGEST_TOKEN"].flatMap { $0.isEmpty ? nil : $0 })
        print("simulate: seed \(seed), \(asFastAsPossible ? "as fast as possible, batches of \(batch)" : "a tick every \(tickMs) ms") → POST \(target.absoluteString)")

        let stop = StopSignal()
        let clock = ContinuousClock()
        let started = clock.now
        let deadline = duration.map { started + .milliseconds(Int64($0 * 1000)) }
        var progress = Progress(startedAt: started)
        var nextProgress = started + .milliseconds(Int64(progressEvery * 1000))
        var nextTick = started

        func finished() -> Bool {
            if stop.requested { return true }
            if let games, generator.gamesFinished >= games { return true }
            if let deadline, clock.now >= deadline { return true }
            return false
        }

        var pending: [FeedGenerator.Event] = []
        while !finished() {
            let events = generator.nextTick()
            // /api/game-state takes only the game updates.
            pending += endpoint == .ingest ? events : events.filter { $0.rugsGameStateJSON != nil }
            let sendNow = !asFastAsPossible || pending.count >= batch || finished()
            if sendNow && !pending.isEmpty {
                let outcome = await client.send(pending)
                progress.record(outcome, events: pending.count, games: generator.gamesFinished)
                pending.removeAll(keepingCapacity: true)
            }
            if clock.now >= nextProgress {
                print(progress.line(now: clock.now))
                nextProgress = clock.now + .milliseconds(Int64(progressEvery * 1000))
            }
            if !asFastAsPossible {
                nextTick += .milliseconds(tickMs)
                // Behind schedule (a slow request): carry on from now rather than sending a burst.
                if nextTick < clock.now { nextTick = clock.now }
                var sleepUntil = nextTick
                if let deadline, deadline < sleepUntil { sleepUntil = deadline }
                try? await Task.sleep(until: sleepUntil, clock: clock)
            }
        }
        if !pending.isEmpty {
            let outcome = await client.send(pending)
            progress.record(outcome, events: pending.count, games: generator.gamesFinished)
        }
        print(progress.line(now: clock.now) + (stop.requested ? " (interrupted)" : "") + " — done")
        if progress.failedRequests > 0 { throw ExitCode(1) }
    }
}

/// The most events one request may carry (`TEDApplication.maxEventsPerRequest`; kept here so that the simulator
/// does not need the server module).
enum TEDLimits {
    static let maxEventsPerRequest = 20_000
}

/// Counts for the progress lines.
struct Progress {
    let startedAt: ContinuousClock.Instant
    var games = 0
    var sent = 0
    var accepted = 0
    var requests = 0
    var failedRequests = 0
    var errorsShown = 0

    init(startedAt: ContinuousClock.Instant) {
        self.startedAt = startedAt
    }

    mutating func record(_ outcome: FeedClient.Outcome, events: Int, games: Int) {
        self.games = games
        requests += 1
        sent += events
        switch outcome {
        case .accepted(let n):
            accepted += n
        case .failed(let reason):
            failedRequests += 1
            if errorsShown < 5 {
                errorsShown += 1
                FileHandle.standardError.write(Data("simulate: request \(requests) failed: \(reason)\n".utf8))
            }
        }
    }

    func line(now: ContinuousClock.Instant) -> String {
        let elapsed = now - startedAt
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let rate = seconds > 0 ? Double(accepted) / seconds : 0
        return "simulate: \(String(format: "%.0f", seconds)) s, \(games) games, \(accepted)/\(sent) records accepted, "
            + "\(String(format: "%.1f", rate))/s, \(requests) requests, \(failedRequests) errors"
    }
}

/// SIGINT/SIGTERM end the run after the request in flight, with a last progress line.
final class StopSignal: Sendable {
    private let flag = Atomic<Bool>(false)
    private let sources: Mutex<[any DispatchSourceSignal]>

    init() {
        var sources: [any DispatchSourceSignal] = []
        for signalNumber in [SIGINT, SIGTERM] {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            sources.append(source)
        }
        self.sources = Mutex(sources)
        self.sources.withLock { sources in
            for source in sources {
                source.setEventHandler { [weak self] in self?.flag.store(true, ordering: .relaxed) }
                source.resume()
            }
        }
    }

    var requested: Bool { flag.load(ordering: .relaxed) }
}

/// POSTs batches of events with URLSession, one request at a time.
struct FeedClient: Sendable {
    enum Outcome: Sendable {
        case accepted(Int)
        case failed(String)
    }

    let url: URL
    let ndjson: Bool
    let token: String?
    let session: URLSession

    init(url: URL, ndjson: Bool, token: String?) {
        self.url = url
        self.ndjson = ndjson
        self.token = token
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = 30
        configuration.httpMaximumConnectionsPerHost = 1
        self.session = URLSession(configuration: configuration)
    }

    /// `/api/ingest` gets NDJSON (every event); `/api/game-state` a JSON array of the raw game updates.
    func body(_ events: [FeedGenerator.Event]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(events.count * 200)
        if ndjson {
            for event in events {
                event.json.write(into: &out)
                out.append(UInt8(ascii: "\n"))
            }
        } else {
            JSONValue.array(events.compactMap(\.rugsGameStateJSON)).write(into: &out)
        }
        return out
    }

    func send(_ events: [FeedGenerator.Event]) async -> Outcome {
        var request = URLRequest(url: url)
        request.httpMethod = "POST"
        request.setValue(ndjson ? "application/x-ndjson" : "application/json", forHTTPHeaderField: "Content-Type")
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        request.httpBody = Data(body(events))
        do {
            let (data, response) = try await session.data(for: request)
            let status = (response as? HTTPURLResponse)?.statusCode ?? 0
            guard (200..<300).contains(status) else {
                return .failed("HTTP \(status): \(String(decoding: data.prefix(300), as: UTF8.self))")
            }
            if case .object(let reply)? = try? JSONParser.parse(Array(data)), case .int(let n)? = reply["accepted"] {
                return .accepted(Int(n))
            }
            return .accepted(events.count)
        } catch {
            return .failed(error.localizedDescription)
        }
    }
}
