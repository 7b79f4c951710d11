#include "exchange/handlers/audit_api.h"

#include <map>

#include <Poco/URI.h>

#include "audit/fhir_audit_event.h"
#include "auth/registry/organization.h"
#include "common/json_writer.h"
#include "exchange/fhir/fhir_request.h"
#include "exchange/fhir/operation_outcome.h"

namespace hie::exchange {
namespace {

constexpr int kMaxCount = 100;

HttpReply invalid(const std::string& text) {
  HttpReply reply = operationOutcome(400, "invalid", text);
  reply.refusalReason = "invalid_request";
  return reply;
}

bool digits(const std::string& s, std::size_t max) {
  return !s.empty() && s.size() <= max && s.find_first_not_of("0123456789") == std::string::npos;
}

std::string encode(const std::string& v) {
  std::string out;
  Poco::URI::encode(v, "&=+#?/|%:", out);
  return out;
}

}  // namespace

HttpReply AuditApi::handle(const HttpCall& call, const auth::Organization& organization,
                           const std::string& baseUrl) const {
  const bool disclosures = call.path == "/audit/disclosures";
  if (!disclosures && call.path != "/audit/AuditEvent") {
    HttpReply reply = operationOutcome(404, "not-found", "No such endpoint.");
    reply.refusalReason = "no_route";
    return reply;
  }
  HttpReply reply;
  reply.access.action = "audit-query";
  reply.access.resourceType = "AuditEvent";
  if (!organization.hasRole(auth::Role::kAuditor)) {
    reply = operationOutcome(403, "forbidden", "Only organizations with the auditor role may read the audit trail.");
    reply.refusalReason = "role_not_allowed";
    reply.access.action = "audit-query";
    reply.access.resourceType = "AuditEvent";
    return reply;
  }
  if (call.method != "GET" && call.method != "HEAD") {
    reply = operationOutcome(405, "not-supported", "Only GET is supported here.");
    reply.headers.emplace_back("Allow", "GET");
    reply.refusalReason = "method_not_allowed";
    return reply;
  }

  audit::AuditFilter filter;
  filter.disclosuresOnly = disclosures;
  int dates = 0;
  std::map<std::string, std::string> seen;
  for (const auto& [name, value] : call.query) {
    if (name != "date" && !seen.emplace(name, value).second) return invalid("Parameter " + name + " is given more than once.");
    if (name == "date") {
      if (++dates > 2) return invalid("At most two date parameters (ge and le).");
      const std::string prefix = value.substr(0, 2);
      const std::string when = value.size() > 2 ? value.substr(2) : "";
      if ((prefix != "ge" && prefix != "le") || !audit::isAuditTime(when)) {
        return invalid("date must be geYYYY-MM-DD[Thh:mm:ssZ] or leYYYY-MM-DD[Thh:mm:ssZ].");
      }
      (prefix == "ge" ? filter.from : filter.to) = when;
    } else if (name == "agent" && !disclosures) {
      if (!auth::isValidOrganizationIdentifier(value)) return invalid("agent must be an organization identifier.");
      filter.organization = value;
    } else if (name == "patient") {
      std::string id = value.compare(0, 8, "Patient/") == 0 ? value.substr(8) : value;
      if (!isValidFhirId(id)) return invalid("patient must be a FHIR id or Patient/ID.");
      filter.patient = "Patient/" + id;
    } else if (name == "outcome" && !disclosures) {
      if (value != "success" && value != "denied" && value != "error") {
        return invalid("outcome must be success, denied or error.");
      }
      filter.outcome = value;
    } else if (name == "hipaa" && disclosures) {
      if (value != "true" && value != "false") return invalid("hipaa must be true or false.");
      filter.hipaaAccounting = value == "true";
    } else if (name == "_count") {
      if (!digits(value, 4) || std::stoi(value) < 1 || std::stoi(value) > kMaxCount) {
        return invalid("_count must be a whole number from 1 to " + std::to_string(kMaxCount) + ".");
      }
      filter.count = std::stoi(value);
    } else if (name == "_offset") {
      if (!digits(value, 9)) return invalid("_offset must be a whole number.");
      filter.offset = std::stoll(value);
    } else {
      return invalid("Unsupported parameter.");
    }
  }
  if (disclosures && filter.patient.empty()) return invalid("The accounting of disclosures needs patient=ID.");
  reply.access.patientId = filter.patient.empty() ? "" : filter.patient.substr(8);

  auto page = reader_.query(filter);
  if (!page) {
    HttpReply failed = operationOutcome(page.error());
    failed.internalError = page.error().internal;
    failed.access = reply.access;
    return failed;
  }

  std::string query;
  auto add = [&query](const std::string& n, const std::string& v) { query += (query.empty() ? "" : "&") + n + "=" + encode(v); };
  if (!filter.from.empty()) add("date", "ge" + filter.from);
  if (!filter.to.empty()) add("date", "le" + filter.to);
  if (!filter.organization.empty()) add("agent", filter.organization);
  if (!filter.patient.empty()) add("patient", filter.patient);
  if (!filter.outcome.empty()) add("outcome", filter.outcome);
  if (filter.hipaaAccounting) add("hipaa", "true");
  add("_count", std::to_string(filter.count));
  const std::string base = baseUrl + call.path + "?" + query + "&_offset=";

  JsonWriter json;
  json.beginObject().member("resourceType", "Bundle").member("type", "searchset").member("total", page->total);
  json.key("link").beginArray();
  json.beginObject().member("relation", "self").member("url", base + std::to_string(filter.offset)).endObject();
  if (page->more) {
    json.beginObject().member("relation", "next").member("url", base + std::to_string(filter.offset + filter.count)).endObject();
  }
  json.endArray();
  // No match: no entry element (FHIR allows no empty array).
  if (!page->entries.empty()) json.key("entry").beginArray();
  for (const auto& entry : page->entries) {
    // The accounting of disclosures shows each as BALP's PrivacyDisclosure.Source (an Export).
    auto event = audit::fhirAuditEvent(entry, disclosures ? audit::FhirAuditView::kDisclosure : audit::FhirAuditView::kTrail);
    if (event) {
      // Rendered by audit/ from the signed entry (Poco's parser and writer).
      json.beginObject().key("resource").rawValue(*event);
      json.key("search").beginObject().member("mode", "match").endObject().endObject();
      continue;
    }
    // A stored entry that cannot be rendered (damaged or altered) is never dropped silently:
    // the auditor sees where it is, and `hie-node audit verify` says what is wrong with it.
    json.beginObject().key("resource");
    writeOperationOutcome(json, "error", "processing",
                          entry.name() + " cannot be rendered; run hie-node audit verify");
    json.key("search").beginObject().member("mode", "outcome").endObject().endObject();
  }
  if (!page->entries.empty()) json.endArray();
  json.endObject();
  reply.body = json.take();
  reply.access.resultCount = static_cast<long long>(page->entries.size());
  return reply;
}

}  // namespace hie::exchange
