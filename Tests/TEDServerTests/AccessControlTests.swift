import Testing
@testable import TEDServer

/// The bearer-token comparison: equal only for the same bytes and the same length.
@Suite struct AccessControlTests {
    @Test func equalTokensMatchAndDifferentOnesDoNot() {
        let token = Array("feed-key".utf8)
        #expect(AccessControl.constantTimeEquals(token, token))
        #expect(!AccessControl.constantTimeEquals(token, Array("feed-kez".utf8)))
        #expect(!AccessControl.constantTimeEquals(token, Array("feed-ke".utf8)))
        #expect(!AccessControl.constantTimeEquals(token, []))
    }

    /// A length difference that is a multiple of 256 must still count: NUL padding compares equal to absent bytes.
    @Test(arguments: [1, 256, 512, 65_536])
    func aTokenPaddedWithNULBytesIsRefused(padding: Int) {
        let token = Array("feed-key".utf8)
        #expect(!AccessControl.constantTimeEquals(token + Array(repeating: 0, count: padding), token))
        #expect(!AccessControl.constantTimeEquals(token, token + Array(repeating: 0, count: padding)))
    }
}
