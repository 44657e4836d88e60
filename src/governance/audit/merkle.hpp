// The audit trail's Merkle tree (RFC 9162 section 2.1; pure: no I/O, no clock).
//
// The trail's records are the leaves in seq order: leaf i (from 0) is record seq i + 1, and its
// data is the record's 32-byte hash, so a leaf is SHA-256(0x00 ‖ record hash) and an interior
// node SHA-256(0x01 ‖ left ‖ right); the domain separation keeps a leaf from passing for a node.
// A signed checkpoint carries the tree's root at its seq (its size). With it, anyone holding the
// signed roots can check, without the trail, that one record is in the tree of a checkpoint
// (an inclusion proof: about log2(n) hashes) and that a later checkpoint's tree only added records
// to an earlier one's (a consistency proof): the trail is append-only between them.
//
// Proofs are built from the hashes of complete subtrees (a subtree of 2^level leaves starting at
// leaf index · 2^level), which the caller supplies from wherever it keeps them. All functions are
// thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace rounds::governance::audit {

using MerkleHash = std::array<unsigned char, 32>;

// SHA-256(0x00 ‖ data) and SHA-256(0x01 ‖ left ‖ right).
MerkleHash MerkleLeafHash(std::string_view data);
MerkleHash MerkleNodeHash(const MerkleHash& left, const MerkleHash& right);
// The root of the empty tree: SHA-256 of nothing.
MerkleHash MerkleEmptyRoot();
// The leaf of an audit record, from its hash in hex (the 64 characters the trail keeps);
// nullopt when `record_hash_hex` is not 64 hex digits.
std::optional<MerkleHash> AuditLeafHash(std::string_view record_hash_hex);

std::string MerkleHex(const MerkleHash& hash);
std::optional<MerkleHash> MerkleHashFromHex(std::string_view hex);

// The hash of the complete subtree of 2^level leaves starting at leaf index << level.
using SubtreeSource = std::function<Result<MerkleHash>(int level, std::uint64_t index)>;

// MTH(D[begin:end]) for a range the proofs below ask for: `begin` a multiple of the largest
// power of two not above end - begin (every range RFC 9162's recursion splits a tree into is).
Result<MerkleHash> MerkleRangeRoot(std::uint64_t begin, std::uint64_t end, const SubtreeSource& source);
// RFC 9162 2.1.3.1: the inclusion proof of leaf `index` in the tree of `size` leaves, lowest first.
// kInvalidArgument when index >= size.
Result<std::vector<MerkleHash>> MerkleInclusionProof(std::uint64_t index, std::uint64_t size,
                                                     const SubtreeSource& source);
// RFC 9162 2.1.4.1: the consistency proof from the tree of `from` leaves to that of `to`.
// Empty when from is 0 or equals to; kInvalidArgument when from > to.
Result<std::vector<MerkleHash>> MerkleConsistencyProof(std::uint64_t from, std::uint64_t to,
                                                       const SubtreeSource& source);

// RFC 9162 2.1.3.2 and 2.1.4.2: whether the proof shows leaf `leaf` at `index` in the tree of
// `size` leaves whose root is `root`; whether the tree of `from` leaves with root `from_root` is
// a prefix of the tree of `to` leaves with root `to_root`.
bool VerifyMerkleInclusion(std::uint64_t index, std::uint64_t size, const MerkleHash& leaf,
                           std::span<const MerkleHash> proof, const MerkleHash& root);
bool VerifyMerkleConsistency(std::uint64_t from, std::uint64_t to, const MerkleHash& from_root,
                             const MerkleHash& to_root, std::span<const MerkleHash> proof);

// The tree grown a leaf at a time from leaf 0, holding only the roots of its largest complete
// subtrees (one per set bit of its size: at most 64 hashes). The root at any size, and every
// complete subtree as it completes, for whoever keeps them.
class MerkleFrontier {
 public:
  // Hears each complete subtree of level >= 1 as the leaf that completes it is appended.
  using OnComplete = std::function<void(int level, std::uint64_t index, const MerkleHash& hash)>;

  MerkleFrontier() = default;
  // The frontier of a tree of `size` leaves from the roots of its largest complete subtrees,
  // largest (leftmost) first: one per set bit of `size`. kInvalidArgument otherwise.
  static Result<MerkleFrontier> FromSubtrees(std::uint64_t size, std::vector<MerkleHash> subtrees);
  // The complete subtrees FromSubtrees() needs for `size`, largest first, as (level, index).
  static std::vector<std::pair<int, std::uint64_t>> SubtreesOf(std::uint64_t size);

  void Append(const MerkleHash& leaf, const OnComplete& on_complete = nullptr);
  std::uint64_t size() const { return size_; }
  MerkleHash Root() const;

 private:
  std::uint64_t size_ = 0;
  std::vector<MerkleHash> subtrees_;  // largest first
};

}  // namespace rounds::governance::audit
