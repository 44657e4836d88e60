#include "app/retention_service.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <functional>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <utility>

#include "app/audit_log.hpp"
#include "app/internal.hpp"
#include "app/services.hpp"
#include "core/crypto.hpp"
#include "core/log.hpp"
#include "core/text_fold.hpp"
#include "core/thread_name.hpp"
#include "core/zip_writer.hpp"

namespace rounds::app {

using namespace rounds::domain;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

constexpr std::int64_t kDayMillis = 24LL * 60 * 60 * 1000;
constexpr int kExportPage = 500;
constexpr std::size_t kMaxHoldIds = 1000;
constexpr std::size_t kMaxKeywords = 50;
constexpr std::size_t kMaxKeywordChars = 200;

// The files of an export, in manifest order; downloads are limited to these names.
constexpr const char* kExportFiles[] = {"messages.json", "transcript.txt", "edits.json", "attachments.json",
                                        "manifest.json"};

json OptionalMillis(const std::optional<UnixMillis>& at) { return at ? json(*at) : json(nullptr); }

json HoldJson(const store::LegalHold& h) {
  return json{{"id", h.id},
              {"name", h.name},
              {"reason", h.reason},
              {"custodian_ids", h.custodian_ids},
              {"space_ids", h.space_ids},
              {"from", OptionalMillis(h.from)},
              {"to", OptionalMillis(h.to)},
              {"created_by", h.created_by},
              {"created_at", h.created_at},
              {"released_by", h.released_by ? json(*h.released_by) : json(nullptr)},
              {"released_at", OptionalMillis(h.released_at)},
              {"active", !h.released_at}};
}

// What the audit may say about a hold or a query: ids and times, never names, reasons or keywords
// (free text that could carry PHI); keywords are counted.
json HoldAuditDetails(const store::LegalHold& h) {
  return json{{"custodian_ids", h.custodian_ids}, {"space_ids", h.space_ids}, {"from", OptionalMillis(h.from)},
              {"to", OptionalMillis(h.to)}};
}

json QueryJson(const store::ExportQuery& q) {
  return json{{"custodian_ids", q.custodian_ids}, {"space_ids", q.space_ids}, {"from", OptionalMillis(q.from)},
              {"to", OptionalMillis(q.to)}, {"keywords", q.keywords}};
}

json QueryAuditDetails(const store::ExportQuery& q) {
  json j = QueryJson(q);
  j.erase("keywords");
  j["keyword_count"] = q.keywords.size();
  return j;
}

json ExportRecordJson(const store::ExportRecord& e) {
  json query = json::parse(e.query_json, nullptr, false);
  return json{{"id", e.id}, {"created_by", e.created_by}, {"created_at", e.created_at},
              {"query", query.is_discarded() ? json::object() : query}, {"message_count", e.message_count},
              {"file_count", e.file_count}, {"manifest_sha256", e.manifest_sha256},
              {"removed_at", OptionalMillis(e.removed_at)},
              {"removed_by", e.removed_by ? json(*e.removed_by) : json(nullptr)}};
}

// The people and spaces a hold or an export names, and who made it, as they are called now: to an
// officer reading the list, ids say nothing. An id whose account or space is gone is left out of
// these lists (its id stays in the record's own).
Status AddNames(store::ReadTx& tx, json& item, const std::vector<UserId>& custodian_ids,
                const std::vector<SpaceId>& space_ids, UserId created_by) {
  json custodians = json::array();
  for (UserId id : custodian_ids) {
    ROUNDS_ASSIGN_OR_RETURN(auto user, tx.FindUser(id));
    if (user) custodians.push_back(UserRefJson(*user));
  }
  json spaces = json::array();
  for (SpaceId id : space_ids) {
    ROUNDS_ASSIGN_OR_RETURN(auto space, tx.FindSpace(id));
    if (!space) continue;
    ROUNDS_ASSIGN_OR_RETURN(json ref, internal::NamedSpaceRef(tx, *space));
    spaces.push_back(std::move(ref));
  }
  item["custodians"] = std::move(custodians);
  item["spaces"] = std::move(spaces);
  ROUNDS_ASSIGN_OR_RETURN(auto creator, created_by != 0 ? tx.FindUser(created_by) : Result<std::optional<User>>(std::nullopt));
  item["created_by_user"] = creator ? UserRefJson(*creator) : json(nullptr);
  // A released hold names who released it, and a removed export who removed it, as they name who
  // made them (the system, 0, is no one's account).
  for (const char* field : {"released_by", "removed_by"}) {
    if (auto by = item.find(field); by != item.end() && by->is_number_integer()) {
      const UserId id = by->get<UserId>();
      ROUNDS_ASSIGN_OR_RETURN(auto user, id != 0 ? tx.FindUser(id) : Result<std::optional<User>>(std::nullopt));
      item[std::string(field) + "_user"] = user ? UserRefJson(*user) : json(nullptr);
    }
  }
  return Ok();
}

// The shorter of the template's retention and lifespan, in days; nullopt: keep forever.
std::optional<int> LimitDays(const policy::PolicyTemplate& t) {
  if (t.retention_days && t.message_ttl_days) return std::min(*t.retention_days, *t.message_ttl_days);
  return t.retention_days ? t.retention_days : t.message_ttl_days;
}

Status ValidateQuery(const store::ExportQuery& q) {
  if (q.custodian_ids.size() > kMaxHoldIds || q.space_ids.size() > kMaxHoldIds) {
    return InvalidArgument("too_many_items", "At most 1000 custodians and 1000 spaces.");
  }
  if (q.keywords.size() > kMaxKeywords) return InvalidArgument("too_many_items", "At most 50 keywords.", "/keywords");
  for (const auto& k : q.keywords) {
    if (k.empty() || k.size() > kMaxKeywordChars) {
      return InvalidArgument("invalid_value", "Each keyword has 1 to 200 characters.", "/keywords");
    }
    // Matching drops combining marks: a keyword of marks alone would be '', found in every text;
    // one of spaces alone would be found in nearly every text.
    const std::string folded = FoldForMatching(k);
    if (std::all_of(folded.begin(), folded.end(), [](unsigned char c) { return std::isspace(c) != 0; })) {
      return InvalidArgument("invalid_value", "Each keyword needs a letter, digit or sign, not only accents or spaces.",
                             "/keywords");
    }
  }
  if (q.from && q.to && *q.from >= *q.to) return InvalidArgument("invalid_range", "'from' must be before 'to'.", "/from");
  return Ok();
}

// The one retention run of a database, across processes: an exclusive flock(2) on a file beside
// it, held from before the run opens its row until after it closes it. The kernel lets go when
// the holding process dies, so a run that takes the lock knows that an open row is a killed run's,
// never a live one's.
class RunLock {
 public:
  // kConflict "retention_running" while another run holds it.
  static Result<RunLock> TryAcquire(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) return Internal("cannot open " + path + ": " + std::strerror(errno));
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      const int error = errno;
      ::close(fd);
      if (error == EWOULDBLOCK) {
        return Fail(ErrorCode::kConflict, "retention_running",
                    "A retention run is already in progress; try again when it has finished.",
                    "retention lock " + path + " is held");
      }
      return Internal("cannot lock " + path + ": " + std::strerror(error));
    }
    return RunLock(fd);
  }
  RunLock(RunLock&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  RunLock& operator=(RunLock&&) = delete;
  ~RunLock() {
    if (fd_ >= 0) ::close(fd_);  // and with it the lock
  }

 private:
  explicit RunLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

// Writes `text` to `path`; kInternal on any I/O failure.
Status WriteFile(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
  out.close();
  if (!out) return Internal("cannot write export file " + path.string());
  return Ok();
}

// One file of an export, written a piece at a time, its size and SHA-256 kept as it goes.
class ExportFileWriter {
 public:
  ExportFileWriter(fs::path path, std::string name) : path_(std::move(path)), name_(std::move(name)) {
    out_.open(path_, std::ios::binary | std::ios::trunc);
  }
  Status Append(std::string_view text) {
    out_.write(text.data(), static_cast<std::streamsize>(text.size()));
    if (!out_) return Internal("cannot write export file " + path_.string());
    hash_.Update(text);
    bytes_ += text.size();
    return Ok();
  }
  // The manifest's entry for the file: {name, bytes, sha256}.
  Result<json> Close() {
    out_.close();
    if (!out_) return Internal("cannot write export file " + path_.string());
    std::string sha256 = hash_.FinishHex();
    if (sha256.empty()) return Internal("cannot hash export file " + path_.string());
    return json{{"name", name_}, {"bytes", bytes_}, {"sha256", sha256}};
  }

 private:
  fs::path path_;
  std::string name_;
  std::ofstream out_;
  crypto::Sha256Stream hash_;
  std::size_t bytes_ = 0;
};

// A JSON array written an element at a time, laid out exactly as dump(2) lays out the whole
// array (JSON text holds no raw line breaks, so indenting after each one is safe).
class JsonArrayFile {
 public:
  JsonArrayFile(fs::path path, std::string name) : file_(std::move(path), std::move(name)) {}
  Status Add(const json& element) {
    const std::string text = element.dump(2);
    std::string out = count_ == 0 ? "[\n  " : ",\n  ";
    out.reserve(out.size() + text.size() + text.size() / 8);
    for (const char c : text) {
      out.push_back(c);
      if (c == '\n') out += "  ";
    }
    ++count_;
    return file_.Append(out);
  }
  Result<json> Close() {
    ROUNDS_RETURN_IF_ERROR(file_.Append(count_ == 0 ? "[]\n" : "\n]\n"));
    return file_.Close();
  }
  std::size_t count() const { return count_; }

 private:
  ExportFileWriter file_;
  std::size_t count_ = 0;
};

// One line of the transcript body, indented by nesting and with edits and deletions marked.
std::string TranscriptLine(const Message& m, const std::string& author, std::size_t edit_count,
                           const std::optional<store::HeldDeletion>& held) {
  std::string line;
  internal::AppendTranscriptLead(line, m, author, held ? held->title : m.title, held ? held->body : m.body);
  if (edit_count > 0) line += "  {edited " + std::to_string(edit_count) + "x; earlier versions in edits.json}";
  if (m.deleted) {
    line += held ? "  {DELETED " + FormatIso8601(held->deleted_at) + "; text kept under legal hold}"
                 : std::string("  {DELETED; text not retained}");
  }
  if (m.state != MessageState::kPublished) line += "  {" + std::string(ToString(m.state)) + "}";
  line += "\n";
  internal::AppendTranscriptDetails(line, m);  // its poll and its files, as a space's transcript shows them
  return line;
}

// Where the API's exports are written: <data_dir>/exports, absolute and normalized.
fs::path ExportsRoot(const Config& config) {
  return fs::absolute(fs::path(config.data_dir) / "exports").lexically_normal();
}

// A recorded export the actor may download. Only exports made under the data folder are served;
// a CLI export elsewhere stays where it was put, and only the system (the CLI) reads it there.
Result<store::ExportRecord> FindServedExport(store::Store& store, const Config& config, const Actor& current,
                                             const std::string& export_id) {
  ROUNDS_ASSIGN_OR_RETURN(auto record, store.Read([&](store::ReadTx& tx) { return tx.FindExport(export_id); }));
  if (!record) return NotFound("Export");
  if (!current.is_system && fs::path(record->folder).lexically_normal().parent_path() != ExportsRoot(config)) {
    return NotFound("Export");
  }
  if (record->removed_at) {
    return Fail(ErrorCode::kConflict, "export_removed",
                "The export's files were removed from the server on " + FormatIso8601(*record->removed_at) + ".");
  }
  return std::move(*record);
}

// Removes the files an export writes from its folder, then the folder if that left it empty.
void RemoveExportFolder(const fs::path& folder) {
  std::error_code ec;
  for (const char* name : kExportFiles) fs::remove(folder / name, ec);
  for (const auto& entry : fs::directory_iterator(folder, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.starts_with(".transcript-") && name.ends_with(".part")) fs::remove(entry.path(), ec);
  }
  fs::remove(folder, ec);  // fails, and keeps it, when anything else is in it
}

}  // namespace

