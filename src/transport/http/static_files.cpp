#include "transport/http/static_files.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/crypto.hpp"

namespace rounds::transport {
namespace {

std::string MimeType(const std::string& path) {
  static const std::pair<const char*, const char*> kTypes[] = {
      {".html", "text/html; charset=utf-8"}, {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"}, {".css", "text/css; charset=utf-8"},
      {".json", "application/json; charset=utf-8"}, {".svg", "image/svg+xml"},
      {".png", "image/png"}, {".jpg", "image/jpeg"}, {".ico", "image/x-icon"},
      {".woff2", "font/woff2"}, {".txt", "text/plain; charset=utf-8"}, {".webmanifest", "application/manifest+json"},
      {".map", "application/json; charset=utf-8"}};
  for (const auto& [ext, type] : kTypes) {
    if (path.size() >= std::char_traits<char>::length(ext) &&
        path.compare(path.size() - std::char_traits<char>::length(ext), std::string::npos, ext) == 0) {
      return type;
    }
  }
  return "application/octet-stream";
}

bool ReadFile(const std::filesystem::path& path, std::string& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream buffer;
  buffer << in.rdbuf();
  out = buffer.str();
  return true;
}

Response NotFoundResponse() {
  return ProblemResponse(Error{ErrorCode::kNotFound, "not_found", "Nothing here.", {}});
}

}  // namespace

bool IsSafeStaticPath(const std::string& path) {
  if (path.empty() || path[0] != '/') return false;
  if (path.find('\0') != std::string::npos || path.find('\\') != std::string::npos) return false;
  std::size_t start = 1;
  while (start <= path.size()) {
    auto slash = path.find('/', start);
    if (slash == std::string::npos) slash = path.size();
    std::string segment = path.substr(start, slash - start);
    if (segment == ".." || segment == "." || (!segment.empty() && segment[0] == '.')) return false;
    // "//" would make the rest an absolute path when joined to the root.
    if (segment.empty() && slash != path.size()) return false;
    start = slash + 1;
  }
  return true;
}

StaticFiles::StaticFiles(std::string root) : root_(std::move(root)) {}

Response StaticFiles::Serve(const Request& request) const {
  if (root_.empty() || !IsSafeStaticPath(request.path)) return NotFoundResponse();
  std::filesystem::path root(root_);
  std::filesystem::path file = root / request.path.substr(1);
  std::error_code ec;
  bool is_asset = std::filesystem::is_regular_file(file, ec);
  if (!is_asset) {
    // The single-page app routes on the client: unknown paths get index.html, but a missing
    // asset (a path with an extension) is a real 404.
    bool looks_like_asset = request.path.find('.', request.path.rfind('/')) != std::string::npos;
    if (looks_like_asset) return NotFoundResponse();
    file = root / "index.html";
  }
  // Resolve symlinks and make sure the result is still under the root.
  std::error_code root_error, file_error;
  std::string canonical_root = std::filesystem::weakly_canonical(root, root_error).string();
  auto canonical_file = std::filesystem::weakly_canonical(file, file_error);
  std::string file_text = canonical_file.string();
  if (root_error || file_error || file_text.size() <= canonical_root.size() ||
      file_text.compare(0, canonical_root.size(), canonical_root) != 0 || file_text[canonical_root.size()] != '/') {
    return NotFoundResponse();  // outside the root, e.g. through a symbolic link
  }
  Response response;
  if (!ReadFile(canonical_file, response.body)) return NotFoundResponse();
  std::string etag = "\"" + crypto::Sha256Hex(response.body).substr(0, 32) + "\"";
  response.content_type = MimeType(canonical_file.string());
  response.headers.emplace_back("ETag", etag);
  bool immutable = request.path.rfind("/assets/", 0) == 0;  // Vite fingerprints these
  response.headers.emplace_back("Cache-Control", immutable ? "public, max-age=31536000, immutable" : "no-cache");
  if (request.Header("if-none-match") == etag) {
    response.status = 304;
    response.body.clear();
  }
  return response;
}

}  // namespace rounds::transport
