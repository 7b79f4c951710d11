// audit evidence REQUEST_ID [--out DIR] [--origin O] [--index N]
#include "app/audit_evidence_command.h"

#include <dirent.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <iostream>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "app/commands.h"
#include "audit/canonical_form.h"
#include "audit/evidence_bundle.h"
#include "audit/log_export.h"
#include "audit/pg_audit_log_store.h"
#include "audit/signed_note.h"
#include "audit/signing_key.h"
#include "audit/transparency_log.h"
#include "auth/identity/certificate_identity.h"
#include "common/file.h"
#include "common/time.h"

namespace hie::app {
namespace {

const char* const kUsage = "usage: hie-node audit evidence REQUEST_ID [--out DIR] [--origin ORIGIN] [--index N]";

std::string shown(const std::string& text) { return audit::printableAscii(text, 300); }

// A request id as the node keeps them: 1-64 of A-Z a-z 0-9 . _ : -
bool isRequestId(const std::string& id) {
  return !id.empty() && id.size() <= 64 &&
         id.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:-") == std::string::npos;
}

// "" when DIR is absent or an empty directory; else the sentence why not.
std::string unusableDirectory(const std::string& dir) {
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) return errno == ENOENT ? "" : "cannot use " + dir + ": " + std::strerror(errno);
  if (!S_ISDIR(st.st_mode)) return dir + " exists and is not a directory; --out must name a new or empty directory";
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return "cannot read " + dir + ": " + std::strerror(errno);
  bool empty = true;
  while (const dirent* e = ::readdir(d)) {
    if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0) empty = false;
  }
  ::closedir(d);
  return empty ? "" : dir + " is not empty; --out must name a new or empty directory";
}

bool servedRequest(const std::string& action) { return action != "peer-call" && action != "witness-submit"; }

// The chain kept for keyid (certificates table), checked to begin with that certificate; its key's
// signature algorithm when the signature base names none.
Result<std::string> keptChain(audit::PgAuditLogStore& store, const std::string& keyId, const std::string& whose,
                              std::string& algorithm) {
  auto chain = store.certificateChain(keyId);
  if (!chain) return fail(ErrorCode::kUnavailable, "cannot read the kept certificates: " + chain.error().internal);
  if (!*chain) {
    return fail(ErrorCode::kNotFound, "the certificates table keeps no chain for the " + whose + " certificate " +
                                          shown(keyId) + " (the keyid its signature names)");
  }
  auto parsed = auth::parseCertificateChainPem(**chain);
  const X509* leaf = parsed && sk_X509_num(parsed->get()) > 0 ? sk_X509_value(parsed->get(), 0) : nullptr;
  auto sha = leaf != nullptr ? auth::certificateSha256(leaf) : Result<std::string>(fail(ErrorCode::kInvalidInput, ""));
  if (!sha || *sha != keyId) {
    return fail(ErrorCode::kInternal, "the chain kept for the " + whose + " certificate " + shown(keyId) +
                                          " does not begin with that certificate (altered in the database?)");
  }
  if (algorithm.empty()) {
    switch (EVP_PKEY_get_base_id(X509_get0_pubkey(leaf))) {
      case EVP_PKEY_EC:
        algorithm = EVP_PKEY_get_bits(X509_get0_pubkey(leaf)) == 384 ? "ecdsa-p384-sha384" : "ecdsa-p256-sha256";
        break;
      case EVP_PKEY_RSA: algorithm = "rsa-pss-sha512"; break;
      case EVP_PKEY_ED25519: algorithm = "ed25519"; break;
      default: break;
    }
  }
  return **chain;
}

}  // namespace

OptionSpec auditEvidenceOptions() { return OptionSpec{{"out", "origin", "index"}, {}, {}}; }

