/// A `game_state` for a game whose rug was already seen that is not an exact re-send: a second round reusing the
/// `game_id`. Refused, with the whole request, so the stored game stays intact.
public struct ClosedGameConflict: Sendable, Equatable {
    /// The event's position in its request.
    public var index: Int
    public var gameID: String
    public var rugTick: Int

    public init(index: Int, gameID: String, rugTick: Int) {
        self.index = index
        self.gameID = gameID
        self.rugTick = rugTick
    }

    public var message: String {
        "game \(gameID) rugged at tick \(rugTick); new ticks need a new game_id (an exact re-send is accepted)"
    }
}
