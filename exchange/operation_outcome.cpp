#include "exchange/operation_outcome.h"

#include <sstream>

#include <Poco/JSON/Object.h>

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

HttpReply operationOutcome(int status, const std::string& issueCode, const std::string& text) {
  Poco::JSON::Object::Ptr issue = new Poco::JSON::Object;
  issue->set("severity", status >= 500 ? "fatal" : "error");
  issue->set("code", issueCode);
  issue->set("diagnostics", text);
  Poco::JSON::Array::Ptr issues = new Poco::JSON::Array;
  issues->add(issue);
  Poco::JSON::Object outcome;
  outcome.set("resourceType", "OperationOutcome");
  outcome.set("issue", issues);
  std::ostringstream out;
  outcome.stringify(out);
  HttpReply reply;
  reply.status = status;
  reply.body = out.str();
  return reply;
}

HttpReply operationOutcome(const Error& error) {
  HttpReply reply = operationOutcome(httpStatusFor(error.code), issueCodeFor(error.code), error.external);
  reply.refusalReason = errorCodeName(error.code);
  return reply;
}

}  // namespace hie::exchange
