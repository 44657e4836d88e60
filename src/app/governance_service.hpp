// Governance for compliance officers and moderators: policy template versions and their
// assignment to spaces (with a dry run), the PHI check the composer previews, reports and the
// moderation queue, moderator actions and appeals, and the patient index the scanner matches.
//
// The write path itself (MessageService::Post/Edit, SpaceService) consults the same PolicyEngine;
// this service never stores content. Every change is audited in its own write unit.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "app/context.hpp"
#include "app/policy_engine.hpp"
#include "bus/bus.hpp"
#include "core/clock.hpp"
#include "core/result.hpp"
#include "store/store.hpp"

namespace rounds::app {

// The enabled compliance officers, who work every space's moderation queue and are told when any
// of them changes. Kept between reads and read again only once the store's change stamp says an
// account may have changed (ChangeStamp::everything), so that telling them of a held post does not
// read every account on the store's writer; a store without stamps is read every time.
// Thread-safe.
class ComplianceOfficers {
 public:
  explicit ComplianceOfficers(const store::Store& store) : store_(store) {}

  // The officers as of the last commit that could have changed them; read with `tx`, a write
  // unit's, when the list kept may be out of date (the writer sees every commit the stamp has
  // counted). A change made by an earlier unit of the same group commit is seen from the next
  // commit on. Errors: the store's.
  Result<std::vector<domain::UserId>> List(store::WriteTx& tx);

 private:
  const store::Store& store_;
  std::mutex mutex_;
  std::optional<std::uint64_t> read_at_;  // the stamp's `everything` when ids_ was read; guarded by mutex_
  std::vector<domain::UserId> ids_;       // guarded by mutex_
};

struct ModerationRequest {
  domain::ModerationKind kind = domain::ModerationKind::kApprove;
  std::string reason;
  std::optional<int> suspend_days;  // kSuspend: nullopt until lifted
};

class GovernanceService {
 public:
  GovernanceService(store::Store& store, bus::Bus& bus, const Clock& clock, PolicyEngine& policy);

  // ---- Templates (compliance officers) ----
  Result<nlohmann::json> ListTemplates(const Actor& actor);
  Result<nlohmann::json> GetTemplate(const Actor& actor, const std::string& key, int version);
  // A new template (version 1). kConflict "template_exists" when the key is taken; invalid_template
  // when the document is invalid or names a version other than 1.
  Result<nlohmann::json> CreateTemplate(const Actor& actor, const nlohmann::json& document);
  // The next version of `key` (built-ins included: their next version is stored). invalid_template
  // when the document is invalid, names another key (key_mismatch) or another version than the
  // one it becomes (version_mismatch); either may be left out.
  Result<nlohmann::json> NewVersion(const Actor& actor, const std::string& key, const nlohmann::json& document);
  Result<nlohmann::json> CloneTemplate(const Actor& actor, const std::string& key, const std::string& new_key,
                                       const std::string& name);
  Result<nlohmann::json> DiffTemplate(const Actor& actor, const std::string& key, int from, int to);
  // Validation only: {valid, issues[]}; never stores.
  static nlohmann::json ValidateTemplate(const nlohmann::json& document);
  Result<nlohmann::json> AssignTemplate(const Actor& actor, domain::SpaceId space_id, const std::string& key,
                                        int version, const std::string& reason);
  // What (key, version) would have done to the space's last `limit` messages; changes nothing.
  Result<nlohmann::json> DryRun(const Actor& actor, domain::SpaceId space_id, const std::string& key, int version,
                                int limit);

  // ---- PHI ----
  // The composer's preview: {action, findings} for a text about to be posted in the space, as
  // the post would be screened (after the author's previous post in the same conversation too:
  // the space's top level, or the thread of `thread` when not 0). With `editing`, the text is an
  // edit of that message of the actor's in the space, read between their posts around it as the
  // edit will be (404 when it is not theirs there).
  Result<nlohmann::json> PhiCheck(const Actor& actor, domain::SpaceId space_id, const std::string& body,
                                  const std::string& title, domain::MessageId thread = 0,
                                  domain::MessageId editing = 0);

  // ---- Moderation ----
  Result<nlohmann::json> Report(const Actor& actor, domain::MessageId message_id, const std::string& reason);
  // Moderators of `space_id`; compliance officers for every space (space_id nullopt).
  Result<nlohmann::json> Queue(const Actor& actor, std::optional<domain::SpaceId> space_id, domain::MessageId after_id,
                               int limit);
  Result<nlohmann::json> Moderate(const Actor& actor, domain::MessageId message_id, const ModerationRequest& request);
  Result<nlohmann::json> ListActions(const Actor& actor, std::optional<domain::SpaceId> space_id,
                                     bool pending_appeals_only, domain::ModerationActionId before_id, int limit);
  Result<nlohmann::json> MyActions(const Actor& actor);
  Result<nlohmann::json> Appeal(const Actor& actor, domain::ModerationActionId id, const std::string& text);
  Result<nlohmann::json> DecideAppeal(const Actor& actor, domain::ModerationActionId id, domain::AppealOutcome outcome,
                                      const std::string& reason);

  // ---- Patient index (compliance officers and administrators) ----
  // CSV with columns mrn, first, last. Returns {imported}.
  Result<nlohmann::json> ImportPatients(const Actor& actor, const std::string& csv);
  Result<nlohmann::json> UpsertPatient(const Actor& actor, const domain::PatientEntry& patient);
  Status DeletePatient(const Actor& actor, const std::string& mrn);
  Result<nlohmann::json> PatientCount(const Actor& actor);
  // Loads the stored index into the scanner (at start-up).
  Status LoadPatients();

 private:
  Status RequireCompliance(const Actor& actor) const;
  Status RequireAdminOrCompliance(const Actor& actor) const;
  Status ReloadPatients(store::ReadTx& tx);
  // Stores version 1 of a new template (the caller checked who may), audited with `audit_details`.
  Result<nlohmann::json> StoreNewTemplate(const Actor& actor, const nlohmann::json& document,
                                          const nlohmann::json& audit_details);

  store::Store& store_;
  bus::Bus& bus_;
  const Clock& clock_;
  PolicyEngine& policy_;
  ComplianceOfficers officers_;  // told when a queue changes
};

// JSON of a moderation action as clients see it.
nlohmann::json ModerationActionJson(const domain::ModerationAction& action);
// JSON of PHI findings (types and byte spans in `field`, never the text).
nlohmann::json FindingsJson(const std::vector<phi::Finding>& findings, const std::string& field);

}  // namespace rounds::app
