#include "app/audit_log.hpp"

#include <utility>
#include <vector>

#include "core/crypto.hpp"
#include "governance/audit/audit_chain.hpp"

namespace rounds::app {

std::string AuditRole(const Actor& actor) {
  if (actor.is_system) return "system";
  if (actor.user.id == 0) return "anonymous";
  if (actor.IsAdmin()) return "admin";  // an administrator acts as one only while elevated
  if (actor.user.is_compliance) return "compliance";
  if (actor.user.kind == domain::AccountKind::kPatient) return "patient";
  if (actor.user.is_guest) return "guest";
  return "staff";
}

domain::AuditRecord AuditEntry(const Actor& actor, std::string action, std::string object_type,
                               std::string object_id, UnixMillis now) {
  domain::AuditRecord r;
  r.time = now;
  r.actor_id = actor.is_system ? 0 : actor.user.id;
  r.actor_role = AuditRole(actor);
  r.action = std::move(action);
  r.object_type = std::move(object_type);
  r.object_id = std::move(object_id);
  r.address = actor.address;
  if (actor.session_id != 0) r.session_hash = crypto::Sha256Hex("session:" + std::to_string(actor.session_id)).substr(0, 32);
  return r;
}

namespace {

// Details hold ids, codes and the filters a caller gave; text that is not UTF-8 (from a caller
// that did not check it) is kept with U+FFFD in place of each bad byte rather than failing the
// record, and with it the action it records.
std::string DetailsText(const nlohmann::json& details) {
  return details.is_object() ? details.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) : "{}";
}

}  // namespace

Status AppendAudit(store::WriteTx& tx, domain::AuditRecord record, const nlohmann::json& details) {
  return AppendSerializedAudit(tx, std::move(record), DetailsText(details));
}

Status AppendSerializedAudit(store::WriteTx& tx, domain::AuditRecord record, std::string details_json) {
  record.details_json = std::move(details_json);
  ROUNDS_ASSIGN_OR_RETURN(auto head, tx.AuditHead());
  governance::audit::Chain(record, head.seq, head.hash);
  return tx.InsertAudit(record);
}

Status AuditNow(store::Store& store, domain::AuditRecord record, const nlohmann::json& details) {
  // Serialized here, on the caller's thread: the unit only chains and stores.
  const std::string text = DetailsText(details);
  return store.RunWrite([&](store::WriteTx& tx) { return AppendSerializedAudit(tx, record, text); });
}

Status AuditAllNow(store::Store& store, std::span<const std::pair<domain::AuditRecord, std::string>> records) {
  if (records.empty()) return Ok();
  return store.RunWrite([&](store::WriteTx& tx) -> Status {
    for (const auto& [record, details] : records) ROUNDS_RETURN_IF_ERROR(AppendSerializedAudit(tx, record, details));
    return Ok();
  });
}

void AuditNowAsync(store::Store& store, domain::AuditRecord record, const nlohmann::json& details,
                   std::function<void(Status)> done) {
  store.RunWriteAsync(
      [record = std::move(record), text = DetailsText(details)](store::WriteTx& tx) {
        return AppendSerializedAudit(tx, record, text);
      },
      std::move(done));
}

std::string PatientsRead(std::span<const domain::Message> messages) {
  domain::PatientSet patients;
  for (const domain::Message& m : messages) {
    if (!m.deleted) patients.Add(m.patient_refs);
  }
  return patients.Joined();
}

void SpaceRead::Add(const domain::Message& m) {
  ++count;
  if (!m.deleted) patients.Add(m.patient_refs);
}

Status AuditSpaceReads(store::Store& store, const Actor& actor, const std::string& action,
                       const std::map<domain::SpaceId, SpaceRead>& reads, UnixMillis now) {
  if (reads.empty()) return Ok();
  std::vector<std::pair<domain::AuditRecord, std::string>> records;
  for (const auto& [space_id, read] : reads) {
    domain::AuditRecord record = AuditEntry(actor, action, "space", std::to_string(space_id), now);
    record.patient_ref = read.patients.Joined();
    records.emplace_back(std::move(record), nlohmann::json{{"count", read.count}}.dump());
  }
  return AuditAllNow(store, records);
}

}  // namespace rounds::app
