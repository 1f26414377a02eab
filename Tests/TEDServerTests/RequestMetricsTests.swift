import Hummingbird
import HummingbirdTesting
import Prometheus
import Testing
@testable import TEDServer

/// `ted_http_request_duration_seconds`, read back from a Prometheus registry of the test's own: one series a route
/// pattern, method and status (a thrown HTTP error's own status), each request counted once in its series, also when
/// its timer is the kept one.
@Suite struct RequestMetricsTests {
    @Test func eachRequestIsCountedInTheSeriesOfItsRouteMethodAndStatus() async throws {
        let registry = PrometheusCollectorRegistry()
        let router = Router(context: TEDRequestContext.self)
        router.add(middleware: RequestMetricsMiddleware(factory: PrometheusMetricsFactory(registry: registry)))
        router.post("/things/{id}") { request, context -> Response in
            Response(status: context.parameters.get("id") == "bad" ? .badRequest : .accepted)
        }
        router.post("/conflict") { _, _ -> Response in throw HTTPError(.conflict) }
        try await Application(router: router).test(.router) { client in
            for id in ["a", "b", "bad", "c"] {
                try await client.execute(uri: "/things/\(id)", method: .post) { _ in }
            }
            try await client.execute(uri: "/conflict", method: .post) { _ in }
            try await client.execute(uri: "/nowhere", method: .get) { _ in }
        }
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        let counts = String(decoding: buffer, as: UTF8.self).split(separator: "\n")
            .filter { $0.hasPrefix("ted_http_request_duration_seconds_count") }
        func count(_ labels: [String]) -> String? {
            counts.first { line in labels.allSatisfy { line.contains($0) } }?.split(separator: " ").last.map(String.init)
        }
        #expect(counts.count == 4, "\(counts)")
        #expect(count([#"route="/things/{id}""#, #"method="POST""#, #"status="202""#]) == "3")
        #expect(count([#"route="/things/{id}""#, #"method="POST""#, #"status="400""#]) == "1")
        // A route's thrown HTTP error under the status it is answered with, not 500.
        #expect(count([#"route="/conflict""#, #"method="POST""#, #"status="409""#]) == "1", "\(counts)")
        #expect(count([#"method="GET""#, #"status="404""#]) == "1", "\(counts)")
    }
}
