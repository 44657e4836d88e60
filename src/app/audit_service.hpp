// The audit trail for compliance officers — search, chain verification, export — and the signed
// checkpoints that anchor the chain outside the database.
//
// Checkpoints: while the server runs, a background thread signs (Ed25519) the chain head every
// config.audit_checkpoint_records records or config.audit_checkpoint_seconds seconds, whichever
// comes first, and at clean shutdown, appending one line to the checkpoint file (default
// <data_dir>/audit/checkpoints.log). The signing key lives in <data_dir>/audit/signing.key
// (owner-only, created on first start) and its public half in signing.pub; neither is in the
// database, so whoever can rewrite the database cannot forge a checkpoint, and a tail truncation or
// a rewrite of the whole chain no longer matches the last signed head.
//
// Search, verification and export are for compliance officers (User::is_compliance) and the system
// principal only; administrators are not compliance officers unless flagged. Everyone else gets
// kForbidden "compliance_required". Each use — and each refusal — is itself an audit record
// (audit.search, audit.verify, audit.export), written before any content is returned.
//
// Thread safety: all methods are thread-safe. Start/Stop are meant for the composition root.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "app/audit_tree.hpp"
#include "app/audit_witness.hpp"
#include "app/context.hpp"
#include "core/clock.hpp"
#include "core/config.hpp"
#include "core/open_file.hpp"
#include "core/result.hpp"
#include "governance/audit/audit_chain.hpp"
#include "store/store.hpp"

namespace rounds::app {

// Where the trail's anchors live for a configuration.
struct AuditFiles {
  std::string checkpoints;  // append-only, one signed checkpoint per line
  std::string signing_key;  // hex secret key, mode 0600
  std::string public_key;   // hex public key
  std::string last_verification;  // the last finished verification's report (JSON)
  std::string feed_cursor;        // the seq of the last record the audit feed sent
  std::string key_lock;           // <data_dir>/audit/signing.lock: see AuditKeyLock
  std::string next_signing_key;   // <signing key>.next: a key change's new key until it is done

  static AuditFiles For(const Config& config);
};

// An exclusive advisory lock (flock) on the audit folder's lock file, made when missing, held
// while it lives if it was free. A running server holds it for its life and a signing key change
// for its own, so the key is never changed under a server that signs with it.
class AuditKeyLock {
 public:
  explicit AuditKeyLock(const AuditFiles& files);
  ~AuditKeyLock();
  AuditKeyLock(const AuditKeyLock&) = delete;
  AuditKeyLock& operator=(const AuditKeyLock&) = delete;
  bool held() const { return fd_ >= 0; }
  bool unavailable() const { return unavailable_; }  // the lock file could not be made or opened