std::string RetentionLockPath(const Config& config) {
  return (fs::path(config.DatabasePath()).parent_path() / "retention.lock").string();
}

json RetentionReportJson(const RetentionReport& r) {
  return json{{"run_id", r.run_id},
              {"interrupted_run_ids", r.interrupted_run_ids},
              {"spaces_with_limits", r.spaces_with_limits},
              {"batches", r.batches},
              {"messages_deleted", r.messages_deleted},
              {"messages_scrubbed", r.messages_scrubbed},
              {"events_scrubbed", r.events_scrubbed},
              {"held_skipped", r.held_skipped},
              {"attachments_deleted", r.attachments_deleted},
              {"uploads_deleted", r.uploads_deleted},
              {"deletions_finished", r.deletions_finished},
              {"complete", r.complete}};
}

RetentionService::RetentionService(store::Store& store, const Clock& clock, const Config& config,
                                   const PolicyEngine& policy, AuthService& auth)
    : store_(store), clock_(clock), config_(config), policy_(policy), auth_(auth) {}

Status RetentionService::Confirm(const Actor& current, const Confirmation& confirmation, const char* action) {
  if (current.is_system) return Ok();
  if (confirmation.password.empty()) {
    return InvalidArgument("missing_field", "Confirm with your password.", "/password");
  }
  return auth_.StepUp(current, confirmation.password, confirmation.code, action);
}

