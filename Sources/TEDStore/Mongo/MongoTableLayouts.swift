/// MongoDB keeps every collection as documents, one way only: it has no table layouts to report.
extension MongoStore {
    public func tableLayouts() async throws(StoreError) -> [TableLayout] { [] }
}
