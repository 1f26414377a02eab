import TEDCore

/// How much of a game its stored tick samples cover, computed by streaming the game's ticks in ascending order
/// (`add`, then `finish`): memory stays bounded whatever the length of the game (at most `maxListedGaps` gaps are
/// kept; the rest are only noted).
///
/// The tracker stores each distinct tick `t` with `t % STREAM_SAMPLE_EVERY_TICKS == 0` once (`GameTracker`), so a
/// complete recording holds every tick of that grid from 0, the game's first tick, to its end tick. A recording
/// joined mid-game therefore starts with a gap, as the game's own `completeness` counts from tick 0.
public struct RecordingCompleteness: Sendable, Equatable {
    public static let maxListedGaps = 100

    /// Grid ticks missing from the recording, both ends included.
    public struct Gap: Sendable, Equatable {
        public var fromTick: Int
        public var toTick: Int

        public init(fromTick: Int, toTick: Int) {
            self.fromTick = fromTick
            self.toTick = toTick
        }
    }

    public let sampleEveryTicks: Int
    /// The lowest tick stored or known to the stored game.
    public private(set) var firstTickSeen: Int?
    /// The game's end tick, or its highest stored tick when that is higher (or the game is not stored).
    public private(set) var endTick: Int?
    /// Stored ticks on the grid (every stored tick, unless the sampling setting changed since).
    public private(set) var ticksStored = 0
    public private(set) var gaps: [Gap] = []
    public private(set) var gapsTruncated = false
    private var nextExpected = 0
    private var finished = false

    /// `firstTickSeen` and `endTick` of the stored game, when it is stored: the stored ticks may only widen them.
    public init(sampleEveryTicks: Int, firstTickSeen: Int? = nil, endTick: Int? = nil) {
        self.sampleEveryTicks = max(1, sampleEveryTicks)
        self.firstTickSeen = firstTickSeen
        self.endTick = endTick
    }

    /// The next stored tick, in ascending order.
    public mutating func add(_ tick: Int) {
        precondition(!finished, "add after finish")
        firstTickSeen = min(firstTickSeen ?? tick, tick)
        endTick = max(endTick ?? tick, tick)
        guard tick % sampleEveryTicks == 0, tick >= nextExpected else { return }
        ticksStored += 1
        if tick > nextExpected { note(Gap(fromTick: nextExpected, toTick: tick - sampleEveryTicks)) }
        nextExpected = tick + sampleEveryTicks
    }

    /// Notes the gap after the last stored tick, up to the end tick.
    public mutating func finish() {
        guard !finished else { return }
        finished = true
        guard let endTick else { return }
        let lastExpected = endTick - endTick % sampleEveryTicks
        if nextExpected <= lastExpected { note(Gap(fromTick: nextExpected, toTick: lastExpected)) }
    }

    /// Grid ticks from 0 to the end tick.
    public var ticksExpected: Int { endTick.map { $0 / sampleEveryTicks + 1 } ?? 0 }

    /// `ticksStored / ticksExpected`, 0–1; nil when nothing is known of the game.
    public var completeness: Double? {
        ticksExpected > 0 ? Double(ticksStored) / Double(ticksExpected) : nil
    }

    private mutating func note(_ gap: Gap) {
        if gaps.count < Self.maxListedGaps {
            gaps.append(gap)
        } else {
            gapsTruncated = true
        }
    }

    public var json: JSONValue {
        [
            "first_tick_seen": firstTickSeen.map { JSONValue($0) } ?? .null,
            "end_tick": endTick.map { JSONValue($0) } ?? .null,
            "ticks_expected": JSONValue(ticksExpected),
            "ticks_stored": JSONValue(ticksStored),
            "completeness": JSONValue(completeness),
            "gaps": .array(gaps.map { ["from_tick": JSONValue($0.fromTick), "to_tick": JSONValue($0.toTick)] }),
            "gaps_truncated": .bool(gapsTruncated),
        ]
    }
}
