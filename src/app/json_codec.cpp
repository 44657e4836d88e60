#include "app/json_codec.hpp"

#include <algorithm>
#include <utility>

#include "core/json_text.hpp"
#include "domain/rules.hpp"

namespace rounds::app {

using namespace rounds::domain;

json UserJson(const User& u) {
  return json{{"id", u.id},
              {"username", u.username},
              {"display_name", u.display_name},
              {"email", u.email},
              {"job_role", u.job_role},
              {"department_ids", u.department_ids},
              {"kind", ToString(u.kind)},
              {"is_admin", u.is_admin},
              {"is_compliance", u.is_compliance},
              {"is_guest", u.is_guest},
              {"disabled", u.disabled},
              {"created_at", u.created_at}};
}

std::vector<std::string_view> SplitCsv(std::string_view csv) {
  std::vector<std::string_view> items;
  for (std::size_t pos = 0; pos < csv.size();) {
    auto end = std::min(csv.find(',', pos), csv.size());
    if (end > pos) items.push_back(csv.substr(pos, end - pos));
    pos = end + 1;
  }
  return items;
}

namespace {
json SplitCsvJson(const std::string& csv) {
  json items = json::array();
  for (std::string_view item : SplitCsv(csv)) items.push_back(item);
  return items;
}

void Emplace(json::object_t&) {}
template <class Value, class... Rest>
void Emplace(json::object_t& object, const char* key, Value&& value, Rest&&... rest) {
  object.emplace(key, std::forward<Value>(value));
  Emplace(object, std::forward<Rest>(rest)...);
}

// A JSON object from alternating keys and values, each emplaced into the object. A braced
// initializer list builds a two-element array for every member and then converts it, which made
// it the largest cost of a history page (MessageJson runs once per message); this builds the same
// document (object members are kept sorted by key).
template <class... Members>
json Object(Members&&... members) {
  json out(json::value_t::object);
  Emplace(out.get_ref<json::object_t&>(), std::forward<Members>(members)...);
  return out;
}
}  // namespace

json UserRefJson(const UserRef& u) {
  return Object("id", u.id, "username", u.username, "display_name", u.display_name);
}

json UserRefJson(const User& u) { return UserRefJson(RefOf(u)); }

namespace {
// Whom a message names as its author when the author's account is gone. Short strings: building
// one allocates nothing.
UserRef FormerUser(UserId id) { return UserRef{id, "", "Former user"}; }
}  // namespace

json DepartmentJson(const Department& d) {
  return json{{"id", d.id}, {"name", d.name}, {"parent_id", d.parent_id ? json(*d.parent_id) : json(nullptr)}};
}

json SpaceJson(const Space& s) {
  return json{{"id", s.id},
              {"kind", ToString(s.kind)},
              {"name", s.name},
              {"topic", s.topic},
              {"visibility", ToString(s.visibility)},
              {"join_policy", ToString(s.join_policy)},
              {"archived", s.archived},
              {"created_by", s.created_by},
              {"created_at", s.created_at},
              {"last_seq", s.last_seq},
              {"member_count", s.member_count},
              {"template", {{"key", s.template_key}, {"version", s.template_version}}}};
}

json SpaceRefJson(const Space& s) { return json{{"id", s.id}, {"name", s.name}, {"kind", ToString(s.kind)}}; }

json MembershipJson(const Membership& m, const User& user) {
  return json{{"space_id", m.space_id}, {"user_id", m.user_id}, {"role", ToString(m.role)},
              {"read_seq", m.read_seq}, {"joined_at", m.joined_at}, {"user", UserRefJson(user)},
              {"is_guest", user.is_guest}};
}

json MessageJson(const Message& m, const UserRef* author) {
  const UserRef former = FormerUser(m.author_id);
  json reactions(json::value_t::array);
  for (const auto& r : m.reactions) reactions.push_back(Object("emoji", r.emoji, "count", r.count, "mine", r.mine));
  json options(json::value_t::array);
  for (const auto& p : m.poll_options) options.push_back(Object("index", p.index, "text", p.text, "votes", p.votes));
  json attachments(json::value_t::array);
  for (const auto& a : m.attachments) {
    attachments.push_back(Object("id", a.id, "name", a.name, "content_type", a.content_type, "size", a.size,
                                 "sha256", a.sha256));
  }
  auto optional = [](const auto& value) { return value ? json(*value) : json(nullptr); };
  const UserRef& who = author != nullptr ? *author : former;
  // The author's id as the reader knows it: under pseudonyms, the pseudonymous one.
  return Object("id", m.id, "attachments", std::move(attachments), "space_id", m.space_id, "seq", m.seq, "author_id", who.id,
                "author", UserRefJson(who), "kind", ToString(m.kind),
                "parent_id", optional(m.parent_id), "title", m.title, "body", m.body, "client_id", m.client_id,
                "created_at", m.created_at, "edited_at", m.edited_at, "deleted", m.deleted, "pinned", m.pinned,
                "accepted_answer_id", optional(m.accepted_answer_id), "reply_count", m.reply_count,
                "vote_count", m.vote_count, "my_vote", m.my_vote, "poll_options", std::move(options),
                "my_poll_vote", optional(m.my_poll_vote), "reactions", std::move(reactions),
                "mentions", m.mentions, "state", ToString(m.state), "hold_reason", m.hold_reason,
                "phi_types", SplitCsvJson(m.phi_types));
}

namespace {

// Writes one JSON object's members straight to text; the closing brace is written when the writer
// goes out of scope. The caller gives members in key order, the order the tree (a std::map)
// serializes them in.
class ObjectWriter {
 public:
  explicit ObjectWriter(std::string& out) : out_(out) {}
  ~ObjectWriter() { out_ += first_ ? "{}" : "}"; }

