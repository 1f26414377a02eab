import HummingbirdCore
import Logging
import NIOCore
import NIOEmbedded
import Testing
@testable import TEDServer

/// Each connection of the HTTP server reads at most 16 KiB ahead of its handler: an upload refused for its size or the
/// body budget has had at most that much read, not NIO's default of four 64 KiB reads per readiness event (a burst of
/// refused uploads held all of it at once: `scripts/faults` case 8).
@Suite struct ReadAheadLimitTests {
    @Test func theChannelReadsOnceAndAtMost16KiBPerEvent() throws {
        let channel = EmbeddedChannel()
        defer { _ = try? channel.finish() }
        let http1 = HTTP1Channel(responder: { _, _, _ in }, configuration: .init())
        _ = try ReadAheadLimitedHTTP1Channel(inner: http1).setup(channel: channel, logger: Logger(label: "test")).wait()

        #expect(try channel.getOption(ChannelOptions.maxMessagesPerRead).wait() == 1)
        let allocator = try channel.getOption(ChannelOptions.recvAllocator).wait()
        let adaptive = try #require(allocator as? AdaptiveRecvByteBufferAllocator)
        #expect(adaptive.maximum == 16 * 1024)
    }
}