RetentionService::~RetentionService() { Stop(); }

Result<Actor> RetentionService::RequireCompliance(const Actor& actor, const char* action, bool admin_allowed) {
  return internal::RequireComplianceOnRecord(store_, clock_.NowMillis(), actor, action, "retention",
                                             "Only compliance officers can manage retention, legal holds and exports.",
                                             admin_allowed);
}

// ---- Retention ----------------------------------------------------------------------------------

Result<RetentionReport> RetentionService::RunOnce(const Actor& actor, int max_batches) {
  ROUNDS_ASSIGN_OR_RETURN(Actor current, RequireCompliance(actor, "retention.run", /*admin_allowed=*/true));
  std::lock_guard run_lock(run_mu_);  // this process's runs wait for each other
  // Another process's run refuses this one; only with the lock is an open run a killed one.
  ROUNDS_ASSIGN_OR_RETURN(RunLock exclusive, RunLock::TryAcquire(RetentionLockPath(config_)));
  const UnixMillis now = clock_.NowMillis();
  // The configuration refuses a size outside these bounds; a Config built in code is held to them.
  const int batch_size = std::clamp(config_.retention_batch_size, 1, kMaxRetentionBatchSize);
  RetentionReport report;

  ROUNDS_ASSIGN_OR_RETURN(auto start, store_.Write([&](store::WriteTx& tx) -> Result<store::RetentionRunStart> {
    ROUNDS_ASSIGN_OR_RETURN(auto started, tx.BeginRetentionRun(current.is_system ? 0 : current.user.id, now));
    if (!started.interrupted_run_ids.empty()) {
      // The earlier run's batches are whole (each committed with its audit record); this run
      // continues from whatever is still purgeable.
      ROUNDS_RETURN_IF_ERROR(AppendAudit(tx, AuditEntry(current, "retention.resume", "retention_run",
                                                        std::to_string(started.run_id), now),
                                         json{{"interrupted_run_ids", started.interrupted_run_ids}}));
    }
    return started;
  }));
  report.run_id = start.run_id;
  report.interrupted_run_ids = start.interrupted_run_ids;

  SpaceId after = 0;
  bool cut_short = false;
  // The run stops between batches when it has taken `max_batches` or is asked to stop.
  auto out_of_batches = [&] { return (max_batches > 0 && report.batches >= max_batches) || stop_requested_.load(); };
  while (!cut_short) {
    ROUNDS_ASSIGN_OR_RETURN(auto space_ids, store_.Read([&](store::ReadTx& tx) { return tx.ListSpaceIds(after, 500); }));
    if (space_ids.empty()) break;
    after = space_ids.back();
    for (SpaceId space_id : space_ids) {
      ROUNDS_ASSIGN_OR_RETURN(auto limit, store_.Read([&](store::ReadTx& tx) -> Result<std::optional<int>> {
        ROUNDS_ASSIGN_OR_RETURN(auto space, tx.FindSpace(space_id));
        if (!space) return std::optional<int>();
        ROUNDS_ASSIGN_OR_RETURN(auto tmpl, policy_.TemplateFor(tx, *space));
        return LimitDays(tmpl);
      }));
      if (!limit) continue;
      ++report.spaces_with_limits;
      const UnixMillis cutoff = now - static_cast<std::int64_t>(*limit) * kDayMillis;
      while (true) {
        if (out_of_batches()) {
          cut_short = true;
          break;
        }
        // One batch = one write unit: select, purge, count, audit. A kill leaves it whole or absent.
        std::size_t selected = 0;
        ROUNDS_ASSIGN_OR_RETURN(auto purged, store_.Write([&](store::WriteTx& tx) -> Result<store::PurgeResult> {
          ROUNDS_ASSIGN_OR_RETURN(auto ids, tx.ListPurgeCandidates(space_id, cutoff, batch_size));
          selected = ids.size();
          if (ids.empty()) return store::PurgeResult{};
          ROUNDS_ASSIGN_OR_RETURN(auto result, tx.PurgeMessages(ids, now));
          ROUNDS_RETURN_IF_ERROR(tx.RecordRetentionBatch(report.run_id, result));
          ROUNDS_RETURN_IF_ERROR(AppendAudit(
              tx, AuditEntry(current, "retention.purge", "space", std::to_string(space_id), now),
              json{{"run_id", report.run_id}, {"cutoff", cutoff}, {"limit_days", *limit},
                   {"deleted_ids", result.deleted_ids}, {"scrubbed_ids", result.scrubbed_ids},
                   {"deleted", result.deleted_ids.size()}, {"scrubbed", result.scrubbed_ids.size()},
                   {"events_scrubbed", result.events_scrubbed},
                   {"attachment_ids", result.attachment_ids}}));
          return result;
        }));
        if (selected == 0) break;
        ++report.batches;
        report.messages_deleted += static_cast<std::int64_t>(purged.deleted_ids.size());
        report.messages_scrubbed += static_cast<std::int64_t>(purged.scrubbed_ids.size());
        report.events_scrubbed += purged.events_scrubbed;
        report.attachments_deleted += static_cast<std::int64_t>(purged.attachment_ids.size());
        if (selected < static_cast<std::size_t>(batch_size)) break;
      }
      if (cut_short) break;
      // Done with the space: what is still past its cutoff and held stays because of a hold.
      ROUNDS_ASSIGN_OR_RETURN(const std::int64_t held, store_.Read([&](store::ReadTx& tx) {
        return tx.CountHeldBefore(space_id, cutoff);
      }));
      report.held_skipped += held;
    }
  }
  // Work outside the spaces' cutoffs, batch by batch until a batch takes less than its size:
  // each batch one write unit with its record, counted into `counted`.
  auto drain = [&](const std::function<Result<std::size_t>(store::WriteTx&)>& batch, std::int64_t& counted) -> Status {
    while (!cut_short) {
      if (out_of_batches()) {
        cut_short = true;
        break;
      }
      ROUNDS_ASSIGN_OR_RETURN(const std::size_t taken, store_.Write(batch));
      if (taken == 0) break;
      ++report.batches;
      counted += static_cast<std::int64_t>(taken);
      if (taken < static_cast<std::size_t>(batch_size)) break;
    }
    return Ok();
  };
  // Messages deleted under a legal hold whose holds are all released: what the hold kept goes, as
  // the delete would have taken it (a release finishes the first batch itself). Every kept
  // deletion is looked at, a batch at a time: those a hold still keeps may be many, and a batch
  // is bounded by what it looks at. A batch that finishes none writes nothing. Only a release
  // frees a kept deletion, so with none since the last finished run had looked at them all
  // (counted before the walk: one during it is seen by the next run), there is nothing to look
  // for. The count a run looked at them all at is kept with the run, so a new process knows it.
  std::int64_t releases = 0;
  std::optional<std::int64_t> walked_at;
  ROUNDS_RETURN_IF_ERROR(store_.Read([&](store::ReadTx& tx) -> Status {
    ROUNDS_ASSIGN_OR_RETURN(releases, tx.CountReleasedLegalHolds());
    ROUNDS_ASSIGN_OR_RETURN(walked_at, tx.LastKeptDeletionsWalk());
    return Ok();
  }));
  const bool walk = walked_at != releases;
  store::MessageId after_deletion = 0;
  while (walk && !cut_short) {
    if (out_of_batches()) {
      cut_short = true;
      break;
    }
    ROUNDS_ASSIGN_OR_RETURN(auto batch, store_.Write([&](store::WriteTx& tx) -> Result<store::FinishedDeletions> {
      ROUNDS_ASSIGN_OR_RETURN(auto done, tx.FinishHeldDeletions(after_deletion, batch_size));
      if (done.finished_ids.empty()) return done;
      ROUNDS_RETURN_IF_ERROR(AppendAudit(tx, AuditEntry(current, "retention.finish_deletions", "retention_run",
                                                        std::to_string(report.run_id), now),
                                         json{{"run_id", report.run_id}, {"message_ids", done.finished_ids},
                                              {"finished", done.finished_ids.size()}}));
      return done;
    }));
    if (batch.looked_at == 0) break;
    ++report.batches;
    report.deletions_finished += static_cast<std::int64_t>(batch.finished_ids.size());
    after_deletion = batch.last_id;
    if (batch.looked_at < static_cast<std::size_t>(batch_size)) break;
  }
  // Cut short before or during the walk, the next run walks them all again.
  const std::optional<std::int64_t> kept_walked_at = !walk || !cut_short ? std::optional(releases) : std::nullopt;
  // Uploads never posted are kept a day (a draft being written), then removed.
  ROUNDS_RETURN_IF_ERROR(drain([&](store::WriteTx& tx) -> Result<std::size_t> {
    ROUNDS_ASSIGN_OR_RETURN(auto ids, tx.ListUnattachedBefore(now - kDayMillis, batch_size));
    if (ids.empty()) return 0;
    ROUNDS_ASSIGN_OR_RETURN(const int gone, tx.DeleteAttachments(ids));
    (void)gone;
    ROUNDS_RETURN_IF_ERROR(AppendAudit(tx, AuditEntry(current, "retention.purge_uploads", "retention_run",
                                                      std::to_string(report.run_id), now),
                                       json{{"run_id", report.run_id}, {"attachment_ids", ids}, {"deleted", ids.size()}}));
    return ids.size();
  }, report.uploads_deleted));
  report.complete = !cut_short;
  ROUNDS_RETURN_IF_ERROR(store_.Write([&](store::WriteTx& tx) -> Status {
    ROUNDS_RETURN_IF_ERROR(tx.FinishRetentionRun(report.run_id, clock_.NowMillis(), kept_walked_at));
    // Every purge is already on the trail batch by batch; the background job's idle runs (every
    // few minutes) add nothing worth a record. Runs someone asked for are always recorded.
    if (current.is_system && report.batches == 0 && report.interrupted_run_ids.empty()) return Ok();
    json details = RetentionReportJson(report);
    return AppendAudit(tx, AuditEntry(current, "retention.run", "retention_run", std::to_string(report.run_id), now),
                       details);
  }));
  return report;
}

