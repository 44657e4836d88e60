#include "app/audit_service.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <sstream>
#include <utility>

#include "app/audit_log.hpp"
#include "app/json_codec.hpp"
#include "app/internal.hpp"
#include "app/key_file.hpp"
#include "app/services.hpp"
#include "domain/rules.hpp"
#include "governance/phi/patient_index.hpp"
#include "governance/policy/pseudonym.hpp"
#include "core/log.hpp"
#include "core/socket.hpp"
#include "core/thread_name.hpp"

namespace rounds::app {

using governance::audit::Checkpoint;
using governance::audit::SigningKey;
using governance::audit::VerifyReport;
using nlohmann::json;

namespace {

constexpr int kAuditPageSize = 5000;
constexpr std::size_t kSecretKeyHexSize = 128;  // libsodium's 64-byte secret key (seed ‖ public key)

bool IsHex(const std::string& s) {
  return s.find_first_not_of("0123456789abcdef") == std::string::npos;
}

// Quotes a CSV field when needed, and defuses cells a spreadsheet would run as a formula.
std::string CsvField(const std::string& value) {
  std::string v = value;
  if (!v.empty() && std::string_view("=+-@\t\r").find(v.front()) != std::string_view::npos) v.insert(0, "'");
  if (v.find_first_of(",\"\r\n") == std::string::npos) return v;
  std::string out = "\"";
  for (char c : v) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

json Coding(const char* system, const std::string& code, const char* display) {
  json c{{"system", system}, {"code", code}};
  if (display != nullptr) c["display"] = display;
  return c;
}

bool StartsWith(const std::string& s, std::string_view prefix) { return s.compare(0, prefix.size(), prefix) == 0; }

// The verb of an action ("user.create" -> "create").
std::string Verb(const std::string& action) {
  auto dot = action.rfind('.');
  return dot == std::string::npos ? action : action.substr(dot + 1);
}

}  // namespace

// ---- Files ------------------------------------------------------------------------------------

AuditFiles AuditFiles::For(const Config& config) {
  std::filesystem::path dir = std::filesystem::path(config.data_dir) / "audit";
  AuditFiles files;
  files.checkpoints = config.audit_checkpoint_file.empty() ? (dir / "checkpoints.log").string() : config.audit_checkpoint_file;
  std::filesystem::path key = config.audit_signing_key_file.empty() ? dir / "signing.key" : std::filesystem::path(config.audit_signing_key_file);
  files.signing_key = key.string();
  files.public_key = key.replace_extension(".pub").string();
  files.last_verification = (std::filesystem::path(files.checkpoints).parent_path() / "last-verification.json").string();
  files.feed_cursor = (dir / "feed.cursor").string();
  // In the data folder, which is always writable: a key file may be mounted read-only.
  files.key_lock = (dir / "signing.lock").string();
  files.next_signing_key = files.signing_key + ".next";
  return files;
}

AuditKeyLock::AuditKeyLock(const AuditFiles& files) {
  std::error_code ec;
  const auto parent = std::filesystem::path(files.key_lock).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  fd_ = ::open(files.key_lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd_ < 0) {
    unavailable_ = true;
  } else if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    ::close(fd_);
    fd_ = -1;
  }
}

AuditKeyLock::~AuditKeyLock() {
  if (fd_ >= 0) ::close(fd_);  // releases the lock
}

namespace {

Result<SigningKey> ReadSigningKey(const std::string& path) {
  ROUNDS_ASSIGN_OR_RETURN(std::string secret, ReadTrimmed(path));
  if (secret.size() != kSecretKeyHexSize || !IsHex(secret)) {
    return Fail(ErrorCode::kInternal, "audit_key", "The audit signing key file is not valid.", path);
  }
  return SigningKey{secret.substr(kSecretKeyHexSize / 2), secret};
}

// The last steps of a key change, after the hand-over at `head` reached the checkpoint file: the
// next key signs that head too (unless `head` is its line already), and takes the old key's
// place. Returns the next key's line of the head.
Result<Checkpoint> FinishKeyChange(const AuditFiles& files, const Checkpoint& head, const SigningKey& next,
                                   bool signed_yet, UnixMillis now) {
  Checkpoint line = head;
  if (!signed_yet) {
    line = governance::audit::SignCheckpoint(head.seq, head.head_hash, now, next, head.root);
    ROUNDS_RETURN_IF_ERROR(AppendCheckpoint(files.checkpoints, line));
  }
  ROUNDS_RETURN_IF_ERROR(ReplaceFile(files.next_signing_key, files.signing_key, "audit_key"));
  return line;
}

// The checkpoint file's last line, where `key` hands over: kConflict "audit_not_anchored" when
// there is none or `key` did not sign it (a key cannot hand over what it did not sign).
Result<Checkpoint> HandOverPoint(const AuditFiles& files, const SigningKey& key) {
  ROUNDS_ASSIGN_OR_RETURN(auto last, ReadLastCheckpoint(files.checkpoints));
  if (!last) {
    return Fail(ErrorCode::kConflict, "audit_not_anchored",
                "The audit checkpoint file is missing or empty: there is no signed head to hand the key over at.",
                files.checkpoints);
  }
  if (!governance::audit::VerifyCheckpointSignature(*last, key.public_key_hex)) {
    return Fail(ErrorCode::kConflict, "audit_not_anchored",
                "The last audit checkpoint is not signed by the signing key: the key cannot hand over what it did "
                "not sign.",
                files.checkpoints);
  }
  return *std::move(last);
}

// What a key change wrote: the hand-over and the new key's line of the same head.
struct KeyHandOver {
  SigningKey next;
  Checkpoint hand_over;
  Checkpoint first_signed;
};

// A key change over `last`, the checkpoint file's last line, which `key` signed: a new key is
// made and kept at `next_signing_key` (synced before anything names it, so a crash after the
// hand-over finds it), `key` hands over to it, and FinishKeyChange. The caller holds the lock.
Result<KeyHandOver> HandOverKey(const AuditFiles& files, const Checkpoint& last, const SigningKey& key,
                                UnixMillis now) {
  KeyHandOver out{SigningKey::Generate(), {}, {}};
  ROUNDS_RETURN_IF_ERROR(WriteNewFile(files.next_signing_key, out.next.secret_key_hex + "\n", 0600, "audit_key",
                                      "the next audit signing key"));
  out.hand_over = governance::audit::SignKeyChange(last, now, key, out.next.public_key_hex);
  ROUNDS_RETURN_IF_ERROR(AppendCheckpoint(files.checkpoints, out.hand_over));
  ROUNDS_ASSIGN_OR_RETURN(out.first_signed, FinishKeyChange(files, last, out.next, /*signed_yet=*/false, now));
  return out;
}

}  // namespace

Status SettleSigningKeyChange(const AuditFiles& files, UnixMillis now) {
  std::error_code ec;
  if (!std::filesystem::exists(files.next_signing_key, ec)) return Ok();
  Result<SigningKey> next = ReadSigningKey(files.next_signing_key);
  ROUNDS_ASSIGN_OR_RETURN(auto last, ReadLastCheckpoint(files.checkpoints));
  const bool handed_over = next && last && last->ChangesKey() && last->next_key == next->public_key_hex;
  const bool signed_since = next && last && !last->ChangesKey() &&
                            governance::audit::VerifyCheckpointSignature(*last, next->public_key_hex);
  if (!handed_over && !signed_since) {
    // The key change never reached the checkpoint file (a key written part-way names none): the
    // key in use stands.
    std::filesystem::remove(files.next_signing_key, ec);
    SyncFolder(std::filesystem::path(files.next_signing_key).parent_path());
    log::Warn("audit_key_change_undone", {{"key_file", files.signing_key}});
    return Ok();
  }
  ROUNDS_RETURN_IF_ERROR(FinishKeyChange(files, *last, *next, signed_since, now));
  log::Warn("audit_key_change_finished", {{"key_file", files.signing_key}, {"public_key", next->public_key_hex}});
  return Ok();
}

Result<SigningKeyChange> ChangeSigningKey(const AuditFiles& files, UnixMillis now) {
  AuditKeyLock lock(files);
  if (lock.unavailable()) {
    return Fail(ErrorCode::kInternal, "audit_key", "Cannot make the audit folder's lock file.", files.key_lock);
  }
  if (!lock.held()) {
    return Fail(ErrorCode::kConflict, "audit_in_use",
                "A server (or another key change) is using the audit folder: stop the server, then change the key, or "
                "have a compliance officer change it through the running server (the Audit screen, or POST "
                "/api/v1/audit/signing-key).",
                files.key_lock);
  }
  ROUNDS_RETURN_IF_ERROR(SettleSigningKeyChange(files, now));
  std::error_code ec;
  if (!std::filesystem::exists(files.signing_key, ec)) {
    return Fail(ErrorCode::kInternal, "audit_key_missing",
                "There is no audit signing key to change: the server makes one on its first start.", files.signing_key);
  }
  ROUNDS_ASSIGN_OR_RETURN(SigningKey key, ReadSigningKey(files.signing_key));
  ROUNDS_ASSIGN_OR_RETURN(Checkpoint last, HandOverPoint(files, key));
  ROUNDS_ASSIGN_OR_RETURN(KeyHandOver change, HandOverKey(files, last, key, now));
  log::Info("audit_key_changed", {{"previous_public_key", key.public_key_hex},
                                  {"public_key", change.next.public_key_hex}, {"seq", last.seq}});
  return SigningKeyChange{key.public_key_hex, change.next.public_key_hex, last.seq};
}

Result<SigningKey> LoadOrCreateSigningKey(const AuditFiles& files, bool* created) {
  if (created != nullptr) *created = false;
  std::error_code ec;
  if (std::filesystem::exists(files.signing_key, ec)) {
    ROUNDS_ASSIGN_OR_RETURN(SigningKey key, ReadSigningKey(files.signing_key));
    struct stat st {};
    if (::stat(files.signing_key.c_str(), &st) == 0 && (st.st_mode & 077) != 0) {
      log::Warn("audit_key_permissions", {{"path", files.signing_key}, {"hint", "chmod 600"}});
    }
    if (!std::filesystem::exists(files.public_key, ec)) {
      // The public key file keeps the first key. After a key change the key in use is another,
      // whose public half does not check the lines before the change.
      ROUNDS_ASSIGN_OR_RETURN(auto changes, KeyChangesBefore(files.checkpoints, nullptr));
      if (!changes.empty()) {
        return Fail(ErrorCode::kInternal, "audit_key_missing",
                    "The audit public key file is missing, and the signing key has been changed since the first: "
                    "restore it (the first key's public half) from the copy kept apart.",
                    files.public_key);
      }
      ROUNDS_RETURN_IF_ERROR(WriteNewFile(files.public_key, key.public_key_hex + "\n", 0644, "audit_key", "the audit signing key"));
    }
    return key;
  }
  // A key signed this trail before: checkpoints exist, or its public half does. Making a new one
  // would sign whatever the database now holds as if it had always been so (anyone able to
  // write the data folder could rewrite the trail, remove the key and restart), and would
  // overwrite the public key the old checkpoints are checked with.
  bool signed_before = std::filesystem::exists(files.public_key, ec);
  if (!signed_before) {
    auto last = ReadLastCheckpoint(files.checkpoints);
    signed_before = !last || last->has_value();
  }
  if (signed_before) {
    return Fail(ErrorCode::kInternal, "audit_key_missing",
                "The audit signing key is missing, but the audit trail was signed with a key before. Restore the "
                "key file from a backup; if it is lost for good, move the checkpoint file and the public key aside "
                "(keep them: they still verify the trail up to their last checkpoint) and start again to make a new key.",
                files.signing_key + " (public key " + files.public_key + ", checkpoints " + files.checkpoints + ")");
  }
  auto parent = std::filesystem::path(files.signing_key).parent_path();
  if (!parent.empty()) {
    std::filesystem::create_directories(parent, ec);
    if (ec) return Fail(ErrorCode::kInternal, "audit_key", "Cannot create the audit folder.", parent.string() + ": " + ec.message());
  }
  SigningKey key = SigningKey::Generate();
  // The secret is written owner-only from the first byte (mode given to open, not chmod after).
  ROUNDS_RETURN_IF_ERROR(WriteNewFile(files.signing_key, key.secret_key_hex + "\n", 0600, "audit_key", "the audit signing key"));
  ROUNDS_RETURN_IF_ERROR(WriteNewFile(files.public_key, key.public_key_hex + "\n", 0644, "audit_key", "the audit signing key"));
  log::Info("audit_key_created", {{"public_key", key.public_key_hex}, {"path", files.public_key}});
  if (created != nullptr) *created = true;
  return key;
}

Result<std::string> ReadPublicKeyFile(const std::string& path) { return ReadTrimmed(path); }

Status ForEachCheckpoint(const std::string& path, const std::function<void(const Checkpoint&)>& visit) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Ok();
  std::string line;
  int line_number = 0;
  while (std::getline(in, line)) {
    const bool terminated = !in.eof();
    ++line_number;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    auto checkpoint = Checkpoint::FromLine(line);
    if (!checkpoint) {
      // A crash while appending can leave a torn last line; anything else is damage.
      if (!terminated) break;
      return InvalidArgument("bad_checkpoint", path + ":" + std::to_string(line_number) + ": " +
                                                   checkpoint.error().public_message);
    }
    visit(*checkpoint);
  }
  if (in.bad()) return Fail(ErrorCode::kInternal, "audit_checkpoint", "Cannot read the audit checkpoint file.", path);
  return Ok();
}

