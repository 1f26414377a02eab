// The ports of the persistence layer: the interfaces `TEDPersistence` asks of a store, in its own terms, one concern
// each, a file each here. `TEDPersistence` is their only consumer and owns their meaning; they are declared here, in
// the store module, only because `TEDPersistence` depends on `TEDStore`, and declaring them there would make a
// module cycle. Each adapter implements each port natively in a file of its own (`Mongo/Mongo*.swift` with BSON and
// commands, `SQLite/SQLite*.swift` with SQL statements). `DocumentStore` refines them all, so any store value can be
// handed to whatever needs one of them. The migrations' ledger (`MigrationLedgerStore`) is a port of the same kind
// whose consumer, the migration runner, lives in the store module.
public typealias StorePorts = Sendable & DeadLetterStore & RetentionStore & JobRecordStore & HourlyMetricsStore
    & FlagHistoryStore & StoredGameReads & CollectionSnapshotStore & MigrationLedgerStore