void RetentionService::Start() {
  std::lock_guard lock(thread_mu_);
  if (worker_.joinable()) return;
  (void)RemoveUnrecordedExports();
  if (config_.retention_interval_seconds <= 0) return;
  stopping_ = false;
  stop_requested_ = false;
  worker_ = std::thread([this] { Loop(); });
}

void RetentionService::Stop() {
  std::thread worker;
  {
    std::lock_guard lock(thread_mu_);
    stopping_ = true;
    stop_requested_ = true;
    worker = std::move(worker_);
  }
  wake_.notify_all();
  if (worker.joinable()) worker.join();
}

void RetentionService::Loop() {
  NameThisThread("retention");
  const auto interval = std::chrono::seconds(config_.retention_interval_seconds);
  std::unique_lock lock(thread_mu_);
  while (!stopping_) {
    // Runs at start (catching up after downtime or a killed run), then every interval.
    lock.unlock();
    auto report = RunOnce(Actor::System());
    (void)ExpireExports();  // logs what it removed, and what it could not
    if (report) {
      if (report->batches > 0 || !report->interrupted_run_ids.empty()) {
        log::Info("retention.run", RetentionReportJson(*report));
      }
    } else if (report.error().problem == "retention_running") {
      log::Info("retention.skipped", {{"reason", "another process is running retention"}});  // next tick
    } else {
      log::Warn("retention.run_failed", {{"problem", report.error().problem}, {"reason", report.error().internal_message}});
    }
    lock.lock();
    wake_.wait_for(lock, interval, [this] { return stopping_; });
  }
}

std::vector<std::string> RetentionService::RemoveUnrecordedExports() {
  // Only what an API export makes: a real folder (not a link) named by 24 hex digits, which no
  // record names by id or by folder. A command-line export into this folder has a record under
  // another name; anything else put here is left alone. Nothing is removed while the records
  // cannot be read.
  const fs::path root = ExportsRoot(config_);
  std::set<std::string> recorded_folders;
  std::optional<store::ExportCursor> after;
  while (true) {
    auto page = store_.Read([&](store::ReadTx& tx) { return tx.ListExports(500, after); });
    if (!page) return {};
    for (const auto& e : *page) {
      if (!e.removed_at) recorded_folders.insert(fs::path(e.folder).lexically_normal().string());
    }
    if (page->size() < 500) break;
    after = store::ExportCursor{page->back().created_at, page->back().id};
  }
  auto exported_name = [](const std::string& name) {
    return name.size() == 24 && std::all_of(name.begin(), name.end(), [](char c) {
             return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
           });
  };
  std::vector<std::string> unrecorded;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(root, ec)) {
    std::error_code kind;
    if (entry.is_symlink(kind) || !entry.is_directory(kind)) continue;
    std::string id = entry.path().filename().string();
    if (!exported_name(id) || recorded_folders.count(entry.path().lexically_normal().string()) != 0) continue;
    auto record = store_.Read([&](store::ReadTx& tx) { return tx.FindExport(id); });
    if (!record) continue;  // unreadable: left for the next start
    if (!*record) {
      unrecorded.push_back(std::move(id));
    } else if ((*record)->removed_at) {
      // Its removal was recorded and the process stopped before the files went: they go now.
      RemoveExportFolder(entry.path());
      log::Info("ediscovery.removed_export_files_cleared", {{"export_id", id}});
    }
  }
  for (const std::string& id : unrecorded) {
    std::error_code removed;
    fs::remove_all(root / id, removed);
    log::Warn("ediscovery.unrecorded_export_removed", {{"export_id", id}, {"removed", !removed}});
    (void)AuditNow(store_, AuditEntry(Actor::System(), "ediscovery.discard", "export", id, clock_.NowMillis()),
                   json{{"removed", !removed}});
  }
  return unrecorded;
}

