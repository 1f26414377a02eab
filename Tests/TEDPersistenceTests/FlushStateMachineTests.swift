import Testing
@testable import TEDPersistence

/// The flush loop's decisions, driven directly: no store, no clock, no sleep.
@Suite struct FlushStateMachineTests {
    @Test func aRoundRunsAtEachIntervalWhileTheFlagIsOn() {
        var machine = FlushStateMachine(interval: .seconds(30))
        #expect(machine.started() == .wait(.seconds(30)))
        #expect(machine.woke(flagOn: true) == .flush)
        #expect(machine.flushFinished(succeeded: true) == .wait(.seconds(30)))
        #expect(machine.woke(flagOn: false) == .wait(.seconds(30)))  // off: nothing is written
    }

    @Test func failedRoundsBackOffButNeverWaitLongerThanAnInterval() {
        var machine = FlushStateMachine(interval: .seconds(3))
        var waits: [FlushStateMachine.Action] = []
        for _ in 0..<5 {
            #expect(machine.woke(flagOn: true) == .flush)
            waits.append(machine.flushFinished(succeeded: false))
        }
        #expect(waits == [.wait(.milliseconds(500)), .wait(.seconds(1)), .wait(.seconds(2)), .wait(.seconds(3)), .wait(.seconds(3))])
        // One success resets the backoff.
        #expect(machine.woke(flagOn: true) == .flush)
        #expect(machine.flushFinished(succeeded: true) == .wait(.seconds(3)))
        #expect(machine.backoff.consecutiveFailures == 0)
    }

    @Test func shutdownDrainsThenStopsReportingWhatIsLost() {
        var machine = FlushStateMachine(interval: .seconds(30))
        #expect(machine.woke(flagOn: true) == .flush)
        #expect(machine.shutdownBegan(flagOn: true) == .drain(replay: true))
        // Whatever else arrives during the drain changes nothing.
        #expect(machine.woke(flagOn: true) == FlushStateMachine.Action.none)
        #expect(machine.flushFinished(succeeded: false) == FlushStateMachine.Action.none)
        #expect(machine.shutdownBegan(flagOn: true) == FlushStateMachine.Action.none)
        #expect(machine.drained(remaining: 7) == .stop(lost: 7))
        #expect(machine.drained(remaining: 0) == FlushStateMachine.Action.none)
    }

    /// A round writes what was pending when it began; when a full batch arrived meanwhile the store is behind ingest,
    /// and the next round starts at once. A failed round backs off whatever is pending.
    @Test func aRoundThatLeftAFullBatchBehindIsFollowedAtOnce() {
        var machine = FlushStateMachine(interval: .seconds(1))
        #expect(machine.woke(flagOn: true) == .flush)
        #expect(machine.flushFinished(succeeded: true, behind: true) == .flush)
        #expect(machine.flushFinished(succeeded: true, behind: false) == .wait(.seconds(1)))
        #expect(machine.woke(flagOn: true) == .flush)
        #expect(machine.flushFinished(succeeded: false, behind: true) == .wait(.milliseconds(500)))
    }

    @Test func withTheFlagOffShutdownOnlySpools() {
        var machine = FlushStateMachine(interval: .seconds(30))
        #expect(machine.shutdownBegan(flagOn: false) == .drain(replay: false))
        #expect(machine.drained(remaining: 0) == .stop(lost: 0))
    }
}
