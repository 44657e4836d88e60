// Routes: Governance: policy templates, PHI checks, moderation, the patient index.
#include "transport/http/api_support.hpp"

namespace rounds::transport {

using namespace api_support;  // NOLINT: the route helpers
using namespace rounds::domain;

namespace {

Result<std::string> KeyParam(const Request& request) {
  const std::string& key = request.params.at("key");
  if (key.empty() || key.size() > 64) return NotFound("Template");
  return key;
}

Result<int> VersionValue(std::optional<std::int64_t> value, const char* name) {
  if (!value || *value < 1 || *value > 1'000'000) {
    return InvalidArgument("invalid_value", std::string("'") + name + "' must be a version number.", name);
  }
  return static_cast<int>(*value);
}

// {"document": {...}} or the template document itself.
Result<json> TemplateDocument(const Request& request) {
  ROUNDS_ASSIGN_OR_RETURN(json body, JsonBody(request));
  if (body.is_object() && body.contains("document")) {
    if (body.size() != 1) return InvalidArgument("unknown_field", "Send only 'document'.", "/");
    return body["document"];
  }
  return body;
}

}  // namespace

void RegisterGovernanceRoutes(Router& r, ApiContext& ctx) {
  app::Services& s = ctx.services;
  app::GovernanceService& g = s.governance;

  // ---- Templates ------------------------------------------------------------------------------
  r.Add("GET", "/api/v1/templates", Authed(ctx, [&g](Request&, const Actor& actor) -> Result<Response> {
    return Encode(g.ListTemplates(actor));
  }));
  r.Add("POST", "/api/v1/templates", Authed(ctx, [&g](Request& request, const Actor& actor) -> Result<Response> {
    ROUNDS_ASSIGN_OR_RETURN(json document, TemplateDocument(request));
    return Encode(g.CreateTemplate(actor, document), 201);
  }));
  r.Add("POST", "/api/v1/templates/validate", Authed(ctx, [](Request& request, const Actor&) -> Result<Response> {
    ROUNDS_ASSIGN_OR_RETURN(json document, TemplateDocument(request));
    return Ok(app::GovernanceService::ValidateTemplate(document));
  }));
  r.Add("GET", "/api/v1/templates/{key}/versions/{version}", Authed(ctx, [&g](Request& request, const Actor& actor) -> Result<Response> {
    ROUNDS_ASSIGN_OR_RETURN(auto key, KeyParam(request));
    ROUNDS_ASSIGN_OR_RETURN(auto version, IdParam(request, "version"));
    return Encode(g.GetTemplate(actor, key, static_cast<int>(std::min<std::int64_t>(version, 1'000'000))));
  }));
  r.Add("POST", "/api/v1/templates/{key}/versions", Authed(ctx, [&g](Request& request, const Actor& actor) -> Result<Response> {
    ROUNDS_ASSIGN_OR_RETURN(auto key, KeyParam(request));
    ROUNDS_ASSIGN_OR_RETURN(json document, TemplateDocument(request));
    return Encode(g.NewVersion(actor, key, document), 201);
  }));
  r.Add("POST", "/api/v1/templates/{key}/clone", Authed(ctx, [&g](Request& request, const Actor& actor) -> Result<Response> {
    ROUNDS_ASSIGN_OR_RETURN(auto key, KeyParam(request));
    ROUNDS_ASSIGN_OR_RETURN(json body, JsonBody(request));
    BodyReader reader(body);
    auto new_key = reader.String("new_key", true, 64);
    auto name = reader.String("name", false, 120);
    ROUNDS_RETURN_IF_ERROR(reader.Finish());
    return Encode(g.CloneTemplate(actor, key, *new_key, name.value_or("")), 201);
  }));
  r.Add("GET", "/api/v1/templates/{key}/diff", Authed(ctx, [&g](Request& request, const Actor& actor) -> Result<Response> {
    ROUNDS_ASSIGN_OR_RETURN(auto key, KeyParam(request));
    ROUNDS_ASSIGN_OR_RETURN(auto from_value, QueryInt(request, "from"));
    ROUNDS_ASSIGN_OR_RETURN(auto to_value, QueryInt(request, "to"));
    ROUNDS_ASSIGN_OR_RETURN(int from, VersionValue(from_value, "from"));
    ROUNDS_ASSIGN_OR_RETURN(int to, VersionValue(to_value, "to"));
    return Encode(g.DiffTemplate(actor, key, from, to));
  }));
  r.Add("POST", "/api/v1/spaces/{id}/template", Authed(ctx, [&g](Request& request, const Actor& actor) -> Result<Response> {
    ROUNDS_ASSIGN_OR_RETURN(auto id, IdParam(request, "id"));
    ROUNDS_ASSIGN_OR_RETURN(json body, JsonBody(request));
    BodyReader reader(body);
    auto key = reader.String("key", true, 64);
    auto version = reader.Int("version", true, 1, 1'000'000);
    auto reason = reader.String("reason", false, 500);
    ROUNDS_RETURN_IF_ERROR(reader.Finish());
    return Encode(g.AssignTemplate(actor, id, *key, static_cast<int>(*version), reason.value_or("")));
  }));
  r.Add("POST", "/api/v1/spaces/{id}/template/dry-run", Authed(ctx, [&g](Request& request, const Actor& actor) -> Result<Response> {
    ROUNDS_ASSIGN_OR_RETURN(auto id, IdParam(request, "id"));
    ROUNDS_ASSIGN_OR_RETURN(json body, JsonBody(request));
    BodyReader reader(body);
    auto key = reader.String("key", true, 64);
    auto version = reader.Int("version", true, 1, 1'000'000);
    auto limit = reader.Int("limit", false, 1, 1000);
    ROUNDS_RETURN_IF_ERROR(reader.Finish());
    return Encode(g.DryRun(actor, id, *key, static_cast<int>(*version), static_cast<int>(limit.value_or(200))));
  }));

  // ---- PHI preview ----------------------------------------------------------------------------
  r.Add("POST", "/api/v1/spaces/{id}/phi-check", Authed(ctx, [&ctx, &g](Request& request, const Actor& actor) -> Result<Response> {
    ROUNDS_ASSIGN_OR_RETURN(auto id, IdParam(request, "id"));
    ROUNDS_ASSIGN_OR_RETURN(json body, JsonBody(request));
    BodyReader reader(body);
    auto text = reader.String("body", false, static_cast<std::size_t>(ctx.config.max_message_chars));
    auto title = reader.String("title", false, 200);
    bool has_parent = false;
    auto parent = reader.NullableInt("parent_id", &has_parent);  // the thread a reply would join
    bool has_message = false;
    auto editing = reader.NullableInt("message_id", &has_message);  // the message an edit rewrites
    ROUNDS_RETURN_IF_ERROR(reader.Finish());
    return Encode(g.PhiCheck(actor, id, text.value_or(""), title.value_or(""), parent.value_or(0), editing.value_or(0)));
  }));

  // ---- Moderation -----------------------------------------------------------------------------
  r.Add("POST", "/api/v1/messages/{id}/report", Authed(ctx, [&g](Request& request, const Actor& actor) -> Result<Response> {
    ROUNDS_ASSIGN_OR_RETURN(auto id, IdParam(request, "id"));
    ROUNDS_ASSIGN_OR_RETURN(json body, JsonBody(request));
    BodyReader reader(body);
    auto reason = reader.String("reason", true, 500);
    ROUNDS_RETURN_IF_ERROR(reader.Finish());
    return Encode(g.Report(actor, id, *reason), 201);
  }));
  r.Add("GET", "/api/v1/moderation/queue", Authed(ctx, [&g](Request& request, const Actor& actor) -> Result<Response> {
    ROUNDS_ASSIGN_OR_RETURN(auto space, QueryInt(request, "space_id"));
    ROUNDS_ASSIGN_OR_RETURN(auto cursor, QueryInt(request, "cursor"));
    ROUNDS_ASSIGN_OR_RETURN(int limit, Limit(request));
    std::optional<SpaceId> space_id;
    if (space) space_id = *space;
    return Encode(g.Queue(actor, space_id, cursor.value_or(0), limit));
  }));
  r.Add("POST", "/api/v1/messages/{id}/moderate", Authed(ctx, [&g](Request& request, const Actor& actor) -> Result<Response> {
    ROUNDS_ASSIGN_OR_RETURN(auto id, IdParam(request, "id"));
    ROUNDS_ASSIGN_OR_RETURN(json body, JsonBody(request));
    BodyReader reader(body);
    ROUNDS_ASSIGN_OR_RETURN(auto kind, EnumField<ModerationKind>(reader, "action", ParseModerationKind));
    auto reason = reader.String("reason", true, 500);
    auto days = reader.Int("suspend_days", false, 1, 3650);
    ROUNDS_RETURN_IF_ERROR(reader.Finish());
    if (!kind) return InvalidArgument("missing_field", "'action' is required.", "/action");
    app::ModerationRequest req{*kind, *reason, days ? std::optional<int>(static_cast<int>(*days)) : std::nullopt};
    return Encode(g.Moderate(actor, id, req));
  }));
  r.Add("GET", "/api/v1/moderation/actions", Authed(ctx, [&g](Request& request, const Actor& actor) -> Result<Response> {
    ROUNDS_ASSIGN_OR_RETURN(auto space, QueryInt(request, "space_id"));
    ROUNDS_ASSIGN_OR_RETURN(auto cursor, QueryInt(request, "cursor"));
    ROUNDS_ASSIGN_OR_RETURN(int limit, Limit(request));
    std::string pending = QueryText(request, "pending_appeals");
    std::optional<SpaceId> space_id;
    if (space) space_id = *space;
    return Encode(g.ListActions(actor, space_id, pending == "true" || pending == "1", cursor.value_or(0), limit));
  }));
  r.Add("GET", "/api/v1/me/moderation", Authed(ctx, [&g](Request&, const Actor& actor) -> Result<Response> {
    return Encode(g.MyActions(actor));
  }));
  r.Add("POST", "/api/v1/moderation/actions/{id}/appeal", Authed(ctx, [&g](Request& request, const Actor& actor) -> Result<Response> {
    ROUNDS_ASSIGN_OR_RETURN(auto id, IdParam(request, "id"));
    ROUNDS_ASSIGN_OR_RETURN(json body, JsonBody(request));
    BodyReader reader(body);
    auto text = reader.String("text", true, 2000);
    ROUNDS_RETURN_IF_ERROR(reader.Finish());
    return Encode(g.Appeal(actor, id, *text));
  }));
  r.Add("POST", "/api/v1/moderation/actions/{id}/decide", Authed(ctx, [&g](Request& request, const Actor& actor) -> Result<Response> {
    ROUNDS_ASSIGN_OR_RETURN(auto id, IdParam(request, "id"));
    ROUNDS_ASSIGN_OR_RETURN(json body, JsonBody(request));
    BodyReader reader(body);
    ROUNDS_ASSIGN_OR_RETURN(auto outcome, EnumField<AppealOutcome>(reader, "outcome", ParseAppealOutcome));
    auto reason = reader.String("reason", true, 500);
    ROUNDS_RETURN_IF_ERROR(reader.Finish());
    if (!outcome || *outcome == AppealOutcome::kNone) {
      return InvalidArgument("invalid_value", "'outcome' is 'upheld' or 'reversed'.", "/outcome");
    }
    return Encode(g.DecideAppeal(actor, id, *outcome, *reason));
  }));

  // ---- Patient index --------------------------------------------------------------------------
  r.Add("GET", "/api/v1/patients/count", Authed(ctx, [&g](Request&, const Actor& actor) -> Result<Response> {
    return Encode(g.PatientCount(actor));
  }));
  r.Add("POST", "/api/v1/patients/import", Authed(ctx, [&g](Request& request, const Actor& actor) -> Result<Response> {
    ROUNDS_ASSIGN_OR_RETURN(json body, JsonBody(request));
    BodyReader reader(body);
    auto csv = reader.String("csv", true, 64u << 20);
    ROUNDS_RETURN_IF_ERROR(reader.Finish());
    return Encode(g.ImportPatients(actor, *csv));
  }));
  r.Add("PUT", "/api/v1/patients/{mrn}", Authed(ctx, [&g](Request& request, const Actor& actor) -> Result<Response> {
    ROUNDS_ASSIGN_OR_RETURN(json body, JsonBody(request));
    BodyReader reader(body);
    auto first = reader.String("first", false, 200);
    auto last = reader.String("last", true, 200);
    ROUNDS_RETURN_IF_ERROR(reader.Finish());
    return Encode(g.UpsertPatient(actor, {request.params.at("mrn"), first.value_or(""), *last}));
  }));
  r.Add("DELETE", "/api/v1/patients/{mrn}", Authed(ctx, [&g](Request& request, const Actor& actor) -> Result<Response> {
    return Empty(g.DeletePatient(actor, request.params.at("mrn")));
  }));
}

}  // namespace rounds::transport
