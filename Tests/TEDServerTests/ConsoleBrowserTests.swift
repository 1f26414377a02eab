import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Testing
import TEDCore
@testable import TEDPersistence
@testable import TEDServer
@testable import TEDStore

/// The console in a real browser: the service runs on a loopback port with an SQLite store holding a simulated
/// feed, headless Chromium renders `/`, and the games and figures the API reports must be in the DOM. Screenshots
/// go to `.build/test-artefacts/`.
@Suite(.serialized) struct ConsoleBrowserTests {
    static let artefacts = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent(".build/test-artefacts")

    /// Five whole games of the simulator's feed (none started after the fifth rug), as `ted simulate` sends it:
    /// NDJSON to /api/ingest, 1000 events a request, timed as if played over the last minutes.
    static func simulatedFeed() -> [[UInt8]] {
        var configuration = FeedGenerator.Configuration(seed: 14)
        configuration.startTime = Date().addingTimeInterval(-900)
        var generator = FeedGenerator(configuration: configuration)
        var events: [FeedGenerator.Event] = []
        while generator.gamesFinished < 5 { events += generator.nextTick() }
        return stride(from: 0, to: events.count, by: 1000).map { start in
            events[start..<min(start + 1000, events.count)].flatMap { $0.json.serialized + [UInt8(ascii: "\n")] }
        }
    }

