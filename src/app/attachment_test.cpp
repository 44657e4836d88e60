// Attachments through the app layer on a real SQLite store: an upload is checked against its
// space's template (allowed at all, type told by the content, size, PHI in the file name), a post
// attaches the author's own unposted uploads, a download is as readable as its message and audited
// in PHI-bearing spaces, and the files go with their message on deletion (unless a legal hold
// keeps it) and on purge, while uploads never posted are removed after a day.
#include <sqlite3.h>

#include <gtest/gtest.h>

#include "app/retention_service.hpp"
#include "app/screening.hpp"
#include "app/service_test_support.hpp"
#include "av/test_clamd.hpp"
#include "core/crypto.hpp"

namespace rounds::app {
namespace {

using testing::ServiceTest;
using namespace rounds::domain;

constexpr std::int64_t kDay = 24LL * 60 * 60 * 1000;
const std::string kPng = std::string("\x89PNG\r\n\x1a\n", 8) + "not really pixels";

class AttachmentTest : public ServiceTest {
 protected:
  void SetUp() override {
    ServiceTest::SetUp();
    clock_.Set(1'800'000'000'000);
    ana_ = MakeUser("ana");
    ben_ = MakeUser("ben");
    cy_ = MakeUser("cy");  // not a member
    officer_ = MakeUser("officer");
    ASSERT_TRUE(store_->Write([&](store::WriteTx& tx) -> Status {
      officer_.user.is_compliance = true;
      return tx.UpdateUser(officer_.user);
    }));
    channel_ = MakeSpace(ana_, SpaceKind::kChannel, "ward-7", Visibility::kPrivate);
    ASSERT_TRUE(services_->spaces.AddMember(ana_, channel_, ben_.user.id, MemberRole::kMember));
  }

  // A space of ana's (ben a member) under a stored copy of built-in `base` changed by `change`.
  template <class F>
  SpaceId SpaceUnder(const std::string& base, F change) {
    const SpaceId id = MakeSpace(ana_, SpaceKind::kChannel, "under-" + base + std::to_string(++templates_),
                                 Visibility::kPrivate);
    EXPECT_TRUE(services_->spaces.AddMember(ana_, id, ben_.user.id, MemberRole::kMember));
    auto doc = governance::policy::ToJson(*governance::policy::FindBuiltIn(base));
    const std::string key = "test-" + std::to_string(templates_);
    doc["key"] = key;
    doc["version"] = 1;
    change(doc);
    EXPECT_TRUE(store_->Write([&](store::WriteTx& tx) -> Status {
      ROUNDS_RETURN_IF_ERROR(tx.InsertTemplate({key, 1, doc.dump(), 0, clock_.NowMillis()}));
      return tx.SetSpaceTemplate(id, key, 1);
    }));
    return id;
  }

  Result<json> Upload(const Actor& who, SpaceId space, std::string name, std::string content = kPng,
                      std::string type = "image/png", bool confirm = false) {
    UploadRequest u{std::move(name), std::move(type), std::move(content), confirm};
    return services_->messages.Upload(who, space, u);
  }
  AttachmentId Uploaded(const Actor& who, SpaceId space, std::string name = "scan.png") {
    auto up = Upload(who, space, std::move(name));
    EXPECT_TRUE(up) << up.error().problem << ": " << up.error().public_message;
    return up ? (*up)["id"].get<AttachmentId>() : 0;
  }
  Result<PostResult> PostWith(const Actor& who, SpaceId space, std::vector<AttachmentId> ids, std::string body = "") {
    Draft d;
    d.body = std::move(body);
    d.attachment_ids = std::move(ids);
    d.confirm_phi = true;
    return services_->messages.Post(who, space, d);
  }
  bool Stored(AttachmentId id) {
    auto found = store_->Read([&](store::ReadTx& tx) { return tx.FindAttachment(id); });
    auto content = store_->Read([&](store::ReadTx& tx) { return tx.ReadAttachmentContent(id); });
    EXPECT_TRUE(found && content);
    EXPECT_EQ(found && found->has_value(), content && content->has_value()) << "row and content go together";
    return found && found->has_value();
  }

