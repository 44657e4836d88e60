#include "domain/types.hpp"
#include "domain/governance.hpp"

#include <array>
#include <utility>

namespace rounds::domain {
namespace {

template <class E, std::size_t N>
std::optional<E> ParseFrom(const std::array<std::pair<E, std::string_view>, N>& table,
                           std::string_view s) {
  for (const auto& [value, name] : table) {
    if (name == s) return value;
  }
  return std::nullopt;
}

template <class E, std::size_t N>
std::string_view NameOf(const std::array<std::pair<E, std::string_view>, N>& table, E v) {
  for (const auto& [value, name] : table) {
    if (value == v) return name;
  }
  return "unknown";
}

constexpr std::array<std::pair<SpaceKind, std::string_view>, 3> kSpaceKinds{{
    {SpaceKind::kCommunity, "community"}, {SpaceKind::kChannel, "channel"},
    {SpaceKind::kDirect, "direct"}}};
constexpr std::array<std::pair<Visibility, std::string_view>, 2> kVisibilities{{
    {Visibility::kPublic, "public"}, {Visibility::kPrivate, "private"}}};
constexpr std::array<std::pair<JoinPolicy, std::string_view>, 2> kJoinPolicies{{
    {JoinPolicy::kOpen, "open"}, {JoinPolicy::kInvite, "invite"}}};
constexpr std::array<std::pair<MemberRole, std::string_view>, 4> kRoles{{
    {MemberRole::kReadOnly, "read_only"}, {MemberRole::kMember, "member"},
    {MemberRole::kModerator, "moderator"}, {MemberRole::kOwner, "owner"}}};
constexpr std::array<std::pair<MessageKind, std::string_view>, 6> kMessageKinds{{
    {MessageKind::kMessage, "message"}, {MessageKind::kDiscussion, "discussion"},
    {MessageKind::kQuestion, "question"}, {MessageKind::kIdea, "idea"},
    {MessageKind::kPoll, "poll"}, {MessageKind::kAnnouncement, "announcement"}}};
constexpr std::array<std::pair<AccountKind, std::string_view>, 2> kAccountKinds{{
    {AccountKind::kStaff, "staff"}, {AccountKind::kPatient, "patient"}}};
constexpr std::array<std::pair<MessageState, std::string_view>, 4> kMessageStates{{
    {MessageState::kPublished, "published"}, {MessageState::kHeld, "held"},
    {MessageState::kHidden, "hidden"}, {MessageState::kRemoved, "removed"}}};

constexpr std::array<std::pair<ModerationKind, std::string_view>, 5> kModerationKinds{{
    {ModerationKind::kApprove, "approve"}, {ModerationKind::kHide, "hide"}, {ModerationKind::kRemove, "remove"},
    {ModerationKind::kWarn, "warn"}, {ModerationKind::kSuspend, "suspend"}}};
constexpr std::array<std::pair<AppealOutcome, std::string_view>, 3> kAppealOutcomes{{
    {AppealOutcome::kNone, ""}, {AppealOutcome::kUpheld, "upheld"}, {AppealOutcome::kReversed, "reversed"}}};

}  // namespace

std::string_view ToString(SpaceKind v) { return NameOf(kSpaceKinds, v); }
std::string_view ToString(Visibility v) { return NameOf(kVisibilities, v); }
std::string_view ToString(JoinPolicy v) { return NameOf(kJoinPolicies, v); }
std::string_view ToString(MemberRole v) { return NameOf(kRoles, v); }
std::string_view ToString(MessageKind v) { return NameOf(kMessageKinds, v); }
std::string_view ToString(AccountKind v) { return NameOf(kAccountKinds, v); }
std::optional<SpaceKind> ParseSpaceKind(std::string_view s) { return ParseFrom(kSpaceKinds, s); }
std::optional<Visibility> ParseVisibility(std::string_view s) { return ParseFrom(kVisibilities, s); }
std::optional<JoinPolicy> ParseJoinPolicy(std::string_view s) { return ParseFrom(kJoinPolicies, s); }
std::optional<MemberRole> ParseMemberRole(std::string_view s) { return ParseFrom(kRoles, s); }
std::optional<MessageKind> ParseMessageKind(std::string_view s) { return ParseFrom(kMessageKinds, s); }
std::optional<AccountKind> ParseAccountKind(std::string_view s) { return ParseFrom(kAccountKinds, s); }
std::string_view ToString(MessageState v) { return NameOf(kMessageStates, v); }
std::optional<MessageState> ParseMessageState(std::string_view s) { return ParseFrom(kMessageStates, s); }
std::string_view ToString(ModerationKind v) { return NameOf(kModerationKinds, v); }
std::optional<ModerationKind> ParseModerationKind(std::string_view s) { return ParseFrom(kModerationKinds, s); }
std::string_view ToString(AppealOutcome v) { return NameOf(kAppealOutcomes, v); }
std::optional<AppealOutcome> ParseAppealOutcome(std::string_view s) { return ParseFrom(kAppealOutcomes, s); }

}  // namespace rounds::domain
