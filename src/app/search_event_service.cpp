#include <set>

#include "app/audit_log.hpp"
#include "app/internal.hpp"
#include "app/screening.hpp"

namespace rounds::app {

using namespace rounds::domain;

SearchService::SearchService(store::Store& store, const Clock& clock, const PolicyEngine& policy)
    : store_(store), clock_(clock), policy_(policy) {}

Result<json> SearchService::Search(const Actor& actor, const std::string& text, int limit, int offset) {
  if (!IsValidUtf8(text) || text.size() > 500) {
    return InvalidArgument("invalid_query", "A search is at most 500 characters of text.", "/q");
  }
  int n = internal::ClampLimit(limit, 20, 50);
  if (offset < 0 || offset > 10'000) return InvalidArgument("invalid_value", "cursor is out of range.", "/cursor");
  std::set<SpaceId> phi_spaces;  // PHI-bearing spaces among the hits
  std::size_t phi_hits = 0;
  domain::PatientSet phi_patients;  // whom the hits there name
  // Every message committed before the search is found by it, however the store batches indexing.
  ROUNDS_RETURN_IF_ERROR(store_.CatchUpSearch());
  ROUNDS_ASSIGN_OR_RETURN(json out, store_.Read([&](store::ReadTx& tx) -> Result<json> {
    ROUNDS_ASSIGN_OR_RETURN(Actor current, internal::Current(tx, actor));
    // The readable set is decided here, at query time: the searcher's spaces plus public ones.
    ROUNDS_ASSIGN_OR_RETURN(auto member_of, tx.ListSpaceIdsForUser(actor.user.id));
    std::set<SpaceId> readable(member_of.begin(), member_of.end());
    if (current.IsStaff()) {
      store::SpaceQuery pub;
      pub.public_only = true;
      pub.include_archived = true;
      pub.limit = 1000;
      while (true) {
        ROUNDS_ASSIGN_OR_RETURN(auto page, tx.ListSpaces(pub));
        for (const auto& s : page) readable.insert(s.id);
        if (page.size() < 1000) break;
        pub.after_id = page.back().id;
      }
    }
    ROUNDS_ASSIGN_OR_RETURN(auto hits, tx.SearchMessages({text, {readable.begin(), readable.end()}, n, offset}));
    internal::AuthorCache authors(tx, policy_);
    json messages = json::array();
    std::map<SpaceId, Space> spaces;
    for (const auto& hit : hits) {
      if (!spaces.contains(hit.message.space_id)) {
        ROUNDS_ASSIGN_OR_RETURN(auto space, tx.FindSpace(hit.message.space_id));
        if (!space) return Internal("search hit in a missing space");
        ROUNDS_ASSIGN_OR_RETURN(auto policy, policy_.TemplateFor(tx, *space));
        if (PhiBearing(policy)) phi_spaces.insert(space->id);
        spaces[space->id] = *space;
      }
      if (phi_spaces.contains(hit.message.space_id)) {
        ++phi_hits;
        if (!hit.message.deleted) phi_patients.Add(hit.message.patient_refs);
      }
      const Space& space = spaces[hit.message.space_id];
      ROUNDS_ASSIGN_OR_RETURN(json m, authors.Message(hit.message));
      messages.push_back(json{{"message", m},
                              {"space", SpaceRefJson(space)},
                              {"snippet", hit.snippet}});
    }
    json people = json::array();
    json found_spaces = json::array();
    if (offset == 0 && current.IsStaff()) {
      ROUNDS_ASSIGN_OR_RETURN(auto users, tx.ListUsers({.text = text, .limit = 10}));
      for (const auto& u : users) people.push_back(UserJson(u));
      store::SpaceQuery q;
      q.text = text;
      q.limit = 10;
      ROUNDS_ASSIGN_OR_RETURN(auto matching, tx.ListSpaces(q));
      for (const auto& s : matching) found_spaces.push_back(SpaceJson(s));
    }
    json next = hits.size() == static_cast<std::size_t>(n) ? json(std::to_string(offset + n)) : json(nullptr);
    return json{{"messages", messages}, {"people", people}, {"spaces", found_spaces}, {"next_cursor", next}};
  }));
  if (!phi_spaces.empty() && policy_.Audits()) {
    // The query text is not recorded: it may itself be PHI. Ids and counts only.
    auto record = AuditEntry(actor, "message.search", "user", std::to_string(actor.user.id), clock_.NowMillis());
    record.patient_ref = phi_patients.Joined();
    ROUNDS_RETURN_IF_ERROR(AuditNow(store_, std::move(record), json{{"space_ids", phi_spaces}, {"count", phi_hits}}));
  }
  return out;
}

EventService::EventService(store::Store& store, bus::Bus& bus, const Clock& clock, const PolicyEngine& policy)
    : store_(store), bus_(bus), clock_(clock), policy_(policy) {}

std::shared_ptr<const std::string> EventService::PlaceholderFrame(SpaceId space_id, Seq seq) {
  return std::make_shared<const std::string>(R"({"type":"event","space_id":)" + std::to_string(space_id) +
                                             R"(,"seq":)" + std::to_string(seq) +
                                             R"(,"event":"restricted","data":{}})");
}

std::shared_ptr<const std::string> EventService::EventFrame(const SpaceEvent& event) {
  // The payload is already JSON: splice it in rather than parse and re-serialize it.
  std::string frame = R"({"type":"event","space_id":)" + std::to_string(event.space_id) +
                      R"(,"seq":)" + std::to_string(event.seq) + R"(,"event":)" + json(event.type).dump() +
                      R"(,"data":)" + event.payload_json + "}";
  return std::make_shared<const std::string>(std::move(frame));
}

std::shared_ptr<const std::string> EventService::UserFrame(const std::string& event, const json& data) {
  return std::make_shared<const std::string>(json{{"type", "user"}, {"event", event}, {"data", data}}.dump());
}

Result<std::vector<ReplayedEvent>> EventService::Replay(const Actor& actor, const std::map<SpaceId, Seq>& cursors,
                                                        int limit_per_space) {
  std::map<SpaceId, SpaceRead> phi_replayed;  // PHI-bearing spaces with events replayed: what was read
  ROUNDS_ASSIGN_OR_RETURN(auto out, store_.Read([&](store::ReadTx& tx) -> Result<std::vector<ReplayedEvent>> {
    ROUNDS_RETURN_IF_ERROR(internal::Current(tx, actor).map([](auto&&) {}));
    std::vector<ReplayedEvent> out;
    for (const auto& [space_id, after] : cursors) {
      // Events stream to members only, live and replayed alike.
      ROUNDS_ASSIGN_OR_RETURN(auto membership, tx.FindMembership(space_id, actor.user.id));
      if (!membership) continue;
      ROUNDS_ASSIGN_OR_RETURN(auto events, tx.ListEvents(space_id, std::max<Seq>(0, after), limit_per_space));
      if (!events.empty()) {
        ROUNDS_ASSIGN_OR_RETURN(auto space, tx.FindSpace(space_id));
        if (!space) return Internal("events of a missing space");
        ROUNDS_ASSIGN_OR_RETURN(auto policy, policy_.TemplateFor(tx, *space));
        if (PhiBearing(policy)) phi_replayed[space_id].count = events.size();
      }
      bool moderator = membership->role >= MemberRole::kModerator;
      auto replayed = phi_replayed.find(space_id);
      for (const auto& e : events) {
        bool visible = e.restricted_to == 0 || moderator || e.restricted_to == actor.user.id;
        if (visible && replayed != phi_replayed.end()) {
          replayed->second.patients.Add(e.patient_refs);
        }
        out.push_back({e.space_id, e.seq, visible ? EventFrame(e) : PlaceholderFrame(e.space_id, e.seq)});
      }
    }
    return out;
  }));
  if (policy_.Audits()) {
    ROUNDS_RETURN_IF_ERROR(AuditSpaceReads(store_, actor, "message.replay", phi_replayed, clock_.NowMillis()));
  }
  return out;
}

namespace {

// Whether the space is PHI-bearing now; false for one purged since (what was read there is
// recorded nowhere else either).
Result<bool> PhiBearingNow(store::ReadTx& tx, const PolicyEngine& policy_engine, SpaceId space_id) {
  ROUNDS_ASSIGN_OR_RETURN(auto space, tx.FindSpace(space_id));
  if (!space) return false;
  ROUNDS_ASSIGN_OR_RETURN(auto policy, policy_engine.TemplateFor(tx, *space));
  return PhiBearing(policy);
}

// A "message.live" record of `read` in `space_id`.
std::pair<domain::AuditRecord, std::string> LiveReadRecord(const Actor& actor, SpaceId space_id, const LiveRead& read,
                                                           const char* state, UnixMillis now) {
  auto record = AuditEntry(actor, "message.live", "space", std::to_string(space_id), now);
  record.patient_ref = read.patients;
  return {std::move(record), json{{"count", read.count},
                                  {"from_seq", read.first_seq},
                                  {"to_seq", read.last_seq},
                                  {"from", read.first_at},
                                  {"to", read.last_at},
                                  {"state", state}}.dump()};
}

}  // namespace

Status EventService::RecordLiveReads(const Actor& actor, const std::map<SpaceId, LiveRead>& reads, bool socket_closed) {
  if (reads.empty() || !policy_.Audits()) return Ok();
  ROUNDS_ASSIGN_OR_RETURN(auto phi_spaces, store_.Read([&](store::ReadTx& tx) -> Result<std::vector<SpaceId>> {
    std::vector<SpaceId> out;
    for (const auto& [space_id, read] : reads) {
      ROUNDS_ASSIGN_OR_RETURN(bool phi, PhiBearingNow(tx, policy_, space_id));
      if (phi) out.push_back(space_id);
    }
    return out;
  }));
  if (phi_spaces.empty()) return Ok();
  const UnixMillis now = clock_.NowMillis();
  std::vector<std::pair<domain::AuditRecord, std::string>> records;
  for (SpaceId space_id : phi_spaces) {
    records.push_back(LiveReadRecord(actor, space_id, reads.at(space_id), socket_closed ? "closed" : "continuing", now));
  }
  return AuditAllNow(store_, records);
}

Result<bool> EventService::OpenLiveRead(const Actor& actor, SpaceId space_id, domain::Seq seq, const std::string& patients,
                                        UnixMillis at) {
  if (!policy_.Audits()) return false;
  ROUNDS_ASSIGN_OR_RETURN(bool phi, store_.Read([&](store::ReadTx& tx) { return PhiBearingNow(tx, policy_, space_id); }));
  if (!phi) return false;
  LiveRead opening;
  opening.first_seq = opening.last_seq = seq;
  opening.first_at = opening.last_at = at;
  opening.patients = patients;
  const auto record = LiveReadRecord(actor, space_id, opening, "opened", clock_.NowMillis());
  ROUNDS_RETURN_IF_ERROR(AuditAllNow(store_, {&record, 1}));
  return true;
}

Status EventService::Typing(const Actor& actor, SpaceId space_id) {
  UserId as_seen = actor.user.id;  // who is typing, as the space's members know them
  ROUNDS_ASSIGN_OR_RETURN(auto recipients, store_.Read([&](store::ReadTx& tx) -> Result<std::vector<UserId>> {
    ROUNDS_RETURN_IF_ERROR(internal::Current(tx, actor).map([](auto&&) {}));
    ROUNDS_ASSIGN_OR_RETURN(auto membership, tx.FindMembership(space_id, actor.user.id));
    if (!membership || membership->role == MemberRole::kReadOnly) return NotFound("Space");
    ROUNDS_ASSIGN_OR_RETURN(auto space, tx.FindSpace(space_id));
    if (!space) return NotFound("Space");
    ROUNDS_ASSIGN_OR_RETURN(auto policy, policy_.TemplateFor(tx, *space));
    as_seen = internal::MemberIdAsSeen(policy_, space_id, policy.pseudonyms, actor.user.id);
    ROUNDS_ASSIGN_OR_RETURN(auto ids, tx.ListMemberIds(space_id));
    std::erase(ids, actor.user.id);
    return ids;
  }));
  bus::Event e;
  e.space_id = 0;
  e.type = "typing";
  e.frame = std::make_shared<const std::string>(
      json{{"type", "typing"}, {"space_id", space_id}, {"user_id", as_seen}}.dump());
  e.recipients = std::make_shared<const std::vector<UserId>>(std::move(recipients));
  bus_.Publish(e);
  return Ok();
}

void EventService::Presence(const std::vector<UserId>& online, const std::vector<UserId>& offline,
                            std::uint64_t version) {
  bus::Event e;
  e.type = "presence";
  e.frame = std::make_shared<const std::string>(
      json{{"type", "presence"}, {"version", version}, {"online", online}, {"offline", offline}}.dump());
  e.recipients = nullptr;  // everyone connected who is staff: not patients, nor guests
  e.staff_only = true;
  bus_.Publish(e);
}

Services::Services(store::Store& store, bus::Bus& bus, const Clock& clock, const Config& config)
    : clock(clock),
      policy(config, PolicyEngine::LoadPseudonymKey(store)),
      auth(store, clock, config),
      directory(store, auth, clock),
      spaces(store, bus, clock, policy),
      messages(store, bus, clock, config, policy),
      search(store, clock, policy),
      events(store, bus, clock, policy),
      governance(store, bus, clock, policy),
      audit(store, clock, config),
      retention(store, clock, config, policy, auth),
      emergency(store, bus, clock, config, policy, auth) {}

}  // namespace rounds::app
