// Serves the built web app from one folder: correct MIME types, ETag/304, the single-page app's
// index.html for unknown non-API paths, and nothing outside the folder (no traversal, no hidden
// files). Thread-safe: reads the file system per request, no shared state.
#pragma once

#include <string>

#include "transport/http/http_types.hpp"

namespace rounds::transport {

class StaticFiles {
 public:
  // `root` empty or missing: every request gets a 404 problem.
  explicit StaticFiles(std::string root);
  Response Serve(const Request& request) const;
  const std::string& root() const { return root_; }

 private:
  std::string root_;
};

// True when `path` (already percent-decoded) is safe to map under a root: no "..", no NUL, no
// backslash, no hidden segments.
bool IsSafeStaticPath(const std::string& path);

}  // namespace rounds::transport
