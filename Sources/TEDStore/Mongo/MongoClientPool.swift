import CLibMongoC
import Logging
import NIOPosix
import Synchronization
import TEDCore

/// A libmongoc client pool with its own threads: every blocking libmongoc call runs on `threads`, never on the
/// caller's executor. There are exactly as many threads as clients, so popping a client never blocks a thread
/// that another call needs to give one back. `threadPriority`, when given, sets the threads' CPU priority.
///
/// `@unchecked Sendable`: libmongoc documents `mongoc_client_pool_t` as thread-safe; clients never leave the
/// thread that popped them.
final class MongoClientPool: @unchecked Sendable {
    /// The URL as given, kept only to scrub its password out of driver messages.
    let url: String
    private let pool: OpaquePointer
    private let threads: NIOThreadPool
    private let closed = Mutex(false)
    private let threadPriority: StoreThreadPriority?

    static let defaultMaxClients: Int32 = 4

    /// `defaultClients` applies unless the URL sets `maxPoolSize`.
    /// `appName` names the pool's connections in the server's logs and `currentOp` (unless the URL names one).
    init(url: String, defaultClients: Int32 = defaultMaxClients, appName: String = "ted",
         threadPriority: StoreThreadPriority? = nil) throws(StoreError) {
        LibMongoC.initializeOnce()
        self.url = url
        var error = bson_error_t()
        guard let uri = mongoc_uri_new_with_error(url, &error) else {
            throw StoreError(.configuration, "invalid MongoDB URL: " + MongoURL.scrub(Self.message(of: &error), url: url))
        }
        defer { mongoc_uri_destroy(uri) }
        // libmongoc waits 30 s for a server by default: a store that is down must fail fast and be retried.
        for option in [MONGOC_URI_SERVERSELECTIONTIMEOUTMS, MONGOC_URI_CONNECTTIMEOUTMS]
        where !mongoc_uri_has_option(uri, option) {
            mongoc_uri_set_option_as_int32(uri, option, 2000)
        }
        // A flushed batch is dropped from memory once acknowledged: ask for acknowledgement after the journal write,
        // so a crash of the server cannot lose it (unless the URL chose its own write concern).
        if !mongoc_uri_has_option(uri, MONGOC_URI_JOURNAL) && !mongoc_uri_has_option(uri, MONGOC_URI_W) {
            mongoc_uri_set_option_as_bool(uri, MONGOC_URI_JOURNAL, true)
        }
        // A server that hangs mid-reply must not hold a flush for libmongoc's default 5 minutes.
        if !mongoc_uri_has_option(uri, MONGOC_URI_SOCKETTIMEOUTMS) {
            mongoc_uri_set_option_as_int32(uri, MONGOC_URI_SOCKETTIMEOUTMS, 30_000)
        }
        if mongoc_uri_get_appname(uri) == nil { _ = mongoc_uri_set_appname(uri, appName) }
        if !mongoc_uri_has_option(uri, MONGOC_URI_MAXPOOLSIZE) {
            mongoc_uri_set_option_as_int32(uri, MONGOC_URI_MAXPOOLSIZE, defaultClients)
        }
        let maxClients = Int(max(1, mongoc_uri_get_option_as_int32(uri, MONGOC_URI_MAXPOOLSIZE, defaultClients)))
        guard let pool = mongoc_client_pool_new_with_error(uri, &error) else {
            throw StoreError(.configuration, "cannot create the MongoDB client pool: " + MongoURL.scrub(Self.message(of: &error), url: url))
        }
        mongoc_client_pool_set_error_api(pool, Int32(MONGOC_ERROR_API_VERSION_2))
        self.pool = pool
        self.threadPriority = threadPriority
        threads = NIOThreadPool(numberOfThreads: maxClients)
        threads.start()
    }

