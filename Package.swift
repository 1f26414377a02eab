// swift-tools-version:6.2
import PackageDescription

let package = Package(
    name: "ted",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "ted", targets: ["ted"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
    ],
    targets: [
        // C libraries, reached only through TEDStore.
        .systemLibrary(name: "CLibMongoC", pkgConfig: "libmongoc-1.0",
                       providers: [.apt(["libmongoc-dev", "libbson-dev"])]),
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        // zlib, to read gzip-compressed backups without a `gzip` process.
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),

        // Domain records, validation, outcome math, JSON parsing, settings. Foundation only, no I/O.
        .target(name: "TEDCore"),
        // Bounded in-memory history.
        .target(name: "TEDBuffers", dependencies: ["TEDCore"]),
        // Store protocol with its MongoDB (libmongoc) and SQLite implementations, migrations.
        .target(name: "TEDStore", dependencies: [
            "TEDCore", "CLibMongoC", "CSQLite", "CZlib",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "NIOPosix", package: "swift-nio"),
        ]),
        // Pending queue, flush, spool, flag, cleanup, hourly metrics: the write path.
        .target(name: "TEDPersistence", dependencies: [
            "TEDCore", "TEDBuffers", "TEDStore",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Metrics", package: "swift-metrics"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            .product(name: "DequeModule", package: "swift-collections"),
        ]),
        // HTTP API, and the operator console's page compiled into the binary (`PackageResources.*` byte arrays).
        .target(name: "TEDServer", dependencies: [
            "TEDCore", "TEDBuffers", "TEDPersistence",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HummingbirdCore", package: "hummingbird"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Metrics", package: "swift-metrics"),
            .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "DequeModule", package: "swift-collections"),
        ], resources: [
            .embedInCode("Console/console.html"), .embedInCode("Console/console.css"),
            .embedInCode("Console/console.js"), .embedInCode("Console/charts.js"), .embedInCode("Console/format.js"),
        ]),
        // The `ted` command: argument parsing, wiring, process lifecycle.
        .executableTarget(name: "ted", dependencies: [
            "TEDCore", "TEDStore", "TEDPersistence", "TEDServer",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Metrics", package: "swift-metrics"),
            .product(name: "Prometheus", package: "swift-prometheus"),
        ]),

        .testTarget(name: "TEDCoreTests", dependencies: ["TEDCore", "TEDBuffers"]),
        .testTarget(name: "TEDStoreTests", dependencies: ["TEDStore", "TEDCore", "TEDTestSupport"]),
        // What several test targets share: the manual service clock, a seeded random generator, a log recorder.
        .target(name: "TEDTestSupport", dependencies: [
            "TEDPersistence", .product(name: "Logging", package: "swift-log"),
        ], path: "Tests/TEDTestSupport"),
        .testTarget(name: "TEDPersistenceTests", dependencies: [
            "TEDPersistence", "TEDStore", "TEDCore", "TEDBuffers", "TEDTestSupport",
        ]),
        // The `ted` command's own parts (its log handlers, the checks it runs at start).
        .testTarget(name: "TEDCommandTests", dependencies: [
            "ted", "TEDStore", "TEDCore", "TEDTestSupport", .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),
        .testTarget(name: "TEDServerTests", dependencies: [
            "TEDServer", "TEDPersistence", "TEDStore", "TEDCore", "TEDTestSupport",
            .product(name: "HummingbirdTesting", package: "hummingbird"),
            .product(name: "NIOEmbedded", package: "swift-nio"),
        ]),
    ],
    swiftLanguageModes: [.v6]
)