  Actor ana_, ben_, cy_, officer_;
  SpaceId channel_ = 0;
  int templates_ = 0;
};

TEST_F(AttachmentTest, AnUploadPostedWithAMessageIsReadByMembersOnlyByteForByte) {
  auto up = Upload(ana_, channel_, "chest x-ray.png");
  ASSERT_TRUE(up) << up.error().public_message;
  EXPECT_EQ((*up)["content_type"], "image/png");
  EXPECT_EQ((*up)["size"], kPng.size());
  EXPECT_EQ((*up)["sha256"], crypto::Sha256Hex(kPng));
  EXPECT_TRUE((*up)["message_id"].is_null());
  const AttachmentId id = (*up)["id"];
  // Before it is posted, only its uploader sees it.
  EXPECT_TRUE(services_->messages.Download(ana_, id));
  EXPECT_EQ(services_->messages.Download(ben_, id).error().code, ErrorCode::kNotFound);

  auto posted = PostWith(ana_, channel_, {id});  // a message may be a file alone
  ASSERT_TRUE(posted) << posted.error().public_message;
  const json files = posted->Message()["attachments"];
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(files[0], (json{{"id", id}, {"name", "chest x-ray.png"}, {"content_type", "image/png"},
                            {"size", kPng.size()}, {"sha256", crypto::Sha256Hex(kPng)}}));
  auto page = services_->messages.List(ben_, channel_, MessagePage{});
  ASSERT_TRUE(page);
  EXPECT_EQ(json::parse(page->view())["items"][0]["attachments"], files);

  auto got = services_->messages.Download(ben_, id);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->first_piece, kPng);
  EXPECT_EQ(got->pieces, 1);
  EXPECT_EQ(got->attachment.message_id, posted->Message()["id"].get<MessageId>());
  EXPECT_EQ(services_->messages.Download(cy_, id).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(services_->messages.Download(ben_, id + 1000).error().code, ErrorCode::kNotFound);
  ASSERT_EQ(AuditOf("attachment.upload").size(), 1u);
  EXPECT_EQ(AuditOf("attachment.upload")[0].object_id, std::to_string(id));
}

TEST_F(AttachmentTest, APostTakesOnlyTheAuthorsOwnUnpostedUploadsToThatSpace) {
  const AttachmentId bens = Uploaded(ben_, channel_);
  const SpaceId other = MakeSpace(ana_, SpaceKind::kChannel, "elsewhere", Visibility::kPrivate);
  const AttachmentId elsewhere = Uploaded(ana_, other);
  for (AttachmentId id : {bens, elsewhere, AttachmentId{999999}}) {
    auto refused = PostWith(ana_, channel_, {id}, "see attached");
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().problem, "invalid_attachment");
  }
  const AttachmentId mine = Uploaded(ana_, channel_);
  ASSERT_TRUE(PostWith(ana_, channel_, {mine}, "first"));
  auto again = PostWith(ana_, channel_, {mine}, "second");
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().problem, "invalid_attachment");
  auto twice = PostWith(ana_, channel_, {bens, bens});
  EXPECT_EQ(twice.error().problem, "invalid_attachment");
  // Named in any order, the files are listed in upload order, by the post as by later reads.
  const AttachmentId a = Uploaded(ana_, channel_, "a.png");
  const AttachmentId b = Uploaded(ana_, channel_, "b.png");
  auto both = PostWith(ana_, channel_, {b, a}, "two");
  ASSERT_TRUE(both);
  EXPECT_EQ(both->Message()["attachments"][0]["name"], "a.png");
  auto read = services_->messages.Get(ana_, both->Message()["id"].get<MessageId>());
  ASSERT_TRUE(read);
  EXPECT_EQ((*read)["attachments"], both->Message()["attachments"]);
  auto many = PostWith(ana_, channel_, std::vector<AttachmentId>(11, 1));
  EXPECT_EQ(many.error().problem, "too_many_attachments");
  auto empty = PostWith(ana_, channel_, {});
  EXPECT_EQ(empty.error().problem, "empty_message");
  // A refused post attached nothing: ben's upload is still his to post.
  EXPECT_TRUE(PostWith(ben_, channel_, {bens}));
}

TEST_F(AttachmentTest, TheTemplateDecidesWhetherWhichTypesAndHowLarge) {
  // internal-community takes PNG, JPEG and PDF up to 10 MiB; the type is the content's.
  auto text = Upload(ana_, channel_, "notes.txt", "plain words\n", "text/plain");
  ASSERT_FALSE(text);
  EXPECT_EQ(text.error().problem, "attachment_type_not_allowed");
  EXPECT_EQ(text.error().code, ErrorCode::kPolicyDenied);
  auto disguised = Upload(ana_, channel_, "photo.png", "<html><script>alert(1)</script></html>", "image/png");
  ASSERT_FALSE(disguised);
  EXPECT_EQ(disguised.error().problem, "attachment_type_mismatch");
  auto sniffed = Upload(ana_, channel_, "photo.png", "<html><script>alert(1)</script></html>", "application/octet-stream");
  ASSERT_FALSE(sniffed);
  EXPECT_EQ(sniffed.error().problem, "attachment_type_not_allowed") << "told by content: text/html";
  EXPECT_EQ(Upload(ana_, channel_, "empty.png", "", "image/png").error().problem, "empty_file");
  for (const std::string& bad : std::vector<std::string>{"", "..", "a/b.png", "a\\b.png", "tab\there.png",
                                                         std::string(256, 'a'), "caf\xc3.png"}) {
    EXPECT_EQ(Upload(ana_, channel_, bad).error().problem, "invalid_file_name") << bad;
  }

  const SpaceId small = SpaceUnder("internal-community", [](json& d) {
    d["attachments"] = {{"allowed", true}, {"types", {"image/png", "text/plain"}}, {"max_bytes", 20}};
  });
  EXPECT_TRUE(Upload(ana_, small, "notes.txt", "plain words\n", "text/plain; charset=utf-8"));
  auto large = Upload(ana_, small, "scan.png", kPng + std::string(100, 'x'));
  ASSERT_FALSE(large);
  EXPECT_EQ(large.error().code, ErrorCode::kPayloadTooLarge);
  EXPECT_EQ(large.error().problem, "attachment_too_large");

  const SpaceId forum = SpaceUnder("patient-forum", [](json&) {});
  auto none = Upload(ana_, forum, "scan.png");
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().problem, "attachments_not_allowed");
  // A non-member cannot upload anywhere it cannot post.
  EXPECT_FALSE(Upload(cy_, channel_, "scan.png"));
  EXPECT_EQ(AuditOf("attachment.upload").size(), 1u) << "only the accepted upload is recorded";
}

