#include "tests/support/signed_requests.h"

#include <openssl/rand.h>

#include <ctime>
#include <stdexcept>

#include "common/base64.h"

namespace hie::testing {
namespace {

auth::MessageSigningKey keyOf(const Credential& signer) {
  auto key = auth::MessageSigningKey::fromPem(signer.keyPem(), signer.certPem());
  if (!key) throw std::runtime_error("signing key: " + key.error().internal);
  return std::move(*key);
}

std::string randomNonce() {
  unsigned char bytes[16];
  if (RAND_bytes(bytes, sizeof bytes) != 1) throw std::runtime_error("RAND_bytes failed");
  std::string b64 = base64Encode(std::string(reinterpret_cast<const char*>(bytes), sizeof bytes));
  for (char& c : b64) c = c == '+' ? '-' : c == '/' ? '_' : c;
  while (!b64.empty() && b64.back() == '=') b64.pop_back();
  return b64;
}

}  // namespace

SignedRequest signRequestAs(const Credential& signer, const RequestToSign& request) {
  const auth::MessageSigningKey key = keyOf(signer);
  auth::HttpMessage message;
  message.method = request.method;
  message.targetUri = "https://" + request.host + request.target;
  message.fields = request.fields;
  const std::int64_t created = request.created != 0 ? request.created : static_cast<std::int64_t>(std::time(nullptr));
  SignedRequest out;
  for (const auto& [name, value] : request.fields) out.headerLines.push_back(name + ": " + value);
  if (request.components.empty()) {
    auto signedFields = auth::signRequest(key, message, nullptr, created);
    if (!signedFields) throw std::runtime_error("signRequest: " + signedFields.error().internal);
    for (const auto& [name, value] : signedFields->fields) out.headerLines.push_back(name + ": " + value);
    out.evidence = signedFields->evidence;
    return out;
  }
  auth::SignatureParams params;
  for (const auto& name : request.components) {
    auth::ComponentId id;
    id.name = name;
    params.components.push_back(id);
  }
  params.created = created;
  if (!request.expires) params.expires = created + auth::kRequestSignatureLifetime;
  else if (*request.expires >= 0) params.expires = *request.expires;
  if (request.nonce == "fresh") params.nonce = randomNonce();
  else if (!request.nonce.empty()) params.nonce = request.nonce;
  params.alg = auth::algorithmName(key.algorithm());
  params.keyid = request.keyId.empty() ? key.keyId() : request.keyId;
  auto base = auth::signatureBase(message, nullptr, params);
  if (!base) throw std::runtime_error("signatureBase: " + base.error().internal);
  auto signature = key.sign(*base);
  if (!signature) throw std::runtime_error("sign: " + signature.error().internal);
  out.headerLines.push_back("Signature-Input: " + auth::signatureInputField(auth::kSignatureLabel, params));
  out.headerLines.push_back("Signature: " + auth::signatureField(auth::kSignatureLabel, *signature));
  out.evidence.label = auth::kSignatureLabel;
  out.evidence.base = *base;
  out.evidence.signature = *signature;
  out.evidence.keyId = *params.keyid;
  out.evidence.algorithm = *params.alg;
  return out;
}

std::vector<std::string> withFlippedSignatureByte(std::vector<std::string> headerLines) {
  for (auto& line : headerLines) {
    if (line.rfind("Signature: ", 0) != 0) continue;
    const auto open = line.find(':', line.find('=')) + 1;  // sig1=:<base64>:
    const auto close = line.rfind(':');
    std::string raw;
    if (!base64Decode(line.substr(open, close - open), raw) || raw.empty()) {
      throw std::runtime_error("not a signature line: " + line);
    }
    raw[raw.size() / 2] = static_cast<char>(raw[raw.size() / 2] ^ 0x01);
    line = line.substr(0, open) + base64Encode(raw) + line.substr(close);
  }
  return headerLines;
}

std::string auditDecoded(const std::string& encoded) {
  std::string out;
  for (std::size_t i = 0; i < encoded.size(); ++i) {
    if (encoded[i] == '%' && i + 2 < encoded.size()) {
      out.push_back(static_cast<char>(std::stoi(encoded.substr(i + 1, 2), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(encoded[i]);
    }
  }
  return out;
}

}  // namespace hie::testing
