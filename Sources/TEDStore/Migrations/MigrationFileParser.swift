import TEDCore

/// Turns the JSON of one migration file into a `Migration`, strictly: an unknown field is a typo that would
/// otherwise silently drop a change, so it is an error naming the file and the field's path.
struct MigrationFileParser {
    /// The file's path, for messages.
    let file: String

    /// `backend`: the folder the file is in (`migrations/sqlite/`), nil for the top level.
    func parse(_ bytes: [UInt8], version: Int, name: String, fileName: String, backend: StoreBackend? = nil) throws(MigrationError) -> Migration {
        let json: JSONValue
        do {
            json = try JSONParser.parse(bytes)
        } catch {
            throw MigrationError.invalidFile(file: file, reason: error.description)
        }
        let root = try object(json, at: "")
        try checkFields(of: root, at: "", allowed: ["description", "up", "down"])
        return Migration(
            version: version, name: name, fileName: fileName, checksum: SHA256.hex(bytes),
            description: try optionalString(root, "description", at: ""),
            up: try steps(try required(root, "up", at: ""), at: "up", backend: backend),
            down: try steps(try required(root, "down", at: ""), at: "down", backend: backend),
            backend: backend)
    }

    private func steps(_ value: JSONValue, at path: String, backend: StoreBackend?) throws(MigrationError) -> MigrationSteps {
        let fields = try object(value, at: path)
        try checkFields(of: fields, at: path,
                        allowed: ["create_collections", "layouts", "drop_indexes", "create_indexes", "drop_collections"])
        var steps = MigrationSteps()
        for (i, item) in try array(fields, "create_collections", at: path).enumerated() {
            steps.createCollections.append(try collectionSpec(item, at: "\(path).create_collections[\(i)]"))
        }
        let layouts = try array(fields, "layouts", at: path)
        if !layouts.isEmpty && backend == nil {
            // A layout is one backend's way of storing rows: the same step cannot mean anything to the others.
            throw invalid("\(path).layouts", "belongs in a backend's folder (migrations/sqlite/)")
        }
        for (i, item) in layouts.enumerated() {
            steps.layouts.append(try layoutChange(item, at: "\(path).layouts[\(i)]"))
        }
        for (i, item) in try array(fields, "drop_indexes", at: path).enumerated() {
            steps.dropIndexes.append(try indexReference(item, at: "\(path).drop_indexes[\(i)]"))
        }
        for (i, item) in try array(fields, "create_indexes", at: path).enumerated() {
            steps.createIndexes.append(try declaredIndex(item, at: "\(path).create_indexes[\(i)]"))
        }
        for (i, item) in try array(fields, "drop_collections", at: path).enumerated() {
            guard let name = item.stringValue else { throw invalid("\(path).drop_collections[\(i)]", "must be a collection name") }
            steps.dropCollections.append(try collectionName(name, at: "\(path).drop_collections[\(i)]"))
        }
        return steps
    }

    private func collectionSpec(_ value: JSONValue, at path: String) throws(MigrationError) -> CollectionSpec {
        let fields = try object(value, at: path)
        try checkFields(of: fields, at: path, allowed: ["name", "validator"])
        let name = try collectionName(try requiredString(fields, "name", at: path), at: "\(path).name")
        switch fields["validator"] {
        case nil, .null?: return CollectionSpec(name: name)
        case .object(let validator)?: return CollectionSpec(name: name, validator: validator.document)
        case let other?: throw invalid("\(path).validator", "must be an object, not \(other.typeName)")
        }
    }