Result<std::vector<Checkpoint>> ReadCheckpoints(const std::string& path) {
  std::vector<Checkpoint> out;
  ROUNDS_RETURN_IF_ERROR(ForEachCheckpoint(path, [&out](const Checkpoint& c) { out.push_back(c); }));
  return out;
}

Result<std::optional<Checkpoint>> ReadLastCheckpoint(const std::string& path) {
  std::optional<Checkpoint> last;
  ROUNDS_RETURN_IF_ERROR(ForEachCheckpoint(path, [&last](const Checkpoint& c) { last = c; }));
  return last;
}

namespace {

// Reads the checkpoint file's lines from anywhere in it, for lookups that must not read it whole:
// it grows by a line a minute or faster, and a year of lines is over 100 MB.
class CheckpointLines {
 public:
  explicit CheckpointLines(const std::string& path) : in_(path, std::ios::binary) {
    if (!in_) return;
    in_.seekg(0, std::ios::end);
    size_ = in_.tellg();
  }
  bool open() const { return static_cast<bool>(in_) || size_ > 0; }
  std::streamoff size() const { return size_; }

  // Calls `visit` with each checkpoint on a whole line starting at or after `offset`, in file
  // order, until it returns false. Lines that do not parse (a torn last line) are passed over.
  void ScanFrom(std::streamoff offset, const std::function<bool(const Checkpoint&)>& visit) {
    in_.clear();
    std::string line;
    if (offset > 0) {
      in_.seekg(offset - 1);
      if (!std::getline(in_, line)) return;  // to just past the first newline at or after offset - 1
    } else {
      in_.seekg(0);
    }
    while (std::getline(in_, line)) {
      auto checkpoint = Checkpoint::FromLine(line);
      if (checkpoint && !visit(*checkpoint)) return;
    }
  }
  // The seq on the first line starting at or after `offset` that parses; nullopt past the end.
  std::optional<std::int64_t> SeqFrom(std::streamoff offset) {
    std::optional<std::int64_t> seq;
    ScanFrom(offset, [&seq](const Checkpoint& c) {
      seq = c.seq;
      return false;
    });
    return seq;
  }

 private:
  std::ifstream in_;
  std::streamoff size_ = 0;
};

}  // namespace

Result<std::optional<Checkpoint>> FindRootedCheckpoint(const std::string& path, std::optional<std::int64_t> seq) {
  CheckpointLines lines(path);
  std::optional<Checkpoint> found;
  if (!lines.open()) return found;
  const auto keep = [&found, &seq](const Checkpoint& c) {
    if (seq && c.seq > *seq) return false;
    if (!c.root.empty() && c.seq > 0 && (!seq || c.seq == *seq)) found = c;
    return true;
  };
  if (!seq) {
    // The newest lines are at the end: a signed root is among the last few unless the server has
    // not signed since it was upgraded.
    constexpr std::streamoff kTail = 64 * 1024;
    lines.ScanFrom(std::max<std::streamoff>(0, lines.size() - kTail), keep);
    if (!found && lines.size() > kTail) lines.ScanFrom(0, keep);
    return found;
  }
  // Seqs only grow down the file: halve the byte range until the line holding the first
  // checkpoint of `seq` is within a few KiB, then read those lines.
  std::streamoff low = 0, high = lines.size();
  while (high - low > 8 * 1024) {
    const std::streamoff middle = low + (high - low) / 2;
    const auto at = lines.SeqFrom(middle);
    if (!at || *at >= *seq) {
      high = middle;
    } else {
      low = middle;
    }
  }
  lines.ScanFrom(low, keep);
  return found;
}

Result<std::vector<Checkpoint>> KeyChangesBefore(const std::string& path, const Checkpoint* until) {
  std::vector<Checkpoint> changes;
  std::ifstream in(path, std::ios::binary);
  if (!in) return changes;
  // Only the rare key change is parsed: the file grows by a line a minute or faster.
  const std::string target = until != nullptr ? until->ToLine() : std::string();
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (until != nullptr && line == target) return changes;
    if (line.find(" next-key=") == std::string::npos) continue;
    auto change = Checkpoint::FromLine(line);
    if (change && change->ChangesKey()) changes.push_back(std::move(*change));
  }
  if (in.bad()) return Fail(ErrorCode::kInternal, "audit_checkpoint", "Cannot read the audit checkpoint file.", path);
  return changes;
}

Status AppendCheckpoint(const std::string& path, const Checkpoint& checkpoint) {
  auto parent = std::filesystem::path(path).parent_path();
  std::error_code ec;
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  // Made here when new: then its name is synced too, or a crash after the first checkpoint could
  // leave a key and records with no checkpoint file, which reads as one removed.
  bool created = false;
  int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT) {
    fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0600);
    created = fd >= 0;
  }
  if (fd < 0) return Fail(ErrorCode::kInternal, "audit_checkpoint", "Cannot open the audit checkpoint file.", path);
  struct stat before {};
  const bool sized = ::fstat(fd, &before) == 0;
  std::string line = checkpoint.ToLine() + "\n";
  bool ok = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size()) && ::fsync(fd) == 0;
  // A line cut short by a full disk would sit before the next one: the file goes back to the
  // lines it had.
  if (!ok && sized) (void)::ftruncate(fd, before.st_size);
  ::close(fd);
  if (!ok) return Fail(ErrorCode::kInternal, "audit_checkpoint", "Cannot write the audit checkpoint file.", path);
  if (created) SyncFolder(parent);
  return Ok();
}

namespace {

// The seq of the newest record now (0: none yet): where a walk of the trail stops.
Result<std::int64_t> NewestAuditSeq(store::Store& store) {
  ROUNDS_ASSIGN_OR_RETURN(auto newest, store.Read([](store::ReadTx& tx) { return tx.LastAuditRecord(); }));
  return newest ? newest->seq : 0;
}

// Hands `each` every record matching `query` (its seq bounds and limit replaced), oldest first, up
// to the record `through`, a page at a time: a trail of any length in the memory of one page. Each
// page is a read of its own, so a long walk holds no snapshot (nor the write-ahead log with it)
// from start to end; records never change once written, so the pages together are the trail as
// it stood.
Status WalkAudit(store::Store& store, store::AuditQuery query, std::int64_t through,
                 const std::function<Status(const domain::AuditRecord&)>& each) {
  query.before_seq.reset();
  // From the lowest seq there can be: a row forged with a seq below 1 is then the first one the
  // verifier sees (and names), not one that searches show and verification never reads.
  query.after_seq = std::numeric_limits<std::int64_t>::min();
  query.limit = kAuditPageSize;
  while (true) {
    ROUNDS_ASSIGN_OR_RETURN(auto page, store.Read([&](store::ReadTx& tx) { return tx.SearchAudit(query); }));
    for (const auto& r : page) {
      if (r.seq > through) return Ok();
      ROUNDS_RETURN_IF_ERROR(each(r));
    }
    if (page.size() < static_cast<std::size_t>(query.limit)) return Ok();
    query.after_seq = page.back().seq;
  }
}

// A sink that appends every piece to `out`.
ExportSink AppendingTo(std::string& out) {
  return [&out](std::string_view piece) -> Status {
    out += piece;
    return Ok();
  };
}

}  // namespace