// ---- Legal holds --------------------------------------------------------------------------------


Result<json> RetentionService::CreateHold(const Actor& actor, const HoldDraft& draft) {
  ROUNDS_ASSIGN_OR_RETURN(Actor current, RequireCompliance(actor, "legal_hold.create"));
  if (!IsDisplayText(draft.name) || draft.name.size() > 200) {
    return InvalidArgument("invalid_value", "A hold needs a name of 1 to 200 characters on one line, not only spaces.",
                           "/name");
  }
  if (draft.reason.size() > 2000) return InvalidArgument("invalid_value", "The reason is too long.", "/reason");
  if (!IsValidUtf8(draft.reason)) return InvalidArgument("invalid_utf8", "The reason is not valid text.", "/reason");
  if (draft.custodian_ids.empty() && draft.space_ids.empty()) {
    return InvalidArgument("hold_scope_required", "A hold names custodians, spaces or both.", "/custodian_ids");
  }
  if (draft.custodian_ids.size() > kMaxHoldIds || draft.space_ids.size() > kMaxHoldIds) {
    return InvalidArgument("too_many_items", "At most 1000 custodians and 1000 spaces.");
  }
  if (draft.from && draft.to && *draft.from >= *draft.to) {
    return InvalidArgument("invalid_range", "'from' must be before 'to'.", "/from");
  }
  const UnixMillis now = clock_.NowMillis();
  return store_.Write([&](store::WriteTx& tx) -> Result<json> {
    for (UserId id : draft.custodian_ids) {
      ROUNDS_ASSIGN_OR_RETURN(auto user, tx.FindUser(id));
      if (!user) return InvalidArgument("unknown_custodian", "A custodian is not a known user.", "/custodian_ids");
    }
    for (SpaceId id : draft.space_ids) {
      ROUNDS_ASSIGN_OR_RETURN(auto space, tx.FindSpace(id));
      if (!space) return InvalidArgument("unknown_space", "A space on the hold does not exist.", "/space_ids");
    }
    store::LegalHold hold;
    hold.name = draft.name;
    hold.reason = draft.reason;
    // Each custodian and space once, in order: the hold's record lists what it covers.
    hold.custodian_ids = internal::Distinct(draft.custodian_ids);
    hold.space_ids = internal::Distinct(draft.space_ids);
    hold.from = draft.from;
    hold.to = draft.to;
    hold.created_by = current.is_system ? 0 : current.user.id;
    hold.created_at = now;
    ROUNDS_ASSIGN_OR_RETURN(hold.id, tx.InsertLegalHold(hold));
    ROUNDS_RETURN_IF_ERROR(AppendAudit(tx, AuditEntry(current, "legal_hold.create", "legal_hold",
                                                      std::to_string(hold.id), now),
                                       HoldAuditDetails(hold)));
    json item = HoldJson(hold);
    ROUNDS_RETURN_IF_ERROR(AddNames(tx, item, hold.custodian_ids, hold.space_ids, hold.created_by));
    return item;
  });
}

Result<json> RetentionService::ListHolds(const Actor& actor, bool include_released) {
  ROUNDS_ASSIGN_OR_RETURN(Actor current, RequireCompliance(actor, "legal_hold.list"));
  ROUNDS_ASSIGN_OR_RETURN(json listed, store_.Read([&](store::ReadTx& tx) -> Result<json> {
    ROUNDS_ASSIGN_OR_RETURN(auto holds, tx.ListLegalHolds(include_released));
    json items = json::array();
    for (const auto& h : holds) {
      json item = HoldJson(h);
      ROUNDS_RETURN_IF_ERROR(AddNames(tx, item, h.custodian_ids, h.space_ids, h.created_by));
      items.push_back(std::move(item));
    }
    return json{{"items", items}};
  }));
  // The list names who is under investigation: who looked is on record, with the count alone.
  ROUNDS_RETURN_IF_ERROR(AuditNow(store_, AuditEntry(current, "legal_hold.list", "legal_hold", "", clock_.NowMillis()),
                                  json{{"count", listed["items"].size()}, {"include_released", include_released}}));
  return listed;
}

Result<json> RetentionService::ReleaseHold(const Actor& actor, store::LegalHoldId id, const Confirmation& confirmation) {
  ROUNDS_ASSIGN_OR_RETURN(Actor current, RequireCompliance(actor, "legal_hold.release"));
  // What can be refused without the password is refused first: a mistake costs no code.
  ROUNDS_ASSIGN_OR_RETURN(auto hold, store_.Read([&](store::ReadTx& tx) { return tx.FindLegalHold(id); }));
  if (!hold) return NotFound("Legal hold");
  if (hold->released_at) {
    return Fail(ErrorCode::kConflict, "hold_released", "This legal hold is already released.");
  }
  ROUNDS_RETURN_IF_ERROR(Confirm(current, confirmation, "legal_hold.release"));
  const UnixMillis now = clock_.NowMillis();
  return store_.Write([&](store::WriteTx& tx) -> Result<json> {
    ROUNDS_RETURN_IF_ERROR(tx.ReleaseLegalHold(id, current.is_system ? 0 : current.user.id, now));
    ROUNDS_ASSIGN_OR_RETURN(auto hold, tx.FindLegalHold(id));
    if (!hold) return NotFound("Legal hold");
    // Messages deleted while it held them, and held by no other hold: their deletes finish now
    // (those among the first batch of kept deletions; retention runs take the rest).
    const int batch_size = std::clamp(config_.retention_batch_size, 1, kMaxRetentionBatchSize);
    ROUNDS_ASSIGN_OR_RETURN(auto finished, tx.FinishHeldDeletions(0, batch_size));
    json details = HoldAuditDetails(*hold);
    details["finished_deletion_ids"] = finished.finished_ids;
    ROUNDS_RETURN_IF_ERROR(AppendAudit(tx, AuditEntry(current, "legal_hold.release", "legal_hold", std::to_string(id), now),
                                       details));
    json item = HoldJson(*hold);
    ROUNDS_RETURN_IF_ERROR(AddNames(tx, item, hold->custodian_ids, hold->space_ids, hold->created_by));
    return item;
  });
}

// ---- E-discovery --------------------------------------------------------------------------------

