// Witness keys and the auditor's cosignature check (c2sp.org/tlog-cosignature):
// which known witnesses validly cosigned a checkpoint. Pure: no I/O.
#pragma once

#include <string>
#include <vector>

#include "audit/signed_note.h"
#include "common/result.h"

namespace hie::audit {

// Parses a verifier key and requires its signature type: note::kEd25519 for a log's key,
// note::kCosignatureV1 for a witness's key. kInvalidInput naming `what` and the reason.
Result<note::VerifierKey> parseVerifierKeyOfType(const std::string& text, unsigned char type, const std::string& what);

// One known witness that validly cosigned: its key and the time it signed.
struct WitnessCosignature {
  note::VerifierKey key;
  std::uint64_t timestamp = 0;
  std::string line;  // the signature line, without its newline
};

// The distinct known witnesses whose cosignature/v1 on the checkpoint verifies, in the
// order of `known`. The checkpoint is a signed note (its text must be a checkpoint);
// its own signature lines and extraLines (lines as stored, without newlines) are both
// searched. Lines of unknown keys (name or id not those of a known key) are ignored, as
// is the log's own signature. kInvalidInput when the note or a line is malformed, when a
// known key is not a cosignature/v1 key, or when a line names a known key (name and id)
// but its signature does not verify: such a checkpoint is refused whole.
Result<std::vector<WitnessCosignature>> knownCosignatures(const std::string& checkpointNote,
                                                          const std::vector<std::string>& extraLines,
                                                          const std::vector<note::VerifierKey>& known);

}  // namespace hie::audit
