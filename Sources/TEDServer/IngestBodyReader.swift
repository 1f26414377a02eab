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
        let body = request.body
        if let declared {
            if declared > maxBodyBytes { return await Self.refuseUnread(body, .tooLarge) }
            if !budget.hasRoom(for: declared) { return await Self.refuseUnread(body, .overBudget) }
        }
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

    /// Refuses a body before reading any of it (its announced length is too large, or cannot fit the budget now).
    private static func refuseUnread(_ body: RequestBody, _ failure: Failure) async -> Result<ByteBuffer, Failure> {
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                var chunks = body.makeAsyncIterator()
                await stopReading(&chunks)
            }
        }
        return .failure(failure)
    }

    private static func collect(_ body: RequestBody, upTo limit: Int, holding reservation: BodyBudget.Reservation) async
        -> Result<ByteBuffer, Failure>
    {
        var buffer = ByteBuffer()
        var chunks = body.makeAsyncIterator()
        do {
            while var chunk = try await chunks.next() {
                let total = buffer.readableBytes + chunk.readableBytes
                guard total <= limit, reservation.hold(atLeast: total) else {
                    await stopReading(&chunks)
                    return .failure(total > limit ? .tooLarge : .overBudget)
                }
                buffer.writeBuffer(&chunk)
            }
        } catch {
            return .failure(.unreadable)
        }
        // A cancelled read ends as if the body were complete: never hand on a truncated body.
        return Task.isCancelled ? .failure(.unreadable) : .success(buffer)
    }

    /// Stops the connection reading a refused body, as a read cancelled at the deadline does: the client gets the
    /// answer and then the end of the connection. Left to the server, the rest of the body was read and dropped after
    /// the answer for as long as the client sent or stalled, and what it buffered for stalled uploads refused for the
    /// budget grew with their number (`scripts/faults` case 8 with 600 uploads, a 64 MiB budget: peak RSS 48 → 270 MiB,
    /// 187 MiB with this). A read in a cancelled task ends the connection's inbound stream; only a child task of the
    /// read calls this, so cancelling it cancels nothing else.
    private static func stopReading(_ chunks: inout RequestBody.AsyncIterator) async {
        withUnsafeCurrentTask { $0?.cancel() }
        _ = try? await chunks.next()
    }
}
