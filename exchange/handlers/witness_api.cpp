#include "exchange/handlers/witness_api.h"

#include <algorithm>
#include <chrono>
#include <vector>

#include "audit/add_checkpoint.h"
#include "audit/signed_note.h"
#include "audit/witness_policy.h"
#include "audit/witnessed_log.h"

namespace hie::exchange {
namespace {

constexpr const char* kTextPlain = "text/plain; charset=utf-8";

// Every answer of this endpoint is plain text (tlog-witness clients read the status and the
// body's lines); `result` is the counter's label and, for a refusal, the audit's reason.
HttpReply answer(int status, const std::string& body, const std::string& result) {
  HttpReply reply;
  reply.status = status;
  reply.contentType = kTextPlain;
  reply.body = body;
  reply.access.action = audit::kWitnessAction;
  if (status != 200) reply.refusalReason = "witness_" + result;
  return reply;
}

// The log keys of the peer directory whose name is origin: the keys trusted for that log.
std::vector<audit::note::VerifierKey> logKeysFor(const std::string& origin, const auth::RegistrySnapshot& registry) {
  std::vector<audit::note::VerifierKey> keys;
  for (const auto& peer : registry.peers) {
    if (peer.logKey.empty()) continue;
    // Checked by `peer add`; a stored key that no longer parses is not trusted.
    auto key = audit::parseVerifierKeyOfType(peer.logKey, audit::note::kEd25519, "log key");
    if (key && key->name == origin) keys.push_back(std::move(*key));
  }
  return keys;
}

}  // namespace

std::uint64_t posixSeconds() {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count());
}

WitnessApi::WitnessApi(audit::WitnessStore& store, const audit::SigningKey& key, std::string name, Counters& counters,
                       std::function<std::uint64_t()> now)
    : store_(store), key_(key), name_(std::move(name)), counters_(counters), now_(std::move(now)) {}

HttpReply WitnessApi::handle(const HttpCall& call, const auth::RegistrySnapshot& registry) const {
  auto refuse = [this](int status, const std::string& text, const std::string& result, const std::string& detail = "") {
    counters_.witnessRequests.inc({result});
    HttpReply reply = answer(status, text + "\n", result);
    reply.internalError = detail;
    return reply;
  };
  if (call.path != kAddCheckpointPath) return refuse(404, "No such endpoint.", "no_route");
  if (call.method != "POST") {
    HttpReply reply = refuse(405, "Only POST is supported here.", "method_not_allowed");
    reply.headers.emplace_back("Allow", "POST");
    return reply;
  }
  if (!call.query.empty()) return refuse(400, "add-checkpoint takes no query parameters.", "malformed");
  auto request = audit::parseAddCheckpoint(call.body);
  if (!request) return refuse(400, "Malformed add-checkpoint request.", "malformed", request.error().internal);
  auto note = audit::note::parse(request->checkpoint);
  if (!note) return refuse(400, "The checkpoint is not a signed note.", "malformed", note.error().internal);
  auto head = audit::TreeHead::parse(note->text);
  if (!head) return refuse(400, "The note is not a checkpoint.", "malformed", head.error().internal);
  if (request->oldSize > head->size) {
    return refuse(400, "The old size is larger than the checkpoint's size.", "malformed");
  }
  const std::string& origin = head->origin;
  const std::string where = "origin " + origin + " old " + std::to_string(request->oldSize) + " size " +
                            std::to_string(head->size);

  // The log's signature: unknown keys are ignored; a known key's bad signature refuses the note.
  const auto keys = logKeysFor(origin, registry);
  if (keys.empty()) return refuse(404, "Unknown log origin.", "unknown_origin", where);
  bool signedByLog = false;
  for (const auto& line : note->signatures) {
    for (const auto& key : keys) {
      if (line.name != key.name || line.keyId != key.id) continue;
      if (!audit::note::verifyText(note->text, line, key)) {
        return refuse(403, "A signature of the log's key does not verify.", "bad_signature", where);
      }
      signedByLog = true;
    }
  }
  if (!signedByLog) return refuse(403, "The checkpoint carries no signature of the log's key.", "unsigned", where);

  // Check against the latest cosigned head and advance it atomically (compare-and-set); a
  // submission that lost a race is checked again against the head that won.
  for (int attempt = 0; attempt < 3; ++attempt) {
    auto latest = store_.latest(origin);
    if (!latest) return refuse(503, "The service is temporarily unavailable.", "unavailable", latest.error().internal);
    const std::uint64_t cosigned = *latest ? (*latest)->size : 0;
    if (request->oldSize != cosigned) {
      counters_.witnessRequests.inc({"conflict"});
      HttpReply reply = answer(409, std::to_string(cosigned) + "\n", "conflict");
      reply.contentType = audit::kTlogSizeContentType;
      reply.internalError = where + ": this witness last cosigned size " + std::to_string(cosigned);
      return reply;
    }
    if (head->size == 0 && head->root != audit::merkle::emptyRoot()) {
      return refuse(422, "A checkpoint of size 0 must have the empty tree's root.", "inconsistent", where);
    }
    const audit::merkle::Hash oldRoot = *latest ? (*latest)->root : audit::merkle::emptyRoot();
    if (!audit::merkle::verifyConsistency(request->oldSize, head->size, request->proof, oldRoot, head->root)) {
      // Evidence of a log that forked or rewrote its history (or a bad proof): logged, never cosigned.
      return refuse(422, "The checkpoint is not consistent with the one this witness last cosigned.", "inconsistent",
                    where + ": the consistency proof does not verify");
    }
    const std::uint64_t now = std::max<std::uint64_t>(now_(), 1);  // a cosignature's time is never 0
    auto line = audit::note::cosign(note->text, now, name_, key_);
    if (!line) return refuse(500, "Internal error.", "internal", line.error().internal);
    auto advanced = store_.advance(origin, *latest, audit::CosignedHead{head->size, head->root},
                                   request->checkpoint + *line + "\n");
    if (!advanced) {
      return refuse(503, "The service is temporarily unavailable.", "unavailable", advanced.error().internal);
    }
    if (*advanced) {
      counters_.witnessRequests.inc({"cosigned"});
      return answer(200, *line + "\n", "cosigned");
    }
  }
  return refuse(503, "The service is temporarily unavailable.", "unavailable",
                where + ": lost the race for the witness state three times");
}

}  // namespace hie::exchange