TEST_F(AttachmentTest, AFileIsPostedOnlyUnderTheRuleInForceWhenItIsPosted) {
  // Uploaded while the space took PNGs; the template changes before the post.
  const SpaceId space = SpaceUnder("internal-community", [](json&) {});
  const AttachmentId early = Uploaded(ben_, space);
  const AttachmentId later = Uploaded(ben_, space, "second.png");
  auto none = governance::policy::ToJson(*governance::policy::FindBuiltIn("internal-community"));
  none["key"] = "no-files";
  none["version"] = 1;
  none["attachments"] = {{"allowed", false}, {"types", json::array()}, {"max_bytes", 0}};
  auto small = none;
  small["key"] = "small-files";
  small["attachments"] = {{"allowed", true}, {"types", {"image/png"}}, {"max_bytes", 8}};
  ASSERT_TRUE(store_->Write([&](store::WriteTx& tx) -> Status {
    ROUNDS_RETURN_IF_ERROR(tx.InsertTemplate({"no-files", 1, none.dump(), 0, clock_.NowMillis()}));
    ROUNDS_RETURN_IF_ERROR(tx.InsertTemplate({"small-files", 1, small.dump(), 0, clock_.NowMillis()}));
    return tx.SetSpaceTemplate(space, "no-files", 1);
  }));
  auto refused = PostWith(ben_, space, {early}, "the scan");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().problem, "attachments_not_allowed");
  ASSERT_TRUE(store_->Write([&](store::WriteTx& tx) { return tx.SetSpaceTemplate(space, "small-files", 1); }));
  auto large = PostWith(ben_, space, {later}, "the scan");
  ASSERT_FALSE(large);
  EXPECT_EQ(large.error().problem, "attachment_too_large");
  // Nothing was posted, and the uploads are still the author's to post where the rule allows.
  EXPECT_TRUE(Stored(early));
  EXPECT_TRUE(Stored(later));
  const int builtin = governance::policy::FindBuiltIn("internal-community")->version;
  ASSERT_TRUE(store_->Write([&](store::WriteTx& tx) { return tx.SetSpaceTemplate(space, "internal-community", builtin); }));
  EXPECT_TRUE(PostWith(ben_, space, {early, later}, "the scans"));
}

TEST_F(AttachmentTest, TheSpacesPhiRuleAppliesToFileNames) {
  // internal-community warns: the author confirms, and the post carries what was confirmed.
  auto warned = Upload(ana_, channel_, "call 617-555-0142.png");
  ASSERT_FALSE(warned);
  EXPECT_EQ(warned.error().problem, "phi_warning");
  auto confirmed = Upload(ana_, channel_, "call 617-555-0142.png", kPng, "image/png", /*confirm=*/true);
  ASSERT_TRUE(confirmed);
  EXPECT_EQ((*confirmed)["phi_types"], json::array({"phone"}));
  auto posted = PostWith(ana_, channel_, {(*confirmed)["id"].get<AttachmentId>()}, "results");
  ASSERT_TRUE(posted);
  EXPECT_EQ(posted->Message()["phi_types"], json::array({"phone"}));

  // block: refused with the findings, nothing stored, the refusal on record.
  const SpaceId blocked = SpaceUnder("internal-community", [](json& d) { d["phi"] = "block"; });
  auto refused = Upload(ana_, blocked, "call 617-555-0142.png", kPng, "image/png", true);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().problem, "phi_blocked");
  EXPECT_EQ(AuditOf("attachment.phi_refuse").size(), 2u);  // the warning and the block

  // redact: the name is stored without the identifier.
  const SpaceId redacting = SpaceUnder("internal-community", [](json& d) { d["phi"] = "redact"; });
  auto redacted = Upload(ana_, redacting, "call 617-555-0142.png");
  ASSERT_TRUE(redacted);
  EXPECT_EQ((*redacted)["name"], "call [REDACTED:PHONE].png");

  // hold: the message that carries the file waits for a moderator.
  const SpaceId holding = SpaceUnder("internal-community", [](json& d) { d["phi"] = "hold"; });
  auto held_file = Upload(ben_, holding, "call 617-555-0142.png");
  ASSERT_TRUE(held_file);
  auto held = PostWith(ben_, holding, {(*held_file)["id"].get<AttachmentId>()}, "nothing in the text");
  ASSERT_TRUE(held);
  EXPECT_EQ(held->Message()["state"], "held");
  EXPECT_EQ(held->Message()["hold_reason"], "phi");
}