Result<VerifyReport> VerifyStoredChain(store::Store& store, std::span<const Checkpoint> checkpoints,
                                       const std::string& public_key_hex, const VerifyProgress& progress) {
  return VerifyStoredChain(store, governance::audit::ChainVerifier(checkpoints, public_key_hex), progress);
}

Result<governance::audit::ChainVerifier> VerifierForCheckpointFile(const std::string& path,
                                                                    const std::string& public_key_hex) {
  governance::audit::ChainVerifier verifier(public_key_hex);
  ROUNDS_RETURN_IF_ERROR(ForEachCheckpoint(path, [&verifier](const Checkpoint& c) { verifier.Expect(c); }));
  return verifier;
}

Result<VerifyReport> VerifyStoredChain(store::Store& store, governance::audit::ChainVerifier verifier,
                                       const VerifyProgress& progress) {
  // The chain up to the newest record now, while writers carry on.
  ROUNDS_ASSIGN_OR_RETURN(std::int64_t head, NewestAuditSeq(store));
  std::int64_t checked = 0;
  // The Merkle tree's kept subtrees against the tree of the records as they are walked: a kept
  // subtree that differs makes proofs that fail against the signed roots, and would make the next
  // server start refuse to sign.
  std::vector<store::AuditTreeNode> computed;
  std::optional<store::AuditTreeNode> misfiled_node;
  verifier.OnTreeNode([&computed](int level, std::uint64_t index, const governance::audit::MerkleHash& hash) {
    if (level < kAuditTreeKeptLevel) return;
    computed.push_back({level, static_cast<std::int64_t>(index), std::string(reinterpret_cast<const char*>(hash.data()), hash.size())});
  });
  const auto compare_kept = [&]() -> Status {
    if (computed.empty() || misfiled_node) return Ok();
    ROUNDS_RETURN_IF_ERROR(store.RunRead([&](store::ReadTx& tx) -> Status {
      for (const store::AuditTreeNode& node : computed) {
        ROUNDS_ASSIGN_OR_RETURN(auto kept, tx.FindAuditTreeNode(node.level, node.idx));
        if (kept && *kept != node.hash) {
          misfiled_node = node;
          break;
        }
      }
      return Ok();
    }));
    computed.clear();
    return Ok();
  };
  ROUNDS_RETURN_IF_ERROR(WalkAudit(store, {}, head, [&](const domain::AuditRecord& r) -> Status {
    verifier.Add(r);
    if (computed.size() >= 256) ROUNDS_RETURN_IF_ERROR(compare_kept());
    if (progress && ++checked % 4096 == 0) return progress(checked);
    return Ok();
  }));
  ROUNDS_RETURN_IF_ERROR(compare_kept());
  VerifyReport report = verifier.Finish();
  if (report.ok && misfiled_node) {
    const std::int64_t first = (misfiled_node->idx << misfiled_node->level) + 1;
    const std::int64_t last = (misfiled_node->idx + 1) << misfiled_node->level;
    report.ok = false;
    report.first_bad_seq = first;
    report.problem = "the Merkle subtree of records " + std::to_string(first) + " to " + std::to_string(last) +
                     " kept in the database is not the tree of those records: proofs through it fail";
  }
  // The chain may be whole while a search by actor, object or patient leaves records out: the indexes
  // those searches walk are not in the chain, so they are compared with it here.
  ROUNDS_ASSIGN_OR_RETURN(auto misfiled, store.Read([](store::ReadTx& tx) { return tx.FirstAuditIndexMismatch(); }));
  if (report.ok && misfiled) {
    report.ok = false;
    report.first_bad_seq = *misfiled;
    report.problem = "record " + std::to_string(*misfiled) +
                     " is missing from, or misfiled in, the audit trail's search index by actor, object or patient";
  }
  return report;
}

void RequireCheckpointsWithKey(VerifyReport& report, const std::string& checkpoints_path,
                               const std::string& public_key_hex) {
  if (!report.ok || report.checkpoints_checked > 0 || report.records_checked == 0 || public_key_hex.empty()) return;
  report.ok = false;
  report.problem = "the checkpoint file " + checkpoints_path +
                   " is missing or empty, though a signing key exists (the server signs a checkpoint as soon as "
                   "it has a key): the trail cannot be checked against what was signed";
}

Result<VerifyReport> VerifyAuditFiles(const std::string& database_path, const std::string& checkpoints_path,
                                      const std::string& public_key_hex, const std::string& database_key,
                                      const std::string& witness_path) {
  std::error_code ec;
  // Opening a missing file would create an empty database that "verifies".
  if (!std::filesystem::is_regular_file(database_path, ec)) return NotFound("Database '" + database_path + "'");
  ROUNDS_ASSIGN_OR_RETURN(auto verifier, VerifierForCheckpointFile(checkpoints_path, public_key_hex));
  if (!witness_path.empty()) {
    verifier.StartAnotherFile();
    ROUNDS_RETURN_IF_ERROR(ForEachWitnessedCheckpoint(witness_path, [&verifier](const Checkpoint& c) { verifier.Expect(c); }));
  }
  // Verification only reads, so nothing here needs to wait for the disk.
  ROUNDS_ASSIGN_OR_RETURN(auto store, store::OpenSqliteStore(
                                          {.path = database_path, .read_connections = 1, .sync_full = false, .encryption_key = database_key}));
  auto report = VerifyStoredChain(*store, std::move(verifier));
  store->Close();
  if (report) RequireCheckpointsWithKey(*report, checkpoints_path, public_key_hex);
  return report;
}

// ---- Rendering --------------------------------------------------------------------------------

std::optional<AuditExportFormat> ParseAuditExportFormat(std::string_view text) {
  if (text == "csv") return AuditExportFormat::kCsv;
  if (text == "ndjson") return AuditExportFormat::kNdjson;
  if (text == "fhir") return AuditExportFormat::kFhir;
  return std::nullopt;
}

std::string_view MediaType(AuditExportFormat format) {
  switch (format) {
    case AuditExportFormat::kCsv: return "text/csv; charset=utf-8";
    case AuditExportFormat::kNdjson: return "application/x-ndjson";
    case AuditExportFormat::kFhir: return "application/fhir+json";
  }
  return "application/octet-stream";
}

json AuditRecordJson(const domain::AuditRecord& r) {
  json details = json::parse(r.details_json, nullptr, /*allow_exceptions=*/false);
  if (details.is_discarded()) details = r.details_json;  // shown as stored; verification flags it
  return json{{"seq", r.seq},
              {"time", r.time},
              {"actor_id", r.actor_id},
              {"actor_role", r.actor_role},
              {"action", r.action},
              {"object_type", r.object_type},
              {"object_id", r.object_id},
              {"patient_ref", r.patient_ref},
              {"outcome", domain::ToString(r.outcome)},
              {"address", r.address},
              {"session_hash", r.session_hash},
              {"reason", r.reason},
              {"details", details},
              {"prev_hash", r.prev_hash},
              {"hash", r.hash}};
}

