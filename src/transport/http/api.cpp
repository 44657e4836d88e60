#include "transport/http/api.hpp"

#include <charconv>

#include "app/json_codec.hpp"
#include "transport/http/api_support.hpp"
#include "core/crypto.hpp"
#include "domain/rules.hpp"

namespace rounds::transport {

using app::Actor;
using app::BodyReader;
using nlohmann::json;
using namespace rounds::domain;

std::string SessionCookieName(bool tls) { return tls ? "__Host-rounds_session" : "rounds_session"; }

namespace {

// The value of cookie `name` in the request's Cookie header, or empty.
std::string CookieValue(const Request& request, const std::string& name) {
  const std::string cookies = request.Header("cookie");
  const std::string prefix = name + "=";
  std::size_t pos = 0;
  while (pos < cookies.size()) {
    while (pos < cookies.size() && (cookies[pos] == ' ' || cookies[pos] == ';')) ++pos;
    auto end = cookies.find(';', pos);
    if (end == std::string::npos) end = cookies.size();
    if (cookies.compare(pos, prefix.size(), prefix) == 0) return cookies.substr(pos + prefix.size(), end - pos - prefix.size());
    pos = end + 1;
  }
  return {};
}

// The device cookie (app::SignInGuard): sent back at sign-in only, kept a year.
std::string DeviceCookieName(bool tls) { return tls ? "__Host-rounds_device" : "rounds_device"; }
constexpr std::int64_t kDeviceCookieSeconds = 365LL * 24 * 60 * 60;

}  // namespace

std::string SessionToken(const Request& request, bool tls) {
  std::string auth = request.Header("authorization");
  if (auth.size() > 7 && (auth.compare(0, 7, "Bearer ") == 0 || auth.compare(0, 7, "bearer ") == 0)) {
    return auth.substr(7);
  }
  return CookieValue(request, SessionCookieName(tls));
}

// The client's own description, bounded, for audit records.
std::string UserAgent(const Request& request) { return request.Header("user-agent").substr(0, 256); }

namespace {

// What a session may do while the server requires two-step sign-in of its account and it has
// none: see who it is, set one up, and leave.
bool AllowedBeforeEnrollment(const Request& request) {
  if (request.method == "GET") return request.path == "/api/v1/me";
  return request.method == "POST" &&
         (request.path == "/api/v1/auth/logout" || request.path == "/api/v1/me/mfa/totp/setup" ||
          request.path == "/api/v1/me/mfa/totp/confirm");
}

}  // namespace

Result<Actor> Authenticate(app::Services& services, const Request& request, bool tls) {
  std::string token = SessionToken(request, tls);
  if (token.empty()) return Fail(ErrorCode::kUnauthenticated, "unauthenticated", "Please sign in.");
  ROUNDS_ASSIGN_OR_RETURN(Actor actor, services.auth.Authenticate(token, request.remote_address));
  actor.user_agent = UserAgent(request);
  bool safe = request.method == "GET" || request.method == "HEAD";
  if (!safe && !actor.is_bearer) {
    std::string csrf = request.Header("x-csrf-token");
    if (csrf.empty()) return Forbidden("csrf_required", "This request needs the X-CSRF-Token header.");
    if (!crypto::ConstantTimeEquals(csrf, actor.csrf_token)) {
      return Forbidden("csrf_mismatch", "The CSRF token does not match this session.");
    }
  }
  if (actor.mfa_enrollment_required && !AllowedBeforeEnrollment(request)) {
    return Forbidden("mfa_enrollment_required",
                     "This account must set up two-step sign-in before it can do anything else.");
  }
  return actor;
}

// Authenticate for a quick handler: the actor of a live session the server knows, or std::nullopt
// (then the route's handler authenticates on the pool). Reads only: no CSRF check to make.
std::optional<Actor> AuthenticateKept(app::Services& services, const Request& request, bool tls) {
  std::string token = SessionToken(request, tls);
  std::optional<Actor> actor = services.auth.AuthenticateKept(token, request.remote_address);
  if (actor && actor->mfa_enrollment_required) return std::nullopt;  // Authenticate refuses it
  if (actor) actor->user_agent = UserAgent(request);
  return actor;
}

// AuthenticateKept for a change: also the CSRF check Authenticate makes, std::nullopt when it
// fails (the route's handler then refuses it with Authenticate's answer).
std::optional<Actor> AuthenticateKeptWrite(app::Services& services, const Request& request, bool tls) {
  std::optional<Actor> actor = AuthenticateKept(services, request, tls);
  if (!actor || actor->is_bearer) return actor;
  const std::string csrf = request.Header("x-csrf-token");
  if (csrf.empty() || !crypto::ConstantTimeEquals(csrf, actor->csrf_token)) return std::nullopt;
  return actor;
}

using namespace api_support;  // NOLINT: the route helpers

namespace {

// The body of a post (POST /spaces/{id}/messages).
Result<app::Draft> DraftBody(const Request& request, const Config& config) {
  ROUNDS_ASSIGN_OR_RETURN(json body, JsonBody(request));
  BodyReader reader(body);
  app::Draft draft;
  draft.body = reader.String("body", false, static_cast<std::size_t>(config.max_message_chars)).value_or("");
  draft.title = reader.String("title", false, 200).value_or("");
  ROUNDS_ASSIGN_OR_RETURN(auto kind, EnumField<MessageKind>(reader, "kind", ParseMessageKind));
  draft.kind = kind.value_or(MessageKind::kMessage);
  bool has_parent = false;
  auto parent = reader.NullableInt("parent_id", &has_parent);
  if (parent) draft.parent_id = *parent;
  draft.client_id = reader.String("client_id", false, 64).value_or("");
  draft.poll_options = reader.StringArray("poll_options", false, 10, 200).value_or(std::vector<std::string>{});
  draft.confirm_phi = reader.Bool("confirm_phi", false).value_or(false);
  draft.attachment_ids = reader.IntArray("attachment_ids", false, app::kMaxAttachments).value_or(std::vector<std::int64_t>{});
  ROUNDS_RETURN_IF_ERROR(reader.Finish());
  return draft;
}

Result<Response> Posted(Result<app::PostResult> posted) {
  if (!posted) return tl::unexpected(posted.error());
  Response response;
  response.status = posted->created ? 201 : 200;
  response.body = std::move(posted->text);
  return response;
}

// The longest post body screened on an I/O thread: a chat message. Screening runs at about
// 50 MB/s per core, so this holds an I/O thread for about 80 µs at most; longer posts (pasted
// documents) go to the pool.
constexpr std::size_t kPostBytesOnIoThread = 4096;

// ?before=, ?after=, ?parent_id= and ?limit= of a page of messages.
Result<app::MessagePage> PageQuery(const Request& request) {
  app::MessagePage page;
  ROUNDS_ASSIGN_OR_RETURN(page.before, QueryInt(request, "before"));
  ROUNDS_ASSIGN_OR_RETURN(page.after, QueryInt(request, "after"));
  ROUNDS_ASSIGN_OR_RETURN(auto parent, QueryInt(request, "parent_id"));
  if (parent) page.parent_id = *parent;
  ROUNDS_ASSIGN_OR_RETURN(page.limit, Limit(request));
  return page;
}

// Content-Disposition for a stored file name (RFC 6266): an ASCII fallback with anything outside
// printable ASCII, quotes and backslashes replaced, and the name itself percent-encoded as UTF-8.
std::string ContentDisposition(const char* kind, const std::string& name) {
  std::string fallback, encoded;
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (unsigned char c : name) {
    fallback += (c >= 0x20 && c < 0x7F && c != '"' && c != '\\') ? static_cast<char>(c) : '_';
    if (std::isalnum(c) || c == '.' || c == '-' || c == '_' || c == '~') {
      encoded += static_cast<char>(c);
    } else {
      encoded += '%';
      encoded += kHex[c >> 4];
      encoded += kHex[c & 15];
    }
  }
  return std::string(kind) + "; filename=\"" + fallback + "\"; filename*=UTF-8''" + encoded;
}

bool IsLoopbackAddress(const std::string& address) {
  return address.rfind("127.", 0) == 0 || address == "::1" || address.rfind("::ffff:127.", 0) == 0;
}

std::string Cookie(const std::string& name, bool tls, const std::string& value, std::int64_t max_age_seconds) {
  std::string cookie = name + "=" + value + "; Path=/; HttpOnly; SameSite=Strict";
  if (tls) cookie += "; Secure";
  cookie += "; Max-Age=" + std::to_string(max_age_seconds);
  return cookie;
}

std::string SessionCookie(bool tls, const std::string& token, std::int64_t max_age_seconds) {
  return Cookie(SessionCookieName(tls), tls, token, max_age_seconds);
}

// The body {password, code} of the two-step settings that need both factors.
struct Proof {
  std::string password;
  std::string code;
};
Result<Proof> PasswordAndCode(Request& request) {
  ROUNDS_ASSIGN_OR_RETURN(json body, JsonBody(request));
  BodyReader reader(body);
  auto password = reader.String("password", true, 256);
  auto code = reader.String("code", true, 64);
  ROUNDS_RETURN_IF_ERROR(reader.Finish());
  return Proof{*password, *code};
}

// The answer to a finished sign-in: the session token in the body for bearer clients, in cookies
// for browsers (with the device cookie, kept a year).
Response SignedIn(const ApiContext& ctx, const app::LoginResult& login) {
  json out{{"user", app::UserJson(login.user)}, {"csrf_token", login.session.csrf_token},
           {"expires_at", login.session.expires_at}};
  if (login.session.is_bearer) {
    out["token"] = login.token;
    out["device_token"] = login.device_token;
    return Ok(out);
  }
  Response response = Ok(out);
  response.headers.emplace_back("Set-Cookie", SessionCookie(ctx.tls, login.token, ctx.config.absolute_timeout_seconds));
  response.headers.emplace_back("Set-Cookie", Cookie(DeviceCookieName(ctx.tls), ctx.tls, login.device_token, kDeviceCookieSeconds));
  return response;
}

}  // namespace

void RegisterApiRoutes(Router& r, ApiContext& ctx) {
  app::Services& s = ctx.services;

  // ---- Operations ---------------------------------------------------------------------------
  r.Add("GET", "/healthz", [](Request&) { return Ok(json{{"status", "ok"}}); });
  r.Add("GET", "/readyz", [&ctx](Request&) {
    bool ready = ctx.state.ready && !ctx.state.draining;
    return Ok(json{{"status", ready ? "ok" : (ctx.state.draining ? "draining" : "starting")}}, ready ? 200 : 503);
  });
  // Operational detail for the scraper on this machine (or behind the proxy that restricts it),
  // not for the internet: other addresses get a 404 as if it did not exist.
  r.Add("GET", "/metrics", [&ctx](Request& request) {
    if (!IsLoopbackAddress(request.remote_address)) {
      return ProblemResponse(Error{ErrorCode::kNotFound, "not_found", "There is no such endpoint.", {}});
    }
    Response response;
    response.content_type = "text/plain; version=0.0.4; charset=utf-8";
    response.body = ctx.state.metrics_text ? ctx.state.metrics_text() : "";
    return response;
  });

  // ---- Authentication -----------------------------------------------------------------------
  r.Add("POST", "/api/v1/auth/login", Wrap([&ctx, &s](Request& request) -> Result<Response> {
    ROUNDS_ASSIGN_OR_RETURN(json body, JsonBody(request));
    BodyReader reader(body);
    auto username = reader.String("username", true, 64);
    auto password = reader.String("password", true, 256);
    auto bearer = reader.Bool("bearer", false);
    // API clients keep the device token themselves; browsers have it in an HttpOnly cookie.
    auto device_token = reader.String("device_token", false, 256);
    auto code = reader.String("code", false, 64);
    ROUNDS_RETURN_IF_ERROR(reader.Finish());
    std::string device = device_token.value_or("");
    if (device.empty()) device = CookieValue(request, DeviceCookieName(ctx.tls));
    ROUNDS_ASSIGN_OR_RETURN(auto login, s.auth.Login({*username, *password, bearer.value_or(false),
                                                      request.remote_address, request.Header("user-agent"), device,
                                                      code.value_or("")}));
    if (login.mfa_required) {
      return Ok(json{{"mfa_required", true}, {"mfa_token", login.mfa_token},
                     {"methods", json::array({"totp", "recovery_code"})}});
    }
    return SignedIn(ctx, login);
  }));
  r.Add("POST", "/api/v1/auth/mfa", Wrap([&ctx, &s](Request& request) -> Result<Response> {
    ROUNDS_ASSIGN_OR_RETURN(json body, JsonBody(request));
    BodyReader reader(body);
    app::MfaLoginRequest mfa;
    mfa.mfa_token = reader.String("mfa_token", true, 256).value_or("");
    mfa.code = reader.String("code", true, 64).value_or("");
    mfa.bearer = reader.Bool("bearer", false).value_or(false);
    mfa.device_token = reader.String("device_token", false, 256).value_or("");
    ROUNDS_RETURN_IF_ERROR(reader.Finish());
    if (mfa.device_token.empty()) mfa.device_token = CookieValue(request, DeviceCookieName(ctx.tls));
    mfa.address = request.remote_address;
    mfa.user_agent = request.Header("user-agent");
    ROUNDS_ASSIGN_OR_RETURN(auto login, s.auth.CompleteMfa(mfa));
    return SignedIn(ctx, login);
  }));
  r.Add("POST", "/api/v1/auth/logout", Authed(ctx, [&ctx, &s](Request&, const Actor& actor) -> Result<Response> {
    ROUNDS_RETURN_IF_ERROR(s.auth.Logout(actor));
    Response response = Response::NoContent();
    response.headers.emplace_back("Set-Cookie", SessionCookie(ctx.tls, "", 0));
    response.headers.emplace_back("Clear-Site-Data", "\"cache\", \"storage\"");
    return response;
  }));

  // Administration: an administrator's session administers only after the password (and a code).
  r.Add("POST", "/api/v1/auth/elevation", Authed(ctx, [&s](Request& request, const Actor& actor) -> Result<Response> {
    ROUNDS_ASSIGN_OR_RETURN(json body, JsonBody(request));
    BodyReader reader(body);
    std::string password = reader.String("password", true, 256).value_or("");
    std::string code = reader.String("code", false, 64).value_or("");
    ROUNDS_RETURN_IF_ERROR(reader.Finish());
    ROUNDS_ASSIGN_OR_RETURN(UnixMillis until, s.auth.Elevate(actor, password, code));
    // How long is left, too: a browser counts that down rather than trusting its own clock.
    return Ok(json{{"admin_elevated_until", until},
                   {"admin_elevation_left_ms", std::max<std::int64_t>(until - s.clock.NowMillis(), 0)}});
  }));
  r.Add("DELETE", "/api/v1/auth/elevation", Authed(ctx, [&s](Request&, const Actor& actor) -> Result<Response> {
    ROUNDS_RETURN_IF_ERROR(s.auth.EndElevation(actor));
    return Response::NoContent();
  }));

  // ---- Me ------------------------------------------------------------------------------------
  r.Add("GET", "/api/v1/me", Authed(ctx, [&ctx, &s](Request&, const Actor& actor) -> Result<Response> {
    ROUNDS_ASSIGN_OR_RETURN(app::MfaStatus mfa, s.auth.GetMfaStatus(actor));
    return Ok(json{{"user", app::UserJson(actor.user)},
                   {"csrf_token", actor.csrf_token},
                   {"session", {{"idle_timeout_ms", ctx.config.idle_timeout_seconds * 1000},
                                {"expires_at", actor.session_expires_at},
                                {"admin_elevated_until", actor.admin_elevated_until},
                                {"admin_elevation_left_ms",
                                 std::max<std::int64_t>(actor.admin_elevated_until - s.clock.NowMillis(), 0)}}},
                   {"mfa", {{"enabled", mfa.enabled},
                            {"required", mfa.required},
                            {"recovery_codes_left", mfa.recovery_codes_left}}},
                   {"mfa_enrollment_required", actor.mfa_enrollment_required}});
  }));
  r.Add("POST", "/api/v1/me/mfa/totp/setup", Authed(ctx, [&s](Request& request, const Actor& actor) -> Result<Response> {
    ROUNDS_ASSIGN_OR_RETURN(json body, JsonBody(request));
    BodyReader reader(body);
    auto password = reader.String("password", true, 256);
    ROUNDS_RETURN_IF_ERROR(reader.Finish());
    ROUNDS_ASSIGN_OR_RETURN(app::TotpSetup setup, s.auth.BeginTotp(actor, *password));
    return Ok(json{{"secret", setup.secret}, {"otpauth_uri", setup.otpauth_uri}});
  }));
  r.Add("POST", "/api/v1/me/mfa/totp/confirm", Authed(ctx, [&s](Request& request, const Actor& actor) -> Result<Response> {
    ROUNDS_ASSIGN_OR_RETURN(json body, JsonBody(request));
    BodyReader reader(body);
    auto code = reader.String("code", true, 64);
    ROUNDS_RETURN_IF_ERROR(reader.Finish());
    ROUNDS_ASSIGN_OR_RETURN(auto codes, s.auth.ConfirmTotp(actor, *code));
    return Ok(json{{"recovery_codes", codes}});
  }));
  r.Add("POST", "/api/v1/me/mfa/totp/disable", Authed(ctx, [&s](Request& request, const Actor& actor) -> Result<Response> {
    ROUNDS_ASSIGN_OR_RETURN(auto proof, PasswordAndCode(request));
    return Empty(s.auth.DisableTotp(actor, proof.password, proof.code));
  }));
  r.Add("POST", "/api/v1/me/mfa/recovery-codes", Authed(ctx, [&s](Request& request, const Actor& actor) -> Result<Response> {
    ROUNDS_ASSIGN_OR_RETURN(auto proof, PasswordAndCode(request));
    ROUNDS_ASSIGN_OR_RETURN(auto codes, s.auth.NewRecoveryCodes(actor, proof.password, proof.code));
    return Ok(json{{"recovery_codes", codes}});
  }));
  r.Add("PATCH", "/api/v1/me", Authed(ctx, [&s](Request& request, const Actor& actor) -> Result<Response> {
    ROUNDS_ASSIGN_OR_RETURN(json body, JsonBody(request));
    BodyReader reader(body);
    app::UserPatch patch;
    patch.display_name = reader.String("display_name", false, 100);
    patch.email = reader.String("email", false, 254);
    patch.current_password = reader.String("current_password", false, 256);
    ROUNDS_RETURN_IF_ERROR(reader.Finish());
    return Encode(s.directory.UpdateProfile(actor, patch));
  }));
  r.Add("GET", "/api/v1/me/sessions", Authed(ctx, [&s](Request&, const Actor& actor) -> Result<Response> {
    return Encode(s.auth.ListOwnSessions(actor));
  }));
  r.Add("DELETE", "/api/v1/me/sessions/{id}", Authed(ctx, [&s](Request& request, const Actor& actor) -> Result<Response> {
    ROUNDS_ASSIGN_OR_RETURN(auto id, IdParam(request, "id"));
    return Empty(s.auth.EndOwnSession(actor, id));
  }));
  r.Add("POST", "/api/v1/me/sessions/end-others", Authed(ctx, [&s](Request&, const Actor& actor) -> Result<Response> {
    ROUNDS_ASSIGN_OR_RETURN(int ended, s.auth.EndOtherOwnSessions(actor));
    return Ok(json{{"ended", ended}});
  }));
  r.Add("POST", "/api/v1/me/password", Authed(ctx, [&s](Request& request, const Actor& actor) -> Result<Response> {
    ROUNDS_ASSIGN_OR_RETURN(json body, JsonBody(request));
    BodyReader reader(body);
    auto current = reader.String("current_password", true, 256);
    auto replacement = reader.String("new_password", true, 256);
    ROUNDS_RETURN_IF_ERROR(reader.Finish());
    return Empty(s.auth.ChangePassword(actor, *current, *replacement));
  }));
  r.Add("GET", "/api/v1/me/mentions", Authed(ctx, [&s](Request& request, const Actor& actor) -> Result<Response> {
    ROUNDS_ASSIGN_OR_RETURN(auto cursor, QueryInt(request, "cursor"));
    ROUNDS_ASSIGN_OR_RETURN(int limit, Limit(request));
    return Encode(s.messages.Mentions(actor, cursor.value_or(0), limit));
  }));

  // ---- Directory -----------------------------------------------------------------------------
  r.Add("GET", "/api/v1/users", Authed(ctx, [&s](Request& request, const Actor& actor) -> Result<Response> {
    store::UserQuery q;
    q.text = QueryText(request, "q");
    std::transform(q.text.begin(), q.text.end(), q.text.begin(), [](unsigned char c) { return std::tolower(c); });
    q.job_role = QueryText(request, "job_role");
    ROUNDS_ASSIGN_OR_RETURN(auto department, QueryInt(request, "department_id"));
    if (department) q.department_id = *department;
    ROUNDS_ASSIGN_OR_RETURN(auto cursor, QueryInt(request, "cursor"));
    q.after_id = cursor.value_or(0);
    ROUNDS_ASSIGN_OR_RETURN(q.limit, Limit(request));
    q.include_disabled = QueryText(request, "include_disabled") == "true";
    return Encode(s.directory.ListUsers(actor, q));
  }));
  r.Add("POST", "/api/v1/users", Authed(ctx, [&s](Request& request, const Actor& actor) -> Result<Response> {
    ROUNDS_ASSIGN_OR_RETURN(json body, JsonBody(request));
    BodyReader reader(body);
    app::NewUser user;
    user.username = reader.String("username", true, 64).value_or("");
    user.display_name = reader.String("display_name", true, 100).value_or("");
    user.email = reader.String("email", false, 254).value_or("");
    user.job_role = reader.String("job_role", false, 100).value_or("");
    user.department_ids = reader.IntArray("department_ids", false, 20).value_or(std::vector<std::int64_t>{});
    user.password = reader.String("password", true, 256).value_or("");
    user.is_admin = reader.Bool("is_admin", false).value_or(false);
    user.is_compliance = reader.Bool("is_compliance", false).value_or(false);
    user.is_guest = reader.Bool("is_guest", false).value_or(false);
    ROUNDS_RETURN_IF_ERROR(reader.Finish());
    ROUNDS_ASSIGN_OR_RETURN(User created, s.directory.CreateUser(actor, user));
    return Ok(app::UserJson(created), 201);
  }));
  r.Add("GET", "/api/v1/users/{id}", Authed(ctx, [&s](Request& request, const Actor& actor) -> Result<Response> {
    ROUNDS_ASSIGN_OR_RETURN(auto id, IdParam(request, "id"));
    return Encode(s.directory.GetUser(actor, id));
  }));
  r.Add("PATCH", "/api/v1/users/{id}", Authed(ctx, [&s](Request& request, const Actor& actor) -> Result<Response> {
    ROUNDS_ASSIGN_OR_RETURN(auto id, IdParam(request, "id"));
    ROUNDS_ASSIGN_OR_RETURN(json body, JsonBody(request));
    BodyReader reader(body);
    app::UserPatch patch;
    patch.display_name = reader.String("display_name", false, 100);
    patch.email = reader.String("email", false, 254);
    patch.job_role = reader.String("job_role", false, 100);
    patch.department_ids = reader.IntArray("department_ids", false, 20);
    patch.is_admin = reader.Bool("is_admin", false);
    patch.is_compliance = reader.Bool("is_compliance", false);
    patch.is_guest = reader.Bool("is_guest", false);
    patch.disabled = reader.Bool("disabled", false);
    ROUNDS_RETURN_IF_ERROR(reader.Finish());
    return Encode(s.directory.UpdateUser(actor, id, patch));
  }));
  r.Add("POST", "/api/v1/users/{id}/password", Authed(ctx, [&s](Request& request, const Actor& actor) -> Result<Response> {
    ROUNDS_ASSIGN_OR_RETURN(auto id, IdParam(request, "id"));
    ROUNDS_ASSIGN_OR_RETURN(json body, JsonBody(request));
    BodyReader reader(body);
    auto password = reader.String("new_password", true, 256);
    ROUNDS_RETURN_IF_ERROR(reader.Finish());
    return Empty(s.directory.ResetPassword(actor, id, *password));
  }));
  r.Add("POST", "/api/v1/users/{id}/sessions/end", Authed(ctx, [&s](Request& request, const Actor& actor) -> Result<Response> {
    ROUNDS_ASSIGN_OR_RETURN(auto id, IdParam(request, "id"));
    ROUNDS_ASSIGN_OR_RETURN(int ended, s.directory.EndSessions(actor, id));
    return Ok(json{{"ended", ended}});
  }));
  r.Add("POST", "/api/v1/users/{id}/mfa/reset", Authed(ctx, [&s](Request& request, const Actor& actor) -> Result<Response> {
    ROUNDS_ASSIGN_OR_RETURN(auto id, IdParam(request, "id"));
    return Empty(s.directory.ResetMfa(actor, id));
  }));
  r.Add("GET", "/api/v1/departments", Authed(ctx, [&s](Request&, const Actor& actor) -> Result<Response> {
    return Encode(s.directory.ListDepartments(actor));
  }));
  r.Add("POST", "/api/v1/departments", Authed(ctx, [&s](Request& request, const Actor& actor) -> Result<Response> {
    ROUNDS_ASSIGN_OR_RETURN(json body, JsonBody(request));
    BodyReader reader(body);
    auto name = reader.String("name", true, 100);
    bool has_parent = false;
    auto parent = reader.NullableInt("parent_id", &has_parent);
    ROUNDS_RETURN_IF_ERROR(reader.Finish());
    ROUNDS_ASSIGN_OR_RETURN(Department d, s.directory.CreateDepartment(actor, *name, parent));
    return Ok(app::DepartmentJson(d), 201);
  }));

  // ---- Spaces --------------------------------------------------------------------------------
  r.Add("GET", "/api/v1/spaces", Authed(ctx, [&s](Request& request, const Actor& actor) -> Result<Response> {
    std::string scope = QueryText(request, "scope");
    if (scope.empty() || scope == "mine") return Encode(s.spaces.ListMine(actor));
    if (scope != "discover" && scope != "all") {
      return InvalidArgument("invalid_value", "'scope' is 'mine', 'discover' or 'all'.", "scope");
    }
    ROUNDS_ASSIGN_OR_RETURN(auto cursor, QueryInt(request, "cursor"));
    ROUNDS_ASSIGN_OR_RETURN(int limit, Limit(request));
    if (scope == "discover") return Encode(s.spaces.Discover(actor, QueryText(request, "q"), cursor.value_or(0), limit));
    // Every space, for compliance officers (the service refuses anyone else).
    std::optional<SpaceKind> kind;
    if (const std::string text = QueryText(request, "kind"); !text.empty()) {
      kind = ParseSpaceKind(text);
      if (!kind) return InvalidArgument("invalid_value", "'kind' is community, channel or direct.", "kind");
    }
    return Encode(s.spaces.Directory(actor, QueryText(request, "q"), kind, cursor.value_or(0), limit));
  }));
  r.Add("POST", "/api/v1/spaces", Authed(ctx, [&s](Request& request, const Actor& actor) -> Result<Response> {
    ROUNDS_ASSIGN_OR_RETURN(json body, JsonBody(request));
    BodyReader reader(body);
    app::NewSpace space;
    ROUNDS_ASSIGN_OR_RETURN(auto kind, EnumField<SpaceKind>(reader, "kind", ParseSpaceKind));
    space.name = reader.String("name", true, 80).value_or("");
    space.topic = reader.String("topic", false, 500).value_or("");
    ROUNDS_ASSIGN_OR_RETURN(auto visibility, EnumField<Visibility>(reader, "visibility", ParseVisibility));
    ROUNDS_ASSIGN_OR_RETURN(auto join, EnumField<JoinPolicy>(reader, "join_policy", ParseJoinPolicy));
    space.template_key = reader.String("template", false, 64).value_or("");
    ROUNDS_RETURN_IF_ERROR(reader.Finish());
    space.kind = kind.value_or(SpaceKind::kCommunity);
    space.visibility = visibility.value_or(Visibility::kPublic);
    space.join_policy = join.value_or(JoinPolicy::kOpen);
    return Encode(s.spaces.Create(actor, space), 201);
  }));
  r.Add("GET", "/api/v1/spaces/{id}", Authed(ctx, [&s](Request& request, const Actor& actor) -> Result<Response> {
    ROUNDS_ASSIGN_OR_RETURN(auto id, IdParam(request, "id"));
    return Encode(s.spaces.Get(actor, id));
  }));
  r.Add("PATCH", "/api/v1/spaces/{id}", Authed(ctx, [&s](Request& request, const Actor& actor) -> Result<Response> {
    ROUNDS_ASSIGN_OR_RETURN(auto id, IdParam(request, "id"));
    ROUNDS_ASSIGN_OR_RETURN(json body, JsonBody(request));
    BodyReader reader(body);
    app::SpacePatch patch;
    patch.name = reader.String("name", false, 80);
    patch.topic = reader.String("topic", false, 500);
    ROUNDS_ASSIGN_OR_RETURN(patch.visibility, EnumField<Visibility>(reader, "visibility", ParseVisibility));
    ROUNDS_ASSIGN_OR_RETURN(patch.join_policy, EnumField<JoinPolicy>(reader, "join_policy", ParseJoinPolicy));
    patch.archived = reader.Bool("archived", false);
    ROUNDS_RETURN_IF_ERROR(reader.Finish());
    return Encode(s.spaces.Update(actor, id, patch));
  }));
  r.Add("GET", "/api/v1/spaces/{id}/members", Authed(ctx, [&s](Request& request, const Actor& actor) -> Result<Response> {
    ROUNDS_ASSIGN_OR_RETURN(auto id, IdParam(request, "id"));
    ROUNDS_ASSIGN_OR_RETURN(auto cursor, QueryInt(request, "cursor"));
    ROUNDS_ASSIGN_OR_RETURN(int limit, Limit(request));
    return Encode(s.spaces.ListMembers(actor, id, cursor.value_or(0), limit));
  }));
  r.Add("POST", "/api/v1/spaces/{id}/members", Authed(ctx, [&s](Request& request, const Actor& actor) -> Result<Response> {
    ROUNDS_ASSIGN_OR_RETURN(auto id, IdParam(request, "id"));
    ROUNDS_ASSIGN_OR_RETURN(json body, JsonBody(request));
    BodyReader reader(body);
    auto user_id = reader.Int("user_id", true, 1, INT64_MAX);
    ROUNDS_ASSIGN_OR_RETURN(auto role, EnumField<MemberRole>(reader, "role", ParseMemberRole));
    ROUNDS_RETURN_IF_ERROR(reader.Finish());
    return Encode(s.spaces.AddMember(actor, id, *user_id, role.value_or(MemberRole::kMember)), 201);
  }));
  r.Add("PATCH", "/api/v1/spaces/{id}/members/{user_id}", Authed(ctx, [&s](Request& request, const Actor& actor) -> Result<Response> {
    ROUNDS_ASSIGN_OR_RETURN(auto id, IdParam(request, "id"));
    ROUNDS_ASSIGN_OR_RETURN(auto user_id, IdParam(request, "user_id"));
    ROUNDS_ASSIGN_OR_RETURN(json body, JsonBody(request));
    BodyReader reader(body);
    ROUNDS_ASSIGN_OR_RETURN(auto role, EnumField<MemberRole>(reader, "role", ParseMemberRole));
    ROUNDS_RETURN_IF_ERROR(reader.Finish());
    if (!role) return InvalidArgument("missing_field", "'role' is required.", "/role");
    return Encode(s.spaces.SetRole(actor, id, user_id, *role));
  }));
  r.Add("DELETE", "/api/v1/spaces/{id}/members/{user_id}", Authed(ctx, [&s](Request& request, const Actor& actor) -> Result<Response> {
    ROUNDS_ASSIGN_OR_RETURN(auto id, IdParam(request, "id"));
    ROUNDS_ASSIGN_OR_RETURN(auto user_id, IdParam(request, "user_id"));
    return Empty(s.spaces.RemoveMember(actor, id, user_id));
  }));
  r.Add("POST", "/api/v1/spaces/{id}/join", Authed(ctx, [&s](Request& request, const Actor& actor) -> Result<Response> {
    ROUNDS_ASSIGN_OR_RETURN(auto id, IdParam(request, "id"));
    return Encode(s.spaces.Join(actor, id));
  }));
  // Joining on request (a template's "joining": "request").
  r.Add("POST", "/api/v1/spaces/{id}/join-requests", Authed(ctx, [&s](Request& request, const Actor& actor) -> Result<Response> {
    ROUNDS_ASSIGN_OR_RETURN(auto id, IdParam(request, "id"));
    ROUNDS_ASSIGN_OR_RETURN(json asked, s.spaces.RequestToJoin(actor, id));
    return Ok(asked, 201);
  }));
  r.Add("GET", "/api/v1/spaces/{id}/join-requests", Authed(ctx, [&s](Request& request, const Actor& actor) -> Result<Response> {
    ROUNDS_ASSIGN_OR_RETURN(auto id, IdParam(request, "id"));
    return Encode(s.spaces.ListJoinRequests(actor, id));
  }));
  r.Add("DELETE", "/api/v1/spaces/{id}/join-requests/{user_id}", Authed(ctx, [&s](Request& request, const Actor& actor) -> Result<Response> {
    ROUNDS_ASSIGN_OR_RETURN(auto id, IdParam(request, "id"));
    ROUNDS_ASSIGN_OR_RETURN(auto user_id, IdParam(request, "user_id"));
    if (user_id != actor.user.id) {
      return Forbidden("own_request_only", "Withdraw your own request; moderators decline others' with /decline.");
    }
    return Empty(s.spaces.WithdrawJoinRequest(actor, id));
  }));
  for (const bool approve : {true, false}) {
    r.Add("POST", approve ? "/api/v1/spaces/{id}/join-requests/{user_id}/approve" : "/api/v1/spaces/{id}/join-requests/{user_id}/decline",
          Authed(ctx, [&s, approve](Request& request, const Actor& actor) -> Result<Response> {
            ROUNDS_ASSIGN_OR_RETURN(auto id, IdParam(request, "id"));
            ROUNDS_ASSIGN_OR_RETURN(auto user_id, IdParam(request, "user_id"));
            return Encode(s.spaces.DecideJoinRequest(actor, id, user_id, approve));
          }));
  }
  r.Add("POST", "/api/v1/spaces/{id}/leave", Authed(ctx, [&s](Request& request, const Actor& actor) -> Result<Response> {
    ROUNDS_ASSIGN_OR_RETURN(auto id, IdParam(request, "id"));
    return Empty(s.spaces.Leave(actor, id));
  }));
  r.Add("POST", "/api/v1/spaces/{id}/read", Authed(ctx, [&s](Request& request, const Actor& actor) -> Result<Response> {
    ROUNDS_ASSIGN_OR_RETURN(auto id, IdParam(request, "id"));
    ROUNDS_ASSIGN_OR_RETURN(json body, JsonBody(request));
    BodyReader reader(body);
    auto seq = reader.Int("seq", true, 0, INT64_MAX);
    ROUNDS_RETURN_IF_ERROR(reader.Finish());
    return Empty(s.spaces.MarkRead(actor, id, *seq));
  }));
  r.Add("GET", "/api/v1/spaces/{id}/pins", Authed(ctx, [&s](Request& request, const Actor& actor) -> Result<Response> {
    ROUNDS_ASSIGN_OR_RETURN(auto id, IdParam(request, "id"));
    return Encode(s.messages.Pins(actor, id));
  }));
  // The conversation as a file (owners and moderators, where the template allows it); rendered
  // into a file with no name, then sent from it: never held in memory whole.
  r.Add("GET", "/api/v1/spaces/{id}/export", Authed(ctx, [&s](Request& request, const Actor& actor) -> Result<Response> {
    ROUNDS_ASSIGN_OR_RETURN(auto id, IdParam(request, "id"));
    std::string format_text = QueryText(request, "format");
    auto format = app::ParseSpaceExportFormat(format_text.empty() ? "text" : format_text);
    if (!format) return InvalidArgument("invalid_value", "'format' must be text or json.", "format");
    ROUNDS_ASSIGN_OR_RETURN(app::SpaceExport out, s.messages.ExportSpace(actor, id, *format));
    Response response;
    response.content_type = out.content_type;
    response.body_file = std::make_shared<OpenFile>(std::move(out.file));
    response.headers.emplace_back("Content-Disposition", ContentDisposition("attachment", out.file_name));
    return response;
  }));
  r.Add("POST", "/api/v1/direct", Authed(ctx, [&s](Request& request, const Actor& actor) -> Result<Response> {
    ROUNDS_ASSIGN_OR_RETURN(json body, JsonBody(request));
    BodyReader reader(body);
    auto ids = reader.IntArray("user_ids", true, 8);
    ROUNDS_RETURN_IF_ERROR(reader.Finish());
    return Encode(s.spaces.Direct(actor, *ids));
  }));

  // ---- Messages ------------------------------------------------------------------------------
  r.Add("GET", "/api/v1/spaces/{id}/messages", Authed(ctx, [&s](Request& request, const Actor& actor) -> Result<Response> {
    ROUNDS_ASSIGN_OR_RETURN(auto id, IdParam(request, "id"));
    ROUNDS_ASSIGN_OR_RETURN(app::MessagePage page, PageQuery(request));
    return Encode(s.messages.List(actor, id, page));
  }));
  // A kept page is answered on the I/O thread: no hand-off to the pool and back. Anything it
  // declines, a malformed query included, is the handler's above.
  r.Quick([&ctx, &s](Request& request) -> std::optional<Response> {
    std::optional<Actor> actor = AuthenticateKept(ctx.services, request, ctx.tls);
    if (!actor) return std::nullopt;
    auto id = IdParam(request, "id");
    auto page = PageQuery(request);
    if (!id || !page) return std::nullopt;
    std::optional<app::JsonText> kept = s.messages.ListKept(*actor, *id, *page);
    if (!kept) return std::nullopt;
    return *Encode(std::move(*kept));
  });
  r.Add("POST", "/api/v1/spaces/{id}/messages", Authed(ctx, [&ctx, &s](Request& request, const Actor& actor) -> Result<Response> {
    ROUNDS_ASSIGN_OR_RETURN(auto id, IdParam(request, "id"));
    ROUNDS_ASSIGN_OR_RETURN(app::Draft draft, DraftBody(request, ctx.config));
    return Posted(s.messages.Post(actor, id, draft));
  }));
  // A post from a session the server knows, with a short body, is taken on the I/O thread and
  // answered once its commit is durable: no pool thread waits for the writer. The same service
  // does the same checks, screening, unit and audit. Everything else (a session to look up, a
  // malformed request, a long body to screen) is declined, before anything is taken, to the
  // handler above.
  r.Async([&ctx, &s](Request& request, const Deferred& later) -> bool {
    if (request.body.size() > kPostBytesOnIoThread) return false;
    std::optional<Actor> actor = AuthenticateKeptWrite(ctx.services, request, ctx.tls);
    if (!actor) return false;
    auto id = IdParam(request, "id");
    auto draft = DraftBody(request, ctx.config);
    if (!id || !draft) return false;
    if (std::optional<Error> limited = TakeWriteToken(ctx, *actor)) {
      later.reply(ProblemResponse(*limited));
      return true;
    }
    s.messages.PostAsync(*actor, *id, *draft, later.defer, [reply = later.reply](Result<app::PostResult> posted) {
      Result<Response> answer = Posted(std::move(posted));
      reply(answer ? std::move(*answer) : ProblemResponse(answer.error()));
    });
    return true;
  });
  // An upload: the raw file as the body, its name in ?name=, its type in Content-Type (checked
  // against the content). The body may be as large as max_attachment_bytes (the listener allows it
  // for this route only); the space's template sets the real limit.
  r.Add("POST", "/api/v1/spaces/{id}/attachments", Authed(ctx, [&s](Request& request, const Actor& actor) -> Result<Response> {
    ROUNDS_ASSIGN_OR_RETURN(auto id, IdParam(request, "id"));
    app::UploadRequest upload;
    upload.name = QueryText(request, "name");
    upload.declared_type = request.Header("content-type");
    upload.confirm_phi = QueryText(request, "confirm_phi") == "true";
    upload.content = std::move(request.body);
    return Encode(s.messages.Upload(actor, id, upload), 201);
  }));
  // The caller is known before the body (up to max_attachment_bytes) is read: a request without a
  // live session, or without its CSRF token, never gets its file taken in.
  r.CheckBeforeBody([&ctx](Request& request) -> std::optional<Response> {
    Result<Actor> actor = Authenticate(ctx.services, request, ctx.tls);
    if (!actor) return ProblemResponse(actor.error());
    return std::nullopt;
  });
  r.Add("DELETE", "/api/v1/attachments/{id}", Authed(ctx, [&s](Request& request, const Actor& actor) -> Result<Response> {
    ROUNDS_ASSIGN_OR_RETURN(auto id, IdParam(request, "id"));
    return Empty(s.messages.RemoveUpload(actor, id));
  }));
  r.Add("GET", "/api/v1/attachments/{id}", Authed(ctx, [&s](Request& request, const Actor& actor) -> Result<Response> {
    ROUNDS_ASSIGN_OR_RETURN(auto id, IdParam(request, "id"));
    ROUNDS_ASSIGN_OR_RETURN(app::AttachmentDownload file, s.messages.Download(actor, id));
    Response response;
    // Only types that cannot run script are shown inline; anything else is a download, and the
    // sandbox keeps even a mislabelled file from running in the app's origin.
    const bool inline_safe = IsInlineSafeType(file.attachment.content_type);
    response.content_type = inline_safe ? file.attachment.content_type : "application/octet-stream";
    if (response.content_type == "text/plain") response.content_type += "; charset=utf-8";
    response.body = std::move(file.first_piece);
    if (file.pieces > 1) {
      // Sent a piece at a time: a large file is never held whole for as long as its reader takes.
      auto download = std::make_shared<app::AttachmentDownload>(file);
      response.pieces = std::make_shared<Response::Pieces>(Response::Pieces{
          static_cast<std::uint64_t>(file.attachment.size), file.pieces,
          [&s, download](std::int64_t piece) { return s.messages.DownloadPiece(*download, piece); }});
    }
    response.headers.emplace_back("Content-Disposition", ContentDisposition(inline_safe ? "inline" : "attachment",
                                                                          file.attachment.name));
    // Nothing in a file may load or run anything; a sandbox also gives it an origin of its own
    // (not for PDF, whose viewer a sandbox stops).
    const std::string policy = "default-src 'none'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
                               "style-src 'unsafe-inline'; img-src 'self'";
    response.headers.emplace_back("Content-Security-Policy",
                                  file.attachment.content_type == "application/pdf" ? policy : "sandbox; " + policy);
    response.headers.emplace_back("Cache-Control", "no-store");
    response.headers.emplace_back("X-Content-SHA256", file.attachment.sha256);
    return response;
  }));
  r.Add("GET", "/api/v1/messages/{id}", Authed(ctx, [&s](Request& request, const Actor& actor) -> Result<Response> {
    ROUNDS_ASSIGN_OR_RETURN(auto id, IdParam(request, "id"));
    return Encode(s.messages.Get(actor, id));
  }));
  r.Add("PATCH", "/api/v1/messages/{id}", Authed(ctx, [&ctx, &s](Request& request, const Actor& actor) -> Result<Response> {
    ROUNDS_ASSIGN_OR_RETURN(auto id, IdParam(request, "id"));
    ROUNDS_ASSIGN_OR_RETURN(json body, JsonBody(request));
    BodyReader reader(body);
    auto text = reader.String("body", true, static_cast<std::size_t>(ctx.config.max_message_chars));
    auto title = reader.String("title", false, 200);
    bool confirm_phi = reader.Bool("confirm_phi", false).value_or(false);
    ROUNDS_RETURN_IF_ERROR(reader.Finish());
    return Encode(s.messages.Edit(actor, id, *text, title, confirm_phi));
  }));
  r.Add("DELETE", "/api/v1/messages/{id}", Authed(ctx, [&s](Request& request, const Actor& actor) -> Result<Response> {
    ROUNDS_ASSIGN_OR_RETURN(auto id, IdParam(request, "id"));
    return Empty(s.messages.Delete(actor, id));
  }));
  r.Add("GET", "/api/v1/messages/{id}/history", Authed(ctx, [&s](Request& request, const Actor& actor) -> Result<Response> {
    ROUNDS_ASSIGN_OR_RETURN(auto id, IdParam(request, "id"));
    return Encode(s.messages.History(actor, id));
  }));
  r.Add("GET", "/api/v1/messages/{id}/thread", Authed(ctx, [&s](Request& request, const Actor& actor) -> Result<Response> {
    ROUNDS_ASSIGN_OR_RETURN(auto id, IdParam(request, "id"));
    return Encode(s.messages.Thread(actor, id));
  }));
  for (const char* method : {"PUT", "DELETE"}) {
    bool on = std::string(method) == "PUT";
    r.Add(method, "/api/v1/messages/{id}/reactions/{emoji}", Authed(ctx, [&s, on](Request& request, const Actor& actor) -> Result<Response> {
      ROUNDS_ASSIGN_OR_RETURN(auto id, IdParam(request, "id"));
      return Encode(s.messages.React(actor, id, request.params.at("emoji"), on));
    }));
    r.Add(method, "/api/v1/messages/{id}/vote", Authed(ctx, [&s, on](Request& request, const Actor& actor) -> Result<Response> {
      ROUNDS_ASSIGN_OR_RETURN(auto id, IdParam(request, "id"));
      return Encode(s.messages.Vote(actor, id, on));
    }));
    r.Add(method, "/api/v1/messages/{id}/pin", Authed(ctx, [&s, on](Request& request, const Actor& actor) -> Result<Response> {
      ROUNDS_ASSIGN_OR_RETURN(auto id, IdParam(request, "id"));
      return Encode(s.messages.Pin(actor, id, on));
    }));
  }
  r.Add("POST", "/api/v1/messages/{id}/accept", Authed(ctx, [&s](Request& request, const Actor& actor) -> Result<Response> {
    ROUNDS_ASSIGN_OR_RETURN(auto id, IdParam(request, "id"));
    return Encode(s.messages.Accept(actor, id, true));
  }));
  r.Add("DELETE", "/api/v1/messages/{id}/accept", Authed(ctx, [&s](Request& request, const Actor& actor) -> Result<Response> {
    ROUNDS_ASSIGN_OR_RETURN(auto id, IdParam(request, "id"));
    return Encode(s.messages.Accept(actor, id, false));
  }));
  r.Add("POST", "/api/v1/messages/{id}/poll-vote", Authed(ctx, [&s](Request& request, const Actor& actor) -> Result<Response> {
    ROUNDS_ASSIGN_OR_RETURN(auto id, IdParam(request, "id"));
    ROUNDS_ASSIGN_OR_RETURN(json body, JsonBody(request));
    BodyReader reader(body);
    bool present = false;
    auto option = reader.NullableInt("option", &present);
    ROUNDS_RETURN_IF_ERROR(reader.Finish());
    if (!present) return InvalidArgument("missing_field", "'option' is required (null withdraws the vote).", "/option");
    if (option && (*option < 0 || *option > 100)) return InvalidArgument("invalid_poll_option", "That poll has no such option.", "/option");
    return Encode(s.messages.PollVote(actor, id, option ? std::optional<int>(static_cast<int>(*option)) : std::nullopt));
  }));

  // ---- Search --------------------------------------------------------------------------------
  r.Add("GET", "/api/v1/search", Authed(ctx, [&s](Request& request, const Actor& actor) -> Result<Response> {
    ROUNDS_ASSIGN_OR_RETURN(auto cursor, QueryInt(request, "cursor"));
    ROUNDS_ASSIGN_OR_RETURN(auto limit, QueryInt(request, "limit"));
    // Checked here, before they are narrowed to int: a page is 1 to 50 hits, from the first 10,000.
    if (limit && (*limit < 1 || *limit > 50)) return InvalidArgument("invalid_value", "'limit' must be 1 to 50.", "limit");
    if (cursor && (*cursor < 0 || *cursor > 10'000)) {
      return InvalidArgument("invalid_value", "'cursor' is out of range.", "cursor");
    }
    return Encode(s.search.Search(actor, QueryText(request, "q"), static_cast<int>(limit.value_or(20)),
                                  static_cast<int>(cursor.value_or(0))));
  }));

  RegisterGovernanceRoutes(r, ctx);
  RegisterAuditRoutes(r, ctx);
  RegisterRetentionRoutes(r, ctx);
  RegisterEmergencyRoutes(r, ctx);
}

}  // namespace rounds::transport
