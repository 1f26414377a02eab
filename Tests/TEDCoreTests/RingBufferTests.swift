import Testing
@testable import TEDBuffers

@Suite("RingBuffer")
struct RingBufferTests {
    @Test func startsEmpty() {
        let buffer = RingBuffer<Int>(capacity: 3)
        #expect(buffer.isEmpty)
        #expect(buffer.count == 0)
        #expect(buffer.capacity == 3)
        #expect(buffer.totalAppended == 0)
        #expect(buffer.latest(5) == [])
    }

    @Test func fillsUpToCapacity() {
        var buffer = RingBuffer<Int>(capacity: 3)
        buffer.append(1)
        buffer.append(2)
        #expect(buffer.count == 2)
        #expect(!buffer.isEmpty)
        #expect(buffer.latest(3) == [1, 2])
        buffer.append(3)
        #expect(buffer.count == 3)
        #expect(buffer.latest(3) == [1, 2, 3])
    }

    @Test func neverGrowsAndKeepsTheNewest() {
        var buffer = RingBuffer<Int>(capacity: 3)
        for value in 1...10 {
            buffer.append(value)
            #expect(buffer.count == min(value, 3))
            #expect(buffer.capacity == 3)
        }
        #expect(buffer.latest(3) == [8, 9, 10])
        #expect(buffer.totalAppended == 10)
    }

    @Test func overwriteOrderAcrossManyWraps() {
        var buffer = RingBuffer<Int>(capacity: 5)
        for value in 0..<1003 {
            buffer.append(value)
            #expect(buffer.latest(5) == Array(max(0, value - 4)...value))
        }
    }

    @Test func latestIsOldestFirstAndClamped() {
        var buffer = RingBuffer<String>(capacity: 4)
        buffer.append(contentsOf: ["a", "b", "c", "d", "e", "f"])
        #expect(buffer.latest(1) == ["f"])
        #expect(buffer.latest(2) == ["e", "f"])
        #expect(buffer.latest(4) == ["c", "d", "e", "f"])
        #expect(buffer.latest(100) == ["c", "d", "e", "f"])
        #expect(buffer.latest(Int.max) == ["c", "d", "e", "f"])
        #expect(buffer.latest(0) == [])
        #expect(buffer.latest(-3) == [])
    }

    @Test func latestWithFewerElementsThanRequested() {
        var buffer = RingBuffer<Int>(capacity: 10)
        buffer.append(contentsOf: [7, 8])
        #expect(buffer.latest(5) == [7, 8])
    }

    @Test func capacityOne() {
        var buffer = RingBuffer<Int>(capacity: 1)
        buffer.append(1)
        buffer.append(2)
        #expect(buffer.count == 1)
        #expect(buffer.latest(10) == [2])
        let replaced1 = buffer.replaceLast(lookingBack: 5, where: { $0 == 2 }, with: 20)
        #expect(replaced1)
        #expect(buffer.latest(1) == [20])
    }

    @Test func replaceLastReplacesTheNewestMatch() {
        var buffer = RingBuffer<Int>(capacity: 5)
        buffer.append(contentsOf: [1, 2, 1, 2, 3, 2, 4])  // holds [1, 2, 3, 2, 4]
        let replaced2 = buffer.replaceLast(lookingBack: 5, where: { $0 == 2 }, with: 20)
        #expect(replaced2)
        #expect(buffer.latest(5) == [1, 2, 3, 20, 4])
        let replaced3 = buffer.replaceLast(lookingBack: 5, where: { $0 == 2 }, with: 21)
        #expect(replaced3)
        #expect(buffer.latest(5) == [1, 21, 3, 20, 4])
        #expect(buffer.count == 5)
        #expect(buffer.totalAppended == 7)
    }

    @Test func replaceLastHonoursTheDepth() {
        var buffer = RingBuffer<Int>(capacity: 5)
        buffer.append(contentsOf: [9, 1, 2, 3, 4, 5])  // holds [1, 2, 3, 4, 5]
        let replaced4 = buffer.replaceLast(lookingBack: 2, where: { $0 == 3 }, with: 30)
        #expect(!replaced4)
        #expect(buffer.latest(5) == [1, 2, 3, 4, 5])
        let replaced5 = buffer.replaceLast(lookingBack: 3, where: { $0 == 3 }, with: 30)
        #expect(replaced5)
        #expect(buffer.latest(5) == [1, 2, 30, 4, 5])
        // Deeper than the count looks at everything, and never at overwritten elements.
        let replaced6 = buffer.replaceLast(lookingBack: 100, where: { $0 == 1 }, with: 10)
        #expect(replaced6)
        let replaced7 = buffer.replaceLast(lookingBack: 100, where: { $0 == 9 }, with: 90)
        #expect(!replaced7)
        #expect(buffer.latest(5) == [10, 2, 30, 4, 5])
        let replaced8 = buffer.replaceLast(lookingBack: 0, where: { _ in true }, with: 0)
        #expect(!replaced8)
        let replaced9 = buffer.replaceLast(lookingBack: -1, where: { _ in true }, with: 0)
        #expect(!replaced9)
        #expect(buffer.latest(5) == [10, 2, 30, 4, 5])
    }

    @Test func replaceLastOnAnEmptyOrPartialBuffer() {
        var buffer = RingBuffer<Int>(capacity: 4)
        let replaced10 = buffer.replaceLast(lookingBack: 4, where: { _ in true }, with: 1)
        #expect(!replaced10)
        #expect(buffer.isEmpty)
        buffer.append(contentsOf: [1, 2])
        let replaced11 = buffer.replaceLast(lookingBack: 4, where: { $0 == 1 }, with: 11)
        #expect(replaced11)
        #expect(buffer.latest(4) == [11, 2])
        buffer.append(3)
        #expect(buffer.latest(4) == [11, 2, 3])
    }

    @Test func replacingDoesNotDisturbLaterAppends() {
        var buffer = RingBuffer<Int>(capacity: 3)
        buffer.append(contentsOf: [1, 2, 3, 4])
        buffer.replaceLast(lookingBack: 3, where: { $0 == 2 }, with: 22)
        buffer.append(5)
        #expect(buffer.latest(3) == [3, 4, 5])
        buffer.append(6)
        #expect(buffer.latest(3) == [4, 5, 6])
    }
}
