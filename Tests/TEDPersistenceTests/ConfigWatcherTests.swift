import Foundation
import Logging
import ServiceLifecycle
import Testing
import TEDCore
@testable import TEDPersistence

@Suite struct ConfigWatcherTests {
    @Test func theFlagFollowsTheFileThenTheEnvironmentThenTheDefault() throws {
        #expect(try ConfigWatcher<ContinuousClock>.resolve(environment: ["PERSISTENCE_ENABLED": "false"],
                                                          envFile: ["PERSISTENCE_ENABLED": "true"]) == (true, .envFile))
        #expect(try ConfigWatcher<ContinuousClock>.resolve(environment: ["PERSISTENCE_ENABLED": "true"], envFile: [:]) == (true, .environment))
        #expect(try ConfigWatcher<ContinuousClock>.resolve(environment: [:], envFile: [:]) == (false, .default))
        #expect(throws: SettingsError.self) {
            try ConfigWatcher<ContinuousClock>.resolve(environment: [:], envFile: ["PERSISTENCE_ENABLED": "maybe"])
        }
    }

    @Test func editingTheEnvFileFlipsTheFlagWithoutRestart() async throws {
        let directory = try TestServer.temporaryDirectory()
        let path = directory.appendingPathComponent(".env").path
        try "PORT=8000\nPERSISTENCE_ENABLED=false\n".write(toFile: path, atomically: true, encoding: .utf8)
        let flag = PersistenceFlag.forTests(enabled: false)
        let watcher = ConfigWatcher(path: path, environment: [:], flag: flag, pollInterval: .milliseconds(100),
                                    clock: ContinuousClock(), listenForSIGHUP: false, logger: Logger(label: "test"))
        let group = ServiceGroup(configuration: .init(services: [.init(service: watcher)], logger: Logger(label: "test")))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            try await Task.sleep(for: .milliseconds(300))
            // The way operators do it: sed -i on the file.
            try "PORT=8000\nPERSISTENCE_ENABLED=true\n".write(toFile: path, atomically: true, encoding: .utf8)
            #expect(try await waitFor { flag.isEnabled })
            #expect(flag.snapshot.source == .envFile)
            // A typo is ignored: the flag keeps its value.
            try "PERSISTENCE_ENABLED=ture\n".write(toFile: path, atomically: true, encoding: .utf8)
            try await Task.sleep(for: .milliseconds(400))
            #expect(flag.isEnabled)
            try "PERSISTENCE_ENABLED=false\n".write(toFile: path, atomically: true, encoding: .utf8)
            #expect(try await waitFor { !flag.isEnabled })
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
        #expect(flag.snapshot.changes["env_file"] == 2)
    }

    /// Polls `condition` for up to five seconds: operators are promised two (a 1 s poll), and the margin is for a
    /// machine the rest of the suite keeps busy.
    func waitFor(_ condition: () -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now + .seconds(5)
        while ContinuousClock.now < deadline {
            if condition() { return true }
            try await Task.sleep(for: .milliseconds(20))
        }
        return condition()
    }
}