 private:
  int fd_ = -1;
  bool unavailable_ = false;
};

struct SigningKeyChange {
  std::string previous_public_key;  // hex
  std::string public_key;           // hex, the key that signs from now on
  std::int64_t seq = 0;             // the head both keys signed at the change
};

// Changes the audit trail's signing key (the server stopped): a new key is made and kept at
// `next_signing_key` (0600), the key in use signs a key change naming it over the last checkpoint's
// head (checkpoint version 3), the new key signs that head too, and the new key replaces the old
// one, whose secret is gone from then on. The public key file keeps the first key: it alone still
// checks every checkpoint, following the changes. Nothing in the database is read or written (the
// caller records the change). A change that stopped half-way is settled first.
// kConflict "audit_in_use" while a server (or another change) holds the lock; kInternal
// "audit_key_missing" without a key; kConflict "audit_not_anchored" when the file has no
// checkpoint, or its last is not signed by the key (a server would refuse to sign on it too).
Result<SigningKeyChange> ChangeSigningKey(const AuditFiles& files, UnixMillis now);
// Finishes or undoes a signing key change that stopped half-way; the caller holds the lock. The
// new key stands if the key change naming it reached the checkpoint file, and is removed if not.
Status SettleSigningKeyChange(const AuditFiles& files, UnixMillis now);

// Loads the signing key, creating the folder, the key (0600) and its public half on first use.
// kInternal when the files cannot be read or written, or hold no valid key.
Result<governance::audit::SigningKey> LoadOrCreateSigningKey(const AuditFiles& files, bool* created = nullptr);
// Reads a hex public key file (surrounding whitespace ignored). kNotFound when missing.
Result<std::string> ReadPublicKeyFile(const std::string& path);
// Every checkpoint in the file, oldest first, one line at a time (the file is never held whole);
// nothing when the file does not exist. A torn last line (a crash while appending) ends the
// file; any other malformed line is kInvalidArgument, naming it.
Status ForEachCheckpoint(const std::string& path,
                         const std::function<void(const governance::audit::Checkpoint&)>& visit);
// The same, collected: for files known to be short (tests, a few checks).
Result<std::vector<governance::audit::Checkpoint>> ReadCheckpoints(const std::string& path);
// The last checkpoint of the file, if any, in the memory of one line.
Result<std::optional<governance::audit::Checkpoint>> ReadLastCheckpoint(const std::string& path);
// The last checkpoint of the file that signs a Merkle root (seq > 0), of `seq` when given: what a
// proof is given against. Reads a few KiB, not the file: the end of it for the newest, and a
// search by seq (the file's seqs only grow) otherwise. Lines that do not parse are passed over.
Result<std::optional<governance::audit::Checkpoint>> FindRootedCheckpoint(const std::string& path,
                                                                          std::optional<std::int64_t> seq);
// The key changes of the file before `until`'s line (all of them when `until` is null or not
// there), oldest first: what a proof carries so that the first key's public half checks a
// checkpoint a later key signed.
Result<std::vector<governance::audit::Checkpoint>> KeyChangesBefore(const std::string& path,
                                                                    const governance::audit::Checkpoint* until);
// Appends one checkpoint line and flushes it to disk (fsync) before returning.
Status AppendCheckpoint(const std::string& path, const governance::audit::Checkpoint& checkpoint);

// Reads the whole chain from `store` and verifies it against `checkpoints` signed by
// `public_key_hex` (governance::audit::VerifyChain). The one verification used by the CLI, the
// HTTP API and the tests. Store errors are returned as errors, tampering as a report.
// `progress`, when given, hears how many records are checked every few thousand; an error it
// returns stops the walk and is returned.
using VerifyProgress = std::function<Status(std::int64_t records_checked)>;
Result<governance::audit::VerifyReport> VerifyStoredChain(store::Store& store,
                                                          std::span<const governance::audit::Checkpoint> checkpoints,
                                                          const std::string& public_key_hex,
                                                          const VerifyProgress& progress = nullptr);
// The same with the checkpoints already given to `verifier` (ChainVerifier::Expect), as read
// from a file a line at a time.
Result<governance::audit::VerifyReport> VerifyStoredChain(store::Store& store,
                                                          governance::audit::ChainVerifier verifier,
                                                          const VerifyProgress& progress = nullptr);
// A verifier expecting every checkpoint of the file at `path`, signed by `public_key_hex`.
Result<governance::audit::ChainVerifier> VerifierForCheckpointFile(const std::string& path,
                                                                    const std::string& public_key_hex);

// With a key (`public_key_hex` not empty), records, and no checkpoint at all, marks `report` as
// tampered: the server signs a checkpoint as soon as it has a key, so the file at
// `checkpoints_path` was removed or emptied. The CLI's and the server's verifications both judge so.
void RequireCheckpointsWithKey(governance::audit::VerifyReport& report, const std::string& checkpoints_path,
                               const std::string& public_key_hex);

// Opens the database at `database_path` (which must exist), reads the checkpoints at
// `checkpoints_path` and verifies with VerifyStoredChain — what `rounds audit verify` runs.
// With a key and records but no checkpoint at all, the trail is reported as tampered
// (RequireCheckpointsWithKey). Without a key, the caller decides what a trail never signed means.
// `database_key`: the key an encrypted database is encrypted under (empty for a plain one).
// `witness_path`: a collector's copy of what the witness sent (empty: none); every checkpoint in
// it is checked as those of the checkpoint file are, so a trail rewritten on this host together
// with its checkpoint file still fails against what left the host.
// kNotFound when the database or the witness file is missing; kInvalidArgument for a malformed
// checkpoint or witness file or a key that does not fit the database.
Result<governance::audit::VerifyReport> VerifyAuditFiles(const std::string& database_path,
                                                         const std::string& checkpoints_path,
                                                         const std::string& public_key_hex,
                                                         const std::string& database_key = {},
                                                         const std::string& witness_path = {});

enum class AuditExportFormat { kCsv, kNdjson, kFhir };
std::optional<AuditExportFormat> ParseAuditExportFormat(std::string_view text);
// "text/csv; charset=utf-8", "application/x-ndjson", "application/fhir+json".
std::string_view MediaType(AuditExportFormat format);

// The JSON document of one record (details parsed back into an object).
nlohmann::json AuditRecordJson(const domain::AuditRecord& record);
// One record as a FHIR R4 AuditEvent resource.
nlohmann::json FhirAuditEvent(const domain::AuditRecord& record);
// Renders records (oldest first) in `format`: CSV with a header row; NDJSON of AuditEvent
// resources; a FHIR "collection" Bundle of AuditEvent resources.
std::string RenderAuditExport(std::span<const domain::AuditRecord> records, AuditExportFormat format);

// Receives an export's text in order, a piece at a time; an error stops the export.
using ExportSink = std::function<Status(std::string_view)>;

// RenderAuditExport one record at a time: hands the text to `sink` in pieces of about 64 KiB, so
// an export of any length needs the memory of one piece. Add() each record, then Finish() once.
class AuditExportWriter {
 public:
  AuditExportWriter(AuditExportFormat format, ExportSink sink);
  Status Add(const domain::AuditRecord& record);
  Status Finish();
  std::size_t count() const { return count_; }

