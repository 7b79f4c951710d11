#include "audit/audit_chain.h"

#include <algorithm>
#include <chrono>
#include <ctime>
#include <optional>

#include "common/time.h"

namespace hie::audit {
namespace {

// Field lookups in stored JSON (canonical entries, checkpoints). These were std::regex
// searches: libstdc++'s executor recurses per character, so a long hostile row could
// exhaust the stack, and compiling one per call dominated `audit verify` and the fuzzer.

// The first `"name":"VALUE"` whose VALUE consists only of characters accepted by ok.
template <class Ok>
std::optional<std::string> stringField(const std::string& json, const std::string& name, Ok ok) {
  const std::string key = "\"" + name + "\":\"";
  for (std::size_t at = json.find(key); at != std::string::npos; at = json.find(key, at + 1)) {
    const std::size_t begin = at + key.size();
    std::size_t end = begin;
    while (end < json.size() && json[end] != '"' && ok(static_cast<unsigned char>(json[end]))) ++end;
    if (end < json.size() && json[end] == '"') return json.substr(begin, end - begin);
  }
  return std::nullopt;
}

// The first `"name":DIGITS` with 1 to 18 digits followed by ',' or '}'.
std::optional<std::string> numberField(const std::string& json, const std::string& name) {
  const std::string key = "\"" + name + "\":";
  for (std::size_t at = json.find(key); at != std::string::npos; at = json.find(key, at + 1)) {
    const std::size_t begin = at + key.size();
    std::size_t end = begin;
    while (end < json.size() && end - begin <= 18 && json[end] >= '0' && json[end] <= '9') ++end;
    const std::size_t digits = end - begin;
    if (digits >= 1 && digits <= 18 && end < json.size() && (json[end] == ',' || json[end] == '}')) {
      return json.substr(begin, digits);
    }
  }
  return std::nullopt;
}

// [A-Za-z0-9+/=:._ -]: what checkpoint fields may hold.
bool checkpointChar(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/' ||
         c == '=' || c == ':' || c == '.' || c == '_' || c == ' ' || c == '-';
}

}  // namespace

SealedEntry link(const AuditEvent& event, const std::string& node, ChainHead& head) {
  SealedEntry e;
  e.chain = head.chain;
  e.seq = head.seq + 1;
  e.prevHash = head.hash;
  if (event.time.empty()) {
    AuditEvent stamped = event;
    stamped.time = utc::nowMillis();
    e.canonical = canonicalJson(entryObject(stamped, node, head.chain, e.seq));
  } else {
    e.canonical = canonicalJson(entryObject(event, node, head.chain, e.seq));
  }
  e.hash = entryHash(e.prevHash, e.canonical);
  head.seq = e.seq;
  head.hash = e.hash;
  return e;
}

Result<bool> signEntry(SealedEntry& entry, const SigningKey& key) {
  auto sig = key.sign(entrySignatureInput(entry.hash));
  if (!sig) return tl::make_unexpected(sig.error());
  entry.signature = std::move(*sig);
  return true;
}

Result<SealedEntry> seal(const AuditEvent& event, const std::string& node, ChainHead& head, const SigningKey& key) {
  ChainHead next = head;
  SealedEntry e = link(event, node, next);
  auto signedOk = signEntry(e, key);
  if (!signedOk) return tl::make_unexpected(signedOk.error());
  head = next;
  return e;
}

std::string Checkpoint::canonical() const {
  return canonicalJson(CanonicalObject{{"chain", chain},
                                       {"hash", hash},
                                       {"node", node},
                                       {"seq", seq},
                                       {"time", time},
                                       {"type", std::string("checkpoint")}});
}

std::string Checkpoint::toJson() const {
  return canonicalJson(CanonicalObject{{"chain", chain},
                                       {"hash", hash},
                                       {"node", node},
                                       {"seq", seq},
                                       {"sig", signature},
                                       {"time", time},
                                       {"type", std::string("checkpoint")}});
}

Result<Checkpoint> Checkpoint::fromJson(const std::string& json) {
  Checkpoint c;
  auto field = [&json](const char* name) { return stringField(json, name, checkpointChar); };
  auto chain = field("chain"), hash = field("hash"), node = field("node"), seq = numberField(json, "seq"),
       sig = field("sig"), time = field("time"), type = field("type");
  if (!chain || !hash || !node || !seq || !sig || !time || !type || *type != "checkpoint") {
    return fail(ErrorCode::kInvalidInput, "not a hie-node checkpoint (expected the JSON printed by `hie-node audit checkpoint`)");
  }
  c.chain = *chain;
  c.hash = *hash;
  c.node = *node;
  c.seq = std::stoll(*seq);
  c.signature = *sig;
  c.time = *time;
  return c;
}

Result<Checkpoint> signCheckpoint(const ChainHead& head, const std::string& node, const std::string& time,
                                  const SigningKey& key) {
  Checkpoint c{head.chain, node, head.seq, head.hash, time, ""};
  auto sig = key.sign(checkpointSignatureInput(c.canonical()));
  if (!sig) return tl::make_unexpected(sig.error());
  c.signature = *sig;
  return c;
}

const char* problemKindName(ChainVerifier::Kind kind) {
  switch (kind) {
    case ChainVerifier::Kind::kGap: return "gap";
    case ChainVerifier::Kind::kOutOfOrder: return "out-of-order";
    case ChainVerifier::Kind::kMisplaced: return "misplaced";
    case ChainVerifier::Kind::kBrokenLink: return "broken-link";
    case ChainVerifier::Kind::kHashMismatch: return "hash-mismatch";
    case ChainVerifier::Kind::kBadSignature: return "bad-signature";
    case ChainVerifier::Kind::kTruncated: return "truncated";
    case ChainVerifier::Kind::kRewritten: return "rewritten";
    case ChainVerifier::Kind::kBadCheckpoint: return "bad-checkpoint-signature";
    case ChainVerifier::Kind::kColumnAltered: return "column-altered";
  }
  return "unknown";
}

ChainVerifier::Seen& ChainVerifier::seen(const std::string& chain) {
  for (auto& [name, s] : heads_) {
    if (name == chain) return s;
  }
  heads_.emplace_back(chain, Seen{});
  heads_.back().second.head.chain = chain;
  return heads_.back().second;
}

const ChainVerifier::Seen* ChainVerifier::find(const std::string& chain) const {
  for (const auto& [name, s] : heads_) {
    if (name == chain) return &s;
  }
  return nullptr;
}

bool ChainVerifier::feed(const SealedEntry& e) {
  Seen& s = seen(e.chain);
  const std::size_t before = problems_.size();
  auto problem = [&](Kind kind, const std::string& what) { problems_.push_back(Problem{e.chain, e.seq, kind, what}); };
  ++checked_;
  // Each check stands on its own, so one entry can show several problems, and a bad entry
  // does not hide the next one: the chain goes on from this entry's stored hash.
  const std::int64_t expected = s.head.seq + 1;
  const bool inOrder = e.seq >= expected;
  if (!inOrder) {
    problem(Kind::kOutOfOrder, "entry out of order or repeated (expected entry " + std::to_string(expected) + ")");
  } else if (e.seq > expected) {
    // The link cannot be checked across missing entries: the gap is the finding.
    problem(Kind::kGap, (e.seq - 1 == expected ? "entry " + std::to_string(expected) + " is missing"
                                               : "entries " + std::to_string(expected) + " to " +
                                                     std::to_string(e.seq - 1) + " are missing") +
                            " (deleted)");
  } else if (e.prevHash != s.head.hash) {
    problem(Kind::kBrokenLink, s.head.seq == 0 ? "previous hash is not the genesis hash"
                                               : "previous hash is not the stored hash of entry " +
                                                     std::to_string(s.head.seq) + " (entries reordered or replaced)");
  }
  const auto seq = numberField(e.canonical, "seq");
  const auto chain = stringField(e.canonical, "chain", [](unsigned char c) { return c != '\\'; });
  if (!seq || std::stoll(*seq) != e.seq || !chain || *chain != e.chain) {
    problem(Kind::kMisplaced, "the entry's content names another chain or sequence number");
  }
  if (entryHash(e.prevHash, e.canonical) != e.hash) {
    problem(Kind::kHashMismatch, "content does not match its hash (entry altered)");
  }
  if (!key_.verify(entrySignatureInput(e.hash), e.signature)) {
    problem(Kind::kBadSignature, "signature does not verify with the audit public key");
  }
  if (inOrder) {
    s.head.seq = e.seq;
    s.head.hash = e.hash;
    s.hashes.emplace_back(e.seq, e.hash);
  }
  return problems_.size() == before;
}

bool ChainVerifier::checkColumns(const SealedEntry& e, const EntryColumns& c) {
  std::vector<std::string> altered;
  auto text = [&](const char* column, const char* key, const std::string& value) {
    if (canonicalStringField(e.canonical, key) != std::optional<std::string>(value)) altered.push_back(column);
  };
  text("event_type", "eventType", c.eventType);
  text("action", "action", c.action);
  text("outcome", "outcome", c.outcome);
  text("organization", "organization", c.organization);
  text("patient", "patient", c.patient);
  text("purpose", "purpose", c.purpose);
  text("request_id", "requestId", c.requestId);
  if (canonicalBoolField(e.canonical, "breakGlass") != std::optional<bool>(c.breakGlass)) altered.push_back("break_glass");
  if (altered.empty()) return true;
  std::string list;
  for (const auto& a : altered) list += (list.empty() ? "" : ", ") + a;
  problems_.push_back(Problem{e.chain, e.seq, Kind::kColumnAltered,
                              "the row's " + list + " differ" + (altered.size() == 1 ? "s" : "") +
                                  " from the signed entry (column altered)"});
  return false;
}

bool ChainVerifier::checkCheckpoint(const Checkpoint& c) {
  auto problem = [&](Kind kind, const std::string& what) {
    problems_.push_back(Problem{c.chain, c.seq, kind, what});
    return false;
  };
  if (!key_.verify(checkpointSignatureInput(c.canonical()), c.signature)) {
    return problem(Kind::kBadCheckpoint, "checkpoint signature does not verify with the audit public key");
  }
  if (c.seq <= 0) return true;  // a checkpoint of an empty chain claims nothing
  const Seen* s = find(c.chain);
  const std::int64_t last = s == nullptr ? 0 : s->head.seq;
  if (last < c.seq) {
    return problem(Kind::kTruncated, "chain truncated: the checkpoint covers entry " + std::to_string(c.seq) +
                                         " but the chain " +
                                         (last == 0 ? std::string("has no entries")
                                                    : "ends at entry " + std::to_string(last)));
  }
  const auto at = std::lower_bound(s->hashes.begin(), s->hashes.end(), c.seq,
                                   [](const auto& entry, std::int64_t seq) { return entry.first < seq; });
  if (at == s->hashes.end() || at->first != c.seq) {
    return problem(Kind::kGap, "entry " + std::to_string(c.seq) + ", which the checkpoint covers, is missing");
  }
  if (at->second != c.hash) {
    return problem(Kind::kRewritten, "chain rewritten: entry " + std::to_string(c.seq) + " differs from the checkpoint");
  }
  return true;
}

}  // namespace hie::audit
