import Foundation
import Testing
@testable import TEDCore

/// New data under the id of a game whose rug was seen is a second round reusing the id; an exact re-send is not.
@Suite("GameTracker: updates after a rug")
struct ClosedGameConflictTests {
    typealias F = TrackerFixtures

    static func state(_ gameID: String, _ tick: Int, rugged: Bool = false) -> IngestEvent {
        .gameState(F.state(gameID, tick, 1 + Double(tick) / 100, rugged: rugged))
    }

    @Test func aNewTickOrPriceAfterTheRugIsAConflictNamingItsEvent() throws {
        var tracker = F.tracker()
        _ = tracker.run("g1", ticks: 0...50, ruggedAt: 50)
        let next = try #require(tracker.closedGameConflict(in: [Self.state("g2", 0), Self.state("g1", 51)]))
        #expect(next == ClosedGameConflict(index: 1, gameID: "g1", rugTick: 50))
        // A second round starting again at tick 0, at another price.
        #expect(tracker.closedGameConflict(in: [.gameState(F.state("g1", 0, 7.5))])?.index == 0)
    }

    @Test func anExactReSendIsNoConflict() {
        var tracker = F.tracker()
        _ = tracker.run("g1", ticks: 0...50, ruggedAt: 50)
        #expect(tracker.closedGameConflict(in: [Self.state("g1", 10), Self.state("g1", 50, rugged: true)]) == nil)
        #expect(tracker.closedGameConflict(in: [.prediction(F.prediction("g1", at: 60, end: 90))]) == nil)
    }

    @Test func aRugEarlierInTheSameRequestCounts() {
        let tracker = F.tracker()
        let events = [Self.state("g1", 0), Self.state("g1", 1, rugged: true), Self.state("g1", 1, rugged: true), Self.state("g1", 2)]
        #expect(tracker.closedGameConflict(in: events) == ClosedGameConflict(index: 3, gameID: "g1", rugTick: 1))
        #expect(tracker.closedGameConflict(in: Array(events.prefix(3))) == nil)
    }

    @Test func anInferredEndIsNoConflict() {
        var tracker = F.tracker()
        _ = tracker.run("g1", ticks: 0...5)
        _ = tracker.run("g2", ticks: 0...5)
        // Its rug was never seen: a late update is ignored, as before.
        #expect(tracker.closedGameConflict(in: [Self.state("g1", 6)]) == nil)
    }
}