 private:
  Status FlushIfFull();
  AuditExportFormat format_;
  ExportSink sink_;
  std::string buffer_;
  std::size_t count_ = 0;
};

class AuthService;

class AuditService {
 public:
  AuditService(store::Store& store, const Clock& clock, const Config& config);
  ~AuditService();  // Stop()
  AuditService(const AuditService&) = delete;
  AuditService& operator=(const AuditService&) = delete;

  // Loads or creates the signing key, signs the current head if it is not yet checkpointed, and
  // starts the checkpoint thread. kInternal if the key or checkpoint file cannot be used.
  Status Start();
  // Stops the thread and signs the final head (clean shutdown). Idempotent.
  void Stop();
  // Signs and appends the current head unless it is already the last checkpoint. Needs Start().
  Status CheckpointNow();
  // Changes the signing key while the server runs, as ChangeSigningKey does with it stopped: the
  // head is signed now, the key in use hands over to a new key at it, the new key signs it too and
  // replaces the old one, and the witness is told both lines. audit.key_changed (naming both
  // public keys, the head's seq and `reason`) is then on the trail, and the next checkpoint, which
  // the new key signs, covers it. Compliance officers only (kForbidden "compliance_required", on
  // record), confirmed as AuthService::StepUp asks (its refusals, recorded as audit.key_change);
  // the system actor confirms nothing. kInvalidArgument "invalid_value" for a reason over 500
  // bytes; kConflict "audit_not_anchored" while nothing is signed (the trail does not continue its
  // last checkpoint); kInternal when the key or checkpoint files cannot be written — a change cut
  // off after its hand-over is finished, or nothing is signed until a restart settles it.
  Result<SigningKeyChange> ChangeKey(const Actor& actor, AuthService& auth, const Confirmation& confirmation,
                                     const std::string& reason);
  // The keys that sign the checkpoints, for an officer to compare with the public key kept off the
  // server: {anchor_public_key (the first key, signing.pub's, which checks every checkpoint),
  // public_key (the key signing now; null before Start), since, since_seq (when and at which record
  // it began to sign; null when unknown), changes: [{seq, time, previous_public_key, public_key}]
  // oldest first, change_days (config.audit_key_days), next_change_at (null when none is
  // scheduled, or while nothing is signed), problem (null, or why the list stops: a key change not signed by the key before
  // it)}. Only key changes each signed by the key before, from the anchor, are listed. Reading it
  // is not recorded; a refusal is (audit.signing_key).
  Result<nlohmann::json> SigningKeys(const Actor& actor);

