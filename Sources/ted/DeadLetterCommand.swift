import ArgumentParser
import Foundation
import TEDCore
import TEDPersistence
import TEDStore

/// `ted dead-letters list|redrive|purge`: the dead-letter from the command line, with or without the service
/// running (the admin API does the same through a running service).
struct DeadLetterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dead-letters",
        abstract: "List, re-drive or purge the records the store refused for good.",
        subcommands: [List.self, Redrive.self, Purge.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List dead letters, oldest first, with their error.")

        @Option(help: "The most letters to list.")
        var limit = 100

        @Flag(help: "One JSON object a line (the admin API's letter format) instead of a table.")
        var json = false

        func validate() throws {
            guard limit > 0 else { throw ValidationError("--limit must be a positive whole number") }
        }

        func run() async throws {
            try await BackupSession.run { store, _ in
                let deadLetters = DeadLetters(store: store)
                let total = try await deadLetters.count()
                let letters = try await deadLetters.list(limit: limit)
                if json {
                    for letter in letters { print(letter.json.serializedString) }
                    return
                }
                print("\(total) dead letter\(total == 1 ? "" : "s")\(total > letters.count ? ", the oldest \(letters.count) listed" : "")")
                for letter in letters {
                    print("  \(Timestamp.formatISO8601(letter.failedAt))  \(letter.collection)/\(letter.recordID)  "
                          + "code \(letter.errorCode): \(letter.errorMessage)")
                }
            }
        }
    }

    struct Redrive: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write the letters' records to their collections again, once the cause is fixed.",
            discussion: "A letter is removed only when its record is stored; refused again, it keeps the new error. Exits 1 when any record is still not stored.")

        @Option(help: "The most letters to re-drive.")
        var limit = 10_000

        func validate() throws {
            guard limit > 0 else { throw ValidationError("--limit must be a positive whole number") }
        }

        func run() async throws {
            try await BackupSession.run { store, settings in
                let outcome = try await DeadLetterRedrive(store: store, rules: OutcomeRules(settings: settings))
                    .run(limit: limit, now: Date())
                print("Re-driven: \(outcome.stored) stored, \(outcome.refusedAgain) refused again, "
                      + "\(outcome.retryable) to retry, \(outcome.unreadable) unreadable")
                if let error = outcome.firstError { print("  first error: \(error)") }
                if outcome.refusedAgain + outcome.retryable > 0 { throw ExitCode.failure }
            }
        }
    }

    struct Purge: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete every dead letter.")

        @Flag(help: "Confirm: the refused records are gone for good.")
        var yes = false

        func validate() throws {
            guard yes else { throw ValidationError("purging deletes the refused records for good: add --yes to confirm") }
        }

        func run() async throws {
            try await BackupSession.run { store, _ in
                print("Purged \(try await DeadLetters(store: store).purge()) dead letters")
            }
        }
    }
}
