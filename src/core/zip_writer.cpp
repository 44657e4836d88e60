#include "core/zip_writer.hpp"

#include <zlib.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <vector>

#include "core/crypto.hpp"

namespace rounds {

namespace {

constexpr std::uint32_t kLocalHeader = 0x04034b50;
constexpr std::uint32_t kDataDescriptor = 0x08074b50;
constexpr std::uint32_t kCentralHeader = 0x02014b50;
constexpr std::uint32_t kZip64End = 0x06064b50;
constexpr std::uint32_t kZip64Locator = 0x07064b50;
constexpr std::uint32_t kEnd = 0x06054b50;
constexpr std::uint16_t kFlags = 0x0008 | 0x0800;  // sizes in a data descriptor; UTF-8 name
constexpr std::uint16_t kDeflate = 8;
constexpr std::uint16_t kVersion = 20;
constexpr std::uint16_t kVersionZip64 = 45;
constexpr std::uint16_t kMadeByUnix = 3 << 8;
constexpr std::uint32_t kRegularFile0644 = 0100644u << 16;
constexpr std::uint32_t kMax32 = 0xFFFFFFFFu;
constexpr std::size_t kChunk = 64 * 1024;

void Put16(std::string& out, std::uint16_t v) {
  out.push_back(static_cast<char>(v & 0xFF));
  out.push_back(static_cast<char>(v >> 8));
}
void Put32(std::string& out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}
void Put64(std::string& out, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}

// DOS date and time fields (2-second resolution, years 1980 to 2107), from UTC.
std::pair<std::uint16_t, std::uint16_t> DosTime(std::int64_t unix_seconds) {
  std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  if (tm.tm_year < 80) return {0, (1 << 5) | 1};  // 1980-01-01 00:00
  if (tm.tm_year > 207) return {static_cast<std::uint16_t>((23 << 11) | (59 << 5) | 29),
                                static_cast<std::uint16_t>((127 << 9) | (12 << 5) | 31)};
  const auto time = static_cast<std::uint16_t>((tm.tm_hour << 11) | (tm.tm_min << 5) | (tm.tm_sec / 2));
  const auto date = static_cast<std::uint16_t>(((tm.tm_year - 80) << 9) | ((tm.tm_mon + 1) << 5) | tm.tm_mday);
  return {time, date};
}

// The extended timestamp extra field (0x5455) with the modification time only.
void PutUnixTime(std::string& out, std::int64_t unix_seconds) {
  Put16(out, 0x5455);
  Put16(out, 5);
  out.push_back(1);
  const std::int64_t clamped = std::max<std::int64_t>(INT32_MIN, std::min<std::int64_t>(INT32_MAX, unix_seconds));
  Put32(out, static_cast<std::uint32_t>(static_cast<std::int32_t>(clamped)));
}

bool ValidName(std::string_view name) {
  if (name.empty() || name.size() > 0xFFFF || name.front() == '/' || name.back() == '/') return false;
  if (name.find('\\') != std::string_view::npos || name.find('\0') != std::string_view::npos) return false;
  std::size_t start = 0;
  while (start <= name.size()) {
    std::size_t end = name.find('/', start);
    if (end == std::string_view::npos) end = name.size();
    const std::string_view part = name.substr(start, end - start);
    if (part.empty() || part == "." || part == "..") return false;
    start = end + 1;
  }
  return true;
}

struct Record {
  std::string name;
  std::uint16_t time = 0;
  std::uint16_t date = 0;
  std::int64_t modified = 0;
  std::uint32_t crc = 0;
  std::uint64_t compressed = 0;
  std::uint64_t size = 0;
  std::uint64_t offset = 0;
  bool zip64 = false;  // sizes as 8 bytes in the descriptor and the central directory
};

}  // namespace

struct ZipWriter::State {
  OpenFile& out;
  ZipOptions options;
  std::string buffer;  // written to `out` a chunk at a time
  std::uint64_t written = 0;  // bytes of the archive so far, buffered included
  crypto::Sha256Stream sha;
  std::vector<Record> entries;
  bool finished = false;
  bool failed = false;
  std::string digest;

  State(OpenFile& o, ZipOptions opts) : out(o), options(opts) { buffer.reserve(kChunk * 2); }

  Status Flush() {
    if (buffer.empty()) return {};
    sha.Update(buffer);
    Status s = out.Append(buffer);
    buffer.clear();
    if (!s) failed = true;
    return s;
  }
  Status Emit(std::string_view bytes) {
    buffer.append(bytes);
    written += bytes.size();
    if (buffer.size() >= kChunk) return Flush();
    return {};
  }