    /// Runs `body` on a pool thread with a client popped for it.
    func withClient<T: Sendable>(_ body: @escaping @Sendable (OpaquePointer) throws(StoreError) -> T) async throws(StoreError) -> T {
        let result: Result<T, StoreError>
        do {
            result = try await threads.runIfActive { [self] in
                threadPriority?.applyToCurrentThread()
                guard let client = mongoc_client_pool_pop(pool) else {
                    return .failure(StoreError(.unavailable, "no MongoDB client available"))
                }
                defer { mongoc_client_pool_push(pool, client) }
                do throws(StoreError) {
                    return .success(try body(client))
                } catch {
                    return .failure(error)
                }
            }
        } catch is CancellationError {
            throw StoreError(.unavailable, "MongoDB call cancelled before it started")
        } catch {
            throw StoreError(.unavailable, "MongoDB store is closed")
        }
        return try result.get()
    }

    /// Maps a libmongoc error, with `context` naming the operation. Server-selection and socket errors (and the
    /// server codes that mean "not now") are `.unavailable`: the caller retries later.
    func storeError(_ error: inout bson_error_t, _ context: String) -> StoreError {
        let domain = ted_bson_error_domain(&error)
        let code = ted_bson_error_code(&error)
        let message = MongoURL.scrub("\(context): \(Self.message(of: &error))", url: url)
        let unavailable =
            domain == MONGOC_ERROR_SERVER_SELECTION.rawValue || domain == MONGOC_ERROR_STREAM.rawValue
            || (domain == MONGOC_ERROR_SERVER.rawValue && Self.transientServerCodes.contains(code))
        return StoreError(unavailable ? .unavailable : .operationFailed, message, code: Int(code),
                          retryable: unavailable || Self.isRetryable(domain: domain, code: code))
    }

    /// Whether a failed call may succeed if made again: the connection or the server's state, never the documents.
    /// Anything else (a document libmongoc or the server refuses) is not, so the flush isolates the record at fault.
    static func isRetryable(domain: UInt32, code: UInt32) -> Bool {
        switch domain {
        case MONGOC_ERROR_CLIENT.rawValue, MONGOC_ERROR_STREAM.rawValue, MONGOC_ERROR_PROTOCOL.rawValue,
             MONGOC_ERROR_SERVER_SELECTION.rawValue, MONGOC_ERROR_SASL.rawValue, MONGOC_ERROR_SCRAM.rawValue,
             MONGOC_ERROR_WRITE_CONCERN.rawValue:
            return true
        case MONGOC_ERROR_SERVER.rawValue, MONGOC_ERROR_QUERY.rawValue:
            return retryableServerCodes.contains(code)
        default:
            return false
        }
    }

    /// Server codes after which the same write may succeed: the transient ones above, plus time-outs, write
    /// conflicts, lock and write-concern failures, and refused credentials (an operator fixes them; the records
    /// are not at fault).
    static let retryableServerCodes: Set<UInt32> = transientServerCodes.union([
        13, 18, 24, 46, 50, 64, 112, 133, 134, 262, 9001, 11601,
    ])

    /// HostUnreachable, HostNotFound, NetworkTimeout, ShutdownInProgress, PrimarySteppedDown, NotWritablePrimary,
    /// InterruptedAtShutdown, InterruptedDueToReplStateChange, NotPrimaryNoSecondaryOk, NotPrimaryOrSecondary.
    private static let transientServerCodes: Set<UInt32> = [6, 7, 89, 91, 189, 10107, 11600, 11602, 13435, 13436]

    private static func message(of error: inout bson_error_t) -> String {
        String(cString: ted_bson_error_message(&error))
    }

    /// Stops the threads (waiting for calls in flight), then destroys the pool. Later calls fail `.unavailable`.
    func close() async {
        guard closed.withLock({ wasClosed in defer { wasClosed = true }; return !wasClosed }) else { return }
        try? await threads.shutdownGracefully()
        mongoc_client_pool_destroy(pool)
    }

    deinit {
        // Reached without `close()`: no call is in flight (each holds `self`), so the pool can go at once.
        if closed.withLock({ !$0 }) {
            threads.shutdownGracefully { _ in }
            mongoc_client_pool_destroy(pool)
        }
    }
}

/// Process-wide libmongoc setup.
enum LibMongoC {
    /// `mongoc_cleanup` is never called: pools may live until the process exits, and it must follow them all.
    static func initializeOnce() { _ = initialized }

    private static let initialized: Void = {
        mongoc_init()
        mongoc_log_set_handler(forwardLog, nil)
    }()