Result<json> RetentionService::Export(const Actor& actor, const store::ExportQuery& query, const std::string& out_dir) {
  ROUNDS_ASSIGN_OR_RETURN(Actor current, RequireCompliance(actor, "ediscovery.export"));
  ROUNDS_RETURN_IF_ERROR(ValidateQuery(query));
  if (out_dir.empty()) return InvalidArgument("invalid_value", "Give a folder for the export.", "/out");
  return WriteExport(current, crypto::Sha256Hex(crypto::RandomToken()).substr(0, 24), query, out_dir);
}

Result<json> RetentionService::ExportToDataDir(const Actor& actor, const store::ExportQuery& query) {
  ROUNDS_ASSIGN_OR_RETURN(Actor current, RequireCompliance(actor, "ediscovery.export"));
  ROUNDS_RETURN_IF_ERROR(ValidateQuery(query));
  std::string id = crypto::Sha256Hex(crypto::RandomToken()).substr(0, 24);
  return WriteExport(current, id, query, (ExportsRoot(config_) / id).string());
}

Result<json> RetentionService::WriteExport(const Actor& current, const std::string& export_id,
                                           const store::ExportQuery& query, const std::string& out_dir) {
  const UnixMillis now = clock_.NowMillis();
  fs::path dir = fs::absolute(out_dir).lexically_normal();
  std::error_code ec;
  const bool existed = fs::exists(dir, ec);
  if (existed && !fs::is_empty(dir, ec)) {
    return InvalidArgument("folder_not_empty", "The export folder must be empty or not exist yet.", "/out");
  }
  fs::create_directories(dir, ec);
  if (ec) return InvalidArgument("folder_unusable", "The export folder cannot be created.", "/out");
  // Whatever fails from here on (a read, a full disk, the audit record), nothing of the export
  // stays behind: it would be patient data on disk that no audit record covers.
  struct Discard {
    const fs::path& dir;
    bool existed;
    bool keep = false;
    ~Discard() {
      if (keep) return;
      std::error_code ignored;
      if (!existed) {
        fs::remove_all(dir, ignored);
        return;
      }
      for (const auto& entry : fs::directory_iterator(dir, ignored)) fs::remove_all(entry.path(), ignored);
    }
  } discard{dir, existed};
  fs::permissions(dir, fs::perms::owner_all, fs::perm_options::replace, ec);  // patient data: owner only

  // Written page by page, nothing of the export held whole: the messages and edits straight into
  // their files; the transcript, grouped by space, into a part file per space, joined at the end.
  JsonArrayFile messages(dir / "messages.json", "messages.json");
  JsonArrayFile attachments(dir / "attachments.json", "attachments.json");
  JsonArrayFile edits(dir / "edits.json", "edits.json");
  std::map<SpaceId, std::string> space_titles;  // and the spaces seen, in transcript order
  auto part_path = [&dir](SpaceId space_id) { return dir / (".transcript-" + std::to_string(space_id) + ".part"); };
  std::int64_t held_deletions = 0;
  domain::PatientSet patients;  // whom the exported messages name, for the export's record
  MessageId after = 0;
  while (true) {
    std::map<SpaceId, std::string> lines_by_space;  // this page's transcript lines
    ROUNDS_ASSIGN_OR_RETURN(std::size_t page_size, store_.Read([&](store::ReadTx& tx) -> Result<std::size_t> {
      ROUNDS_ASSIGN_OR_RETURN(auto ids, tx.ListExportMessageIds(query, after, kExportPage));
      auto authors = internal::AuthorCache::RealNames(tx);
      for (MessageId id : ids) {
        after = id;
        ROUNDS_ASSIGN_OR_RETURN(auto message, tx.FindMessage(id, 0));
        if (!message) continue;
        ROUNDS_ASSIGN_OR_RETURN(auto versions, tx.ListEdits(id));
        ROUNDS_ASSIGN_OR_RETURN(auto held, tx.FindHeldDeletion(id));
        ROUNDS_ASSIGN_OR_RETURN(auto holds, tx.HoldsCovering(id));
        ROUNDS_ASSIGN_OR_RETURN(const UserRef* author, authors.Get(message->author_id));
        if (!space_titles.count(message->space_id)) {
          ROUNDS_ASSIGN_OR_RETURN(auto space, tx.FindSpace(message->space_id));
          std::string title = "space " + std::to_string(message->space_id);
          if (space) {
            // A direct conversation has no name: its people name it, as on the compliance screens.
            ROUNDS_ASSIGN_OR_RETURN(json ref, internal::NamedSpaceRef(tx, *space));
            title = ref["name"].get<std::string>() + " (" + std::string(ToString(space->kind)) + ", id " +
                    std::to_string(space->id) + ")";
          }
          // Names are people's to choose: a line break in one starts no line of the transcript.
          std::string header;
          internal::AppendIndentedLines(header, title);
          space_titles[message->space_id] = std::move(header);
        }
        json j = MessageJson(*message, author);
        j.erase("my_vote");
        j.erase("my_poll_vote");
        j["created_at_iso"] = FormatIso8601(message->created_at);
        j["version_count"] = versions.size();
        j["legal_hold_ids"] = holds;
        j["held_deletion"] = held ? json{{"title", held->title}, {"body", held->body}, {"deleted_at", held->deleted_at}}
                                  : json(nullptr);
        if (held) ++held_deletions;
        patients.Add(message->patient_refs);
        ROUNDS_RETURN_IF_ERROR(messages.Add(j));
        for (const auto& e : versions) ROUNDS_RETURN_IF_ERROR(edits.Add(MessageEditJson(e)));
        for (const auto& a : message->attachments) {
          json file = AttachmentJson(a);
          file["created_at_iso"] = FormatIso8601(a.created_at);
          ROUNDS_RETURN_IF_ERROR(attachments.Add(file));
        }
        std::string name = author ? author->username + " (" + author->display_name + ")"
                                  : "user " + std::to_string(message->author_id);
        // The edit history holds every version, the original included, once a message was edited.
        std::size_t edit_count = versions.empty() ? 0 : versions.size() - 1;
        lines_by_space[message->space_id] += TranscriptLine(*message, name, edit_count, held);
      }
      return ids.size();
    }));
    for (const auto& [space_id, lines] : lines_by_space) {
      std::ofstream part(part_path(space_id), std::ios::binary | std::ios::app);
      part.write(lines.data(), static_cast<std::streamsize>(lines.size()));
      part.close();
      if (!part) return Internal("cannot write export file " + part_path(space_id).string());
    }
    if (page_size < static_cast<std::size_t>(kExportPage)) break;
  }

  std::map<std::string, json> written;  // manifest entries by file name
  ROUNDS_ASSIGN_OR_RETURN(written["messages.json"], messages.Close());
  ROUNDS_ASSIGN_OR_RETURN(written["edits.json"], edits.Close());
  {
    ExportFileWriter transcript(dir / "transcript.txt", "transcript.txt");
    ROUNDS_RETURN_IF_ERROR(transcript.Append(
        "Rounds e-discovery transcript\nExport " + export_id + ", made " + FormatIso8601(now) + " by " +
        (current.is_system ? std::string("system") : current.user.username) + "\nQuery: " + QueryJson(query).dump() +
        "\nMessages: " + std::to_string(messages.count()) +
        "\nTimes are UTC. Replies are marked with ↳; edits and deletions in {braces}.\n"));
    std::string chunk(64 * 1024, '\0');
    for (const auto& [space_id, title] : space_titles) {
      ROUNDS_RETURN_IF_ERROR(transcript.Append("\n== " + title + " ==\n"));
      std::ifstream part(part_path(space_id), std::ios::binary);
      while (part) {
        part.read(chunk.data(), static_cast<std::streamsize>(chunk.size()));
        ROUNDS_RETURN_IF_ERROR(transcript.Append(std::string_view(chunk.data(), static_cast<std::size_t>(part.gcount()))));
      }
      part.close();
      fs::remove(part_path(space_id), ec);
    }
    ROUNDS_ASSIGN_OR_RETURN(written["transcript.txt"], transcript.Close());
  }
  // The metadata of every exported message's files: name, type, size and the SHA-256 of the
  // content, which stays in the database under the same holds as its message.
  ROUNDS_ASSIGN_OR_RETURN(written["attachments.json"], attachments.Close());
  json files = json::array();
  for (const char* name : kExportFiles) {
    auto it = written.find(name);
    if (it != written.end()) files.push_back(it->second);
  }
  json manifest = {{"export_id", export_id},
                   {"created_at", now},
                   {"created_at_iso", FormatIso8601(now)},
                   {"created_by", {{"id", current.is_system ? 0 : current.user.id},
                                   {"username", current.is_system ? "system" : current.user.username}}},
                   {"query", QueryJson(query)},
                   {"counts", {{"messages", messages.count()}, {"edits", edits.count()},
                               {"held_deletions", held_deletions}, {"spaces", space_titles.size()},
                               {"attachments", attachments.count()}}},
                   {"files", files}};
  std::string manifest_text = manifest.dump(2) + "\n";
  ROUNDS_RETURN_IF_ERROR(WriteFile(dir / "manifest.json", manifest_text));

  store::ExportRecord record{export_id, current.is_system ? 0 : current.user.id, now, QueryJson(query).dump(),
                             dir.string(), static_cast<std::int64_t>(messages.count()),
                             static_cast<int>(files.size()) + 1, crypto::Sha256Hex(manifest_text)};
  Status recorded = store_.Write([&](store::WriteTx& tx) -> Status {
    ROUNDS_RETURN_IF_ERROR(tx.InsertExport(record));
    json details = QueryAuditDetails(query);
    details["messages"] = record.message_count;
    details["files"] = record.file_count;
    details["manifest_sha256"] = record.manifest_sha256;
    AuditRecord exported = AuditEntry(current, "ediscovery.export", "export", export_id, now);
    exported.patient_ref = patients.Joined();
    return AppendAudit(tx, std::move(exported), details);
  });
  if (!recorded) return tl::unexpected(recorded.error());
  discard.keep = true;
  return manifest;
}