TEST_F(AttachmentTest, TheSpacesPhiRuleAppliesToTheContentOfTextFiles) {
  const std::string csv = "name,phone\nward clerk,617-555-0142\n";
  // Spaces under internal-community with `phi` as their rule, taking text files.
  auto taking_text = [&](const char* phi) {
    return SpaceUnder("internal-community", [phi](json& d) {
      d["phi"] = phi;
      d["attachments"]["types"] = {"image/png", "text/plain"};
    });
  };
  const SpaceId warning_space = taking_text("warn");
  // warn: the finding is in the content, named as such; confirmed, the file carries its types.
  auto warned = Upload(ana_, warning_space, "callbacks.csv", csv, "text/csv");
  ASSERT_FALSE(warned);
  EXPECT_EQ(warned.error().problem, "phi_warning");
  const json warning = json::parse(warned.error().extensions_json);
  ASSERT_EQ(warning["findings"].size(), 1u);
  EXPECT_EQ(warning["findings"][0]["field"], "content");
  EXPECT_EQ(warning["findings"][0]["type"], "phone");
  EXPECT_EQ(csv.substr(warning["findings"][0]["begin"], 12), "617-555-0142");
  EXPECT_EQ(warning["findings_total"], 1);
  auto confirmed = Upload(ana_, warning_space, "callbacks.csv", csv, "text/csv", /*confirm=*/true);
  ASSERT_TRUE(confirmed) << confirmed.error().public_message;
  EXPECT_EQ((*confirmed)["phi_types"], json::array({"phone"}));
  EXPECT_EQ(services_->messages.Download(ana_, (*confirmed)["id"])->first_piece, csv);
  // An upload's record says so: an attachment's, not a message's.
  EXPECT_TRUE(AuditOf("message.phi_confirm").empty());
  const auto uploads = AuditOf("attachment.phi_confirm");
  ASSERT_FALSE(uploads.empty());
  EXPECT_EQ(json::parse(uploads.back().details_json)["content_screened"], true);
  EXPECT_EQ(uploads.back().details_json.find("617"), std::string::npos) << "no content in the audit";

  // block: nothing stored; a file with thousands of findings lists the first hundred and counts all.
  const SpaceId blocked = taking_text("block");
  std::string roster = "callback list\n";
  for (int i = 0; i < 1500; ++i) roster += "bed " + std::to_string(i % 40) + ": 617-555-01" + std::to_string(10 + i % 90) + "\n";
  auto refused = Upload(ana_, blocked, "roster.txt", roster, "text/plain", true);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().problem, "phi_blocked");
  const json refusal = json::parse(refused.error().extensions_json);
  EXPECT_EQ(refusal["findings"].size(), kMaxListedFindings);
  EXPECT_EQ(refusal["findings_total"], 1500);
  auto none = store_->Read([&](store::ReadTx& tx) { return tx.ListUnattachedBefore(clock_.NowMillis() + 1, 100); });
  ASSERT_TRUE(none);
  for (const AttachmentId id : *none) {
    auto a = store_->Read([&](store::ReadTx& tx) { return tx.FindAttachment(id); });
    ASSERT_TRUE(a && *a);
    EXPECT_NE((*a)->space_id, blocked) << "nothing stored in the blocking space";
  }

  // redact: the stored file is the redacted text, with its own size and hash.
  const SpaceId redacting = taking_text("redact");
  auto redacted = Upload(ana_, redacting, "callbacks.csv", csv, "text/csv");
  ASSERT_TRUE(redacted) << redacted.error().public_message;
  const std::string expected = "name,phone\nward clerk,[REDACTED:PHONE]\n";
  EXPECT_EQ((*redacted)["size"], expected.size());
  EXPECT_EQ((*redacted)["sha256"], crypto::Sha256Hex(expected));
  EXPECT_EQ(services_->messages.Download(ana_, (*redacted)["id"])->first_piece, expected);

  // hold: the message that carries the file waits for a moderator.
  const SpaceId holding = taking_text("hold");
  auto held_file = Upload(ben_, holding, "notes.md", "# Handover\nSSN 987-65-4321 on file\n", "text/markdown");
  ASSERT_TRUE(held_file) << held_file.error().public_message;
  auto held = PostWith(ben_, holding, {(*held_file)["id"].get<AttachmentId>()}, "handover notes");
  ASSERT_TRUE(held);
  EXPECT_EQ(held->Message()["state"], "held");

  // The template's limits come before the scan: a text too large for the space is refused as such.
  const SpaceId small = SpaceUnder("internal-community", [](json& d) {
    d["phi"] = "block";
    d["attachments"]["types"] = {"text/plain"};
    d["attachments"]["max_bytes"] = 1024;
  });
  auto large = Upload(ana_, small, "roster.txt", roster, "text/plain");
  ASSERT_FALSE(large);
  EXPECT_EQ(large.error().problem, "attachment_too_large");
  EXPECT_EQ(Upload(cy_, small, "roster.txt", roster, "text/plain").error().code, ErrorCode::kNotFound)
      << "no member, no scan";

  // Files that are not text are not read for PHI (their names still are): the same digits in a PNG
  // pass the blocking space.
  auto image = Upload(ana_, blocked, "scan.png", kPng + " 617-555-0142", "image/png");
  EXPECT_TRUE(image) << image.error().public_message;
}

