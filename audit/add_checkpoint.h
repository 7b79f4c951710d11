// The body of a C2SP tlog-witness add-checkpoint request (c2sp.org/tlog-witness):
//   "old <size>\n", zero to 63 lines of one base64 hash each, "\n", a checkpoint
// (a signed note). Built by the witness submitter, parsed by the witness. Pure.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "audit/merkle.h"
#include "common/result.h"

namespace hie::audit {

constexpr std::size_t kMaxConsistencyProofLines = 63;
// The body of a 409 answer (Content-Type text/x.tlog.size): the witness's size and a newline.
constexpr const char* kTlogSizeContentType = "text/x.tlog.size";

struct AddCheckpointRequest {
  std::uint64_t oldSize = 0;
  std::vector<merkle::Hash> proof;
  std::string checkpoint;  // the signed note, as sent (not yet parsed or verified)
};

// kInvalidInput with the reason when body is not exactly that: an old size line of a decimal
// without leading zeros (at most 2^63 - 1), each proof line base64 of 32 bytes in canonical
// form, at most 63 of them, then the empty line; the checkpoint is the rest, not checked here.
Result<AddCheckpointRequest> parseAddCheckpoint(const std::string& body);
std::string addCheckpointBody(std::uint64_t oldSize, const std::vector<merkle::Hash>& proof,
                              const std::string& checkpoint);

// "<size>\n" -> size; kInvalidInput for anything else (a decimal without leading zeros, at most 2^63 - 1).
Result<std::uint64_t> parseTlogSize(const std::string& body);

// A decimal without leading zeros ("0" for zero) of at most 2^63 - 1; false otherwise.
bool parseTreeSize(const std::string& text, std::uint64_t& out);

}  // namespace hie::audit
