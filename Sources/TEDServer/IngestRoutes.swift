import Foundation
import Hummingbird
import Logging
import Metrics
import NIOCore
import TEDCore
import TEDPersistence

/// `POST /api/ingest` and `POST /api/game-state`: decode, validate the whole request, then hand it to the
/// ingestor in one step, so a request is kept entirely or not at all.
struct IngestRoutes: Sendable {
    let runtime: PersistenceRuntime
    let access: AccessControl
    let crossSite: CrossSiteWriteGuard
    let bodyReader: IngestBodyReader
    let maxEvents: Int
    let decoder = EventDecoder()

    func register(on router: Router<some RequestContext>) {
        router.post("/api/ingest") { request, _ in await ingest(request, rawGameState: false) }
        router.post("/api/game-state") { request, _ in await ingest(request, rawGameState: true) }
    }

    func ingest(_ request: Request, rawGameState: Bool) async -> Response {
        // The origin first: a page of another site learns nothing, not even whether a token is needed.
        if let denied = crossSite.checkOrigin(request) { return reject("origin_not_allowed", denied) }
        if let denied = access.checkIngest(request) { return denied }
        if let denied = crossSite.checkContentType(request) { return reject("unsupported_media_type", denied) }
        // The body's bytes count against the process-wide budget until the request is answered.
        let reservation = bodyReader.budget.reservation()
        defer { reservation.release() }
        let body: ByteBuffer
        switch await bodyReader.read(request, holding: reservation) {
        case .success(let bytes):
            body = bytes
        case .failure(let failure):
            return reject(failure)
        }
        let receivedAt = Date()
        let ndjson = CrossSiteWriteGuard.mediaType(request.headers[.contentType]) == "application/x-ndjson"
        let values: [JSONValue]
        do {
            values = try body.withUnsafeReadableBytes { raw throws(IngestBody.Failure) in
                try IngestBody.events(from: UnsafeRawBufferPointer(raw).bindMemory(to: UInt8.self), ndjson: ndjson && !rawGameState,
                                      maxEvents: maxEvents)
            }
        } catch {
            switch error {
            case .malformed(let index, let reason):
                return reject("malformed_json", JSONResponse.error(.badRequest, reason, index: index, field: "body"))
            case .tooManyEvents(let count, let limit):
                return reject("too_many_events", JSONResponse.error(
                    .contentTooLarge, "\(count) events in one request; the limit is \(limit)", field: "body"))
            case .notAnEvent(let typeName):
                return reject("not_an_event", JSONResponse.error(
                    .badRequest, "the body must be a JSON object or an array of objects, got \(typeName)", field: "body"))
            }
        }
        let events: [IngestEvent]
        do {
            if rawGameState {
                events = try values.enumerated().map { (index, value) throws(ValidationError) in
                    .gameState(try decoder.decodeRugsGameState(value, index: index, receivedAt: receivedAt))
                }
            } else {
                events = try decoder.decodeEvents(values, receivedAt: receivedAt)
            }
        } catch {
            return reject("invalid_event", JSONResponse.error(.badRequest, "\(error.field) \(error.message)", index: error.index, field: error.field))
        }
        await runtime.waitForRoom(for: events.count)
        if let refusal = runtime.admission() {
            return reject("overloaded", JSONResponse.error(.serviceUnavailable, refusal.reason,
                                                            headers: [.retryAfter: String(refusal.retryAfterSeconds)]))
        }
        let receipt = runtime.ingestor.ingest(events, now: receivedAt)
        if let conflict = receipt.refused {
            return reject("game_closed", JSONResponse.error(.conflict, conflict.message, index: conflict.index, field: "game_id"))
        }
        if let ticket = receipt.durable, case .failure(let error) = await ticket.wait() {
            // Not durable: keep the records in memory (accounted for) and tell the client to retry; a resend is
            // harmless because every record has a deterministic id.
            runtime.ingestor.keepInMemory(ticket.records)
            return reject("spool_unavailable", JSONResponse.error(
                .serviceUnavailable, "the records could not be made durable: \(error.message)",
                headers: [.retryAfter: "5"]))
        }
        var perKind = [0, 0, 0]
        for event in events { perKind[Self.kindIndex(event.kind)] += 1 }
        for (index, n) in perKind.enumerated() where n > 0 { Self.acceptedCounters[index].increment(by: n) }
        return JSONResponse.make(.accepted, ["accepted": JSONValue(events.count)])
    }

    /// Built once: looking a counter up in the registry takes a lock, which the hot path should not pay for.
    static let acceptedCounters = EventKind.allCases.map {
        Counter(label: "ted_ingest_records_total", dimensions: [("type", $0.rawValue), ("result", "accepted")])
    }

    static func kindIndex(_ kind: EventKind) -> Int { EventKind.allCases.firstIndex(of: kind)! }

    /// A body refused for its size or the budget is not read to its end (`IngestBodyReader`), so the connection cannot
    /// carry another request: the answer says it closes.
    private func reject(_ failure: IngestBodyReader.Failure) -> Response {
        switch failure {
        case .tooLarge:
            return reject("body_too_large", JSONResponse.error(
                .contentTooLarge, "request body exceeds \(bodyReader.maxBodyBytes) bytes (INGEST_MAX_BODY_BYTES)", field: "body",
                headers: [.connection: "close"]))
        case .overBudget:
            return reject("body_budget_exhausted", JSONResponse.error(
                .serviceUnavailable, "too many request bodies are arriving at once (INGEST_BODY_BUDGET_BYTES); retry later",
                field: "body", headers: [.retryAfter: "1", .connection: "close"]))
        case .timedOut:
            return reject("body_timeout", JSONResponse.error(
                .requestTimeout, "the request body did not arrive within \(bodyReader.timeout) (INGEST_BODY_TIMEOUT_SECONDS)",
                field: "body", headers: [.connection: "close"]))
        case .unreadable:
            return reject("body_unreadable", JSONResponse.error(.badRequest, "the request body could not be read", field: "body"))
        }
    }

    private func reject(_ reason: String, _ response: Response) -> Response {
        runtime.ingestor.recordRejected(reason: reason)
        Counter(label: "ted_ingest_rejected_total", dimensions: [("reason", reason)]).increment()
        return response
    }
}
