// Routes: The audit trail: search, verification, Merkle proofs, export (compliance officers only; the app's
// AuditService decides who may, and records every use and refusal).
#include "app/audit_service.hpp"
#include "transport/http/api_support.hpp"

namespace rounds::transport {

using namespace api_support;  // NOLINT: the route helpers

namespace {

// A filter that must name one of the three outcomes when given.
Result<std::optional<domain::AuditOutcome>> OutcomeParam(const Request& request) {
  std::string text = QueryText(request, "outcome");
  if (text.empty()) return std::optional<domain::AuditOutcome>();
  auto outcome = domain::ParseAuditOutcome(text);
  if (!outcome) return InvalidArgument("invalid_value", "'outcome' must be success, denied or failure.", "outcome");
  return outcome;
}

// A short filter value (ids and codes); longer input is refused rather than searched for.
Result<std::string> CodeParam(const Request& request, const char* name) {
  std::string text = QueryText(request, name);
  if (text.size() > 100) return InvalidArgument("invalid_value", std::string("'") + name + "' is too long.", name);
  return text;
}

}  // namespace

void RegisterAuditRoutes(Router& r, ApiContext& ctx) {
  app::AuditService& audit = ctx.services.audit;

  r.Add("GET", "/api/v1/audit", Authed(ctx, [&audit](Request& request, const Actor& actor) -> Result<Response> {
    store::AuditQuery q;
    ROUNDS_ASSIGN_OR_RETURN(auto actor_id, QueryInt(request, "actor_id"));
    q.actor_id = actor_id;
    ROUNDS_ASSIGN_OR_RETURN(q.action_prefix, CodeParam(request, "action"));
    ROUNDS_ASSIGN_OR_RETURN(q.object_type, CodeParam(request, "object_type"));
    ROUNDS_ASSIGN_OR_RETURN(q.object_id, CodeParam(request, "object_id"));
    ROUNDS_ASSIGN_OR_RETURN(q.patient_ref, CodeParam(request, "patient_ref"));
    ROUNDS_ASSIGN_OR_RETURN(std::string patient, CodeParam(request, "patient"));
    ROUNDS_ASSIGN_OR_RETURN(q.outcome, OutcomeParam(request));
    ROUNDS_ASSIGN_OR_RETURN(q.from, QueryInt(request, "from"));
    ROUNDS_ASSIGN_OR_RETURN(q.to, QueryInt(request, "to"));
    ROUNDS_ASSIGN_OR_RETURN(q.before_seq, QueryInt(request, "cursor"));
    ROUNDS_ASSIGN_OR_RETURN(q.limit, Limit(request));
    return Encode(audit.Search(actor, q, patient));
  }));

  // The last verification of the chain and the one running, if any.
  r.Add("GET", "/api/v1/audit/verify", Authed(ctx, [&audit](Request&, const Actor& actor) -> Result<Response> {
    return Encode(audit.VerificationStatus(actor));
  }));

  // Starts a verification in the background (or reports the one running): 202 with the status.
  r.Add("POST", "/api/v1/audit/verify", Authed(ctx, [&audit](Request&, const Actor& actor) -> Result<Response> {
    return Encode(audit.StartVerification(actor), 202);
  }));

  // RFC 9162 proofs over the trail's Merkle tree against signed checkpoints, as documents anyone
  // with the public key can check (`rounds audit check-proof`).
  r.Add("GET", "/api/v1/audit/proof/inclusion", Authed(ctx, [&audit](Request& request, const Actor& actor) -> Result<Response> {
    ROUNDS_ASSIGN_OR_RETURN(auto seq, QueryInt(request, "seq"));
    if (!seq) return InvalidArgument("missing_field", "'seq' is required: the record to prove.", "seq");
    ROUNDS_ASSIGN_OR_RETURN(auto tree_size, QueryInt(request, "tree_size"));
    return Encode(audit.InclusionProof(actor, *seq, tree_size));
  }));
  r.Add("GET", "/api/v1/audit/proof/consistency", Authed(ctx, [&audit](Request& request, const Actor& actor) -> Result<Response> {
    ROUNDS_ASSIGN_OR_RETURN(auto from, QueryInt(request, "from"));
    if (!from) return InvalidArgument("missing_field", "'from' is required: the earlier signed tree size.", "from");
    ROUNDS_ASSIGN_OR_RETURN(auto to, QueryInt(request, "to"));
    return Encode(audit.ConsistencyProof(actor, *from, to));
  }));

  // The keys that sign the checkpoints: the first (which checks every one), the one in use, the
  // changes between them and the next scheduled change.
  r.Add("GET", "/api/v1/audit/signing-key", Authed(ctx, [&audit](Request&, const Actor& actor) -> Result<Response> {
    return Encode(audit.SigningKeys(actor));
  }));

  // Changes the checkpoint signing key while the server runs; the officer's password (and code)
  // confirms it. {previous_public_key, public_key, seq}.
  r.Add("POST", "/api/v1/audit/signing-key",
        Authed(ctx, [&audit, &ctx](Request& request, const Actor& actor) -> Result<Response> {
          app::Confirmation confirmation;
          std::string reason;
          if (!request.body.empty()) {
            ROUNDS_ASSIGN_OR_RETURN(json body, JsonBody(request));
            BodyReader reader(body);
            confirmation = ReadConfirmation(reader);
            reason = reader.String("reason", false, 500).value_or("");
            ROUNDS_RETURN_IF_ERROR(reader.Finish());
          }
          ROUNDS_ASSIGN_OR_RETURN(auto changed, audit.ChangeKey(actor, ctx.services.auth, confirmation, reason));
          return Ok(json{{"previous_public_key", changed.previous_public_key},
                         {"public_key", changed.public_key},
                         {"seq", changed.seq}});
        }));

  r.Add("GET", "/api/v1/audit/export", Authed(ctx, [&audit](Request& request, const Actor& actor) -> Result<Response> {
    std::string format_text = QueryText(request, "format");
    auto format = app::ParseAuditExportFormat(format_text.empty() ? "ndjson" : format_text);
    if (!format) return InvalidArgument("invalid_value", "'format' must be csv, ndjson or fhir.", "format");
    ROUNDS_ASSIGN_OR_RETURN(auto from, QueryInt(request, "from"));
    ROUNDS_ASSIGN_OR_RETURN(auto to, QueryInt(request, "to"));
    // Rendered into a file with no name, then sent from it: never held in memory whole.
    ROUNDS_ASSIGN_OR_RETURN(OpenFile file, audit.ExportToFile(actor, *format, from, to));
    Response response;
    response.content_type = std::string(app::MediaType(*format));
    response.body_file = std::make_shared<OpenFile>(std::move(file));
    const char* extension = *format == app::AuditExportFormat::kCsv ? "csv" : *format == app::AuditExportFormat::kNdjson ? "ndjson" : "json";
    response.headers.emplace_back("Content-Disposition", std::string("attachment; filename=\"rounds-audit.") + extension + "\"");
    return response;
  }));
}

}  // namespace rounds::transport
