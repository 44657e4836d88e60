// Retention and message lifespan, legal holds, e-discovery exports.
//
// Retention: a space's policy template may limit how long its messages are kept
// (retention_days) and how long they live (message_ttl_days); whichever is shorter applies.
// RunOnce purges what is past it, space by space, in batches of `retention_batch_size` messages:
// each batch is one store write unit that selects, purges (rows, edits, votes, reactions,
// mentions, reports, search entries; space events become content-free "message.purged" events
// with the same seq) and appends its audit record (ids and counts, never content). A run killed
// mid-way therefore leaves whole batches only; the next run closes it as interrupted (audited)
// and simply continues with what is still purgeable. Attachments join the purge as rows in the
// same unit. One run at a time per database, across processes: a run holds an advisory lock on
// RetentionLockPath() from start to end, and one started meanwhile (the server's background job,
// `rounds retention run`) is refused with kConflict "retention_running" and touches nothing.
//
// Legal holds (custodians, spaces, date range) override both retention and user deletes: a
// held message is never purged, and one deleted while held vanishes for users but keeps its text
// (and its files) for export. A custodian's messages, for a hold and for an export alike, are what
// they wrote anywhere and every message of the direct conversations they are part of, whoever
// wrote it (store::LegalHold says how "part of" is decided); not what others wrote in communities
// and channels they belong to. Holds and exports are for compliance officers (and the system
// actor) only; anyone else gets kForbidden "compliance_required" and the denial is audited.
// Running retention by hand is also open to administrators.
//
// Thread safety: every method may be called from any thread; runs in one process wait for each
// other. Start() runs RunOnce on a background thread every `retention_interval_seconds` (0:
// never) until Stop(); a tick that finds another process running retention skips.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "app/context.hpp"
#include "app/policy_engine.hpp"
#include "core/clock.hpp"
#include "core/config.hpp"
#include "core/open_file.hpp"
#include "core/result.hpp"
#include "store/store.hpp"

namespace rounds::app {

struct RetentionReport {
  std::int64_t run_id = 0;
  std::vector<std::int64_t> interrupted_run_ids;  // earlier runs killed mid-way, closed by this one
  int spaces_with_limits = 0;
  std::int64_t batches = 0;
  std::int64_t messages_deleted = 0;
  std::int64_t messages_scrubbed = 0;   // emptied, row kept while unpurgeable replies point at it
  std::int64_t events_scrubbed = 0;
  std::int64_t held_skipped = 0;          // past their cutoff, kept because a legal hold covers them
  std::int64_t attachments_deleted = 0;  // files of purged messages
  std::int64_t uploads_deleted = 0;      // uploads never posted, a day after they were made
  std::int64_t deletions_finished = 0;   // deleted messages a released hold had kept whole
  bool complete = true;                 // false when max_batches or Stop() cut the run short
};
nlohmann::json RetentionReportJson(const RetentionReport& report);

// The file whose flock(2) makes retention runs on a database exclusive: retention.lock in the
// folder that holds the database (the data folder, unless database_file puts it elsewhere).
std::string RetentionLockPath(const Config& config);

struct HoldDraft {
  std::string name;
  std::string reason;
  std::vector<domain::UserId> custodian_ids;
  std::vector<domain::SpaceId> space_ids;
  std::optional<UnixMillis> from;
  std::optional<UnixMillis> to;
};

// One file of an export, for download.
struct ExportFile {
  std::string content_type;
  OpenFile file;  // open for reading: sent from disk, never held in memory
  std::uint64_t bytes = 0;
};

// An export's files as one ZIP archive, in a file no name refers to.
struct ExportArchive {
  std::string file_name;  // export-<id>.zip
  OpenFile file;          // rewound, for reading
  std::uint64_t bytes = 0;
  std::string sha256;     // of the whole archive, as the audit records it
};

class AuthService;

class RetentionService {
 public:
  RetentionService(store::Store& store, const Clock& clock, const Config& config, const PolicyEngine& policy,
                   AuthService& auth);
  ~RetentionService();
  RetentionService(const RetentionService&) = delete;
  RetentionService& operator=(const RetentionService&) = delete;

