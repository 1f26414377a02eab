import Foundation
import Synchronization
import Logging
import ServiceLifecycle
import TEDStore

/// Writes what is pending every `interval`, in batches of `batchSize`, while the flag is on. On a failure the
/// batch goes back to the queue and the next attempt waits with backoff; ingest is never blocked. On graceful
/// shutdown it drains what is pending, bounded by `shutdownGrace`.
public final class FlushScheduler<C: Clock>: Service, Sendable where C.Duration == Duration {
    let ingestor: Ingestor
    let writer: BatchWriter
    let spool: Spool?
    let interval: Duration
    let batchSize: Int
    let shutdownGrace: Duration
    let clock: C
    let logger: Logger
    public let statistics: FlushStatistics
    private let wakeup = Wakeup()
    private let spilling = Atomic<Bool>(false)

    public init(ingestor: Ingestor, store: any DocumentStore, interval: Duration, batchSize: Int, shutdownGrace: Duration,
                clock: C, statistics: FlushStatistics = FlushStatistics(), spool: Spool? = nil, logger: Logger) {
        self.ingestor = ingestor
        writer = BatchWriter(store: store)
        self.spool = spool
        self.interval = interval
        self.batchSize = batchSize
        self.shutdownGrace = shutdownGrace
        self.clock = clock
        self.statistics = statistics
        self.logger = logger
    }

    /// Asks for a flush now instead of at the end of the interval (admin API, tests, shutdown).
    public func requestFlush() { wakeup.signal() }

    /// Called when the pending queue reaches its high-water mark (`Ingestor.highWater`): flush now, and with a spool
    /// move what is pending there at once, beside any write that may be waiting for a server that went away, so
    /// memory stays bounded and nothing is dropped while the spool has room.
    public func relievePressure() async {
        requestFlush()
        guard spool != nil else { return }
        guard spilling.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else { return }
        defer { spilling.store(false, ordering: .releasing) }
        await spillToSpool()
    }

