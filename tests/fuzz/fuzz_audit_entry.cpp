// libFuzzer target: the audit canonical form, checkpoint parser, chain
// verifier and FHIR rendering (v1 entries and v2 leaves), fed with hostile stored rows.
#include <cstddef>
#include <cstdint>
#include <string>

#include "audit/audit_chain.h"
#include "audit/fhir_audit_event.h"

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
  return 0;
}