// FHIR R4 AuditEvent (https://hl7.org/fhir/R4/auditevent.html). Event types from DICOM PS3.15
// A.5: 110114 User Authentication for sign-in and sign-out, 110101 Audit Log Used for uses of the
// trail, 110106 Export for exports, 110110 Patient Record when a patient is involved; other
// operations are FHIR "rest" events with our action as the subtype.
json FhirAuditEvent(const domain::AuditRecord& r) {
  constexpr const char* kDcm = "http://dicom.nema.org/resources/ontology/DCM";
  json type;
  json subtype = json::array();
  if (StartsWith(r.action, "auth.")) {
    type = Coding(kDcm, "110114", "User Authentication");
    if (r.action == "auth.login") subtype.push_back(Coding(kDcm, "110122", "Login"));
    if (r.action == "auth.logout") subtype.push_back(Coding(kDcm, "110123", "Logout"));
  } else if (StartsWith(r.action, "emergency.")) {
    // Break-the-glass: a security alert (DICOM "Emergency Override Started" / "Stopped").
    type = Coding(kDcm, "110113", "Security Alert");
    if (r.action == "emergency.start") subtype.push_back(Coding(kDcm, "110127", "Emergency Override Started"));
    if (r.action == "emergency.stop") subtype.push_back(Coding(kDcm, "110138", "Emergency Override Stopped"));
  } else if (r.action == "audit.export") {
    type = Coding(kDcm, "110106", "Export");
  } else if (StartsWith(r.action, "audit.")) {
    type = Coding(kDcm, "110101", "Audit Log Used");
  } else if (!r.patient_ref.empty()) {
    type = Coding(kDcm, "110110", "Patient Record");
  } else {
    type = Coding("http://terminology.hl7.org/CodeSystem/audit-event-type", "rest", "RESTful Operation");
  }
  subtype.push_back(Coding("urn:rounds:audit-action", r.action, nullptr));

  // C/R/U/D/E from the action's verb; sign-in, search, verify and export execute an operation.
  // Listing, paging back through history, replaying missed events or receiving them live,
  // reading a thread, pins or mentions and downloading all show records as they are: reads. An
  // upload creates.
  std::string verb = Verb(r.action);
  std::string action = "E";
  if (verb == "create" || verb == "import" || verb == "post" || verb == "upload") {
    action = "C";
  } else if (verb == "read" || verb == "view" || verb == "get" || verb == "list" || verb == "history" ||
             verb == "replay" || verb == "live" || verb == "thread" || verb == "download" || verb == "queue" ||
             verb == "pins" || verb == "mentions") {
    action = "R";
  } else if (verb == "delete" || verb == "purge" || verb == "remove") {
    action = "D";
  } else if (verb == "update" || verb == "disable" || verb == "enable" || verb == "roles" || verb == "edit" ||
             verb == "password_reset" || verb == "password_change") {
    action = "U";
  }

  json who = r.actor_id != 0 ? json{{"identifier", {{"system", "urn:rounds:user"}, {"value", std::to_string(r.actor_id)}}}}
                             : json{{"display", r.actor_role == "system" ? "Rounds server" : "anonymous"}};
  json agent{{"who", who},
             {"requestor", true},
             {"role", json::array({{{"text", r.actor_role}}})}};
  if (!r.session_hash.empty()) agent["altId"] = r.session_hash;
  if (!r.address.empty()) agent["network"] = {{"address", r.address}, {"type", "2"}};  // 2: IP address

  json entities = json::array();
  if (!r.object_type.empty() || !r.object_id.empty()) {
    // FHIR has no empty strings: an object without an id is named by its type alone.
    json identifier{{"system", "urn:rounds:" + (r.object_type.empty() ? std::string("object") : r.object_type)}};
    if (!r.object_id.empty()) identifier["value"] = r.object_id;
    json entity{{"what", {{"identifier", identifier}}},
                {"type", Coding("http://terminology.hl7.org/CodeSystem/audit-entity-type", "2", "System Object")}};
    if (!r.details_json.empty() && r.details_json != "{}") {
      entity["detail"] = json::array({{{"type", "details"}, {"valueString", r.details_json}}});
    }
    entities.push_back(entity);
  }
  // One entity per patient: a page read may name several (IHE BALP's Patient variants name one
  // each).
  for (const std::string& ref : domain::SplitPatientRefs(r.patient_ref)) {
    entities.push_back({{"what", {{"reference", ref}}},
                        {"type", Coding("http://terminology.hl7.org/CodeSystem/audit-entity-type", "1", "Person")},
                        {"role", Coding("http://terminology.hl7.org/CodeSystem/object-role", "1", "Patient")}});
  }

  json event{{"resourceType", "AuditEvent"},
             {"id", std::to_string(r.seq)},
             {"type", type},
             {"subtype", subtype},
             {"action", action},
             {"recorded", FormatIso8601(r.time)},
             // 0 success, 4 minor failure (a refusal), 8 serious failure.
             {"outcome", r.outcome == domain::AuditOutcome::kSuccess ? "0"
                         : r.outcome == domain::AuditOutcome::kDenied ? "4" : "8"},
             {"agent", json::array({agent})},
             {"source", {{"observer", {{"display", "rounds"}}},
                         {"type", json::array({Coding("http://terminology.hl7.org/CodeSystem/security-source-type",
                                                      "4", "Application Server")})}}}};
  if (!r.reason.empty()) event["outcomeDesc"] = r.reason;
  if (!entities.empty()) event["entity"] = entities;
  // The record's place in the hash chain: the id is its sequence number, and a signed checkpoint
  // names the hash of one record. A receiver can tie each event to the checkpoints and see each
  // event name the one before it.
  if (!r.hash.empty()) {
    event["extension"] = json::array({{{"url", "urn:rounds:audit:chain"},
                                       {"extension", json::array({{{"url", "previous"}, {"valueString", r.prev_hash}},
                                                                  {{"url", "hash"}, {"valueString", r.hash}}})}}});
  }
  // Emergency access and the reads through it carry their purpose of use (BTG).
  if (r.details_json.find("\"purpose\"") != std::string::npos) {
    json details = json::parse(r.details_json, nullptr, false);
    if (details.is_object() && details.value("purpose", "") == "BTG") {
      json purpose = json::array({{{"coding", json::array({Coding("http://terminology.hl7.org/CodeSystem/v3-ActReason",
                                                                  "BTG", "break the glass")})}}});
      event["purposeOfEvent"] = purpose;
      event["agent"][0]["purposeOfUse"] = purpose;
    }
  }
  return event;
}

namespace {

constexpr std::size_t kExportPieceBytes = 64 * 1024;
constexpr std::string_view kCsvHeader =
    "seq,time,recorded,actor_id,actor_role,action,object_type,object_id,patient_ref,outcome,address,"
    "session_hash,reason,details,prev_hash,hash\r\n";

}  // namespace

AuditExportWriter::AuditExportWriter(AuditExportFormat format, ExportSink sink)
    : format_(format), sink_(std::move(sink)) {
  buffer_.reserve(kExportPieceBytes + 4096);
  if (format_ == AuditExportFormat::kCsv) buffer_ += kCsvHeader;
  // The Bundle's keys in the order a whole document's dump() sorts them: entry, resourceType, type.
  // A collection carries no total (FHIR R4's bdl-1 allows one only in search and history sets).
  if (format_ == AuditExportFormat::kFhir) buffer_ += "{\"entry\":[";
}

Status AuditExportWriter::Add(const domain::AuditRecord& r) {
  switch (format_) {
    case AuditExportFormat::kCsv:
      for (const std::string& field :
           {std::to_string(r.seq), std::to_string(r.time), FormatIso8601(r.time), std::to_string(r.actor_id),
            r.actor_role, r.action, r.object_type, r.object_id, r.patient_ref,
            std::string(domain::ToString(r.outcome)), r.address, r.session_hash, r.reason, r.details_json,
            r.prev_hash}) {
        buffer_ += CsvField(field);
        buffer_.push_back(',');
      }
      buffer_ += CsvField(r.hash);
      buffer_ += "\r\n";
      break;
    case AuditExportFormat::kNdjson:
      // A field that is not UTF-8 (a record's reason as an old build stored it, or one edited in
      // the file) is exported with U+FFFD instead of failing the export halfway.
      buffer_ += FhirAuditEvent(r).dump(-1, ' ', false, json::error_handler_t::replace);
      buffer_.push_back('\n');
      break;
    case AuditExportFormat::kFhir:
      if (count_ > 0) buffer_.push_back(',');
      buffer_ += json{{"fullUrl", "urn:rounds:audit:" + std::to_string(r.seq)}, {"resource", FhirAuditEvent(r)}}
                     .dump(-1, ' ', false, json::error_handler_t::replace);
      break;
  }
  ++count_;
  return FlushIfFull();
}

Status AuditExportWriter::FlushIfFull() {
  if (buffer_.size() < kExportPieceBytes) return Ok();
  Status written = sink_(buffer_);
  buffer_.clear();
  return written;
}

Status AuditExportWriter::Finish() {
  if (format_ == AuditExportFormat::kFhir) {
    buffer_ += "],\"resourceType\":\"Bundle\",\"type\":\"collection\"}";
  }
  if (buffer_.empty()) return Ok();
  Status written = sink_(buffer_);
  buffer_.clear();
  return written;
}

std::string RenderAuditExport(std::span<const domain::AuditRecord> records, AuditExportFormat format) {
  std::string out;
  AuditExportWriter writer(format, AppendingTo(out));
  for (const auto& r : records) (void)writer.Add(r);
  (void)writer.Finish();
  return out;
}

// ---- The service ------------------------------------------------------------------------------

namespace {

// This host's name, as the witness's messages give it.
std::string HostName() {
  char name[256] = {};
  if (::gethostname(name, sizeof name - 1) != 0) return "-";
  return name;
}

}  // namespace

AuditService::AuditService(store::Store& store, const Clock& clock, const Config& config)
    : store_(store), clock_(clock), config_(config), files_(AuditFiles::For(config)) {
  if (!config.audit_witness.empty()) {
    WitnessTls tls{.enabled = config.audit_witness_tls,
                   .files = {.ca_file = config.audit_witness_ca_file,
                             .cert_file = config.audit_witness_cert_file,
                             .key_file = config.audit_witness_key_file,
                             .crl_file = config.audit_witness_crl_file},
                   .peer_name = config.audit_witness_server_name};
    witness_ = std::make_unique<AuditWitness>(config.audit_witness, HostName(), std::move(tls));
    if (config.audit_feed) {
      witness_->SetFeed({.read = [this](std::int64_t after, int limit) { return FeedItems(after, limit); },
                         .cursor_file = files_.feed_cursor});
    }
  }
}

Result<std::vector<FeedItem>> AuditService::FeedItems(std::int64_t after, int limit) {
  ROUNDS_ASSIGN_OR_RETURN(auto records,
                          store_.Read([&](store::ReadTx& tx) { return tx.ListAudit(after, limit); }));
  std::vector<FeedItem> items;
  items.reserve(records.size());
  for (const auto& r : records) {
    items.push_back({.seq = r.seq,
                     .time = r.time,
                     .severity = r.outcome == domain::AuditOutcome::kSuccess ? 6 : 4,
                     .text = std::string(kFeedMarker) + FhirAuditEvent(r).dump()});
  }
  return items;
}

namespace {

// A Unix socket path, or a loopback address ("127.0.0.1:514", "localhost:514", "[::1]:514").
bool IsLocalAddress(const std::string& address) {
  if (!address.empty() && address.front() == '/') return true;
  const auto split = net::SplitHostPort(address);
  if (!split) return false;
  return split->host == "localhost" || split->host == "::1" || split->host.rfind("127.", 0) == 0;
}

// TLS files given for a witness that would not use them mean a configuration that is not what
// it seems: checkpoints would leave in the clear, or not at all.
Status CheckWitnessSettings(const Config& config) {
  const bool files = !config.audit_witness_ca_file.empty() || !config.audit_witness_cert_file.empty() ||
                     !config.audit_witness_key_file.empty() || !config.audit_witness_crl_file.empty() ||
                     !config.audit_witness_server_name.empty();
  if (config.audit_witness.empty() && (config.audit_witness_tls || files)) {
    return InvalidArgument("bad_config", "The audit witness's TLS settings are set, but audit_witness is not.",
                           "audit_witness");
  }
  if (config.audit_feed && config.audit_witness.empty()) {
    return InvalidArgument("bad_config", "audit_feed sends the audit records to the audit witness's collector, but "
                                         "audit_witness is not set.", "audit_feed");
  }
  if (config.audit_feed && !config.audit_witness_tls && !IsLocalAddress(config.audit_witness)) {
    return InvalidArgument("bad_config",
                           "audit_feed would send the audit records, which name patients, to " + config.audit_witness +
                               " in the clear. Set audit_witness_tls = true, or send them to a forwarder on this host "
                               "(a loopback address or a Unix socket).",
                           "audit_feed");
  }
  if (!config.audit_witness_tls && files) {
    return InvalidArgument("bad_config",
                           "The audit witness's TLS files are set, but audit_witness_tls is not: its checkpoints "
                           "would be sent in the clear. Set audit_witness_tls = true, or remove the files.",
                           "audit_witness_tls");
  }
  return Ok();
}

}  // namespace

AuditService::~AuditService() { Stop(); }

