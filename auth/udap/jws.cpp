#include "auth/udap/jws.h"

#include <optional>
#include <utility>

#include <Poco/Dynamic/Var.h>
#include <Poco/JSON/Array.h>

#include "auth/udap/jose_json.h"
#include "common/base64.h"

namespace hie::auth::udap {

namespace {

tl::unexpected<JwsRefusal> refuse(std::string reason, std::string detail) {
  return tl::make_unexpected(JwsRefusal{std::move(reason), std::move(detail)});
}

std::optional<JwsAlgorithm> algorithmByName(const std::string& name) {
  if (name == "RS256") return JwsAlgorithm::kRS256;
  if (name == "RS384") return JwsAlgorithm::kRS384;
  if (name == "ES256") return JwsAlgorithm::kES256;
  if (name == "ES384") return JwsAlgorithm::kES384;
  return std::nullopt;
}

std::optional<JwsRefusal> jsonRefusal(JsonDefect defect, const char* part) {
  std::string p(part);
  switch (defect) {
    case JsonDefect::kDuplicateKey:
      return JwsRefusal{"jws_duplicate_key", "The JWS " + p + " has a duplicate JSON key."};
    case JsonDefect::kNotObject:
      return JwsRefusal{"jws_not_object", "The JWS " + p + " is not a JSON object."};
    case JsonDefect::kSyntax:
      break;
  }
  return JwsRefusal{"jws_json", "The JWS " + p + " is not valid JSON."};
}

// The base64 text an x5c entry must be: RFC 4648 section 4 with padding, canonical.
bool decodeStandardBase64(const std::string& text, std::string& out) {
  if (text.empty()) return false;
  if (!base64Decode(text, out)) return false;
  return base64Encode(out) == text;
}

}  // namespace

const char* jwsAlgorithmName(JwsAlgorithm algorithm) {
  switch (algorithm) {
    case JwsAlgorithm::kRS256:
      return "RS256";
    case JwsAlgorithm::kRS384:
      return "RS384";
    case JwsAlgorithm::kES256:
      return "ES256";
    case JwsAlgorithm::kES384:
      return "ES384";
  }
  return "?";
}

tl::expected<ParsedJws, JwsRefusal> parseJws(const std::string& compact, const JwsLimits& limits) {
  if (compact.size() > limits.maxCompactBytes) {
    return refuse("jws_too_large", "The JWS is longer than " + std::to_string(limits.maxCompactBytes) + " bytes.");
  }
  std::size_t first = compact.find('.');
  std::size_t second = first == std::string::npos ? std::string::npos : compact.find('.', first + 1);
  if (second == std::string::npos || compact.find('.', second + 1) != std::string::npos) {
    return refuse("jws_malformed", "A JWS in compact serialization has exactly three parts.");
  }
  std::string headerText = compact.substr(0, first);
  std::string payloadText = compact.substr(first + 1, second - first - 1);
  std::string signatureText = compact.substr(second + 1);
  if (headerText.empty() || payloadText.empty() || signatureText.empty()) {
    return refuse("jws_malformed", "A part of the JWS is empty.");
  }
  ParsedJws jws;
  if (!base64UrlDecode(headerText, jws.headerJson) || !base64UrlDecode(payloadText, jws.claimsJson) ||
      !base64UrlDecode(signatureText, jws.signature)) {
    return refuse("jws_base64url", "A part of the JWS is not canonical unpadded base64url.");
  }

  auto header = parseJsonObject(jws.headerJson);
  if (!header) return tl::make_unexpected(*jsonRefusal(header.error(), "header"));
  const Poco::JSON::Object& h = **header;
  if (h.has("crit")) return refuse("jws_crit", "The JWS header has crit; no extension is understood.");
  std::optional<std::string> alg = jsonString(h, "alg");
  std::optional<JwsAlgorithm> algorithm = alg ? algorithmByName(*alg) : std::nullopt;
  if (!algorithm) return refuse("jws_algorithm", "The JWS alg is not one of RS256, RS384, ES256, ES384.");
  jws.algorithm = *algorithm;
  if (h.has("typ")) {
    std::optional<std::string> typ = jsonString(h, "typ");
    if (!typ) return refuse("jws_typ", "The JWS typ is not a string.");
    jws.typ = *typ;
  }
  if (h.has("x5c")) {
    Poco::JSON::Array::Ptr x5c = h.getArray("x5c");
    if (x5c.isNull()) return refuse("jws_x5c_malformed", "The JWS x5c is not an array.");
    if (x5c->size() == 0) return refuse("jws_x5c_missing", "The JWS x5c is empty.");
    if (x5c->size() > limits.maxX5cEntries) {
      return refuse("jws_x5c_too_many",
                    "The JWS x5c has more than " + std::to_string(limits.maxX5cEntries) + " certificates.");
    }
    for (std::size_t i = 0; i < x5c->size(); ++i) {
      const Poco::Dynamic::Var entry = x5c->get(static_cast<unsigned>(i));
      if (entry.type() != typeid(std::string)) return refuse("jws_x5c_malformed", "An x5c entry is not a string.");
      const std::string& text = entry.extract<std::string>();
      // 4 base64 characters per 3 bytes: refuse before decoding what cannot fit.
      if (text.size() > 4 * ((limits.maxCertificateBytes + 2) / 3)) {
        return refuse("jws_x5c_too_large",
                      "An x5c certificate is larger than " + std::to_string(limits.maxCertificateBytes) + " bytes.");
      }
      std::string der;
      if (!decodeStandardBase64(text, der)) {
        return refuse("jws_x5c_base64", "An x5c entry is not canonical padded base64 (RFC 7515 4.1.6).");
      }
      if (der.size() > limits.maxCertificateBytes) {
        return refuse("jws_x5c_too_large",
                      "An x5c certificate is larger than " + std::to_string(limits.maxCertificateBytes) + " bytes.");
      }
      jws.x5cDer.push_back(std::move(der));
    }
  } else if (limits.requireX5c) {
    return refuse("jws_x5c_missing", "The JWS header has no x5c certificate chain.");
  }

  auto claims = parseJsonObject(jws.claimsJson);
  if (!claims) return tl::make_unexpected(*jsonRefusal(claims.error(), "payload"));
  jws.signingInput = compact.substr(0, second);
  return jws;
}

std::string compactJws(const std::string& headerJson, const std::string& claimsJson, const std::string& signature) {
  return base64UrlEncode(headerJson) + "." + base64UrlEncode(claimsJson) + "." + base64UrlEncode(signature);
}

}  // namespace hie::auth::udap
