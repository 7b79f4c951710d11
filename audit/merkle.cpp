#include "audit/merkle.h"

#include <openssl/evp.h>

#include <cstdlib>

#include "audit/signing_key.h"
#include "common/base64.h"
#include "common/hex.h"
#include "common/ossl.h"

namespace hie::audit::merkle {
namespace {

Hash sha256Of(unsigned char prefix, const unsigned char* a, std::size_t aLen, const unsigned char* b,
              std::size_t bLen) {
  // One context per thread, reused: hashing a leaf is on the writer's path.
  thread_local ossl::UniquePtr<EVP_MD_CTX> ctx(EVP_MD_CTX_new());
  Hash out;
  unsigned int len = 0;
  const bool ok = ctx && EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) == 1 &&
                  EVP_DigestUpdate(ctx.get(), &prefix, 1) == 1 && (aLen == 0 || EVP_DigestUpdate(ctx.get(), a, aLen) == 1) &&
                  (bLen == 0 || EVP_DigestUpdate(ctx.get(), b, bLen) == 1) &&
                  EVP_DigestFinal_ex(ctx.get(), out.data(), &len) == 1;
  if (!ok) std::abort();  // SHA-256 failing is a broken invariant, not bad input
  return out;
}

bool isPowerOfTwo(std::uint64_t n) { return n != 0 && (n & (n - 1)) == 0; }

int log2Exact(std::uint64_t n) {
  int l = 0;
  while ((std::uint64_t{1} << l) < n) ++l;
  return l;
}

// SUBPROOF(m, D[begin:end], b) of RFC 6962 §2.1.2, appending to proof.
Result<bool> subproof(std::uint64_t m, std::uint64_t begin, std::uint64_t end, bool complete, HashSource& source,
                      std::vector<Hash>& proof) {
  const std::uint64_t n = end - begin;
  if (m == n) {
    if (complete) return true;
    auto h = rangeHash(begin, end, source);
    if (!h) return tl::make_unexpected(h.error());
    proof.push_back(*h);
    return true;
  }
  const std::uint64_t k = splitPoint(n);
  if (m <= k) {
    auto inner = subproof(m, begin, begin + k, complete, source, proof);
    if (!inner) return inner;
    auto right = rangeHash(begin + k, end, source);
    if (!right) return tl::make_unexpected(right.error());
    proof.push_back(*right);
    return true;
  }
  auto inner = subproof(m - k, begin + k, end, false, source, proof);
  if (!inner) return inner;
  auto left = rangeHash(begin, begin + k, source);
  if (!left) return tl::make_unexpected(left.error());
  proof.push_back(*left);
  return true;
}

}  // namespace

Hash leafHash(std::string_view leaf) {
  return sha256Of(0x00, reinterpret_cast<const unsigned char*>(leaf.data()), leaf.size(), nullptr, 0);
}

Hash nodeHash(const Hash& left, const Hash& right) {
  return sha256Of(0x01, left.data(), left.size(), right.data(), right.size());
}

Hash emptyRoot() {
  Hash out;
  unsigned int len = 0;
  if (EVP_Digest("", 0, out.data(), &len, EVP_sha256(), nullptr) != 1) std::abort();
  return out;
}

std::string toBytes(const Hash& hash) { return std::string(reinterpret_cast<const char*>(hash.data()), hash.size()); }

bool fromBytes(std::string_view bytes, Hash& out) {
  if (bytes.size() != out.size()) return false;
  std::copy(bytes.begin(), bytes.end(), out.begin());
  return true;
}

std::string toBase64(const Hash& hash) { return base64Encode(toBytes(hash)); }

bool fromBase64(const std::string& text, Hash& out) {
  std::string raw;
  if (text.size() != 44 || !base64Decode(text, raw) || !fromBytes(raw, out)) return false;
  return toBase64(out) == text;  // canonical encoding only
}

std::string toHex(const Hash& hash) { return lowerHex(hash.data(), hash.size()); }

std::uint64_t splitPoint(std::uint64_t n) {
  std::uint64_t k = 1;
  while (k << 1 < n) k <<= 1;
  return k;
}

Result<Hash> rangeHash(std::uint64_t begin, std::uint64_t end, HashSource& source) {
  if (end <= begin) return fail(ErrorCode::kInternal, "merkle: empty range");
  const std::uint64_t n = end - begin;
  if (isPowerOfTwo(n) && begin % n == 0) return source.perfect(log2Exact(n), begin / n);
  const std::uint64_t k = splitPoint(n);
  auto left = rangeHash(begin, begin + k, source);
  if (!left) return left;
  auto right = rangeHash(begin + k, end, source);
  if (!right) return right;
  return nodeHash(*left, *right);
}

Result<Hash> rootHash(std::uint64_t size, HashSource& source) {
  if (size == 0) return emptyRoot();
  return rangeHash(0, size, source);
}

Result<std::vector<Hash>> inclusionProof(std::uint64_t index, std::uint64_t size, HashSource& source) {
  if (index >= size) return fail(ErrorCode::kInvalidInput, "leaf index beyond the tree");
  return subtreeInclusionProof(index, index + 1, size, source);
}

