#include "core/open_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>
#include <vector>

namespace rounds {

OpenFile::~OpenFile() {
  if (fd_ >= 0) ::close(fd_);
}

OpenFile::OpenFile(OpenFile&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}

OpenFile& OpenFile::operator=(OpenFile&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

Result<OpenFile> OpenFile::ForReading(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return NotFound("File");
    return Internal("open " + path + ": " + std::strerror(errno));
  }
  return OpenFile(fd);
}

Result<OpenFile> OpenFile::Anonymous(const std::string& folder) {
  std::string pattern = (folder.empty() ? std::string(".") : folder) + "/.rounds-body-XXXXXX";
  std::vector<char> name(pattern.begin(), pattern.end());
  name.push_back('\0');
  const int fd = ::mkostemp(name.data(), O_CLOEXEC);
  if (fd < 0) return Internal("mkostemp in " + folder + ": " + std::strerror(errno));
  ::unlink(name.data());
  return OpenFile(fd);
}

int OpenFile::Release() { return std::exchange(fd_, -1); }

Result<std::uint64_t> OpenFile::Size() const {
  struct stat st {};
  if (::fstat(fd_, &st) != 0) return Internal(std::string("fstat: ") + std::strerror(errno));
  return static_cast<std::uint64_t>(st.st_size);
}

Status OpenFile::Append(std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd_, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return Internal(std::string("write: ") + std::strerror(errno));
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return Ok();
}

Status OpenFile::Rewind() {
  if (::lseek(fd_, 0, SEEK_SET) != 0) return Internal(std::string("lseek: ") + std::strerror(errno));
  return Ok();
}

Result<std::string> OpenFile::ReadAll() {
  ROUNDS_RETURN_IF_ERROR(Rewind());
  std::string out;
  char buffer[65536];
  while (true) {
    const ssize_t n = ::read(fd_, buffer, sizeof buffer);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Internal(std::string("read: ") + std::strerror(errno));
    }
    if (n == 0) break;
    out.append(buffer, static_cast<std::size_t>(n));
  }
  return out;
}

Status OpenFile::SaveAs(const std::string& path) {
  auto exists = [&path] {
    return Fail(ErrorCode::kConflict, "file_exists", "A file is already at " + path + "; nothing was written over it.");
  };
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0) return exists();
  ROUNDS_RETURN_IF_ERROR(Rewind());
  const std::string partial = path + ".partial";
  ::unlink(partial.c_str());  // a killed save's: made anew, so that it is ours and owner-only
  OpenFile out(::open(partial.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (!out.valid()) return Internal("open " + partial + ": " + std::strerror(errno));
  auto fail = [&partial](const std::string& what) {
    const std::string reason = what + ": " + std::strerror(errno);
    ::unlink(partial.c_str());
    return Internal(reason);
  };
  char buffer[65536];
  while (true) {
    const ssize_t n = ::read(fd_, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail("read");
    if (n == 0) break;
    if (!out.Append(std::string_view(buffer, static_cast<std::size_t>(n)))) return fail("write " + partial);
  }
  if (::fsync(out.fd_) != 0) return fail("fsync " + partial);
  // A link, unlike a rename, never replaces what is there.
  if (::link(partial.c_str(), path.c_str()) != 0) {
    const bool taken = errno == EEXIST;
    auto failed = fail("link " + path);
    if (taken) return exists();
    return failed;
  }
  ::unlink(partial.c_str());
  return Ok();
}

}  // namespace rounds
