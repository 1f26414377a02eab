import Foundation
import Logging
import Synchronization

/// Keeps the messages logged through it, in order, and lets a test wait for a message: the log lines a service
/// writes anyway are the events a test waits on, instead of polling its state. The test's time limit bounds a wait
/// for a line that never comes.
public final class LogRecorder: Sendable {
    private struct Waiter {
        let id: UUID
        let message: String
        let count: Int
        let continuation: CheckedContinuation<Void, Never>
    }

    private let state = Mutex<(lines: [String], waiters: [Waiter])>(([], []))

    public init() {}

    public var messages: [String] { state.withLock { $0.lines } }

    public func count(of message: String) -> Int { messages.filter { $0 == message }.count }

    public var logger: Logger { Logger(label: "test") { _ in Handler(recorder: self) } }

    /// Returns once `message` has been logged `count` times in all, or the test is cancelled (its time limit).
    public func waitFor(_ message: String, count: Int = 1) async {
        let id = UUID()
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let done = state.withLock { state -> Bool in
                    if Task.isCancelled || state.lines.filter({ $0 == message }).count >= count { return true }
                    state.waiters.append(Waiter(id: id, message: message, count: count, continuation: continuation))
                    return false
                }
                if done { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { state -> Waiter? in
                guard let index = state.waiters.firstIndex(where: { $0.id == id }) else { return nil }
                return state.waiters.remove(at: index)
            }
            waiter?.continuation.resume()
        }
    }

    private func append(_ line: String) {
        let ready = state.withLock { state -> [Waiter] in
            state.lines.append(line)
            let lines = state.lines
            let seen = { (waiter: Waiter) in lines.filter { $0 == waiter.message }.count >= waiter.count }
            let ready = state.waiters.filter(seen)
            state.waiters.removeAll(where: seen)
            return ready
        }
        for waiter in ready { waiter.continuation.resume() }
    }

    struct Handler: LogHandler {
        let recorder: LogRecorder
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            recorder.append(event.message.description)
        }
    }
}
