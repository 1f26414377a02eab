/// The analytics report as `GET /api/persistence/analytics` answers it (openapi.yaml, `AnalyticsReport`).
extension AnalyticsReport {
    public func json(hours: Int, query: AnalyticsQuery) -> JSONValue {
        [
            "enabled": true,
            "hours": JSONValue(hours),
            "period_start": .string(Timestamp.formatISO8601(query.start)),
            "period_end": .string(Timestamp.formatISO8601(query.end)),
            "include_inferred": .bool(query.includeInferred),
            "models": .array(models.map(\.json)),
            "side_bets": sideBets.json,
        ]
    }
}

extension ModelAnalytics {
    public var json: JSONValue {
        [
            "model_version": .string(modelVersion),
            "predictions_resolved": JSONValue(predictionsResolved),
            "mean_error_ticks": JSONValue(meanErrorTicks),
            "mean_e40": JSONValue(meanE40),
            "median_e40": JSONValue(medianE40),
            "within_1_window": JSONValue(withinOneWindow),
            "within_2_windows": JSONValue(withinTwoWindows),
            "within_3_windows": JSONValue(withinThreeWindows),
            "accuracy_1_window": JSONValue(accuracyOneWindow),
            "accuracy_2_windows": JSONValue(accuracyTwoWindows),
            "accuracy_3_windows": JSONValue(accuracyThreeWindows),
            "calibration": .array(calibration.map(\.json)),
        ]
    }
}

extension ConfidenceCalibration {
    public var json: JSONValue {
        [
            "decile": JSONValue(decile),
            "confidence_from": .double(Decile.lowerBound(decile)),
            "confidence_to": .double(Decile.upperBound(decile)),
            "predictions": JSONValue(predictions),
            "within_1_window": JSONValue(withinOneWindow),
            "share_within_1_window": JSONValue(shareWithinOneWindow),
        ]
    }
}

extension SideBetAnalytics {
    public var json: JSONValue {
        [
            "placed": JSONValue(placed),
            "resolved": JSONValue(resolved),
            "won": JSONValue(won),
            "lost": JSONValue(lost),
            "void": JSONValue(void),
            "net_payout": .double(netPayout),
            "roi_percentage": JSONValue(roiPercentage),
            "calibration": .array(calibration.map(\.json)),
        ]
    }
}

extension ProbabilityCalibration {
    public var json: JSONValue {
        [
            "decile": JSONValue(decile),
            "probability_from": .double(Decile.lowerBound(decile)),
            "probability_to": .double(Decile.upperBound(decile)),
            "bets": JSONValue(bets),
            "won": JSONValue(won),
            "realised_win_rate": JSONValue(realisedWinRate),
            "predicted_win_rate": .double(predictedWinRate),
        ]
    }
}
