// FHIR OperationOutcome error replies, and the one mapping from ErrorCode to HTTP status.
#pragma once

#include <string>
#include <vector>

#include "common/json_writer.h"
#include "common/result.h"
#include "exchange/http/http_call.h"

namespace hie::exchange {

int httpStatusFor(ErrorCode code);

// issueCode is a FHIR IssueType code (forbidden, not-found, invalid, exception, ...).
// text must be safe for the peer: no patient data, no internals.
HttpReply operationOutcome(int status, const std::string& issueCode, const std::string& text);

// One OperationOutcome with one issue, written into json (a reply, or a Bundle
// entry's resource). severity is fatal | error | warning | information; an
// empty text leaves diagnostics out (FHIR allows no empty string).
void writeOperationOutcome(JsonWriter& json, const char* severity, const std::string& issueCode,
                           const std::string& text);

// A refusal: the OperationOutcome of operationOutcome() with refusalReason set (for logs,
// counters and the audit; never sent).
HttpReply refusal(int status, const std::string& issueCode, const std::string& text, const std::string& reason);

// One issue of an OperationOutcome: expression names the element (FHIRPath, e.g. "Bundle.entry[3]"; "" none).
struct OutcomeIssue {
  std::string severity = "error";
  std::string code;
  std::string text;
  std::string expression;
};
// An OperationOutcome of several issues (at least one).
void writeOperationOutcome(JsonWriter& json, const std::vector<OutcomeIssue>& issues);

// From an Error: status by code, text from error.external.
HttpReply operationOutcome(const Error& error);

}  // namespace hie::exchange