// Whether someone is a patient is protected: an outsider (here a patient) who uploads a file is
// told what the scan finds without the patient index, as for their text. What the index alone
// finds in the file's name or content is kept from them, and the post that carries the file waits
// for a moderator, as a post whose text it found a patient's name in does.
TEST_F(AttachmentTest, AnOutsidersFileThePatientIndexAloneFlagsWaitsForReview) {
  ASSERT_TRUE(services_->governance.ImportPatients(officer_, "mrn,first,last\nA7654321,Zanele,Okonkwo-Barros\n"));
  const SpaceId circle = SpaceUnder("internal-community", [](json& d) {
    d["audience"] = "mixed";
    d["phi"] = "block";
    d["attachments"]["types"] = {"image/png", "text/plain"};
  });
  ben_.user.kind = AccountKind::kPatient;
  ASSERT_TRUE(store_->Write([&](store::WriteTx& tx) { return tx.UpdateUser(ben_.user); }));
  const std::string named = "I sat next to Zanele Okonkwo-Barros at the clinic\n";
  const std::string stranger = "I sat next to Wilhelmina Quarrendon at the clinic\n";

  // Staff are told, and the blocking space refuses the file.
  auto staff = Upload(ana_, circle, "visit.txt", named, "text/plain");
  ASSERT_FALSE(staff);
  EXPECT_EQ(staff.error().problem, "phi_blocked");
  EXPECT_NE(staff.error().extensions_json.find("\"name\""), std::string::npos);

  // The patient's uploads are taken alike, in the content or in the name, and say nothing.
  auto in_content = Upload(ben_, circle, "visit.txt", named, "text/plain");
  ASSERT_TRUE(in_content) << in_content.error().problem;
  auto in_name = Upload(ben_, circle, "Zanele Okonkwo-Barros.png");
  ASSERT_TRUE(in_name) << in_name.error().problem;
  auto plain = Upload(ben_, circle, "visit.txt", stranger, "text/plain");
  ASSERT_TRUE(plain) << plain.error().problem;
  for (const json* up : {&*in_content, &*in_name, &*plain}) {
    EXPECT_TRUE((*up)["phi_types"].empty()) << up->dump();
    EXPECT_EQ(up->find("withheld_types"), up->end()) << up->dump();
  }
  EXPECT_EQ(services_->messages.Download(ben_, (*in_content)["id"])->first_piece, named) << "nothing redacted";
  // The trail says what the index found, for moderators and auditors.
  const auto uploads = AuditOf("attachment.upload");
  ASSERT_GE(uploads.size(), 3u);
  EXPECT_EQ(json::parse(uploads[uploads.size() - 3].details_json)["withheld_types"], "name");
  EXPECT_EQ(json::parse(uploads[uploads.size() - 2].details_json)["withheld_types"], "name");
  EXPECT_FALSE(json::parse(uploads.back().details_json).contains("withheld_types"));

  // Every post waits for review and says nothing of why, the one carrying a stranger's name alike.
  for (const json* up : {&*in_content, &*in_name, &*plain}) {
    auto held = PostWith(ben_, circle, {(*up)["id"].get<AttachmentId>()}, "from my visit");
    ASSERT_TRUE(held) << held.error().problem;
    EXPECT_EQ(held->Message()["state"], "held");
    EXPECT_EQ(held->Message()["hold_reason"], "pre_moderation");
    EXPECT_TRUE(held->Message()["phi_types"].empty()) << held->Message().dump();
    // Approving it is judged by the rule in force, which tells the moderator what the index found.
    auto approved = services_->governance.Moderate(ana_, held->Message()["id"], {ModerationKind::kApprove, "fine", {}});
    if (up == &*plain) {
      ASSERT_TRUE(approved) << approved.error().problem;
      continue;
    }
    ASSERT_FALSE(approved);
    EXPECT_EQ(approved.error().problem, "phi_blocked");
    EXPECT_NE(approved.error().extensions_json.find("\"name\""), std::string::npos) << approved.error().extensions_json;
  }
}