int runAuditEvidence(const ParsedArgs& args, const ConfigSource& config, const std::string& uri) {
  if (args.positional.size() != 1 || (args.has("out") && args.value("out").empty())) return usageError(kUsage);
  const std::string requestId = args.positional.front();
  if (!isRequestId(requestId)) return usageError("REQUEST_ID is 1 to 64 of A-Z a-z 0-9 . _ : - (an X-Request-Id)");
  std::optional<std::uint64_t> wantedIndex;
  if (args.has("index")) {
    const std::string text = args.value("index");
    if (text.empty() || text.size() > 18 || text.find_first_not_of("0123456789") != std::string::npos) {
      return usageError("--index must be a leaf index: a decimal number");
    }
    wantedIndex = std::stoull(text);
  }
  // Default: evidence-REQUEST_ID in the current directory (a request id is safe in a file name).
  const std::string dir = args.has("out") ? args.value("out") : "evidence-" + requestId;
  if (auto why = unusableDirectory(dir); !why.empty()) return usageError(why);

  auto keyPath = config.requirePath("audit.signingKey");
  if (!keyPath) return runtimeError(keyPath.error().external);
  auto key = audit::SigningKey::fromPemFile(*keyPath);
  if (!key) return runtimeError("the log's verifier key comes from audit.signingKey: " + key.error().external);
  auto publicKey = audit::VerifyKey::fromRaw(key->rawPublicKey());
  if (!publicKey) return runtimeError(publicKey.error().internal);

  audit::PgAuditLogStore store(uri);
  auto found = store.leavesWithRequestId(requestId);
  if (!found) return runtimeError("cannot read the audit log: " + found.error().internal);
  std::vector<std::pair<std::string, audit::StoredLeaf>> served;
  std::size_t peerCalls = 0;
  for (auto& [origin, leaf] : *found) {
    if (args.has("origin") && origin != args.value("origin")) continue;
    if (wantedIndex && leaf.index != *wantedIndex) continue;
    if (!servedRequest(audit::canonicalStringField(leaf.leaf, "action").value_or(""))) {
      ++peerCalls;
      continue;
    }
    served.emplace_back(origin, std::move(leaf));
  }
  if (served.empty()) {
    return runtimeError("the audit log holds no entry of a request this node served with request id " + requestId +
                        (peerCalls > 0 ? " (only this node's own calls to peers carry it: their evidence is the peer's "
                                         "to give)"
                                       : ""));
  }
  // The served entries with a request signature; an unsigned one is said so.
  std::vector<std::pair<std::pair<std::string, audit::StoredLeaf>, audit::LeafEvidence>> signedOnes;
  std::string unsignedWhy;
  for (auto& entry : served) {
    auto evidence = audit::readLeafEvidence(entry.second.leaf);
    if (!evidence) {
      return runtimeError("leaf " + std::to_string(entry.second.index) + " of log " + shown(entry.first) + ": " +
                          evidence.error().internal + " (altered in the database?); run hie-node audit verify");
    }
    if (!evidence->request) {
      const std::string check = evidence->signatureCheck.empty() ? "none recorded" : evidence->signatureCheck;
      unsignedWhy = "leaf " + std::to_string(entry.second.index) + " of log " + shown(entry.first) +
                    ", signature check: " + check;
      continue;
    }
    signedOnes.emplace_back(std::move(entry), std::move(*evidence));
  }
  if (signedOnes.empty()) {
    return runtimeError("the audit entry of request " + requestId + " carries no request signature (" + unsignedWhy +
                        "): there is no evidence to bundle");
  }
  if (signedOnes.size() > 1) {
    std::string list;
    for (const auto& [entry, evidence] : signedOnes) {
      list += (list.empty() ? "" : ", ") + std::string("log ") + shown(entry.first) + " leaf " +
              std::to_string(entry.second.index);
    }
    return runtimeError("several signed requests carry request id " + requestId + " (" + list +
                        "); choose one with --index N (and --origin ORIGIN)");
  }
  const std::string origin = signedOnes.front().first.first;
  const audit::StoredLeaf& leaf = signedOnes.front().first.second;
  audit::LeafEvidence evidence = std::move(signedOnes.front().second);

  // The leaf's proof to the newest checkpoint, which must be signed by this node's audit key.
  auto size = store.latestCosignedSize(origin, 0);
  if (!size) return runtimeError("cannot read the audit log: " + size.error().internal);
  if (!*size || **size <= leaf.index) {
    return runtimeError("no signed checkpoint of log " + shown(origin) + " covers leaf " + std::to_string(leaf.index) +
                        " yet; run hie-node audit verify");
  }
  auto note = store.checkpointAt(origin, **size);
  if (!note || !*note) return runtimeError("cannot read the checkpoint of size " + std::to_string(**size) + " of log " + shown(origin));
  auto lines = store.cosignatures(origin, **size);
  if (!lines) return runtimeError("cannot read the audit log's cosignatures: " + lines.error().internal);
  std::size_t dropped = 0;
  const std::string cosigned = audit::withCosignatures(**note, *lines, dropped);
  const auto logKey = audit::note::VerifierKey::of(origin, audit::note::kEd25519, *publicKey);
  auto opened = audit::openCheckpoint(cosigned, logKey);
  if (!opened || opened->head.origin != origin || opened->head.size != **size) {
    return runtimeError("the checkpoint of size " + std::to_string(**size) + " of log " + shown(origin) +
                        " does not verify with audit.signingKey or names another tree" +
                        (opened ? std::string() : " (" + opened.error().internal + ")") + "; run hie-node audit verify");
  }
  auto hashes = store.hashes(origin);
  auto proof = audit::merkle::inclusionProof(leaf.index, **size, *hashes);
  if (!proof || !audit::merkle::verifyInclusion(audit::merkle::leafHash(leaf.leaf), leaf.index, **size, *proof,
                                                opened->head.root)) {
    return runtimeError("leaf " + std::to_string(leaf.index) + " of log " + shown(origin) +
                        " is not proven in its checkpoint (altered in the database?); run hie-node audit verify");
  }
  auto line = audit::logExportLine(leaf.leaf, leaf.index, audit::tlogProof(leaf.index, *proof, cosigned));
  if (!line) return runtimeError("leaf " + std::to_string(leaf.index) + " of log " + shown(origin) + " is not an entry hie-node wrote");

  audit::EvidenceSource source;
  source.origin = origin;
  source.index = leaf.index;
  source.exportLine = *line;
  source.logKey = logKey.text();
  source.madeAt = utc::nowMillis();
  auto requester = keptChain(store, evidence.request->keyId, "requester's", evidence.request->algorithm);
  if (!requester) return runtimeError(requester.error().internal);
  source.requesterChainPem = *requester;
  if (evidence.answer) {
    auto node = keptChain(store, evidence.answer->keyId, "answering node's", evidence.answer->algorithm);
    if (!node) return runtimeError(node.error().internal);
    source.nodeChainPem = *node;
  }
  source.leaf = evidence;
  auto files = audit::evidenceBundle(source);
  if (!files) return runtimeError(files.error().internal);

  // Checked again: the directory may have changed while the command read the database.
  if (auto why = unusableDirectory(dir); !why.empty()) return usageError(why);
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return runtimeError("cannot create " + dir + ": " + std::strerror(errno));
  }
  for (const auto& f : *files) {
    if (auto written = writeFileWithMode(dir, f.name, f.content, 0600); !written) {
      return runtimeError(written.error().internal);
    }
  }
  std::cout << "wrote the evidence of request " << requestId << " (leaf " << leaf.index << " of log " << shown(origin)
            << ") to " << dir << ":";
  for (const auto& f : *files) std::cout << " " << f.name;
  std::cout << "\nverify it offline: cd " << dir
            << " && CA=network-ca.pem VERIFY_AUDIT=verify-audit sh VERIFY.txt (docs/audit-format.md, \"Evidence "
               "bundles\")\n";
  if (!evidence.answer) {
    std::cerr << "hie-node: the answer to request " << requestId << " was not signed (signature check: "
              << (evidence.signatureCheck.empty() ? "none recorded" : shown(evidence.signatureCheck))
              << "): the bundle holds the signed request only\n";
  }
  if (dropped > 0) {
    std::cerr << "hie-node: left out " << dropped << " stored cosignature(s) that are not signature lines (altered in "
              << "the database?)\n";
  }
  return 0;
}

}  // namespace hie::app
