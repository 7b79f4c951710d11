// The Merkle tree of the transparency log (RFC 6962 §2.1, RFC 9162 §2.1):
// leaf and node hashing with domain separation, the tree's right edge for
// appending, inclusion and consistency proofs built from stored subtree
// hashes, and their verification. No I/O: a HashSource supplies stored hashes.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace hie::audit::merkle {

using Hash = std::array<unsigned char, 32>;

// SHA-256(0x00 || leaf).
Hash leafHash(std::string_view leaf);
// SHA-256(0x01 || left || right).
Hash nodeHash(const Hash& left, const Hash& right);
// SHA-256 of the empty string: the root of the empty tree.
Hash emptyRoot();

std::string toBase64(const Hash& hash);
bool fromBase64(const std::string& text, Hash& out);
std::string toHex(const Hash& hash);
std::string toBytes(const Hash& hash);
bool fromBytes(std::string_view bytes, Hash& out);

// The largest power of two strictly below n (n >= 2).
std::uint64_t splitPoint(std::uint64_t n);

// Stored hashes of perfect subtrees: level 0 are the leaf hashes; the subtree
// (level, index) covers leaves [index * 2^level, (index + 1) * 2^level).
class HashSource {
 public:
  virtual ~HashSource() = default;
  virtual Result<Hash> perfect(int level, std::uint64_t index) = 0;
};

// MTH(D[begin:end]) for a range that is a node of some tree (aligned on its
// largest power of two, as every range a proof asks for is).
Result<Hash> rangeHash(std::uint64_t begin, std::uint64_t end, HashSource& source);
// Root of the tree of the first size leaves.
Result<Hash> rootHash(std::uint64_t size, HashSource& source);
// PATH(index, D[0:size]) (RFC 6962 §2.1.1): from the leaf's sibling up to the root's child.
Result<std::vector<Hash>> inclusionProof(std::uint64_t index, std::uint64_t size, HashSource& source);
// The path from the node D[begin:end] up to the root of D[0:size]: the siblings of that node and
// of its ancestors, nearest first (PATH of a leaf minus its part inside the node). kInvalidInput
// unless D[begin:end] is a node of that tree. inclusionProof(i, n) is subtreeInclusionProof(i, i + 1, n).
Result<std::vector<Hash>> subtreeInclusionProof(std::uint64_t begin, std::uint64_t end, std::uint64_t size,
                                                HashSource& source);
// PROOF(oldSize, D[0:newSize]) (RFC 6962 §2.1.2); empty when oldSize is 0 or equal to newSize.
Result<std::vector<Hash>> consistencyProof(std::uint64_t oldSize, std::uint64_t newSize, HashSource& source);

// RFC 9162 §2.1.3.2.
bool verifyInclusion(const Hash& leaf, std::uint64_t index, std::uint64_t size, const std::vector<Hash>& proof,
                     const Hash& root);
// RFC 9162 §2.1.4.2; oldSize 0 needs an empty proof, oldSize == newSize an empty proof and equal roots.
bool verifyConsistency(std::uint64_t oldSize, std::uint64_t newSize, const std::vector<Hash>& proof,
                       const Hash& oldRoot, const Hash& newRoot);

// The right edge of a tree: the roots of the perfect subtrees that make up its
// leaves, one per set bit of the size, largest first. Appending needs nothing else.
class Frontier {
 public:
  Frontier() = default;
  // The frontier of a tree of size leaves, from stored hashes.
  static Result<Frontier> load(std::uint64_t size, HashSource& source);

  std::uint64_t size() const { return size_; }
  // Appends a leaf hash; returns the roots of the perfect subtrees of level 1, 2, ... that this
  // leaf completes (leaf index i completes level l when (i + 1) is a multiple of 2^l).
  std::vector<Hash> append(const Hash& leaf);
  Hash root() const;

 private:
  std::uint64_t size_ = 0;
  std::vector<Hash> roots_;  // largest subtree first
};

// A HashSource over leaf hashes held in memory (tests, verifiers of small trees).
class MemoryHashSource : public HashSource {
 public:
  explicit MemoryHashSource(std::vector<Hash> leaves) : leaves_(std::move(leaves)) {}
  Result<Hash> perfect(int level, std::uint64_t index) override;

 private:
  std::vector<Hash> leaves_;
};

}  // namespace hie::audit::merkle
