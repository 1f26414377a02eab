import ArgumentParser
import Foundation

/// What the one-shot commands (`migrate`, `backup`, `restore`, `verify`) print the same way.
enum CommandOutput {
    /// Prints `message` on standard error; the returned exit code ends the process with status 1.
    static func failure(_ message: String) -> ExitCode {
        FileHandle.standardError.write(Data("✗ \(message)\n".utf8))
        return .failure
    }

    static func formatBytes(_ bytes: Int64) -> String {
        let units = ["bytes", "KB", "MB", "GB", "TB"]
        var value = Double(bytes)
        var unit = 0
        while value >= 1024 && unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return unit == 0 ? "\(bytes) bytes" : String(format: "%.1f %@", value, units[unit])
    }
}
