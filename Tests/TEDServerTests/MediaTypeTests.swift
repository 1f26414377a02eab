import Testing
@testable import TEDServer

/// The media type the ingest route and the cross-site guard read from `Content-Type`.
@Suite struct MediaTypeTests {
    @Test(arguments: [
        ("application/json", "application/json"),
        (" Application/JSON ; charset=utf-8", "application/json"),
        ("\tapplication/x-ndjson\t", "application/x-ndjson"),
        ("text/plain;charset=utf-8", "text/plain"),
    ])
    func isLowerCasedWithoutParametersOrWhitespace(value: String, expected: String) {
        #expect(CrossSiteWriteGuard.mediaType(value) == expected)
    }

    @Test(arguments: [nil, "", "   ", "\t", "; charset=utf-8", " ;x"] as [String?])
    func anAbsentOrEmptyTypeIsNil(value: String?) {
        #expect(CrossSiteWriteGuard.mediaType(value) == nil)
    }
}
