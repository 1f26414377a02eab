import Foundation
import Logging
import ServiceLifecycle
import TEDCore
import UnixSignals
#if canImport(Glibc)
import Glibc
#endif

/// Re-reads `PERSISTENCE_ENABLED` from the `.env` file when the file changes (polled every `pollInterval`)
/// and on SIGHUP, and applies it to the flag. The other settings need a restart; a bad value in the file is
/// logged and ignored, so a typo never takes the service down.
public final class ConfigWatcher: Service, Sendable {
    let path: String
    let environment: [String: String]
    let flag: PersistenceFlag
    let pollInterval: Duration
    let clock: any ServiceClock
    let logger: Logger
    let listenForSIGHUP: Bool

    public init(path: String, environment: [String: String], flag: PersistenceFlag, pollInterval: Duration = .seconds(1),
                clock: any ServiceClock, listenForSIGHUP: Bool = true, logger: Logger) {
        self.path = path
        self.environment = environment
        self.flag = flag
        self.pollInterval = pollInterval
        self.clock = clock
        self.listenForSIGHUP = listenForSIGHUP
        self.logger = logger
    }

    /// The value the flag should have given the file and the environment, and where it comes from.
    public static func resolve(environment: [String: String], envFile: [String: String]) throws(SettingsError) -> (Bool, FlagSource) {
        let name = "PERSISTENCE_ENABLED"
        if let raw = envFile[name], !raw.trimmingCharacters(in: .whitespaces).isEmpty {
            return (try ValueReader(values: envFile).bool(name, default: false), .envFile)
        }
        if let raw = environment[name], !raw.trimmingCharacters(in: .whitespaces).isEmpty {
            return (try ValueReader(values: environment).bool(name, default: false), .environment)
        }
        return (false, .default)
    }

    public func run() async throws {
        await withTaskGroup(of: Void.self) { group in
            if listenForSIGHUP {
                group.addTask { [self] in
                    let signals = await UnixSignalsSequence(trapping: .sighup)
                    for await _ in signals.cancelOnGracefulShutdown() {
                        self.logger.info("SIGHUP received: re-reading configuration")
                        self.reload(reason: "SIGHUP", trigger: .sighup)
                    }
                }
            }
            group.addTask { [self] in
                // Reconcile once at start: the file may have changed since the settings were read.
                var lastSeen = self.fingerprint()
                self.reload(reason: "watch started")
                while !Task.isShuttingDownGracefully && !Task.isCancelled {
                    do {
                        try await cancelWhenGracefulShutdown { try await self.clock.sleep(for: self.pollInterval) }
                    } catch {
                        break
                    }
                    let current = self.fingerprint()
                    if current != lastSeen {
                        lastSeen = current
                        self.reload(reason: "file changed")
                    }
                }
            }
            await group.waitForAll()
        }
    }

    /// Applies the flag from the file and environment now; returns whether the flag changed. A change that `trigger`
    /// caused (SIGHUP) is recorded with it as its source, so the flag history tells a signal from a saved file; a
    /// re-read that changes nothing keeps naming where the value comes from.
    @discardableResult
    public func reload(reason: String, trigger: FlagSource? = nil) -> Bool {
        do {
            let file = try DotEnv.load(path: path)
            let (enabled, source) = try Self.resolve(environment: environment, envFile: file)
            let changed = flag.set(enabled, source: flag.isEnabled != enabled ? trigger ?? source : source)
            ConfigReloads.record(result: "ok")
            logger.log(level: changed ? .info : .debug, "Configuration re-read",
                       metadata: ["reason": "\(reason)", "path": "\(path)", "flag_changed": "\(changed)"])
            return changed
        } catch {
            ConfigReloads.record(result: "error")
            logger.error("Configuration not applied: \(error)", metadata: ["reason": "\(reason)", "path": "\(path)"])
            return false
        }
    }

    /// Changes when the file is written, replaced, created or removed.
    private func fingerprint() -> String {
        var info = stat()
        guard stat(path, &info) == 0 else { return "missing" }
        return "\(info.st_ino):\(info.st_size):\(info.st_mtim.tv_sec):\(info.st_mtim.tv_nsec)"
    }
}
