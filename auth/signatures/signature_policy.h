// Whether a node asks for signatures on the messages it receives: on requests
// from an organization, on answers from an organization's node. Set per node
// (signatures.requests, signatures.answers) and per organization (`hie-node org
// signatures`), the organization's setting winning where it has one.
#pragma once

#include <chrono>
#include <optional>
#include <string>

namespace hie::auth {

enum class SignaturePolicy {
  kRequire,          // unsigned is refused; a signature must verify
  kVerifyIfPresent,  // unsigned passes; a signature present must verify
  kOff,              // signatures are neither checked nor recorded
};

const char* signaturePolicyName(SignaturePolicy policy);  // "require" | "verify-if-present" | "off"
std::optional<SignaturePolicy> parseSignaturePolicy(const std::string& text);

// The node's settings (configuration keys signatures.*; docs/configuration.md).
struct SignatureSettings {
  SignaturePolicy requests = SignaturePolicy::kVerifyIfPresent;  // signatures.requests
  SignaturePolicy answers = SignaturePolicy::kVerifyIfPresent;   // signatures.answers
  bool sign = true;                                              // signatures.sign: our requests and answers
  std::chrono::seconds maxAge{300};                              // signatures.maxAge
  std::chrono::seconds clockSkew{30};                            // signatures.clockSkew
};

// The policy that applies: the organization's when it set one, else the node's.
inline SignaturePolicy effectivePolicy(SignaturePolicy node, const std::optional<SignaturePolicy>& organization) {
  return organization ? *organization : node;
}

}  // namespace hie::auth
