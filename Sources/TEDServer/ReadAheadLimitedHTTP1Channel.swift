import Hummingbird
import HummingbirdCore
import Logging
import NIOCore

/// Hummingbird's HTTP/1 channel with a smaller read-ahead per connection.
///
/// NIO reads up to 4 times per readiness event, into buffers that grow to 64 KiB, before any handler has seen the
/// request: a body the service then refuses (over the size limit, or past the body budget) has already been read by
/// up to 256 KiB per connection, and a burst of such uploads held all of it at once. One read of at most 16 KiB per
/// event keeps that to 16 KiB per connection: 1200 refused uploads took 89 MiB above the start instead of 208
/// (`scripts/faults` case 8, release build), with ingest throughput and row 4's memory unchanged within the noise
/// (`scripts/bench --only ingest,memory`, the two builds in turn).
struct ReadAheadLimitedHTTP1Channel: ServerChildChannel, HTTPChannelHandler {
    typealias Value = HTTP1Channel.Value

    static let maxReadBytes = 16 * 1024

    let inner: HTTP1Channel
    var responder: HTTPChannelHandler.Responder { inner.responder }

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.setOption(ChannelOptions.maxMessagesPerRead, value: 1)
            .flatMap {
                channel.setOption(ChannelOptions.recvAllocator,
                                  value: AdaptiveRecvByteBufferAllocator(minimum: 64, initial: 2048, maximum: Self.maxReadBytes))
            }
            .flatMap { inner.setup(channel: channel, logger: logger) }
    }

    func handle(value: Value, logger: Logger) async {
        await inner.handle(value: value, logger: logger)
    }
}

extension HTTPServerBuilder {
    /// `.http1(configuration:)` with the read-ahead of `ReadAheadLimitedHTTP1Channel`.
    static func readAheadLimitedHTTP1(configuration: HTTP1Channel.Configuration) -> HTTPServerBuilder {
        .init { responder in
            ReadAheadLimitedHTTP1Channel(inner: HTTP1Channel(responder: responder, configuration: configuration))
        }
    }
}
