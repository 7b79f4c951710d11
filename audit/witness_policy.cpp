#include "audit/witness_policy.h"

#include <cstdio>

namespace hie::audit {
namespace {

std::string typeName(unsigned char type) {
  return type == note::kEd25519 ? "an Ed25519 log key (type 01)" : "a cosignature/v1 witness key (type 04)";
}

}  // namespace

Result<note::VerifierKey> parseVerifierKeyOfType(const std::string& text, unsigned char type, const std::string& what) {
  auto key = note::VerifierKey::parse(text);
  if (!key) return fail(ErrorCode::kInvalidInput, what + ": " + key.error().internal);
  if (key->type != type) {
    return fail(ErrorCode::kInvalidInput, what + " must be " + typeName(type) + ", not " + typeName(key->type));
  }
  return key;
}

Result<std::vector<WitnessCosignature>> knownCosignatures(const std::string& checkpointNote,
                                                          const std::vector<std::string>& extraLines,
                                                          const std::vector<note::VerifierKey>& known) {
  for (const auto& key : known) {
    if (key.type != note::kCosignatureV1) {
      return fail(ErrorCode::kInvalidInput, "the witness key " + key.name + " is not a cosignature/v1 key (type 04)");
    }
  }
  auto parsed = note::parse(checkpointNote);
  if (!parsed) return tl::make_unexpected(parsed.error());
  auto head = TreeHead::parse(parsed->text);
  if (!head) return tl::make_unexpected(head.error());
  std::vector<note::SignatureLine> lines = parsed->signatures;
  for (const auto& extra : extraLines) {
    auto more = note::parseSignatureLines(extra + "\n");
    if (!more) return tl::make_unexpected(more.error());
    lines.insert(lines.end(), more->begin(), more->end());
  }
  std::vector<bool> cosigned(known.size(), false);
  std::vector<WitnessCosignature> found(known.size());
  for (const auto& line : lines) {
    for (std::size_t k = 0; k < known.size(); ++k) {
      const note::VerifierKey& key = known[k];
      if (line.name != key.name || line.keyId != key.id) continue;  // not this key
      std::uint64_t timestamp = 0;
      if (!note::verifyCosignature(parsed->text, line, key, timestamp)) {
        char id[9];
        std::snprintf(id, sizeof id, "%08x", key.id);
        return fail(ErrorCode::kInvalidInput, "the cosignature of the known witness " + key.name + " (key id " + id +
                                                  ") on the checkpoint of size " + std::to_string(head->size) +
                                                  " does not verify");
      }
      if (!cosigned[k]) found[k] = WitnessCosignature{key, timestamp, line.line};
      cosigned[k] = true;
    }
  }
  // Distinct witnesses: the same key listed twice counts once.
  std::vector<WitnessCosignature> out;
  for (std::size_t k = 0; k < known.size(); ++k) {
    if (!cosigned[k]) continue;
    bool duplicate = false;
    for (const auto& o : out) duplicate = duplicate || (o.key.name == known[k].name && o.key.id == known[k].id &&
                                                        o.key.publicKey == known[k].publicKey);
    if (!duplicate) out.push_back(found[k]);
  }
  return out;
}

}  // namespace hie::audit
