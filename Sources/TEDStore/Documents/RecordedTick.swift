import Foundation

/// One tick of a game's recording: a stored tick sample without its features.
public struct RecordedTick: Sendable, Equatable {
    public var tick: Int
    public var price: Double
    public var timestamp: Date

    public init(tick: Int, price: Double, timestamp: Date) {
        self.tick = tick
        self.price = price
        self.timestamp = timestamp
    }

    /// The `_id`s of the tick samples of `gameID`, [`lower`, `upper`): every key `game_id:tick` starts with
    /// `gameID + ":"`, and `;` is the character after `:`, so the range holds exactly the keys with that prefix
    /// (in the binary order both stores use). Keys of another game whose id extends this one (`g:1` beside `g`)
    /// fall in the range too: readers also match `game_id`.
    static func idRange(ofGame gameID: String) -> (lower: String, upper: String) {
        (gameID + ":", gameID + ";")
    }

    /// A tick sample document (at least `tick`, `price` and `timestamp`) as a recorded tick, naming the field
    /// that is missing or of the wrong type.
    init(document: Document) throws(StoreError) {
        let reader = DocumentReader(document: document, collection: .tickSamples)
        self.init(tick: try reader.int("tick"), price: try reader.double("price"), timestamp: try reader.date("timestamp"))
    }
}
