import Foundation
import TEDCore

extension SQLiteStatement {
    /// The `DocumentJSON` document in `column` of the current row (a `doc` column).
    func document(_ column: Int32) throws(StoreError) -> Document {
        try withBytes(column) { bytes throws(StoreError) in
            try DocumentJSON.decode(bytes ?? UnsafeBufferPointer(start: nil, count: 0))
        }
    }
}
