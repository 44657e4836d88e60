// The tamper-evident audit chain (pure: no I/O, no clock).
//
// Every audit record is hashed over a canonical encoding together with the previous record's
// hash, so changing, removing, inserting or reordering any record breaks every hash after it.
// Periodic checkpoints sign (Ed25519) the chain head and are kept outside the database, so a tail
// truncation or a rewrite of the whole chain by whoever controls the database is caught too.
// No message bodies or other free-text PHI belong in a record: only ids, codes and reasons.
// All functions are thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "core/result.hpp"
#include "domain/audit.hpp"
#include "governance/audit/merkle.hpp"

namespace rounds::governance::audit {

// The hash the first record chains from.
inline constexpr std::string_view kGenesisHash =
    "0000000000000000000000000000000000000000000000000000000000000000";

using Outcome = domain::AuditOutcome;
using domain::AuditRecord;

// The canonical encoding hashed for a record: a JSON object with keys in a fixed (sorted) order,
// minimal escaping, integers in decimal — stable across releases. Excludes `hash` itself.
std::string CanonicalEncoding(const AuditRecord& record);
// Hex SHA-256 of prev_hash ‖ "\n" ‖ CanonicalEncoding(record).
std::string ComputeHash(const AuditRecord& record);
// Fills record.seq, prev_hash and hash so it follows `previous` (nullptr: the first record).
void Chain(AuditRecord& record, const AuditRecord* previous);
// The same, from the previous record's seq and hash (seq 0: the first record).
void Chain(AuditRecord& record, std::int64_t previous_seq, std::string_view previous_hash);

// A signed statement that the chain had `seq` records ending in `head_hash` at `time`, and
// (version 2) that the Merkle tree of those records (merkle.hpp; its size is `seq`) has root
// `root`. Checkpoints signed before the tree have no root and are checked against the chain only.
//
// A key change (version 3) is a checkpoint that also names `next_key`: signed by the key in use,
// it hands signing over to the next key, which signs every checkpoint after it in the file. So
// the first key's public half alone checks a file whose key was changed any number of times, and
// a retired key signs nothing that counts after its hand-over.
struct Checkpoint {
  std::int64_t seq = 0;
  std::string head_hash;
  UnixMillis time = 0;
  std::string signature_hex;       // Ed25519 over SignedText()
  std::string root;                // hex; empty in a version 1 checkpoint (and a key change at seq 0)
  std::string next_key;            // hex public key; empty but in a key change
  // v1: "rounds-audit-checkpoint v1\n<seq>\n<head_hash>\n<time>\n";
  // v2: "rounds-audit-checkpoint v2\n<seq>\n<head_hash>\n<root>\n<time>\n";
  // v3: "rounds-audit-checkpoint v3\n<seq>\n<head_hash>\n<root>\n<time>\nnext-key <next_key>\n".
  std::string SignedText() const;
  // One line of the checkpoint file: "<seq> <head_hash> <time> <signature>[ <root>][ next-key=<key>]".
  std::string ToLine() const;
  static Result<Checkpoint> FromLine(const std::string& line);
  bool ChangesKey() const { return !next_key.empty(); }
};

struct SigningKey {
  std::string public_key_hex;      // 32 bytes
  std::string secret_key_hex;      // 64 bytes (libsodium's seed ‖ public key)
  static SigningKey Generate();
};

// `root`: the Merkle tree's root at `seq` in hex (empty: a version 1 checkpoint, for tests of
// files signed before the tree).
Checkpoint SignCheckpoint(std::int64_t seq, const std::string& head_hash, UnixMillis time,
                          const SigningKey& key, const std::string& root = {});
// The key change from `key` to the key whose public half is `next_public_key_hex`, at the head
// `at` signed (its seq, head hash and root), dated `time`.
Checkpoint SignKeyChange(const Checkpoint& at, UnixMillis time, const SigningKey& key,
                         const std::string& next_public_key_hex);
// Whether `hex` is an Ed25519 public key in hex (64 hex digits).
bool IsPublicKeyHex(std::string_view hex);
bool VerifyCheckpointSignature(const Checkpoint& checkpoint, const std::string& public_key_hex);

struct VerifyReport {
  bool ok = true;
  std::int64_t records_checked = 0;
  std::int64_t checkpoints_checked = 0;
  std::int64_t key_changes = 0;    // validly signed key changes followed (in the first file)
  std::string last_key_hex;        // the key the first file's last checkpoints are checked with
  // The first record that does not verify (0 when ok or when only a checkpoint fails).
  std::int64_t first_bad_seq = 0;
  std::string problem;             // human-readable reason for the first failure
};

// Verifies that `records` (ordered by seq as stored) form an unbroken chain from genesis and
// that every checkpoint is validly signed, by `public_key_hex` up to the first key change and by
// the key each change hands over to after it, in the order given, and matches the chain: its seq
// exists, its head hash equals that record's hash and its root, if it has one, the Merkle root
// of the records up to it. A checkpoint beyond the chain's end means
// records were truncated. Checks everything and reports the first failure: the chain's own
// first, then the checkpoints' in the order given.
VerifyReport VerifyChain(std::span<const AuditRecord> records,
                         std::span<const Checkpoint> checkpoints,
                         const std::string& public_key_hex);

// VerifyChain over records fed one at a time, oldest first, holding none of them: a trail of
// any length verifies in the memory of its checkpoints, about 90 bytes each (a checkpoint's
// signature is checked when it is given and only what the chain is compared with is kept, so a
// checkpoint file read a line at a time is never held whole). Expect() every checkpoint first,
// then Add() every record, then Finish() once.
class ChainVerifier {
 public:
  explicit ChainVerifier(const std::string& public_key_hex);
  ChainVerifier(std::span<const Checkpoint> checkpoints, const std::string& public_key_hex);
  void Expect(const Checkpoint& checkpoint);  // before the first Add()
  // Checkpoints expected after this are a file of their own (a witness's copy): their key
  // changes are followed from the first key again.
  void StartAnotherFile();
  // Hears each complete subtree of the Merkle tree of the records added, as the record that
  // completes it is added (to compare a kept copy of the tree with the records).
  void OnTreeNode(MerkleFrontier::OnComplete on_node) { on_tree_node_ = std::move(on_node); }
  void Add(const AuditRecord& record);
  VerifyReport Finish();

