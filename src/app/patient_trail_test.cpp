// Which patients the audit trail says an action concerned: posts, edits, refusals, moderation and
// every read of a PHI-bearing space name the patients in the index that the text names, and a
// compliance officer finds them by MRN ("who saw this patient's information").
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "app/audit_service.hpp"
#include "app/service_test_support.hpp"

namespace rounds::app {
namespace {

using namespace rounds::domain;
using testing::Parsed;
using testing::ServiceTest;

class PatientTrailTest : public ServiceTest {
 protected:
  void SetUp() override {
    ServiceTest::SetUp();
    author_ = MakeUser("author");
    reader_ = MakeUser("reader");
    officer_ = MakeUser("privacy");
    UserPatch patch;
    patch.is_compliance = true;
    ASSERT_TRUE(services_->directory.UpdateUser(Actor::System(), officer_.user.id, patch));
    officer_.user.is_compliance = true;
    ASSERT_TRUE(services_->governance.ImportPatients(
        officer_, "mrn,first,last\n48213377,Maria,Garcia\nMR-55501234,Ahmed,Haddad\n31415926,Maria,Garcia\n"));
    maria_ = services_->policy.pseudonyms().PatientRef("48213377");
    maria_too_ = services_->policy.pseudonyms().PatientRef("31415926");  // another Maria Garcia
    ahmed_ = services_->policy.pseudonyms().PatientRef("MR55501234");
  }

  SpaceId SpaceUnder(const std::string& template_key, const json& changes = json::object()) {
    std::string key = template_key;
    if (!changes.empty()) {
      json doc = governance::policy::ToJson(*governance::policy::FindBuiltIn(template_key));
      key = template_key + "-changed-" + std::to_string(++templates_);
      doc["key"] = key;
      doc["name"] = "Changed " + template_key;
      for (auto& [k, v] : changes.items()) doc[k] = v;
      auto created = services_->governance.CreateTemplate(officer_, doc);
      EXPECT_TRUE(created) << created.error().public_message;
    }
    NewSpace s{SpaceKind::kCommunity, "Space " + key, "", Visibility::kPublic, JoinPolicy::kOpen, key};
    auto created = services_->spaces.Create(author_, s);
    EXPECT_TRUE(created) << created.error().public_message;
    const SpaceId id = created ? (*created)["id"].get<SpaceId>() : 0;
    EXPECT_TRUE(services_->spaces.AddMember(author_, id, reader_.user.id, MemberRole::kMember));
    return id;
  }

  // A clinical-team space that takes plain text files, under PHI rule `phi`.
  SpaceId TextFilesSpace(const std::string& phi = "allow") {
    json attachments = governance::policy::ToJson(*governance::policy::FindBuiltIn("clinical-team"))["attachments"];
    attachments["types"] = {"text/plain"};
    return SpaceUnder("clinical-team", json{{"phi", phi}, {"attachments", attachments}});
  }

  // The newest record of `action`.
  AuditRecord Last(const std::string& action) {
    auto records = AuditOf(action);
    EXPECT_FALSE(records.empty()) << action;
    return records.empty() ? AuditRecord{} : records.back();
  }

  // The actions of the records the officer finds by MRN, oldest first.
  std::vector<std::string> TrailOf(const std::string& mrn) {
    auto found = services_->audit.Search(officer_, {.limit = 200}, mrn);
    EXPECT_TRUE(found) << found.error().public_message;
    std::vector<std::string> actions;
    if (!found) return actions;
    for (const auto& item : (*found)["items"]) actions.push_back(item["action"].get<std::string>());
    std::reverse(actions.begin(), actions.end());
    return actions;
  }

