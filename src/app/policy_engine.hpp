// The policy engine: which template version a space runs under, and the PHI scanner every write
// path consults. Owned by Services and shared by the services that write content; thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "av/malware_scanner.hpp"
#include "core/clock.hpp"
#include "core/config.hpp"
#include "core/result.hpp"
#include "governance/phi/scanner.hpp"
#include "governance/policy/policy_template.hpp"
#include "governance/policy/pseudonym.hpp"
#include "store/store.hpp"

namespace rounds::app {

namespace policy = governance::policy;
namespace phi = governance::phi;

// A template version without a cache: built-ins from the binary, others from the store.
Result<policy::PolicyTemplate> LoadTemplate(store::ReadTx& tx, const std::string& key, int version);

// The newest version of template `key`, built in or stored; 0 when there is none.
Result<int> LatestTemplateVersion(store::ReadTx& tx, const std::string& key);

// What a space's template says of a file: files at all (422 attachments_not_allowed), how large
// (413 attachment_too_large), which types (422 attachment_type_not_allowed).
Status CheckAttachmentRule(const policy::AttachmentRule& rule, std::size_t size, const std::string& detected);

// The governance work a post and a read pay for beyond authorization. Every server runs with
// both on; only the post benchmark switches them off, to measure what they cost. No configuration
// or request reaches this.
struct Safeguards {
  bool phi_scan = true;  // screen content for PHI before it is stored
  bool audit = true;     // record PHI decisions on posts and reads of PHI-bearing spaces
};

class PolicyEngine {
 public:
  // `pseudonym_key`: the server's secret for pseudonyms (LoadPseudonymKey).
  PolicyEngine(const Config& config, std::string pseudonym_key);

  // The server's secret for pseudonyms, from the store; throws when it cannot be read (the
  // database was not migrated), since no space with pseudonyms could be served without it.
  static std::string LoadPseudonymKey(store::Store& store);

  // How members of spaces with `pseudonyms` are named, and the ids they are known by.
  const policy::Pseudonyms& pseudonyms() const { return pseudonyms_; }

  // The template version `space` runs under: built-ins resolve without the store, others are
  // read from it (and cached: a version never changes once stored).
  Result<policy::PolicyTemplate> TemplateFor(store::ReadTx& tx, const domain::Space& space) const;
  Result<policy::PolicyTemplate> Template(store::ReadTx& tx, const std::string& key, int version) const;
  // How many times a space has been given another template version since the server started.
  // Read before asking whether a space is PHI-bearing, it says whether that answer may have
  // changed since: the count moves after the assignment commits and before its event is
  // published, so an event of the space after the assignment is seen with the new count.
  std::uint64_t Assignments() const { return assignments_.load(std::memory_order_acquire); }
  void NoteAssignment() { assignments_.fetch_add(1, std::memory_order_acq_rel); }

  // PHI findings in `text` (types, byte spans, confidence, rule ids).
  std::vector<phi::Finding> Scan(std::string_view text) const;
  // The findings of the same rules without the patient index: no name, no MRN or date found or
  // made more confident by it. What a patient is shown of their own text (see Screen).
  std::vector<phi::Finding> ScanWithoutIndex(std::string_view text) const;
  // The audit references (pseudonyms().PatientRef) of the patients in the index that `findings` of
  // `text` name (phi::PatientIndexSnapshot::PatientsIn), joined (domain::JoinPatientRefs); "" for
  // none. Costs nothing without a NAME or MRN finding.
  std::string PatientRefs(std::string_view text, std::span<const phi::Finding> findings) const;
  // Replaces the patient index the scanner matches names and MRNs against.
  void SetPatients(std::vector<phi::PatientRecord> patients);
  void UpsertPatient(const phi::PatientRecord& patient) { index_->Upsert(patient); }
  void RemovePatient(const std::string& mrn) { index_->Remove(mrn); }

