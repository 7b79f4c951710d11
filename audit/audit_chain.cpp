#include "audit/audit_chain.h"

#include <chrono>
#include <ctime>
#include <optional>

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

std::string nowRfc3339() {
  const auto now = std::chrono::system_clock::now();
  const std::time_t secs = std::chrono::system_clock::to_time_t(now);
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  char out[48];
  std::snprintf(out, sizeof out, "%s.%03dZ", buf, static_cast<int>(ms));
  return out;
}

SealedEntry link(const AuditEvent& event, const std::string& node, ChainHead& head) {
  SealedEntry e;
  e.chain = head.chain;
  e.seq = head.seq + 1;
  e.prevHash = head.hash;
  if (event.time.empty()) {
    AuditEvent stamped = event;
    stamped.time = nowRfc3339();
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

ChainVerifier::Seen& ChainVerifier::seen(const std::string& chain) {
  for (auto& [name, s] : heads_) {
    if (name == chain) return s;
  }
  heads_.emplace_back(chain, Seen{});
  heads_.back().second.head.chain = chain;
  return heads_.back().second;
}

bool ChainVerifier::feed(const SealedEntry& e) {
  Seen& s = seen(e.chain);
  if (s.broken) return false;
  auto problem = [&](const std::string& what) {
    problems_.push_back(Problem{e.chain, e.seq, what});
    s.broken = true;
    return false;
  };
  ++checked_;
  if (e.seq != s.head.seq + 1) {
    return problem(e.seq > s.head.seq + 1
                       ? "sequence gap: expected entry " + std::to_string(s.head.seq + 1) + " (entries deleted)"
                       : "entry out of order or repeated (expected " + std::to_string(s.head.seq + 1) + ")");
  }
  if (e.prevHash != s.head.hash) return problem("previous-hash link broken (entries reordered, removed or replaced)");
  const auto seq = numberField(e.canonical, "seq");
  const auto chain = stringField(e.canonical, "chain", [](unsigned char c) { return c != '\\'; });
  if (!seq || std::stoll(*seq) != e.seq || !chain || *chain != e.chain) {
    return problem("the entry's content names another chain or sequence number");
  }
  if (entryHash(e.prevHash, e.canonical) != e.hash) return problem("content does not match its hash (entry altered)");
  if (!key_.verify(entrySignatureInput(e.hash), e.signature)) {
    return problem("signature does not verify with the audit public key");
  }
  s.head.seq = e.seq;
  s.head.hash = e.hash;
  s.hashes.push_back(e.hash);
  return true;
}

bool ChainVerifier::checkCheckpoint(const Checkpoint& c) {
  auto problem = [&](const std::string& what) {
    problems_.push_back(Problem{c.chain, c.seq, what});
    return false;
  };
  if (!key_.verify(checkpointSignatureInput(c.canonical()), c.signature)) {
    return problem("checkpoint signature does not verify with the audit public key");
  }
  const Seen& s = seen(c.chain);
  if (static_cast<std::int64_t>(s.hashes.size()) < c.seq) {
    return problem("chain truncated: the checkpoint covers entry " + std::to_string(c.seq) + " but the chain " +
                   (s.hashes.empty() ? std::string("has no verified entries")
                                     : "ends at entry " + std::to_string(s.hashes.size())));
  }
  if (c.seq > 0 && s.hashes[static_cast<std::size_t>(c.seq - 1)] != c.hash) {
    return problem("chain rewritten: entry " + std::to_string(c.seq) + " differs from the checkpoint");
  }
  return true;
}

}  // namespace hie::audit
