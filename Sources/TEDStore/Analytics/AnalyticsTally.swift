import TEDCore

/// The groups both stores' analytics aggregations return, summed into an `AnalyticsReport`. The database scans,
/// groups and sums the window's records; what reaches this type is at most one group per model version and
/// confidence decile, and one per probability decile, however many records the window holds.
struct AnalyticsTally {
    /// The predictions of one model version and confidence decile (nil: the confidence is not a number).
    struct PredictionGroup {
        var model: String
        var decile: Int?
        var resolved = 0
        /// Resolved predictions whose `raw_error` is a number, and the sum of those errors.
        var signedErrors = 0
        var errorSum = 0.0
        /// Resolved predictions whose `e40` is a number (the values the median ranks), and the sum of those values.
        var ranked = 0
        var e40Sum = 0.0
        var withinOneWindow = 0
        var withinTwoWindows = 0
        var withinThreeWindows = 0
    }

    /// The placed side bets of one probability decile (nil: the probability is not a number).
    struct SideBetGroup {
        var decile: Int?
        var placed = 0
        var resolved = 0
        var won = 0
        var lost = 0
        var void = 0
        /// Payouts of the settled (won or lost) bets.
        var netPayout = 0.0
        /// The predicted probabilities of the settled bets, summed.
        var settledProbabilitySum = 0.0
    }

    private var models: [String: [PredictionGroup]] = [:]
    private var sideBets: [SideBetGroup] = []

    mutating func add(_ group: PredictionGroup) { models[group.model, default: []].append(group) }
    mutating func add(_ group: SideBetGroup) { sideBets.append(group) }

    /// The model versions whose median has values to rank, with how many: each store ranks them its own way.
    var rankedE40: [(model: String, count: Int)] {
        models.keys.sorted().compactMap { model in
            let count = models[model, default: []].reduce(0) { $0 + $1.ranked }
            return count > 0 ? (model, count) : nil
        }
    }

    /// The report, with the median e40 of each model version as the store ranked it.
    func report(medianE40: [String: Double]) -> AnalyticsReport {
        AnalyticsReport(models: models.keys.sorted().map { model(named: $0, median: medianE40[$0]) }, sideBets: sideBetAnalytics)
    }

    private func model(named name: String, median: Double?) -> ModelAnalytics {
        // In decile order, so the sums add up the same way whatever order the store returned the groups in.
        let groups = models[name, default: []].sorted { ($0.decile ?? -1) < ($1.decile ?? -1) }
        func total(_ value: (PredictionGroup) -> Int) -> Int { groups.reduce(0) { $0 + value($1) } }
        let signedErrors = total(\.signedErrors), ranked = total(\.ranked)
        // The database groups numerically equal deciles together (3 and 3.0 are one key): one group a decile.
        let calibration = groups.compactMap { group -> ConfidenceCalibration? in
            guard let decile = group.decile, group.resolved > 0 else { return nil }
            return ConfidenceCalibration(decile: decile, predictions: group.resolved, withinOneWindow: group.withinOneWindow)
        }.sorted { $0.decile < $1.decile }
        return ModelAnalytics(
            modelVersion: name, predictionsResolved: total(\.resolved),
            meanErrorTicks: signedErrors > 0 ? groups.reduce(0) { $0 + $1.errorSum } / Double(signedErrors) : nil,
            meanE40: ranked > 0 ? groups.reduce(0) { $0 + $1.e40Sum } / Double(ranked) : nil,
            medianE40: median,
            withinOneWindow: total(\.withinOneWindow), withinTwoWindows: total(\.withinTwoWindows),
            withinThreeWindows: total(\.withinThreeWindows),
            calibration: calibration)
    }

    private var sideBetAnalytics: SideBetAnalytics {
        func total(_ value: (SideBetGroup) -> Int) -> Int { sideBets.reduce(0) { $0 + value($1) } }
        let calibration = sideBets.compactMap { group -> ProbabilityCalibration? in
            let bets = group.won + group.lost
            guard let decile = group.decile, bets > 0 else { return nil }
            return ProbabilityCalibration(decile: decile, bets: bets, won: group.won,
                                          predictedWinRate: group.settledProbabilitySum / Double(bets))
        }.sorted { $0.decile < $1.decile }
        return SideBetAnalytics(
            placed: total(\.placed), resolved: total(\.resolved), won: total(\.won), lost: total(\.lost), void: total(\.void),
            netPayout: sideBets.reduce(0) { $0 + $1.netPayout }, calibration: calibration)
    }
}
