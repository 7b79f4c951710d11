#include "audit/transparency_log.h"

namespace hie::audit {

std::string defaultLogOrigin(const std::string& nodeId) { return "hie-node/" + nodeId + "/audit"; }

Result<SignedCheckpoint> signTreeHead(const TreeHead& head, const SigningKey& key) {
  const std::string text = head.text();
  auto line = note::signText(text, head.origin, key);
  if (!line) return tl::make_unexpected(line.error());
  return SignedCheckpoint{head, text + "\n" + *line + "\n"};
}

Result<SignedCheckpoint> openCheckpoint(const std::string& text, const note::VerifierKey& logKey) {
  auto parsed = note::parse(text);
  if (!parsed) return tl::make_unexpected(parsed.error());
  auto head = TreeHead::parse(parsed->text);
  if (!head) return tl::make_unexpected(head.error());
  if (head->origin != logKey.name) {
    return fail(ErrorCode::kInvalidInput, "the checkpoint's origin " + head->origin + " is not the log's key name " +
                                              logKey.name);
  }
  bool signedByLog = false;
  for (const auto& line : parsed->signatures) {
    if (line.name != logKey.name || line.keyId != logKey.id) continue;  // unknown keys are ignored
    if (!note::verifyText(parsed->text, line, logKey)) {
      return fail(ErrorCode::kInvalidInput, "the log's signature on the checkpoint does not verify");
    }
    signedByLog = true;
  }
  if (!signedByLog) return fail(ErrorCode::kInvalidInput, "the checkpoint carries no signature of the log's key");
  return SignedCheckpoint{*head, text};
}

}  // namespace hie::audit
