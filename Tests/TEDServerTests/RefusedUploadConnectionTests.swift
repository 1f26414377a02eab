#if canImport(Glibc)
import Glibc
#endif
import Foundation
import HummingbirdTesting
import Testing
@testable import TEDServer

/// What happens to a connection whose upload is refused for its size, on a live server and a raw socket
/// (a test client would send the whole body): the answer comes, and then the server stops reading the body and ends
/// its side of the connection. If it drained the body instead, an upload that stalls would keep its connection, and
/// what the server buffers for it, for as long as the client likes (`scripts/faults` case 8).
@Suite struct RefusedUploadConnectionTests {
    static let head = "POST /api/ingest HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"

    /// Sends `request` to a live server whose body limit is 64 KiB, then stalls; returns everything the server sent
    /// before it ended the connection. A server still draining the body sends the answer and then nothing, and this
    /// fails when nothing more has come for 60 s. Generous: the whole suite shares two cores, and in CI the answer
    /// alone once took more than 5 s to come, and the suite 32 s.
    static func answerThenEnd(to request: [UInt8]) async throws -> String {
        let f = try HTTPTests.fixture(maxBodyBytes: 64 << 10)
        return try await f.app.test(.live) { client in
            let socket = try RawSocket(port: try #require(client.port))
            defer { socket.close() }
            try socket.send(request)
            return String(decoding: try await socket.receiveUntilClosed(timeoutSeconds: 60), as: UTF8.self)
        }
    }

    @Test(.timeLimit(.minutes(3)))
    func anUploadRefusedForItsAnnouncedLengthIsAnsweredAndItsConnectionEnds() async throws {
        // Announces 1 MiB, sends 32 KiB of it.
        let received = try await Self.answerThenEnd(
            to: Array((Self.head + "Content-Length: \(1 << 20)\r\n\r\n").utf8) + Array(repeating: UInt8(ascii: " "), count: 32 << 10))
        #expect(received.hasPrefix("HTTP/1.1 413"))
        #expect(received.lowercased().contains("\r\nconnection: close\r\n"))
        #expect(received.contains("INGEST_MAX_BODY_BYTES"))
    }

    /// Without an announced length the body is refused once what arrived passes the limit: the connection stops
    /// reading there, however much more the client sends.
    @Test(.timeLimit(.minutes(3)))
    func aChunkedUploadRefusedOnceItPassesTheLimitIsAnsweredAndItsConnectionEnds() async throws {
        // One 96 KiB chunk of a body that never ends.
        let received = try await Self.answerThenEnd(
            to: Array((Self.head + "Transfer-Encoding: chunked\r\n\r\n" + String(96 << 10, radix: 16) + "\r\n").utf8)
                + Array(repeating: UInt8(ascii: " "), count: 96 << 10) + Array("\r\n".utf8))
        #expect(received.hasPrefix("HTTP/1.1 413"))
        #expect(received.lowercased().contains("\r\nconnection: close\r\n"))
    }
}

/// A TCP connection to 127.0.0.1. Its reads block, so each runs on a thread of its own: on the cooperative pool, two of
/// them took both of its threads on a two-core machine, and the server under test, which runs there too, never answered.
private struct RawSocket: Sendable {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    private let fd: Int32

    init(port: Int) throws {
        fd = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket: errno \(errno)") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            Glibc.close(fd)
            throw Failure(description: "connect: errno \(errno)")
        }
    }

    func send(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard sent > 0 else { throw Failure(description: "send: errno \(errno)") }
            offset += sent
        }
    }

    /// Reads until the peer ends the connection; fails when nothing arrives for `timeoutSeconds`.
    func receiveUntilClosed(timeoutSeconds: Int) async throws -> [UInt8] {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try blockingReceiveUntilClosed(timeoutSeconds: timeoutSeconds) }) }.start()
        }
    }

    private func blockingReceiveUntilClosed(timeoutSeconds: Int) throws -> [UInt8] {
        var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var received: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n == 0 { return received }
            guard n > 0 else {
                throw Failure(description: "the connection was still open after \(timeoutSeconds) s (errno \(errno)); received: "
                              + String(decoding: received, as: UTF8.self))
            }
            received += chunk[..<n]
        }
    }

    func close() { Glibc.close(fd) }
}