Result<json> RetentionService::ListExports(const Actor& actor, const std::string& cursor, int limit) {
  ROUNDS_ASSIGN_OR_RETURN(Actor current, RequireCompliance(actor, "ediscovery.list"));
  // The cursor is the last export of the page before: "<created_at>.<id>".
  std::optional<store::ExportCursor> after;
  if (!cursor.empty()) {
    const std::size_t dot = cursor.find('.');
    store::ExportCursor c;
    const char* end = cursor.data() + (dot == std::string::npos ? cursor.size() : dot);
    auto [p, ec] = std::from_chars(cursor.data(), end, c.created_at);
    if (dot == std::string::npos || ec != std::errc() || p != end || dot + 1 == cursor.size() || cursor.size() > 100) {
      return InvalidArgument("invalid_value", "'cursor' is not one this list gave.", "cursor");
    }
    c.id = cursor.substr(dot + 1);
    after = std::move(c);
  }
  limit = std::clamp(limit, 1, 200);
  const std::string root = (ExportsRoot(config_) / "").string();
  ROUNDS_ASSIGN_OR_RETURN(json listed, store_.Read([&](store::ReadTx& tx) -> Result<json> {
    ROUNDS_ASSIGN_OR_RETURN(auto exports, tx.ListExports(limit + 1, after));
    const bool more = static_cast<int>(exports.size()) > limit;
    if (more) exports.resize(static_cast<std::size_t>(limit));
    json items = json::array();
    for (const auto& e : exports) {
      json item = ExportRecordJson(e);
      // When the expiry will remove the files: exports under the data folder, while kept.
      const std::string folder = fs::path(e.folder).lexically_normal().string();
      const bool expires = !e.removed_at && config_.export_keep_days > 0 && folder.starts_with(root);
      item["expires_at"] = expires ? json(e.created_at + config_.export_keep_days * 86'400'000) : json(nullptr);
      const json& query = item["query"];
      auto ids = [&](const char* field) {
        std::vector<std::int64_t> out;
        if (query.contains(field) && query[field].is_array()) {
          for (const auto& v : query[field]) {
            if (v.is_number_integer()) out.push_back(v.get<std::int64_t>());
          }
        }
        return out;
      };
      ROUNDS_RETURN_IF_ERROR(AddNames(tx, item, ids("custodian_ids"), ids("space_ids"), e.created_by));
      items.push_back(std::move(item));
    }
    json next = more ? json(std::to_string(exports.back().created_at) + "." + exports.back().id) : json(nullptr);
    return json{{"items", items}, {"next_cursor", next}};
  }));
  ROUNDS_RETURN_IF_ERROR(AuditNow(store_, AuditEntry(current, "ediscovery.list", "export", "", clock_.NowMillis()),
                                  json{{"count", listed["items"].size()}}));
  return listed;
}

Result<ExportFile> RetentionService::ReadExportFile(const Actor& actor, const std::string& export_id,
                                                    const std::string& name) {
  ROUNDS_ASSIGN_OR_RETURN(Actor current, RequireCompliance(actor, "ediscovery.download"));
  bool known = std::any_of(std::begin(kExportFiles), std::end(kExportFiles), [&](const char* f) { return name == f; });
  if (!known) return NotFound("Export file");
  ROUNDS_ASSIGN_OR_RETURN(auto record, FindServedExport(store_, config_, current, export_id));
  auto file = OpenFile::ForReading((fs::path(record.folder) / name).string());
  if (!file && file.error().code == ErrorCode::kNotFound) return NotFound("Export file");
  if (!file) return tl::unexpected(file.error());
  ROUNDS_ASSIGN_OR_RETURN(std::uint64_t bytes, file->Size());
  ROUNDS_RETURN_IF_ERROR(AuditNow(store_, AuditEntry(current, "ediscovery.download", "export", export_id, clock_.NowMillis()),
                                  json{{"file", name}, {"bytes", bytes}}));
  std::string type = name.ends_with(".txt") ? "text/plain; charset=utf-8" : "application/json";
  return ExportFile{type, std::move(*file), bytes};
}

