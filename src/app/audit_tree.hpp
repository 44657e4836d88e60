// The audit trail's Merkle tree (governance/audit/merkle.hpp) over the records in the store.
//
// Every complete subtree of kKeptLevel or more (256 leaves and up) is kept in the store as the
// tree grows, so the root at any size, and any inclusion or consistency proof, costs a few dozen
// lookups and at most 2^kKeptLevel records read, however long the trail. Whatever is not kept is
// computed from the records, so a database whose tree was never grown still proves correctly,
// just more slowly. Nothing here is trusted: the roots are signed into checkpoints, verification
// recomputes the tree from the records, and a proof is checked against a signed root.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/result.hpp"
#include "governance/audit/audit_chain.hpp"
#include "governance/audit/merkle.hpp"
#include "store/store.hpp"

namespace rounds::app {

using governance::audit::MerkleHash;

inline constexpr int kAuditTreeKeptLevel = 8;

// The hashes of complete subtrees of the trail as stored: kept ones looked up, the rest computed
// from the records. kNotFound "audit_tree_range" when the trail holds fewer records than asked.
// Thread-safe: reads only.
governance::audit::SubtreeSource StoredSubtrees(store::Store& store);

// The root of the trail's first `size` records.
Result<MerkleHash> StoredTreeRoot(store::Store& store, std::int64_t size);
// RFC 9162 proofs over the stored trail: record `seq` (leaf seq - 1) in the tree of `size`
// records; the tree of `from` records a prefix of the tree of `to`.
Result<std::vector<MerkleHash>> StoredInclusionProof(store::Store& store, std::int64_t seq, std::int64_t size);
Result<std::vector<MerkleHash>> StoredConsistencyProof(store::Store& store, std::int64_t from, std::int64_t to);

// Proof documents: what an officer hands to whoever checks the trail without access to it (an
// auditor, a regulator, the witness's keeper). Each carries the proof, the hashes it is about, and
// the signed checkpoint(s) of its tree size(s), so that the public key alone checks it
// (CheckProofDocument). Only version 2 checkpoints (those that sign a root) can anchor a proof.
//
// The checkpoint of the file at `checkpoints_path` that signs the tree of `size` records, or the
// last one when `size` is none. kNotFound "unsigned_tree_size" when no checkpoint signs a root for
// that size (`field` names the parameter), "no_signed_tree" when none signs one at all.
Result<governance::audit::Checkpoint> FindSignedTree(const std::string& checkpoints_path,
                                                     std::optional<std::int64_t> size, const char* field);
// {kind: "inclusion", seq, leaf_index, tree_size, record_hash, leaf_hash, proof: [hex],
//  checkpoint: {seq, head_hash, root, time, signature, line}, verified}: record `seq` in the
// signed tree of `tree_size` records (the last signed when none). `verified`: the proof checks
// against the signed root (false only if the kept tree was altered).
Result<nlohmann::json> InclusionProofDocument(store::Store& store, const std::string& checkpoints_path,
                                              std::int64_t seq, std::optional<std::int64_t> tree_size);
// {kind: "consistency", from, to, proof: [hex], from_checkpoint, to_checkpoint, verified}: the
// signed tree of `from` records is a prefix of the signed tree of `to` (the last signed when none).
Result<nlohmann::json> ConsistencyProofDocument(store::Store& store, const std::string& checkpoints_path,
                                                std::int64_t from, std::optional<std::int64_t> to);
// Checks a proof document with nothing but the signing key's public half: each checkpoint's
// signature, that it is the checkpoint of the proof's size(s), and the proof against its root(s).
// "" when it holds, else why not. kInvalidArgument when `document` is not a proof document.
Result<std::string> CheckProofDocument(const nlohmann::json& document, const std::string& public_key_hex);

// Grows the kept tree with the trail. One owner (the checkpoint thread); not thread-safe.
class AuditTreeKeeper {
 public:
  explicit AuditTreeKeeper(store::Store& store) : store_(store) {}

  // Brings the tree to the trail's first `size` records, whose last has hash `head_hash`,
  // keeping every subtree of kAuditTreeKeptLevel or more that completes, and returns its root.
  // The first call starts from what the store keeps. kInternal when the records read do not end
  // in `head_hash`, or the trail is shorter than the tree already grown (records were removed).
  Result<MerkleHash> GrowTo(std::int64_t size, const std::string& head_hash);
  std::int64_t size() const { return loaded_ ? static_cast<std::int64_t>(frontier_.size()) : 0; }

 private:
  Status Load(std::int64_t size);
  Result<MerkleHash> Grow(std::int64_t size, const std::string& head_hash);

  store::Store& store_;
  bool loaded_ = false;
  std::int64_t kept_leaves_ = 0;  // the leaves the store's kept subtrees covered when loaded
  governance::audit::MerkleFrontier frontier_;
};

}  // namespace rounds::app