    public func run() async throws {
        statistics.setRunning(true)
        defer { statistics.setRunning(false) }
        logger.info("Background persistence tasks started",
                    metadata: ["interval_seconds": "\(interval.seconds)", "batch_size": "\(batchSize)"])
        var backoff = RetryBackoff(maximum: max(interval, .seconds(1)))
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            let wait = backoff.consecutiveFailures > 0 ? min(backoff.delay, interval) : interval
            await waitForNextRound(wait)
            if Task.isShuttingDownGracefully || Task.isCancelled { break }
            guard ingestor.flag.isEnabled else { continue }
            if await flushPending(deadline: nil) {
                backoff.succeeded()
            } else {
                _ = backoff.failed()
            }
        }
        let deadline = clock.now.advanced(by: shutdownGrace)
        // Memory first into the spool (local, quick, and in order behind what the spool holds), so a SIGKILL at the
        // end of the grace period loses nothing; the spool outlives the process whatever the flag says.
        await spillToSpool()
        if ingestor.flag.isEnabled {
            logger.info("Flushing before shutdown", metadata: [
                "pending": "\(ingestor.pendingCount)", "spooled": "\(spool?.file.count ?? 0)",
            ])
            _ = await flushPending(deadline: deadline)
        }
        // What arrived meanwhile, or what the store did not take without a spool to move it to first.
        await spillToSpool()
        let remaining = ingestor.pendingCount
        if remaining > 0 {
            logger.error("Stopping with records still pending in memory: they are lost", metadata: ["pending": "\(remaining)"])
        }
    }

    /// Sleeps `duration`, or less when a flush is requested or shutdown begins.
    private func waitForNextRound(_ duration: Duration) async {
        let clock = self.clock
        let wakeup = self.wakeup
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                try? await cancelWhenGracefulShutdown { try await clock.sleep(for: duration) }
            }
            group.addTask { await wakeup.wait() }
            await group.next()
            group.cancelAll()
        }
    }

    /// Writes batches until nothing is pending, the flag goes off, a write fails or the deadline passes.
    /// Returns false when a write failed.
    @discardableResult
    public func flushPending(deadline: C.Instant?) async -> Bool {
        var written: [CollectionName: Int] = [:]
        defer {
            if !written.isEmpty {
                let summary = CollectionName.flushed.map { "\"\($0.rawValue)\": \(written[$0] ?? 0)" }.joined(separator: ", ")
                logger.info("Persisted: {\(summary)}")
            }
        }
        // The spool holds older records than memory: replay it first so a newer version is never overwritten.
        if spool != nil, !(await drainSpool(deadline: deadline, written: &written)) {
            await spillToSpool()
            return false
        }
        // One batch is written while the next is taken and its documents built: the flush's own work overlaps the
        // store's. Writes stay one at a time and in order.
        var current = nextBatch(deadline: deadline)
        while let (batch, prepared) = current {
            // Taken while the previous batch was being written: the flag may have gone off since (then nothing more
            // is written), or the deadline passed, or shutdown began.
            if shouldStop(before: deadline) {
                ingestor.putBack(batch)
                return true
            }
            let started = ContinuousClock.now
            async let attempt = Self.attempt(writer, prepared)
            let next = nextBatch(deadline: deadline)
            let ok = await settle(await attempt, started: started, count: batch.count, of: batch.collection, from: "",
                                  written: &written) { ingestor.complete(batch) }
            if !ok {
                // Both go back, the later one first, so the failed batch is again at the front and a newer version
                // taken with the next batch still wins.
                if let (taken, _) = next { ingestor.putBack(taken) }
                ingestor.putBack(batch)
                await spillToSpool()
                return false
            }
            current = next
        }
        return true
    }

    /// Whether a flush stops before its next batch: the flag went off, its deadline passed, or shutdown began during
    /// a regular round (a long spool replay would otherwise hold the exit past the grace period; the shutdown's own
    /// flush, with its deadline, takes over).
    private func shouldStop(before deadline: C.Instant?) -> Bool {
        guard ingestor.flag.isEnabled else { return true }
        if let deadline { return clock.now >= deadline }
        return Task.isShuttingDownGracefully
    }

    /// The next batch in memory, with its documents, unless the flush stops.
    private func nextBatch(deadline: C.Instant?) -> (PendingQueue.Batch, BatchWriter.Prepared)? {
        guard !shouldStop(before: deadline), let batch = ingestor.takeBatch(limit: batchSize)
        else { return nil }
        return (batch, writer.prepare(batch.records, to: batch.collection))
    }

    /// Replays the spool, oldest first, until the flush stops. Returns false when the store or the spool failed.
    private func drainSpool(deadline: C.Instant?, written: inout [CollectionName: Int]) async -> Bool {
        guard let spool else { return true }
        while !shouldStop(before: deadline) {
            let batch: SpoolBatch
            do {
                batch = try await spool.peekOldest(limit: batchSize)
            } catch {
                logger.error("Error reading the spool: \(error.message)")
                return false
            }
            guard let collection = batch.collection, !batch.isEmpty else { return true }
            let started = ContinuousClock.now
            let outcome = await Self.attempt(writer, writer.prepare(batch.records, to: collection))
            let ok = await settle(outcome, started: started, count: batch.entries.count, of: collection,
                                  from: " from the spool", written: &written) { () throws(StoreError) in
                try await spool.remove(batch)
                ingestor.spoolDrained(collection, stored: batch.entries.count, superseded: batch.superseded)
            }
            if !ok { return false }
        }
        return true
    }

    /// The store's write of one prepared batch, and nothing else (it may run beside the flush's other work).
    private static func attempt(_ writer: BatchWriter, _ prepared: BatchWriter.Prepared) async -> Result<WriteOutcome, StoreError> {
        do throws(StoreError) {
            return .success(try await writer.write(prepared))
        } catch {
            return .failure(error)
        }
    }

    /// Records the outcome of one batch once for both sources (statistics, metrics, the error log operators grep
    /// for). `confirm` runs after the store took the batch; its failure (the spool's delete) fails the batch too,
    /// which is safe because the batch is written again idempotently.
    private func settle(_ outcome: Result<WriteOutcome, StoreError>, started: ContinuousClock.Instant, count: Int,
                        of collection: CollectionName, from origin: String, written: inout [CollectionName: Int],
                        confirm: () async throws(StoreError) -> Void) async -> Bool {
        do throws(StoreError) {
            let result = try outcome.get()
            try await confirm()
            statistics.recordSuccess(collection, outcome: result, at: Date())
            FlushMetrics.batch(collection, documents: count, duration: ContinuousClock.now - started, ok: true)
            written[collection, default: 0] += count
            return true
        } catch {
            statistics.recordFailure(error, at: Date())
            FlushMetrics.batch(collection, documents: count, duration: ContinuousClock.now - started, ok: false)
            logger.error("Error persisting \(collection)\(origin): \(error.message)",
                         metadata: ["collection": "\(collection)", "records": "\(count)"])
            return false
        }
    }

    /// Records per spool transaction when spilling. Each commit waits for the disk (`synchronous=FULL`); at 1,000
    /// a commit the spill fell behind a fast ingest and the full queue dropped records.
    static var spillBatchSize: Int { 10_000 }

    /// Moves everything pending in memory to the spool, so an outage costs disk, not memory or records.
    /// Stops at the first refusal (spool full): what is left stays pending under the overflow policy.
    func spillToSpool() async {
        guard let spool else { return }
        var moved = 0
        while let batch = ingestor.takeBatch(limit: Self.spillBatchSize) {
            do {
                try await spool.append(batch.records)
                ingestor.handOff(batch, to: .spooled)
                moved += batch.count
            } catch {
                ingestor.putBack(batch)
                logger.error("Cannot spool pending records: \(error.message)", metadata: ["pending": "\(ingestor.pendingCount)"])
                break
            }
        }
        if moved > 0 { logger.notice("Moved pending records to the spool", metadata: ["records": "\(moved)"]) }
    }
}

extension Duration {
    /// Whole nanoseconds, for swift-metrics timers.
    public var nanoseconds: Int64 {
        let parts = components
        return parts.seconds * 1_000_000_000 + parts.attoseconds / 1_000_000_000
    }

    /// Seconds as a floating-point number, for logs and JSON.
    public var seconds: Double {
        let parts = components
        return Double(parts.seconds) + Double(parts.attoseconds) / 1e18
    }
}
