/// A fixed-capacity buffer that keeps the newest `capacity` elements. Storage is allocated once and never
/// grows: appending to a full buffer overwrites the oldest element.
public struct RingBuffer<Element> {
    public let capacity: Int
    private var storage: ContiguousArray<Element?>
    private var head = 0  // index of the oldest element
    public private(set) var count = 0
    /// Elements ever appended, including those overwritten since.
    public private(set) var totalAppended = 0

    public init(capacity: Int) {
        precondition(capacity > 0, "a ring buffer needs a capacity of at least 1")
        self.capacity = capacity
        storage = ContiguousArray(repeating: nil, count: capacity)
    }

    public var isEmpty: Bool { count == 0 }

    public mutating func append(_ element: Element) {
        totalAppended += 1
        if count < capacity {
            storage[(head + count) % capacity] = element
            count += 1
        } else {
            storage[head] = element
            head = (head + 1) % capacity
        }
    }

    public mutating func append(contentsOf elements: some Sequence<Element>) {
        for element in elements { append(element) }
    }

    /// The newest `limit` elements, oldest first.
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
    @discardableResult
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
