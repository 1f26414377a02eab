/// The exact median in SQL, for the hourly metrics and the analytics alike.
enum SQLiteMedian {
    /// One row `(group, median)` for each value of column `group` of `rows`: the median of its column `value`, the
    /// middle value or the mean of the two middle values for an even count. SQLite sorts the rows, spilling to
    /// temporary files past its cache, so memory stays bounded however many rows there are.
    static func select(_ value: String, groupedBy group: String, from rows: String) -> String {
        """
        SELECT \(group), avg(\(value)) FROM (
            SELECT \(group), \(value), row_number() OVER (PARTITION BY \(group) ORDER BY \(value)) AS position,
                count(*) OVER (PARTITION BY \(group)) AS total
            FROM (\(rows)))
        WHERE position IN ((total + 1) / 2, (total + 2) / 2) GROUP BY \(group)
        """
    }
}
