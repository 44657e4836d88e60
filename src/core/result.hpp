// Result<T> and the protocol-neutral error taxonomy shared by every layer.
//
// Expected failures travel as values: a function that can fail returns Result<T> (or Status).
// Transport maps ErrorCode to an HTTP status in exactly one function; nothing below transport
// knows about HTTP. public_message is safe to show a client (never PHI, SQL or secrets);
// internal_message is for logs (ids and reasons, never message bodies).
#pragma once

#include <string>
#include <string_view>
#include <utility>

#include <tl/expected.hpp>

namespace rounds {

enum class ErrorCode {
  kInvalidArgument,   // the request is malformed or violates a rule (400/422)
  kUnauthenticated,   // no valid session (401)
  kForbidden,         // authenticated but not allowed (403)
  kNotFound,          // does not exist, or the caller may not know it exists (404)
  kConflict,          // state conflict, duplicate (409)
  kPolicyDenied,      // a governance policy refused the action (422)
  kRateLimited,       // too many attempts; retry_after_seconds says when (429)
  kPayloadTooLarge,   // body or field exceeds a limit (413)
  kUnavailable,       // shutting down or overloaded (503)
  kInternal,          // a bug or an I/O failure (500)
};

std::string_view ErrorCodeName(ErrorCode code);

struct Error {
  ErrorCode code = ErrorCode::kInternal;
  // Stable machine-readable code for clients, e.g. "message_too_long". Empty: derived from `code`.
  std::string problem;
  std::string public_message;
  std::string internal_message;
  // For kRateLimited: seconds until a retry may succeed.
  int retry_after_seconds = 0;
  // For kInvalidArgument: the JSON pointer or field the error is about, if any.
  std::string field;
  // Extra members of the problem document as a serialized JSON object (e.g. the PHI findings of
  // a blocked message: types and spans, never the text). Empty: none.
  std::string extensions_json;
};

template <class T>
using Result = tl::expected<T, Error>;
using Status = tl::expected<void, Error>;

inline tl::unexpected<Error> Fail(ErrorCode code, std::string problem, std::string public_message,
                                  std::string internal_message = {}) {
  return tl::unexpected<Error>(Error{code, std::move(problem), std::move(public_message),
                                     std::move(internal_message)});
}
inline tl::unexpected<Error> Fail(Error error) { return tl::unexpected<Error>(std::move(error)); }

inline tl::unexpected<Error> InvalidArgument(std::string problem, std::string message,
                                             std::string field = {}) {
  Error e{ErrorCode::kInvalidArgument, std::move(problem), std::move(message), {}};
  e.field = std::move(field);
  return tl::unexpected<Error>(std::move(e));
}
inline tl::unexpected<Error> NotFound(std::string what) {
  return Fail(ErrorCode::kNotFound, "not_found", what + " not found");
}
inline tl::unexpected<Error> Forbidden(std::string problem = "forbidden",
                                      std::string message = "You are not allowed to do that.") {
  return Fail(ErrorCode::kForbidden, std::move(problem), std::move(message));
}
inline tl::unexpected<Error> Internal(std::string internal_message) {
  return Fail(ErrorCode::kInternal, "internal", "Something went wrong on the server.",
              std::move(internal_message));
}

inline Status Ok() { return {}; }

}  // namespace rounds

// Propagates an error from an expression returning Result/Status, or binds its value.
#define ROUNDS_CONCAT_INNER(a, b) a##b
#define ROUNDS_CONCAT(a, b) ROUNDS_CONCAT_INNER(a, b)
#define ROUNDS_TRY_IMPL(tmp, decl, expr)        \
  auto tmp = (expr);                            \
  if (!tmp) return tl::unexpected(std::move(tmp).error()); \
  decl = std::move(*tmp)
#define ROUNDS_ASSIGN_OR_RETURN(decl, expr) \
  ROUNDS_TRY_IMPL(ROUNDS_CONCAT(rounds_try_, __LINE__), decl, expr)
#define ROUNDS_RETURN_IF_ERROR(expr)                                   \
  do {                                                                 \
    auto rounds_status_ = (expr);                                      \
    if (!rounds_status_) return tl::unexpected(std::move(rounds_status_).error()); \
  } while (0)
