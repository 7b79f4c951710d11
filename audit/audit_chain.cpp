#include "audit/audit_chain.h"

#include <chrono>
#include <ctime>
#include <regex>

namespace hie::audit {

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
  auto field = [&json](const std::string& name, bool number) -> std::optional<std::string> {
    const std::regex re(number ? "\"" + name + "\":(\\d{1,18})[,}]" : "\"" + name + "\":\"([A-Za-z0-9+/=:._ -]*)\"");
    std::smatch m;
    if (!std::regex_search(json, m, re)) return std::nullopt;
    return m[1].str();
  };
  Checkpoint c;
  auto chain = field("chain", false), hash = field("hash", false), node = field("node", false),
       seq = field("seq", true), sig = field("sig", false), time = field("time", false), type = field("type", false);
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
  static const std::regex kSeq("\"seq\":(\\d{1,18})[,}]");
  static const std::regex kChain("\"chain\":\"([^\"\\\\]*)\"");
  std::smatch m;
  if (!std::regex_search(e.canonical, m, kSeq) || std::stoll(m[1]) != e.seq ||
      !std::regex_search(e.canonical, m, kChain) || m[1].str() != e.chain) {
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
