import Foundation
import Logging
import ServiceLifecycle
import TEDStore

/// Writes what is pending every `interval`, in batches of `batchSize`, while the flag is on. On a failure the
/// batch goes back to the queue and the next attempt waits with backoff; ingest is never blocked. On graceful
/// shutdown it drains what is pending, bounded by `shutdownGrace`.
public final class FlushScheduler: Service, Sendable {
    let ingestor: Ingestor
    let writer: BatchWriter
    let deadLetters: DeadLetters
    let spool: Spool?
    let interval: Duration
    let batchSize: Int
    let shutdownGrace: Duration
    let clock: any ServiceClock
    let logger: Logger
    public let statistics: FlushStatistics
    /// The store's writing threads yield the CPU to requests while the flush keeps up (see `StoreThreadPriority`).
    let storeThreads: StoreThreadPriority?
    private let wakeup = Wakeup()
    /// Signalled at the high-water mark: the spill runs beside the flush loop, inside this service.
    private let pressure = Wakeup()

    public init(ingestor: Ingestor, store: any DocumentStore, interval: Duration, batchSize: Int, shutdownGrace: Duration,
                clock: any ServiceClock, statistics: FlushStatistics = FlushStatistics(), spool: Spool? = nil,
                storeThreads: StoreThreadPriority? = nil, logger: Logger) {
        self.ingestor = ingestor
        writer = BatchWriter(store: store, rules: ingestor.rules)
        deadLetters = DeadLetters(store: store)
        self.spool = spool
        self.interval = interval
        self.batchSize = batchSize
        self.shutdownGrace = shutdownGrace
        self.clock = clock
        self.statistics = statistics
        self.storeThreads = storeThreads
        self.logger = logger
    }

    /// Asks for a flush now instead of at the end of the interval (admin API, tests, shutdown).
    public func requestFlush() { wakeup.signal() }

    /// Called when the pending queue reaches its high-water mark (`Ingestor.highWater`): flush now, and with a spool
    /// move what is pending there at once, beside any write that may be waiting for a server that went away, so
    /// memory stays bounded and nothing is dropped while the spool has room. Only signals: the ingest path calls it
    /// under no task of its own, and the spill runs in `run()`.
    public func relievePressure() {
        requestFlush()
        if spool != nil { pressure.signal() }
    }

    /// The flush loop and, with a spool, the high-water spill beside it; both end when shutdown's drain is done.
    public func run() async throws {
        await withTaskGroup(of: Void.self) { group in
            if spool != nil {
                group.addTask { await self.spillUnderPressure() }
            }
            await flushLoop()
            group.cancelAll()
        }
    }

    /// Spills each time the high-water mark is reached, one spill at a time, until cancelled.
    private func spillUnderPressure() async {
        while true {
            await pressure.wait()
            if Task.isCancelled { return }
            await spillToSpool()
        }
    }

    private func flushLoop() async {
        let tasks = PersistenceTasks(flag: ingestor.flag, statistics: statistics, logger: logger,
                                     metadata: ["interval_seconds": "\(interval.seconds)", "batch_size": "\(batchSize)"])
        tasks.loopStarted()
        defer { tasks.loopStopped() }
        var machine = FlushStateMachine(interval: interval)
        var action = machine.started()
        while true {
            switch action {
            case .wait(let duration):
                await waitForNextRound(duration)
                action = shuttingDown ? machine.shutdownBegan(flagOn: ingestor.flag.isEnabled)
                    : machine.woke(flagOn: ingestor.flag.isEnabled)
            case .flush:
                let round = await flushRound(deadline: nil)
                // Progress made and a full batch waiting: the store is behind ingest (never true with the flag off,
                // so a round that cannot write does not loop).
                let behind = round.wrote > 0 && ingestor.flag.isEnabled && ingestor.pendingCount >= batchSize
                // Behind, the store competes for the CPU as an equal until it has caught up.
                storeThreads?.set(yieldsToRequests: !behind)
                action = shuttingDown ? machine.shutdownBegan(flagOn: ingestor.flag.isEnabled)
                    : machine.flushFinished(succeeded: round.succeeded, behind: behind)
            case .drain(let replay):
                await drainForShutdown(replay: replay)
                action = machine.drained(remaining: ingestor.pendingCount)
            case .stop(let lost):
                if lost > 0 {
                    logger.error("Stopping with records still pending in memory: they are lost", metadata: ["pending": "\(lost)"])
                }
                return
            case .none:
                return
            }
        }
    }

    private var shuttingDown: Bool { Task.isShuttingDownGracefully || Task.isCancelled }