  // Newest first; next_cursor pages back. {items: [...], next_cursor}. `patient_mrn`: only the
  // records about the patient with this MRN (its reference, policy::Pseudonyms::PatientRef, as
  // query.patient_ref); the MRN itself is on no record, the search's own names the reference.
  Result<nlohmann::json> Search(const Actor& actor, store::AuditQuery query, std::string_view patient_mrn = {});
  // Starts a verification of the whole chain and its checkpoints on a thread of its own, unless
  // one is running already (then it is the one reported). Its audit.verify record goes in first,
  // so the verdict covers it. A trail of 100 million records takes minutes: no request waits for
  // it. Returns VerificationStatus().
  Result<nlohmann::json> StartVerification(const Actor& actor);
  // The last finished verification (kept across restarts) and the one running, if any:
  // {ok, records_checked, checkpoints_checked, key_changes, first_bad_seq, problem, head_seq, checked_at,
  //  started_at, started_by, running, running_since, running_records_checked, signed_tree}, where
  // signed_tree is {size, root, time} of the last checkpoint that signs a Merkle root (or null). Before the first
  // verification the last one's fields are null. Reading it is not recorded (it shows no record);
  // a refusal is.
  Result<nlohmann::json> VerificationStatus(const Actor& actor);
  // Waits until no verification runs (tests, shutdown).
  void AwaitVerification();
  // The last verdict and whether one runs, for the server's metrics (no records, no caller).
  struct VerificationGauge {
    std::optional<bool> ok;  // none before the first verification
    UnixMillis checked_at = 0;
    bool running = false;
  };
  VerificationGauge LastVerdict() const;
  // RFC 9162 proofs over the trail's Merkle tree, against signed checkpoints (audit_tree.hpp's
  // proof documents): record `seq` in the signed tree of `tree_size` records; the signed tree of
  // `from` records a prefix of that of `to`. Omitted sizes mean the last checkpoint's. Each use,
  // and each refusal, is recorded (audit.proof).
  Result<nlohmann::json> InclusionProof(const Actor& actor, std::int64_t seq, std::optional<std::int64_t> tree_size);
  Result<nlohmann::json> ConsistencyProof(const Actor& actor, std::int64_t from, std::optional<std::int64_t> to);
  // The witness off the host (config.audit_witness), for the server's metrics: nullopt without one.
  std::optional<AuditWitness::Stats> WitnessState() const;
  // The records with time in [from, to) rendered in `format`.
  Result<std::string> Export(const Actor& actor, AuditExportFormat format, std::optional<UnixMillis> from,
                             std::optional<UnixMillis> to);
  // The same, handed to `sink` a piece at a time and never held whole; returns how many records.
  // The export's own record (audit.export, with the count) is on the trail before any record
  // leaves, and the export holds exactly the records counted then.
  Result<std::size_t> Export(const Actor& actor, AuditExportFormat format, std::optional<UnixMillis> from,
                             std::optional<UnixMillis> to, const ExportSink& sink);
  // The same, into a file with no name in the data folder (it goes with its last descriptor),
  // rewound for reading: what the HTTP API sends, from disk.
  Result<OpenFile> ExportToFile(const Actor& actor, AuditExportFormat format, std::optional<UnixMillis> from,
                                std::optional<UnixMillis> to);

 private:
  // A hand-over from one signing key to the next, as the checkpoint file holds it.
  struct KeyChangeEntry {
    std::int64_t seq = 0;
    UnixMillis time = 0;
    std::string previous_public_key;
    std::string public_key;
  };
  // Records the use (or refusal) of the trail; kForbidden "compliance_required" for others.
  Status RequireCompliance(const Actor& actor, const char* action, const nlohmann::json& details);
  void Run();
  // The audit feed's next records, as FHIR AuditEvents (config.audit_feed).
  Result<std::vector<FeedItem>> FeedItems(std::int64_t after, int limit);
  // Caller holds checkpoint_mutex_.
  Status CheckpointLocked();
  // The change itself, for ChangeKey and the schedule: the head signed, handed over, the new key
  // in use; `now` is set to the hand-over's time. Caller holds checkpoint_mutex_; the caller
  // records it (RecordKeyChange) outside.
  Result<SigningKeyChange> ChangeKeyLocked(UnixMillis& now);
  Status RecordKeyChange(const Actor& actor, const std::string& reason, const SigningKeyChange& change,
                         UnixMillis now);
  // The scheduled change (config.audit_key_days): due once the key in use has signed that long,
  // while the trail is anchored; one that fails is tried again an hour later. From Run().
  void ChangeKeyIfDue();
  // When and at which record the key in use began to sign (its hand-over, or the file's first line
  // for the first key), or nothing when unknown. Caller holds checkpoint_mutex_.
  std::optional<KeyChangeEntry> KeySinceLocked() const;
  // Why the trail does not continue checkpoint `last` (its signature under key_, its record's
  // hash), or "" when it does. Caller holds checkpoint_mutex_.
  Result<std::string> AnchorProblem(const governance::audit::Checkpoint& last);
  // The trail no longer continues what was signed, for `problem`: from now on nothing is signed,
  // and the log, the trail (audit.anchor_mismatch) and the verification status say why. Caller
  // holds checkpoint_mutex_.
  void UnanchorLocked(std::string problem);
  // Whether the checkpoint file is as this server last left it; if not, unanchors and returns
  // false. Caller holds checkpoint_mutex_.
  bool CheckpointFileIntactLocked();
  // Starts the verification thread for `actor` unless one runs; records audit.verify first.
  Status BeginVerification(const Actor& actor);
  void RunVerification(std::string started_by, UnixMillis started_at);
  nlohmann::json StatusLocked() const;  // caller holds verify_mutex_
  // StatusLocked() under the lock, and the last signed tree ({size, root, time}, or null).
  nlohmann::json CurrentStatus() const;
  // Refuses anyone but an officer, makes the proof, and records it (audit.proof) with `details`
  // and the document's `size_field`: the signed tree size it was proved against.
  Result<nlohmann::json> GiveProof(const Actor& actor, nlohmann::json details, std::string object_id,
                                   const char* size_field, const std::function<Result<nlohmann::json>()>& prove);
  UnixMillis LastCheckedAtLocked() const;  // 0 before the first verdict; caller holds verify_mutex_

