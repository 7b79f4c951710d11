// A request's signature as the gate checked it (docs/api.md, "Signed requests
// and answers"): what the audit entry keeps of it, and the request as RFC 9421
// sees it. Pure data.
#pragma once

#include <optional>
#include <string>

#include "auth/signatures/exchange_signatures.h"
#include "exchange/http/http_call.h"

namespace hie::exchange {

struct RequestSignature {
  // verified | absent | off | the refusal reason (signature_*); "" when the request never got
  // that far (refused before admission, or a protocol error).
  std::string check;
  std::optional<auth::SignatureEvidence> evidence;  // when verified
};

// @target-uri: "https://" + the Host field + the request-target as received (call.target).
std::string targetUri(const HttpCall& call);
// The request as RFC 9421 sees it: method, target URI, every header field line as received.
auth::HttpMessage requestMessage(const HttpCall& call);

}  // namespace hie::exchange
