// Helpers shared by the route files (api.cpp and api_*.cpp): body and parameter parsing, error
// mapping, authentication. Handlers parse, call one app service method and encode; nothing here
// decides a permission.
#pragma once

#include <algorithm>
#include <cctype>
#include <charconv>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "app/json_codec.hpp"
#include "transport/http/api.hpp"

namespace rounds::transport::api_support {

using app::Actor;
using app::BodyReader;
using nlohmann::json;

inline Response Ok(const json& body, int status = 200) { return Response::Json(status, body); }

// Parses a JSON body; a body must be declared as JSON (blocks cross-site form and text/plain posts).
// The media type is compared whole and without regard to case (RFC 9110 section 8.3.1), with
// parameters such as charset allowed after it: application/jsonp is not JSON.
inline Result<json> JsonBody(const Request& request) {
  const std::string header = request.Header("content-type");
  std::string_view type = header;
  type = type.substr(0, type.find(';'));
  while (!type.empty() && (type.back() == ' ' || type.back() == '\t')) type.remove_suffix(1);
  constexpr std::string_view kJson = "application/json";
  const bool json_type = type.size() == kJson.size() &&
                         std::equal(type.begin(), type.end(), kJson.begin(), [](char a, char b) {
                           return std::tolower(static_cast<unsigned char>(a)) == b;
                         });
  if (!json_type) {
    return Fail(ErrorCode::kInvalidArgument, "unsupported_media_type", "Send the body as application/json.");
  }
  return app::ParseRequestBody(request.body);
}

inline Result<std::int64_t> IdParam(const Request& request, const char* name) {
  const std::string& text = request.params.at(name);
  std::int64_t value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr != text.data() + text.size() || value <= 0) return NotFound("Resource");
  return value;
}

inline Result<std::optional<std::int64_t>> QueryInt(const Request& request, const char* name) {
  auto it = request.query.find(name);
  if (it == request.query.end() || it->second.empty()) return std::optional<std::int64_t>();
  std::int64_t value = 0;
  auto [ptr, ec] = std::from_chars(it->second.data(), it->second.data() + it->second.size(), value);
  if (ec != std::errc() || ptr != it->second.data() + it->second.size() || value < 0) {
    return InvalidArgument("invalid_value", std::string("'") + name + "' must be a non-negative integer.", name);
  }
  return std::optional<std::int64_t>(value);
}

inline std::string QueryText(const Request& request, const char* name) {
  auto it = request.query.find(name);
  return it == request.query.end() ? std::string() : it->second;
}

// Adapts a handler returning Result<Response> to a plain Response, mapping errors once.
template <class F>
inline Handler Wrap(F fn) {
  return [fn = std::move(fn)](Request& request) -> Response {
    Result<Response> result = fn(request);
    if (!result) return ProblemResponse(result.error());
    return std::move(*result);
  };
}

// A change by `actor` against their write rate: the refusal when they are over it; otherwise
// the change is counted.
inline std::optional<Error> TakeWriteToken(ApiContext& ctx, const Actor& actor) {
  const int wait = ctx.writes.Take(actor.user.id, ctx.config.write_requests_per_second, ctx.config.write_request_burst);
  if (wait <= 0) return std::nullopt;
  Error limited{ErrorCode::kRateLimited, "too_many_requests",
                "Too many changes in a short time. Wait a moment and try again.", {}};
  limited.retry_after_seconds = wait;
  return limited;
}

// A handler that needs a signed-in caller.
template <class F>
inline Handler Authed(ApiContext& ctx, F fn) {
  return Wrap([&ctx, fn = std::move(fn)](Request& request) -> Result<Response> {
    ROUNDS_ASSIGN_OR_RETURN(Actor actor, Authenticate(ctx.services, request, ctx.tls));
    if (request.method != "GET" && request.method != "HEAD") {
      if (std::optional<Error> limited = TakeWriteToken(ctx, actor)) return tl::unexpected(std::move(*limited));
    }
    return fn(request, actor);
  });
}

inline Result<Response> Encode(Result<json> result, int status = 200) {
  if (!result) return tl::unexpected(result.error());
  return Ok(*result, status);
}

inline Result<Response> Encode(Result<app::JsonText> result, int status = 200) {
  if (!result) return tl::unexpected(result.error());
  Response response;
  response.status = status;
  if (result->shared) {
    response.shared_body = std::move(result->shared);
  } else {
    response.body = std::move(result->text);
  }
  return response;
}

inline Result<Response> Empty(Status status) {
  if (!status) return tl::unexpected(status.error());
  return Response::NoContent();
}

template <class E, class P>
inline Result<std::optional<E>> EnumField(BodyReader& reader, const char* name, P parse) {
  auto text = reader.String(name, false, 32);
  if (!text) return std::optional<E>();
  auto value = parse(*text);
  if (!value) return InvalidArgument("invalid_value", std::string("'") + name + "' has an unknown value.", std::string("/") + name);
  return std::optional<E>(*value);
}

// The caller's password (and a code, with two-step sign-in) confirming an act, as the body gives
// them; the service refuses a missing password in its own words.
inline app::Confirmation ReadConfirmation(BodyReader& reader) {
  return app::Confirmation{reader.String("password", false, 256).value_or(""), reader.String("code", false, 64).value_or("")};
}

inline Result<int> Limit(const Request& request) {
  ROUNDS_ASSIGN_OR_RETURN(auto limit, QueryInt(request, "limit"));
  if (limit && (*limit < 1 || *limit > 200)) return InvalidArgument("invalid_value", "'limit' must be 1 to 200.", "limit");
  return static_cast<int>(limit.value_or(50));
}

}  // namespace rounds::transport::api_support
