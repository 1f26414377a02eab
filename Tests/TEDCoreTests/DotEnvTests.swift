import Foundation
import Testing
@testable import TEDCore

@Suite("DotEnv")
struct DotEnvTests {
    @Test func plainPairs() {
        #expect(DotEnv.parse("A=1\nB=two\n") == ["A": "1", "B": "two"])
        #expect(DotEnv.parse("A=1") == ["A": "1"])
        #expect(DotEnv.parse("") == [:])
    }

    @Test func commentsAndBlankLines() {
        let text = """
            # a comment
               # an indented comment

            A=1
            #B=2
            """
        #expect(DotEnv.parse(text) == ["A": "1"])
    }

    @Test func exportPrefix() {
        #expect(DotEnv.parse("export A=1\n  export B=\"x y\"") == ["A": "1", "B": "x y"])
    }

    @Test func whitespaceAroundKeysAndValues() {
        #expect(DotEnv.parse("  A = 1  \n\tB=\t2\t") == ["A": "1", "B": "2"])
    }

    @Test func doubleQuotes() {
        #expect(DotEnv.parse(#"A="hello world""#) == ["A": "hello world"])
        #expect(DotEnv.parse(#"A="has # hash""#) == ["A": "has # hash"])
        #expect(DotEnv.parse(#"A="quoted" # and a comment"#) == ["A": "quoted"])
        #expect(DotEnv.parse(#"A="it's""#) == ["A": "it's"])
        #expect(DotEnv.parse(#"A="""#) == ["A": ""])
    }

    @Test func singleQuotes() {
        #expect(DotEnv.parse("A='hello world'") == ["A": "hello world"])
        #expect(DotEnv.parse("A='$NOT_EXPANDED # kept'") == ["A": "$NOT_EXPANDED # kept"])
        #expect(DotEnv.parse(#"A='say "hi"'"#) == ["A": #"say "hi""#])
    }

    @Test func inlineComments() {
        #expect(DotEnv.parse("A=value # comment") == ["A": "value"])
        #expect(DotEnv.parse("A=value   # comment") == ["A": "value"])
        // A `#` not preceded by a space is part of the value (URL fragments, colours).
        #expect(DotEnv.parse("A=abc#def") == ["A": "abc#def"])
    }

    @Test func valuesMayContainEquals() {
        #expect(DotEnv.parse("MONGO_URL=mongodb://u:p@h/db?w=majority&a=b")
            == ["MONGO_URL": "mongodb://u:p@h/db?w=majority&a=b"])
        #expect(DotEnv.parse("A==") == ["A": "="])
    }

    @Test func emptyValue() {
        #expect(DotEnv.parse("A=\nB=") == ["A": "", "B": ""])
    }

    @Test func crlfLineEndings() {
        #expect(DotEnv.parse("A=1\r\nB=2\r\n# c\r\nC=\"3\"\r\n") == ["A": "1", "B": "2", "C": "3"])
    }

    @Test func linesWithoutAKeyAreIgnored() {
        #expect(DotEnv.parse("just text\n=orphan\nA=1") == ["A": "1"])
    }

    @Test func laterDefinitionWins() {
        #expect(DotEnv.parse("A=1\nA=2") == ["A": "2"])
    }

    @Test func loadMissingFileIsEmpty() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("missing-\(UUID().uuidString).env").path
        #expect(try DotEnv.load(path: path) == [:])
    }

    @Test func loadReadsAFile() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("dotenv-\(UUID().uuidString).env")
        try Data("export PORT=8100\nHOST='0.0.0.0'\n".utf8).write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        #expect(try DotEnv.load(path: url.path) == ["PORT": "8100", "HOST": "0.0.0.0"])
    }
}

@Suite("MongoURL")
struct MongoURLTests {
    @Test func redactsThePassword() {
        #expect(MongoURL.redacted("mongodb://user:secret@host:27017/db?authSource=admin")
            == "mongodb://user:***@host:27017/db?authSource=admin")
        #expect(MongoURL.redacted("mongodb+srv://app:hunter2@cluster0.example.net/?retryWrites=true")
            == "mongodb+srv://app:***@cluster0.example.net/?retryWrites=true")
        #expect(MongoURL.redacted("mongodb://user:secret@h1:1,h2:2,h3:3/db?replicaSet=rs0")
            == "mongodb://user:***@h1:1,h2:2,h3:3/db?replicaSet=rs0")
    }

    @Test(arguments: [
        ("mongodb://user:p@ss@host/db", "p@ss", "mongodb://user:***@host/db"),
        ("mongodb://user:a:b:c@host/db", "a:b:c", "mongodb://user:***@host/db"),
        ("mongodb://user:p%40ss%3Aword@host/db", "p%40ss%3Aword", "mongodb://user:***@host/db"),
        ("mongodb://user:s3cr3t@host", "s3cr3t", "mongodb://user:***@host"),
        ("mongodb://user:s3cr3t@host/", "s3cr3t", "mongodb://user:***@host/"),
        ("mongodb://:s3cr3t@host/db", "s3cr3t", "mongodb://:***@host/db"),
    ])
    func passwordNeverAppears(_ url: String, _ password: String, _ expected: String) {
        let redacted = MongoURL.redacted(url)
        #expect(redacted == expected)
        #expect(!redacted.contains(password), "\(redacted)")
    }

    @Test func urlsWithoutAPasswordAreUnchanged() {
        for url in ["mongodb://localhost:27017/db", "mongodb://user@host/db", "mongodb://host", "not a url", ""] {
            #expect(MongoURL.redacted(url) == url)
        }
    }

    @Test func scrubRemovesThePasswordFromMessages() {
        let url = "mongodb://user:topsecret@host/db"
        let message = "cannot connect to \(url): authentication failed for password topsecret"
        let scrubbed = MongoURL.scrub(message, url: url)
        #expect(!scrubbed.contains("topsecret"))
        #expect(scrubbed.contains("mongodb://user:***@host/db"))
        #expect(MongoURL.scrub("plain message", url: nil) == "plain message")
        #expect(MongoURL.scrub("no password here", url: "mongodb://host/db") == "no password here")
    }

    @Test func databaseName() {
        #expect(MongoURL.databaseName(of: "mongodb://host/rugs") == "rugs")
        #expect(MongoURL.databaseName(of: "mongodb://host:27017/rugs?authSource=admin") == "rugs")
        #expect(MongoURL.databaseName(of: "mongodb://u:p@host/rugs") == "rugs")
        #expect(MongoURL.databaseName(of: "mongodb://u:p/w@host/rugs") == "rugs")
        #expect(MongoURL.databaseName(of: "mongodb://h1,h2,h3/rugs?replicaSet=x") == "rugs")
        #expect(MongoURL.databaseName(of: "mongodb+srv://u:p@cluster.example.net/live") == "live")
        #expect(MongoURL.databaseName(of: "mongodb://host") == nil)
        #expect(MongoURL.databaseName(of: "mongodb://host/") == nil)
        #expect(MongoURL.databaseName(of: "mongodb://host/?w=1") == nil)
        #expect(MongoURL.databaseName(of: "mongodb://u:p@host") == nil)
        #expect(MongoURL.databaseName(of: "no scheme/db") == nil)
    }
}
