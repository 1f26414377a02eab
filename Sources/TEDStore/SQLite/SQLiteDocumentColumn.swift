import Foundation
import TEDCore

extension SQLiteStatement {
    /// The `DocumentJSON` document in `column` of the current row (a `doc` column).
    func document(_ column: Int32) throws(StoreError) -> Document {
        try withBytes(column) { bytes throws(StoreError) in
            try DocumentJSON.decode(bytes ?? UnsafeBufferPointer(start: nil, count: 0))
        }
    }

    /// The date in `column` (epoch milliseconds, as the `created_at` column and `DocumentJSON` keep dates); nil for NULL.
    func optionalDate(_ column: Int32) -> Date? {
        isNull(column) ? nil : DocumentJSON.date(milliseconds: int64(column))
    }
}
