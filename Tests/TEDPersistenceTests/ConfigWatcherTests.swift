import Foundation
import Logging
import ServiceLifecycle
import Testing
import TEDCore
@testable import TEDPersistence

@Suite struct ConfigWatcherTests {
    @Test func theFlagFollowsTheFileThenTheEnvironmentThenTheDefault() throws {
        #expect(try ConfigWatcher.resolve(environment: ["PERSISTENCE_ENABLED": "false"],
                                                          envFile: ["PERSISTENCE_ENABLED": "true"]) == (true, .envFile))
        #expect(try ConfigWatcher.resolve(environment: ["PERSISTENCE_ENABLED": "true"], envFile: [:]) == (true, .environment))
        #expect(try ConfigWatcher.resolve(environment: [:], envFile: [:]) == (false, .default))
        #expect(throws: SettingsError.self) {
            try ConfigWatcher.resolve(environment: [:], envFile: ["PERSISTENCE_ENABLED": "maybe"])
        }
    }

    /// The watcher re-reads the file at each poll of its clock, and only then: the test advances the clock one poll at
    /// a time and waits until the watcher is parked on it again.
    @Test(.timeLimit(.minutes(1)))
    func editingTheEnvFileFlipsTheFlagWithoutRestart() async throws {
        let directory = try TestServer.temporaryDirectory()
        let path = directory.appendingPathComponent(".env").path
        try "PORT=8000\nPERSISTENCE_ENABLED=false\n".write(toFile: path, atomically: true, encoding: .utf8)
        let flag = PersistenceFlag.forTests(enabled: false)
        let clock = ManualClock()
        let watcher = ConfigWatcher(path: path, environment: [:], flag: flag, pollInterval: .seconds(1),
                                    clock: clock, listenForSIGHUP: false, logger: Logger(label: "test"))
        let group = ServiceGroup(configuration: .init(services: [.init(service: watcher)], logger: Logger(label: "test")))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            try await clock.waitForSleepers()
            // The way operators do it: sed -i on the file.
            try "PORT=8000\nPERSISTENCE_ENABLED=true\n".write(toFile: path, atomically: true, encoding: .utf8)
            #expect(!flag.isEnabled, "applied before the poll")
            try await clock.step(by: .seconds(1))
            #expect(flag.isEnabled)
            #expect(flag.snapshot.source == .envFile)
            // A typo is ignored: the flag keeps its value.
            try "PERSISTENCE_ENABLED=ture\n".write(toFile: path, atomically: true, encoding: .utf8)
            try await clock.step(by: .seconds(1))
            #expect(flag.isEnabled)
            try "PERSISTENCE_ENABLED=false\n".write(toFile: path, atomically: true, encoding: .utf8)
            try await clock.step(by: .seconds(1))
            #expect(!flag.isEnabled)
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
        #expect(flag.snapshot.changes["env_file"] == 2)
    }
}