  // The end of each author's last post in a conversation (a space's top level, or one thread),
  // kept in memory for kCarryMillis and never stored: what their next post there is also scanned
  // after (phi/continuation.hpp), so that PHI split between two posts is found in the second.
  // A post its members can read (`seen`: published, not held) is also what another author's next
  // post there is read as a reply to ("what's her dob?" / "3/4/1950"). Kept only where the space's
  // PHI rule is not allow. `thread`: the thread's first message, or 0.
  static constexpr UnixMillis kCarryMillis = 120'000;
  void RememberPosted(domain::SpaceId space, domain::MessageId thread, domain::UserId author,
                      std::string_view body, UnixMillis now, bool seen = true) const;
  // A post held for a moderator and approved at `now`: from then on members read it, so it is what
  // another author's next post there answers (as RememberPosted with `seen`); its author's own
  // memory is left as it is.
  void RememberApproved(domain::SpaceId space, domain::MessageId thread, domain::UserId author,
                        std::string_view body, UnixMillis now) const;
  // A post there was edited, deleted or taken down: what is remembered of the conversation
  // becomes what it now reads, so that the next post is read after the text members see. `recent`:
  // its posts that `author` (the changed post's) can read, newest first; those not sent within
  // kCarryMillis of `now` are passed over.
  struct RecentPost {
    domain::UserId author = 0;
    UnixMillis at = 0;  // sent
    std::string_view body;
    bool seen = false;  // members read it (published)
    UnixMillis read_since = 0;  // members read it from then: `at`, or when a moderator approved it
  };
  void Recall(domain::SpaceId space, domain::MessageId thread, domain::UserId author,
              std::span<const RecentPost> recent, UnixMillis now) const;
  // What RememberPosted kept of `author`'s last post in this conversation within kCarryMillis of
  // `now`; empty: nothing.
  std::string Carried(domain::SpaceId space, domain::MessageId thread, domain::UserId author, UnixMillis now) const;
  // What it kept of the newest post there that members can read by anyone but `author`, within
  // kCarryMillis of `now`: what `author`'s post answers. Empty: nothing.
  std::string Asked(domain::SpaceId space, domain::MessageId thread, domain::UserId author, UnixMillis now) const;

  // Whether uploads are scanned for malware (Config::antivirus_address names a daemon).
  bool ScansForMalware() const { return malware_ != nullptr; }
  // The malware scanner's verdict on an upload; clean when none is configured. Errors:
  // kUnavailable when the configured scanner cannot give one.
  Result<av::Verdict> ScanForMalware(std::string_view content) const;

  // For measurement only (bench/post); set before any request is served.
  void SetSafeguardsForMeasurement(Safeguards safeguards) { safeguards_ = safeguards; }
  bool Audits() const { return safeguards_.audit; }

 private:
  const Config& config_;
  policy::Pseudonyms pseudonyms_;
  std::shared_ptr<phi::PatientIndex> index_;
  std::unique_ptr<phi::Scanner> scanner_;
  // The same rules without the patient index, compiled on first use (patients' posts are few).
  mutable std::once_flag unindexed_once_;
  mutable std::unique_ptr<phi::Scanner> unindexed_;
  std::unique_ptr<av::MalwareScanner> malware_;  // null: uploads are not scanned
  Safeguards safeguards_;
  std::atomic<std::uint64_t> assignments_{0};
  mutable std::mutex cache_mu_;
  mutable std::vector<policy::PolicyTemplate> cache_;  // stored versions read so far; guarded

  struct CarryKey {
    domain::SpaceId space;
    domain::MessageId thread;
    domain::UserId author;
    friend bool operator==(const CarryKey&, const CarryKey&) = default;
  };
  struct CarryHash {
    std::size_t operator()(const CarryKey& k) const;
  };
  struct CarriedLine {
    UnixMillis at;
    std::string tail;
  };
  struct PostedLine {
    domain::UserId author = 0;  // 0: none
    UnixMillis at = 0;
    std::string tail;
  };
  // The newest post members can read in a conversation, and the newest before it by another
  // author: whoever posts next, one of them is someone else's.
  struct Conversation {
    PostedLine last;
    PostedLine other;
    // `author`'s post became readable at `at`: the newest, and the one before it by someone else.
    void Saw(domain::UserId author, UnixMillis at, std::string tail) {
      if (last.author != author) other = std::move(last);
      last = PostedLine{author, at, std::move(tail)};
    }
  };
  // At most this many conversations are remembered; past it the expired go, then all.
  static constexpr std::size_t kMaxCarried = 100'000;
  mutable std::mutex carried_mu_;
  mutable std::unordered_map<CarryKey, CarriedLine, CarryHash> carried_;  // guarded by carried_mu_
  // By conversation (CarryKey's author 0); guarded by carried_mu_, bounded as carried_ is.
  mutable std::unordered_map<CarryKey, Conversation, CarryHash> conversations_;
  // Makes `tail` the newest post members can read there; carried_mu_ held.
  void SeenLocked(domain::SpaceId space, domain::MessageId thread, domain::UserId author, std::string tail,
                  UnixMillis now) const;
};

}  // namespace rounds::app
