// A file open for reading, handed from the app layer to the transport as a response body, so that
// an export of any size is sent from disk and never held in memory. Owns its descriptor.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace rounds {

class OpenFile {
 public:
  OpenFile() = default;
  ~OpenFile();
  OpenFile(OpenFile&& other) noexcept;
  OpenFile& operator=(OpenFile&& other) noexcept;
  OpenFile(const OpenFile&) = delete;
  OpenFile& operator=(const OpenFile&) = delete;

  // Opens `path` read-only. kNotFound if it does not exist.
  static Result<OpenFile> ForReading(const std::string& path);
  // A new file in `folder` that no name refers to (created, then unlinked at once): it disappears
  // with its last descriptor, whatever happens to the process. Open for writing and reading.
  static Result<OpenFile> Anonymous(const std::string& folder);

  bool valid() const { return fd_ >= 0; }
  // Gives up ownership of the descriptor (the caller closes it).
  int Release();
  // The file's size now.
  Result<std::uint64_t> Size() const;
  // Writes all of `data` at the current offset.
  Status Append(std::string_view data);
  // Back to the first byte, for reading what was written.
  Status Rewind();
  // The whole file from its first byte (tests and small files only).
  Result<std::string> ReadAll();
  // The whole file from its first byte into a new file at `path`, owner-only, complete or not at
  // all: written as `path`.partial, synced, then given its name, never over an existing file
  // (kConflict "file_exists", as when `path` exists before). On any error neither name is left.
  Status SaveAs(const std::string& path);

 private:
  explicit OpenFile(int fd) : fd_(fd) {}
  int fd_ = -1;
};

}  // namespace rounds
