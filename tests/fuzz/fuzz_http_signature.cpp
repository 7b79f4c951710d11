// libFuzzer target: what a peer controls in a signed request or answer. The input is split at
// newlines into Signature-Input, Signature, the target URI, and header fields ("name: value"):
// parseSignatures, the structured-field parser, signatureBase of every parsed signature (with the
// message as request and, with a status, as the response to it), checkContentDigest and
// verifyRequest/verifyResponse against a fixed key. Invariants: serialising what was parsed and
// parsing it again gives the same text; a base stays within its bounds and ends with the
// parameters' own serialisation; nothing the fuzzer writes verifies; what parses is within the
// parser's bounds (sf::kMaxMembers, kMaxInnerListItems, kMaxParameters).
//
// Cost: the review found quadratic work in the parser (each key checked against all earlier ones:
// 160k keys in ~800 KB of header lines cost a minute). The bounds and kMaxSignatureFieldBytes
// (8192, checked before parsing) fix it; this target's inputs stop at 16 KiB, too small to show a
// quadratic cost, so the hostile sizes are unit tests (StructuredField.BoundsMembersItemsAndParameters,
// HttpSignature.BoundsTheLengthOfTheSignatureFields, ContentDigest.BoundsTheFieldAndItsMembers).
// libFuzzer's -timeout / -report_slow_units flag what is slow for its size.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "auth/signatures/exchange_signatures.h"
#include "auth/signatures/structured_field.h"
#include "common/ossl.h"

namespace {

using namespace hie;
using namespace hie::auth;

std::string fixedSpki() {
  ossl::UniquePtr<EVP_PKEY> key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  unsigned char* der = nullptr;
  const int length = i2d_PUBKEY(key.get(), &der);
  return ossl::takeDer(der, length);
}

const std::string& spki() {
  static const std::string kSpki = fixedSpki();
  return kSpki;
}

std::vector<std::string> split(const std::string& input) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (parts.size() < 40) {
    const std::size_t end = input.find('\n', start);
    parts.push_back(input.substr(start, end == std::string::npos ? std::string::npos : end - start));
    if (end == std::string::npos) break;
    start = end + 1;
  }
  while (parts.size() < 3) parts.emplace_back();
  return parts;
}

bool withinBounds(const sf::Parameters& params) { return params.size() <= sf::kMaxParameters; }

bool withinBounds(const sf::Member& m) {
  if (!m.isInnerList) return withinBounds(m.item.params);
  if (m.inner.items.size() > sf::kMaxInnerListItems || !withinBounds(m.inner.params)) return false;
  for (const sf::Item& i : m.inner.items) {
    if (!withinBounds(i.params)) return false;
  }
  return true;
}

void checkRoundTrip(const std::string& text) {
  if (auto d = sf::parseDictionary(text)) {
    if (d->size() > sf::kMaxMembers) __builtin_trap();
    for (const auto& entry : *d) {
      if (!withinBounds(entry.second)) __builtin_trap();
    }
    const std::string once = sf::serializeDictionary(*d);
    auto again = sf::parseDictionary(once);
    if (!again || sf::serializeDictionary(*again) != once) __builtin_trap();
  }
  if (auto l = sf::parseList(text)) {
    if (l->size() > sf::kMaxMembers) __builtin_trap();
    for (const auto& m : *l) {
      if (!withinBounds(m)) __builtin_trap();
    }
    const std::string once = sf::serializeList(*l);
    auto again = sf::parseList(once);
    if (!again || sf::serializeList(*again) != once) __builtin_trap();
  }
}

void checkBase(const HttpMessage& message, const HttpMessage* request, const SignatureParams& params) {
  auto base = signatureBase(message, request, params);
  if (!base) return;
  const std::string last = "\"@signature-params\": " + params.serialize();
  if (base->size() > 8192 || base->size() < last.size() ||
      base->compare(base->size() - last.size(), last.size(), last) != 0) {
    __builtin_trap();
  }
  for (char c : *base) {
    if (!((c >= 0x20 && c <= 0x7e) || c == '\n' || c == '\t')) __builtin_trap();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > 16384) return 0;
  const std::string input(reinterpret_cast<const char*>(data), size);
  const std::vector<std::string> parts = split(input);
  checkRoundTrip(parts[0]);
  checkRoundTrip(input);

  HttpMessage request;
  request.method = "GET";
  request.targetUri = parts[2];
  for (std::size_t i = 3; i < parts.size(); ++i) {
    const std::size_t colon = parts[i].find(':');
    if (colon == std::string::npos) continue;
    request.fields.emplace_back(parts[i].substr(0, colon), parts[i].substr(colon + 1));
  }
  request.fields.emplace_back("Signature-Input", parts[0]);
  request.fields.emplace_back("Signature", parts[1]);
  HttpMessage response = request;
  response.method.clear();
  response.status = 200;

  auto signatures = parseSignatures(parts[0], parts[1]);
  if (signatures) {
    if (signatures->size() > 16) __builtin_trap();
    for (const MessageSignature& sig : *signatures) {
      if (sig.params.components.size() > 64) __builtin_trap();
      // What was parsed serialises to something that parses to the same signature.
      const std::string field = signatureInputField(sig.label, sig.params);
      auto again = parseSignatures(field, signatureField(sig.label, sig.signature));
      if (!again || again->size() != 1 || signatureInputField(again->front().label, again->front().params) != field ||
          again->front().signature != sig.signature) {
        __builtin_trap();
      }
      checkBase(request, nullptr, sig.params);
      checkBase(response, &request, sig.params);
    }
  }
  (void)checkContentDigest(parts[1], parts[2]);

  SignatureWindow window;
  window.now = 1767225600;
  const std::string keyId(64, 'a');
  auto verified = verifyRequest(request, parts[2], spki(), keyId, window);
  if (verified && *verified) __builtin_trap();  // the fuzzer holds no private key
  SignatureEvidence evidence{"sig1", "", "x", keyId, "ecdsa-p256-sha256"};
  auto answer = verifyResponse(response, parts[2], request, &evidence, spki(), keyId, window);
  if (answer && *answer) __builtin_trap();
  return 0;
}
