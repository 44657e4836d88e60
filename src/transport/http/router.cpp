#include "transport/http/router.hpp"

#include <array>
#include <map>
#include <string_view>

namespace rounds::transport {
namespace {

// The segments of `path` after its leading '/', as views into it: matching a request allocates
// nothing until a route matches.
template <class Out>
void Split(std::string_view path, Out& parts) {
  std::size_t start = 1;
  while (start <= path.size()) {
    auto slash = path.find('/', start);
    if (slash == std::string_view::npos) slash = path.size();
    parts.push_back(path.substr(start, slash - start));
    start = slash + 1;
  }
}

// A request path has at most this many segments without spilling to the heap.
constexpr std::size_t kInlineSegments = 12;

class Segments {
 public:
  void push_back(std::string_view part) {
    if (size_ < kInlineSegments) {
      inline_[size_++] = part;
    } else {
      if (spilled_.empty()) spilled_.assign(inline_.begin(), inline_.end());
      spilled_.push_back(part);
      ++size_;
    }
  }
  std::size_t size() const { return size_; }
  std::string_view operator[](std::size_t i) const { return spilled_.empty() ? inline_[i] : spilled_[i]; }

 private:
  std::array<std::string_view, kInlineSegments> inline_{};
  std::vector<std::string_view> spilled_;
  std::size_t size_ = 0;
};

bool IsParam(const std::string& segment) {
  return segment.size() > 2 && segment.front() == '{' && segment.back() == '}';
}

bool MatchSegments(const Route& route, const Segments& parts, std::map<std::string, std::string>* params) {
  if (route.segments.size() != parts.size()) return false;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const std::string& seg = route.segments[i];
    if (IsParam(seg)) {
      if (parts[i].empty()) return false;
      if (params != nullptr) (*params)[seg.substr(1, seg.size() - 2)] = std::string(parts[i]);
    } else if (seg != parts[i]) {
      return false;
    }
  }
  return true;
}

}  // namespace

void Router::Add(std::string method, std::string pattern, Handler handler) {
  Route route{std::move(method), std::move(pattern), std::move(handler), {}};
  std::vector<std::string_view> views;
  Split(route.pattern, views);
  for (std::string_view v : views) route.segments.emplace_back(v);
  routes_.push_back(std::move(route));
}

Match Router::Find(Request& request) const {
  Match match;
  Segments parts;
  Split(request.path, parts);
  for (const auto& route : routes_) {
    if (!MatchSegments(route, parts, nullptr)) continue;
    if (route.method == request.method || (request.method == "HEAD" && route.method == "GET")) {
      request.params.clear();
      MatchSegments(route, parts, &request.params);
      match.route = &route;
      return match;
    }
    match.allowed_methods.push_back(route.method);
  }
  return match;
}

}  // namespace rounds::transport
