#include "app/policy_engine.hpp"

#include <algorithm>
#include <optional>
#include <stdexcept>

#include "core/log.hpp"
#include "governance/phi/continuation.hpp"

namespace rounds::app {

Status CheckAttachmentRule(const policy::AttachmentRule& rule, std::size_t size,
                           const std::string& detected) {
  if (!rule.allowed) {
    return Fail(ErrorCode::kPolicyDenied, "attachments_not_allowed", "This space's policy does not allow files.");
  }
  if (static_cast<std::int64_t>(size) > rule.max_bytes) {
    return Fail(ErrorCode::kPayloadTooLarge, "attachment_too_large",
                "This space takes files of at most " + std::to_string(rule.max_bytes) + " bytes.");
  }
  if (!rule.types.empty() && std::find(rule.types.begin(), rule.types.end(), detected) == rule.types.end()) {
    std::string allowed;
    for (const auto& t : rule.types) allowed += (allowed.empty() ? "" : ", ") + t;
    return Fail(ErrorCode::kPolicyDenied, "attachment_type_not_allowed",
                "This space takes " + allowed + " files; this one is " + detected + ".");
  }
  return Ok();
}

PolicyEngine::PolicyEngine(const Config& config, std::string pseudonym_key)
    : config_(config), pseudonyms_(std::move(pseudonym_key)), index_(std::make_shared<phi::PatientIndex>()) {
  auto scanner = phi::Scanner::Create(phi::DefaultRuleSet(), index_);
  // The built-in rules compile on every supported Hyperscan; failing here is a packaging bug.
  if (!scanner) throw std::runtime_error("PHI scanner: " + scanner.error().internal_message);
  scanner_ = std::move(*scanner);
  if (!config.antivirus_address.empty()) {
    malware_ = av::MakeClamdScanner(config.antivirus_address,
                                    std::chrono::seconds(std::max<std::int64_t>(config.antivirus_timeout_seconds, 1)));
  }
}

std::string PolicyEngine::LoadPseudonymKey(store::Store& store) {
  auto key = store.Read([](store::ReadTx& tx) { return tx.ServerSecret("pseudonym_key"); });
  if (!key) throw std::runtime_error("the pseudonym key cannot be read: " + key.error().internal_message);
  return std::move(*key);
}

Result<av::Verdict> PolicyEngine::ScanForMalware(std::string_view content) const {
  if (!malware_) return av::Verdict{};
  return malware_->Scan(content);
}

Result<policy::PolicyTemplate> LoadTemplate(store::ReadTx& tx, const std::string& key, int version) {
  if (const auto* builtin = policy::FindBuiltIn(key); builtin && builtin->version == version) return *builtin;
  ROUNDS_ASSIGN_OR_RETURN(auto stored, tx.FindTemplate(key, version));
  if (!stored) {
    return Fail(ErrorCode::kNotFound, "template_not_found", "Template not found.",
                "template " + key + " v" + std::to_string(version));
  }
  auto parsed = policy::ParseTemplateText(stored->document);
  if (!parsed) return Internal("stored template " + key + " v" + std::to_string(version) + " no longer parses");
  return *parsed;
}

Result<int> LatestTemplateVersion(store::ReadTx& tx, const std::string& key) {
  int version = 0;
  if (const auto* builtin = policy::FindBuiltIn(key)) version = builtin->version;
  ROUNDS_ASSIGN_OR_RETURN(auto stored, tx.ListTemplates());
  for (const auto& t : stored) {
    if (t.key == key) version = std::max(version, t.version);
  }
  return version;
}

Result<policy::PolicyTemplate> PolicyEngine::Template(store::ReadTx& tx, const std::string& key, int version) const {
  if (const auto* builtin = policy::FindBuiltIn(key); builtin && builtin->version == version) return *builtin;
  {
    std::lock_guard lock(cache_mu_);
    for (const auto& t : cache_) {
      if (t.key == key && t.version == version) return t;
    }
  }
  ROUNDS_ASSIGN_OR_RETURN(auto loaded, LoadTemplate(tx, key, version));
  std::lock_guard lock(cache_mu_);
  cache_.push_back(loaded);
  return loaded;
}

Result<policy::PolicyTemplate> PolicyEngine::TemplateFor(store::ReadTx& tx, const domain::Space& space) const {
  return Template(tx, space.template_key, space.template_version);
}

std::vector<phi::Finding> PolicyEngine::Scan(std::string_view text) const {
  if (!safeguards_.phi_scan) return {};
  return scanner_->Scan(text);
}

std::string PolicyEngine::PatientRefs(std::string_view text, std::span<const phi::Finding> findings) const {
  const bool names = std::any_of(findings.begin(), findings.end(), [](const phi::Finding& f) {
    return f.type == phi::PhiType::kName || f.type == phi::PhiType::kMrn;
  });
  if (!names) return {};
  std::vector<std::string> refs;
  for (const std::string& mrn : index_->Snapshot()->PatientsIn(text, findings)) {
    refs.push_back(pseudonyms_.PatientRef(mrn));
  }
  return domain::JoinPatientRefs(std::move(refs));
}

std::vector<phi::Finding> PolicyEngine::ScanWithoutIndex(std::string_view text) const {
  if (!safeguards_.phi_scan) return {};
  std::call_once(unindexed_once_, [this] {
    auto unindexed = phi::Scanner::Create(phi::DefaultRuleSet(), nullptr);
    if (!unindexed) throw std::runtime_error("PHI scanner: " + unindexed.error().internal_message);
    unindexed_ = std::move(*unindexed);
  });
  return unindexed_->Scan(text);
}

std::size_t PolicyEngine::CarryHash::operator()(const CarryKey& k) const {
  std::uint64_t h = static_cast<std::uint64_t>(k.space) * 0x9E3779B97F4A7C15ull;
  h ^= static_cast<std::uint64_t>(k.thread) + 0xBF58476D1CE4E5B9ull + (h << 6) + (h >> 2);
  h ^= static_cast<std::uint64_t>(k.author) + 0x94D049BB133111EBull + (h << 6) + (h >> 2);
  return static_cast<std::size_t>(h);
}

namespace {

// Makes room for a new key in a map of remembered lines bounded at `max`: the expired go, then all.
template <typename Map, typename Key, typename At>
void MakeRoom(Map& map, const Key& key, std::size_t max, UnixMillis now, At at) {
  if (map.size() < max || map.contains(key)) return;
  std::erase_if(map, [&](const auto& entry) { return now - at(entry.second) > PolicyEngine::kCarryMillis; });
  if (map.size() >= max) map.clear();
}

bool Fresh(UnixMillis at, UnixMillis now) { return now >= at && now - at <= PolicyEngine::kCarryMillis; }

}  // namespace

void PolicyEngine::RememberPosted(domain::SpaceId space, domain::MessageId thread, domain::UserId author,
                                  std::string_view body, UnixMillis now, bool seen) const {
  if (!safeguards_.phi_scan) return;
  std::string tail = phi::CarriedTail(body);
  std::lock_guard lock(carried_mu_);
  if (seen) SeenLocked(space, thread, author, tail, now);
  const CarryKey key{space, thread, author};
  if (tail.empty()) {
    carried_.erase(key);
    return;
  }
  MakeRoom(carried_, key, kMaxCarried, now, [](const CarriedLine& line) { return line.at; });
  carried_[key] = CarriedLine{now, std::move(tail)};
}

void PolicyEngine::RememberApproved(domain::SpaceId space, domain::MessageId thread, domain::UserId author,
                                    std::string_view body, UnixMillis now) const {
  if (!safeguards_.phi_scan) return;
  std::string tail = phi::CarriedTail(body);
  std::lock_guard lock(carried_mu_);
  SeenLocked(space, thread, author, std::move(tail), now);
}

void PolicyEngine::SeenLocked(domain::SpaceId space, domain::MessageId thread, domain::UserId author, std::string tail,
                              UnixMillis now) const {
  const CarryKey key{space, thread, 0};
  MakeRoom(conversations_, key, kMaxCarried, now, [](const Conversation& c) { return c.last.at; });
  conversations_[key].Saw(author, now, std::move(tail));
}

void PolicyEngine::Recall(domain::SpaceId space, domain::MessageId thread, domain::UserId author,
                          std::span<const RecentPost> recent, UnixMillis now) const {
  if (!safeguards_.phi_scan) return;
  std::optional<CarriedLine> own;  // the author's newest post: what their next one continues
  for (const RecentPost& p : recent) {
    if (p.author == author && Fresh(p.at, now)) {
      own = CarriedLine{p.at, phi::CarriedTail(p.body)};
      break;
    }
  }
  // What members read, seen again in the order they came to read it (an approval counts from when
  // it was given, as RememberApproved has it).
  const auto since = [](const RecentPost& p) { return std::max(p.at, p.read_since); };
  std::vector<const RecentPost*> seen;
  for (auto p = recent.rbegin(); p != recent.rend(); ++p) {
    if (p->seen && Fresh(since(*p), now)) seen.push_back(&*p);
  }
  std::stable_sort(seen.begin(), seen.end(), [&](const RecentPost* a, const RecentPost* b) { return since(*a) < since(*b); });
  Conversation c;
  for (const RecentPost* p : seen) c.Saw(p->author, since(*p), phi::CarriedTail(p->body));
  std::lock_guard lock(carried_mu_);
  const CarryKey key{space, thread, author};
  if (!own || own->tail.empty()) {
    carried_.erase(key);
  } else {
    MakeRoom(carried_, key, kMaxCarried, now, [](const CarriedLine& line) { return line.at; });
    carried_[key] = std::move(*own);
  }
  const CarryKey conversation{space, thread, 0};
  if (c.last.author == 0) {
    conversations_.erase(conversation);
  } else {
    MakeRoom(conversations_, conversation, kMaxCarried, now, [](const Conversation& kept) { return kept.last.at; });
    conversations_[conversation] = std::move(c);
  }
}

std::string PolicyEngine::Carried(domain::SpaceId space, domain::MessageId thread, domain::UserId author,
                                  UnixMillis now) const {
  std::lock_guard lock(carried_mu_);
  auto it = carried_.find(CarryKey{space, thread, author});
  if (it == carried_.end() || !Fresh(it->second.at, now)) return {};
  return it->second.tail;
}

std::string PolicyEngine::Asked(domain::SpaceId space, domain::MessageId thread, domain::UserId author,
                                UnixMillis now) const {
  std::lock_guard lock(carried_mu_);
  auto it = conversations_.find(CarryKey{space, thread, 0});
  if (it == conversations_.end()) return {};
  const Conversation& c = it->second;
  const PostedLine& line = c.last.author != author ? c.last : c.other;
  if (line.author == 0 || line.author == author || !Fresh(line.at, now)) return {};
  return line.tail;
}

void PolicyEngine::SetPatients(std::vector<phi::PatientRecord> patients) { index_->Replace(patients); }

}  // namespace rounds::app
