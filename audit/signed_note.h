// C2SP signed notes (c2sp.org/signed-note), the checkpoints written in them
// (c2sp.org/tlog-checkpoint) and Ed25519 cosignatures of checkpoints
// (c2sp.org/tlog-cosignature, cosignature/v1). No I/O.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "audit/merkle.h"
#include "audit/signing_key.h"
#include "common/result.h"

namespace hie::audit::note {

// Signature type bytes of signed-note.
constexpr unsigned char kEd25519 = 0x01;         // the log's own signature over the note text
constexpr unsigned char kCosignatureV1 = 0x04;   // a witness's timestamped cosignature

// The em dash (U+2014) and space that start every signature line.
inline const std::string kSignaturePrefix = "\xE2\x80\x94 ";

// SHA-256(name || 0x0A || type || 32-byte public key)[:4], big-endian.
std::uint32_t keyId(const std::string& name, unsigned char type, const std::string& rawPublicKey);

// A verifier key: <name>+<8 hex digits key id>+base64(type || 32-byte Ed25519 public key).
struct VerifierKey {
  std::string name;
  unsigned char type = kEd25519;
  std::string publicKey;  // 32 raw bytes
  std::uint32_t id = 0;

  // kInvalidInput with the reason for anything but an Ed25519 (0x01) or cosignature/v1 (0x04) vkey
  // whose id matches its name and key.
  static Result<VerifierKey> parse(const std::string& text);
  static VerifierKey of(const std::string& name, unsigned char type, const VerifyKey& key);
  std::string text() const;
};

// True for a key name signed-note allows: non-empty, printable ASCII without spaces or '+', at most 255 bytes.
bool isValidKeyName(const std::string& name);

struct SignatureLine {
  std::string name;
  std::uint32_t keyId = 0;
  std::string signature;  // the bytes after the key id
  std::string line;       // the whole line without its newline
};

struct Note {
  std::string text;  // including its final newline
  std::vector<SignatureLine> signatures;
};

// Splits a signed note into its text and signature lines. kInvalidInput (with the reason) for
// anything that is not one: control characters, no blank line before the signatures, a
// malformed signature line, more than 100 signatures.
Result<Note> parse(const std::string& signedNote);
// Parses signature lines alone (a witness's add-checkpoint answer): each "— name base64\n".
Result<std::vector<SignatureLine>> parseSignatureLines(const std::string& lines);

// "— <name> base64(key id || signature)" (no newline).
std::string signatureLine(const std::string& name, std::uint32_t keyId, const std::string& signature);

// The note text signed by the log: "— <name> base64(id || Ed25519(text))".
Result<std::string> signText(const std::string& text, const std::string& name, const SigningKey& key);
// True when line is a type 0x01 signature by key over text.
bool verifyText(const std::string& text, const SignatureLine& line, const VerifierKey& key);

// cosignature/v1: the message is "cosignature/v1\ntime <timestamp>\n" || checkpoint text.
std::string cosignatureMessage(const std::string& checkpointText, std::uint64_t timestamp);
Result<std::string> cosign(const std::string& checkpointText, std::uint64_t timestamp, const std::string& name,
                           const SigningKey& key);
// True when line is a valid cosignature/v1 by key over checkpointText; sets timestamp.
bool verifyCosignature(const std::string& checkpointText, const SignatureLine& line, const VerifierKey& key,
                       std::uint64_t& timestamp);

}  // namespace hie::audit::note

namespace hie::audit {

// The body of a checkpoint: origin, tree size, root hash (no extension lines).
struct TreeHead {
  std::string origin;
  std::uint64_t size = 0;
  merkle::Hash root{};

  // "<origin>\n<size>\n<base64 root>\n"
  std::string text() const;
  // kInvalidInput unless text is exactly three such lines (no extension lines).
  static Result<TreeHead> parse(const std::string& text);
};

// A checkpoint as a signed note: its head, its text and every signature line it carries.
struct SignedCheckpoint {
  TreeHead head;
  std::string note;  // text, blank line, signature lines
};

// True when origin can be a checkpoint's origin and a key name (isValidKeyName).
bool isValidOrigin(const std::string& origin);

}  // namespace hie::audit
