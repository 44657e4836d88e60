// Protocol-light request and response values that handlers see. Beast stays in the listener;
// handlers and the router never include it. Value types; not synchronized.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/open_file.hpp"
#include "core/result.hpp"

namespace rounds::transport {

struct Request {
  std::string method;                           // "GET", "POST", ...
  std::string path;                             // decoded path, no query
  std::map<std::string, std::string> query;     // decoded query parameters (last value wins)
  std::map<std::string, std::string> headers;   // lower-case names
  std::string body;
  std::string remote_address;
  std::map<std::string, std::string> params;    // path parameters filled by the router

  std::string Header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? std::string() : it->second;
  }
};

struct Response {
  int status = 200;
  std::string content_type = "application/json; charset=utf-8";
  std::string body;
  // When set, the body is this whole file, sent from disk (exports): positioned at its first byte.
  // `body` is ignored then.
  std::shared_ptr<OpenFile> body_file;
  // When set, the body is this text, shared with a cache (a kept page) and sent without a copy.
  // `body` is ignored then.
  std::shared_ptr<const std::string> shared_body;
  // When set, the body is `size` bytes sent a piece at a time (a large attachment): `body` is the
  // first piece, and next(1), next(2) ... up to pieces - 1 give the rest, each called on the
  // blocking pool when the piece before has been written. A failed or short piece ends the
  // connection: the status line has gone, so the client sees a body shorter than announced.
  struct Pieces {
    std::uint64_t size = 0;
    std::int64_t count = 1;
    std::function<Result<std::string>(std::int64_t)> next;
  };
  std::shared_ptr<Pieces> pieces;
  std::vector<std::pair<std::string, std::string>> headers;

  static Response Json(int status, const nlohmann::json& body);
  static Response NoContent();
};

// The one mapping from an Error to an HTTP status and an RFC 9457 problem document.
int HttpStatusFor(ErrorCode code);
Response ProblemResponse(const Error& error);
// A problem about the HTTP exchange itself rather than the application (405, 426), with a status
// no ErrorCode maps to.
Response ProtocolProblem(int status, const std::string& code, const std::string& detail);

// How long writing an answer of `body_bytes` may take: 30 s, and one more second for every MiB,
// so that a reader taking 1 MiB a second (a slow ward Wi-Fi) still gets a 25 MiB file.
std::chrono::seconds AnswerWriteTimeout(std::uint64_t body_bytes);

// Percent-decodes a URL component; false on malformed escapes, an encoded NUL or a result that is
// not UTF-8.
bool PercentDecode(std::string_view in, std::string& out, bool plus_is_space);
// Splits "path?query" into a decoded path and decoded parameters; false when malformed.
bool ParseTarget(std::string_view target, std::string& path, std::map<std::string, std::string>& query);

}  // namespace rounds::transport
