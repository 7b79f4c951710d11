// audit keys: this node's verifier keys (c2sp.org/signed-note), for its peers'
// directories: `hie-node peer add ... --log-key VKEY --witness-key VKEY`.
#include <iostream>

#include "app/command_support.h"
#include "app/commands.h"
#include "audit/signed_note.h"
#include "audit/signing_key.h"

namespace hie::app {

int runAuditKeys(const Args& argv) {
  auto args = parseArgs(argv, {});
  if (!args) return usageError(args.error().external);
  if (!args->positional.empty()) return usageError("usage: hie-node audit keys");
  auto source = loadConfigFor(*args);
  if (!source) return runtimeError(source.error().external);
  auto config = serveConfig(*source);
  if (!config) return runtimeError(config.error().external);
  auto auditKey = audit::SigningKey::fromPemFile(config->auditSigningKey);
  if (!auditKey) return runtimeError(auditKey.error().external);
  auto witnessKey = loadWitnessKey(*config, *auditKey);
  if (!witnessKey) return runtimeError(witnessKey.error().external);
  auto logPublic = audit::VerifyKey::fromRaw(auditKey->rawPublicKey());
  if (!logPublic) return runtimeError(logPublic.error().internal);
  // The log key is named by the log's origin: the key name of its checkpoints' signature.
  std::cout << "log-key " << audit::note::VerifierKey::of(logOrigin(*config), audit::note::kEd25519, *logPublic).text()
            << "\n";
  if (*witnessKey) {
    auto witnessPublic = audit::VerifyKey::fromRaw((*witnessKey)->rawPublicKey());
    if (!witnessPublic) return runtimeError(witnessPublic.error().internal);
    std::cout << "witness-key "
              << audit::note::VerifierKey::of(config->witnessName, audit::note::kCosignatureV1, *witnessPublic).text()
              << "\n";
  } else {
    std::cerr << "this node is no witness (witness.signingKey is not set): no witness key\n";
  }
  return 0;
}

}  // namespace hie::app
