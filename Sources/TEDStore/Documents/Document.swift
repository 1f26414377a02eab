import Foundation

/// A value of a stored document: the subset of BSON the service uses. Both stores understand it:
/// MongoDB as BSON (`BSONCodec`), SQLite as JSON text (`DocumentJSON`).
public enum DocumentValue: Sendable, Equatable {
    case double(Double)
    case string(String)
    case document(Document)
    case array([DocumentValue])
    case bool(Bool)
    case date(Date)
    case null
    case int32(Int32)
    case int64(Int64)

    public var intValue: Int? {
        switch self {
        case .int32(let v): Int(v)
        case .int64(let v): Int(v)
        case .double(let v) where v.rounded() == v && abs(v) < 9e15: Int(v)
        default: nil
        }
    }

    public var doubleValue: Double? {
        switch self {
        case .double(let v): v
        case .int32(let v): Double(v)
        case .int64(let v): Double(v)
        default: nil
        }
    }

    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    public var boolValue: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }

    public var dateValue: Date? {
        if case .date(let d) = self { return d }
        return nil
    }

    public var documentValue: Document? {
        if case .document(let d) = self { return d }
        return nil
    }

    public var arrayValue: [DocumentValue]? {
        if case .array(let a) = self { return a }
        return nil
    }
}

/// An ordered document (field order matters to MongoDB for index keys and commands).
public struct Document: Sendable, Equatable, ExpressibleByDictionaryLiteral {
    public var fields: [(key: String, value: DocumentValue)]

    public init() { fields = [] }

    public init(_ fields: [(key: String, value: DocumentValue)]) { self.fields = fields }

    public init(dictionaryLiteral elements: (String, DocumentValue)...) {
        fields = elements.map { (key: $0.0, value: $0.1) }
    }

    public subscript(key: String) -> DocumentValue? {
        get {
            for field in fields where field.key == key { return field.value }
            return nil
        }
        set {
            if let index = fields.firstIndex(where: { $0.key == key }) {
                if let newValue { fields[index].value = newValue } else { fields.remove(at: index) }
            } else if let newValue {
                fields.append((key, newValue))
            }
        }
    }

    /// Follows a dotted path (`error_metrics.e40`).
    public func value(at path: String) -> DocumentValue? {
        var current: DocumentValue = .document(self)
        for part in path.split(separator: ".") {
            guard case .document(let doc) = current, let next = doc[String(part)] else { return nil }
            current = next
        }
        return current
    }

    public var keys: [String] { fields.map(\.key) }
    public var isEmpty: Bool { fields.isEmpty }

    public mutating func append(_ key: String, _ value: DocumentValue) { fields.append((key, value)) }

    public static func == (lhs: Document, rhs: Document) -> Bool {
        lhs.fields.count == rhs.fields.count
            && zip(lhs.fields, rhs.fields).allSatisfy { $0.key == $1.key && $0.value == $1.value }
    }
}

extension DocumentValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByFloatLiteral {
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int) { self = .int64(Int64(value)) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
}
