import Foundation
import Synchronization
import TEDPersistence

/// The one test clock of every background service: time moves only when a test advances it, so services run at
/// exact simulated times, and it tells the test when services are parked on it (sleeping), so a test waits for that
/// event instead of sleeping. The test's time limit bounds a service that never parks. Shared by the test targets
/// (the persistence services, the HTTP layer's body deadlines).
public final class ManualClock: ServiceClock {
    private struct Sleeper {
        let id: Int
        let until: Date
        let continuation: CheckedContinuation<Void, any Error>
    }

    /// A test waiting for `count` sleepers.
    private struct Watcher {
        let id: Int
        let count: Int
        let continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var now: Date
        var sleepers: [Sleeper] = []
        var watchers: [Watcher] = []
        var nextID = 0

        mutating func takeID() -> Int {
            defer { nextID += 1 }
            return nextID
        }

        /// The watchers whose count of sleepers is reached, removed.
        mutating func satisfiedWatchers() -> [Watcher] {
            let satisfied = watchers.filter { $0.count <= sleepers.count }
            watchers.removeAll { $0.count <= sleepers.count }
            return satisfied
        }
    }

    private let state: Mutex<State>

    public init(_ now: Date = Date(timeIntervalSince1970: 1_800_000_000)) { state = Mutex(State(now: now)) }

    public var now: Date { state.withLock { $0.now } }

    /// How many tasks sleep on this clock now.
    public var sleeperCount: Int { state.withLock { $0.sleepers.count } }

    public func sleep(until date: Date) async throws {
        let id = state.withLock { $0.takeID() }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let (result, satisfied) = state.withLock { state -> (Result<Void, any Error>?, [Watcher]) in
                    if Task.isCancelled { return (.failure(CancellationError()), []) }
                    if date <= state.now { return (.success(()), []) }
                    state.sleepers.append(Sleeper(id: id, until: date, continuation: continuation))
                    return (nil, state.satisfiedWatchers())
                }
                if let result { continuation.resume(with: result) }
                for watcher in satisfied { watcher.continuation.resume() }
            }
        } onCancel: {
            let sleeper = state.withLock { state -> Sleeper? in
                guard let index = state.sleepers.firstIndex(where: { $0.id == id }) else { return nil }
                return state.sleepers.remove(at: index)
            }
            sleeper?.continuation.resume(throwing: CancellationError())
        }
    }

    /// Moves to `date` and wakes every sleeper whose time has come.
    public func advance(to date: Date) {
        let due = state.withLock { state -> [Sleeper] in
            state.now = date
            let due = state.sleepers.filter { $0.until <= date }
            state.sleepers.removeAll { $0.until <= date }
            return due
        }
        for sleeper in due { sleeper.continuation.resume() }
    }

    public func advance(by duration: Duration) {
        advance(to: now.addingTimeInterval(duration.seconds))
    }

    /// Returns once `count` tasks sleep on this clock: after an `advance`, the services it woke have finished
    /// reacting and parked again. Throws when the test is cancelled (its time limit).
    public func waitForSleepers(_ count: Int = 1) async throws {
        let id = state.withLock { $0.takeID() }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let result = state.withLock { state -> Result<Void, any Error>? in
                    if Task.isCancelled { return .failure(CancellationError()) }
                    if state.sleepers.count >= count { return .success(()) }
                    state.watchers.append(Watcher(id: id, count: count, continuation: continuation))
                    return nil
                }
                if let result { continuation.resume(with: result) }
            }
        } onCancel: {
            let watcher = state.withLock { state -> Watcher? in
                guard let index = state.watchers.firstIndex(where: { $0.id == id }) else { return nil }
                return state.watchers.remove(at: index)
            }
            watcher?.continuation.resume(throwing: CancellationError())
        }
    }

    /// Advances by `duration` and waits until `count` tasks sleep again: one step of a service driven by the clock.
    public func step(by duration: Duration, sleepers count: Int = 1) async throws {
        advance(by: duration)
        try await waitForSleepers(count)
    }
}
