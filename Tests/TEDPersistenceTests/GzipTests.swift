import Foundation
import Testing
@testable import TEDPersistence

/// `Gzip.run` waits for gzip's exit on its termination handler; cancelling the waiting task stops gzip. (That the wait
/// lasts until gzip's output is complete is checked by GzipInflaterTests, which decompress what it wrote.)
@Suite struct GzipTests {
    /// gzip compressing /dev/zero never ends by itself: only the cancellation can end the wait.
    static let endless = ["-c", "/dev/zero"]

    @Test(.timeLimit(.minutes(1)))
    func cancellingARunningGzipStopsItAndTheWait() async throws {
        let pipe = Pipe()
        let run = Task { try await Gzip.run(Self.endless, output: pipe.fileHandleForWriting) }
        // Its first compressed byte: gzip is running.
        #expect(try pipe.fileHandleForReading.read(upToCount: 1)?.count == 1)
        run.cancel()
        await #expect(throws: BackupError("cancelled")) { try await run.value }
    }

    @Test(.timeLimit(.minutes(1)))
    func aGzipCancelledBeforeItsLaunchIsStoppedOnLaunch() async throws {
        let pipe = Pipe()
        let run = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return try await Gzip.run(Self.endless, output: pipe.fileHandleForWriting)
        }
        await #expect(throws: BackupError("cancelled")) { try await run.value }
    }
}