    /// Memory first into the spool (local, quick), so a SIGKILL at the end of the grace period loses nothing; the spool
    /// outlives the process whatever the flag says. Then the store, until the grace period ends; then what arrived
    /// meanwhile, or what the store did not take, into the spool again.
    private func drainForShutdown(replay: Bool) async {
        let deadline = clock.now.addingTimeInterval(shutdownGrace.seconds)
        // No request is answered any more: the grace period is the store's.
        storeThreads?.set(yieldsToRequests: false)
        await spillToSpool()
        if replay {
            logger.info("Flushing before shutdown", metadata: [
                "pending": "\(ingestor.pendingCount)", "spooled": "\(spool?.file.count ?? 0)",
            ])
            _ = await flushPending(deadline: deadline)
        }
        await spillToSpool()
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

    /// Writes the spool's batches and then the records pending in memory when the round began (what arrives meanwhile
    /// waits for the next round, `FlushRound.memoryBudget`), until the flag goes off or the deadline passes. Each
    /// collection goes on independently: one whose write failed waits for the next round, the others are still written.
    /// Returns false when a write failed.
    @discardableResult
    public func flushPending(deadline: Date?) async -> Bool {
        await flushRound(deadline: deadline).succeeded
    }

    /// `flushPending`, also saying how many records the round wrote.
    private func flushRound(deadline: Date?) async -> (succeeded: Bool, wrote: Int) {
        var written: [CollectionName: Int] = [:]
        defer {
            if !written.isEmpty {
                let summary = CollectionName.flushed.map { "\"\($0.rawValue)\": \(written[$0] ?? 0)" }.joined(separator: ", ")
                logger.info("Persisted: {\(summary)}")
            }
        }
        var round = FlushRound(replaysSpool: spool != nil, memoryBudget: ingestor.pendingCount)
        while true {
            switch round.next(stop: shouldStop(before: deadline)) {
            case .replaySpool(let excluding):
                await replaySpoolBatch(excluding: excluding, round: &round, written: &written)
            case .writeMemory:
                guard let batch = takeMemoryBatch(&round) else {
                    round.sourceExhausted()
                    continue
                }
                await writeMemory(from: batch, round: &round, written: &written, deadline: deadline)
            case .finish(let spill):
                // A collection the store cannot take now: what is pending moves to the spool (disk, not memory).
                if spill { await spillToSpool() }
                return (round.succeeded, written.values.reduce(0, +))
            }
        }
    }

    /// Batches of memory being written at once. With one, the store sat idle between batches while the flush task
    /// waited for a core to settle the last one and take the next (about fifty 1-10 ms gaps in a 100k-record drain
    /// on a busy machine, a quarter of its time); with the next batch already written beside it, the store goes on
    /// at once. Writes commute, so the two may finish in either order.
    static var batchesInFlight: Int { 2 }

    /// Writes memory's batches, starting with `first`, until memory has nothing left for the collections not yet
    /// failed this round or the flush must stop; each batch is settled and reported as its write ends.
    private func writeMemory(from first: PendingQueue.Batch, round: inout FlushRound,
                             written: inout [CollectionName: Int], deadline: Date?) async {
        await withTaskGroup(of: (batch: PendingQueue.Batch, fates: [RecordFate], started: ContinuousClock.Instant).self) { group in
            var next: PendingQueue.Batch? = first
            var inFlight = 0
            while next != nil || inFlight > 0 {
                if let batch = next {
                    group.addTask {
                        let started = ContinuousClock.now
                        return (batch, await self.writeBatch(batch.records, to: batch.collection), started)
                    }
                    inFlight += 1
                    next = inFlight < Self.batchesInFlight ? takeNextBatch(&round, deadline) : nil
                    if next != nil { continue }
                }
                guard let done = await group.next() else { break }
                inFlight -= 1
                ingestor.settle(done.batch, fates: done.fates)
                let complete = report(FateTally(done.fates), records: done.fates.count, started: done.started,
                                      of: done.batch.collection, from: "", written: &written)
                round.batchWritten(done.batch.collection, complete: complete)
                next = takeNextBatch(&round, deadline)
            }
        }
    }

    /// The next batch of memory for a collection the round has not left out, unless the flush must stop.
    private func takeNextBatch(_ round: inout FlushRound, _ deadline: Date?) -> PendingQueue.Batch? {
        shouldStop(before: deadline) ? nil : takeMemoryBatch(&round)
    }

    /// A batch of memory for a collection the round has not left out, within what the round may still take.
    private func takeMemoryBatch(_ round: inout FlushRound) -> PendingQueue.Batch? {
        guard round.memoryBudget > 0,
              let batch = ingestor.takeBatch(limit: min(batchSize, round.memoryBudget), excluding: round.failed) else { return nil }
        round.tookFromMemory(batch.count)
        return batch
    }

    /// Whether a flush stops before its next batch: the flag went off, its deadline passed, or shutdown began during
    /// a regular round (a long spool replay would otherwise hold the exit past the grace period; the shutdown's own
    /// flush, with its deadline, takes over).
    private func shouldStop(before deadline: Date?) -> Bool {
        guard ingestor.flag.isEnabled else { return true }
        if let deadline { return clock.now >= deadline }
        return Task.isShuttingDownGracefully
    }

    /// Replays the spool's oldest batch of a collection not excluded. Retried records stay in the spool; stored and
    /// refused ones leave it.
    private func replaySpoolBatch(excluding: Set<CollectionName>, round: inout FlushRound,
                                  written: inout [CollectionName: Int]) async {
        guard let spool else { return round.sourceExhausted() }
        let batch: SpoolBatch
        do {
            batch = try await spool.peekOldest(limit: batchSize, excluding: excluding)
        } catch {
            logger.error("Error reading the spool: \(error.message)")
            return round.spoolUnreadable()
        }
        guard let collection = batch.collection, !batch.isEmpty else { return round.sourceExhausted() }
        let started = ContinuousClock.now
        let fates = await writeBatch(batch.records, to: collection)
        let tally = FateTally(fates)
        let done = batch.removing(keeping: tally.retried(batch.entries))
        do {
            try await spool.remove(done)
        } catch {
            // Written but still in the spool: written again later, idempotently.
            logger.error("Error removing replayed records from the spool: \(error.message)")
            return round.spoolNotUpdated(collection)
        }
        ingestor.spoolDrained(collection, stored: tally.stored + tally.alreadyStored, rejected: tally.rejected,
                              superseded: done.superseded)
        let complete = report(tally, records: fates.count, started: started, of: collection, from: " from the spool",
                              written: &written)
        round.batchWritten(collection, complete: complete)
    }

    /// Writes one batch and dead-letters what the store refused for good. A refused record whose dead-letter cannot
    /// be written either is retried instead, so it is never lost.
    private func writeBatch(_ records: [StoreRecord], to collection: CollectionName) async -> [RecordFate] {
        let result = await writer.write(records, to: collection)
        if let error = result.resolutionError {
            logger.error("Error resolving outcomes in \(collection): \(error.message)")
        }
        var fates = result.fates
        // By index, so only the refused records are copied (zipping copied every record of every batch).
        let refused = fates.indices.compactMap { index -> (record: StoreRecord, error: StoreError)? in
            if case .refused(let error) = fates[index] { return (records[index], error) }
            return nil
        }
        guard let first = refused.first else { return fates }
        do throws(StoreError) {
            try await deadLetters.add(refused, at: clock.now)
            logger.error("Error persisting \(collection): \(refused.count) records refused and moved to the dead-letter; first: \(first.error.message)",
                         metadata: ["collection": "\(collection)", "records": "\(refused.count)", "code": "\(first.error.code)"])
        } catch {
            logger.error("Error persisting \(collection): cannot write the dead-letter, the refused records are retried: \(error.message)")
            for index in fates.indices {
                if case .refused = fates[index] { fates[index] = .retryable(error) }
            }
        }
        return fates
    }

    /// Records the outcome of one batch once for both sources (statistics, metrics, the error log operators grep
    /// for). Returns false when some of its records must be written again.
    private func report(_ tally: FateTally, records: Int, started: ContinuousClock.Instant, of collection: CollectionName,
                        from origin: String, written: inout [CollectionName: Int]) -> Bool {
        let duration = ContinuousClock.now - started
        if tally.done > 0 {
            statistics.recordBatch(collection, tally, at: clock.now)
            written[collection, default: 0] += tally.stored + tally.alreadyStored
        }
        guard let retryError = tally.retryError else {
            FlushMetrics.batch(collection, documents: records, duration: duration, ok: true)
            return true
        }
        statistics.recordFailure(retryError, at: clock.now)
        FlushMetrics.batch(collection, documents: records, duration: duration, ok: false)
        logger.error("Error persisting \(collection)\(origin): \(retryError.message)",
                     metadata: ["collection": "\(collection)", "records": "\(records)"])
        return false
    }

    /// Records per spool transaction when spilling. Each commit waits for the disk (`synchronous=FULL`); at 1,000
    /// a commit the spill fell behind a fast ingest and the full queue dropped records.
    static var spillBatchSize: Int { 10_000 }

    /// Moves everything pending in memory to the spool, so an outage costs disk, not memory or records. Every
    /// collection's records go in one spool transaction (one wait for the disk) of up to `spillBatchSize` records.
    /// Stops at the first refusal (spool full): what is left stays pending under the overflow policy.
    func spillToSpool() async {
        guard let spool else { return }
        var moved = 0
        while true {
            var batches: [PendingQueue.Batch] = []
            var taken = 0
            while taken < Self.spillBatchSize, let batch = ingestor.takeBatch(limit: Self.spillBatchSize - taken) {
                batches.append(batch)
                taken += batch.count
            }
            guard !batches.isEmpty else { break }
            let spooledBefore = spool.file.countByCollection
            do {
                try await spool.append(batches.flatMap(\.records))
            } catch {
                // Back to the front, the last taken first, so the order of what stays pending is kept.
                for batch in batches.reversed() { ingestor.putBack(batch) }
                logger.error("Cannot spool pending records: \(error.message)", metadata: ["pending": "\(ingestor.pendingCount)"])
                break
            }
            for batch in batches {
                ingestor.handOff(batch, to: .spooled)
                if (spooledBefore[batch.collection] ?? 0) == 0 { statistics.recordSpooledSince(batch.collection, at: clock.now) }
            }
            moved += taken
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
