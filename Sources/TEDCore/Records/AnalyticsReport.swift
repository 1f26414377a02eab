/// How the models and the side bets did over a window (`AnalyticsQuery`), as the stores compute it. Shares and
/// rates are derived here from the stored counts, so both stores answer with the same definitions; a figure without
/// data is nil, never NaN.
public struct AnalyticsReport: Sendable, Equatable {
    /// One entry per model version with predictions in the window, by model version.
    public var models: [ModelAnalytics]
    public var sideBets: SideBetAnalytics

    public init(models: [ModelAnalytics] = [], sideBets: SideBetAnalytics = SideBetAnalytics()) {
        self.models = models
        self.sideBets = sideBets
    }
}

/// A tenth of [0, 1]: decile d holds the values in [d/10, (d+1)/10), decile 9 also 1 (values outside [0, 1] count
/// in the nearest decile).
public enum Decile {
    public static let count = 10

    public static func lowerBound(_ decile: Int) -> Double { Double(decile) / Double(count) }
    public static func upperBound(_ decile: Int) -> Double { Double(decile + 1) / Double(count) }
}

/// The resolved predictions of one model version.
public struct ModelAnalytics: Sendable, Equatable {
    public var modelVersion: String
    public var predictionsResolved: Int
    /// The mean signed error in ticks (predicted − actual end tick): the model's bias, positive when it predicts
    /// the rug too late.
    public var meanErrorTicks: Double?
    public var meanE40: Double?
    public var medianE40: Double?
    /// Resolved predictions within 1, 2, 3 windows (|raw_error| ≤ 40·k, `PredictionErrorMetrics.isWithin`).
    public var withinOneWindow: Int
    public var withinTwoWindows: Int
    public var withinThreeWindows: Int
    /// The confidence deciles that hold resolved predictions, ascending.
    public var calibration: [ConfidenceCalibration]

    public init(modelVersion: String, predictionsResolved: Int = 0, meanErrorTicks: Double? = nil, meanE40: Double? = nil,
                medianE40: Double? = nil, withinOneWindow: Int = 0, withinTwoWindows: Int = 0, withinThreeWindows: Int = 0,
                calibration: [ConfidenceCalibration] = []) {
        self.modelVersion = modelVersion
        self.predictionsResolved = predictionsResolved
        self.meanErrorTicks = meanErrorTicks
        self.meanE40 = meanE40
        self.medianE40 = medianE40
        self.withinOneWindow = withinOneWindow
        self.withinTwoWindows = withinTwoWindows
        self.withinThreeWindows = withinThreeWindows
        self.calibration = calibration
    }

    public var accuracyOneWindow: Double? { share(withinOneWindow, of: predictionsResolved) }
    public var accuracyTwoWindows: Double? { share(withinTwoWindows, of: predictionsResolved) }
    public var accuracyThreeWindows: Double? { share(withinThreeWindows, of: predictionsResolved) }
}

/// The resolved predictions of one confidence decile, and how many of them were within one window: a calibrated
/// model is right more often where it is more confident.
public struct ConfidenceCalibration: Sendable, Equatable {
    public var decile: Int
    public var predictions: Int
    public var withinOneWindow: Int

    public init(decile: Int, predictions: Int, withinOneWindow: Int) {
        self.decile = decile
        self.predictions = predictions
        self.withinOneWindow = withinOneWindow
    }

    public var shareWithinOneWindow: Double? { share(withinOneWindow, of: predictions) }
}

/// The side bets placed (recommendation `BET`) in the window.
public struct SideBetAnalytics: Sendable, Equatable {
    public var placed: Int
    /// Placed bets with an outcome: won + lost + void.
    public var resolved: Int
    public var won: Int
    public var lost: Int
    /// Placed at or after the rug: the stake came back.
    public var void: Int
    /// The payouts of the settled (won or lost) bets, in stake units.
    public var netPayout: Double
    /// The probability deciles that hold settled bets, ascending.
    public var calibration: [ProbabilityCalibration]

    public init(placed: Int = 0, resolved: Int = 0, won: Int = 0, lost: Int = 0, void: Int = 0, netPayout: Double = 0,
                calibration: [ProbabilityCalibration] = []) {
        self.placed = placed
        self.resolved = resolved
        self.won = won
        self.lost = lost
        self.void = void
        self.netPayout = netPayout
        self.calibration = calibration
    }

    public var roiPercentage: Double? { Self.roiPercentage(netPayout: netPayout, settledBets: won + lost) }

    /// Net payout per settled bet (a stake of one unit each), in percent: the one definition the hourly metrics, the
    /// metrics report and the analytics share.
    public static func roiPercentage(netPayout: Double, settledBets: Int) -> Double? {
        settledBets > 0 ? netPayout / Double(settledBets) * 100 : nil
    }
}

/// The settled bets of one decile of the predicted probability: how often they won against how often the model said
/// they would (the mean predicted probability).
public struct ProbabilityCalibration: Sendable, Equatable {
    public var decile: Int
    /// Settled (won or lost) bets: a void bet says nothing about the probability.
    public var bets: Int
    public var won: Int
    public var predictedWinRate: Double

    public init(decile: Int, bets: Int, won: Int, predictedWinRate: Double) {
        self.decile = decile
        self.bets = bets
        self.won = won
        self.predictedWinRate = predictedWinRate
    }

    public var realisedWinRate: Double? { share(won, of: bets) }
}

private func share(_ part: Int, of whole: Int) -> Double? { whole > 0 ? Double(part) / Double(whole) : nil }
