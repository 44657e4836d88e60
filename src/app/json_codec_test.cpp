// The JSON codec: documents as docs/api/README.md describes them, and strict request parsing.
#include <gtest/gtest.h>

#include <random>

#include "app/json_codec.hpp"
#include "core/json_text.hpp"
#include "domain/rules.hpp"

namespace rounds::app {
namespace {

using namespace rounds::domain;

std::set<std::string> Keys(const json& object) {
  std::set<std::string> keys;
  for (const auto& [key, value] : object.items()) keys.insert(key);
  return keys;
}

TEST(JsonCodec, UserHasExactlyTheDocumentedFields) {
  User u;
  u.id = 7;
  u.username = "ana";
  u.display_name = "Ana";
  u.department_ids = {1, 2};
  json j = UserJson(u);
  EXPECT_EQ(Keys(j), (std::set<std::string>{"id", "username", "display_name", "email", "job_role", "department_ids",
                                            "kind", "is_admin", "is_compliance", "is_guest", "disabled", "created_at"}));
  EXPECT_EQ(j["kind"], "staff");
  EXPECT_EQ(j["department_ids"], json::array({1, 2}));
  EXPECT_EQ(UserRefJson(u), (json{{"id", 7}, {"username", "ana"}, {"display_name", "Ana"}}));
}

TEST(JsonCodec, SpaceDepartmentAndMemberShapes) {
  Space s;
  s.id = 3;
  s.kind = SpaceKind::kChannel;
  s.visibility = Visibility::kPrivate;
  s.join_policy = JoinPolicy::kInvite;
  json space = SpaceJson(s);
  EXPECT_EQ(Keys(space), (std::set<std::string>{"id", "kind", "name", "topic", "visibility", "join_policy", "archived",
                                                "created_by", "created_at", "last_seq", "member_count", "template"}));
  EXPECT_EQ(space["kind"], "channel");
  EXPECT_EQ(space["visibility"], "private");
  EXPECT_EQ(space["join_policy"], "invite");
  EXPECT_EQ(DepartmentJson({4, "Ward 7", std::nullopt}), (json{{"id", 4}, {"name", "Ward 7"}, {"parent_id", nullptr}}));
  EXPECT_EQ(DepartmentJson({5, "Bay", 4})["parent_id"], 4);
  User u;
  u.id = 9;
  json member = MembershipJson({3, 9, MemberRole::kReadOnly, 12, 1000}, u);
  EXPECT_EQ(member["role"], "read_only");
  EXPECT_EQ(member["read_seq"], 12);
  EXPECT_EQ(member["user"]["id"], 9);
  EXPECT_EQ(member["is_guest"], false);
  u.is_guest = true;
  EXPECT_EQ(MembershipJson({3, 9, MemberRole::kMember, 0, 1000}, u)["is_guest"], true) << "members see who is from outside";
}

TEST(JsonCodec, AMessageWithoutItsAuthorStillRenders) {
  Message m;
  m.id = 1;
  m.author_id = 77;
  json j = MessageJson(m, nullptr);
  EXPECT_EQ(j["author"]["id"], 77);
  EXPECT_EQ(j["author"]["display_name"], "Former user");
  EXPECT_TRUE(j["parent_id"].is_null());
  EXPECT_TRUE(j["accepted_answer_id"].is_null());
  EXPECT_TRUE(j["my_poll_vote"].is_null());
  EXPECT_EQ(j["kind"], "message");
}

// The stored event payloads, the WebSocket frames and the HTTP answers all carry this document,
// byte for byte: every member, its type and its serialized form are pinned here.
TEST(JsonCodec, AMessageSerializesToTheDocumentedDocument) {
  Message m;
  m.id = 42;
  m.space_id = 3;
  m.seq = 17;
  m.author_id = 9;
  m.kind = MessageKind::kPoll;
  m.parent_id = 40;
  m.title = "Lunch?";
  m.body = "Pick \"one\"";
  m.client_id = "c-1";
  m.created_at = 1000;
  m.edited_at = 2000;
  m.pinned = true;
  m.accepted_answer_id = 41;
  m.reply_count = 2;
  m.vote_count = 5;
  m.my_vote = true;
  m.poll_options = {{0, "Soup", 3}, {1, "Salad", 0}};
  m.my_poll_vote = 0;
  m.reactions = {{"👍", 2, true}};
  m.mentions = {4, 8};
  m.state = MessageState::kHeld;
  m.hold_reason = "phi";
  m.phi_types = "phone,mrn";
  Attachment scan;
  scan.id = 7;
  scan.name = "scan 1.png";
  scan.content_type = "image/png";
  scan.size = 1234;
  scan.sha256 = "ab12";
  scan.uploader_id = 9;  // the upload's own fields stay out of the message
  m.attachments = {scan};
  const UserRef author{9, "ana", "Ana"};
  json expected = {{"id", 42}, {"space_id", 3}, {"seq", 17}, {"author_id", 9},
                   {"attachments", {{{"id", 7}, {"name", "scan 1.png"}, {"content_type", "image/png"}, {"size", 1234},
                                     {"sha256", "ab12"}}}},
                   {"author", {{"id", 9}, {"username", "ana"}, {"display_name", "Ana"}}},
                   {"kind", "poll"}, {"parent_id", 40}, {"title", "Lunch?"}, {"body", "Pick \"one\""},
                   {"client_id", "c-1"}, {"created_at", 1000}, {"edited_at", 2000}, {"deleted", false},
                   {"pinned", true}, {"accepted_answer_id", 41}, {"reply_count", 2}, {"vote_count", 5},
                   {"my_vote", true},
                   {"poll_options", {{{"index", 0}, {"text", "Soup"}, {"votes", 3}},
                                     {{"index", 1}, {"text", "Salad"}, {"votes", 0}}}},
                   {"my_poll_vote", 0}, {"reactions", {{{"emoji", "👍"}, {"count", 2}, {"mine", true}}}},
                   {"mentions", {4, 8}}, {"state", "held"}, {"hold_reason", "phi"},
                   {"phi_types", {"phone", "mrn"}}};
  EXPECT_EQ(MessageJson(m, &author), expected);
  EXPECT_EQ(MessageJson(m, &author).dump(), expected.dump());
  json former = MessageJson(m, nullptr)["author"];
  EXPECT_EQ(former, (json{{"id", 9}, {"username", ""}, {"display_name", "Former user"}}));
}

// A page of messages is written straight to text; it must be the tree's text exactly, for any
// message: every member set or not, strings with escapes, control characters and non-ASCII text.
TEST(JsonCodec, TheMessageTextIsTheTreesTextByteForByte) {
  std::mt19937 random(20261130);
  const std::vector<std::string> pieces = {"a", "Z", " ", "\"", "\\", "/", "\n", "\r", "\t", "\b", "\f",
                                           std::string(1, '\0'), "\x01", "\x1f", "\x7f", "é", "中",
                                           "👍", "€", "\xF4\x8F\xBF\xBF", "<script>", "'", ","};
  auto text = [&](int max_pieces) {
    std::string out;
    int n = static_cast<int>(random() % static_cast<unsigned>(max_pieces + 1));
    for (int i = 0; i < n; ++i) out += pieces[random() % pieces.size()];
    return out;
  };
  auto maybe = [&](std::int64_t value) { return random() % 2 ? std::optional<std::int64_t>(value) : std::nullopt; };
  for (int round = 0; round < 2000; ++round) {
    Message m;
    m.id = static_cast<std::int64_t>(random());
    m.space_id = static_cast<std::int64_t>(random() % 1000);
    m.seq = static_cast<std::int64_t>(random()) * 4096;
    m.author_id = static_cast<std::int64_t>(random() % 500);
    m.kind = static_cast<MessageKind>(random() % 6);
    m.parent_id = maybe(static_cast<std::int64_t>(random()));
    m.title = text(4);
    m.body = text(40);
    m.client_id = text(3);
    m.created_at = 1795994657487 + static_cast<std::int64_t>(random());
    m.edited_at = random() % 2 ? 0 : -static_cast<std::int64_t>(random());
    m.deleted = random() % 2;
    m.pinned = random() % 2;
    m.accepted_answer_id = maybe(static_cast<std::int64_t>(random()));
    m.reply_count = static_cast<int>(random() % 100);
    m.vote_count = -static_cast<int>(random() % 100);
    m.my_vote = random() % 2;
    for (int i = 0, n = static_cast<int>(random() % 4); i < n; ++i) {
      m.poll_options.push_back({i, text(5), static_cast<int>(random() % 50)});
    }
    if (random() % 2) m.my_poll_vote = static_cast<int>(random() % 4);
    for (int i = 0, n = static_cast<int>(random() % 3); i < n; ++i) {
      m.reactions.push_back({text(2), static_cast<int>(random() % 9), random() % 2 == 0});
    }
    for (int i = 0, n = static_cast<int>(random() % 3); i < n; ++i) m.mentions.push_back(static_cast<int>(random() % 99));
    m.state = static_cast<MessageState>(random() % 4);
    m.hold_reason = text(2);
    m.phi_types = std::vector<std::string>{"", "phone", "phone,mrn", ",name,", "ssn,,date"}[random() % 5];
    const UserRef author{m.author_id, text(3), text(5)};
    const UserRef* who = random() % 5 == 0 ? nullptr : &author;
    std::string written;
    AppendMessageJson(written, m, who);
    ASSERT_EQ(written, MessageJson(m, who).dump()) << "round " << round;
  }
}

TEST(JsonCodec, TextWithBrokenUtf8IsWrittenAsValidJson) {
  for (std::string broken : {std::string("a\xC3"), std::string("\xC0\xAF"), std::string("\xED\xA0\x80"),
                             std::string("x\xF5\x80\x80\x80y"), std::string("\x80"), std::string("\xE2\x82")}) {
    std::string written;
    AppendJsonString(written, broken, Utf8Errors::kReplace);
    EXPECT_TRUE(IsValidUtf8(written)) << written;
    EXPECT_NE(written.find("\xEF\xBF\xBD"), std::string::npos) << "a replacement character marks the bad bytes";
    json parsed = json::parse(written);
    EXPECT_TRUE(parsed.is_string());
  }
  std::string clean;
  AppendJsonString(clean, "tab\there \"quoted\" \\ é", Utf8Errors::kReplace);
  EXPECT_EQ(clean, json("tab\there \"quoted\" \\ é").dump());
}

TEST(BodyReader, ReadsTypedFieldsAndRejectsUnknownOnes) {
  json body = {{"name", "Ward"}, {"limit", 5}, {"open", true}, {"ids", {1, 2}}, {"tags", {"a"}}, {"extra", 1}};
  BodyReader reader(body);
  EXPECT_EQ(reader.String("name", true, 10), "Ward");
  EXPECT_EQ(reader.Int("limit", true, 1, 10), 5);
  EXPECT_EQ(reader.Bool("open", false), true);
  EXPECT_EQ(reader.IntArray("ids", false, 10), (std::vector<std::int64_t>{1, 2}));
  EXPECT_EQ(reader.StringArray("tags", false, 10, 10), std::vector<std::string>{"a"});
  EXPECT_FALSE(reader.String("absent", false, 10));
  auto status = reader.Finish();
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().problem, "unknown_field");
  EXPECT_EQ(status.error().field, "/extra");
  EXPECT_EQ(status.error().code, ErrorCode::kInvalidArgument);
}

// An unknown field's name is the sender's text: its pointer is escaped as RFC 6901 says, and a
// long one is echoed cut short, not whole.
TEST(BodyReader, EscapesAnUnknownFieldsPointerAndShortensItsEcho) {
  json slashed = {{"a/b~c", 1}};
  auto escaped = BodyReader(slashed).Finish();
  ASSERT_FALSE(escaped);
  EXPECT_EQ(escaped.error().field, "/a~1b~0c");
  json long_name = {{std::string(600'000, 'x'), 1}};
  auto shortened = BodyReader(long_name).Finish();
  ASSERT_FALSE(shortened);
  EXPECT_LT(shortened.error().public_message.size(), 200u);
  EXPECT_NE(shortened.error().public_message.find(std::string(100, 'x') + "…"), std::string::npos);
}

TEST(BodyReader, NamesTheFirstProblemWithItsPointer) {
  struct Case {
    json body;
    std::string problem;
    std::string field;
  };
  const std::vector<Case> cases = {
      {json{{"name", 5}}, "invalid_type", "/name"},
      {json::object(), "missing_field", "/name"},
      {json{{"name", "x"}, {"limit", "5"}}, "invalid_type", "/limit"},
      {json{{"name", "x"}, {"limit", 5.5}}, "invalid_type", "/limit"},
      {json{{"name", "x"}, {"limit", 99}}, "invalid_value", "/limit"},
      {json{{"name", "x"}, {"open", "yes"}}, "invalid_type", "/open"},
      {json{{"name", "x"}, {"ids", {1, "2"}}}, "invalid_type", "/ids/1"},
      {json{{"name", "x"}, {"tags", {"ok", 3}}}, "invalid_value", "/tags/1"},
      {json{{"name", "elevenchars"}}, "too_long", "/name"},
      {json{{"body", "elevenchars"}}, "message_too_long", "/body"},
  };
  for (const Case& c : cases) {
    BodyReader reader(c.body);
    if (c.body.contains("body")) {
      reader.String("body", true, 10);
    } else {
      reader.String("name", true, 10);
    }
    reader.Int("limit", false, 1, 10);
    reader.Bool("open", false);
    reader.IntArray("ids", false, 10);
    reader.StringArray("tags", false, 10, 10);
    auto status = reader.Finish();
    ASSERT_FALSE(status) << c.body.dump();
    EXPECT_EQ(status.error().problem, c.problem) << c.body.dump();
    EXPECT_EQ(status.error().field, c.field) << c.body.dump();
  }
}

TEST(BodyReader, NullIsDistinctFromAbsent) {
  json body = {{"option", nullptr}};
  BodyReader reader(body);
  bool present = false;
  EXPECT_FALSE(reader.NullableInt("option", &present));
  EXPECT_TRUE(present);
  bool other = true;
  EXPECT_FALSE(reader.NullableInt("missing", &other));
  EXPECT_FALSE(other);
  EXPECT_TRUE(reader.Finish());
}

TEST(ParseRequestBody, RefusesWhatIsNotOneCleanJsonObject) {
  struct Case {
    std::string text;
    std::string problem;
  };
  const std::vector<Case> cases = {
      {"{\"a\":\"\xff\"}", "invalid_utf8"},
      {"{\"a\":", "malformed_json"},
      {"", "malformed_json"},
      {"{\"a\":1} trailing", "malformed_json"},
      {"[1,2]", "invalid_type"},
      {"\"text\"", "invalid_type"},
      {"{\"a\":1,\"a\":2}", "duplicate_key"},
      {"{\"outer\":[{\"b\":1,\"b\":1}]}", "duplicate_key"},
  };
  for (const Case& c : cases) {
    auto parsed = ParseRequestBody(c.text);
    ASSERT_FALSE(parsed) << c.text;
    EXPECT_EQ(parsed.error().problem, c.problem) << c.text;
  }
  auto fine = ParseRequestBody(R"({"a":{"b":1},"c":[{"b":1},{"b":2}]})");
  ASSERT_TRUE(fine);
  EXPECT_EQ((*fine)["c"][1]["b"], 2);
}

TEST(ParseRequestBody, AllowsThirtyTwoLevelsOfNestingAndNoMore) {
  auto nested = [](int levels) {
    // One object holding levels - 1 arrays: `levels` containers in all.
    return "{\"a\":" + std::string(levels - 1, '[') + std::string(levels - 1, ']') + "}";
  };
  EXPECT_TRUE(ParseRequestBody(nested(32)));
  auto deep = ParseRequestBody(nested(33));
  ASSERT_FALSE(deep);
  EXPECT_EQ(deep.error().problem, "too_deep");
  auto very_deep = ParseRequestBody(nested(100'000));
  ASSERT_FALSE(very_deep);
  EXPECT_EQ(very_deep.error().problem, "too_deep");
}

}  // namespace
}  // namespace rounds::app
