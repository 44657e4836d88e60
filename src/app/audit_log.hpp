// Writing the audit trail from app services. Every audited change appends its record inside the
// same store write unit as the change, so the two commit together or not at all; a denial or a
// read is recorded in a unit of its own before the answer leaves the server.
//
// Records carry ids, codes and reasons only — never message bodies or other free text a user
// typed. The chain (seq, prev_hash, hash) is filled here from the newest stored record; the single
// writer makes that consistent.
#pragma once

#include <cstddef>
#include <map>
#include <span>
#include <string>
#include <utility>

#include <nlohmann/json.hpp>

#include "app/context.hpp"
#include "core/clock.hpp"
#include "core/result.hpp"
#include "domain/audit.hpp"
#include "store/store.hpp"

namespace rounds::app {

// The role recorded for an actor: "system", "admin", "compliance", "patient" or "staff".
std::string AuditRole(const Actor& actor);

// A record about `actor` doing `action` to (object_type, object_id) at `now`, outcome success.
// Fills address and the session hash (SHA-256 of the session id, never the token).
domain::AuditRecord AuditEntry(const Actor& actor, std::string action, std::string object_type,
                               std::string object_id, UnixMillis now);

// Chains `record` after the newest stored record and appends it in this write unit.
// `details` must be a JSON object of ids, counts and codes.
Status AppendAudit(store::WriteTx& tx, domain::AuditRecord record, const nlohmann::json& details = nullptr);
// The same with the details already serialized (a JSON object): a unit on a hot path builds its
// record and details before it runs, so that the store's one writer thread only chains and
// stores them.
Status AppendSerializedAudit(store::WriteTx& tx, domain::AuditRecord record, std::string details_json);

// Appends one record in a write unit of its own (denials, failed sign-ins, reads of PHI-bearing
// content). Returns the store's error if the record could not be written: callers that record a
// read must not return the content then.
Status AuditNow(store::Store& store, domain::AuditRecord record, const nlohmann::json& details = nullptr);
// Several records, each with its details serialized, in one write unit of their own.
Status AuditAllNow(store::Store& store, std::span<const std::pair<domain::AuditRecord, std::string>> records);
// AuditNow for a caller that must not wait: `done` gets its answer (store::Store::RunWriteAsync).
void AuditNowAsync(store::Store& store, domain::AuditRecord record, const nlohmann::json& details,
                   std::function<void(Status)> done);

// The patients `messages` name (Message::patient_refs), joined: whom a read of them concerns. A
// deleted message is read without its text and names no one.
std::string PatientsRead(std::span<const domain::Message> messages);

// What a read took from one PHI-bearing space: how many items, naming which patients.
struct SpaceRead {
  std::size_t count = 0;
  domain::PatientSet patients;
  void Add(const domain::Message& m);  // one more item: `m`
};

// Records a read that reached into several PHI-bearing spaces: one `action` record per space,
// naming it and the patients read there, with {"count": items read from it}, all in one write
// unit. Nothing when `reads` is empty.
Status AuditSpaceReads(store::Store& store, const Actor& actor, const std::string& action,
                       const std::map<domain::SpaceId, SpaceRead>& reads, UnixMillis now);

}  // namespace rounds::app
