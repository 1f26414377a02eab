import Hummingbird
import NIOCore

/// The request context of the API: Hummingbird's basics plus the peer address, which the rate limit keys on.
public struct TEDRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: SocketAddress?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }
}
