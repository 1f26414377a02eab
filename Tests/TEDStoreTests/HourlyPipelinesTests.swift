import Foundation
import Testing
@testable import TEDStore

/// The hourly metrics pipelines as MongoDB receives them: only operators MongoDB 4.4 knows, and no stage that
/// gathers the period's values into one document.
@Suite struct HourlyPipelinesTests {
    static let range: Document = ["created_at": .document(["$gte": .date(Date(timeIntervalSince1970: 0)), "$lt": .date(Date())])]

    static var pipelines: [[DocumentValue]] {
        [HourlyPipelines.predictions(range), HourlyPipelines.sideBets(range),
         HourlyPipelines.medianE40(range, count: 7), HourlyPipelines.medianE40(range, count: 8)]
    }

    /// Every `$` key (stage, operator, accumulator) in `value`; `$field` strings are paths, not operators.
    static func operators(in value: DocumentValue) -> Set<String> {
        switch value {
        case .document(let document):
            var found = Set(document.keys.filter { $0.hasPrefix("$") })
            for key in document.keys { found.formUnion(operators(in: document[key]!)) }
            return found
        case .array(let values):
            return values.reduce(into: []) { $0.formUnion(operators(in: $1)) }
        default:
            return []
        }
    }

    /// MongoDB 4.4's: `$sortArray` (5.2), `$median` (7.0), `$setWindowFields` (5.0) and the like must not appear.
    static let mongoDB44: Set<String> = [
        "$match", "$group", "$project", "$addFields", "$sort", "$skip", "$limit",
        "$sum", "$avg", "$cond", "$eq", "$and", "$in", "$gt", "$gte", "$lt", "$lte", "$add", "$multiply", "$divide",
        "$isNumber", "$type",
    ]

    @Test func onlyOperatorsOfMongoDB44() {
        for pipeline in Self.pipelines {
            let used = Self.operators(in: .array(pipeline))
            #expect(used.subtracting(Self.mongoDB44).isEmpty, "not in MongoDB 4.4: \(used.subtracting(Self.mongoDB44).sorted())")
        }
    }

    /// A `$push` (or `$addToSet`) of every e40 builds one document as large as the period: past 16 MB it fails.
    @Test func noValueIsGatheredIntoAnArray() {
        for pipeline in Self.pipelines {
            let used = Self.operators(in: .array(pipeline))
            #expect(used.isDisjoint(with: ["$push", "$addToSet"]))
        }
    }

    /// The middle one of an odd count, the middle two of an even count.
    @Test func theMedianSkipsToTheMiddle() {
        func stage(_ name: String, _ pipeline: [DocumentValue]) -> DocumentValue? {
            pipeline.compactMap { value -> DocumentValue? in
                guard case .document(let document) = value else { return nil }
                return document[name]
            }.first
        }
        #expect(stage("$skip", HourlyPipelines.medianE40(Self.range, count: 7))?.intValue == 3)
        #expect(stage("$limit", HourlyPipelines.medianE40(Self.range, count: 7))?.intValue == 1)
        #expect(stage("$skip", HourlyPipelines.medianE40(Self.range, count: 8))?.intValue == 3)
        #expect(stage("$limit", HourlyPipelines.medianE40(Self.range, count: 8))?.intValue == 2)
        #expect(stage("$skip", HourlyPipelines.medianE40(Self.range, count: 1))?.intValue == 0)
    }
}
