import Hummingbird
import NIOCore

/// Reads an ingest request's body within three limits: its size (`INGEST_MAX_BODY_BYTES`), the bytes all requests
/// may hold together (`BodyBudget`) and the time it may take to arrive (`INGEST_BODY_TIMEOUT_SECONDS`). A declared
/// `Content-Length` is checked against the limit and against what is left of the budget before a byte is read, so an
/// oversized upload, or one that cannot fit now, is refused without buffering anything. What a request holds is the
/// bytes it has received, not the length it announced: many uploads that announce a large body and then stall hold
/// only what they sent, and the budget left over keeps serving ordinary small requests meanwhile.
struct IngestBodyReader: Sendable {
    enum Failure: Error, Sendable {
        case tooLarge
        case overBudget
        case timedOut
        case unreadable
    }

    let budget: BodyBudget
    let maxBodyBytes: Int
    /// The time limit, and the service that enforces it.
    let deadlines: BodyDeadlines

    var timeout: Duration { deadlines.timeout }

    /// The whole body; its bytes stay held by `reservation` until the caller releases it.
    func read(_ request: Request, holding reservation: BodyBudget.Reservation) async -> Result<ByteBuffer, Failure> {
        let declared = request.headers[.contentLength].flatMap { Int($0) }
        if let declared {
            if declared > maxBodyBytes { return .failure(.tooLarge) }
            if !budget.hasRoom(for: declared) { return .failure(.overBudget) }
        }
        let body = request.body
        let limit = maxBodyBytes
        let deadlines = deadlines
        let id = deadlines.begin()
        // The body arrives in a child task, so the request can cancel it: at the deadline `BodyDeadlines` wakes the
        // request, whose cancelling the read ends the connection's inbound stream (a stalled client is answered 408
        // and then disconnected rather than drained).
        return await withTaskGroup(of: Void.self) { group in
            group.addTask { deadlines.finish(id, await Self.collect(body, upTo: limit, holding: reservation)) }
            let outcome = await deadlines.outcome(of: id)
            group.cancelAll()
            return outcome
        }
    }

    private static func collect(_ body: RequestBody, upTo limit: Int, holding reservation: BodyBudget.Reservation) async
        -> Result<ByteBuffer, Failure>
    {
        var buffer = ByteBuffer()
        do {
            for try await var chunk in body {
                let total = buffer.readableBytes + chunk.readableBytes
                if total > limit { return .failure(.tooLarge) }
                if !reservation.hold(atLeast: total) { return .failure(.overBudget) }
                buffer.writeBuffer(&chunk)
            }
        } catch {
            return .failure(.unreadable)
        }
        // A cancelled read ends as if the body were complete: never hand on a truncated body.
        return Task.isCancelled ? .failure(.unreadable) : .success(buffer)
    }
}