Result<ExportArchive> RetentionService::ArchiveExport(const Actor& actor, const std::string& export_id) {
  ROUNDS_ASSIGN_OR_RETURN(Actor current, RequireCompliance(actor, "ediscovery.download"));
  ROUNDS_ASSIGN_OR_RETURN(auto record, FindServedExport(store_, config_, current, export_id));
  const fs::path folder(record.folder);
  const std::string file_name = "export-" + export_id + ".zip";
  const auto audit_entry = [&] { return AuditEntry(current, "ediscovery.download", "export", export_id, clock_.NowMillis()); };
  // What goes out is what was exported: the manifest the record's hash names, and every file as the
  // manifest lists it. Anything else is refused, and the refusal is on record.
  auto altered = [&](const std::string& name) -> Error {
    AuditRecord refused = audit_entry();
    refused.outcome = AuditOutcome::kFailure;
    Status recorded = AuditNow(store_, std::move(refused), json{{"file", file_name}, {"altered", name}});
    if (!recorded) return recorded.error();
    return Error{ErrorCode::kConflict, "export_altered",
                 "The export's file " + name + " is not as it was exported; it is not archived.", {}};
  };
  std::ifstream manifest_in(folder / "manifest.json", std::ios::binary);
  if (!manifest_in) return NotFound("Export");
  const std::string manifest_text(std::istreambuf_iterator<char>(manifest_in), {});
  if (crypto::Sha256Hex(manifest_text) != record.manifest_sha256) return tl::unexpected(altered("manifest.json"));
  const json manifest = json::parse(manifest_text, nullptr, false);
  if (manifest.is_discarded() || !manifest.contains("files") || !manifest["files"].is_array()) {
    return tl::unexpected(altered("manifest.json"));
  }
  // Every file is checked as it goes into the archive, so what is checked is what is sent; a
  // refused archive is never sent (its file has no name and goes with its descriptor).
  ROUNDS_ASSIGN_OR_RETURN(OpenFile out, OpenFile::Anonymous(folder.string()));
  ZipWriter zip(out);
  const std::int64_t made = record.created_at / 1000;
  const std::string prefix = "export-" + export_id + "/";
  for (const json& f : manifest["files"]) {
    const std::string name = f.value("name", "");
    const bool known = std::any_of(std::begin(kExportFiles), std::end(kExportFiles), [&](const char* k) { return name == k; });
    if (!known) return tl::unexpected(altered(name));
    auto added = zip.AddFile(prefix + name, (folder / name).string(), made);
    if (!added && added.error().code != ErrorCode::kNotFound) return tl::unexpected(added.error());
    if (!added || added->sha256 != f.value("sha256", "")) return tl::unexpected(altered(name));
  }
  ROUNDS_RETURN_IF_ERROR(zip.AddBytes(prefix + "manifest.json", manifest_text, made));  // the bytes checked above
  ROUNDS_RETURN_IF_ERROR(zip.Finish());
  ROUNDS_RETURN_IF_ERROR(out.Rewind());
  ROUNDS_RETURN_IF_ERROR(AuditNow(store_, audit_entry(),
                                  json{{"file", file_name}, {"bytes", zip.bytes()}, {"sha256", zip.sha256()}}));
  return ExportArchive{file_name, std::move(out), zip.bytes(), zip.sha256()};
}

Result<json> RetentionService::RemoveExport(const Actor& actor, const std::string& export_id,
                                            const Confirmation& confirmation) {
  ROUNDS_ASSIGN_OR_RETURN(Actor current, RequireCompliance(actor, "ediscovery.remove"));
  ROUNDS_ASSIGN_OR_RETURN(auto record, FindServedExport(store_, config_, current, export_id));
  ROUNDS_RETURN_IF_ERROR(Confirm(current, confirmation, "ediscovery.remove"));
  ROUNDS_RETURN_IF_ERROR(RemoveExportFiles(current, record, "removed"));
  return store_.Read([&](store::ReadTx& tx) -> Result<json> {
    ROUNDS_ASSIGN_OR_RETURN(auto removed, tx.FindExport(export_id));
    if (!removed) return NotFound("Export");
    json item = ExportRecordJson(*removed);
    ROUNDS_RETURN_IF_ERROR(AddNames(tx, item, {}, {}, removed->created_by));
    return item;
  });
}

// The removal is recorded first, in one unit with its audit record, and the files go after it: a
// stop in between leaves files whose record says they are gone, which the next start removes
// (RemoveUnrecordedExports). Only what an export writes goes, and then its folder if nothing else
// is in it: a folder given to the command line keeps what else was put there.
Status RetentionService::RemoveExportFiles(const Actor& current, const store::ExportRecord& record, const char* reason) {
  const UnixMillis now = clock_.NowMillis();
  ROUNDS_RETURN_IF_ERROR(store_.Write([&](store::WriteTx& tx) -> Status {
    ROUNDS_RETURN_IF_ERROR(tx.MarkExportRemoved(record.id, current.is_system ? 0 : current.user.id, now));
    return AppendAudit(tx, AuditEntry(current, "ediscovery.remove", "export", record.id, now),
                       json{{"reason", reason}, {"messages", record.message_count}});
  }));
  RemoveExportFolder(record.folder);
  return {};
}

std::vector<std::string> RetentionService::ExpireExports() {
  std::vector<std::string> expired;
  if (config_.export_keep_days <= 0) return expired;
  const UnixMillis cutoff = clock_.NowMillis() - config_.export_keep_days * 86'400'000;
  const std::string root = (ExportsRoot(config_) / "").string();  // the same folders as expires_at
  while (true) {
    auto page = store_.Read([&](store::ReadTx& tx) { return tx.ListKeptExportsBefore(cutoff, root, 100); });
    if (!page) {
      log::Warn("ediscovery.expiry_failed", {{"problem", page.error().problem}, {"reason", page.error().internal_message}});
      break;
    }
    for (const auto& e : *page) {
      Status removed = RemoveExportFiles(Actor::System(), e, "expired");
      if (!removed) {  // the next run tries again
        log::Warn("ediscovery.expiry_failed", {{"export_id", e.id}, {"problem", removed.error().problem}});
        return expired;
      }
      expired.push_back(e.id);
    }
    if (page->size() < 100) break;
  }
  if (!expired.empty()) log::Info("ediscovery.expired", {{"export_ids", expired}, {"keep_days", config_.export_keep_days}});
  return expired;
}

}  // namespace rounds::app
