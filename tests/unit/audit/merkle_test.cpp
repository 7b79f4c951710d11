// audit/merkle against RFC 6962: the Certificate Transparency test vectors, and every
// inclusion and consistency proof of trees up to 32 leaves against a reference written
// straight from RFC 6962's recursive definitions (MTH, PATH, PROOF/SUBPROOF) with its
// own SHA-256 calls; the small example of docs/audit-format.md, also computed by Python.
#include "audit/merkle.h"

#include <openssl/evp.h>

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "common/hex.h"

namespace hie::audit::merkle {
namespace {

using Bytes = std::string;

// --- The reference: RFC 6962 section 2.1, recursively, over the leaves' data.
Hash sha256(const Bytes& data) {
  Hash out;
  unsigned int len = 0;
  EXPECT_EQ(EVP_Digest(data.data(), data.size(), out.data(), &len, EVP_sha256(), nullptr), 1);
  return out;
}
Bytes raw(const Hash& h) { return Bytes(reinterpret_cast<const char*>(h.data()), h.size()); }
std::size_t split(std::size_t n) {  // the largest power of two smaller than n
  std::size_t k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}
using Leaves = std::vector<Bytes>;
Leaves slice(const Leaves& d, std::size_t from, std::size_t to) { return Leaves(d.begin() + from, d.begin() + to); }

Hash mth(const Leaves& d) {
  if (d.empty()) return sha256("");
  if (d.size() == 1) return sha256(Bytes(1, '\0') + d[0]);
  const std::size_t k = split(d.size());
  return sha256(Bytes(1, '\1') + raw(mth(slice(d, 0, k))) + raw(mth(slice(d, k, d.size()))));
}

std::vector<Hash> path(std::size_t m, const Leaves& d) {
  if (d.size() <= 1) return {};
  const std::size_t k = split(d.size());
  std::vector<Hash> out;
  if (m < k) {
    out = path(m, slice(d, 0, k));
    out.push_back(mth(slice(d, k, d.size())));
  } else {
    out = path(m - k, slice(d, k, d.size()));
    out.push_back(mth(slice(d, 0, k)));
  }
  return out;
}

std::vector<Hash> subproof(std::size_t m, const Leaves& d, bool b) {
  const std::size_t n = d.size();
  if (m == n) return b ? std::vector<Hash>{} : std::vector<Hash>{mth(d)};
  const std::size_t k = split(n);
  std::vector<Hash> out;
  if (m <= k) {
    out = subproof(m, slice(d, 0, k), b);
    out.push_back(mth(slice(d, k, n)));
  } else {
    out = subproof(m - k, slice(d, k, n), false);
    out.push_back(mth(slice(d, 0, k)));
  }
  return out;
}

std::vector<Hash> proof(std::size_t m, const Leaves& d) {
  if (m == 0 || m == d.size()) return {};  // RFC 9162: no proof is needed for these
  return subproof(m, d, true);
}

Hash fromHex(const std::string& hex) {
  Hash h{};
  for (std::size_t i = 0; i < h.size(); ++i) h[i] = static_cast<unsigned char>(std::stoi(hex.substr(i * 2, 2), nullptr, 16));
  return h;
}

// The 8 leaves of the Certificate Transparency test data (RFC 6962's reference implementation).
Leaves ctLeaves() {
  Leaves out;
  for (const char* hex : {"", "00", "10", "2021", "3031", "40414243", "5051525354555657",
                          "606162636465666768696a6b6c6d6e6f"}) {
    Bytes b;
    for (std::size_t i = 0; hex[i] != '\0'; i += 2) b.push_back(static_cast<char>(std::stoi(std::string(hex + i, 2), nullptr, 16)));
    out.push_back(b);
  }
  return out;
}

// n leaves whose data differ (the first eight are the CT leaves).
Leaves leavesOf(std::size_t n) {
  Leaves out = ctLeaves();
  for (std::size_t i = out.size(); i < n; ++i) out.push_back("leaf " + std::to_string(i));
  out.resize(n);
  return out;
}

MemoryHashSource sourceOf(const Leaves& d) {
  std::vector<Hash> hashes;
  for (const auto& l : d) hashes.push_back(leafHash(l));
  return MemoryHashSource(hashes);
}

TEST(Merkle, CertificateTransparencyTestVectors) {
  // Roots of the first 1..8 CT leaves (certificate-transparency's merkle_tree_test.cc), recomputed
  // here by the reference as well.
  const std::vector<std::string> roots{
      "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
      "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
      "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
      "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
      "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
      "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
      "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
  };
  const Leaves d = ctLeaves();
  EXPECT_EQ(toHex(emptyRoot()), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  Frontier frontier;
  for (std::size_t n = 1; n <= 8; ++n) {
    auto source = sourceOf(slice(d, 0, n));
    auto root = rootHash(n, source);
    ASSERT_TRUE(root);
    EXPECT_EQ(toHex(*root), roots[n - 1]) << n;
    EXPECT_EQ(toHex(mth(slice(d, 0, n))), roots[n - 1]) << n;
    frontier.append(leafHash(d[n - 1]));
    EXPECT_EQ(toHex(frontier.root()), roots[n - 1]) << n;
  }
  // The leaf hash of the empty leaf, SHA-256(0x00).
  EXPECT_EQ(toHex(leafHash("")), roots[0]);
}

TEST(Merkle, InclusionProofsOfEveryLeafUpTo32MatchTheReferenceAndVerify) {
  for (std::size_t n = 1; n <= 32; ++n) {
    const Leaves d = leavesOf(n);
    auto source = sourceOf(d);
    const Hash root = mth(d);
    for (std::size_t m = 0; m < n; ++m) {
      auto got = inclusionProof(m, n, source);
      ASSERT_TRUE(got) << m << "/" << n;
      ASSERT_EQ(*got, path(m, d)) << m << "/" << n;
      const Hash leaf = leafHash(d[m]);
      EXPECT_TRUE(verifyInclusion(leaf, m, n, *got, root)) << m << "/" << n;
      // Wrong leaf, index, size, root, or any altered or missing proof hash: refused.
      EXPECT_FALSE(verifyInclusion(leafHash(d[m] + "x"), m, n, *got, root));
      // (The tree size is not bound by the path alone but by the checkpoint's signature: a path of the
      // same shape verifies for another size, so that is not checked here.)
      if (n > 1) {
        EXPECT_FALSE(verifyInclusion(leaf, (m + 1) % n, n, *got, root)) << m << "/" << n;
      }
      Hash otherRoot = root;
      otherRoot[0] ^= 1;
      EXPECT_FALSE(verifyInclusion(leaf, m, n, *got, otherRoot));
      for (std::size_t i = 0; i < got->size(); ++i) {
        auto altered = *got;
        altered[i][31] ^= 0x80;
        EXPECT_FALSE(verifyInclusion(leaf, m, n, altered, root)) << m << "/" << n << " hash " << i;
        auto shorter = *got;
        shorter.erase(shorter.begin() + static_cast<long>(i));
        EXPECT_FALSE(verifyInclusion(leaf, m, n, shorter, root));
      }
      auto longer = *got;
      longer.push_back(root);
      EXPECT_FALSE(verifyInclusion(leaf, m, n, longer, root));
    }
    EXPECT_FALSE(inclusionProof(n, n, source));
    EXPECT_FALSE(verifyInclusion(leafHash(d[0]), n, n, {}, root));
  }
}

TEST(Merkle, ConsistencyProofsOfEveryPairUpTo32MatchTheReferenceAndVerify) {
  for (std::size_t n = 0; n <= 32; ++n) {
    const Leaves d = leavesOf(n);
    auto source = sourceOf(d);
    const Hash newRoot = mth(d);
    for (std::size_t m = 0; m <= n; ++m) {
      const Hash oldRoot = mth(slice(d, 0, m));
      auto got = consistencyProof(m, n, source);
      ASSERT_TRUE(got) << m << "->" << n;
      ASSERT_EQ(*got, proof(m, d)) << m << "->" << n;
      EXPECT_TRUE(verifyConsistency(m, n, *got, oldRoot, newRoot)) << m << "->" << n;
      if (m == 0) continue;  // the empty tree is consistent with every tree
      Hash otherOld = oldRoot, otherNew = newRoot;
      otherOld[5] ^= 1;
      otherNew[5] ^= 1;
      EXPECT_FALSE(verifyConsistency(m, n, *got, otherOld, newRoot)) << m << "->" << n;
      EXPECT_FALSE(verifyConsistency(m, n, *got, oldRoot, otherNew)) << m << "->" << n;
      for (std::size_t i = 0; i < got->size(); ++i) {
        auto altered = *got;
        altered[i][0] ^= 0x40;
        EXPECT_FALSE(verifyConsistency(m, n, altered, oldRoot, newRoot)) << m << "->" << n << " hash " << i;
      }
      if (m < n) {
        EXPECT_FALSE(verifyConsistency(m, n, {}, oldRoot, newRoot));
        if (m > 1) {
          EXPECT_FALSE(verifyConsistency(m - 1, n, *got, oldRoot, newRoot)) << m << "->" << n;
        }
      }
    }
    EXPECT_FALSE(consistencyProof(n + 1, n, source));
    EXPECT_FALSE(verifyConsistency(n + 1, n, {}, newRoot, newRoot));
  }
}

TEST(Merkle, ThePathOfASubtreeIsTheTailOfItsLeavesPaths) {
  for (std::size_t n = 1; n <= 40; ++n) {
    const Leaves d = leavesOf(n);
    auto source = sourceOf(d);
    for (std::size_t width : {1, 2, 4, 8, 16}) {
      for (std::size_t begin = 0; begin < n; begin += width) {
        const std::size_t end = std::min(begin + width, n);
        auto outer = subtreeInclusionProof(begin, end, n, source);
        ASSERT_TRUE(outer) << begin << "-" << end << "/" << n;
        for (std::size_t m = begin; m < end; ++m) {
          // PATH(m) = the path inside D[begin:end] followed by the subtree's own path.
          auto inner = path(m - begin, slice(d, begin, end));
          inner.insert(inner.end(), outer->begin(), outer->end());
          EXPECT_EQ(inner, path(m, d)) << m << " in " << begin << "-" << end << "/" << n;
        }
      }
    }
    // Not nodes of the tree: refused.
    if (n >= 3) {
      EXPECT_FALSE(subtreeInclusionProof(1, 3, n, source)) << n;
    }
    EXPECT_FALSE(subtreeInclusionProof(0, n + 1, n, source));
    EXPECT_FALSE(subtreeInclusionProof(2, 2, n, source));
  }
}

TEST(Merkle, TheFrontierAppendsAndReloads) {
  const Leaves d = leavesOf(37);
  Frontier frontier;
  std::vector<Hash> hashes;
  for (std::size_t i = 0; i < d.size(); ++i) {
    const Hash h = leafHash(d[i]);
    hashes.push_back(h);
    auto completed = frontier.append(h);
    // Leaf i completes the subtrees of level l where 2^l divides i + 1, each of them MTH of its leaves.
    std::size_t level = 0;
    while ((i + 1) % (std::size_t{2} << level) == 0) ++level;
    ASSERT_EQ(completed.size(), level) << i;
    for (std::size_t l = 1; l <= level; ++l) {
      const std::size_t width = std::size_t{1} << l;
      EXPECT_EQ(completed[l - 1], mth(slice(d, i + 1 - width, i + 1))) << i << " level " << l;
    }
    EXPECT_EQ(frontier.size(), i + 1);
    EXPECT_EQ(frontier.root(), mth(slice(d, 0, i + 1))) << i;
    MemoryHashSource source(hashes);
    auto loaded = Frontier::load(i + 1, source);
    ASSERT_TRUE(loaded);
    EXPECT_EQ(loaded->root(), frontier.root());
  }
  EXPECT_EQ(Frontier().root(), emptyRoot());
}

TEST(Merkle, HashEncodingsAreCanonical) {
  const Hash h = leafHash("x");
  Hash back{};
  ASSERT_TRUE(fromBase64(toBase64(h), back));
  EXPECT_EQ(back, h);
  EXPECT_FALSE(fromBase64(toBase64(h).substr(0, 43), back));
  EXPECT_FALSE(fromBase64("AAAA", back));
  // The same 32 bytes with the unused low bits of the last base64 digit set: not canonical.
  std::string loose = toBase64(Hash{});
  loose[42] = 'B';
  EXPECT_FALSE(fromBase64(loose, back));
  EXPECT_EQ(toHex(fromHex(toHex(h))), toHex(h));
  EXPECT_EQ(splitPoint(2), 1u);
  EXPECT_EQ(splitPoint(8), 4u);
  EXPECT_EQ(splitPoint(9), 8u);
}

// The example of docs/audit-format.md ("Test vectors"): three leaves, their hashes, the root and proofs.
const std::vector<std::string> kExampleLeaves{"{\"index\":0}", "{\"index\":1}", "{\"index\":2}"};
struct ExampleValues {
  std::vector<std::string> leafHashes;  // hex
  std::string node01;                   // hex of MTH(D[0:2])
  std::string root;                     // base64 of MTH(D[0:3])
  std::vector<std::string> inclusion0;  // base64: PATH(0, D[0:3])
  std::vector<std::string> inclusion2;  // base64: PATH(2, D[0:3])
  std::vector<std::string> consistency12;  // base64: PROOF(1, D[0:3]), PROOF(2, D[0:3])
};

ExampleValues exampleByThisCode() {
  std::vector<Hash> hashes;
  ExampleValues v;
  for (const auto& l : kExampleLeaves) {
    hashes.push_back(leafHash(l));
    v.leafHashes.push_back(toHex(hashes.back()));
  }
  MemoryHashSource source(hashes);
  v.node01 = toHex(nodeHash(hashes[0], hashes[1]));
  const auto root = rootHash(3, source);
  v.root = toBase64(*root);
  const auto path0 = inclusionProof(0, 3, source), path2 = inclusionProof(2, 3, source);
  for (const auto& h : *path0) v.inclusion0.push_back(toBase64(h));
  for (const auto& h : *path2) v.inclusion2.push_back(toBase64(h));
  for (std::uint64_t m : {1, 2}) {
    std::string joined;
    const auto consistency = consistencyProof(m, 3, source);
    for (const auto& h : *consistency) joined += (joined.empty() ? "" : " ") + toBase64(h);
    v.consistency12.push_back(joined);
  }
  return v;
}

ExampleValues pinned() {
  return ExampleValues{
      {"3ed3a0e0ed5f2c55b6d1b15f2b24403cdeb1015a66eb31a73c60a797334b3103",
       "6378aac1135397dc73b33ac41d74c78fde1bc3eb013c4b6a4a784eee18277465",
       "4ba45d7706e1b92523fafa2774b563f11a7d8941c42cf1ae71dc046ed4e80d07"},
      "7784572b9c7fcb4411c3727da949fbe538c107f5c64df6aafc6f693fbaaf090b",
      "sHQMVWulR2YqF4oAyFZpN2CPKcXsA3ypmmXYg3kOJB8=",
      {"Y3iqwRNTl9xzszrEHXTHj94bw+sBPEtqSnhO7hgndGU=", "S6RddwbhuSUj+vondLVj8Rp9iUHELPGucdwEbtToDQc="},
      {"d4RXK5x/y0QRw3J9qUn75TjBB/XGTfaq/G9pP7qvCQs="},
      {"Y3iqwRNTl9xzszrEHXTHj94bw+sBPEtqSnhO7hgndGU= S6RddwbhuSUj+vondLVj8Rp9iUHELPGucdwEbtToDQc=",
       "S6RddwbhuSUj+vondLVj8Rp9iUHELPGucdwEbtToDQc="},
  };
}

bool operator==(const ExampleValues& a, const ExampleValues& b) {
  return a.leafHashes == b.leafHashes && a.node01 == b.node01 && a.root == b.root && a.inclusion0 == b.inclusion0 &&
         a.inclusion2 == b.inclusion2 && a.consistency12 == b.consistency12;
}

TEST(Merkle, TheDocumentedExampleIsWhatThisCodeComputes) {
  EXPECT_TRUE(exampleByThisCode() == pinned());
  // And docs/audit-format.md shows these very values.
  std::ifstream doc(std::string(HIE_SOURCE_DIR) + "/docs/audit-format.md");
  std::stringstream text;
  text << doc.rdbuf();
  const ExampleValues v = pinned();
  std::vector<std::string> shown = v.leafHashes;
  shown.insert(shown.end(), {v.node01, v.root, v.inclusion0[0], v.inclusion0[1], v.inclusion2[0]});
  for (const auto& value : shown) EXPECT_NE(text.str().find(value), std::string::npos) << value;
}

TEST(Merkle, TheDocumentedExampleIsWhatPythonsHashlibComputes) {
  // An independent computation: RFC 6962's definitions in Python, hashing with hashlib.
  const char* script =
      "import hashlib, base64\n"
      "L = [b'{\"index\":0}', b'{\"index\":1}', b'{\"index\":2}']\n"
      "lh = lambda b: hashlib.sha256(b'\\x00' + b).digest()\n"
      "nh = lambda l, r: hashlib.sha256(b'\\x01' + l + r).digest()\n"
      "b64 = lambda x: base64.b64encode(x).decode()\n"
      "h = [lh(x) for x in L]\n"
      "n01 = nh(h[0], h[1])\n"
      "print(' '.join(x.hex() for x in h))\n"
      "print(n01.hex())\n"
      "print(b64(nh(n01, h[2])))\n"
      "print(b64(h[1]), b64(h[2]))\n"
      "print(b64(n01))\n"
      "print(b64(h[1]), b64(h[2]))\n"  // PROOF(1, D[0:3]): SUBPROOF(1, D[0:2], true) = {h1}, then MTH(D[2:3])
      "print(b64(h[2]))\n";            // PROOF(2, D[0:3]): SUBPROOF(2, D[0:2], true) = {}, then MTH(D[2:3])
  const std::string path = ::testing::TempDir() + "merkle_example.py";
  {
    std::ofstream out(path);
    out << script;
  }
  FILE* pipe = ::popen(("python3 " + path).c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string output;
  char buf[512];
  while (std::fgets(buf, sizeof buf, pipe) != nullptr) output += buf;
  ASSERT_EQ(::pclose(pipe), 0) << output;
  const ExampleValues v = exampleByThisCode();
  EXPECT_EQ(output, v.leafHashes[0] + " " + v.leafHashes[1] + " " + v.leafHashes[2] + "\n" + v.node01 + "\n" + v.root +
                        "\n" + v.inclusion0[0] + " " + v.inclusion0[1] + "\n" + v.inclusion2[0] + "\n" +
                        v.consistency12[0] + "\n" + v.consistency12[1] + "\n");
}

}  // namespace
}  // namespace hie::audit::merkle
