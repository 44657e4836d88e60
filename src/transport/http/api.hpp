// Registers every /api/v1 route and the operations endpoints. Handlers only parse, call one
// app service method and encode: every permission decision lives in src/app.
#pragma once

#include <atomic>
#include <functional>
#include <string>

#include "app/services.hpp"
#include "core/config.hpp"
#include "store/store.hpp"
#include "transport/http/request_limiter.hpp"
#include "transport/http/router.hpp"

namespace rounds::transport {

// State the operations endpoints report, owned by the server.
struct ServerState {
  std::atomic<bool> ready{false};
  std::atomic<bool> draining{false};
  std::function<std::string()> metrics_text;  // Prometheus exposition
};

struct ApiContext {
  app::Services& services;
  store::Store& store;
  const Config& config;
  ServerState& state;
  bool tls = false;
  RequestLimiter writes{};  // per-user limit on state-changing requests (write_requests_per_second)
};

void RegisterApiRoutes(Router& router, ApiContext& context);
// Route groups, each in its own file, registered by RegisterApiRoutes.
void RegisterGovernanceRoutes(Router& router, ApiContext& context);  // api_governance.cpp
void RegisterAuditRoutes(Router& router, ApiContext& context);       // api_audit.cpp
void RegisterRetentionRoutes(Router& router, ApiContext& context);   // api_retention.cpp
void RegisterEmergencyRoutes(Router& router, ApiContext& context);   // api_emergency.cpp

// The session cookie's name: "__Host-rounds_session" under TLS (which requires Secure), else
// "rounds_session".
std::string SessionCookieName(bool tls);
// The bearer token or session cookie of a request, or empty.
std::string SessionToken(const Request& request, bool tls);
// Authenticates a request and enforces CSRF on state-changing cookie requests.
Result<app::Actor> Authenticate(app::Services& services, const Request& request, bool tls);

}  // namespace rounds::transport
