#include "exchange/fhir/operation_outcome.h"

#include "common/json_writer.h"

namespace hie::exchange {
namespace {

const char* issueCodeFor(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidInput: return "invalid";
    case ErrorCode::kUnauthenticated: return "login";
    case ErrorCode::kForbidden: return "forbidden";
    case ErrorCode::kNotFound: return "not-found";
    case ErrorCode::kConflict: return "conflict";
    case ErrorCode::kUnavailable: return "transient";
    case ErrorCode::kInternal: return "exception";
  }
  return "exception";
}

}  // namespace

int httpStatusFor(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidInput: return 400;
    case ErrorCode::kUnauthenticated: return 401;
    case ErrorCode::kForbidden: return 403;
    case ErrorCode::kNotFound: return 404;
    case ErrorCode::kConflict: return 409;
    case ErrorCode::kUnavailable: return 503;
    case ErrorCode::kInternal: return 500;
  }
  return 500;
}

void writeOperationOutcome(JsonWriter& json, const char* severity, const std::string& issueCode,
                           const std::string& text) {
  // Members in alphabetical order, as the node has always written them.
  json.beginObject().key("issue").beginArray().beginObject();
  json.member("code", issueCode);
  if (!text.empty()) json.member("diagnostics", text);
  json.member("severity", severity);
  json.endObject().endArray().member("resourceType", "OperationOutcome").endObject();
}

void writeOperationOutcome(JsonWriter& json, const std::vector<OutcomeIssue>& issues) {
  json.beginObject().key("issue").beginArray();
  for (const auto& issue : issues) {
    json.beginObject().member("code", issue.code);
    if (!issue.text.empty()) json.member("diagnostics", issue.text);
    if (!issue.expression.empty()) json.key("expression").beginArray().value(issue.expression).endArray();
    json.member("severity", issue.severity).endObject();
  }
  json.endArray().member("resourceType", "OperationOutcome").endObject();
}

HttpReply operationOutcome(int status, const std::string& issueCode, const std::string& text) {
  JsonWriter json;
  writeOperationOutcome(json, status >= 500 ? "fatal" : "error", issueCode, text);
  HttpReply reply;
  reply.status = status;
  reply.body = json.take();
  return reply;
}

HttpReply refusal(int status, const std::string& issueCode, const std::string& text, const std::string& reason) {
  HttpReply reply = operationOutcome(status, issueCode, text);
  reply.refusalReason = reason;
  return reply;
}

HttpReply operationOutcome(const Error& error) {
  HttpReply reply = operationOutcome(httpStatusFor(error.code), issueCodeFor(error.code), error.external);
  reply.refusalReason = errorCodeName(error.code);
  return reply;
}

}  // namespace hie::exchange