// A file is screened when it is uploaded and posted later: a template changed in between decides
// at the post, from what the upload found. A file uploaded while PHI was allowed is not posted
// into a space that now blocks, redacts, holds or warns of PHI as if it had none.
TEST_F(AttachmentTest, APostAppliesTheTemplateInForceToFilesUploadedUnderAnother) {
  const std::string csv = "name,phone\nward clerk,617-555-0142\n";
  const SpaceId space = SpaceUnder("internal-community", [](json& d) {
    d["phi"] = "allow";
    d["attachments"]["types"] = {"image/png", "text/plain"};
  });
  for (const char* rule : {"allow", "warn", "hold", "block", "redact"}) {
    auto doc = governance::policy::ToJson(*governance::policy::FindBuiltIn("internal-community"));
    doc["key"] = std::string("rule-") + rule;
    doc["version"] = 1;
    doc["phi"] = rule;
    doc["attachments"]["types"] = {"image/png", "text/plain"};
    ASSERT_TRUE(store_->Write([&](store::WriteTx& tx) -> Status {
      return tx.InsertTemplate({doc["key"], 1, doc.dump(), 0, clock_.NowMillis()});
    }));
  }
  auto set_rule = [&](const char* rule) {
    ASSERT_TRUE(store_->Write([&](store::WriteTx& tx) { return tx.SetSpaceTemplate(space, std::string("rule-") + rule, 1); }));
  };
  auto upload_allowed = [&](const std::string& name, const std::string& content, const char* type) {
    set_rule("allow");
    auto up = Upload(ana_, space, name, content, type);
    EXPECT_TRUE(up) << up.error().public_message;
    return up ? (*up)["id"].get<AttachmentId>() : AttachmentId{0};
  };
  auto post = [&](std::vector<AttachmentId> ids, bool confirm) {
    Draft d;
    d.body = "see attached";
    d.attachment_ids = std::move(ids);
    d.confirm_phi = confirm;
    return services_->messages.Post(ana_, space, d);
  };
  // Allowed at upload, the findings are kept with the file all the same.
  const AttachmentId in_content = upload_allowed("callbacks.csv", csv, "text/csv");
  const AttachmentId in_name = upload_allowed("call 617-555-0142.png", kPng, "image/png");
  const AttachmentId clean = upload_allowed("scan.png", kPng, "image/png");

  set_rule("block");
  for (const AttachmentId id : {in_content, in_name}) {
    auto refused = post({clean, id}, true);
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().problem, "phi_blocked");
    const json problem = json::parse(refused.error().extensions_json);
    ASSERT_EQ(problem["findings"].size(), 1u);
    EXPECT_EQ(problem["findings"][0], (json{{"type", "phone"}, {"field", "attachment_ids/1"}, {"attachment_id", id}}));
  }
  const auto refusals = AuditOf("message.phi_refuse");
  ASSERT_EQ(refusals.size(), 2u);
  EXPECT_EQ(json::parse(refusals[0].details_json)["phi_types"], "phone");

  set_rule("redact");
  auto unredacted = post({in_content}, true);
  ASSERT_FALSE(unredacted);
  EXPECT_EQ(unredacted.error().problem, "attachment_phi_unredacted");

  set_rule("warn");
  auto warned = post({in_name}, false);
  ASSERT_FALSE(warned);
  EXPECT_EQ(warned.error().problem, "phi_warning");
  auto confirmed = post({in_name}, true);
  ASSERT_TRUE(confirmed) << confirmed.error().public_message;
  EXPECT_EQ(confirmed->Message()["state"], "published");
  EXPECT_EQ(confirmed->Message()["phi_types"], json::array({"phone"}));

  set_rule("hold");
  auto held = post({in_content}, true);
  ASSERT_TRUE(held) << held.error().public_message;
  EXPECT_EQ(held->Message()["state"], "held");
  EXPECT_EQ(held->Message()["hold_reason"], "phi");

  set_rule("block");
  auto without_phi = post({clean}, false);  // a file in which nothing was found passes any rule
  ASSERT_TRUE(without_phi) << without_phi.error().public_message;
  EXPECT_EQ(without_phi->Message()["phi_types"], json::array());

  // Uploaded under warn and confirmed then, a file is not asked about again at its post.
  set_rule("warn");
  auto confirmed_upload = Upload(ana_, space, "call 617-555-0142.png", kPng, "image/png", /*confirm=*/true);
  ASSERT_TRUE(confirmed_upload);
  auto posted = post({(*confirmed_upload)["id"].get<AttachmentId>()}, false);
  ASSERT_TRUE(posted) << posted.error().public_message;
}