    private func layoutChange(_ value: JSONValue, at path: String) throws(MigrationError) -> LayoutChange {
        let fields = try object(value, at: path)
        try checkFields(of: fields, at: path, allowed: ["collection", "layout"])
        let collection = try collectionName(try requiredString(fields, "collection", at: path), at: "\(path).collection")
        let name = try requiredString(fields, "layout", at: path)
        guard let layout = StoredLayout(rawValue: name) else {
            throw invalid("\(path).layout", "\"\(name)\" is not a layout (\(StoredLayout.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        return LayoutChange(collection: collection, layout: layout)
    }

    private func indexReference(_ value: JSONValue, at path: String) throws(MigrationError) -> IndexReference {
        let fields = try object(value, at: path)
        try checkFields(of: fields, at: path, allowed: ["collection", "name"])
        return IndexReference(
            collection: try collectionName(try requiredString(fields, "collection", at: path), at: "\(path).collection"),
            name: try identifier(try requiredString(fields, "name", at: path), at: "\(path).name"))
    }

    private func declaredIndex(_ value: JSONValue, at path: String) throws(MigrationError) -> DeclaredIndex {
        let fields = try object(value, at: path)
        try checkFields(of: fields, at: path, allowed: ["collection", "name", "keys", "unique", "expire_after_seconds", "why"])
        let collection = try collectionName(try requiredString(fields, "collection", at: path), at: "\(path).collection")
        let name = try identifier(try requiredString(fields, "name", at: path), at: "\(path).name")
        let why = try requiredString(fields, "why", at: path)
        guard !why.allSatisfy(\.isWhitespace) else { throw invalid("\(path).why", "must say which query needs the index") }

        var keys: [(field: String, order: Int)] = []
        for (i, item) in try array(fields, "keys", at: path).enumerated() {
            keys.append(try indexKey(item, at: "\(path).keys[\(i)]"))
        }
        guard !keys.isEmpty else { throw invalid("\(path).keys", "must list at least one field") }
        guard Set(keys.map(\.field)).count == keys.count else { throw invalid("\(path).keys", "lists a field twice") }

        let unique: Bool
        switch fields["unique"] {
        case nil: unique = false
        case .bool(let value)?: unique = value
        case let other?: throw invalid("\(path).unique", "must be true or false, not \(other.typeName)")
        }
        var expireAfterSeconds: Int?
        switch fields["expire_after_seconds"] {
        case nil, .null?: break
        case .int(let seconds)? where seconds >= 0 && seconds <= Int64(Int32.max): expireAfterSeconds = Int(seconds)
        case _?: throw invalid("\(path).expire_after_seconds", "must be a whole number of seconds ≥ 0")
        }
        let spec = IndexSpec(name: name, keys: keys, unique: unique, expireAfterSeconds: expireAfterSeconds)
        return DeclaredIndex(collection: collection, spec: spec, why: why)
    }

    private func indexKey(_ value: JSONValue, at path: String) throws(MigrationError) -> (field: String, order: Int) {
        let fields = try object(value, at: path)
        try checkFields(of: fields, at: path, allowed: ["field", "order"])
        let field = try requiredString(fields, "field", at: path)
        guard !field.isEmpty, !field.hasPrefix("$"), field.unicodeScalars.allSatisfy(Self.isFieldCharacter) else {
            throw invalid("\(path).field", "\"\(field)\" is not a field name (letters, digits, _ and . for nested fields)")
        }
        guard case .int(let order)? = fields["order"], order == 1 || order == -1 else {
            throw invalid("\(path).order", "must be 1 (ascending) or -1 (descending)")
        }
        return (field, Int(order))
    }

    // MARK: Names

    /// Collections named so both stores can use them unquoted; the ledger and the locks are the runner's own.
    private func collectionName(_ name: String, at path: String) throws(MigrationError) -> CollectionName {
        _ = try identifier(name, at: path)
        guard name != CollectionName.schemaMigrations.rawValue, name != CollectionName.locks.rawValue else {
            throw invalid(path, "\"\(name)\" is managed by the migration runner itself")
        }
        return CollectionName(name)
    }

    private func identifier(_ name: String, at path: String) throws(MigrationError) -> String {
        guard let first = name.unicodeScalars.first, Self.isLetter(first) || first == "_",
              name.unicodeScalars.allSatisfy({ Self.isLetter($0) || ("0"..."9").contains($0) || $0 == "_" }) else {
            throw invalid(path, "\"\(name)\" must be made of letters, digits and _, starting with a letter or _")
        }
        return name
    }

    private static func isLetter(_ c: Unicode.Scalar) -> Bool { ("a"..."z").contains(c) || ("A"..."Z").contains(c) }

    private static func isFieldCharacter(_ c: Unicode.Scalar) -> Bool {
        isLetter(c) || ("0"..."9").contains(c) || c == "_" || c == "."
    }

    // MARK: JSON access

    private func checkFields(of object: JSONObject, at path: String, allowed: Set<String>) throws(MigrationError) {
        if let unknown = object.keys.first(where: { !allowed.contains($0) }) {
            throw invalid(join(path, unknown), "unknown field (allowed: \(allowed.sorted().joined(separator: ", ")))")
        }
    }

    private func object(_ value: JSONValue, at path: String) throws(MigrationError) -> JSONObject {
        guard let object = value.objectValue else { throw invalid(path, "must be an object, not \(value.typeName)") }
        return object
    }

    private func required(_ object: JSONObject, _ key: String, at path: String) throws(MigrationError) -> JSONValue {
        guard let value = object[key] else { throw invalid(join(path, key), "is required") }
        return value
    }

    private func requiredString(_ object: JSONObject, _ key: String, at path: String) throws(MigrationError) -> String {
        guard let value = try optionalString(object, key, at: path) else { throw invalid(join(path, key), "is required") }
        return value
    }

    private func optionalString(_ object: JSONObject, _ key: String, at path: String) throws(MigrationError) -> String? {
        switch object[key] {
        case nil, .null?: return nil
        case .string(let value)?: return value
        case let other?: throw invalid(join(path, key), "must be a string, not \(other.typeName)")
        }
    }

    /// A missing list is an empty one: a migration lists only the kinds of change it makes.
    private func array(_ object: JSONObject, _ key: String, at path: String) throws(MigrationError) -> [JSONValue] {
        switch object[key] {
        case nil: return []
        case .array(let items)?: return items
        case let other?: throw invalid(join(path, key), "must be a list, not \(other.typeName)")
        }
    }

    private func join(_ path: String, _ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    private func invalid(_ path: String, _ reason: String) -> MigrationError {
        .invalidFile(file: file, reason: path.isEmpty ? reason : "\(path) \(reason)")
    }
}
