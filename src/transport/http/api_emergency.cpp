// Routes: emergency access ("break the glass"). The app's EmergencyAccessService decides who may
// open, end, list and review grants, and records every use and refusal.
#include "app/services.hpp"
#include "transport/http/api_support.hpp"

namespace rounds::transport {

using namespace api_support;  // NOLINT: the route helpers

namespace {

Result<app::EmergencyRequest> ParseRequest(const Request& request) {
  ROUNDS_ASSIGN_OR_RETURN(json body, JsonBody(request));
  BodyReader reader(body);
  app::EmergencyRequest out;
  out.space_id = reader.Int("space_id", true, 1, INT64_MAX).value_or(0);
  out.reason = reader.String("reason", true, 4000).value_or("");
  out.password = reader.String("password", true, 256).value_or("");
  out.code = reader.String("code", false, 64).value_or("");
  out.minutes = static_cast<int>(
      reader.Int("minutes", false, app::kEmergencyMinMinutes, app::kEmergencyMaxMinutes).value_or(app::kEmergencyMaxMinutes));
  ROUNDS_RETURN_IF_ERROR(reader.Finish());
  return out;
}

Result<store::GrantState> StateParam(const Request& request) {
  const std::string state = QueryText(request, "state");
  if (state.empty() || state == "all") return store::GrantState::kAll;
  if (state == "active") return store::GrantState::kActive;
  if (state == "unreviewed") return store::GrantState::kUnreviewed;
  return InvalidArgument("invalid_value", "'state' is active, unreviewed or all.", "state");
}

}  // namespace

void RegisterEmergencyRoutes(Router& r, ApiContext& ctx) {
  app::EmergencyAccessService& emergency = ctx.services.emergency;

  r.Add("GET", "/api/v1/emergency-access/spaces",
        Authed(ctx, [&emergency](Request& request, const Actor& actor) -> Result<Response> {
          ROUNDS_ASSIGN_OR_RETURN(int limit, Limit(request));
          return Encode(emergency.EligibleSpaces(actor, QueryText(request, "q"), limit));
        }));

  r.Add("GET", "/api/v1/emergency-access", Authed(ctx, [&emergency](Request& request, const Actor& actor) -> Result<Response> {
    const std::string scope = QueryText(request, "scope");
    if (!scope.empty() && scope != "mine" && scope != "all") {
      return InvalidArgument("invalid_value", "'scope' is mine or all.", "scope");
    }
    ROUNDS_ASSIGN_OR_RETURN(auto state, StateParam(request));
    ROUNDS_ASSIGN_OR_RETURN(auto before, QueryInt(request, "before"));
    ROUNDS_ASSIGN_OR_RETURN(int limit, Limit(request));
    return Encode(emergency.List(actor, scope == "all", state, before.value_or(0), limit));
  }));

  r.Add("POST", "/api/v1/emergency-access", Authed(ctx, [&emergency](Request& request, const Actor& actor) -> Result<Response> {
    ROUNDS_ASSIGN_OR_RETURN(auto parsed, ParseRequest(request));
    return Encode(emergency.Open(actor, parsed), 201);
  }));

  r.Add("POST", "/api/v1/emergency-access/{id}/end",
        Authed(ctx, [&emergency](Request& request, const Actor& actor) -> Result<Response> {
          ROUNDS_ASSIGN_OR_RETURN(auto id, IdParam(request, "id"));
          return Encode(emergency.End(actor, id));
        }));

  r.Add("POST", "/api/v1/emergency-access/{id}/review",
        Authed(ctx, [&emergency](Request& request, const Actor& actor) -> Result<Response> {
          ROUNDS_ASSIGN_OR_RETURN(auto id, IdParam(request, "id"));
          ROUNDS_ASSIGN_OR_RETURN(json body, JsonBody(request));
          BodyReader reader(body);
          std::string outcome = reader.String("outcome", true, 32).value_or("");
          std::string note = reader.String("note", false, 4000).value_or("");
          ROUNDS_RETURN_IF_ERROR(reader.Finish());
          return Encode(emergency.Review(actor, id, outcome, note));
        }));
}

}  // namespace rounds::transport