  store::Store& store_;
  const Clock& clock_;
  const Config& config_;
  AuditFiles files_;
  // Sends each checkpoint, and a broken anchor, off the host; null without config.audit_witness.
  std::unique_ptr<AuditWitness> witness_;

  std::mutex checkpoint_mutex_;  // serializes checkpoint writes; guards the fields below
  std::optional<governance::audit::SigningKey> key_;
  std::string first_public_key_;              // hex: what every checkpoint is checked from
  std::unique_ptr<AuditKeyLock> key_lock_;    // held from the first Start() on
  // The key changes of the checkpoint file, each signed by the key before it from the first key's;
  // key_history_problem_ says why the list stops short, if it does.
  std::vector<KeyChangeEntry> key_changes_;
  std::string key_history_problem_;
  UnixMillis first_checkpoint_time_ = 0;  // of the checkpoint file's first line: the first key's start
  UnixMillis next_key_attempt_ = 0;   // a scheduled change that failed waits until then
  std::int64_t last_checkpoint_seq_ = 0;
  UnixMillis last_checkpoint_time_ = 0;
  // Whether the last checkpoint signs the tree's root (one signed before the tree does not: the
  // same head is signed again, with its root).
  bool last_checkpoint_rooted_ = false;
  AuditTreeKeeper tree_{store_};  // grown to each head signed
  // Set when the trail does not continue its last checkpoint (at Start) or the checkpoint file
  // changed under the server: then nothing is signed.
  std::string anchor_problem_;
  // The checkpoint file as this server last left it. Only the server appends to it, so any other
  // change while it runs (removed, replaced, cut short, written by something else) is tampering:
  // signing on would start a new file that vouches for whatever the trail then holds.
  struct FileIdentity {
    bool exists = false;
    bool unknown = false;  // stat failed for another reason than the file's absence
    std::uint64_t device = 0;
    std::uint64_t inode = 0;
    std::uint64_t size = 0;
    std::int64_t changed_ns = 0;  // st_ctim: a rewrite in place of the same size changes it
    bool operator==(const FileIdentity&) const = default;
  };
  static FileIdentity IdentityOf(const std::string& path);
  FileIdentity checkpoint_file_;
  bool checkpoint_unreadable_ = false;  // the warning is logged once until stat answers again

  std::mutex run_mutex_;  // guards stopping_ and thread_
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;

  mutable std::mutex verify_mutex_;  // guards the fields below
  std::condition_variable verify_done_;
  nlohmann::json last_verification_;  // null before the first
  std::string unanchored_problem_;    // anchor_problem_ as the status reports it; "" while anchored
  bool verifying_ = false;
  UnixMillis verifying_since_ = 0;
  std::thread verify_thread_;
  std::atomic<std::int64_t> verifying_checked_{0};
  std::atomic<bool> verify_cancel_{false};
  UnixMillis started_at_ = 0;  // of this process's Start(): the first scheduled run counts from it
};

}  // namespace rounds::app