  // Purges what is past retention or lifespan; at most `max_batches` batches (0: until done).
  // Compliance officers, administrators and the system actor. kConflict "retention_running" while
  // another process runs retention on the same database (this process's runs wait instead).
  Result<RetentionReport> RunOnce(const Actor& actor, int max_batches = 0);
  // The background job. Start() is idempotent; Stop() finishes the current batch and joins.
  // Start() first removes export folders under the data folder that no export record names, or
  // whose record says they were removed (RemoveUnrecordedExports).
  void Start();
  void Stop();
  // A folder under <data_dir>/exports whose export has no record: the process stopped after
  // writing its files and before the record and its audit entry were committed. It is patient
  // data no audit record covers, so it is removed (and that is recorded, ediscovery.discard).
  // Run at start, before any export can be running. Returns the ids removed.
  std::vector<std::string> RemoveUnrecordedExports();

  // Legal holds. kInvalidArgument when the hold names neither custodians nor spaces, or an
  // unknown user or space; ReleaseHold: kNotFound, kConflict "hold_released", then the refusals
  // of AuthService::StepUp for a wrong `confirmation` (audited as legal_hold.release).
  Result<nlohmann::json> CreateHold(const Actor& actor, const HoldDraft& draft);
  Result<nlohmann::json> ListHolds(const Actor& actor, bool include_released);
  Result<nlohmann::json> ReleaseHold(const Actor& actor, store::LegalHoldId id, const Confirmation& confirmation);

  // E-discovery. Writes messages.json, transcript.txt, edits.json, attachments.json and
  // manifest.json (every other file with its SHA-256 and size, the query, who, when) into
  // `out_dir` (created; must be empty or missing) and returns the manifest. kInvalidArgument for a
  // folder that cannot be used.
  Result<nlohmann::json> Export(const Actor& actor, const store::ExportQuery& query, const std::string& out_dir);
  // The same into <data_dir>/exports/<export id>/.
  Result<nlohmann::json> ExportToDataDir(const Actor& actor, const store::ExportQuery& query);
  // Newest first, `limit` (1..200) a page; `cursor` is the `next_cursor` of the page before.
  Result<nlohmann::json> ListExports(const Actor& actor, const std::string& cursor = {}, int limit = 200);
  // One file of an export made under the data folder: kNotFound for an unknown export or name.
  Result<ExportFile> ReadExportFile(const Actor& actor, const std::string& export_id, const std::string& name);
  // The export's five files in one ZIP archive, deflated, in a folder export-<id>/, each dated
  // when the export was made (the same export gives the same bytes). The manifest is checked
  // against the export's record and every file against the manifest first: kConflict
  // "export_altered" names the first that differs, and the refusal is audited. Exports under the
  // data folder for compliance officers; the system (the CLI) may archive any recorded export
  // whose folder is still there. Audited as ediscovery.download with the archive's SHA-256.
  Result<ExportArchive> ArchiveExport(const Actor& actor, const std::string& export_id);
  // Removes an export's files from the server once they were delivered (compliance officers; the
  // system, for the command line, also those it wrote elsewhere). The record stays, marked removed
  // by whom and when, and so does its audit; downloads then answer kConflict "export_removed", as
  // does a second removal. Audited as ediscovery.remove. Returns the export as ListExports gives it.
  // A wrong `confirmation`: AuthService::StepUp's refusals, after kNotFound and kConflict.
  Result<nlohmann::json> RemoveExport(const Actor& actor, const std::string& export_id,
                                      const Confirmation& confirmation);
  // Removes the files of exports under the data folder made more than `export_keep_days` ago
  // (ediscovery.remove, reason "expired", by the system); returns their ids. The background job
  // runs it after each retention run.
  std::vector<std::string> ExpireExports();

 private:
  Result<Actor> RequireCompliance(const Actor& actor, const char* action, bool admin_allowed = false);
  // The officer's confirmation of `action`; nothing for the system actor.
  Status Confirm(const Actor& current, const Confirmation& confirmation, const char* action);
  Status RemoveExportFiles(const Actor& current, const store::ExportRecord& record, const char* reason);
  Result<nlohmann::json> WriteExport(const Actor& actor, const std::string& export_id,
                                     const store::ExportQuery& query, const std::string& out_dir);
  void Loop();

  store::Store& store_;
  const Clock& clock_;
  const Config& config_;
  const PolicyEngine& policy_;
  AuthService& auth_;

  std::mutex run_mu_;                   // one retention run at a time
  std::mutex thread_mu_;
  std::condition_variable wake_;
  bool stopping_ = false;               // guarded by thread_mu_
  std::atomic<bool> stop_requested_{false};
  std::thread worker_;                  // guarded by thread_mu_
};

}  // namespace rounds::app
