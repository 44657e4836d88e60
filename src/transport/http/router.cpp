#include "transport/http/router.hpp"

#include <map>
#include <string_view>

#include <boost/container/small_vector.hpp>

namespace rounds::transport {
namespace {

// A request's segments: views into its path, held inline up to a dozen (no path the API routes
// has more), so matching allocates nothing until a route matches.
using Segments = boost::container::small_vector<std::string_view, 12>;

// The segments of `path` after its leading '/'.
void Split(std::string_view path, Segments& parts) {
  std::size_t start = 1;
  while (start <= path.size()) {
    auto slash = path.find('/', start);
    if (slash == std::string_view::npos) slash = path.size();
    parts.push_back(path.substr(start, slash - start));
    start = slash + 1;
  }
}

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
  Route route{std::move(method), std::move(pattern), std::move(handler), {}, {}, {}, {}};
  Segments views;
  Split(route.pattern, views);
  route.segments.assign(views.begin(), views.end());
  routes_.push_back(std::move(route));
}

void Router::Quick(QuickHandler quick) { routes_.back().quick = std::move(quick); }

void Router::Async(AsyncHandler async) { routes_.back().async = std::move(async); }

void Router::CheckBeforeBody(BodyCheck check) { routes_.back().check_before_body = std::move(check); }

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
