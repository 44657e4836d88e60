// A ZIP archive written front to back into an open file (APPNOTE 6.3.10): each entry deflated
// (zlib, raw deflate) behind a local header, its CRC-32 and sizes in a data descriptor after it,
// then the central directory. Nothing is sought back, so every byte goes out once and a SHA-256 of
// the archive is kept as it is written. Entries whose size or offset needs it, and an archive with
// more than 65,534 entries, use the ZIP64 extensions; names are UTF-8 (flag bit 11) and carry
// their time as a Unix time (extra field 0x5455) beside the DOS one, which is UTC here.
//
// The same entries in the same order with the same times give the same bytes.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/open_file.hpp"
#include "core/result.hpp"

namespace rounds {

struct ZipOptions {
  // An entry whose source is this size or larger is written with ZIP64 sizes; so is every offset
  // from here on. 256 MiB below 4 GiB: deflate may grow what it cannot shrink by a few bytes in
  // every 16 KiB, and a smaller entry must still fit the 32-bit fields. Lowered only by tests.
  std::uint64_t zip64_from = 0xF0000000u;
  int level = 6;  // zlib compression level
};

class ZipWriter {
 public:
  // Writes into `out` from its current offset (a new, empty file).
  explicit ZipWriter(OpenFile& out, ZipOptions options = {});
  ~ZipWriter();
  ZipWriter(const ZipWriter&) = delete;
  ZipWriter& operator=(const ZipWriter&) = delete;

  // What an entry holds, as it was read into the archive.
  struct Entry {
    std::uint64_t bytes = 0;
    std::string sha256;  // lower-case hex, of the content (not of its deflated form)
  };
  // An entry named `name` (a relative path with '/' separators; kInvalidArgument for an empty
  // name, one starting with '/', holding "..", a backslash or a NUL) holding the file at
  // `source_path`, read a piece at a time, dated `modified` (Unix seconds).
  Result<Entry> AddFile(std::string_view name, const std::string& source_path, std::int64_t modified);
  // The same with the content given.
  Result<Entry> AddBytes(std::string_view name, std::string_view content, std::int64_t modified);
  // Writes the central directory; nothing may be added after. Once.
  Status Finish();

  // After Finish: the archive's size and lower-case hex SHA-256.
  std::uint64_t bytes() const;
  const std::string& sha256() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace rounds
