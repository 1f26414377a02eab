/// A fixed-capacity buffer that keeps the newest `capacity` elements. Storage is allocated once and never
/// grows: appending to a full buffer overwrites the oldest element. Inlinable, so it is specialised where it is
/// used: it sits on the ingest hot path.
public struct RingBuffer<Element> {
    public let capacity: Int
    @usableFromInline var storage: ContiguousArray<Element?>
    @usableFromInline var head = 0  // index of the oldest element
    @usableFromInline var storedCount = 0
    @usableFromInline var appended = 0

    @inlinable public var count: Int { storedCount }
    /// Elements ever appended, including those overwritten since.
    @inlinable public var totalAppended: Int { appended }

    @inlinable
    public init(capacity: Int) {
        precondition(capacity > 0, "a ring buffer needs a capacity of at least 1")
        self.capacity = capacity
        storage = ContiguousArray(repeating: nil, count: capacity)
    }

    @inlinable
    public var isEmpty: Bool { count == 0 }

    @inlinable
    public mutating func append(_ element: Element) {
        appended += 1
        if count < capacity {
            storage[(head + count) % capacity] = element
            storedCount += 1
        } else {
            storage[head] = element
            head = (head + 1) % capacity
        }
    }

    @inlinable
    public mutating func append(contentsOf elements: some Sequence<Element>) {
        for element in elements { append(element) }
    }

    /// The newest `limit` elements, oldest first.
    @inlinable
    public func latest(_ limit: Int) -> [Element] {
        let n = max(0, min(limit, count))
        var result: [Element] = []
        result.reserveCapacity(n)
        for offset in (count - n)..<count {
            result.append(storage[(head + offset) % capacity]!)
        }
        return result
    }

    /// Replaces the newest element matching `predicate`, looking back at most `depth` elements.
    /// Returns whether one was found. Used to resolve a side bet that is still in memory.
    @inlinable @discardableResult
    public mutating func replaceLast(lookingBack depth: Int, where predicate: (Element) -> Bool, with element: Element) -> Bool {
        let n = min(depth, count)
        var offset = count - 1
        while offset >= count - n {
            let index = (head + offset) % capacity
            if predicate(storage[index]!) {
                storage[index] = element
                return true
            }
            offset -= 1
        }
        return false
    }
}

extension RingBuffer: Sendable where Element: Sendable {}
