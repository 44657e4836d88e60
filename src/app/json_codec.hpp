// The JSON representation of Rounds objects (docs/api/README.md) and strict request parsing.
//
// The app owns JSON because the same document is stored in a space's event log, sent on the
// WebSocket and returned by HTTP: it is produced once, here. Pure functions; thread-safe.
#pragma once

#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/result.hpp"
#include "domain/types.hpp"

namespace rounds::app {

using nlohmann::json;

json UserJson(const domain::User& user);
// The short form embedded in messages and members: {id, username, display_name}.
json UserRefJson(const domain::User& user);
json UserRefJson(const domain::UserRef& user);
json DepartmentJson(const domain::Department& department);
json SpaceJson(const domain::Space& space);
// The short form beside a search hit, a mention, a hold or an export: {id, name, kind}.
json SpaceRefJson(const domain::Space& space);
json MembershipJson(const domain::Membership& membership, const domain::User& user);
// `author` may be null when the author no longer exists.
json MessageJson(const domain::Message& message, const domain::UserRef* author);
json MessageEditJson(const domain::MessageEdit& edit);
// An upload as its uploader sees it: {id, space_id, uploader_id, message_id, name, content_type,
// size, sha256, phi_types, created_at}. In a message, attachments show {id, name, content_type,
// size, sha256}.
json AttachmentJson(const domain::Attachment& attachment);

// The items of a comma-separated list as stored ("phone,ssn"), empty ones skipped.
std::vector<std::string_view> SplitCsv(std::string_view csv);

// A document already serialized, for answers written straight to text rather than built as a
// tree: a page of messages is the answer read most, and building its tree (some 30 members per
// message, each a node and most a string) and then serializing it cost more than reading it.
struct JsonText {
  std::string text;
  // Set instead of `text` for a document shared with a cache (a kept page of messages): the answer
  // is sent from it as it is, not copied into each response.
  std::shared_ptr<const std::string> shared;
  std::string_view view() const { return shared ? std::string_view(*shared) : std::string_view(text); }
};

// Appends MessageJson(message, author).dump(), byte for byte, without building the tree.
void AppendMessageJson(std::string& out, const domain::Message& message, const domain::UserRef* author);

// Reads a JSON request body strictly: every field is read through one of the typed getters and
// Finish() rejects any field that was not (`unknown_field`). Errors name the field as a JSON
// pointer. Problem codes: invalid_type, missing_field, invalid_value, unknown_field.
class BodyReader {
 public:
  explicit BodyReader(const json& body);

  std::optional<std::string> String(const char* name, bool required, std::size_t max_chars);
  std::optional<std::int64_t> Int(const char* name, bool required, std::int64_t min, std::int64_t max);
  std::optional<bool> Bool(const char* name, bool required);
  // Null is allowed and returned as nullopt with `present` set.
  std::optional<std::int64_t> NullableInt(const char* name, bool* present);
  std::optional<std::vector<std::string>> StringArray(const char* name, bool required,
                                                      std::size_t max_items, std::size_t max_chars);
  std::optional<std::vector<std::int64_t>> IntArray(const char* name, bool required, std::size_t max_items);

  // The first error found, or unknown fields; Ok when the body was read cleanly.
  Status Finish();

 private:
  const json* Find(const char* name, bool required);
  void SetError(std::string problem, std::string message, std::string field);

  const json& body_;
  std::set<std::string> seen_;
  std::optional<Error> error_;
};

// Parses text as a request body object. Rejects invalid UTF-8, malformed JSON, nesting deeper
// than `max_depth`, duplicate keys and non-object documents with stable problem codes
// (invalid_utf8, malformed_json, too_deep, duplicate_key, invalid_type). The messages name the
// text as `what` ("The file" when the CLI reads a document the API would take as a body).
Result<json> ParseRequestBody(std::string_view text, int max_depth = 32, std::string_view what = "The request body");

}  // namespace rounds::app
