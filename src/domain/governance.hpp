// Governance records: stored policy template versions, reports, moderation actions, suspensions
// and the patient index. Plain data, like types.hpp.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/clock.hpp"
#include "domain/types.hpp"

namespace rounds::domain {

// A policy template version a compliance officer created (built-ins are not stored).
struct StoredTemplate {
  std::string key;
  int version = 1;
  std::string document;        // the template's JSON document as validated
  UserId created_by = 0;
  UnixMillis created_at = 0;
};

using ReportId = std::int64_t;
struct Report {
  ReportId id = 0;
  MessageId message_id = 0;
  SpaceId space_id = 0;
  UserId reporter_id = 0;
  std::string reason;
  UnixMillis created_at = 0;
  UnixMillis resolved_at = 0;  // 0 while open
};

enum class ModerationKind { kApprove, kHide, kRemove, kWarn, kSuspend };
enum class AppealOutcome { kNone, kUpheld, kReversed };
std::string_view ToString(ModerationKind v);
std::optional<ModerationKind> ParseModerationKind(std::string_view s);
std::string_view ToString(AppealOutcome v);
std::optional<AppealOutcome> ParseAppealOutcome(std::string_view s);

using ModerationActionId = std::int64_t;
struct ModerationAction {
  ModerationActionId id = 0;
  SpaceId space_id = 0;
  std::optional<MessageId> message_id;
  UserId target_user_id = 0;   // the author acted on
  UserId moderator_id = 0;
  ModerationKind kind = ModerationKind::kApprove;
  std::string reason;
  UnixMillis created_at = 0;
  std::string appeal_text;     // the author's one appeal
  UnixMillis appealed_at = 0;  // 0: not appealed
  AppealOutcome appeal_outcome = AppealOutcome::kNone;
  std::string appeal_reason;
  UserId appeal_decided_by = 0;
  UnixMillis appeal_decided_at = 0;
};

struct ModerationActionQuery {
  std::optional<SpaceId> space_id;
  std::vector<SpaceId> space_ids;  // one of these spaces (empty: any), as ListModerationQueue takes them
  std::optional<UserId> target_user_id;
  bool pending_appeals_only = false;
  ModerationActionId before_id = 0;  // 0: newest
  int limit = 50;
};

struct Suspension {
  SpaceId space_id = 0;
  UserId user_id = 0;
  UnixMillis until = 0;        // 0: until lifted
  ModerationActionId action_id = 0;
};

// One entry of the organization's patient index (PHI: never logged, never audited by value).
struct PatientEntry {
  std::string mrn;
  std::string first;
  std::string last;
};

}  // namespace rounds::domain
