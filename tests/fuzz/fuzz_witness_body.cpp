// libFuzzer target: what a peer sends to (and answers) the witness: the
// add-checkpoint body, signed notes, checkpoints, verifier keys, signature
// lines, the 409 size answer, and the witness endpoint on top of them. Each
// input is also re-signed by a log key the witness knows, so that hostile
// sizes and consistency proofs reach the proof verification.
#include <cstddef>
#include <cstdint>
#include <string>

#include "audit/add_checkpoint.h"
#include "audit/witness_policy.h"
#include "exchange/handlers/witness_api.h"
#include "tests/support/witness_fakes.h"

namespace {

using namespace hie;

const std::string kOrigin = "hie-node/node-a/audit";

struct Keys {
  audit::SigningKey log = *audit::SigningKey::generate();
  audit::SigningKey witness = *audit::SigningKey::generate();
  audit::note::VerifierKey witnessVkey = audit::note::VerifierKey::of(
      "hie-node/node-b/witness", audit::note::kCosignatureV1, *audit::VerifyKey::fromRaw(witness.rawPublicKey()));
  auth::RegistrySnapshot registry;
  Keys() {
    registry.peers.push_back(auth::PeerEntry{
        "urn:oid:1.2", "https://a",
        audit::note::VerifierKey::of(kOrigin, audit::note::kEd25519, *audit::VerifyKey::fromRaw(log.rawPublicKey())).text(),
        ""});
  }
};

const Keys& keys() {
  static const Keys kKeys;
  return kKeys;
}

exchange::HttpReply submit(const std::string& body, const std::optional<audit::CosignedHead>& state) {
  static Counters counters;
  testing::MemoryWitnessStore store;
  if (state) store.heads[kOrigin] = *state;
  exchange::WitnessApi api(store, keys().witness, keys().witnessVkey.name, counters, [] { return std::uint64_t{1}; });
  exchange::HttpCall call;
  call.method = "POST";
  call.path = exchange::kAddCheckpointPath;
  call.body = body;
  exchange::HttpReply reply = api.handle(call, keys().registry);
  if (reply.status == 200) {
    // A cosignature is only ever returned for what the witness now stores, and it verifies.
    auto lines = audit::note::parseSignatureLines(reply.body);
    auto parsed = audit::parseAddCheckpoint(body);
    if (!lines || lines->size() != 1 || !parsed || store.cosigned.size() != 1) __builtin_trap();
    auto note = audit::note::parse(parsed->checkpoint);
    std::uint64_t t = 0;
    if (!note || !audit::note::verifyCosignature(note->text, lines->front(), keys().witnessVkey, t)) __builtin_trap();
  }
  return reply;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  (void)audit::note::parse(input);
  (void)audit::TreeHead::parse(input);
  (void)audit::note::VerifierKey::parse(input);
  (void)audit::note::parseSignatureLines(input);
  (void)audit::parseTlogSize(input);
  (void)audit::knownCosignatures(input, {input}, {keys().witnessVkey});
  (void)submit(input, std::nullopt);

  auto request = audit::parseAddCheckpoint(input);
  if (!request) return 0;
  // The parse is exact: building the body again gives the input back.
  if (audit::addCheckpointBody(request->oldSize, request->proof, request->checkpoint) != input) __builtin_trap();
  auto note = audit::note::parse(request->checkpoint);
  if (!note) return 0;
  auto line = audit::note::signText(note->text, kOrigin, keys().log);
  if (!line) return 0;
  // The same request signed by the known log key, against a witness that last cosigned `old`
  // with a root taken from the input: hostile sizes and proofs reach the proof verification.
  std::optional<audit::CosignedHead> state;
  if (request->oldSize > 0) state = audit::CosignedHead{request->oldSize, audit::merkle::leafHash(input)};
  (void)submit(audit::addCheckpointBody(request->oldSize, request->proof, note->text + "\n" + *line + "\n"), state);
  return 0;
}
