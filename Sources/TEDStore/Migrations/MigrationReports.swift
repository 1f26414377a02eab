/// Where the database stands against the migration files.
public struct MigrationStatus: Sendable, Equatable {
    public let applied: [AppliedMigration]
    /// Files not applied yet, in order.
    public let pending: [Migration]
    public let checksumMismatches: [ChecksumMismatch]
    /// Applied versions without a file: the migrations directory is older than the database.
    public let appliedWithoutFile: [AppliedMigration]

    init(applied: [AppliedMigration], migrations: [Migration]) {
        self.applied = applied
        let files = Dictionary(migrations.map { ($0.version, $0) }, uniquingKeysWith: { first, _ in first })
        let appliedVersions = Set(applied.map(\.version))
        pending = migrations.filter { !appliedVersions.contains($0.version) }
        checksumMismatches = applied.compactMap { row in
            guard let file = files[row.version], file.checksum != row.checksum else { return nil }
            return ChecksumMismatch(version: row.version, fileName: file.fileName, recorded: row.checksum, actual: file.checksum)
        }
        appliedWithoutFile = applied.filter { files[$0.version] == nil }
    }

    public var currentVersion: Int? { applied.map(\.version).max() }
}

/// One collection the migrations declare, as the database has it.
public struct CollectionReport: Sendable, Equatable {
    public let name: CollectionName
    public let exists: Bool
    /// nil when the collection does not exist.
    public let documentCount: Int?
    public let missingIndexes: [IndexSpec]
    /// Same keys (or name), other options.
    public let differingIndexes: [IndexDifference]
    /// Secondary indexes no migration declares: each one slows every insert.
    public let unexpectedIndexes: [IndexSpec]

    /// Everything declared is there as declared.
    public var matches: Bool { exists && missingIndexes.isEmpty && differingIndexes.isEmpty }
}

/// The dry run's answer.
public struct CheckReport: Sendable, Equatable {
    public let status: MigrationStatus
    /// The pending migrations up to the target of the check.
    public let pending: [Migration]
    public let collections: [CollectionReport]
    public let databaseSizeBytes: Int64
    /// What adopting a TED-V1 database would change; empty for any other database.
    public let tedV1: TEDV1Findings

    /// Whether `ted migrate` would change anything: what makes the dry run exit 3.
    public var hasPendingWork: Bool { !pending.isEmpty || !tedV1.isEmpty }
}
