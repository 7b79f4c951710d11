#include "audit/signed_note.h"

#include <openssl/evp.h>

#include <cstdio>

#include "common/base64.h"

namespace hie::audit::note {
namespace {

constexpr std::size_t kMaxSignatures = 100;

std::string sha256(const std::string& bytes) {
  unsigned char out[32];
  unsigned int len = 0;
  if (EVP_Digest(bytes.data(), bytes.size(), out, &len, EVP_sha256(), nullptr) != 1) std::abort();
  return std::string(reinterpret_cast<char*>(out), sizeof out);
}

std::string bigEndian(std::uint64_t value, int bytes) {
  std::string out(static_cast<std::size_t>(bytes), '\0');
  for (int i = bytes - 1; i >= 0; --i) {
    out[static_cast<std::size_t>(i)] = static_cast<char>(value & 0xFF);
    value >>= 8;
  }
  return out;
}

std::uint64_t readBigEndian(const std::string& bytes, std::size_t at, int count) {
  std::uint64_t v = 0;
  for (int i = 0; i < count; ++i) v = (v << 8) | static_cast<unsigned char>(bytes[at + static_cast<std::size_t>(i)]);
  return v;
}

Result<SignatureLine> parseLine(const std::string& line) {
  if (line.compare(0, kSignaturePrefix.size(), kSignaturePrefix) != 0) {
    return fail(ErrorCode::kInvalidInput, "a signature line does not start with an em dash and a space");
  }
  const std::string rest = line.substr(kSignaturePrefix.size());
  const std::size_t space = rest.find(' ');
  if (space == std::string::npos || rest.find(' ', space + 1) != std::string::npos) {
    return fail(ErrorCode::kInvalidInput, "a signature line is not '— <name> <base64>'");
  }
  SignatureLine out;
  out.name = rest.substr(0, space);
  if (!isValidKeyName(out.name)) return fail(ErrorCode::kInvalidInput, "a signature line has an invalid key name");
  std::string raw;
  const std::string b64 = rest.substr(space + 1);
  if (!base64Decode(b64, raw) || raw.size() < 5 || base64Encode(raw) != b64) {
    return fail(ErrorCode::kInvalidInput, "a signature line's signature is not base64 of a key id and a signature");
  }
  out.keyId = static_cast<std::uint32_t>(readBigEndian(raw, 0, 4));
  out.signature = raw.substr(4);
  out.line = line;
  return out;
}

std::string hex8(std::uint32_t id) {
  char buf[9];
  std::snprintf(buf, sizeof buf, "%08x", id);
  return buf;
}

bool verifyRaw(const std::string& publicKey, const std::string& message, const std::string& signature) {
  auto key = VerifyKey::fromRaw(publicKey);
  return key && key->verifyRaw(message, signature);
}

}  // namespace

std::uint32_t keyId(const std::string& name, unsigned char type, const std::string& rawPublicKey) {
  const std::string digest = sha256(name + "\n" + std::string(1, static_cast<char>(type)) + rawPublicKey);
  return static_cast<std::uint32_t>(readBigEndian(digest, 0, 4));
}

bool isValidKeyName(const std::string& name) {
  if (name.empty() || name.size() > 255) return false;
  for (unsigned char c : name) {
    if (c <= 0x20 || c >= 0x7F || c == '+') return false;
  }
  return true;
}

Result<VerifierKey> VerifierKey::parse(const std::string& text) {
  // Names and key ids hold no '+'; the base64 key after the second one may.
  const std::size_t a = text.find('+');
  const std::size_t b = a == std::string::npos ? a : text.find('+', a + 1);
  if (b == std::string::npos) {
    return fail(ErrorCode::kInvalidInput, "a verifier key is <name>+<key id hex>+<base64 key>");
  }
  VerifierKey k;
  k.name = text.substr(0, a);
  if (!isValidKeyName(k.name)) {
    return fail(ErrorCode::kInvalidInput, "the verifier key's name is empty or holds a space, '+' or a control character");
  }
  const std::string hex = text.substr(a + 1, b - a - 1);
  if (hex.size() != 8 || hex.find_first_not_of("0123456789abcdef") != std::string::npos) {
    return fail(ErrorCode::kInvalidInput, "the verifier key's id is not 8 lower-case hex digits");
  }
  std::string raw;
  const std::string b64 = text.substr(b + 1);
  if (!base64Decode(b64, raw) || base64Encode(raw) != b64 || raw.size() != 33) {
    return fail(ErrorCode::kInvalidInput, "the verifier key's key is not base64 of a type byte and 32 bytes");
  }
  k.type = static_cast<unsigned char>(raw[0]);
  if (k.type != kEd25519 && k.type != kCosignatureV1) {
    return fail(ErrorCode::kInvalidInput, "the verifier key is neither Ed25519 (type 01) nor cosignature/v1 (type 04)");
  }
  k.publicKey = raw.substr(1);
  if (!VerifyKey::fromRaw(k.publicKey)) return fail(ErrorCode::kInvalidInput, "the verifier key is not an Ed25519 key");
  k.id = keyId(k.name, k.type, k.publicKey);
  if (hex != hex8(k.id)) {
    return fail(ErrorCode::kInvalidInput, "the verifier key's id does not match its name and key");
  }
  return k;
}

VerifierKey VerifierKey::of(const std::string& name, unsigned char type, const VerifyKey& key) {
  VerifierKey k;
  k.name = name;
  k.type = type;
  k.publicKey = key.rawPublicKey();
  k.id = keyId(name, type, k.publicKey);
  return k;
}

std::string VerifierKey::text() const {
  return name + "+" + hex8(id) + "+" + base64Encode(std::string(1, static_cast<char>(type)) + publicKey);
}

Result<Note> parse(const std::string& signedNote) {
  if (signedNote.size() > 65536) return fail(ErrorCode::kInvalidInput, "the note is longer than 64 KiB");
  for (unsigned char c : signedNote) {
    if (c < 0x20 && c != '\n') return fail(ErrorCode::kInvalidInput, "the note holds a control character");
  }
  if (signedNote.empty() || signedNote.back() != '\n') {
    return fail(ErrorCode::kInvalidInput, "the note does not end with a newline");
  }
  // The text ends at the last blank line.
  const std::size_t blank = signedNote.rfind("\n\n");
  if (blank == std::string::npos) return fail(ErrorCode::kInvalidInput, "the note has no blank line before its signatures");
  Note out;
  out.text = signedNote.substr(0, blank + 1);
  auto lines = parseSignatureLines(signedNote.substr(blank + 2));
  if (!lines) return tl::make_unexpected(lines.error());
  if (lines->empty()) return fail(ErrorCode::kInvalidInput, "the note has no signature");
  out.signatures = std::move(*lines);
  return out;
}

Result<std::vector<SignatureLine>> parseSignatureLines(const std::string& lines) {
  std::vector<SignatureLine> out;
  std::size_t at = 0;
  while (at < lines.size()) {
    const std::size_t nl = lines.find('\n', at);
    if (nl == std::string::npos) return fail(ErrorCode::kInvalidInput, "a signature line does not end with a newline");
    auto line = parseLine(lines.substr(at, nl - at));
    if (!line) return tl::make_unexpected(line.error());
    out.push_back(std::move(*line));
    if (out.size() > kMaxSignatures) return fail(ErrorCode::kInvalidInput, "more than 100 signatures");
    at = nl + 1;
  }
  return out;
}

std::string signatureLine(const std::string& name, std::uint32_t id, const std::string& signature) {
  return kSignaturePrefix + name + " " + base64Encode(bigEndian(id, 4) + signature);
}

Result<std::string> signText(const std::string& text, const std::string& name, const SigningKey& key) {
  auto sig = key.signRaw(text);
  if (!sig) return tl::make_unexpected(sig.error());
  return signatureLine(name, keyId(name, kEd25519, key.rawPublicKey()), *sig);
}

bool verifyText(const std::string& text, const SignatureLine& line, const VerifierKey& key) {
  return key.type == kEd25519 && line.name == key.name && line.keyId == key.id && line.signature.size() == 64 &&
         verifyRaw(key.publicKey, text, line.signature);
}

std::string cosignatureMessage(const std::string& checkpointText, std::uint64_t timestamp) {
  return "cosignature/v1\ntime " + std::to_string(timestamp) + "\n" + checkpointText;
}

Result<std::string> cosign(const std::string& checkpointText, std::uint64_t timestamp, const std::string& name,
                           const SigningKey& key) {
  auto sig = key.signRaw(cosignatureMessage(checkpointText, timestamp));
  if (!sig) return tl::make_unexpected(sig.error());
  return signatureLine(name, keyId(name, kCosignatureV1, key.rawPublicKey()), bigEndian(timestamp, 8) + *sig);
}

bool verifyCosignature(const std::string& checkpointText, const SignatureLine& line, const VerifierKey& key,
                       std::uint64_t& timestamp) {
  if (key.type != kCosignatureV1 || line.name != key.name || line.keyId != key.id || line.signature.size() != 72) {
    return false;
  }
  const std::uint64_t t = readBigEndian(line.signature, 0, 8);
  if (t > (std::uint64_t{1} << 63) - 1) return false;
  if (!verifyRaw(key.publicKey, cosignatureMessage(checkpointText, t), line.signature.substr(8))) return false;
  timestamp = t;
  return true;
}

}  // namespace hie::audit::note

