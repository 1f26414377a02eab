import CZlib
import Foundation

/// How far a compressed backup may expand. A gzip file expands at most about 1,000 times, so a small file can
/// still fill a disk (a "decompression bomb", or simply the wrong file): both the total and the ratio are capped.
public struct ExpansionLimits: Sendable, Equatable {
    /// Decompressed bytes at most.
    public var maxBytes: Int64
    /// Decompressed bytes per compressed byte at most, once more than `ratioGrace` bytes came out (a small backup
    /// of an almost empty database compresses very well).
    public var maxRatio: Int64
    public var ratioGrace: Int64

    public init(maxBytes: Int64, maxRatio: Int64, ratioGrace: Int64 = 1 << 20) {
        self.maxBytes = maxBytes
        self.maxRatio = maxRatio
        self.ratioGrace = ratioGrace
    }

    /// NDJSON of Extended JSON compresses 10-30 times; 64 GiB is far past any database this service keeps.
    public static let backups = ExpansionLimits(maxBytes: 64 << 30, maxRatio: 250)
}

/// Why a gzip file could not be read: it cannot be opened, or it expands past its `ExpansionLimits`.
public struct GzipError: Error, Sendable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Decompresses a gzip file in fixed-size pieces with the system zlib, so memory stays small and no `gzip` process
/// is needed. Damage is reported the way gzip words it, after handing over everything before it, so a reader can
/// say what is missing; going past the `ExpansionLimits` is an error at once.
public struct GzipInflater: ~Copyable {
    static let inputSize = 64 * 1024
    static let outputSize = 256 * 1024

    private let stream: UnsafeMutablePointer<z_stream>
    private let input: UnsafeMutableRawBufferPointer
    private let output: UnsafeMutableRawBufferPointer

    public init() throws(GzipError) {
        // zlib keeps a pointer back to the stream: it must not move, so it lives on the heap. It is set up before
        // any stored property is, so a failure here never reaches `deinit`.
        let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        stream.initialize(to: z_stream())
        guard ted_inflate_init_gzip(stream) == Z_OK else {
            stream.deinitialize(count: 1)
            stream.deallocate()
            throw GzipError("cannot start zlib's decompression")
        }
        self.stream = stream
        input = .allocate(byteCount: Self.inputSize, alignment: 16)
        output = .allocate(byteCount: Self.outputSize, alignment: 16)
    }

    deinit {
        inflateEnd(stream)
        stream.deinitialize(count: 1)
        stream.deallocate()
        input.deallocate()
        output.deallocate()
    }

    /// Hands the decompressed bytes of `file` to `sink`, piece by piece, until it returns false or the file ends.
    /// Returns gzip's complaint when the file is not gzip, damaged or cut; throws when it cannot be read or
    /// expands past `limits`.
    public mutating func inflate(
        _ file: String, limits: ExpansionLimits, into sink: (UnsafeRawBufferPointer) -> Bool
    ) throws(GzipError) -> String? {
        guard let handle = FileHandle(forReadingAtPath: file) else { throw GzipError("cannot read the backup \(file)") }
        defer { try? handle.close() }
        var consumed: Int64 = 0
        var produced: Int64 = 0
        var members = 0
        var inMember = false
        var memberProduced: Int64 = 0
        while true {
            let chunk: Data
            do {
                chunk = try handle.read(upToCount: Self.inputSize) ?? Data()
            } catch {
                throw GzipError("cannot read the backup \(file): \(error.localizedDescription)")
            }
            if chunk.isEmpty {
                return inMember || members == 0 ? "\(file): unexpected end of file" : nil
            }
            let count = chunk.copyBytes(to: input)
            consumed += Int64(count)
            stream.pointee.next_in = input.baseAddress!.assumingMemoryBound(to: Bytef.self)
            stream.pointee.avail_in = uInt(count)
            // Until the piece is used up and zlib holds no more output (a full output buffer may leave some behind).
            var more = true
            while more {
                if !inMember {
                    inMember = true
                    memberProduced = 0
                    if members > 0 { inflateReset(stream) }  // concatenated members, as `gzip -dc` reads them
                }
                stream.pointee.next_out = output.baseAddress!.assumingMemoryBound(to: Bytef.self)
                stream.pointee.avail_out = uInt(Self.outputSize)
                let status = CZlib.inflate(stream, Z_NO_FLUSH)
                let bytes = Self.outputSize - Int(stream.pointee.avail_out)
                produced += Int64(bytes)
                memberProduced += Int64(bytes)
                if produced > limits.maxBytes {
                    throw GzipError("\(file) expands past \(limits.maxBytes) bytes: refusing it (a damaged file or not a backup)")
                }
                if produced > limits.ratioGrace, produced > consumed * limits.maxRatio {
                    throw GzipError("\(file) expands more than \(limits.maxRatio) times its size: refusing it "
                        + "(a backup compresses far less; a damaged file or not a backup)")
                }
                if bytes > 0, !sink(UnsafeRawBufferPointer(rebasing: output[0..<bytes])) { return nil }
                switch status {
                case Z_STREAM_END:
                    inMember = false
                    members += 1
                case Z_OK, Z_BUF_ERROR:
                    break
                case Z_DATA_ERROR where memberProduced == 0:
                    // Bad framing where a member should start: not gzip at all, or junk after the last member.
                    return members == 0 ? "\(file): not in gzip format" : "\(file): decompression OK, trailing garbage ignored"
                default:
                    let reason = stream.pointee.msg.map { String(cString: $0) } ?? "zlib error \(status)"
                    return "\(file): invalid compressed data (\(reason))"
                }
                more = stream.pointee.avail_in > 0 || (status == Z_OK && stream.pointee.avail_out == 0)
            }
        }
    }
}
