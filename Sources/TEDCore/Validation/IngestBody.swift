/// Splits an ingest body into its JSON events: one object, an array of objects, or NDJSON.
public enum IngestBody {
    public enum Failure: Error, Sendable, Equatable {
        /// Not JSON; `index` is the event whose line failed (NDJSON) or nil (one document).
        case malformed(index: Int?, reason: String)
        /// More events than one request may carry.
        case tooManyEvents(count: Int, limit: Int)
        /// A JSON document that is neither an object nor an array.
        case notAnEvent(typeName: String)
    }

    public static func events(from body: some Collection<UInt8>, ndjson: Bool, maxEvents: Int) throws(Failure) -> [JSONValue] {
        let values: [JSONValue]
        if ndjson {
            do {
                values = try JSONParser.parseLines(body)
            } catch {
                throw .malformed(index: error.valueIndex, reason: "line \(error.line + 1): \(error.underlying)")
            }
        } else {
            let document: JSONValue
            do {
                document = try JSONParser.parse(body)
            } catch {
                throw .malformed(index: nil, reason: error.description)
            }
            switch document {
            case .array(let array): values = array
            case .object: values = [document]
            default: throw .notAnEvent(typeName: document.typeName)
            }
        }
        guard values.count <= maxEvents else { throw .tooManyEvents(count: values.count, limit: maxEvents) }
        return values
    }
}
