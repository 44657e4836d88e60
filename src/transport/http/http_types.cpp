#include "transport/http/http_types.hpp"

#include "domain/rules.hpp"

namespace rounds::transport {

Response Response::Json(int status, const nlohmann::json& body) {
  Response r;
  r.status = status;
  r.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return r;
}

Response Response::NoContent() {
  Response r;
  r.status = 204;
  r.content_type.clear();
  return r;
}

std::chrono::seconds AnswerWriteTimeout(std::uint64_t body_bytes) {
  return std::chrono::seconds(30 + body_bytes / (1024 * 1024));
}

int HttpStatusFor(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument: return 400;
    case ErrorCode::kUnauthenticated: return 401;
    case ErrorCode::kForbidden: return 403;
    case ErrorCode::kNotFound: return 404;
    case ErrorCode::kConflict: return 409;
    case ErrorCode::kPolicyDenied: return 422;
    case ErrorCode::kRateLimited: return 429;
    case ErrorCode::kPayloadTooLarge: return 413;
    case ErrorCode::kUnavailable: return 503;
    case ErrorCode::kInternal: return 500;
  }
  return 500;
}

namespace {
const char* Title(int status) {
  switch (status) {
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 413: return "Payload Too Large";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Content";
    case 426: return "Upgrade Required";
    case 429: return "Too Many Requests";
    case 503: return "Service Unavailable";
    default: return "Internal Server Error";
  }
}
}  // namespace

namespace {
Response Problem(int status, const std::string& code, const std::string& detail, const std::string& field) {
  nlohmann::json body{{"type", "https://rounds.example/problems/" + code},
                      {"title", Title(status)},
                      {"status", status},
                      {"code", code},
                      {"detail", detail}};
  if (!field.empty()) body["field"] = field;
  Response r = Response::Json(status, body);
  r.content_type = "application/problem+json; charset=utf-8";
  return r;
}
}  // namespace

Response ProtocolProblem(int status, const std::string& code, const std::string& detail) {
  return Problem(status, code, detail, {});
}

Response ProblemResponse(const Error& error) {
  std::string code = error.problem.empty() ? std::string(ErrorCodeName(error.code)) : error.problem;
  Response r = Problem(HttpStatusFor(error.code), code, error.public_message, error.field);
  if (!error.extensions_json.empty()) {
    auto extensions = nlohmann::json::parse(error.extensions_json, nullptr, false);
    auto body = nlohmann::json::parse(r.body, nullptr, false);
    if (extensions.is_object() && body.is_object()) {
      for (auto& [key, value] : extensions.items()) {
        if (!body.contains(key)) body[key] = value;  // the standard members win
      }
      r.body = body.dump();
    }
  }
  if (error.code == ErrorCode::kRateLimited && error.retry_after_seconds > 0) {
    r.headers.emplace_back("Retry-After", std::to_string(error.retry_after_seconds));
  }
  return r;
}

bool PercentDecode(std::string_view in, std::string& out, bool plus_is_space) {
  out.clear();
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (std::size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '%') {
      if (i + 2 >= in.size()) return false;
      int hi = hex(in[i + 1]), lo = hex(in[i + 2]);
      if (hi < 0 || lo < 0) return false;
      char decoded = static_cast<char>(hi * 16 + lo);
      if (decoded == '\0') return false;
      out.push_back(decoded);
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out.push_back(' ');
    } else if (c == '\0') {
      return false;
    } else {
      out.push_back(c);
    }
  }
  // Every decoded component becomes text the app layer may echo into JSON, which has no way
  // to carry bytes that are not UTF-8.
  return domain::IsValidUtf8(out);
}

bool ParseTarget(std::string_view target, std::string& path, std::map<std::string, std::string>& query) {
  auto q = target.find('?');
  std::string_view raw_path = target.substr(0, q);
  if (raw_path.empty() || raw_path[0] != '/') return false;
  if (!PercentDecode(raw_path, path, false)) return false;
  query.clear();
  if (q == std::string_view::npos) return true;
  std::string_view rest = target.substr(q + 1);
  while (!rest.empty()) {
    auto amp = rest.find('&');
    std::string_view pair = rest.substr(0, amp);
    auto eq = pair.find('=');
    std::string key, value;
    if (!PercentDecode(pair.substr(0, eq), key, true)) return false;
    if (eq != std::string_view::npos && !PercentDecode(pair.substr(eq + 1), value, true)) return false;
    if (!key.empty()) query[key] = value;
    if (amp == std::string_view::npos) break;
    rest = rest.substr(amp + 1);
  }
  return true;
}

}  // namespace rounds::transport
