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

}  // namespace rounds
