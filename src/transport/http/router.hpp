// Maps (method, path) to a handler, with {name} path parameters. Routes are registered once at
// start and then only read, so matching is thread-safe without locks.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "transport/http/http_types.hpp"

namespace rounds::transport {

using Handler = std::function<Response(Request&)>;
// Answers on an I/O thread when that needs no waiting (no write, no busy read connection);
// std::nullopt hands the request to the route's Handler on the blocking pool.
using QuickHandler = std::function<std::optional<Response>(Request&)>;
// Runs on the blocking pool with the request's header only, before its body is read: a refusal
// (std::nullopt lets the body be read) is answered at once and the body never held.
using BodyCheck = std::function<std::optional<Response>(Request&)>;

// What an asynchronous handler is given: `defer` runs work later on the request's own I/O
// executor (callable from any thread, the store's writer included); `reply` answers the request,
// called exactly once, from work run through `defer` or before the handler returns.
struct Deferred {
  std::function<void(std::function<void()>)> defer;
  std::function<void(Response)> reply;
};
// Takes a request on an I/O thread and answers it without any thread waiting meanwhile (a post
// answered once its commit is durable). Returns false, having started nothing, to decline: the
// route's Handler then answers on the blocking pool. Returns true once `reply` will be called.
using AsyncHandler = std::function<bool(Request&, const Deferred&)>;

struct Route {
  std::string method;
  std::string pattern;          // "/api/v1/spaces/{id}/messages"
  Handler handler;
  std::vector<std::string> segments;
  QuickHandler quick;           // optional
  AsyncHandler async;           // optional; tried after `quick`
  BodyCheck check_before_body;  // optional
};

struct Match {
  const Route* route = nullptr;              // null: no route for this path
  std::vector<std::string> allowed_methods;  // when the path exists under other methods
};

class Router {
 public:
  void Add(std::string method, std::string pattern, Handler handler);
  // Gives the route added last a quick handler, tried first on the I/O thread.
  void Quick(QuickHandler quick);
  // Gives the route added last an asynchronous handler, tried on the I/O thread.
  void Async(AsyncHandler async);
  // Gives the route added last a check of the header before the body is read (an upload's
  // caller is authenticated before its megabytes are taken in).
  void CheckBeforeBody(BodyCheck check);
  // Fills request.params on a match.
  Match Find(Request& request) const;
  const std::vector<Route>& routes() const { return routes_; }

 private:
  std::vector<Route> routes_;
};

}  // namespace rounds::transport