  Actor author_, reader_, officer_;
  std::string maria_, maria_too_, ahmed_;
  int templates_ = 0;  // made by SpaceUnder
};

TEST_F(PatientTrailTest, APostAndEveryReadOfItNameThePatientsItNames) {
  const SpaceId clinical = SpaceUnder("clinical-team");
  json note = Post(author_, clinical, "Maria Garcia back from CT, MRN 48213377, stable");
  const MessageId id = note["id"].get<MessageId>();
  EXPECT_FALSE(note.contains("patient_refs")) << "never sent to clients";
  // Two Maria Garcias are in the index: the name is either's, the MRN hers.
  EXPECT_EQ(Last("message.create").patient_ref, JoinPatientRefs({maria_, maria_too_}));

  Post(author_, clinical, "bed 5 quiet");
  ASSERT_TRUE(services_->messages.List(reader_, clinical, {}));
  AuditRecord listed = Last("message.list");
  EXPECT_EQ(listed.actor_id, reader_.user.id);
  EXPECT_EQ(listed.patient_ref, JoinPatientRefs({maria_, maria_too_}));
  ASSERT_TRUE(services_->messages.Get(reader_, id));
  EXPECT_EQ(Last("message.read").patient_ref, JoinPatientRefs({maria_, maria_too_}));
  // A page kept rendered names them as the page read from the store did.
  ASSERT_TRUE(services_->messages.List(author_, clinical, {}));
  EXPECT_EQ(Last("message.list").patient_ref, JoinPatientRefs({maria_, maria_too_}));

  json reply = Post(reader_, clinical, "Ahmed Haddad next door asks for her", MessageKind::kMessage, id);
  ASSERT_TRUE(services_->messages.Thread(author_, id));
  EXPECT_EQ(Last("message.thread").patient_ref, JoinPatientRefs({maria_, maria_too_, ahmed_}));
  ASSERT_TRUE(services_->messages.Pin(author_, id, true));
  EXPECT_EQ(Last("message.read").patient_ref, JoinPatientRefs({maria_, maria_too_}));
  ASSERT_TRUE(services_->messages.Pins(reader_, clinical));
  EXPECT_EQ(Last("message.pins").patient_ref, JoinPatientRefs({maria_, maria_too_}));
  ASSERT_TRUE(services_->search.Search(reader_, "Haddad", 20, 0));
  EXPECT_EQ(Last("message.search").patient_ref, ahmed_);

  // The officer asks by MRN, however it is typed; the MRN itself is on no record.
  const std::vector<std::string> ahmed_trail = {"message.create", "message.thread", "message.search"};
  EXPECT_EQ(TrailOf("mr-55501234"), ahmed_trail);
  EXPECT_EQ(Last("audit.search").patient_ref, ahmed_);
  EXPECT_EQ(Last("audit.search").details_json.find("55501234"), std::string::npos);
  EXPECT_EQ(TrailOf("MR55501234"), (std::vector<std::string>{"message.create", "message.thread", "message.search",
                                                             "audit.search"}))
      << "the officer's own search is on the patient's trail";
  const std::vector<std::string> maria_trail = TrailOf("48213377");
  EXPECT_EQ(std::count(maria_trail.begin(), maria_trail.end(), "message.list"), 2);
  EXPECT_EQ(std::count(maria_trail.begin(), maria_trail.end(), "message.read"), 2);
  EXPECT_EQ(std::count(maria_trail.begin(), maria_trail.end(), "message.search"), 0);
  // Nobody else's: a patient no text named has searches of their trail on it, nothing more.
  ASSERT_TRUE(services_->governance.UpsertPatient(officer_, {"77700001", "Quentin", "Ashdown"}));
  EXPECT_EQ(TrailOf("77700001"), (std::vector<std::string>{"patients.upsert"}));
  (void)reply;
}

// What a message names is kept with it (Message::patient_refs) for the records of its reads.
TEST_F(PatientTrailTest, RedactedNamesAreOnTheWritesRecordButNotKeptWithWhatWasStored) {
  const SpaceId redacting = SpaceUnder("clinical-team", json{{"phi", "redact"}});
  json note = Post(author_, redacting, "Ahmed Haddad called about his results");
  EXPECT_EQ(note["body"].get<std::string>().find("Haddad"), std::string::npos);
  EXPECT_EQ(Last("message.phi_redact").patient_ref, ahmed_);
  auto stored = store_->Read([&](store::ReadTx& tx) { return tx.FindMessage(note["id"].get<MessageId>(), 0); });
  ASSERT_TRUE(stored && *stored);
  EXPECT_EQ((*stored)->patient_refs, "");

  const SpaceId clinical = SpaceUnder("clinical-team");
  note = Post(author_, clinical, "Ahmed Haddad called about his results");
  stored = store_->Read([&](store::ReadTx& tx) { return tx.FindMessage(note["id"].get<MessageId>(), 0); });
  ASSERT_TRUE(stored && *stored);
  EXPECT_EQ((*stored)->patient_refs, ahmed_);
}

TEST_F(PatientTrailTest, ARefusedPostNamesWhomItWouldHaveDisclosed) {
  const SpaceId forum = SpaceUnder("patient-forum");
  Draft d;
  d.body = "saw Ahmed Haddad at the clinic";
  auto refused = services_->messages.Post(author_, forum, d);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().problem, "phi_blocked");
  AuditRecord record = Last("message.phi_refuse");
  EXPECT_EQ(record.outcome, AuditOutcome::kDenied);
  EXPECT_EQ(record.patient_ref, ahmed_);
}

TEST_F(PatientTrailTest, AnEditNamesItsPatientsAndReadsAfterItNameEveryVersions) {
  const SpaceId clinical = SpaceUnder("clinical-team");
  const MessageId id = Post(author_, clinical, "bed 4 stable")["id"].get<MessageId>();
  EXPECT_EQ(Last("message.create").patient_ref, "");
  ASSERT_TRUE(services_->messages.Edit(author_, id, "bed 4 stable, Ahmed Haddad", std::nullopt, false));
  EXPECT_EQ(Last("message.edit").patient_ref, ahmed_);
  ASSERT_TRUE(services_->messages.List(reader_, clinical, {}));
  EXPECT_EQ(Last("message.list").patient_ref, ahmed_);
  // Edited out, the name is still in the message's history, which its moderators read beside it.
  ASSERT_TRUE(services_->messages.Edit(author_, id, "bed 4 stable", std::nullopt, false));
  EXPECT_EQ(Last("message.edit").patient_ref, "");
  ASSERT_TRUE(services_->messages.History(author_, id));
  EXPECT_EQ(Last("message.history").patient_ref, ahmed_);
  ASSERT_TRUE(services_->messages.Get(reader_, id));
  EXPECT_EQ(Last("message.read").patient_ref, ahmed_);
  // A deleted message is read as a placeholder, without its text: it names no one.
  ASSERT_TRUE(services_->messages.Delete(author_, id));
  ASSERT_TRUE(services_->messages.List(reader_, clinical, {}));
  EXPECT_EQ(Last("message.list").patient_ref, "");
}

TEST_F(PatientTrailTest, AModeratorsDecisionAndTheQueueNameThePatientsOfTheHeldPost) {
  const SpaceId holding = SpaceUnder("clinical-team", json{{"phi", "hold"}});
  auto held = services_->messages.Post(reader_, holding, Draft{.body = "Maria Garcia MRN 48213377 fell"});
  ASSERT_TRUE(held);
  ASSERT_EQ(held->Message()["state"], "held");
  EXPECT_EQ(Last("message.hold").patient_ref, JoinPatientRefs({maria_, maria_too_}));
  ASSERT_TRUE(services_->governance.Queue(author_, holding, 0, 50));
  EXPECT_EQ(Last("moderation.queue").patient_ref, JoinPatientRefs({maria_, maria_too_}));
  ModerationRequest approve;
  approve.kind = ModerationKind::kApprove;
  approve.reason = "ok";
  ASSERT_TRUE(services_->governance.Moderate(author_, held->Message()["id"].get<MessageId>(), approve));
  EXPECT_EQ(Last("moderation.approve").patient_ref, JoinPatientRefs({maria_, maria_too_}));
}

// An export is a read of everything in it: a space's conversation by its owner, or an e-discovery
// export by an officer, names every patient its messages name.
TEST_F(PatientTrailTest, ExportsNameEveryPatientOfTheMessagesTheyHold) {
  const SpaceId clinical = SpaceUnder("clinical-team", json{{"export_allowed", true}});
  Post(author_, clinical, "Maria Garcia MRN 48213377 to CT");
  Post(reader_, clinical, "bed 9 quiet");
  Post(reader_, clinical, "Haddad, Ahmed asked for water");
  ASSERT_TRUE(services_->messages.ExportSpace(author_, clinical, SpaceExportFormat::kText));
  EXPECT_EQ(Last("space.export").patient_ref, JoinPatientRefs({maria_, maria_too_, ahmed_}));

  store::ExportQuery query;
  query.space_ids = {clinical};
  query.custodian_ids = {reader_.user.id};
  ASSERT_TRUE(services_->retention.Export(officer_, query, (dir_ / "discovery").string()));
  EXPECT_EQ(Last("ediscovery.export").patient_ref, ahmed_) << "the custodian's messages only";
}

// A file's name and text are screened as a body is: its upload and each download name the
// patients they name; under a redact rule the file keeps none of them.
TEST_F(PatientTrailTest, AFilesUploadAndEveryDownloadNameThePatientsItNames) {
  const SpaceId clinical = TextFilesSpace();
  auto uploaded = services_->messages.Upload(
      author_, clinical, UploadRequest{"handover.txt", "text/plain", "Discharge: Haddad, Ahmed (MR-55501234)\n"});
  ASSERT_TRUE(uploaded) << uploaded.error().public_message;
  EXPECT_FALSE(uploaded->contains("patient_refs"));
  EXPECT_EQ(Last("attachment.upload").patient_ref, ahmed_);
  const AttachmentId file = (*uploaded)["id"].get<AttachmentId>();
  Draft d;
  d.body = "handover attached";
  d.attachment_ids = {file};
  ASSERT_TRUE(services_->messages.Post(author_, clinical, d));
  ASSERT_TRUE(services_->messages.Download(reader_, file));
  AuditRecord read = Last("attachment.read");
  EXPECT_EQ(read.actor_id, reader_.user.id);
  EXPECT_EQ(read.patient_ref, ahmed_);

  const SpaceId redacting = TextFilesSpace("redact");
  auto redacted = services_->messages.Upload(
      author_, redacting, UploadRequest{"notes.txt", "text/plain", "Maria Garcia MRN 48213377 seen\n"});
  ASSERT_TRUE(redacted) << redacted.error().public_message;
  EXPECT_EQ(Last("attachment.phi_redact").patient_ref, JoinPatientRefs({maria_, maria_too_}));
  auto kept = store_->Read([&](store::ReadTx& tx) { return tx.FindAttachment((*redacted)["id"].get<AttachmentId>()); });
  ASSERT_TRUE(kept && *kept);
  EXPECT_EQ((*kept)->patient_refs, "");
}

// A message's readers see the names of its files, not their content: each read of the message
// names whom its files' names name, and only a download names whom their content names. Before,
// a file named after a patient was read in every page that showed it with no one on the record.
TEST_F(PatientTrailTest, ReadsOfAMessageNameWhomItsFilesNamesName) {
  const SpaceId clinical = TextFilesSpace();
  auto uploaded = services_->messages.Upload(
      author_, clinical, UploadRequest{"Maria Garcia labs.txt", "text/plain", "Ahmed Haddad, MR-55501234: potassium 4.1\n"});
  ASSERT_TRUE(uploaded) << uploaded.error().public_message;
  EXPECT_EQ(Last("attachment.upload").patient_ref, JoinPatientRefs({maria_, maria_too_, ahmed_}));
  const AttachmentId file = (*uploaded)["id"].get<AttachmentId>();
  Draft d;
  d.body = "labs attached";
  d.attachment_ids = {file};
  auto posted = services_->messages.Post(author_, clinical, d);
  ASSERT_TRUE(posted) << posted.error().public_message;
  const MessageId id = posted->Message()["id"].get<MessageId>();
  EXPECT_EQ(Last("message.create").patient_ref, JoinPatientRefs({maria_, maria_too_}));

  ASSERT_TRUE(services_->messages.List(reader_, clinical, {}));
  EXPECT_EQ(Last("message.list").patient_ref, JoinPatientRefs({maria_, maria_too_})) << "the name, not the content";
  ASSERT_TRUE(services_->messages.Get(reader_, id));
  EXPECT_EQ(Last("message.read").patient_ref, JoinPatientRefs({maria_, maria_too_}));
  ASSERT_TRUE(services_->messages.Download(reader_, file));
  EXPECT_EQ(Last("attachment.read").patient_ref, JoinPatientRefs({maria_, maria_too_, ahmed_}));

  // A file whose name names no one adds no one; under a redact rule the name is kept without them.
  auto plain = services_->messages.Upload(author_, clinical, UploadRequest{"rota.txt", "text/plain", "Maria Garcia\n"});
  ASSERT_TRUE(plain) << plain.error().public_message;
  Draft rota;
  rota.body = "rota";
  rota.attachment_ids = {(*plain)["id"].get<AttachmentId>()};
  auto posted_rota = services_->messages.Post(author_, clinical, rota);
  ASSERT_TRUE(posted_rota) << posted_rota.error().public_message;
  ASSERT_TRUE(services_->messages.Get(reader_, posted_rota->Message()["id"].get<MessageId>()));
  EXPECT_EQ(Last("message.read").patient_ref, "");
  const SpaceId redacting = TextFilesSpace("redact");
  auto redacted = services_->messages.Upload(author_, redacting, UploadRequest{"Maria Garcia.txt", "text/plain", "ok\n"});
  ASSERT_TRUE(redacted) << redacted.error().public_message;
  auto kept = store_->Read([&](store::ReadTx& tx) { return tx.FindAttachment((*redacted)["id"].get<AttachmentId>()); });
  ASSERT_TRUE(kept && *kept);
  EXPECT_EQ((*kept)->name_patient_refs, "");
  EXPECT_NE((*kept)->name.find("[REDACTED:NAME]"), std::string::npos) << (*kept)->name;
}

TEST_F(PatientTrailTest, SearchesByPatientAreCheckedAndForOfficersOnly) {
  auto bad_mrn = services_->audit.Search(officer_, {}, "--");
  ASSERT_FALSE(bad_mrn);
  EXPECT_EQ(bad_mrn.error().problem, "invalid_value");
  auto bad_ref = services_->audit.Search(officer_, {.patient_ref = "Patient/48213377"});
  ASSERT_FALSE(bad_ref);
  EXPECT_EQ(bad_ref.error().problem, "invalid_value");
  auto both = services_->audit.Search(officer_, {.patient_ref = maria_}, "48213377");
  ASSERT_FALSE(both);
  EXPECT_EQ(both.error().problem, "invalid_value");
  auto by_ref = services_->audit.Search(officer_, {.patient_ref = maria_});
  ASSERT_TRUE(by_ref);
  auto denied = services_->audit.Search(reader_, {}, "48213377");
  ASSERT_FALSE(denied);
  EXPECT_EQ(denied.error().code, ErrorCode::kForbidden);
  // The denial is on the patient's trail, by reference, without the MRN.
  AuditRecord refused = Last("audit.search");
  EXPECT_EQ(refused.outcome, AuditOutcome::kDenied);
  EXPECT_EQ(refused.details_json.find("48213377"), std::string::npos);
}

TEST(PatientTrailExport, AFhirAuditEventHasOnePatientEntityPerPatient) {
  AuditRecord r;
  r.seq = 1;
  r.time = 1'700'000'000'000;
  r.actor_id = 4;
  r.actor_role = "staff";
  r.action = "message.list";
  r.object_type = "space";
  r.object_id = "9";
  r.patient_ref = "Patient/mrn-00000000000000aa Patient/mrn-00000000000000bb";
  const json event = json::parse(RenderAuditExport(std::vector<AuditRecord>{r}, AuditExportFormat::kFhir))["entry"][0]["resource"];
  std::vector<std::string> patients;
  for (const auto& entity : event["entity"]) {
    if (entity.contains("role") && entity["role"]["code"] == "1") patients.push_back(entity["what"]["reference"]);
  }
  EXPECT_EQ(patients, (std::vector<std::string>{"Patient/mrn-00000000000000aa", "Patient/mrn-00000000000000bb"}));
  EXPECT_EQ(event["action"], "R");
  // Pins and mentions are reads too, and an upload a creation.
  for (const auto& [action, code] : {std::pair<const char*, const char*>{"message.pins", "R"},
                                     {"message.mentions", "R"}, {"attachment.upload", "C"}}) {
    r.action = action;
    const json e = json::parse(RenderAuditExport(std::vector<AuditRecord>{r}, AuditExportFormat::kFhir))["entry"][0]["resource"];
    EXPECT_EQ(e["action"], code) << action;
  }
}

// What reaches members' open sockets without a request is read too. Each event a service
// publishes carries the patients its message names, for the socket to gather; the socket's
// reads are recorded per PHI-bearing space, naming them.
TEST_F(PatientTrailTest, LiveDeliveriesNameThePatientsOfWhatTheyCarried) {
  const SpaceId clinical = SpaceUnder("clinical-team");
  const SpaceId blocking = SpaceUnder("patient-forum");
  ClearPublished();
  const MessageId id = Post(author_, clinical, "Maria Garcia back from CT, MRN 48213377")["id"].get<MessageId>();
  ASSERT_TRUE(services_->messages.Edit(author_, id, "Maria Garcia back from CT, MRN 48213377; Ahmed Haddad next",
                                       std::nullopt, false));
  ASSERT_TRUE(services_->messages.Pin(author_, id, true));
  Post(author_, clinical, "bed 5 quiet");
  std::vector<std::pair<std::string, std::string>> carried;  // (type, patients) of the space's events
  for (const bus::Event& e : Published()) {
    if (e.space_id != clinical) continue;
    carried.emplace_back(e.type, e.patient_refs ? *e.patient_refs : std::string("(none)"));
  }
  const std::string both_marias = JoinPatientRefs({maria_, maria_too_});
  const std::string all_three = JoinPatientRefs({maria_, maria_too_, ahmed_});
  EXPECT_EQ(carried, (std::vector<std::pair<std::string, std::string>>{{"message.created", both_marias},
                                                                       {"message.edited", all_three},
                                                                       {"message.pinned", all_three},
                                                                       {"message.created", "(none)"}}));

  // A held post reaches its author and the moderators with its patients; the other members get a
  // placeholder, which carries nothing and names no one.
  const SpaceId holding = SpaceUnder("clinical-team", json{{"phi", "hold"}});
  const Actor bystander = MakeUser("bystander");
  ASSERT_TRUE(services_->spaces.AddMember(author_, holding, bystander.user.id, MemberRole::kMember));
  ClearPublished();
  ASSERT_TRUE(services_->messages.Post(reader_, holding, Draft{.body = "Ahmed Haddad fell, MRN MR-55501234"}));
  int held = 0, placeholders = 0;
  for (const bus::Event& e : Published()) {
    if (e.space_id != holding) continue;
    if (e.placeholder) {
      ++placeholders;
      EXPECT_EQ(e.patient_refs, nullptr);
    } else {
      ++held;
      ASSERT_NE(e.patient_refs, nullptr);
      EXPECT_EQ(*e.patient_refs, ahmed_);
    }
  }
  EXPECT_EQ(held, 1);
  EXPECT_EQ(placeholders, 1);

  // The socket's account: one record per PHI-bearing space, none for a space that blocks PHI or
  // one since purged, in one write unit.
  const std::size_t before = AuditOf("message.live").size();
  std::map<SpaceId, LiveRead> reads;
  reads[clinical] = LiveRead{.count = 4, .first_seq = 3, .last_seq = 6, .first_at = 1000, .last_at = 2500,
                             .patients = all_three};
  reads[blocking] = LiveRead{.count = 2, .first_seq = 7, .last_seq = 8, .first_at = 1100, .last_at = 1200};
  reads[999'999] = LiveRead{.count = 1, .first_seq = 1, .last_seq = 1, .first_at = 1100, .last_at = 1100};
  ASSERT_TRUE(services_->events.RecordLiveReads(reader_, reads, false));
  auto live = AuditOf("message.live");
  ASSERT_EQ(live.size(), before + 1);
  const AuditRecord& record = live.back();
  EXPECT_EQ(record.actor_id, reader_.user.id);
  EXPECT_EQ(record.object_type, "space");
  EXPECT_EQ(record.object_id, std::to_string(clinical));
  EXPECT_EQ(record.patient_ref, all_three);
  EXPECT_EQ(json::parse(record.details_json),
            (json{{"count", 4}, {"from_seq", 3}, {"to_seq", 6}, {"from", 1000}, {"to", 2500}, {"state", "continuing"}}));
  EXPECT_EQ(record.details_json.find("Garcia"), std::string::npos);
  // The officer finds it on Ahmed's trail, and it costs nothing when nothing PHI-bearing was sent.
  const std::vector<std::string> ahmed_trail = TrailOf("MR-55501234");
  EXPECT_EQ(std::count(ahmed_trail.begin(), ahmed_trail.end(), "message.live"), 1);
  ASSERT_TRUE(services_->events.RecordLiveReads(reader_, {{blocking, reads[blocking]}}, false));
  ASSERT_TRUE(services_->events.RecordLiveReads(reader_, {}, true));
  EXPECT_EQ(AuditOf("message.live").size(), before + 1);

  // At the close, "closed"; and before a socket's first event of a space, the opening: a record of
  // no events at that seq, naming that event's patients, for PHI-bearing spaces only.
  ASSERT_TRUE(services_->events.RecordLiveReads(reader_, {{clinical, reads[clinical]}}, true));
  EXPECT_EQ(json::parse(AuditOf("message.live").back().details_json)["state"], "closed");
  for (auto [space, written] : {std::pair{clinical, true}, {blocking, false}, {SpaceId{999'999}, false}}) {
    auto opened = services_->events.OpenLiveRead(reader_, space, 9, space == clinical ? ahmed_ : "", 3000);
    ASSERT_TRUE(opened);
    EXPECT_EQ(*opened, written) << space;
  }
  live = AuditOf("message.live");
  ASSERT_EQ(live.size(), before + 3);
  EXPECT_EQ(live.back().object_id, std::to_string(clinical));
  EXPECT_EQ(live.back().patient_ref, ahmed_);
  EXPECT_EQ(json::parse(live.back().details_json),
            (json{{"count", 0}, {"from_seq", 9}, {"to_seq", 9}, {"from", 3000}, {"to", 3000}, {"state", "opened"}}));
}

}  // namespace
}  // namespace rounds::app
