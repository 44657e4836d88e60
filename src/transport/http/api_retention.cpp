// Routes: Retention, legal holds and e-discovery exports (compliance officers only; the app's
// RetentionService decides who may, and records every use and refusal).
#include "app/retention_service.hpp"
#include "core/crypto.hpp"
#include "transport/http/api_support.hpp"

namespace rounds::transport {

using namespace api_support;  // NOLINT: the route helpers

namespace {

constexpr std::size_t kMaxIds = 1000;

// Reads the optional millisecond bounds "from" and "to" (null or absent: open).
void ReadRange(BodyReader& reader, std::optional<UnixMillis>& from, std::optional<UnixMillis>& to) {
  bool present = false;
  from = reader.NullableInt("from", &present);
  to = reader.NullableInt("to", &present);
}

Result<app::HoldDraft> ParseHold(const Request& request) {
  ROUNDS_ASSIGN_OR_RETURN(json body, JsonBody(request));
  BodyReader reader(body);
  app::HoldDraft draft;
  draft.name = reader.String("name", true, 200).value_or("");
  draft.reason = reader.String("reason", false, 2000).value_or("");
  draft.custodian_ids = reader.IntArray("custodian_ids", false, kMaxIds).value_or(std::vector<std::int64_t>{});
  draft.space_ids = reader.IntArray("space_ids", false, kMaxIds).value_or(std::vector<std::int64_t>{});
  ReadRange(reader, draft.from, draft.to);
  ROUNDS_RETURN_IF_ERROR(reader.Finish());
  return draft;
}

// The officer's password (and a code, with two-step sign-in) confirming a release or removal.
// Without a body, nothing is confirmed: the service refuses what it must before asking for it.
Result<app::Confirmation> ParseConfirmation(const Request& request) {
  app::Confirmation out;
  if (request.body.empty()) return out;
  ROUNDS_ASSIGN_OR_RETURN(json body, JsonBody(request));
  BodyReader reader(body);
  out = ReadConfirmation(reader);
  ROUNDS_RETURN_IF_ERROR(reader.Finish());
  return out;
}

Result<store::ExportQuery> ParseExportQuery(const Request& request) {
  ROUNDS_ASSIGN_OR_RETURN(json body, JsonBody(request));
  BodyReader reader(body);
  store::ExportQuery query;
  query.custodian_ids = reader.IntArray("custodian_ids", false, kMaxIds).value_or(std::vector<std::int64_t>{});
  query.space_ids = reader.IntArray("space_ids", false, kMaxIds).value_or(std::vector<std::int64_t>{});
  query.keywords = reader.StringArray("keywords", false, 50, 200).value_or(std::vector<std::string>{});
  ReadRange(reader, query.from, query.to);
  ROUNDS_RETURN_IF_ERROR(reader.Finish());
  return query;
}

}  // namespace

void RegisterRetentionRoutes(Router& r, ApiContext& ctx) {
  app::RetentionService& retention = ctx.services.retention;

  r.Add("GET", "/api/v1/legal-holds", Authed(ctx, [&retention](Request& request, const Actor& actor) -> Result<Response> {
    std::string all = QueryText(request, "include_released");
    return Encode(retention.ListHolds(actor, all == "true" || all == "1"));
  }));

  r.Add("POST", "/api/v1/legal-holds", Authed(ctx, [&retention](Request& request, const Actor& actor) -> Result<Response> {
    ROUNDS_ASSIGN_OR_RETURN(auto draft, ParseHold(request));
    return Encode(retention.CreateHold(actor, draft), 201);
  }));

  r.Add("POST", "/api/v1/legal-holds/{id}/release",
        Authed(ctx, [&retention](Request& request, const Actor& actor) -> Result<Response> {
          ROUNDS_ASSIGN_OR_RETURN(auto id, IdParam(request, "id"));
          ROUNDS_ASSIGN_OR_RETURN(auto confirmation, ParseConfirmation(request));
          return Encode(retention.ReleaseHold(actor, id, confirmation));
        }));

  r.Add("POST", "/api/v1/retention/run", Authed(ctx, [&retention](Request&, const Actor& actor) -> Result<Response> {
    ROUNDS_ASSIGN_OR_RETURN(auto report, retention.RunOnce(actor));
    return Ok(app::RetentionReportJson(report));
  }));

  r.Add("GET", "/api/v1/exports", Authed(ctx, [&retention](Request& request, const Actor& actor) -> Result<Response> {
    ROUNDS_ASSIGN_OR_RETURN(auto limit, QueryInt(request, "limit"));
    if (limit && (*limit < 1 || *limit > 200)) return InvalidArgument("invalid_value", "'limit' must be 1 to 200.", "limit");
    return Encode(retention.ListExports(actor, QueryText(request, "cursor"), static_cast<int>(limit.value_or(200))));
  }));

  r.Add("POST", "/api/v1/exports", Authed(ctx, [&retention](Request& request, const Actor& actor) -> Result<Response> {
    ROUNDS_ASSIGN_OR_RETURN(auto query, ParseExportQuery(request));
    return Encode(retention.ExportToDataDir(actor, query), 201);
  }));

  r.Add("GET", "/api/v1/exports/{id}/files/{name}",
        Authed(ctx, [&retention](Request& request, const Actor& actor) -> Result<Response> {
          const std::string& name = request.params.at("name");
          ROUNDS_ASSIGN_OR_RETURN(auto file, retention.ReadExportFile(actor, request.params.at("id"), name));
          Response response;
          response.content_type = file.content_type;
          response.body_file = std::make_shared<OpenFile>(std::move(file.file));
          // `name` is one of the export's fixed file names (the service refuses any other).
          response.headers.emplace_back("Content-Disposition", "attachment; filename=\"" + name + "\"");
          return response;
        }));

  r.Add("DELETE", "/api/v1/exports/{id}", Authed(ctx, [&retention](Request& request, const Actor& actor) -> Result<Response> {
    ROUNDS_ASSIGN_OR_RETURN(auto confirmation, ParseConfirmation(request));
    return Encode(retention.RemoveExport(actor, request.params.at("id"), confirmation));
  }));

  // All of an export in one ZIP archive; its SHA-256 as the audit records it (RFC 9530).
  r.Add("GET", "/api/v1/exports/{id}/archive",
        Authed(ctx, [&retention](Request& request, const Actor& actor) -> Result<Response> {
          ROUNDS_ASSIGN_OR_RETURN(auto archive, retention.ArchiveExport(actor, request.params.at("id")));
          Response response;
          response.content_type = "application/zip";
          response.body_file = std::make_shared<OpenFile>(std::move(archive.file));
          // The name is "export-" and the export's id, which the service found in its records.
          response.headers.emplace_back("Content-Disposition", "attachment; filename=\"" + archive.file_name + "\"");
          auto digest = crypto::FromHex(archive.sha256);
          if (digest) response.headers.emplace_back("Repr-Digest", "sha-256=:" + crypto::Base64(*digest) + ":");
          response.headers.emplace_back("X-Content-SHA256", archive.sha256);  // as attachments carry theirs
          return response;
        }));
}

}  // namespace rounds::transport