  // Starts a member whose value the caller appends itself.
  std::string& Key(std::string_view key) {
    out_ += first_ ? '{' : ',';
    first_ = false;
    out_ += '"';
    out_ += key;
    out_ += "\":";
    return out_;
  }
  void Int(std::string_view key, std::int64_t value) { AppendJsonInt(Key(key), value); }
  void String(std::string_view key, std::string_view value) {
    AppendJsonString(Key(key), value, Utf8Errors::kReplace);
  }
  void Bool(std::string_view key, bool value) { Key(key) += value ? "true" : "false"; }
  template <class T>
  void OptionalInt(std::string_view key, const std::optional<T>& value) {
    if (value) Int(key, *value);
    else Key(key) += "null";
  }
  // A member whose value is an array, each element appended by `element(out, item)`.
  template <class Items, class F>
  void Array(std::string_view key, const Items& items, F element) {
    std::string& out = Key(key);
    out += '[';
    bool first = true;
    for (const auto& item : items) {
      if (!first) out += ',';
      first = false;
      element(out, item);
    }
    out += ']';
  }

 private:
  std::string& out_;
  bool first_ = true;
};

}  // namespace

void AppendMessageJson(std::string& out, const Message& m, const UserRef* author) {
  ObjectWriter o(out);
  o.OptionalInt("accepted_answer_id", m.accepted_answer_id);
  o.Array("attachments", m.attachments, [](std::string& a, const Attachment& file) {
    ObjectWriter attachment(a);
    attachment.String("content_type", file.content_type);
    attachment.Int("id", file.id);
    attachment.String("name", file.name);
    attachment.String("sha256", file.sha256);
    attachment.Int("size", file.size);
  });
  {
    const UserRef former = FormerUser(m.author_id);
    const UserRef& who = author != nullptr ? *author : former;
    ObjectWriter a(o.Key("author"));
    a.String("display_name", who.display_name);
    a.Int("id", who.id);
    a.String("username", who.username);
  }
  // The author's id as the reader knows it: under pseudonyms, the pseudonymous one.
  o.Int("author_id", author != nullptr ? author->id : m.author_id);
  o.String("body", m.body);
  o.String("client_id", m.client_id);
  o.Int("created_at", m.created_at);
  o.Bool("deleted", m.deleted);
  o.Int("edited_at", m.edited_at);
  o.String("hold_reason", m.hold_reason);
  o.Int("id", m.id);
  o.String("kind", ToString(m.kind));
  o.Array("mentions", m.mentions, [](std::string& a, UserId id) { AppendJsonInt(a, id); });
  o.OptionalInt("my_poll_vote", m.my_poll_vote);
  o.Bool("my_vote", m.my_vote);
  o.OptionalInt("parent_id", m.parent_id);
  o.Array("phi_types", SplitCsv(m.phi_types),
          [](std::string& a, std::string_view type) { AppendJsonString(a, type, Utf8Errors::kReplace); });
  o.Bool("pinned", m.pinned);
  o.Array("poll_options", m.poll_options, [](std::string& a, const PollOption& p) {
    ObjectWriter option(a);
    option.Int("index", p.index);
    option.String("text", p.text);
    option.Int("votes", p.votes);
  });
  o.Array("reactions", m.reactions, [](std::string& a, const ReactionCount& r) {
    ObjectWriter reaction(a);
    reaction.Int("count", r.count);
    reaction.String("emoji", r.emoji);
    reaction.Bool("mine", r.mine);
  });
  o.Int("reply_count", m.reply_count);
  o.Int("seq", m.seq);
  o.Int("space_id", m.space_id);
  o.String("state", ToString(m.state));
  o.String("title", m.title);
  o.Int("vote_count", m.vote_count);
}

json AttachmentJson(const Attachment& a) {
  return json{{"id", a.id},
              {"space_id", a.space_id},
              {"uploader_id", a.uploader_id},
              {"message_id", a.message_id ? json(*a.message_id) : json(nullptr)},
              {"name", a.name},
              {"content_type", a.content_type},
              {"size", a.size},
              {"sha256", a.sha256},
              {"phi_types", SplitCsvJson(a.phi_types)},
              {"created_at", a.created_at}};
}

json MessageEditJson(const MessageEdit& e) {
  return json{{"message_id", e.message_id}, {"version", e.version}, {"title", e.title}, {"body", e.body},
              {"edited_at", e.edited_at}, {"editor_id", e.editor_id}};
}

// ---- Requests ------------------------------------------------------------------------------------

BodyReader::BodyReader(const json& body) : body_(body) {
  if (!body_.is_object()) SetError("invalid_type", "The request body must be a JSON object.", "");
}

void BodyReader::SetError(std::string problem, std::string message, std::string field) {
  if (error_) return;
  Error e{ErrorCode::kInvalidArgument, std::move(problem), std::move(message), {}};
  e.field = std::move(field);
  error_ = std::move(e);
}

const json* BodyReader::Find(const char* name, bool required) {
  seen_.insert(name);
  if (!body_.is_object()) return nullptr;
  auto it = body_.find(name);
  if (it == body_.end()) {
    if (required) SetError("missing_field", std::string("'") + name + "' is required.", std::string("/") + name);
    return nullptr;
  }
  return &*it;
}

std::optional<std::string> BodyReader::String(const char* name, bool required, std::size_t max_chars) {
  const json* v = Find(name, required);
  if (v == nullptr) return std::nullopt;
  if (!v->is_string()) {
    SetError("invalid_type", std::string("'") + name + "' must be a string.", std::string("/") + name);
    return std::nullopt;
  }
  const auto& text = v->get_ref<const std::string&>();
  if (CodePointCount(text) > max_chars) {
    SetError(std::string(name) == "body" ? "message_too_long" : "too_long",
             std::string("'") + name + "' is longer than " + std::to_string(max_chars) + " characters.",
             std::string("/") + name);
    return std::nullopt;
  }
  return text;
}

std::optional<std::int64_t> BodyReader::Int(const char* name, bool required, std::int64_t min, std::int64_t max) {
  const json* v = Find(name, required);
  if (v == nullptr) return std::nullopt;
  if (!v->is_number_integer()) {
    SetError("invalid_type", std::string("'") + name + "' must be an integer.", std::string("/") + name);
    return std::nullopt;
  }
  auto n = v->get<std::int64_t>();
  if (n < min || n > max) {
    SetError("invalid_value", std::string("'") + name + "' is out of range.", std::string("/") + name);
    return std::nullopt;
  }
  return n;
}

std::optional<std::int64_t> BodyReader::NullableInt(const char* name, bool* present) {
  const json* v = Find(name, false);
  *present = v != nullptr;
  if (v == nullptr || v->is_null()) return std::nullopt;
  if (!v->is_number_integer()) {
    SetError("invalid_type", std::string("'") + name + "' must be an integer or null.", std::string("/") + name);
    return std::nullopt;
  }
  return v->get<std::int64_t>();
}

std::optional<bool> BodyReader::Bool(const char* name, bool required) {
  const json* v = Find(name, required);
  if (v == nullptr) return std::nullopt;
  if (!v->is_boolean()) {
    SetError("invalid_type", std::string("'") + name + "' must be true or false.", std::string("/") + name);
    return std::nullopt;
  }
  return v->get<bool>();
}

std::optional<std::vector<std::string>> BodyReader::StringArray(const char* name, bool required,
                                                                std::size_t max_items, std::size_t max_chars) {
  const json* v = Find(name, required);
  if (v == nullptr) return std::nullopt;
  if (!v->is_array() || v->size() > max_items) {
    SetError("invalid_type", std::string("'") + name + "' must be an array of at most " +
                                 std::to_string(max_items) + " strings.", std::string("/") + name);
    return std::nullopt;
  }
  std::vector<std::string> out;
  for (std::size_t i = 0; i < v->size(); ++i) {
    const json& item = (*v)[i];
    if (!item.is_string() || CodePointCount(item.get_ref<const std::string&>()) > max_chars) {
      SetError("invalid_value", "Each item must be a string of at most " + std::to_string(max_chars) + " characters.",
               std::string("/") + name + "/" + std::to_string(i));
      return std::nullopt;
    }
    out.push_back(item.get<std::string>());
  }
  return out;
}

std::optional<std::vector<std::int64_t>> BodyReader::IntArray(const char* name, bool required, std::size_t max_items) {
  const json* v = Find(name, required);
  if (v == nullptr) return std::nullopt;
  if (!v->is_array() || v->size() > max_items) {
    SetError("invalid_type", std::string("'") + name + "' must be an array of at most " +
                                 std::to_string(max_items) + " integers.", std::string("/") + name);
    return std::nullopt;
  }
  std::vector<std::int64_t> out;
  for (std::size_t i = 0; i < v->size(); ++i) {
    if (!(*v)[i].is_number_integer()) {
      SetError("invalid_type", "Each item must be an integer.", std::string("/") + name + "/" + std::to_string(i));
      return std::nullopt;
    }
    out.push_back((*v)[i].get<std::int64_t>());
  }
  return out;
}

Status BodyReader::Finish() {
  if (!error_ && body_.is_object()) {
    for (const auto& [key, value] : body_.items()) {
      if (!seen_.contains(key)) {
        // The name is the sender's: its pointer escaped (RFC 6901), its echo cut short.
        SetError("unknown_field", "Unknown field '" + ShortenedText(key, 100) + "'.", "/" + JsonPointerToken(key));
        break;
      }
    }
  }
  if (error_) return tl::unexpected(*error_);
  return Ok();
}

Result<json> ParseRequestBody(std::string_view text, int max_depth, std::string_view what) {
  const std::string subject(what);
  if (!IsValidUtf8(text)) return InvalidArgument("invalid_utf8", subject + " is not valid UTF-8.");
  // Depth and duplicate keys are checked while parsing, through the SAX-style callback.
  std::vector<std::set<std::string>> keys_per_level;
  bool too_deep = false;
  bool duplicate = false;
  json::parser_callback_t callback = [&](int depth, json::parse_event_t event, json& parsed) {
    switch (event) {
      case json::parse_event_t::object_start:
        if (depth >= max_depth) too_deep = true;
        keys_per_level.emplace_back();
        break;
      case json::parse_event_t::array_start:
        if (depth >= max_depth) too_deep = true;
        break;
      case json::parse_event_t::object_end:
        if (!keys_per_level.empty()) keys_per_level.pop_back();
        break;
      case json::parse_event_t::key:
        if (!keys_per_level.empty() && !keys_per_level.back().insert(parsed.get<std::string>()).second) {
          duplicate = true;
        }
        break;
      default:
        break;
    }
    return !too_deep && !duplicate;
  };
  json doc = json::parse(text, callback, /*allow_exceptions=*/false);
  if (too_deep) return InvalidArgument("too_deep", subject + " nests too deeply.");
  if (duplicate) return InvalidArgument("duplicate_key", subject + " repeats a key.");
  if (doc.is_discarded()) return InvalidArgument("malformed_json", subject + " is not valid JSON.");
  if (!doc.is_object()) return InvalidArgument("invalid_type", subject + " must be a JSON object.");
  return doc;
}

}  // namespace rounds::app