 private:
  enum class Match : std::uint8_t { kNotReached, kMatches, kDiffers, kOtherSeq, kRootDiffers };
  struct Expected {
    std::int64_t seq = 0;
    std::array<char, 64> head{};  // the signed head hash (hex); see head_ok
    bool head_ok = false;         // the signed hash was 64 characters, as every record's is
    std::optional<MerkleHash> root;  // the signed Merkle root (version 2)
    bool signature_ok = false;
    Match match = Match::kNotReached;
  };
  void Fail(std::int64_t seq, std::string problem);
  void SortOnce();

  std::string first_key_hex_;      // the key the checkpoints start with
  std::string public_key_hex_;     // the key the next checkpoint given must be signed with
  std::string last_change_line_;   // the last key change followed
  std::int64_t key_changes_ = 0;
  struct FirstFile {
    std::int64_t key_changes = 0;
    std::string last_key_hex;
  };
  std::optional<FirstFile> first_file_;  // set once another file starts
  bool sorted_ = false;

  VerifyReport report_;
  std::string expected_prev_;
  std::int64_t expected_seq_ = 1;
  std::int64_t position_ = 0;             // records added so far
  MerkleFrontier tree_;                   // of the records added so far, as stored
  MerkleFrontier::OnComplete on_tree_node_;
  std::vector<Expected> checkpoints_;     // in the order given
  std::vector<std::size_t> by_seq_;       // indices into checkpoints_, by seq
  std::size_t next_ = 0;                  // the first of by_seq_ not yet reached
};

}  // namespace rounds::governance::audit
