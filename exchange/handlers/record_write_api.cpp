#include "exchange/handlers/record_write_api.h"

#include <map>
#include <set>

#include <strings.h>

#include "auth/policy/policy.h"
#include "common/json_writer.h"
#include "exchange/fhir/operation_outcome.h"

namespace hie::exchange {
namespace {

const char* reasonPhrase(int status) {
  switch (status) {
    case 200: return "200 OK";
    case 201: return "201 Created";
    case 400: return "400 Bad Request";
    case 404: return "404 Not Found";
    case 409: return "409 Conflict";
    case 412: return "412 Precondition Failed";
    case 413: return "413 Content Too Large";
    case 500: return "500 Internal Server Error";
    case 503: return "503 Service Unavailable";
  }
  return "400 Bad Request";
}

// For counters and the audit: what kind of problem refused the write.
std::string problemReason(const WriteProblem& p) {
  if (p.issueCode == "not-supported") return p.status == 404 ? "unsupported_type" : "unsupported_write";
  switch (p.status) {
    case 404: return "write_not_found";
    case 409: return "write_conflict";
    case 412: return "version_conflict";
    case 413: return "request_too_large";
    default: return "invalid_resource";
  }
}

// One OperationOutcome of every problem, with the status of the first.
HttpReply problemsReply(const std::vector<WriteProblem>& problems) {
  std::vector<OutcomeIssue> issues;
  for (const auto& p : problems) {
    issues.push_back(OutcomeIssue{"error", p.issueCode, p.text,
                                  p.index < 0 ? std::string() : "Bundle.entry[" + std::to_string(p.index) + "]"});
  }
  JsonWriter json;
  writeOperationOutcome(json, issues);
  HttpReply reply;
  reply.status = problems.front().status;
  reply.body = json.take();
  reply.refusalReason = problemReason(problems.front());
  return reply;
}

HttpReply storeFailure(const Error& error) {
  HttpReply reply = operationOutcome(error);
  reply.internalError = error.internal;
  return reply;
}

// Content-Type of a FHIR JSON body: application/fhir+json (or application/json, or the older
// application/json+fhir), with at most a charset of UTF-8 and a fhirVersion of 4.0.
bool isFhirJson(const std::string& contentType) {
  std::string type = contentType.substr(0, contentType.find(';'));
  while (!type.empty() && type.back() == ' ') type.pop_back();
  if (strcasecmp(type.c_str(), "application/fhir+json") != 0 && strcasecmp(type.c_str(), "application/json") != 0 &&
      strcasecmp(type.c_str(), "application/json+fhir") != 0) {
    return false;
  }
  std::size_t at = contentType.find(';');
  while (at != std::string::npos) {
    const std::size_t next = contentType.find(';', at + 1);
    std::string param = contentType.substr(at + 1, next == std::string::npos ? std::string::npos : next - at - 1);
    param.erase(0, param.find_first_not_of(' '));
    while (!param.empty() && param.back() == ' ') param.pop_back();
    const bool charset = strncasecmp(param.c_str(), "charset=", 8) == 0;
    if (charset) {
      std::string value = param.substr(8);
      if (value.size() >= 2 && value.front() == '"' && value.back() == '"') value = value.substr(1, value.size() - 2);
      if (strcasecmp(value.c_str(), "utf-8") != 0 && strcasecmp(value.c_str(), "utf8") != 0) return false;
    } else if (strncasecmp(param.c_str(), "fhirVersion=", 12) != 0 && !param.empty()) {
      return false;
    } else if (!param.empty() && param.substr(12) != "4.0" && param.substr(12) != "4.0.1") {
      return false;
    }
    at = next;
  }
  return true;
}

enum class Prefer { kDefault, kMinimal, kRepresentation, kOutcome };

Prefer preferReturn(const HttpCall& call) {
  const std::string prefer = call.headerLines("Prefer");
  if (prefer.find("return=minimal") != std::string::npos) return Prefer::kMinimal;
  if (prefer.find("return=representation") != std::string::npos) return Prefer::kRepresentation;
  if (prefer.find("return=OperationOutcome") != std::string::npos) return Prefer::kOutcome;
  return Prefer::kDefault;
}

std::string location(const WrittenEntry& w) {
  return w.type + "/" + w.id + "/_history/" + std::to_string(w.version);
}

std::string outcomeText(const WrittenEntry& w) {
  const std::string name = w.type + "/" + w.id;
  if (!w.changed) {
    return w.deleted ? name + " was already deleted; nothing changed."
                     : "An existing " + w.type + " has that identifier (" + name + "); nothing was created.";
  }
  if (w.deleted) return "Deleted " + name + " (version " + std::to_string(w.version) + ").";
  return (w.status == 201 ? "Created " : "Updated ") + name + " (version " + std::to_string(w.version) + ").";
}

// What the audit keeps of a write: every version written, and the patient when there is one.
void recordChanges(const std::vector<WrittenEntry>& written, AccessFacts& access) {
  std::set<std::string> patients;
  for (const auto& w : written) {
    if (!w.changed) continue;
    access.entities += (access.entities.empty() ? "" : ",") + location(w);
    ++access.resultCount;
    if (!w.patientId.empty()) patients.insert(w.patientId);
  }
  if (patients.size() == 1) access.patientId = *patients.begin();
}

}  // namespace

bool isWritePath(const std::string& method, const std::string& path) {
  if (method != "PUT" && method != "POST" && method != "DELETE") return false;
  if (path == "/fhir" || path == "/fhir/") return method == "POST";
  return path.compare(0, 6, "/fhir/") == 0 && path != "/fhir/metadata";
}

RecordWriteApi::RecordWriteApi(RecordWriter& writer, const RecordApiSettings& settings)
    : writer_(writer), settings_(settings) {}

HttpReply RecordWriteApi::handle(const HttpCall& call, const auth::Organization& organization,
                                 const std::string& baseUrl) const {
  const bool isBundle = call.path == "/fhir" || call.path == "/fhir/";
  const PurposeOfUseHeader purpose = purposeOfUseHeader(call);
  HttpReply reply;
  const auth::AccessDecision decision = auth::decideWrite(&organization, purpose.value, settings_.writePurposes);
  if (decision.reason == auth::DecisionReason::kRoleNotAllowed ||
      decision.reason == auth::DecisionReason::kOrganizationNotActive) {
    reply = refusal(403, "forbidden", "Only this institution's own systems (role local) may write records.",
                    auth::decisionReasonName(decision.reason));
  } else if (call.bodyUnread) {
    // The organization became one that may write while its request arrived: its body was not read.
    reply = refusal(503, "transient", "The request could not be read whole; repeat it.", "body_unread");
  } else if (!purpose.valid()) {
    reply = refusal(400, "required",
                    "Writes need one X-Purpose-Of-Use header with an HL7 v3 PurposeOfUse code (e.g. HOPERAT).",
                    purpose.count == 0 ? "missing_purpose" : "invalid_purpose");
  } else if (!decision.permit) {
    reply = refusal(403, "forbidden", "This purpose of use is not accepted for writes on this node.",
                    auth::decisionReasonName(decision.reason));
  } else if (call.method != "DELETE" && !isFhirJson(call.headerLines("Content-Type"))) {
    reply = refusal(415, "not-supported",
                    "The body must be FHIR JSON: Content-Type application/fhir+json (charset, if given, UTF-8).",
                    "unsupported_media_type");
  } else {
    reply = isBundle ? bundle(call, baseUrl) : single(call, baseUrl);
  }
  if (reply.access.action.empty()) {
    reply.access.action = isBundle ? "transaction" : call.method == "DELETE" ? "delete" : call.method == "POST" ? "create" : "update";
  }
  return reply;
}

HttpReply RecordWriteApi::single(const HttpCall& call, const std::string& baseUrl) const {
  const std::string target = call.path.substr(6);  // after /fhir/
  const WriteRequest request =
      parseSingleWrite(call.method, target, call.query, call.body, call.headerLines("If-Match"),
                       call.headerLines("If-None-Exist"), settings_.resourceTypes);
  HttpReply reply;
  reply.access.resourceType = target.substr(0, target.find('/'));
  if (!request.ok()) {
    reply = problemsReply(request.problems);
    reply.access.resourceType = target.substr(0, target.find('/'));
    return reply;
  }
  const WriteEntry& entry = request.entries.front();
  reply.access.resourceId = entry.id;
  auto outcome = writer_.write(request, call.requestId);
  if (!outcome) {
    reply = storeFailure(outcome.error());
  } else if (outcome->refused) {
    reply = problemsReply({*outcome->refused});
  } else {
    reply.deferred = std::move(outcome->pending);  // commits after the audit entry
    const WrittenEntry& w = outcome->written.front();
    reply.access.resourceId = w.id;
    recordChanges(outcome->written, reply.access);
    reply.status = w.status;
    reply.headers.emplace_back("ETag", versionTag(w.version));
    if (!w.deleted) reply.headers.emplace_back("Location", baseUrl + "/fhir/" + location(w));
    if (w.lastModified > 0) reply.headers.emplace_back("Last-Modified", httpDate(w.lastModified));
    const Prefer prefer = preferReturn(call);
    if (w.deleted || !w.changed || prefer == Prefer::kOutcome) {
      JsonWriter json;
      writeOperationOutcome(json, {OutcomeIssue{"information", "informational", outcomeText(w), ""}});
      reply.body = json.take();
    } else if (prefer != Prefer::kMinimal) {
      reply.body = w.json;  // the stored resource, with its meta (FHIR's default for PUT and POST)
    }
  }
  reply.access.resourceType = entry.type;
  reply.access.action = entry.method == WriteMethod::kDelete ? "delete"
                        : entry.method == WriteMethod::kPost  ? "create"
                        : reply.status == 201                 ? "create"
                                                              : "update";
  return reply;
}

HttpReply RecordWriteApi::bundle(const HttpCall& call, const std::string& baseUrl) const {
  const WriteRequest request = parseWriteBundle(call.body, settings_.resourceTypes, settings_.writeLimits);
  const bool transaction = request.kind == WriteRequest::Kind::kTransaction;
  HttpReply reply;
  reply.access.action = request.kind == WriteRequest::Kind::kBatch ? "batch" : "transaction";
  // A transaction with any problem, or a bundle that is no bundle, stores nothing.
  const bool whole = std::any_of(request.problems.begin(), request.problems.end(),
                                 [](const WriteProblem& p) { return p.index < 0; });
  if (whole || (transaction && !request.ok())) {
    const std::string action = reply.access.action;
    reply = problemsReply(request.problems);
    reply.access.action = action;
    return reply;
  }

  // Entry responses by bundle index.
  struct Slot {
    std::optional<WrittenEntry> written;
    std::vector<WriteProblem> problems;
  };
  std::map<int, Slot> slots;
  for (const auto& p : request.problems) slots[p.index].problems.push_back(p);
  // A batch whose every entry was refused by the checks has nothing left for the store.
  auto outcome = request.entries.empty() ? Result<WriteOutcome>(WriteOutcome{})
                                         : writer_.write(request, call.requestId);
  if (!outcome || outcome->refused) {
    const std::string action = reply.access.action;
    reply = outcome ? problemsReply({*outcome->refused}) : storeFailure(outcome.error());
    reply.access.action = action;
    return reply;
  }
  for (const auto& p : outcome->entryProblems) slots[p.index].problems.push_back(p);
  reply.internalError = outcome->internalError;
  for (auto& w : outcome->written) slots[w.index].written = w;
  std::vector<WrittenEntry> changes = std::move(outcome->written);
  reply.deferred = std::move(outcome->pending);  // commits after the audit entry
  recordChanges(changes, reply.access);

  const Prefer prefer = preferReturn(call);
  JsonWriter json;
  json.beginObject().member("resourceType", "Bundle").member("type", transaction ? "transaction-response" : "batch-response");
  json.key("entry").beginArray();
  for (const auto& [index, slot] : slots) {
    json.beginObject();
    if (slot.written) {
      const WrittenEntry& w = *slot.written;
      if (!w.deleted) json.member("fullUrl", baseUrl + "/fhir/" + w.type + "/" + w.id);
      if (prefer == Prefer::kRepresentation && !w.deleted && w.changed && !w.json.empty()) {
        json.key("resource").rawValue(w.json);
      }
      json.key("response").beginObject().member("status", reasonPhrase(w.status));
      if (!w.deleted) json.member("location", location(w));
      json.member("etag", versionTag(w.version));
      if (!w.lastUpdated.empty()) json.member("lastModified", w.lastUpdated);
      if (prefer == Prefer::kOutcome || !w.changed) {
        json.key("outcome");
        writeOperationOutcome(json, {OutcomeIssue{"information", "informational", outcomeText(w), ""}});
      }
      json.endObject();
    } else {
      const WriteProblem& first = slot.problems.front();
      json.key("response").beginObject().member("status", reasonPhrase(first.status)).key("outcome");
      std::vector<OutcomeIssue> issues;
      for (const auto& p : slot.problems) {
        issues.push_back(OutcomeIssue{"error", p.issueCode, p.text, "Bundle.entry[" + std::to_string(p.index) + "]"});
      }
      writeOperationOutcome(json, issues);
      json.endObject();
      if (reply.refusalReason.empty()) reply.refusalReason = problemReason(first);
    }
    json.endObject();
  }
  json.endArray().endObject();
  reply.body = json.take();
  reply.status = 200;
  // A batch whose entries all failed still answers 200 (each entry has its status); the audit's
  // outcome follows refusalReason only when nothing at all was written.
  if (!changes.empty()) reply.refusalReason.clear();
  return reply;
}

}  // namespace hie::exchange