    @Test func theConsoleRendersTheStoredGamesAndTheAccountingInChromium() async throws {
        let chromium = try Chromium()
        // Persistence on, with an SQLite store; the live test framework binds it to `localhost` on a free port.
        let service = try HTTPTests.fixture(enabled: true, adminToken: "console-test-admin",
                                            jobs: JobsStatus(instanceID: "console-test"))
        let store = try #require(service.runtime.store)
        try await service.app.test(.live) { client in
            let port = try #require(client.port)
            for body in Self.simulatedFeed() {
                try await client.execute(uri: "/api/ingest", method: .post, headers: [.contentType: "application/x-ndjson"],
                                         body: ByteBuffer(bytes: body)) { response in
                    #expect(response.status == .accepted)
                }
            }
            let flush = FlushScheduler(ingestor: service.runtime.ingestor, store: store, interval: .seconds(1),
                                       batchSize: 1000, shutdownGrace: .seconds(5), clock: SystemClock(),
                                       statistics: service.runtime.statistics, logger: Logger(label: "test"))
            let sampler = TimelineSampler(runtime: service.runtime, clock: SystemClock())
            sampler.sample(at: Date().addingTimeInterval(-10))
            #expect(await flush.flushPending(deadline: nil))
            sampler.sample(at: Date().addingTimeInterval(-5))
            sampler.sample(at: Date())

            let games = try await store.documents.find(.games, where: .all, sort: nil, limit: nil).compactMap { $0["game_id"]?.stringValue }
            #expect(games.count == 5)
            let viewed = try #require(games.last)
            let detail = try await Self.get(client, "/api/persistence/game/\(viewed)")
            let predictions = detail["predictions"]?.arrayValue?.count ?? 0
            let sideBets = detail["side_bets"]?.arrayValue?.count ?? 0
            #expect(predictions > 0 && sideBets > 0)

            let dom = try await chromium.dumpDOM("http://localhost:\(port)/#game=\(viewed)")
            // What the API says now (nothing changes while the browser reads).
            let status = try await Self.get(client, "/api/persistence/status")
            let metrics = try await Self.get(client, "/api/persistence/metrics?hours=24")

            // The games, from the store or (without /api/persistence/games) from memory.
            for game in games { #expect(dom.contains(#"<tr data-game="\#(game)">"#), "game \(game) missing") }
            // The accounting, collection by collection, as /api/persistence/status counts it.
            let accounting = try #require(status["repository"]?["accounting"]?.objectValue)
            for (collection, terms) in accounting.entries {
                let row = try #require(Self.element(#"<tr data-collection="\#(collection)">"#, closing: "</tr>", in: dom))
                for term in ["accepted", "recovered", "caught_up", "stored", "pending", "spooled", "rejected", "dropped", "superseded"] {
                    let value = try #require(terms[term]?.intValue)
                    #expect(row.contains(#"data-field="\#(term)" class="num">\#(Self.grouped(value))<"#), "\(collection) \(term)")
                }
                #expect(row.contains(terms["balanced"] == .bool(true) ? "✓ yes" : "✗ no"))
            }
            #expect((accounting["tick_samples"]?["stored"]?.intValue ?? 0) > 0)
            #expect(dom.contains(#"data-bind="balance">balanced<"#))
            #expect(dom.contains(#"data-bind="records-saved">\#(Self.grouped(status["repository"]?["records_saved"]?.intValue ?? -1))<"#))
            #expect(dom.contains(#"data-bind="flag-state">On<"#))

            // The game view: a rug tick per prediction, a window per side bet, the price curve when the service
            // keeps the game's ticks.
            let view = try #require(Self.element(#"id="game""#, closing: "</section>", in: dom))
            #expect(!view.contains("hidden"))
            #expect(Self.occurrences(of: #"class="rug-tick""#, in: view) == predictions)
            #expect(Self.occurrences(of: #"class="bet-window "#, in: view) == sideBets)
            let ticksRoute = try await client.execute(uri: "/api/persistence/game/\(viewed)/ticks", method: .get) { $0.status }
            if ticksRoute == .ok {
                #expect(view.contains(#"class="price-line""#))
            } else {
                #expect(view.contains("No tick recording stored for this game.") && !view.contains("price-line"))
            }

            // Accuracy over 24 h, the timeline's charts, and the sections whose routes this service may not have.
            let resolved = try #require(metrics["total_predictions"]?.intValue)
            #expect(resolved > 0)
            #expect(dom.contains(#"data-bind="total-predictions">\#(Self.grouped(resolved))<"#))
            #expect(Self.occurrences(of: #"<path d="M"#, in: try #require(Self.element(#"id="timeline""#, closing: "</section>", in: dom))) >= 3)
            for (route, id) in [("/api/persistence/flag-history", "flag-history"), ("/api/persistence/analytics", "models")] {
                let answered = try await client.execute(uri: route, method: .get) { $0.status }
                let part = try #require(Self.element(#"id="\#(id)""#, closing: "</table>", in: dom))
                #expect(part.contains("Not available on this service.") == (answered == .notFound), "\(route)")
            }
            #expect(dom.contains("None: nothing was refused."))
            #expect(!dom.contains("not run by this process"))  // this process runs the jobs: their status is shown

            let shots = [("console.png", 1280, 900), ("console-full.png", 1280, 3400), ("console-phone.png", 412, 2600)]
            for (name, width, height) in shots {
                let file = Self.artefacts.appendingPathComponent(name)
                try await chromium.screenshot("http://localhost:\(port)/#game=\(viewed)", to: file, width: width, height: height)
                print("console screenshot: \(file.path)")
            }
        }
        await store.close()
    }

    /// The console's page with one more module, `/test/probe.js`, that works the switch as a user would: it waits for
    /// the flag to show "on", switches with a wrong token, then with the right one, and writes what the page said
    /// into `data-probe` on the body.
    static let probePage = String(decoding: PackageResources.console_html, as: UTF8.self)
        .replacingOccurrences(of: "</head>", with: #"<script type="module" src="/test/probe.js"></script></head>"#)

    static let probeScript = """
        const until = async (check) => {
          for (let i = 0; i < 400 && !check(); i += 1) await new Promise((resolve) => setTimeout(resolve, 50));
        };
        const $ = (selector) => document.querySelector(selector);
        const message = () => $("#flag-message").textContent;
        const checked = () => $("#flag-switch").getAttribute("aria-checked");
        const said = [];
        async function switchWith(token) {
          const before = message();
          $("#flag-switch").click();
          await until(() => $("#token-dialog").open);
          $("#token-input").value = token;
          $('#token-dialog button[value="ok"]').click();
          await until(() => message() !== before);
          said.push(`${message()} (token kept: ${sessionStorage.getItem("ted.adminToken")})`);
        }
        await until(() => checked() === "true");
        await switchWith("wrong-token");
        await switchWith("console-test-admin");
        await until(() => checked() === "false");
        document.body.dataset.probe = [...said, `switch checked: ${checked()}`].join(" / ");
        """

    @Test func theSwitchAsksForTheAdminTokenAndTurnsPersistenceOff() async throws {
        let chromium = try Chromium()
        let service = try HTTPTests.fixture(enabled: true, adminToken: "console-test-admin") { router in
            router.get("/test/probe.html") { _, _ in Self.text(Self.probePage, contentType: "text/html; charset=utf-8") }
            router.get("/test/probe.js") { _, _ in Self.text(Self.probeScript, contentType: "text/javascript; charset=utf-8") }
        }
        try await service.app.test(.live) { client in
            let port = try #require(client.port)
            let dom = try await chromium.dumpDOM("http://localhost:\(port)/test/probe.html", budgetMilliseconds: 20000)
            #expect(dom.contains(#"data-probe="a valid admin token is required (token kept: null) / "#
                                 + #"Persistence is off. (token kept: console-test-admin) / switch checked: false""#))
        }
        #expect(!service.runtime.flag.isEnabled)
        #expect(service.runtime.flag.snapshot.source == .api)
        await service.runtime.store?.close()
    }

    static func text(_ text: String, contentType: String) -> Response {
        Response(status: .ok, headers: [.contentType: contentType], body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }

    static func get(_ client: some TestClientProtocol, _ uri: String) async throws -> JSONValue {
        try await client.execute(uri: uri, method: .get) { response in
            #expect(response.status == .ok, "\(uri)")
            return try JSONParser.parse(Array(buffer: response.body))
        }
    }

    /// The text from `opening` to the next `closing`.
    static func element(_ opening: String, closing: String, in dom: String) -> Substring? {
        guard let start = dom.range(of: opening), let end = dom.range(of: closing, range: start.upperBound..<dom.endIndex) else {
            return nil
        }
        return dom[start.lowerBound..<end.upperBound]
    }

    static func occurrences(of needle: String, in text: some StringProtocol) -> Int {
        text.components(separatedBy: needle).count - 1
    }

    /// As the console writes counts: thousands separated by commas.
    static func grouped(_ value: Int) -> String {
        let digits = String(abs(value))
        var result = ""
        for (index, digit) in digits.enumerated() {
            if index > 0 && (digits.count - index) % 3 == 0 { result.append(",") }
            result.append(digit)
        }
        return (value < 0 ? "-" : "") + result
    }
}

/// Reading the API's answers in these tests.
private extension JSONValue {
    subscript(key: String) -> JSONValue? { objectValue?[key] }

    var intValue: Int? {
        if case .int(let value) = self { return Int(value) }
        return nil
    }

    var arrayValue: [JSONValue]? {
        if case .array(let values) = self { return values }
        return nil
    }
}
