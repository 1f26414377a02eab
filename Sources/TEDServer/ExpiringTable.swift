import DequeModule

/// A table of per-client state that forgets a client once it has been idle for `idle`, and the least recently seen
/// one when it would grow past `capacity`, at O(1) amortised cost a request. (Scanning the whole table for idle
/// entries under the rate limiter's lock cost O(clients) a request once many clients were active.)
///
/// Each key sits in `order` exactly once, with the time it was queued. Expiry looks only at the front: an entry
/// touched since it was queued goes to the back with its new time instead of being removed, which happens at most
/// once an idle period per active client, so the work is paid for by the requests that touched it.
struct ExpiringTable<Value> {
    typealias Instant = ContinuousClock.Instant

    private struct Entry {
        var value: Value
        var touched: Instant
    }

    let idle: Duration
    let capacity: Int
    private var entries: [String: Entry] = [:]
    private var order: Deque<(key: String, queued: Instant)> = []

    init(idle: Duration, capacity: Int) {
        precondition(capacity >= 1, "an expiring table holds at least one entry")
        self.idle = idle
        self.capacity = capacity
    }

    var count: Int { entries.count }

    /// The value of `key`, nil when absent or forgotten. Forgets what has been idle too long first.
    mutating func value(for key: String, now: Instant) -> Value? {
        expire(now: now)
        return entries[key]?.value
    }

    /// Sets the value of `key` and marks it seen at `now`.
    mutating func set(_ value: Value, for key: String, now: Instant) {
        if entries[key] != nil {
            entries[key] = Entry(value: value, touched: now)
            return
        }
        if entries.count >= capacity { evictLeastRecentlySeen() }
        entries[key] = Entry(value: value, touched: now)
        order.append((key, now))
    }

    private mutating func expire(now: Instant) {
        while let front = order.first, now - front.queued >= idle {
            order.removeFirst()
            guard let entry = entries[front.key] else { continue }
            if now - entry.touched >= idle {
                entries[front.key] = nil
            } else {
                order.append((front.key, entry.touched))
            }
        }
    }

    private mutating func evictLeastRecentlySeen() {
        while let front = order.popFirst() {
            guard let entry = entries[front.key] else { continue }
            if entry.touched > front.queued {
                order.append((front.key, entry.touched))  // seen since it was queued: not the least recent
            } else {
                entries[front.key] = nil
                return
            }
        }
    }
}