    static let logger = Logger(label: "ted.mongoc")

    /// libmongoc would print to stderr by itself, e.g. "Failed to connect" twice a second while the server is
    /// down. Those warnings repeat what the failed call reports, so they go to debug.
    private static let forwardLog: mongoc_log_func_t = { level, domain, message, _ in
        let logLevel: Logger.Level =
            switch level {
            case MONGOC_LOG_LEVEL_ERROR, MONGOC_LOG_LEVEL_CRITICAL: .error
            case MONGOC_LOG_LEVEL_WARNING, MONGOC_LOG_LEVEL_MESSAGE, MONGOC_LOG_LEVEL_INFO: .debug
            default: .trace
            }
        let text = message.map { String(cString: $0) } ?? ""
        let source = domain.map { String(cString: $0) } ?? "mongoc"
        LibMongoC.logger.log(level: logLevel, "\(text)", metadata: ["domain": "\(source)"])
    }
}

// MARK: - Bridging Swift bytes and bson_t

/// Runs `body` with a read-only `bson_t` view of `bytes`, valid only during the call.
func withBSONView<R>(_ bytes: [UInt8], _ body: (OpaquePointer) throws(StoreError) -> R) throws(StoreError) -> R {
    try bytes.withUnsafeBufferPointer { buffer throws(StoreError) -> R in
        guard let view = ted_bson_view(buffer.baseAddress, buffer.count) else {
            throw StoreError(.corrupt, "libbson rejected an encoded document")
        }
        defer { ted_bson_free_storage(view) }
        return try body(view)
    }
}

/// One `bson_t` through which Swift-owned documents are shown to libmongoc one after the other, for a bulk write
/// (libmongoc copies each document it is given): an aligned allocation and free per document showed in `perf` as a
/// twentieth of the flush's CPU.
final class ReusableBSONView {
    private let storage: OpaquePointer

    init() throws(StoreError) {
        guard let storage = ted_bson_alloc_storage() else { throw StoreError(.unavailable, "out of memory for a BSON view") }
        self.storage = storage
    }

    deinit { ted_bson_free_storage(storage) }

    /// Runs `body` with a view of `bytes` (one document of a batch's buffer), valid only inside it.
    func with<R>(_ bytes: Slice<UnsafeBufferPointer<UInt8>>, _ body: (OpaquePointer) throws(StoreError) -> R) throws(StoreError) -> R {
        let buffer = UnsafeBufferPointer(rebasing: bytes)
        guard let base = buffer.baseAddress, bson_init_static(storage, base, buffer.count) else {
            throw StoreError(.corrupt, "libbson rejected an encoded document")
        }
        return try body(storage)
    }
}

/// Runs `body` with `bson_t *` views of each of `documents`, laid out in one buffer so they stay valid together.
func withBSONViews<R>(_ documents: [[UInt8]], _ body: ([OpaquePointer?]) throws(StoreError) -> R) throws(StoreError) -> R {
    let joined = Array(documents.joined())
    return try joined.withUnsafeBufferPointer { buffer throws(StoreError) -> R in
        var views: [OpaquePointer?] = []
        views.reserveCapacity(documents.count)
        defer { views.forEach { ted_bson_free_storage($0) } }
        var offset = 0
        for document in documents {
            guard let view = ted_bson_view(buffer.baseAddress.map { $0 + offset }, document.count) else {
                throw StoreError(.corrupt, "libbson rejected an encoded document")
            }
            views.append(view)
            offset += document.count
        }
        return try body(views)
    }
}

/// Runs `body` with storage for a reply that libmongoc initialises; the reply is destroyed afterwards.
func withReply<R>(_ body: (OpaquePointer) throws(StoreError) -> R) throws(StoreError) -> R {
    guard let reply = ted_bson_alloc_storage() else { throw StoreError(.unavailable, "out of memory for a reply") }
    defer { ted_bson_free_storage(reply) }
    return try body(reply)
}

/// A copy of a libmongoc-owned document.
func copyBSON(_ bson: OpaquePointer) -> [UInt8] {
    Array(UnsafeBufferPointer(start: ted_bson_data(bson), count: Int(ted_bson_len(bson))))
}