Result<std::vector<Hash>> subtreeInclusionProof(std::uint64_t nodeBegin, std::uint64_t nodeEnd, std::uint64_t size,
                                                HashSource& source) {
  if (nodeBegin >= nodeEnd || nodeEnd > size) return fail(ErrorCode::kInvalidInput, "the subtree is not inside the tree");
  std::vector<Hash> proof;
  std::uint64_t begin = 0, end = size;
  // Walk down from the root to the node, collecting siblings; the proof lists them nearest first.
  while (begin != nodeBegin || end != nodeEnd) {
    if (end - begin <= 1) return fail(ErrorCode::kInvalidInput, "the subtree is not a node of the tree");
    const std::uint64_t k = splitPoint(end - begin);
    const bool left = nodeEnd <= begin + k;
    if (!left && nodeBegin < begin + k) return fail(ErrorCode::kInvalidInput, "the subtree is not a node of the tree");
    Result<Hash> sibling = left ? rangeHash(begin + k, end, source) : rangeHash(begin, begin + k, source);
    if (!sibling) return tl::make_unexpected(sibling.error());
    proof.push_back(*sibling);
    if (left) {
      end = begin + k;
    } else {
      begin += k;
    }
  }
  return std::vector<Hash>(proof.rbegin(), proof.rend());
}

Result<std::vector<Hash>> consistencyProof(std::uint64_t oldSize, std::uint64_t newSize, HashSource& source) {
  if (oldSize > newSize) return fail(ErrorCode::kInvalidInput, "the old tree is larger than the new one");
  std::vector<Hash> proof;
  if (oldSize == 0 || oldSize == newSize) return proof;
  auto done = subproof(oldSize, 0, newSize, true, source, proof);
  if (!done) return tl::make_unexpected(done.error());
  return proof;
}

bool verifyInclusion(const Hash& leaf, std::uint64_t index, std::uint64_t size, const std::vector<Hash>& proof,
                     const Hash& root) {
  if (index >= size) return false;
  std::uint64_t fn = index, sn = size - 1;
  Hash r = leaf;
  for (const Hash& p : proof) {
    if (sn == 0) return false;
    if ((fn & 1) == 1 || fn == sn) {
      r = nodeHash(p, r);
      if ((fn & 1) == 0) {
        while ((fn & 1) == 0 && fn != 0) {
          fn >>= 1;
          sn >>= 1;
        }
      }
    } else {
      r = nodeHash(r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  return sn == 0 && r == root;
}

bool verifyConsistency(std::uint64_t oldSize, std::uint64_t newSize, const std::vector<Hash>& proof,
                       const Hash& oldRoot, const Hash& newRoot) {
  if (oldSize > newSize) return false;
  if (oldSize == 0) return proof.empty();
  if (oldSize == newSize) return proof.empty() && oldRoot == newRoot;
  if (proof.empty()) return false;
  std::vector<Hash> path = proof;
  if (isPowerOfTwo(oldSize)) path.insert(path.begin(), oldRoot);
  std::uint64_t fn = oldSize - 1, sn = newSize - 1;
  while ((fn & 1) == 1) {
    fn >>= 1;
    sn >>= 1;
  }
  Hash fr = path[0], sr = path[0];
  for (std::size_t i = 1; i < path.size(); ++i) {
    const Hash& c = path[i];
    if (sn == 0) return false;
    if ((fn & 1) == 1 || fn == sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      if ((fn & 1) == 0) {
        while ((fn & 1) == 0 && fn != 0) {
          fn >>= 1;
          sn >>= 1;
        }
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn >>= 1;
    sn >>= 1;
  }
  return sn == 0 && fr == oldRoot && sr == newRoot;
}

Result<Frontier> Frontier::load(std::uint64_t size, HashSource& source) {
  Frontier f;
  f.size_ = size;
  std::uint64_t begin = 0;
  for (int level = 63; level >= 0; --level) {
    const std::uint64_t width = std::uint64_t{1} << level;
    if ((size & width) == 0) continue;
    auto h = source.perfect(level, begin / width);
    if (!h) return tl::make_unexpected(h.error());
    f.roots_.push_back(*h);
    begin += width;
  }
  return f;
}

std::vector<Hash> Frontier::append(const Hash& leaf) {
  std::vector<Hash> completed;
  Hash carry = leaf;
  std::uint64_t n = size_;
  // Each trailing one bit of the old size is a subtree the new leaf's subtree merges with.
  while ((n & 1) == 1) {
    carry = nodeHash(roots_.back(), carry);
    roots_.pop_back();
    completed.push_back(carry);
    n >>= 1;
  }
  roots_.push_back(carry);
  ++size_;
  return completed;
}

Hash Frontier::root() const {
  if (roots_.empty()) return emptyRoot();
  Hash r = roots_.back();
  for (auto it = roots_.rbegin() + 1; it != roots_.rend(); ++it) r = nodeHash(*it, r);
  return r;
}

Result<Hash> MemoryHashSource::perfect(int level, std::uint64_t index) {
  const std::uint64_t width = std::uint64_t{1} << level;
  const std::uint64_t begin = index * width;
  if (begin + width > leaves_.size()) return fail(ErrorCode::kNotFound, "merkle: no such subtree");
  if (level == 0) return leaves_[begin];
  auto left = perfect(level - 1, index * 2);
  if (!left) return left;
  auto right = perfect(level - 1, index * 2 + 1);
  if (!right) return right;
  return nodeHash(*left, *right);
}

}  // namespace hie::audit::merkle
