// Writing the audit trail from app services. Every audited change appends its record inside the
// same store write unit as the change, so the two commit together or not at all; a denial or a
// read is recorded in a unit of its own before the answer leaves the server.
//
// Records carry ids, codes and reasons only — never message bodies or other free text a user
// typed. The chain (seq, prev_hash, hash) is filled here from the newest stored record; the single
// writer makes that consistent.
#pragma once

#include <string>
#include <utility>
#include <vector>

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

// Appends one record in a write unit of its own (denials, failed sign-ins, reads of PHI-bearing
// content). Returns the store's error if the record could not be written: callers that record a
// read must not return the content then.
Status AuditNow(store::Store& store, domain::AuditRecord record, const nlohmann::json& details = nullptr);

// The same for a read that touched several spaces: every record, chained in order, in one unit.
Status AuditNow(store::Store& store, const std::vector<std::pair<domain::AuditRecord, nlohmann::json>>& records);

}  // namespace rounds::app