  // Deflates what `read` yields (it fills a buffer and returns the bytes put there, 0 at the end,
  // or an error) into the archive as the data of `entry`.
  template <class Read>
  Status Deflate(Record& entry, crypto::Sha256Stream& content, Read&& read) {
    z_stream z{};
    if (deflateInit2(&z, options.level, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
      return Internal("zlib: deflateInit2 failed");
    }
    struct End {
      z_stream& z;
      ~End() { deflateEnd(&z); }
    } end{z};
    std::string in(kChunk, '\0');
    std::string compressed(kChunk, '\0');
    uLong crc = crc32(0, nullptr, 0);
    int flush = Z_NO_FLUSH;
    while (flush != Z_FINISH) {
      ROUNDS_ASSIGN_OR_RETURN(std::size_t got, read(in.data(), in.size()));
      if (got == 0) flush = Z_FINISH;
      crc = crc32(crc, reinterpret_cast<const Bytef*>(in.data()), static_cast<uInt>(got));
      content.Update(std::string_view(in.data(), got));
      entry.size += got;
      z.next_in = reinterpret_cast<Bytef*>(in.data());
      z.avail_in = static_cast<uInt>(got);
      do {
        z.next_out = reinterpret_cast<Bytef*>(compressed.data());
        z.avail_out = static_cast<uInt>(compressed.size());
        const int rc = deflate(&z, flush);
        if (rc == Z_STREAM_ERROR) return Internal("zlib: deflate failed");
        const std::size_t produced = compressed.size() - z.avail_out;
        entry.compressed += produced;
        ROUNDS_RETURN_IF_ERROR(Emit(std::string_view(compressed.data(), produced)));
      } while (z.avail_out == 0);
    }
    entry.crc = static_cast<std::uint32_t>(crc);
    if (!entry.zip64 && (entry.size >= kMax32 || entry.compressed >= kMax32)) {
      return Internal("zip: an entry grew past 4 GiB while it was written: " + entry.name);
    }
    return {};
  }

  template <class Read>
  Result<ZipWriter::Entry> Add(std::string_view name, std::uint64_t expected_size, std::int64_t modified, Read&& read) {
    if (finished) return Internal("zip: entry added after the archive was finished");
    if (failed) return Internal("zip: the archive failed to write");
    if (!ValidName(name)) {
      return InvalidArgument("invalid_entry_name", "An archive entry's name must be a relative path.", "/name");
    }
    Record entry;
    entry.name = std::string(name);
    entry.modified = modified;
    std::tie(entry.time, entry.date) = DosTime(modified);
    entry.offset = written;
    entry.zip64 = expected_size >= options.zip64_from;
    std::string header;
    Put32(header, kLocalHeader);
    Put16(header, entry.zip64 ? kVersionZip64 : kVersion);
    Put16(header, kFlags);
    Put16(header, kDeflate);
    Put16(header, entry.time);
    Put16(header, entry.date);
    Put32(header, 0);  // CRC-32, sizes: in the data descriptor
    Put32(header, entry.zip64 ? kMax32 : 0);
    Put32(header, entry.zip64 ? kMax32 : 0);
    Put16(header, static_cast<std::uint16_t>(entry.name.size()));
    Put16(header, static_cast<std::uint16_t>((entry.zip64 ? 20 : 0) + 9));
    header += entry.name;
    if (entry.zip64) {  // both sizes, zero here, as the local ZIP64 field must hold
      Put16(header, 0x0001);
      Put16(header, 16);
      Put64(header, 0);
      Put64(header, 0);
    }
    PutUnixTime(header, modified);
    ROUNDS_RETURN_IF_ERROR(Emit(header));
    crypto::Sha256Stream content;
    Status deflated = Deflate(entry, content, read);
    if (!deflated) {
      failed = true;
      return tl::unexpected(deflated.error());
    }
    std::string descriptor;
    Put32(descriptor, kDataDescriptor);
    Put32(descriptor, entry.crc);
    if (entry.zip64) {
      Put64(descriptor, entry.compressed);
      Put64(descriptor, entry.size);
    } else {
      Put32(descriptor, static_cast<std::uint32_t>(entry.compressed));
      Put32(descriptor, static_cast<std::uint32_t>(entry.size));
    }
    ROUNDS_RETURN_IF_ERROR(Emit(descriptor));
    ZipWriter::Entry added{entry.size, content.FinishHex()};
    entries.push_back(std::move(entry));
    return added;
  }
};

ZipWriter::ZipWriter(OpenFile& out, ZipOptions options) : state_(std::make_unique<State>(out, options)) {}

ZipWriter::~ZipWriter() = default;

Result<ZipWriter::Entry> ZipWriter::AddFile(std::string_view name, const std::string& source_path,
                                            std::int64_t modified) {
  std::error_code ec;
  const std::uint64_t size = std::filesystem::file_size(source_path, ec);
  if (ec) return NotFound("Archive source file");
  std::FILE* file = std::fopen(source_path.c_str(), "rb");
  if (file == nullptr) return NotFound("Archive source file");
  struct Close {
    std::FILE* f;
    ~Close() { std::fclose(f); }
  } close{file};
  return state_->Add(name, size, modified, [&](char* buffer, std::size_t capacity) -> Result<std::size_t> {
    const std::size_t got = std::fread(buffer, 1, capacity, file);
    if (got == 0 && std::ferror(file)) return Internal("cannot read " + source_path + ": " + std::strerror(errno));
    return got;
  });
}

Result<ZipWriter::Entry> ZipWriter::AddBytes(std::string_view name, std::string_view content, std::int64_t modified) {
  std::size_t at = 0;
  return state_->Add(name, content.size(), modified, [&](char* buffer, std::size_t capacity) -> Result<std::size_t> {
    const std::size_t n = std::min(capacity, content.size() - at);
    std::memcpy(buffer, content.data() + at, n);
    at += n;
    return n;
  });
}

Status ZipWriter::Finish() {
  State& s = *state_;
  if (s.finished) return Internal("zip: finished twice");
  if (s.failed) return Internal("zip: the archive failed to write");
  s.finished = true;
  const std::uint64_t directory_offset = s.written;
  for (const Record& e : s.entries) {
    const bool offset64 = e.offset >= kMax32 || e.offset >= s.options.zip64_from;
    std::string extra;
    if (e.zip64 || offset64) {
      std::string fields;
      if (e.zip64) {
        Put64(fields, e.size);
        Put64(fields, e.compressed);
      }
      if (offset64) Put64(fields, e.offset);
      Put16(extra, 0x0001);
      Put16(extra, static_cast<std::uint16_t>(fields.size()));
      extra += fields;
    }
    PutUnixTime(extra, e.modified);
    std::string header;
    Put32(header, kCentralHeader);
    const std::uint16_t needed = (e.zip64 || offset64) ? kVersionZip64 : kVersion;
    Put16(header, kMadeByUnix | needed);
    Put16(header, needed);
    Put16(header, kFlags);
    Put16(header, kDeflate);
    Put16(header, e.time);
    Put16(header, e.date);
    Put32(header, e.crc);
    Put32(header, e.zip64 ? kMax32 : static_cast<std::uint32_t>(e.compressed));
    Put32(header, e.zip64 ? kMax32 : static_cast<std::uint32_t>(e.size));
    Put16(header, static_cast<std::uint16_t>(e.name.size()));
    Put16(header, static_cast<std::uint16_t>(extra.size()));
    Put16(header, 0);  // comment
    Put16(header, 0);  // disk
    Put16(header, 0);  // internal attributes
    Put32(header, kRegularFile0644);
    Put32(header, offset64 ? kMax32 : static_cast<std::uint32_t>(e.offset));
    header += e.name;
    header += extra;
    ROUNDS_RETURN_IF_ERROR(s.Emit(header));
  }
  const std::uint64_t directory_size = s.written - directory_offset;
  const std::uint64_t count = s.entries.size();
  const bool zip64 = count >= 0xFFFF || directory_size >= kMax32 || directory_offset >= kMax32 ||
                     directory_offset >= s.options.zip64_from;
  std::string end;
  if (zip64) {
    const std::uint64_t record_offset = s.written;
    Put32(end, kZip64End);
    Put64(end, 44);  // the record's size after this field
    Put16(end, kMadeByUnix | kVersionZip64);
    Put16(end, kVersionZip64);
    Put32(end, 0);
    Put32(end, 0);
    Put64(end, count);
    Put64(end, count);
    Put64(end, directory_size);
    Put64(end, directory_offset);
    Put32(end, kZip64Locator);
    Put32(end, 0);
    Put64(end, record_offset);
    Put32(end, 1);
  }
  Put32(end, kEnd);
  Put16(end, 0);
  Put16(end, 0);
  Put16(end, zip64 ? 0xFFFF : static_cast<std::uint16_t>(count));
  Put16(end, zip64 ? 0xFFFF : static_cast<std::uint16_t>(count));
  Put32(end, zip64 ? kMax32 : static_cast<std::uint32_t>(directory_size));
  Put32(end, zip64 ? kMax32 : static_cast<std::uint32_t>(directory_offset));
  Put16(end, 0);  // comment
  ROUNDS_RETURN_IF_ERROR(s.Emit(end));
  ROUNDS_RETURN_IF_ERROR(s.Flush());
  s.digest = s.sha.FinishHex();
  return {};
}

std::uint64_t ZipWriter::bytes() const { return state_->written; }

const std::string& ZipWriter::sha256() const { return state_->digest; }

}  // namespace rounds