Status AuditService::Start() {
  ROUNDS_RETURN_IF_ERROR(CheckWitnessSettings(config_));
  if (witness_) ROUNDS_RETURN_IF_ERROR(witness_->Start());
  {
    std::lock_guard lock(checkpoint_mutex_);
    if (!key_lock_) {
      auto held = std::make_unique<AuditKeyLock>(files_);
      if (held->unavailable()) {
        // No lock file can be made, so no key change can take it either (it refuses): serve.
        log::Warn("audit_lock_unavailable", {{"path", files_.key_lock}});
      } else if (!held->held()) {
        return Fail(ErrorCode::kConflict, "audit_in_use",
                    "Another server, or a change of the audit signing key, is using the audit folder.", files_.key_lock);
      }
      key_lock_ = std::move(held);
    }
    ROUNDS_RETURN_IF_ERROR(SettleSigningKeyChange(files_, clock_.NowMillis()));
    bool created = false;
    ROUNDS_ASSIGN_OR_RETURN(key_, LoadOrCreateSigningKey(files_, &created));
    // The first key's public half checks every checkpoint, following the key changes since.
    first_public_key_ = ReadPublicKeyFile(files_.public_key).value_or(key_->public_key_hex);
    if (created) {
      // A new key's first line: the empty chain, signed. From now on the checkpoint file is never
      // empty, so an empty or missing one is one that was removed.
      ROUNDS_RETURN_IF_ERROR(AppendCheckpoint(
          files_.checkpoints, governance::audit::SignCheckpoint(0, std::string(governance::audit::kGenesisHash),
                                                                clock_.NowMillis(), *key_)));
    }
    std::optional<Checkpoint> last;
    std::optional<Checkpoint> before_last;
    first_checkpoint_time_ = 0;
    key_changes_.clear();
    key_history_problem_.clear();
    ROUNDS_RETURN_IF_ERROR(ForEachCheckpoint(files_.checkpoints, [&](const Checkpoint& c) {
      if (first_checkpoint_time_ == 0) first_checkpoint_time_ = c.time;
      if (c.ChangesKey() && key_history_problem_.empty()) {
        // Followed from the first key, as a verification follows them: each signed by the one before.
        const std::string& previous = key_changes_.empty() ? first_public_key_ : key_changes_.back().public_key;
        if (governance::audit::VerifyCheckpointSignature(c, previous)) {
          key_changes_.push_back({c.seq, c.time, previous, c.next_key});
        } else {
          key_history_problem_ = "The key change at record " + std::to_string(c.seq) +
                                 " is not signed by the key before it.";
        }
      }
      before_last = std::move(last);
      last = c;
    }));
    next_key_attempt_ = 0;
    last_checkpoint_seq_ = last ? last->seq : 0;
    last_checkpoint_rooted_ = !last || last->seq == 0 || !last->root.empty();
    last_checkpoint_time_ = clock_.NowMillis();
    std::string problem;
    if (last) {
      ROUNDS_ASSIGN_OR_RETURN(problem, AnchorProblem(*last));
    } else {
      // The key signed before (it was not made now), the trail has records, and no checkpoint
      // is left: the file was removed or emptied, and the trail could be anything.
      ROUNDS_ASSIGN_OR_RETURN(auto head, store_.Read([](store::ReadTx& tx) { return tx.LastAuditRecord(); }));
      if (head) {
        problem = "The audit checkpoint file " + files_.checkpoints +
                  " is missing or empty, though the signing key has signed this trail before.";
      }
    }
    checkpoint_file_ = IdentityOf(files_.checkpoints);
    anchor_problem_.clear();
    {
      std::lock_guard verify_lock(verify_mutex_);
      unanchored_problem_.clear();
    }
    if (problem.empty()) {
      // The witness holds the last line this server starts from (a new key's first), then what
      // it signs; records written while the server was down (CLI administration) are anchored at
      // once.
      // A key changed since the server last ran hands over to the key that signed the last line:
      // the witness is told the hand-over first, or it could not check that line.
      if (witness_ && last && before_last && before_last->ChangesKey() && before_last->next_key == key_->public_key_hex) {
        witness_->Witness(*before_last, clock_.NowMillis());
      }
      if (witness_ && last) witness_->Witness(*last, clock_.NowMillis());
      ROUNDS_RETURN_IF_ERROR(CheckpointLocked());
    } else {
      UnanchorLocked(std::move(problem));
    }
  }
  {
    std::lock_guard lock(verify_mutex_);
    started_at_ = clock_.NowMillis();
    verify_cancel_ = false;
    std::ifstream in(files_.last_verification);
    if (in) {
      // A file that no longer parses is treated as no verification yet: the next one replaces it.
      json last = json::parse(in, nullptr, /*allow_exceptions=*/false);
      if (last.is_object() && last.contains("ok")) last_verification_ = std::move(last);
    }
  }
  if (witness_) {
    // The feed's place when it has none on disk: the trail's head now, before the server takes a
    // request. Left to the audit thread's first poll, up to 250 ms later, the records written
    // meanwhile (the first sign-ins) were never fed.
    ROUNDS_ASSIGN_OR_RETURN(auto head, store_.Read([](store::ReadTx& tx) { return tx.LastAuditRecord(); }));
    witness_->FeedTo(head ? head->seq : 0);
  }
  std::lock_guard lock(run_mutex_);
  if (thread_.joinable()) return Ok();
  stopping_ = false;
  thread_ = std::thread([this] { Run(); });
  return Ok();
}