// A file is stored and downloaded in pieces: the first with the permission checks, the rest one at
// a time, each the bytes that were sent; once the file is gone, the next piece is not found.
TEST_F(AttachmentTest, ALargeFileIsDownloadedAPieceAtATime) {
  std::string big = kPng;
  for (std::size_t i = 0; big.size() < 2 * store::kAttachmentPieceBytes + 1000; ++i) {
    big += static_cast<char>((i * 7919) % 251);
  }
  auto up = Upload(ana_, channel_, "echo.png", big);
  ASSERT_TRUE(up) << up.error().public_message;
  const AttachmentId id = (*up)["id"];
  auto posted = PostWith(ana_, channel_, {id});
  ASSERT_TRUE(posted);
  auto got = services_->messages.Download(ben_, id);
  ASSERT_TRUE(got);
  ASSERT_EQ(got->pieces, 3);
  EXPECT_EQ(got->first_piece.size(), static_cast<std::size_t>(store::kAttachmentPieceBytes));
  std::string whole = got->first_piece;
  for (std::int64_t piece = 1; piece < got->pieces; ++piece) {
    auto bytes = services_->messages.DownloadPiece(*got, piece);
    ASSERT_TRUE(bytes) << piece;
    whole += *bytes;
  }
  EXPECT_EQ(whole, big);
  EXPECT_EQ(crypto::Sha256Hex(whole), got->attachment.sha256);
  EXPECT_EQ(services_->messages.DownloadPiece(*got, 3).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(services_->messages.DownloadPiece(*got, 0).error().code, ErrorCode::kNotFound) << "the first came with it";
  // The whole content, as the dry run and the text screens read it.
  auto content = store_->Read([&](store::ReadTx& tx) { return tx.ReadAttachmentContent(id); });
  ASSERT_TRUE(content && *content);
  EXPECT_EQ(**content, big);

  // A stored piece of the wrong length is never passed on as the file.
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((dir_ / "rounds.db").c_str(), &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    const std::string sql = "UPDATE attachment_pieces SET bytes = x'00' WHERE piece = 2 AND attachment_id = " +
                            std::to_string(id);
    EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(db);
  }
  auto short_piece = services_->messages.DownloadPiece(*got, 2);
  ASSERT_FALSE(short_piece);
  EXPECT_EQ(short_piece.error().code, ErrorCode::kInternal);

  ASSERT_TRUE(services_->messages.Delete(ana_, posted->Message()["id"].get<MessageId>()));
  auto rest = services_->messages.DownloadPiece(*got, 1);
  ASSERT_FALSE(rest) << "deleted mid-download: the rest is gone";
  EXPECT_EQ(rest.error().code, ErrorCode::kNotFound);
}

TEST_F(AttachmentTest, ReadsInPhiBearingSpacesAreAuditedAndDeletedMessagesTakeTheirFiles) {
  const SpaceId clinical = SpaceUnder("clinical-team", [](json&) {});
  const AttachmentId id = Uploaded(ana_, clinical);
  auto posted = PostWith(ana_, clinical, {id}, "ECG");
  ASSERT_TRUE(posted);
  ASSERT_TRUE(services_->messages.Download(ben_, id));
  auto reads = AuditOf("attachment.read");
  ASSERT_EQ(reads.size(), 1u);
  EXPECT_EQ(reads[0].actor_id, ben_.user.id);
  EXPECT_EQ(reads[0].object_id, std::to_string(clinical));
  // Where PHI is never stored (redacted before storing), reads are not recorded.
  const SpaceId redacting = SpaceUnder("internal-community", [](json& d) { d["phi"] = "redact"; });
  const AttachmentId plain = Uploaded(ana_, redacting);
  ASSERT_TRUE(PostWith(ana_, redacting, {plain}, "x"));
  ASSERT_TRUE(services_->messages.Download(ben_, plain));
  EXPECT_EQ(AuditOf("attachment.read").size(), 1u);

  ASSERT_TRUE(services_->messages.Delete(ana_, posted->Message()["id"].get<MessageId>()));
  EXPECT_EQ(services_->messages.Download(ben_, id).error().code, ErrorCode::kNotFound);
  EXPECT_FALSE(Stored(id)) << "a deleted message's files are removed, content and all";
}

TEST_F(AttachmentTest, ALegalHoldKeepsTheFilesOfADeletedMessageForEDiscovery) {
  HoldDraft d{"Matter 9", "litigation", {ana_.user.id}, {}, std::nullopt, std::nullopt};
  ASSERT_TRUE(services_->retention.CreateHold(officer_, d));
  const AttachmentId id = Uploaded(ana_, channel_);
  auto posted = PostWith(ana_, channel_, {id}, "kept");
  ASSERT_TRUE(posted);
  const MessageId message = posted->Message()["id"];
  ASSERT_TRUE(services_->messages.Delete(ana_, message));
  EXPECT_EQ(services_->messages.Download(ben_, id).error().code, ErrorCode::kNotFound) << "gone for users";
  EXPECT_TRUE(Stored(id)) << "kept for e-discovery";
}

TEST_F(AttachmentTest, PurgesRemoveFilesAndUploadsNeverPostedGoAfterADay) {
  const SpaceId brief = SpaceUnder("internal-community", [](json& d) { d["retention_days"] = 30; });
  const AttachmentId posted_id = Uploaded(ana_, brief);
  ASSERT_TRUE(PostWith(ana_, brief, {posted_id}, "short-lived"));
  const AttachmentId draft_id = Uploaded(ben_, channel_);
  clock_.Advance(kDay / 2);
  const AttachmentId fresh_id = Uploaded(ben_, channel_);
  clock_.Advance(kDay / 2 + 1000);  // the draft upload is a day old, the fresh one half a day

  auto report = services_->retention.RunOnce(officer_);
  ASSERT_TRUE(report) << report.error().public_message;
  EXPECT_EQ(report->uploads_deleted, 1);
  EXPECT_EQ(report->attachments_deleted, 0);
  EXPECT_FALSE(Stored(draft_id));
  EXPECT_TRUE(Stored(fresh_id));
  EXPECT_TRUE(Stored(posted_id));
  ASSERT_EQ(AuditOf("retention.purge_uploads").size(), 1u);
  EXPECT_NE(AuditOf("retention.purge_uploads")[0].details_json.find(std::to_string(draft_id)), std::string::npos);

  clock_.Advance(31 * kDay);
  report = services_->retention.RunOnce(officer_);
  ASSERT_TRUE(report);
  EXPECT_EQ(report->messages_deleted, 1);
  EXPECT_EQ(report->attachments_deleted, 1);
  EXPECT_FALSE(Stored(posted_id));
}

TEST_F(AttachmentTest, AnUploaderTakesAnUnpostedFileBackOnlyTheirsAndOnlyBeforeItIsPosted) {
  const AttachmentId draft = Uploaded(ana_, channel_);
  EXPECT_EQ(services_->messages.RemoveUpload(ben_, draft).error().code, ErrorCode::kNotFound);
  ASSERT_TRUE(services_->messages.RemoveUpload(ana_, draft));
  EXPECT_FALSE(Stored(draft));
  EXPECT_EQ(services_->messages.RemoveUpload(ana_, draft).error().code, ErrorCode::kNotFound);
  const AttachmentId posted = Uploaded(ana_, channel_);
  ASSERT_TRUE(PostWith(ana_, channel_, {posted}, "sent"));
  auto refused = services_->messages.RemoveUpload(ana_, posted);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().problem, "attachment_posted");
  EXPECT_TRUE(Stored(posted));
  EXPECT_EQ(AuditOf("attachment.remove").size(), 1u);
}

