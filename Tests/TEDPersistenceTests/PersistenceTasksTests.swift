import Foundation
import Testing
@testable import TEDPersistence
import TEDTestSupport

/// `Background persistence tasks started` and `manager.running` follow the tasks' real state: the loop alive and
/// the flag on.
@Suite struct PersistenceTasksTests {
    static let started = "Background persistence tasks started"

    @Test func aStartWithPersistenceOffLogsNothingUntilTheFlagTurnsOn() {
        let recorder = LogRecorder()
        let flag = PersistenceFlag.forTests(enabled: false)
        let tasks = PersistenceTasks(flag: flag, statistics: FlushStatistics(), logger: recorder.logger)
        tasks.loopStarted()
        #expect(recorder.count(of: Self.started) == 0)
        #expect(!tasks.isRunning)
        flag.set(true, source: .envFile)
        #expect(recorder.count(of: Self.started) == 1)
        #expect(tasks.isRunning)
        flag.set(true, source: .api)  // no change, no line
        #expect(recorder.count(of: Self.started) == 1)
        flag.set(false, source: .envFile)
        #expect(!tasks.isRunning)
        flag.set(true, source: .envFile)
        #expect(recorder.count(of: Self.started) == 2)
        tasks.loopStopped()
        #expect(!tasks.isRunning)
        flag.set(false, source: .envFile)
        flag.set(true, source: .envFile)
        #expect(recorder.count(of: Self.started) == 2)  // the loop is gone: nothing started
    }

    @Test func aStartWithPersistenceOnLogsOnce() {
        let recorder = LogRecorder()
        let flag = PersistenceFlag.forTests(enabled: true)
        let statistics = FlushStatistics()
        let tasks = PersistenceTasks(flag: flag, statistics: statistics, logger: recorder.logger)
        #expect(!tasks.isRunning)  // the loop has not started
        tasks.loopStarted()
        #expect(recorder.messages == [Self.started])
        #expect(tasks.isRunning)
        #expect(PersistenceTasks.running(statistics: statistics, flag: flag))
        tasks.loopStopped()
        #expect(!statistics.snapshot.running)
    }

    /// The guide shows the line after `Persistence is ENABLED. …`: observers run after the flag's own log lines.
    @Test func theLineFollowsTheFlagsOwnLines() {
        let recorder = LogRecorder()
        let flag = PersistenceFlag(enabled: false, source: .default, backendName: "MongoDB", logger: recorder.logger)
        let tasks = PersistenceTasks(flag: flag, statistics: FlushStatistics(), logger: recorder.logger)
        tasks.loopStarted()
        flag.set(true, source: .envFile)
        #expect(recorder.messages == [
            "Persistence flag changed", "Persistence is ENABLED. Data will be saved to MongoDB.", Self.started,
        ])
        tasks.loopStopped()
    }
}
