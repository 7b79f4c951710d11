#include "audit/canonical_form.h"

#include "common/base64.h"
#include "common/digest.h"
#include "common/hex.h"

namespace hie::audit {

std::string printableAscii(const std::string& text, std::size_t maxLength) {
  std::string out;
  for (unsigned char c : text) {
    const bool plain = c >= 0x20 && c <= 0x7e && c != '%';
    // Cut before the first byte whose encoding no longer fits: never inside a %XX.
    if (out.size() + (plain ? 1 : 3) > maxLength) break;
    if (plain) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      appendHexByte(out, c, true);
    }
  }
  return out;
}

std::string canonicalString(const std::string& text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

std::string canonicalJson(const CanonicalObject& object) {
  std::string out = "{";
  bool first = true;
  auto appendString = [&out](const std::string& s) { out += canonicalString(s); };
  for (const auto& [key, value] : object) {
    if (!first) out.push_back(',');
    first = false;
    appendString(key);
    out.push_back(':');
    if (const auto* s = std::get_if<std::string>(&value)) {
      appendString(*s);
    } else if (const auto* i = std::get_if<std::int64_t>(&value)) {
      out += std::to_string(*i);
    } else {
      out += std::get<bool>(value) ? "true" : "false";
    }
  }
  out.push_back('}');
  return out;
}

namespace {

// The 26 keys an entry of either format holds; the format adds its position (v1: chain and seq,
// v2: index).
CanonicalObject eventObject(const AuditEvent& e, const std::string& node) {
  auto s = [](const std::string& v) { return CanonicalValue(printableAscii(v)); };
  return CanonicalObject{
      {"action", s(e.action)},
      {"breakGlass", e.breakGlass},
      {"causedBy", s(e.causedBy)},
      {"certSha256", s(e.certSha256)},
      {"entities", CanonicalValue(printableAscii(e.entities, kMaxEntitiesLength))},
      {"eventType", s(e.eventType)},
      {"httpStatus", static_cast<std::int64_t>(e.httpStatus)},
      {"issuerDn", s(e.issuerDn)},
      {"latencyMicros", e.latencyMicros},
      {"method", s(e.method)},
      {"node", s(node)},
      {"organization", s(e.organization)},
      {"outcome", s(e.outcome)},
      {"outcomeReason", s(e.outcomeReason)},
      {"path", s(e.path)},
      {"patient", s(e.patient)},
      {"patientQuery", s(e.patientQuery)},
      {"peerOrganization", s(e.peerOrganization)},
      {"purpose", s(e.purpose)},
      {"remoteAddress", s(e.remoteAddress)},
      {"requestId", s(e.requestId)},
      {"resourceId", s(e.resourceId)},
      {"resourceType", s(e.resourceType)},
      {"resultCount", e.resultCount},
      {"subjectDn", s(e.subjectDn)},
      {"time", s(e.time)},
  };
}

}  // namespace

CanonicalObject entryObject(const AuditEvent& e, const std::string& node, const std::string& chain, std::int64_t seq) {
  CanonicalObject o = eventObject(e, node);
  o.emplace("chain", CanonicalValue(printableAscii(chain)));
  o.emplace("seq", seq);
  return o;
}

CanonicalObject leafObject(const AuditEvent& event, const std::string& node, std::uint64_t index) {
  CanonicalObject o = eventObject(event, node);
  o.emplace("index", static_cast<std::int64_t>(index));
  // v2 only: the evidence of signed requests and answers. Signatures as base64 (RFC 4648 4).
  auto base = [](const std::string& v) { return CanonicalValue(printableAscii(v, kMaxSignatureTextLength)); };
  o.emplace("requestSignature", CanonicalValue(base64Encode(event.requestSignature)));
  o.emplace("requestSignatureBase", base(event.requestSignatureBase));
  o.emplace("responseSignature", CanonicalValue(base64Encode(event.responseSignature)));
  o.emplace("responseSignatureBase", base(event.responseSignatureBase));
  o.emplace("signatureCheck", CanonicalValue(printableAscii(event.signatureCheck)));
  // Since UDAP (issue 17): how the caller authenticated (mtls | mtls+udap; "" for a handshake) and
  // the UDAP client_id ("" when none). 34 keys.
  o.emplace("authentication", CanonicalValue(printableAscii(event.authentication)));
  o.emplace("clientId", CanonicalValue(printableAscii(event.clientId)));
  return o;
}

namespace {

// Where the value of top-level key starts (just after `"key":`), or npos.
std::size_t valueStart(const std::string& json, const std::string& key) {
  const std::string needle = "\"" + key + "\":";
  for (std::size_t at = json.find(needle); at != std::string::npos; at = json.find(needle, at + 1)) {
    if (at > 0 && (json[at - 1] == '{' || json[at - 1] == ',')) return at + needle.size();
  }
  return std::string::npos;
}

}  // namespace

std::optional<std::string> canonicalStringField(const std::string& json, const std::string& key) {
  std::size_t at = valueStart(json, key);
  if (at == std::string::npos || at >= json.size() || json[at] != '"') return std::nullopt;
  std::string out;
  for (++at; at < json.size(); ++at) {
    const char c = json[at];
    if (c == '"') return out;
    if (c == '\\') {
      if (++at >= json.size()) return std::nullopt;
    }
    out.push_back(json[at]);
  }
  return std::nullopt;
}

std::optional<std::size_t> canonicalKeyCount(const std::string& json) {
  if (json.size() < 2 || json.front() != '{' || json.back() != '}') return std::nullopt;
  if (json == "{}") return 0;
  std::size_t keys = 0;
  bool inString = false;
  bool expectKey = true;  // after '{' or ','
  for (std::size_t at = 1; at + 1 < json.size(); ++at) {
    const char c = json[at];
    if (inString) {
      if (c == '\\') {
        ++at;
      } else if (c == '"') {
        inString = false;
      }
      continue;
    }
    if (c == '"') {
      inString = true;
    } else if (c == ':') {
      if (!expectKey) return std::nullopt;
      ++keys;
      expectKey = false;
    } else if (c == ',') {
      if (expectKey) return std::nullopt;
      expectKey = true;
    } else if (c == '{' || c == '}' || c == '[' || c == ']') {
      return std::nullopt;  // nothing nests in a leaf
    }
  }
  if (inString || expectKey) return std::nullopt;
  return keys;
}

bool leafShapeValid(const std::string& json) {
  const auto keys = canonicalKeyCount(json);
  return keys && (*keys == kLeafKeysV2 || *keys == kLeafKeysSigned || *keys == kLeafKeysUdap);
}

std::optional<bool> canonicalBoolField(const std::string& json, const std::string& key) {
  const std::size_t at = valueStart(json, key);
  if (at == std::string::npos) return std::nullopt;
  if (json.compare(at, 4, "true") == 0) return true;
  if (json.compare(at, 5, "false") == 0) return false;
  return std::nullopt;
}

std::string sha256Hex(const std::string& bytes) { return hie::sha256Hex(bytes); }

std::string entryHash(const std::string& prevHash, const std::string& canonical) {
  return sha256Hex("hie-audit-entry-v1\n" + prevHash + "\n" + canonical);
}

std::string entrySignatureInput(const std::string& hash) { return "hie-audit-sig-v1\n" + hash; }

std::string checkpointSignatureInput(const std::string& canonical) { return "hie-audit-checkpoint-v1\n" + canonical; }

}  // namespace hie::audit
