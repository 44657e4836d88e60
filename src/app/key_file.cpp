#include "app/key_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace rounds::app {

void SyncFolder(const std::filesystem::path& folder) {
  const int fd = ::open(folder.empty() ? "." : folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    (void)::fsync(fd);
    ::close(fd);
  }
}

Result<std::string> ReadTrimmed(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("File '" + path + "'");
  std::stringstream text;
  text << in.rdbuf();
  std::string s = text.str();
  auto begin = s.find_first_not_of(" \t\r\n");
  auto end = s.find_last_not_of(" \t\r\n");
  return begin == std::string::npos ? std::string() : s.substr(begin, end - begin + 1);
}

Status WriteNewFile(const std::string& path, const std::string& text, mode_t mode, std::string_view problem,
                    std::string_view what) {
  const std::filesystem::path folder = std::filesystem::path(path).parent_path();
  std::error_code ec;
  if (!folder.empty() && !std::filesystem::exists(folder, ec)) {
    std::filesystem::create_directories(folder, ec);
    std::filesystem::permissions(folder, std::filesystem::perms::owner_all, std::filesystem::perm_options::replace,
                                 ec);
  }
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) return Fail(ErrorCode::kInternal, std::string(problem), "Cannot create " + std::string(what) + ".", "open " + path);
  bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) return Fail(ErrorCode::kInternal, std::string(problem), "Cannot write " + std::string(what) + ".", "write " + path);
  // The new name is durable too: a key whose file vanished in a crash would leave what it
  // protects unreadable.
  SyncFolder(folder);
  return Ok();
}

Status ReplaceFile(const std::string& from, const std::string& to, std::string_view problem) {
  if (::rename(from.c_str(), to.c_str()) != 0) {
    return Fail(ErrorCode::kInternal, std::string(problem), "Cannot replace " + to + ".", "rename " + from);
  }
  SyncFolder(std::filesystem::path(to).parent_path());
  return Ok();
}

}  // namespace rounds::app
