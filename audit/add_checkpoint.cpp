#include "audit/add_checkpoint.h"

namespace hie::audit {

bool parseTreeSize(const std::string& text, std::uint64_t& out) {
  if (text.empty() || text.size() > 19 || text.find_first_not_of("0123456789") != std::string::npos ||
      (text.size() > 1 && text[0] == '0')) {
    return false;
  }
  std::uint64_t v = 0;
  for (char c : text) v = v * 10 + static_cast<std::uint64_t>(c - '0');  // 19 digits fit in 64 bits
  if (v > static_cast<std::uint64_t>(INT64_MAX)) return false;         // stored as a PostgreSQL bigint
  out = v;
  return true;
}

Result<AddCheckpointRequest> parseAddCheckpoint(const std::string& body) {
  auto bad = [](const std::string& why) { return fail(ErrorCode::kInvalidInput, "malformed add-checkpoint body: " + why); };
  AddCheckpointRequest out;
  std::size_t at = 0;
  auto nextLine = [&](std::string& line) {
    const std::size_t nl = body.find('\n', at);
    if (nl == std::string::npos) return false;
    line = body.substr(at, nl - at);
    at = nl + 1;
    return true;
  };
  std::string line;
  if (!nextLine(line) || line.compare(0, 4, "old ") != 0 || !parseTreeSize(line.substr(4), out.oldSize)) {
    return bad("it must start with the line 'old <size>'");
  }
  while (true) {
    if (!nextLine(line)) return bad("no empty line after the consistency proof");
    if (line.empty()) break;
    if (out.proof.size() == kMaxConsistencyProofLines) return bad("more than 63 consistency proof lines");
    merkle::Hash h{};
    if (!merkle::fromBase64(line, h) || merkle::toBase64(h) != line) {
      return bad("a consistency proof line is not the base64 of a 32-byte hash");
    }
    out.proof.push_back(h);
  }
  out.checkpoint = body.substr(at);
  if (out.checkpoint.empty()) return bad("no checkpoint after the empty line");
  return out;
}

std::string addCheckpointBody(std::uint64_t oldSize, const std::vector<merkle::Hash>& proof,
                              const std::string& checkpoint) {
  std::string out = "old " + std::to_string(oldSize) + "\n";
  for (const auto& h : proof) out += merkle::toBase64(h) + "\n";
  return out + "\n" + checkpoint;
}

Result<std::uint64_t> parseTlogSize(const std::string& body) {
  std::uint64_t size = 0;
  if (body.empty() || body.back() != '\n' || !parseTreeSize(body.substr(0, body.size() - 1), size)) {
    return fail(ErrorCode::kInvalidInput, "the witness's size answer is not '<size>\\n'");
  }
  return size;
}

}  // namespace hie::audit
