// libFuzzer target: the audit canonical form, checkpoint parsers, the v1 chain
// verifier, the v2 log verifier and FHIR rendering (v1 entries and v2 leaves), fed with hostile stored rows.
#include <cstddef>
#include <cstdint>
#include <string>

#include "audit/audit_chain.h"
#include "audit/canonical_form.h"
#include "audit/fhir_audit_event.h"
#include "audit/log_verifier.h"
#include "audit/transparency_log.h"

namespace {

const hie::audit::SigningKey& key() {
  static const hie::audit::SigningKey kKey = *hie::audit::SigningKey::generate();
  return kKey;
}

// Decoded once: PEM decoding through OpenSSL 3.0's decoders took most of each run
// (about 55 inputs/s before, with two decodes per input).
const hie::audit::VerifyKey& verifyKey() {
  static const hie::audit::VerifyKey kKey = *hie::audit::VerifyKey::fromPem(key().publicPem());
  return kKey;
}

const std::string kOrigin = "hie-node/fuzz/audit";

hie::audit::LogVerifier logVerifier() {
  return hie::audit::LogVerifier(
      kOrigin, hie::audit::note::VerifierKey::of(kOrigin, hie::audit::note::kEd25519, verifyKey()), {});
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  (void)hie::audit::Checkpoint::fromJson(input);
  // Stored row with hostile canonical text and fields.
  const auto third = input.size() / 3;
  hie::audit::SealedEntry entry{"c", 1, hie::audit::kGenesisHash, input.substr(0, third), input.substr(third, third),
                                input.substr(2 * third)};
  hie::audit::ChainVerifier verifier(verifyKey());
  verifier.feed(entry);
  (void)hie::audit::fhirAuditEvent(hie::audit::TrailEntry::fromChain(entry));
  // The same hostile text as a v2 log leaf.
  (void)hie::audit::fhirAuditEvent(hie::audit::TrailEntry::fromLeaf("o", 0, input));
  // Hostile event content sealed, then verified: must always verify.
  hie::audit::AuditEvent event;
  event.path = input;
  event.subjectDn = input;
  event.time = "2026-01-01T00:00:00.000Z";
  hie::audit::ChainHead head;
  head.chain = "fuzz";
  auto sealed = hie::audit::seal(event, "node", head, key());
  if (sealed) {
    hie::audit::ChainVerifier ok(verifyKey());
    if (!ok.feed(*sealed)) __builtin_trap();
    (void)hie::audit::fhirAuditEvent(hie::audit::TrailEntry::fromChain(*sealed));
  }

  // Format v2. A hostile stored leaf row and a hostile checkpoint (stored, or kept by an auditor).
  {
    hie::audit::LogVerifier v = logVerifier();
    v.storedCheckpoint(hie::audit::CheckpointRow{1, input.substr(0, 32), input});
    v.keptCheckpoint(input, "fuzz");
    v.leaf(0, input.substr(0, third), input.substr(third, third), input.substr(2 * third));
    v.finish(1);
    (void)hie::audit::canonicalStringField(input, "patient");
    (void)hie::audit::canonicalBoolField(input, "breakGlass");
  }
  // The same hostile event as a leaf, stored with its hash and covered by a signed checkpoint:
  // it must verify, and its fields must read back from the signed bytes as they were written.
  {
    const std::string leaf = hie::audit::canonicalJson(hie::audit::leafObject(event, "node", 0));
    if (hie::audit::canonicalStringField(leaf, "path") != hie::audit::printableAscii(input)) __builtin_trap();
    if (hie::audit::canonicalStringField(leaf, "subjectDn") != hie::audit::printableAscii(input)) __builtin_trap();
    hie::audit::merkle::Frontier tree;
    const auto hash = hie::audit::merkle::leafHash(leaf);
    (void)tree.append(hash);
    auto checkpoint = hie::audit::signTreeHead(hie::audit::TreeHead{kOrigin, 1, tree.root()}, key());
    if (!checkpoint) __builtin_trap();
    hie::audit::LogVerifier v = logVerifier();
    v.storedCheckpoint(hie::audit::CheckpointRow{1, hie::audit::merkle::toBytes(tree.root()), checkpoint->note});
    v.leaf(0, leaf, hie::audit::merkle::toBytes(hash), "");
    v.finish(0);
    if (!v.problems().empty()) __builtin_trap();
  }
  return 0;
}
