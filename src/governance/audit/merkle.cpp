#include "governance/audit/merkle.hpp"

#include <algorithm>
#include <bit>
#include <cstring>

#include "core/crypto.hpp"

namespace rounds::governance::audit {
namespace {

MerkleHash Digest(std::string_view bytes) {
  const std::string raw = crypto::Sha256(bytes);
  MerkleHash out{};
  std::memcpy(out.data(), raw.data(), std::min(raw.size(), out.size()));
  return out;
}

// The largest power of two smaller than n (n >= 2): RFC 9162's k.
std::uint64_t SplitPoint(std::uint64_t n) { return std::bit_floor(n - 1); }

bool IsPowerOfTwo(std::uint64_t n) { return n != 0 && (n & (n - 1)) == 0; }

// RFC 9162 2.1.3.1 PATH(m, D[begin:end]), appended to `out` lowest first.
Status AppendPath(std::uint64_t m, std::uint64_t begin, std::uint64_t end, const SubtreeSource& source,
                  std::vector<MerkleHash>& out) {
  const std::uint64_t n = end - begin;
  if (n <= 1) return Ok();
  const std::uint64_t k = SplitPoint(n);
  if (m < k) {
    ROUNDS_RETURN_IF_ERROR(AppendPath(m, begin, begin + k, source, out));
    ROUNDS_ASSIGN_OR_RETURN(auto right, MerkleRangeRoot(begin + k, end, source));
    out.push_back(right);
  } else {
    ROUNDS_RETURN_IF_ERROR(AppendPath(m - k, begin + k, end, source, out));
    ROUNDS_ASSIGN_OR_RETURN(auto left, MerkleRangeRoot(begin, begin + k, source));
    out.push_back(left);
  }
  return Ok();
}

// RFC 9162 2.1.4.1 SUBPROOF(m, D[begin:end], b), appended to `out`.
Status AppendSubproof(std::uint64_t m, std::uint64_t begin, std::uint64_t end, bool whole,
                      const SubtreeSource& source, std::vector<MerkleHash>& out) {
  const std::uint64_t n = end - begin;
  if (m == n) {
    if (whole) return Ok();
    ROUNDS_ASSIGN_OR_RETURN(auto root, MerkleRangeRoot(begin, end, source));
    out.push_back(root);
    return Ok();
  }
  const std::uint64_t k = SplitPoint(n);
  if (m <= k) {
    ROUNDS_RETURN_IF_ERROR(AppendSubproof(m, begin, begin + k, whole, source, out));
    ROUNDS_ASSIGN_OR_RETURN(auto right, MerkleRangeRoot(begin + k, end, source));
    out.push_back(right);
  } else {
    ROUNDS_RETURN_IF_ERROR(AppendSubproof(m - k, begin + k, end, false, source, out));
    ROUNDS_ASSIGN_OR_RETURN(auto left, MerkleRangeRoot(begin, begin + k, source));
    out.push_back(left);
  }
  return Ok();
}

}  // namespace

MerkleHash MerkleLeafHash(std::string_view data) {
  std::string input;
  input.reserve(data.size() + 1);
  input.push_back('\0');
  input.append(data);
  return Digest(input);
}

MerkleHash MerkleNodeHash(const MerkleHash& left, const MerkleHash& right) {
  std::array<char, 65> input{};
  input[0] = '\x01';
  std::memcpy(input.data() + 1, left.data(), left.size());
  std::memcpy(input.data() + 33, right.data(), right.size());
  return Digest(std::string_view(input.data(), input.size()));
}

MerkleHash MerkleEmptyRoot() { return Digest({}); }

std::optional<MerkleHash> AuditLeafHash(std::string_view record_hash_hex) {
  if (record_hash_hex.size() != 64) return std::nullopt;
  auto raw = crypto::FromHex(record_hash_hex);
  if (!raw || raw->size() != 32) return std::nullopt;
  return MerkleLeafHash(*raw);
}

std::string MerkleHex(const MerkleHash& hash) {
  return crypto::ToHex(std::string_view(reinterpret_cast<const char*>(hash.data()), hash.size()));
}

std::optional<MerkleHash> MerkleHashFromHex(std::string_view hex) {
  if (hex.size() != 64) return std::nullopt;
  auto raw = crypto::FromHex(hex);
  if (!raw || raw->size() != 32) return std::nullopt;
  MerkleHash out{};
  std::memcpy(out.data(), raw->data(), out.size());
  return out;
}

Result<MerkleHash> MerkleRangeRoot(std::uint64_t begin, std::uint64_t end, const SubtreeSource& source) {
  if (end <= begin) return InvalidArgument("bad_tree_range", "A tree range must hold at least one leaf.");
  const std::uint64_t n = end - begin;
  if (IsPowerOfTwo(n) && begin % n == 0) return source(std::countr_zero(n), begin / n);
  const std::uint64_t k = SplitPoint(n);
  ROUNDS_ASSIGN_OR_RETURN(auto left, MerkleRangeRoot(begin, begin + k, source));
  ROUNDS_ASSIGN_OR_RETURN(auto right, MerkleRangeRoot(begin + k, end, source));
  return MerkleNodeHash(left, right);
}

Result<std::vector<MerkleHash>> MerkleInclusionProof(std::uint64_t index, std::uint64_t size,
                                                     const SubtreeSource& source) {
  if (index >= size) {
    return InvalidArgument("bad_tree_index", "The record is not in a tree of that size.");
  }
  std::vector<MerkleHash> out;
  ROUNDS_RETURN_IF_ERROR(AppendPath(index, 0, size, source, out));
  return out;
}

Result<std::vector<MerkleHash>> MerkleConsistencyProof(std::uint64_t from, std::uint64_t to,
                                                       const SubtreeSource& source) {
  if (from > to) return InvalidArgument("bad_tree_sizes", "A consistency proof goes from a smaller tree to a larger one.");
  std::vector<MerkleHash> out;
  if (from == 0 || from == to) return out;
  ROUNDS_RETURN_IF_ERROR(AppendSubproof(from, 0, to, true, source, out));
  return out;
}

bool VerifyMerkleInclusion(std::uint64_t index, std::uint64_t size, const MerkleHash& leaf,
                           std::span<const MerkleHash> proof, const MerkleHash& root) {
  if (index >= size) return false;
  std::uint64_t fn = index;
  std::uint64_t sn = size - 1;
  MerkleHash r = leaf;
  for (const MerkleHash& p : proof) {
    if (sn == 0) return false;
    if ((fn & 1) != 0 || fn == sn) {
      r = MerkleNodeHash(p, r);
      if ((fn & 1) == 0) {
        while ((fn & 1) == 0 && fn != 0) {
          fn >>= 1;
          sn >>= 1;
        }
      }
    } else {
      r = MerkleNodeHash(r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  return sn == 0 && r == root;
}

bool VerifyMerkleConsistency(std::uint64_t from, std::uint64_t to, const MerkleHash& from_root,
                             const MerkleHash& to_root, std::span<const MerkleHash> proof) {
  if (from > to) return false;
  if (from == to) return proof.empty() && from_root == to_root;
  if (from == 0) return proof.empty();
  if (proof.empty()) return false;
  std::vector<MerkleHash> path;
  path.reserve(proof.size() + 1);
  if (IsPowerOfTwo(from)) path.push_back(from_root);
  path.insert(path.end(), proof.begin(), proof.end());
  std::uint64_t fn = from - 1;
  std::uint64_t sn = to - 1;
  while ((fn & 1) != 0) {
    fn >>= 1;
    sn >>= 1;
  }
  MerkleHash fr = path.front();
  MerkleHash sr = path.front();
  for (std::size_t i = 1; i < path.size(); ++i) {
    const MerkleHash& c = path[i];
    if (sn == 0) return false;
    if ((fn & 1) != 0 || fn == sn) {
      fr = MerkleNodeHash(c, fr);
      sr = MerkleNodeHash(c, sr);
      while ((fn & 1) == 0 && fn != 0) {
        fn >>= 1;
        sn >>= 1;
      }
    } else {
      sr = MerkleNodeHash(sr, c);
    }
    fn >>= 1;
    sn >>= 1;
  }
  return sn == 0 && fr == from_root && sr == to_root;
}

std::vector<std::pair<int, std::uint64_t>> MerkleFrontier::SubtreesOf(std::uint64_t size) {
  std::vector<std::pair<int, std::uint64_t>> out;
  std::uint64_t begin = 0;
  for (int level = 63; level >= 0; --level) {
    const std::uint64_t width = std::uint64_t{1} << level;
    if ((size & width) == 0) continue;
    out.emplace_back(level, begin >> level);
    begin += width;
  }
  return out;
}

Result<MerkleFrontier> MerkleFrontier::FromSubtrees(std::uint64_t size, std::vector<MerkleHash> subtrees) {
  if (subtrees.size() != static_cast<std::size_t>(std::popcount(size))) {
    return InvalidArgument("bad_frontier", "A tree's frontier holds one subtree per set bit of its size.");
  }
  MerkleFrontier frontier;
  frontier.size_ = size;
  frontier.subtrees_ = std::move(subtrees);
  return frontier;
}

void MerkleFrontier::Append(const MerkleHash& leaf, const OnComplete& on_complete) {
  MerkleHash h = leaf;
  std::uint64_t carry = size_;
  int level = 0;
  const std::uint64_t next = size_ + 1;
  while ((carry & 1) != 0) {
    h = MerkleNodeHash(subtrees_.back(), h);
    subtrees_.pop_back();
    carry >>= 1;
    ++level;
    if (on_complete) on_complete(level, (next >> level) - 1, h);
  }
  subtrees_.push_back(h);
  size_ = next;
}

MerkleHash MerkleFrontier::Root() const {
  if (subtrees_.empty()) return MerkleEmptyRoot();
  MerkleHash r = subtrees_.back();
  for (auto it = subtrees_.rbegin() + 1; it != subtrees_.rend(); ++it) r = MerkleNodeHash(*it, r);
  return r;
}

}  // namespace rounds::governance::audit
