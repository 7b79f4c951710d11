#include "auth/signatures/signature_policy.h"

namespace hie::auth {

const char* signaturePolicyName(SignaturePolicy policy) {
  switch (policy) {
    case SignaturePolicy::kRequire:
      return "require";
    case SignaturePolicy::kVerifyIfPresent:
      return "verify-if-present";
    case SignaturePolicy::kOff:
      return "off";
  }
  return "verify-if-present";
}

std::optional<SignaturePolicy> parseSignaturePolicy(const std::string& text) {
  if (text == "require") return SignaturePolicy::kRequire;
  if (text == "verify-if-present") return SignaturePolicy::kVerifyIfPresent;
  if (text == "off") return SignaturePolicy::kOff;
  return std::nullopt;
}

}  // namespace hie::auth