namespace hie::audit {

bool isValidOrigin(const std::string& origin) { return note::isValidKeyName(origin); }

std::string TreeHead::text() const {
  return origin + "\n" + std::to_string(size) + "\n" + merkle::toBase64(root) + "\n";
}

Result<TreeHead> TreeHead::parse(const std::string& text) {
  auto bad = [](const std::string& why) { return fail(ErrorCode::kInvalidInput, "not a checkpoint: " + why); };
  std::vector<std::string> lines;
  std::size_t at = 0;
  while (at < text.size()) {
    const std::size_t nl = text.find('\n', at);
    if (nl == std::string::npos) return bad("its text does not end with a newline");
    lines.push_back(text.substr(at, nl - at));
    at = nl + 1;
  }
  if (lines.size() != 3) return bad("it must be exactly three lines: origin, tree size, root hash");
  TreeHead h;
  h.origin = lines[0];
  if (!isValidOrigin(h.origin)) return bad("the origin is empty or holds a space, '+' or a control character");
  const std::string& size = lines[1];
  if (size.empty() || size.size() > 19 || size.find_first_not_of("0123456789") != std::string::npos ||
      (size.size() > 1 && size[0] == '0')) {
    return bad("the tree size is not a decimal number without leading zeros");
  }
  h.size = std::stoull(size);
  if (!merkle::fromBase64(lines[2], h.root)) return bad("the root hash is not base64 of 32 bytes");
  return h;
}

}  // namespace hie::audit
