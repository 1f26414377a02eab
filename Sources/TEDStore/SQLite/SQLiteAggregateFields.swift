import Foundation
import TEDCore

/// Fields as the aggregates (hourly metrics, analytics) read them, through `SQLiteField`, so the same SQL serves a
/// table in either layout: a column where it has one, `json_extract` over its JSON otherwise.
extension SQLiteTable {
    /// The field's value.
    func value(_ field: String) throws(StoreError) -> String { try SQLiteField(field, in: self).expression }

    /// The field when it is a number, else NULL (which `count(column)`, `avg` and `total` skip).
    func number(_ field: String) throws(StoreError) -> String {
        let field = try SQLiteField(field, in: self)
        return "CASE WHEN \(field.type) IN ('integer', 'real') THEN \(field.expression) END"
    }

    /// Whether the field is the boolean true.
    func isTrue(_ field: String) throws(StoreError) -> String { "\(try SQLiteField(field, in: self).type) = 'true'" }

    /// The rows of [?1, ?2) by `created_at`, without those marked `end_inferred` unless ?3 (true reads as 1; older
    /// rows without the field count as seen).
    func inRange() throws(StoreError) -> String {
        "created_at >= ?1 AND created_at < ?2 AND (?3 OR \(try value("end_inferred")) IS NOT 1)"
    }
}