void AuditService::Stop() {
  verify_cancel_ = true;  // a verification running stops at its next few thousand records
  AwaitVerification();
  {
    std::lock_guard lock(verify_mutex_);
    if (verify_thread_.joinable()) verify_thread_.join();
  }
  {
    std::lock_guard lock(run_mutex_);
    if (!thread_.joinable()) return;
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
  {
    std::lock_guard lock(checkpoint_mutex_);
    if (auto s = CheckpointLocked(); !s) {
      log::Error("audit_checkpoint_failed", {{"reason", s.error().public_message}, {"detail", s.error().internal_message}});
    }
  }
  // The final head goes off the host too, if the collector takes it soon.
  if (witness_) witness_->Stop(std::chrono::seconds(5));
  std::lock_guard lock(checkpoint_mutex_);
  key_lock_.reset();  // the key may be changed now
}

Status AuditService::CheckpointNow() {
  std::lock_guard lock(checkpoint_mutex_);
  return CheckpointLocked();
}

Result<SigningKeyChange> AuditService::ChangeKey(const Actor& actor, AuthService& auth,
                                                 const Confirmation& confirmation, const std::string& reason) {
  constexpr const char* kAction = "audit.key_change";
  ROUNDS_RETURN_IF_ERROR(RequireCompliance(actor, kAction, json::object()));
  if (reason.size() > 500) return InvalidArgument("invalid_value", "The reason is too long (500 bytes at most).", "/reason");
  if (!actor.is_system) {
    if (confirmation.password.empty()) return InvalidArgument("missing_field", "Confirm with your password.", "/password");
    ROUNDS_RETURN_IF_ERROR(auth.StepUp(actor, confirmation.password, confirmation.code, kAction));
  }
  UnixMillis now = 0;
  SigningKeyChange change;
  {
    std::lock_guard lock(checkpoint_mutex_);
    ROUNDS_ASSIGN_OR_RETURN(change, ChangeKeyLocked(now));
  }
  ROUNDS_RETURN_IF_ERROR(RecordKeyChange(actor, reason, change, now));
  return change;
}

Result<SigningKeyChange> AuditService::ChangeKeyLocked(UnixMillis& now) {
  // Between Start and Stop only: after Stop the folder's lock is released to `rounds audit rotate-key`.
  if (!key_ || !key_lock_) {
    return Fail(ErrorCode::kConflict, "audit_not_started", "The audit trail's checkpoints are not running.");
  }
  // The head as it is now is what the key in use hands over at.
  ROUNDS_RETURN_IF_ERROR(CheckpointLocked());
  if (!anchor_problem_.empty()) {
    return Fail(ErrorCode::kConflict, "audit_not_anchored",
                "Nothing is signed while the audit trail does not continue its last checkpoint, so the key "
                "cannot hand over: " + anchor_problem_);
  }
  ROUNDS_ASSIGN_OR_RETURN(Checkpoint last, HandOverPoint(files_, *key_));
  now = clock_.NowMillis();  // after the head's checkpoint: the hand-over is dated after it
  const std::string previous = key_->public_key_hex;
  Result<KeyHandOver> handed = HandOverKey(files_, last, *key_, now);
  checkpoint_file_ = IdentityOf(files_.checkpoints);  // as this server left it, written or not
  if (!handed) {
    // Cut off part-way: whatever the files now say stands (the new key once the hand-over is in
    // the file, the old one if not), or nothing is signed until a restart settles it.
    Status settled = SettleSigningKeyChange(files_, now);
    Result<SigningKey> standing = settled ? ReadSigningKey(files_.signing_key) : tl::unexpected(settled.error());
    checkpoint_file_ = IdentityOf(files_.checkpoints);
    if (standing) {
      if (standing->public_key_hex != previous) {
        // The hand-over reached the file: the new key stands, from then.
        key_changes_.push_back({last.seq, now, previous, standing->public_key_hex});
      }
      key_ = std::move(*standing);
    } else {
      UnanchorLocked("The audit signing key change failed part-way (" + handed.error().public_message +
                     "), and could not be settled: restart the server to finish or undo it.");
    }
    return tl::unexpected(std::move(handed).error());
  }
  KeyHandOver change = std::move(*handed);
  key_ = change.next;
  last_checkpoint_time_ = now;
  key_changes_.push_back({change.hand_over.seq, now, previous, change.next.public_key_hex});
  if (witness_) {
    witness_->Witness(change.hand_over, now);
    witness_->Witness(change.first_signed, now);
  }
  log::Info("audit_key_changed", {{"previous_public_key", previous}, {"public_key", change.next.public_key_hex},
                                  {"seq", change.hand_over.seq}});
  return SigningKeyChange{previous, change.next.public_key_hex, change.hand_over.seq};
}

Status AuditService::RecordKeyChange(const Actor& actor, const std::string& reason, const SigningKeyChange& change,
                                     UnixMillis now) {
  domain::AuditRecord record = AuditEntry(actor, "audit.key_changed", "audit_log", "", now);
  record.reason = reason;
  return AuditNow(store_, std::move(record),
                  json{{"previous_public_key", change.previous_public_key},
                       {"public_key", change.public_key},
                       {"seq", change.seq}});
}

void AuditService::ChangeKeyIfDue() {
  if (config_.audit_key_days <= 0) return;
  const UnixMillis now = clock_.NowMillis();
  UnixMillis changed_at = now;
  SigningKeyChange change;
  {
    std::lock_guard lock(checkpoint_mutex_);
    // Not while nothing is signed (that is reported already), nor before a failed try's hour is up.
    if (!key_lock_ || !anchor_problem_.empty() || now < next_key_attempt_) return;
    const std::optional<KeyChangeEntry> since = KeySinceLocked();
    if (!since || now - since->time < config_.audit_key_days * 86'400'000) return;
    Result<SigningKeyChange> changed = ChangeKeyLocked(changed_at);
    if (!changed) {
      next_key_attempt_ = now + 3'600'000;
      log::Error("audit_key_change_failed", {{"scheduled", true},
                                             {"reason", changed.error().public_message},
                                             {"detail", changed.error().internal_message}});
      return;
    }
    change = std::move(*changed);
  }
  const std::string reason = "scheduled: the key had signed for " + std::to_string(config_.audit_key_days) + " days";
  if (auto s = RecordKeyChange(Actor::System(), reason, change, changed_at); !s) {
    log::Error("audit_record_failed", {{"action", "audit.key_changed"}, {"reason", s.error().public_message}});
  }
}

std::optional<AuditService::KeyChangeEntry> AuditService::KeySinceLocked() const {
  if (!key_) return std::nullopt;
  if (!key_changes_.empty()) {
    if (key_changes_.back().public_key == key_->public_key_hex) return key_changes_.back();
    return std::nullopt;  // a key the listed hand-overs do not reach
  }
  if (key_->public_key_hex != first_public_key_ || first_checkpoint_time_ == 0) return std::nullopt;
  return KeyChangeEntry{0, first_checkpoint_time_, "", key_->public_key_hex};
}

Result<json> AuditService::SigningKeys(const Actor& actor) {
  ROUNDS_RETURN_IF_ERROR(RequireCompliance(actor, "audit.signing_key", json::object()));
  std::lock_guard lock(checkpoint_mutex_);
  std::string anchor = first_public_key_;
  if (anchor.empty()) anchor = ReadPublicKeyFile(files_.public_key).value_or("");
  json changes = json::array();
  for (const KeyChangeEntry& c : key_changes_) {
    changes.push_back({{"seq", c.seq}, {"time", c.time}, {"previous_public_key", c.previous_public_key},
                       {"public_key", c.public_key}});
  }
  const std::optional<KeyChangeEntry> since = KeySinceLocked();
  // Nothing is changed while nothing is signed (the trail does not continue its last checkpoint).
  const bool scheduled = config_.audit_key_days > 0 && since && anchor_problem_.empty();
  return json{{"anchor_public_key", anchor.empty() ? json(nullptr) : json(anchor)},
              {"public_key", key_ ? json(key_->public_key_hex) : json(nullptr)},
              {"since", since ? json(since->time) : json(nullptr)},
              {"since_seq", since ? json(since->seq) : json(nullptr)},
              {"changes", std::move(changes)},
              {"change_days", config_.audit_key_days},
              {"next_change_at", scheduled ? json(std::max(since->time + config_.audit_key_days * 86'400'000,
                                                           next_key_attempt_))
                                           : json(nullptr)},
              {"problem", key_history_problem_.empty() ? json(nullptr) : json(key_history_problem_)}};
}

Result<std::string> AuditService::AnchorProblem(const Checkpoint& last) {
  const std::string at = std::to_string(last.seq);
  if (!governance::audit::VerifyCheckpointSignature(last, key_->public_key_hex)) {
    return "The last audit checkpoint (record " + at + ") is not signed by the server's signing key.";
  }
  if (last.seq <= 0) return std::string();
  store::AuditQuery query;
  query.after_seq = last.seq - 1;
  query.limit = 1;
  ROUNDS_ASSIGN_OR_RETURN(auto records, store_.Read([&](store::ReadTx& tx) { return tx.SearchAudit(query); }));
  if (records.empty() || records.front().seq != last.seq) {
    return "The audit trail ends before its last signed checkpoint (record " + at + "): records were removed, "
           "or the database was restored from an older copy.";
  }
  if (records.front().hash != last.head_hash) {
    return "Audit record " + at + " differs from the last signed checkpoint: the trail was altered.";
  }
  // The tree the server goes on growing starts from the subtrees the database keeps: they must
  // make the root that was signed.
  ROUNDS_ASSIGN_OR_RETURN(MerkleHash root, tree_.GrowTo(last.seq, last.head_hash));
  if (!last.root.empty() && governance::audit::MerkleHex(root) != last.root) {
    return "The audit trail's Merkle tree kept in the database does not make the root the last checkpoint (record " +
           at + ") signed: the kept tree was altered.";
  }
  return std::string();
}

AuditService::FileIdentity AuditService::IdentityOf(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return {.unknown = errno != ENOENT && errno != ENOTDIR};
  return {.exists = true,
          .device = static_cast<std::uint64_t>(st.st_dev),
          .inode = static_cast<std::uint64_t>(st.st_ino),
          .size = static_cast<std::uint64_t>(st.st_size),
          .changed_ns = static_cast<std::int64_t>(st.st_ctim.tv_sec) * 1'000'000'000 + st.st_ctim.tv_nsec};
}

void AuditService::UnanchorLocked(std::string problem) {
  // The trail does not continue what was last signed: signing its head now would vouch for
  // whatever was done to it. The server serves, signs nothing, and says so everywhere an officer
  // or an operator looks, until the trail is restored, or the checkpoints and the key are moved
  // aside on purpose, and the server restarted.
  anchor_problem_ = std::move(problem);
  log::Error("audit_anchor_mismatch", {{"problem", anchor_problem_}, {"checkpoint_seq", last_checkpoint_seq_},
                                       {"checkpoints", files_.checkpoints}});
  const UnixMillis now = clock_.NowMillis();
  if (witness_) witness_->Alarm(anchor_problem_, now);
  domain::AuditRecord record = AuditEntry(Actor::System(), "audit.anchor_mismatch", "audit_log", "", now);
  record.outcome = domain::AuditOutcome::kFailure;
  (void)AuditNow(store_, record, json{{"checkpoint_seq", last_checkpoint_seq_}});
  std::lock_guard verify_lock(verify_mutex_);
  unanchored_problem_ = anchor_problem_;
  last_verification_ = json{{"ok", false}, {"records_checked", 0}, {"checkpoints_checked", 1},
                            {"first_bad_seq", last_checkpoint_seq_}, {"problem", anchor_problem_},
                            {"head_seq", nullptr}, {"checked_at", now}, {"started_at", now},
                            {"started_by", "system"}, {"seconds", 0}};
}

bool AuditService::CheckpointFileIntactLocked() {
  if (!anchor_problem_.empty()) return false;
  const FileIdentity now = IdentityOf(files_.checkpoints);
  if (now.unknown) {
    // Not an answer (a permission or an I/O error): the next poll asks again, and an append
    // fails on its own.
    if (!checkpoint_unreadable_) log::Warn("audit_checkpoint_unreadable", {{"checkpoints", files_.checkpoints}});
    checkpoint_unreadable_ = true;
    return true;
  }
  checkpoint_unreadable_ = false;
  if (checkpoint_file_.unknown) checkpoint_file_ = now;  // what it was left as could not be read
  if (now == checkpoint_file_) return true;
  const std::string file = "The audit checkpoint file " + files_.checkpoints;
  if (!now.exists) {
    UnanchorLocked(file + " was removed while the server ran.");
  } else if (!checkpoint_file_.exists || now.device != checkpoint_file_.device || now.inode != checkpoint_file_.inode) {
    UnanchorLocked(file + " was replaced by another file while the server ran.");
  } else if (now.size < checkpoint_file_.size) {
    UnanchorLocked(file + " was cut short while the server ran (" + std::to_string(now.size) + " bytes, " +
                   std::to_string(checkpoint_file_.size) + " written).");
  } else if (now.size == checkpoint_file_.size) {
    UnanchorLocked(file + " was rewritten in place while the server ran.");
  } else {
    UnanchorLocked(file + " was written to by something other than the server while it ran.");
  }
  return false;
}

Status AuditService::CheckpointLocked() {
  if (!key_) return Fail(ErrorCode::kInternal, "audit_checkpoint", "Audit checkpoints are not started.");
  // Nothing is signed over a trail that broke its anchor, nor into a checkpoint file someone else
  // changed: a new file's first line would vouch for whatever the trail holds by then.
  if (!CheckpointFileIntactLocked()) return Ok();
  ROUNDS_ASSIGN_OR_RETURN(auto head, store_.Read([](store::ReadTx& tx) { return tx.LastAuditRecord(); }));
  std::int64_t head_seq = head ? head->seq : 0;
  if (head_seq < last_checkpoint_seq_) {
    // The chain is shorter than what was signed: records were removed. Verification names it;
    // the log says so at once.
    log::Error("audit_chain_truncated", {{"head_seq", head_seq}, {"checkpoint_seq", last_checkpoint_seq_}});
    return Ok();
  }
  if (!head || (head_seq == last_checkpoint_seq_ && last_checkpoint_rooted_)) return Ok();
  ROUNDS_ASSIGN_OR_RETURN(MerkleHash root, tree_.GrowTo(head->seq, head->hash));
  UnixMillis now = clock_.NowMillis();
  Checkpoint checkpoint =
      governance::audit::SignCheckpoint(head->seq, head->hash, now, *key_, governance::audit::MerkleHex(root));
  const Status appended = AppendCheckpoint(files_.checkpoints, checkpoint);
  checkpoint_file_ = IdentityOf(files_.checkpoints);  // as this server left it, written or not
  ROUNDS_RETURN_IF_ERROR(appended);
  last_checkpoint_seq_ = head->seq;
  last_checkpoint_rooted_ = true;
  last_checkpoint_time_ = now;
  if (witness_) witness_->Witness(checkpoint, now);  // once it is on disk here
  return Ok();
}

void AuditService::Run() {
  NameThisThread("audit");
  using std::chrono::milliseconds;
  const auto interval = milliseconds(std::max<std::int64_t>(1, config_.audit_checkpoint_seconds) * 1000);
  // Polls the head often enough that the record threshold is met closely, and the time limit too.
  const auto poll = std::min(milliseconds(250), interval);
  auto last_signed = std::chrono::steady_clock::now();
  std::unique_lock lock(run_mutex_);
  while (!stopping_) {
    wake_.wait_for(lock, poll, [this] { return stopping_; });
    if (stopping_) break;
    lock.unlock();
    {
      std::lock_guard checkpoint_lock(checkpoint_mutex_);
      (void)CheckpointFileIntactLocked();  // a change to the file is reported within a poll
      auto head = store_.Read([](store::ReadTx& tx) { return tx.LastAuditRecord(); });
      if (witness_ && head) witness_->FeedTo(*head ? (**head).seq : 0);
      std::int64_t pending = head && *head ? (**head).seq - last_checkpoint_seq_ : 0;
      bool due = pending >= config_.audit_checkpoint_records ||
                 (pending > 0 && std::chrono::steady_clock::now() - last_signed >= interval);
      if (due) {
        if (auto s = CheckpointLocked(); !s) {
          log::Error("audit_checkpoint_failed", {{"reason", s.error().public_message}, {"detail", s.error().internal_message}});
        } else {
          last_signed = std::chrono::steady_clock::now();
        }
      } else if (pending <= 0) {
        last_signed = std::chrono::steady_clock::now();  // nothing unanchored: the window starts with the next record
      }
    }
    ChangeKeyIfDue();
    if (config_.audit_verify_hours > 0) {
      bool due = false;
      {
        std::lock_guard verify_lock(verify_mutex_);
        const UnixMillis checked_at = LastCheckedAtLocked();
        const UnixMillis since = checked_at != 0 ? checked_at : started_at_;
        due = !verifying_ && !verify_cancel_ && clock_.NowMillis() - since >= config_.audit_verify_hours * 3'600'000;
      }
      if (due) {
        if (auto s = BeginVerification(Actor::System()); !s) {
          log::Error("audit_verify_failed", {{"reason", s.error().public_message}, {"detail", s.error().internal_message}});
        }
      }
    }
    lock.lock();
  }
}

// ---- Compliance operations ----------------------------------------------------------------------

Status AuditService::RequireCompliance(const Actor& actor, const char* action, const json& details) {
  ROUNDS_ASSIGN_OR_RETURN(Actor current, store_.Read([&](store::ReadTx& tx) { return internal::Current(tx, actor); }));
  if (current.IsCompliance()) return Ok();
  domain::AuditRecord denied = AuditEntry(current, action, "audit_log", "", clock_.NowMillis());
  denied.outcome = domain::AuditOutcome::kDenied;
  denied.reason = "compliance_required";
  ROUNDS_RETURN_IF_ERROR(AuditNow(store_, std::move(denied), details));
  return Forbidden("compliance_required", "Only compliance officers can use the audit trail.");
}

namespace {

// "Patient/mrn-" and 16 lower-case hex digits, as Pseudonyms::PatientRef writes it.
bool IsPatientRef(std::string_view ref) {
  constexpr std::string_view kPrefix = "Patient/mrn-";
  if (ref.size() != kPrefix.size() + 16 || ref.substr(0, kPrefix.size()) != kPrefix) return false;
  return std::all_of(ref.begin() + kPrefix.size(), ref.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

}  // namespace

Result<json> AuditService::Search(const Actor& actor, store::AuditQuery query, std::string_view patient_mrn) {
  query.limit = internal::ClampLimit(query.limit);
  query.after_seq.reset();
  if (!query.patient_ref.empty() && !IsPatientRef(query.patient_ref)) {
    return InvalidArgument("invalid_value", "'patient_ref' is a reference as records show it: Patient/mrn- and 16 hex digits.",
                           "patient_ref");
  }
  if (!patient_mrn.empty()) {
    if (!query.patient_ref.empty()) {
      return InvalidArgument("invalid_value", "Give either 'patient' or 'patient_ref', not both.", "patient");
    }
    if (patient_mrn.size() > 64 || !domain::IsValidUtf8(patient_mrn) || governance::phi::NormalizeMrn(patient_mrn).empty()) {
      return InvalidArgument("invalid_value", "'patient' is an MRN: letters and digits, at most 64 characters.", "patient");
    }
    ROUNDS_ASSIGN_OR_RETURN(std::string key,
                            store_.Read([](store::ReadTx& tx) { return tx.ServerSecret("pseudonym_key"); }));
    query.patient_ref = governance::policy::Pseudonyms(std::move(key)).PatientRef(patient_mrn);
  }
  for (const auto& [name, text] : {std::pair<const char*, const std::string&>{"action", query.action_prefix},
                                   {"object_type", query.object_type},
                                   {"object_id", query.object_id}}) {
    if (text.size() > 200 || !domain::IsValidUtf8(text)) {
      return InvalidArgument("invalid_value", std::string("'") + name + "' must be text of at most 200 bytes.",
                             name);
    }
  }
  json filters = json::object();
  if (query.actor_id) filters["actor_id"] = *query.actor_id;
  if (!query.action_prefix.empty()) filters["action"] = query.action_prefix;
  if (!query.object_type.empty()) filters["object_type"] = query.object_type;
  if (!query.object_id.empty()) filters["object_id"] = query.object_id;
  if (!query.patient_ref.empty()) filters["patient_ref"] = query.patient_ref;  // never the MRN
  if (query.outcome) filters["outcome"] = domain::ToString(*query.outcome);
  if (query.from) filters["from"] = *query.from;
  if (query.to) filters["to"] = *query.to;
  ROUNDS_RETURN_IF_ERROR(RequireCompliance(actor, "audit.search", filters));
  // Each actor, and each space a record is about, as named now, read with the records: the record
  // itself keeps the ids only, and an officer reading a page of the trail asks "who" and "where"
  // of every row.
  std::map<domain::UserId, json> actors;
  std::map<std::string, json> spaces;
  ROUNDS_ASSIGN_OR_RETURN(auto records, store_.Read([&](store::ReadTx& tx) -> Result<std::vector<domain::AuditRecord>> {
    ROUNDS_ASSIGN_OR_RETURN(auto found, tx.SearchAudit(query));
    for (const auto& r : found) {
      if (r.object_type == "space" && !spaces.contains(r.object_id)) {
        domain::SpaceId id = 0;
        auto [end, ec] = std::from_chars(r.object_id.data(), r.object_id.data() + r.object_id.size(), id);
        std::optional<domain::Space> space;
        if (ec == std::errc() && end == r.object_id.data() + r.object_id.size()) {
          ROUNDS_ASSIGN_OR_RETURN(space, tx.FindSpace(id));
        }
        json ref = nullptr;
        if (space) {
          ROUNDS_ASSIGN_OR_RETURN(ref, internal::NamedSpaceRef(tx, *space));
        }
        spaces[r.object_id] = std::move(ref);
      }
      if (r.actor_id == 0 || actors.contains(r.actor_id)) continue;
      ROUNDS_ASSIGN_OR_RETURN(auto user, tx.FindUser(r.actor_id));
      actors[r.actor_id] = user ? UserRefJson(*user) : json(nullptr);
    }
    return found;
  }));
  filters["count"] = records.size();
  // A search of one patient's records is an access about that patient: on their trail too.
  domain::AuditRecord searched = AuditEntry(actor, "audit.search", "audit_log", "", clock_.NowMillis());
  searched.patient_ref = query.patient_ref;
  ROUNDS_RETURN_IF_ERROR(AuditNow(store_, std::move(searched), filters));
  json items = json::array();
  for (const auto& r : records) {
    json item = AuditRecordJson(r);
    item["actor"] = r.actor_id != 0 ? actors[r.actor_id] : json(nullptr);
    if (r.object_type == "space") item["space"] = spaces[r.object_id];
    items.push_back(std::move(item));
  }
  json next = records.size() == static_cast<std::size_t>(query.limit) ? json(std::to_string(records.back().seq)) : json(nullptr);
  return json{{"items", items}, {"next_cursor", next}};
}

Result<json> AuditService::InclusionProof(const Actor& actor, std::int64_t seq, std::optional<std::int64_t> tree_size) {
  json details{{"kind", "inclusion"}, {"seq", seq}};
  if (tree_size) details["tree_size"] = *tree_size;
  return GiveProof(actor, std::move(details), std::to_string(seq), "tree_size",
                   [&] { return InclusionProofDocument(store_, files_.checkpoints, seq, tree_size); });
}

Result<json> AuditService::ConsistencyProof(const Actor& actor, std::int64_t from, std::optional<std::int64_t> to) {
  json details{{"kind", "consistency"}, {"from", from}};
  if (to) details["to"] = *to;
  return GiveProof(actor, std::move(details), "", "to",
                   [&] { return ConsistencyProofDocument(store_, files_.checkpoints, from, to); });
}

Result<json> AuditService::GiveProof(const Actor& actor, json details, std::string object_id, const char* size_field,
                                     const std::function<Result<json>()>& prove) {
  ROUNDS_RETURN_IF_ERROR(RequireCompliance(actor, "audit.proof", details));
  ROUNDS_ASSIGN_OR_RETURN(json document, prove());
  details[size_field] = document[size_field];  // the signed size proved against, given or not
  ROUNDS_RETURN_IF_ERROR(
      AuditNow(store_, AuditEntry(actor, "audit.proof", "audit_log", std::move(object_id), clock_.NowMillis()), details));
  return document;
}

Result<json> AuditService::StartVerification(const Actor& actor) {
  ROUNDS_RETURN_IF_ERROR(RequireCompliance(actor, "audit.verify", json::object()));
  ROUNDS_RETURN_IF_ERROR(BeginVerification(actor));
  return CurrentStatus();
}

json AuditService::CurrentStatus() const {
  json status;
  {
    std::lock_guard lock(verify_mutex_);
    status = StatusLocked();
  }
  // The newest checkpoint that signs a root, read outside the lock: what an officer hands an
  // auditor to hold the trail to.
  auto last = FindRootedCheckpoint(files_.checkpoints, std::nullopt);
  status["signed_tree"] = last && *last ? json{{"size", (*last)->seq}, {"root", (*last)->root}, {"time", (*last)->time}}
                                        : json(nullptr);
  return status;
}

Result<json> AuditService::VerificationStatus(const Actor& actor) {
  ROUNDS_RETURN_IF_ERROR(RequireCompliance(actor, "audit.verify", json::object()));
  return CurrentStatus();
}

void AuditService::AwaitVerification() {
  std::unique_lock lock(verify_mutex_);
  verify_done_.wait(lock, [this] { return !verifying_; });
}

Status AuditService::BeginVerification(const Actor& actor) {
  std::lock_guard lock(verify_mutex_);
  if (verifying_) return Ok();  // the one running answers this request too
  if (verify_cancel_) return Fail(ErrorCode::kUnavailable, "shutting_down", "The server is shutting down.");
  // The thread of the last one has finished its work (verifying_ is false); it may still be exiting.
  if (verify_thread_.joinable()) verify_thread_.join();
  const UnixMillis now = clock_.NowMillis();
  // The record of this verification goes in first, so the verdict covers it too.
  ROUNDS_RETURN_IF_ERROR(AuditNow(store_, AuditEntry(actor, "audit.verify", "audit_log", "", now)));
  verifying_ = true;
  verifying_since_ = now;
  verifying_checked_ = 0;
  std::string started_by = actor.is_system ? "system" : actor.user.username;
  verify_thread_ = std::thread([this, started_by = std::move(started_by), now] { RunVerification(started_by, now); });
  return Ok();
}

void AuditService::RunVerification(std::string started_by, UnixMillis started_at) {
  NameThisThread("audit-verify");
  auto finish = [this](json report) {
    std::lock_guard lock(verify_mutex_);
    if (!report.is_null()) last_verification_ = std::move(report);
    verifying_ = false;
    verify_done_.notify_all();
  };
  std::string public_key;
  {
    std::lock_guard lock(checkpoint_mutex_);
    public_key = first_public_key_;
  }
  if (public_key.empty()) public_key = ReadPublicKeyFile(files_.public_key).value_or("");
  auto progress = [this](std::int64_t checked) -> Status {
    verifying_checked_ = checked;
    if (verify_cancel_) return Fail(ErrorCode::kUnavailable, "shutting_down", "The server is shutting down.");
    return Ok();
  };
  const auto clock_started = std::chrono::steady_clock::now();
  auto verifier = VerifierForCheckpointFile(files_.checkpoints, public_key);
  Result<VerifyReport> verified = verifier ? VerifyStoredChain(store_, std::move(*verifier), progress)
                                           : Result<VerifyReport>(tl::unexpected(verifier.error()));
  if (verified) RequireCheckpointsWithKey(*verified, files_.checkpoints, public_key);
  if (!verified) {
    // Not a verdict: the chain could not be read (or the server is stopping). The last verdict stands.
    if (!verify_cancel_) {
      log::Error("audit_verify_failed", {{"reason", verified.error().public_message},
                                         {"detail", verified.error().internal_message}});
    }
    finish(nullptr);
    return;
  }
  const VerifyReport& report = *verified;
  const UnixMillis now = clock_.NowMillis();
  json result{{"ok", report.ok},
              {"records_checked", report.records_checked},
              {"checkpoints_checked", report.checkpoints_checked},
              {"key_changes", report.key_changes},
              {"first_bad_seq", report.ok ? json(nullptr) : json(report.first_bad_seq)},
              {"problem", report.ok ? json(nullptr) : json(report.problem)},
              {"head_seq", report.records_checked},
              {"checked_at", now},
              {"started_at", started_at},
              {"started_by", started_by},
              {"seconds", std::chrono::duration<double>(std::chrono::steady_clock::now() - clock_started).count()}};
  if (report.ok) {
    log::Info("audit_chain_verified", {{"records", report.records_checked}, {"checkpoints", report.checkpoints_checked}});
  } else {
    log::Error("audit_chain_invalid", {{"first_bad_seq", report.first_bad_seq}, {"problem", report.problem}});
  }
  // The verdict, on the trail it is about and in a file of its own that outlives a restart.
  domain::AuditRecord verdict = AuditEntry(Actor::System(), "audit.verified", "audit_log", "", now);
  if (!report.ok) verdict.outcome = domain::AuditOutcome::kFailure;
  if (auto s = AuditNow(store_, verdict, json{{"records_checked", report.records_checked},
                                              {"checkpoints_checked", report.checkpoints_checked},
                                              {"first_bad_seq", result["first_bad_seq"]}});
      !s) {
    log::Error("audit_verify_failed", {{"reason", s.error().public_message}, {"detail", s.error().internal_message}});
  }
  const std::string partial = files_.last_verification + ".partial";
  {
    std::ofstream out(partial, std::ios::trunc);
    out << result.dump() << "\n";
    out.close();
    std::error_code ec;
    if (out) std::filesystem::rename(partial, files_.last_verification, ec);
    if (!out || ec) log::Error("audit_verify_not_kept", {{"path", files_.last_verification}});
  }
  finish(std::move(result));
}

std::optional<AuditWitness::Stats> AuditService::WitnessState() const {
  if (!witness_) return std::nullopt;
  return witness_->stats();
}

AuditService::VerificationGauge AuditService::LastVerdict() const {
  std::lock_guard lock(verify_mutex_);
  VerificationGauge gauge;
  gauge.running = verifying_;
  if (last_verification_.is_object() && last_verification_.value("ok", json()).is_boolean()) {
    gauge.ok = last_verification_["ok"].get<bool>();
    gauge.checked_at = LastCheckedAtLocked();
  }
  return gauge;
}

UnixMillis AuditService::LastCheckedAtLocked() const {
  if (!last_verification_.is_object()) return 0;
  const json at = last_verification_.value("checked_at", json());
  return at.is_number_integer() ? at.get<UnixMillis>() : 0;
}

json AuditService::StatusLocked() const {
  json out = last_verification_.is_object()
                 ? last_verification_
                 : json{{"ok", nullptr}, {"records_checked", nullptr}, {"checkpoints_checked", nullptr},
                        {"first_bad_seq", nullptr}, {"problem", nullptr}, {"head_seq", nullptr},
                        {"checked_at", nullptr}, {"started_at", nullptr}, {"started_by", nullptr},
                        {"seconds", nullptr}};
  if (!out.contains("key_changes")) out["key_changes"] = nullptr;  // a verdict kept from before the count
  out["anchored"] = unanchored_problem_.empty();
  if (!unanchored_problem_.empty()) {
    // A verification after the anchor broke may find the chain whole (a faithful copy of the
    // checkpoint file put back): the status still says the server stopped signing, and why.
    out["ok"] = false;
    out["problem"] = unanchored_problem_;
  }
  out["running"] = verifying_;
  out["running_since"] = verifying_ ? json(verifying_since_) : json(nullptr);
  out["running_records_checked"] = verifying_ ? json(verifying_checked_.load()) : json(nullptr);
  // Where the checkpoints go off the host, and whether they are getting there.
  if (witness_) {
    const auto w = witness_->stats();
    out["witness"] = {{"address", witness_->address()},
                      {"tls", witness_->tls()},
                      {"connected", w.connected},
                      {"last_sent_at", w.last_sent_at != 0 ? json(w.last_sent_at) : json(nullptr)},
                      {"pending", w.pending},
                      {"dropped", w.dropped},
                      {"feed", w.feeding},
                      {"feed_behind", w.feeding ? json(w.feed_behind) : json(nullptr)}};
  } else {
    out["witness"] = nullptr;
  }
  return out;
}

Result<std::string> AuditService::Export(const Actor& actor, AuditExportFormat format, std::optional<UnixMillis> from,
                                          std::optional<UnixMillis> to) {
  std::string out;
  ROUNDS_RETURN_IF_ERROR(Export(actor, format, from, to, AppendingTo(out)));
  return out;
}

Result<OpenFile> AuditService::ExportToFile(const Actor& actor, AuditExportFormat format, std::optional<UnixMillis> from,
                                            std::optional<UnixMillis> to) {
  const std::string folder =
      config_.data_dir.empty() ? std::filesystem::temp_directory_path().string() : config_.data_dir;
  ROUNDS_ASSIGN_OR_RETURN(OpenFile file, OpenFile::Anonymous(folder));
  ROUNDS_RETURN_IF_ERROR(Export(actor, format, from, to, [&file](std::string_view piece) { return file.Append(piece); }));
  ROUNDS_RETURN_IF_ERROR(file.Rewind());
  return file;
}

Result<std::size_t> AuditService::Export(const Actor& actor, AuditExportFormat format, std::optional<UnixMillis> from,
                                         std::optional<UnixMillis> to, const ExportSink& sink) {
  std::string format_name = format == AuditExportFormat::kCsv ? "csv" : format == AuditExportFormat::kNdjson ? "ndjson" : "fhir";
  json details{{"format", format_name}, {"from", from ? json(*from) : json(nullptr)}, {"to", to ? json(*to) : json(nullptr)}};
  ROUNDS_RETURN_IF_ERROR(RequireCompliance(actor, "audit.export", details));
  store::AuditQuery range;
  range.from = from;
  range.to = to;
  // First counted (holding none of them), so that the export's own record, with the count, is on
  // the trail before any record leaves; then exactly those records are rendered.
  ROUNDS_ASSIGN_OR_RETURN(std::int64_t head, NewestAuditSeq(store_));
  std::size_t count = 0;
  std::int64_t last_seq = 0;
  ROUNDS_RETURN_IF_ERROR(WalkAudit(store_, range, head, [&](const domain::AuditRecord& r) -> Status {
    ++count;
    last_seq = r.seq;
    return Ok();
  }));
  details["count"] = count;
  ROUNDS_RETURN_IF_ERROR(AuditNow(store_, AuditEntry(actor, "audit.export", "audit_log", "", clock_.NowMillis()), details));
  AuditExportWriter writer(format, sink);
  if (count > 0) {
    ROUNDS_RETURN_IF_ERROR(WalkAudit(store_, range, last_seq, [&writer](const domain::AuditRecord& r) { return writer.Add(r); }));
  }
  ROUNDS_RETURN_IF_ERROR(writer.Finish());
  if (writer.count() != count) {
    return Fail(ErrorCode::kInternal, "audit_export", "The audit trail changed while it was exported.",
                std::to_string(writer.count()) + " records rendered, " + std::to_string(count) + " counted");
  }
  return count;
}

}  // namespace rounds::app
