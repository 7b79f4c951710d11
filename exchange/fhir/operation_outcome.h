// FHIR OperationOutcome error replies, and the one mapping from ErrorCode to HTTP status.
#pragma once

#include <string>

#include "common/result.h"
#include "exchange/http/http_call.h"

namespace hie::exchange {

int httpStatusFor(ErrorCode code);

// issueCode is a FHIR IssueType code (forbidden, not-found, invalid, exception, ...).
// text must be safe for the peer: no patient data, no internals.
HttpReply operationOutcome(int status, const std::string& issueCode, const std::string& text);

// From an Error: status by code, text from error.external.
HttpReply operationOutcome(const Error& error);

}  // namespace hie::exchange
