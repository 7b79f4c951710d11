#include "audit/evidence_bundle.h"

#include <algorithm>

#include "audit/canonical_form.h"
#include "common/base64.h"
#include "common/ecdsa_signature.h"

namespace hie::audit {
namespace {

constexpr const char* kSignatureParamsLine = "\"@signature-params\": ";

Error invalid(const std::string& what) { return Error{ErrorCode::kInvalidInput, what, what}; }

// A leaf string: the stored text of the stored field, "" when the leaf has no such key.
std::string field(const std::string& leaf, const char* key) { return canonicalStringField(leaf, key).value_or(""); }

Result<std::optional<RecordedSignature>> recorded(const std::string& leaf, const char* signatureKey, const char* baseKey) {
  const std::string stored = field(leaf, signatureKey);
  const std::string base = percentDecoded(field(leaf, baseKey));
  if (stored.empty()) return std::optional<RecordedSignature>();
  RecordedSignature out;
  if (!base64Decode(stored, out.signature) || out.signature.empty() || base64Encode(out.signature) != stored) {
    return tl::make_unexpected(invalid(std::string("the leaf's ") + signatureKey + " is not canonical base64"));
  }
  if (base.empty()) return tl::make_unexpected(invalid(std::string("the leaf has a ") + signatureKey + " but no " + baseKey));
  out.base = base;
  auto keyId = signatureBaseParameter(base, "keyid");
  auto created = signatureBaseParameter(base, "created");
  if (!keyId || keyId->empty() || !created || created->empty() || created->size() > 18 ||
      created->find_first_not_of("0123456789") != std::string::npos) {
    return tl::make_unexpected(invalid(std::string("the leaf's ") + baseKey + " names no keyid or no created time"));
  }
  out.keyId = *keyId;
  out.created = std::stoll(*created);
  out.algorithm = signatureBaseParameter(base, "alg").value_or("");
  return std::optional<RecordedSignature>(std::move(out));
}

// A single-quoted sh word.
std::string shQuoted(const std::string& text) {
  std::string out = "'";
  for (char c : text) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// The openssl command that checks signature file sig of base file base with the public key in key.
Result<std::string> verifyCommand(const std::string& algorithm, const std::string& key, const std::string& base,
                                  const std::string& sigPrefix) {
  if (algorithm == "ecdsa-p256-sha256") {
    return "openssl dgst -sha256 -verify " + key + " -signature " + sigPrefix + ".der " + base;
  }
  if (algorithm == "ecdsa-p384-sha384") {
    return "openssl dgst -sha384 -verify " + key + " -signature " + sigPrefix + ".der " + base;
  }
  if (algorithm == "rsa-pss-sha512") {
    return "openssl dgst -sha512 -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:64 -sigopt rsa_mgf1_md:sha512 "
           "-verify " + key + " -signature " + sigPrefix + ".bin " + base;
  }
  if (algorithm == "ed25519") {
    return "openssl pkeyutl -verify -pubin -inkey " + key + " -rawin -in " + base + " -sigfile " + sigPrefix + ".bin";
  }
  return tl::make_unexpected(invalid("no openssl command for the signature algorithm '" + printableAscii(algorithm, 64) + "'"));
}

bool isEcdsa(const std::string& algorithm) {
  return algorithm == "ecdsa-p256-sha256" || algorithm == "ecdsa-p384-sha384";  // r || s, given as DER to openssl
}

// The POSIX date of created, for openssl verify -attime (seconds since 1970).
std::string attime(std::int64_t created) { return std::to_string(created); }

}  // namespace

std::string percentDecoded(const std::string& stored) {
  std::string out;
  out.reserve(stored.size());
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  for (std::size_t i = 0; i < stored.size(); ++i) {
    if (stored[i] == '%' && i + 2 < stored.size() && nibble(stored[i + 1]) >= 0 && nibble(stored[i + 2]) >= 0) {
      out.push_back(static_cast<char>(nibble(stored[i + 1]) * 16 + nibble(stored[i + 2])));
      i += 2;
    } else {
      out.push_back(stored[i]);
    }
  }
  return out;
}

std::optional<std::string> signatureBaseParameter(const std::string& base, const std::string& name) {
  const std::size_t lineStart = base.rfind('\n') == std::string::npos ? 0 : base.rfind('\n') + 1;
  const std::string line = base.substr(lineStart);
  const std::string head = std::string(kSignatureParamsLine) + "(";
  if (line.compare(0, head.size(), head) != 0) return std::nullopt;
  // A quoted string (RFC 8941) from at, which holds '"': its content unescaped, and at moved past it.
  auto quoted = [&line](std::size_t& at) -> std::optional<std::string> {
    std::string out;
    for (++at; at < line.size(); ++at) {
      if (line[at] == '\\') {
        if (++at >= line.size()) return std::nullopt;
      } else if (line[at] == '"') {
        ++at;
        return out;
      }
      out.push_back(line[at]);
    }
    return std::nullopt;
  };
  // The inner list of components, whose parameters may hold any string, then the parameters.
  std::size_t at = head.size();
  while (at < line.size() && line[at] != ')') {
    if (line[at] == '"') {
      if (!quoted(at)) return std::nullopt;
    } else {
      ++at;
    }
  }
  if (at >= line.size()) return std::nullopt;
  ++at;
  while (at < line.size() && line[at] == ';') {
    const std::size_t eq = line.find('=', at);
    if (eq == std::string::npos) return std::nullopt;
    const std::string key = line.substr(at + 1, eq - at - 1);
    at = eq + 1;
    std::optional<std::string> value;
    if (at < line.size() && line[at] == '"') {
      value = quoted(at);
      if (!value) return std::nullopt;
    } else {
      const std::size_t stop = line.find(';', at);
      value = line.substr(at, stop == std::string::npos ? std::string::npos : stop - at);
      at = stop == std::string::npos ? line.size() : stop;
    }
    if (key == name) return value;
  }
  return std::nullopt;
}

std::string requestSignatureLine(const std::string& rawRequestSignature, const std::string& label) {
  return "\"signature\";req;key=\"" + label + "\": :" + base64Encode(rawRequestSignature) + ":";
}

std::string requestLabelIn(const std::string& answerBase) {
  static const std::string kStart = "\"signature\";req;key=\"";
  for (std::size_t at = 0; at < answerBase.size();) {
    const std::size_t end = std::min(answerBase.find('\n', at), answerBase.size());
    if (answerBase.compare(at, kStart.size(), kStart) == 0) {
      const std::size_t from = at + kStart.size();
      const std::size_t close = answerBase.find('"', from);
      if (close == std::string::npos || close >= end || close == from) return "sig1";
      const std::string label = answerBase.substr(from, close - from);
      // An RFC 8941 key: what may stand in a shell command unquoted and in printf's format.
      const bool key = std::all_of(label.begin(), label.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.' || c == '*';
      });
      return key ? label : "sig1";
    }
    at = end + 1;
  }
  return "sig1";
}

std::optional<std::string> ecdsaSignatureDer(const std::string& rawRs) {
  if (rawRs.empty()) return std::nullopt;
  return ecdsaRawToDer(rawRs, rawRs.size() / 2);
}

Result<LeafEvidence> readLeafEvidence(const std::string& leaf) {
  LeafEvidence e;
  e.requestId = field(leaf, "requestId");
  e.action = field(leaf, "action");
  e.node = field(leaf, "node");
  e.certSha256 = field(leaf, "certSha256");
  e.organization = field(leaf, "organization");
  e.patient = field(leaf, "patient");
  e.purpose = field(leaf, "purpose");
  e.time = field(leaf, "time");
  e.outcome = field(leaf, "outcome");
  e.signatureCheck = field(leaf, "signatureCheck");
  auto request = recorded(leaf, "requestSignature", "requestSignatureBase");
  if (!request) return tl::make_unexpected(request.error());
  auto answer = recorded(leaf, "responseSignature", "responseSignatureBase");
  if (!answer) return tl::make_unexpected(answer.error());
  e.request = std::move(*request);
  e.answer = std::move(*answer);
  return e;
}

Result<std::vector<BundleFile>> evidenceBundle(const EvidenceSource& s) {
  if (!s.leaf.request) return tl::make_unexpected(invalid("the entry holds no request signature"));
  const RecordedSignature& req = *s.leaf.request;
  std::vector<BundleFile> files;
  files.push_back({"entry.jsonl", s.exportLine + "\n"});
  files.push_back({"log-key.vkey", s.logKey + "\n"});
  files.push_back({"request-base.txt", req.base});
  files.push_back({"request-signature.bin", req.signature});
  if (isEcdsa(req.algorithm)) {
    auto der = ecdsaSignatureDer(req.signature);
    if (!der) return tl::make_unexpected(invalid("the request's ECDSA signature is not r || s"));
    files.push_back({"request-signature.der", *der});
  }
  files.push_back({"requester-chain.pem", s.requesterChainPem});
  auto requestCheck = verifyCommand(req.algorithm, "requester-key.pem", "request-base.txt", "request-signature");
  if (!requestCheck) return tl::make_unexpected(requestCheck.error());

  std::string v;
  v += "# Evidence of request " + s.leaf.requestId + ": leaf " + std::to_string(s.index) + " of the audit log " + s.origin +
       ",\n# made by hie-node audit evidence at " + s.madeAt + ". docs/audit-format.md, \"Evidence bundles\", explains\n"
       "# each step. Run it in this directory with your own copy of the network's trust anchor(s) and of\n"
       "# scripts/verify-audit (which needs python3):\n"
       "#   CA=/path/to/network-ca.pem VERIFY_AUDIT=/path/to/verify-audit sh VERIFY.txt\n"
       "# Every command must succeed; it stops at the first that fails. It writes requester-key.pem,\n"
       "# node-key.pem and entry-*.txt here.\n"
       "set -eu\n"
       ": \"${CA:?set CA to your copy of the network's trust anchor certificate(s), PEM}\"\n"
       ": \"${VERIFY_AUDIT:?set VERIFY_AUDIT to your copy of scripts/verify-audit}\"\n\n";
  v += "# (a) The request's signature verifies with the key of the requester's certificate, the first in\n"
       "#     requester-chain.pem, whose SHA-256 is the keyid the signature names (and the certSha256\n"
       "#     of the entry, checked in (d)).\n"
       "openssl x509 -in requester-chain.pem -outform DER | sha256sum | grep -q '^" + req.keyId + " '\n"
       "openssl x509 -in requester-chain.pem -noout -pubkey > requester-key.pem\n" +
       *requestCheck + "\n\n";
  v += "# (b) The requester's chain verifies to the network's trust anchor, at the time it signed\n"
       "#     (created=" + std::to_string(req.created) + ").\n"
       "openssl verify -CAfile \"$CA\" -untrusted requester-chain.pem -purpose sslclient -attime " + attime(req.created) +
       " requester-chain.pem\n\n";
  if (s.leaf.answer) {
    const RecordedSignature& ans = *s.leaf.answer;
    files.push_back({"answer-base.txt", ans.base});
    files.push_back({"answer-signature.bin", ans.signature});
    if (isEcdsa(ans.algorithm)) {
      auto der = ecdsaSignatureDer(ans.signature);
      if (!der) return tl::make_unexpected(invalid("the answer's ECDSA signature is not r || s"));
      files.push_back({"answer-signature.der", *der});
    }
    files.push_back({"node-chain.pem", s.nodeChainPem});
    auto answerCheck = verifyCommand(ans.algorithm, "node-key.pem", "answer-base.txt", "answer-signature");
    if (!answerCheck) return tl::make_unexpected(answerCheck.error());
    const std::string label = requestLabelIn(ans.base);
    v += "# (c) The answer's signature verifies with the key of the answering node's certificate, the first\n"
         "#     in node-chain.pem (SHA-256 = the answer's keyid), that chain verifies to the trust anchor as\n"
         "#     a server's, and the answer's base covers the request's signature: its\n"
         "#     \"signature\";req;key=\"" + label + "\" line is request-signature.bin in base64.\n"
         "openssl x509 -in node-chain.pem -outform DER | sha256sum | grep -q '^" + ans.keyId + " '\n"
         "openssl x509 -in node-chain.pem -noout -pubkey > node-key.pem\n" +
         *answerCheck + "\n"
         "openssl verify -CAfile \"$CA\" -untrusted node-chain.pem -purpose sslserver -attime " + attime(ans.created) +
         " node-chain.pem\n"
         "printf '\"signature\";req;key=\"" + label + "\": :%s:\\n' \"$(openssl base64 -A -in request-signature.bin)\" > entry-request-line.txt\n"
         "grep -qxF -f entry-request-line.txt answer-base.txt\n\n";
  } else {
    v += "# (c) The answer was not signed (the entry's signatureCheck is " + shQuoted(s.leaf.signatureCheck) +
         "): this bundle holds\n#     no answer signature, and nothing here shows what the requester received.\n\n";
  }
  v += "# (d) The entry is in the log: its inclusion proof verifies against a checkpoint signed with the\n"
       "#     log's key (compare log-key.vkey with the key the node's operator gave you). The entry records\n"
       "#     the bases that were signed, byte for byte, and the requester's certificate.\n"
       "\"$VERIFY_AUDIT\" --excerpt --log-key \"$(cat log-key.vkey)\" entry.jsonl\n"
       "entry_field() { python3 -c 'import json, sys, urllib.parse\n"
       "e = json.loads(open(\"entry.jsonl\").readline())[\"entry\"]\n"
       "sys.stdout.buffer.write(urllib.parse.unquote_to_bytes(e[sys.argv[1]]))' \"$1\"; }\n"
       "entry_field requestSignatureBase > entry-request-base.txt\n"
       "cmp entry-request-base.txt request-base.txt\n"
       "test \"$(entry_field requestSignature)\" = \"$(openssl base64 -A -in request-signature.bin)\"\n"
       "test \"$(entry_field certSha256)\" = " + shQuoted(req.keyId) + "\n"
       "printf '\"x-request-id\": %s\\n' \"$(entry_field requestId)\" > entry-request-id.txt\n"
       "grep -qxF -f entry-request-id.txt request-base.txt\n";
  if (s.leaf.answer) {
    v += "entry_field responseSignatureBase > entry-answer-base.txt\n"
         "cmp entry-answer-base.txt answer-base.txt\n"
         "test \"$(entry_field responseSignature)\" = \"$(openssl base64 -A -in answer-signature.bin)\"\n";
  }
  v += "\n# What the requester signed (request-base.txt: method, target URI with the patient asked for,\n"
       "# purpose of use, request id) and what the node recorded of it:\n"
       "cat request-base.txt; echo\n"
       "for k in time organization patient purpose outcome signatureCheck; do printf '%s: ' \"$k\"; entry_field \"$k\"; echo; done\n"
       "echo 'OK: every check of this evidence bundle passed'\n";
  files.push_back({"VERIFY.txt", v});
  return files;
}

}  // namespace hie::audit