TEST_F(AttachmentTest, AMessageWithFilesMayBeEditedToNoTextAndOneWithoutMayNot) {
  auto posted = PostWith(ana_, channel_, {Uploaded(ana_, channel_)}, "caption");
  ASSERT_TRUE(posted);
  auto cleared = services_->messages.Edit(ana_, posted->Message()["id"].get<MessageId>(), "  ", std::nullopt);
  ASSERT_TRUE(cleared) << cleared.error().problem;
  EXPECT_EQ((*cleared)["body"], "  ");
  EXPECT_EQ((*cleared)["attachments"].size(), 1u);
  auto text = PostWith(ana_, channel_, {}, "text only");
  ASSERT_TRUE(text);
  auto refused = services_->messages.Edit(ana_, text->Message()["id"].get<MessageId>(), " ", std::nullopt);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().problem, "empty_message");
}

// Uploads through a real ClamAV daemon: a file it names is refused and never stored, the attempt on
// the audit trail with the signature and the file's hash; a clean file is stored as before; and
// with the daemon gone, files are refused rather than stored unscanned.
class MalwareScanTest : public AttachmentTest {
 protected:
  static void SetUpTestSuite() { clamd_ = new av::testing::TestClamd(); }
  static void TearDownTestSuite() {
    delete clamd_;
    clamd_ = nullptr;
  }
  void Configure(Config& config) override {
    ASSERT_TRUE(clamd_->ready()) << "clamd did not start (scripts/setup.sh installs clamav-daemon); see " << clamd_->log();
    config.antivirus_address = clamd_->socket();
    config.antivirus_timeout_seconds = 10;
  }
  static inline av::testing::TestClamd* clamd_ = nullptr;
};

TEST_F(MalwareScanTest, AFileTheScannerNamesIsNeverStored) {
  // The test virus inside a text file a template takes, and inside a PNG: refused either way.
  const SpaceId space = SpaceUnder("internal-community", [](json& d) {
    d["attachments"]["types"] = {"image/png", "text/plain"};
  });
  auto infected = Upload(ana_, space, "notes.txt", "handover notes\n" + av::testing::Eicar() + "\n", "text/plain");
  ASSERT_FALSE(infected);
  EXPECT_EQ(infected.error().problem, "attachment_malware");
  EXPECT_NE(infected.error().public_message.find(av::testing::kEicarSignature), std::string::npos);
  auto in_png = Upload(ana_, space, "scan.png", kPng + av::testing::Eicar());
  ASSERT_FALSE(in_png);
  EXPECT_EQ(in_png.error().problem, "attachment_malware");

  auto unposted = store_->Read([&](store::ReadTx& tx) { return tx.ListUnattachedBefore(clock_.NowMillis() + 1, 100); });
  ASSERT_TRUE(unposted);
  EXPECT_TRUE(unposted->empty()) << "nothing stored";
  const auto records = AuditOf("attachment.malware");
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].outcome, AuditOutcome::kDenied);
  EXPECT_EQ(records[0].reason, av::testing::kEicarSignature);
  EXPECT_EQ(records[0].actor_id, ana_.user.id);
  const json details = json::parse(records[0].details_json);
  EXPECT_EQ(details["sha256"], crypto::Sha256Hex("handover notes\n" + av::testing::Eicar() + "\n"));

  // A clean file goes through the scanner and is stored as before.
  auto clean = Upload(ana_, space, "notes.txt", "handover notes\n", "text/plain");
  ASSERT_TRUE(clean) << clean.error().problem;
  EXPECT_TRUE(Stored((*clean)["id"]));
}

TEST_F(MalwareScanTest, WithTheScannerUnreachableFilesAreRefusedNotStoredUnscanned) {
  Config config;
  config.antivirus_address = "/nonexistent/clamd.sock";
  config.antivirus_timeout_seconds = 1;
  Services unscanned(*store_, bus_, clock_, config);
  UploadRequest u{"scan.png", "image/png", kPng, false};
  auto refused = unscanned.messages.Upload(ana_, channel_, u);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(refused.error().problem, "antivirus_unavailable");
  auto unposted = store_->Read([&](store::ReadTx& tx) { return tx.ListUnattachedBefore(clock_.NowMillis() + 1, 100); });
  ASSERT_TRUE(unposted);
  EXPECT_TRUE(unposted->empty());
}

}  // namespace
}  // namespace rounds::app
