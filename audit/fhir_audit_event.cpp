#include "audit/fhir_audit_event.h"

#include <sstream>

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include "common/poco_json.h"

namespace hie::audit {
namespace {

using Poco::JSON::Array;
using Poco::JSON::Object;

Object::Ptr coding(const std::string& system, const std::string& code, const std::string& display = "") {
  Object::Ptr c = new Object;
  c->set("system", system);
  c->set("code", code);
  if (!display.empty()) c->set("display", display);
  return c;
}

Object::Ptr concept(Object::Ptr c) {
  Object::Ptr cc = new Object;
  Array::Ptr codings = new Array;
  codings->add(c);
  cc->set("coding", codings);
  return cc;
}

Object::Ptr entity(const std::string& reference, const std::string& roleCode, const std::string& roleDisplay) {
  Object::Ptr e = new Object;
  Object::Ptr what = new Object;
  what->set("reference", reference);
  e->set("what", what);
  e->set("role", coding("http://terminology.hl7.org/CodeSystem/object-role", roleCode, roleDisplay));
  return e;
}

constexpr const char* kBalp = "https://profiles.ihe.net/ITI/BALP/StructureDefinition/";

// How an entry's action reads in FHIR: its restful-interaction, AuditEvent.action (C R U D E) and
// the BALP profiles that describe it (without and with a patient; none for a whole Bundle).
struct RestMapping {
  const char* interaction;
  const char* action;
  const char* profile;
  const char* patientProfile;
};

RestMapping restMapping(const std::string& action) {
  if (action == "read") return {"read", "R", "IHE.BasicAudit.Read", "IHE.BasicAudit.PatientRead"};
  if (action == "capabilities") return {"capabilities", "R", "IHE.BasicAudit.Query", "IHE.BasicAudit.PatientQuery"};
  if (action == "create") return {"create", "C", "IHE.BasicAudit.Create", "IHE.BasicAudit.PatientCreate"};
  if (action == "update") return {"update", "U", "IHE.BasicAudit.Update", "IHE.BasicAudit.PatientUpdate"};
  if (action == "delete") return {"delete", "D", "IHE.BasicAudit.Delete", "IHE.BasicAudit.PatientDelete"};
  if (action == "transaction") return {"transaction", "E", nullptr, nullptr};
  if (action == "batch") return {"batch", "E", nullptr, nullptr};
  // search, query (/exchange), peer-call, audit-query, witness, ...
  return {"search-type", "E", "IHE.BasicAudit.Query", "IHE.BasicAudit.PatientQuery"};
}

}  // namespace

Result<std::string> fhirAuditEvent(const TrailEntry& entry) {
  Object::Ptr in;
  try {
    Poco::JSON::Parser parser;
    in = parser.parse(entry.text).extract<Object::Ptr>();
  } catch (const std::exception& e) {
    return fail(ErrorCode::kInvalidInput, std::string("not an audit entry: ") + e.what());
  }
  auto str = [&in](const char* key) { return in->has(key) ? in->getValue<std::string>(key) : std::string(); };
  const std::string eventType = str("eventType");
  const std::string action = str("action");
  const std::string outcome = str("outcome");
  // Both are required in R4 (id by the node's answers, recorded 1..1): no AuditEvent without them.
  if (entry.hash.size() < 32 || str("time").empty()) {
    return fail(ErrorCode::kInvalidInput, "audit entry without hash or time");
  }

  Object out;
  out.set("resourceType", "AuditEvent");
  out.set("id", entry.hash.substr(0, 32));
  Object::Ptr meta = new Object;
  Array::Ptr profiles = new Array;
  Array::Ptr subtype = new Array;
  if (eventType == "security-alert") {
    out.set("type", coding("http://dicom.nema.org/resources/ontology/DCM", "110113", "Security Alert"));
    subtype->add(coding("http://dicom.nema.org/resources/ontology/DCM", "110126", "Node Authentication"));
    out.set("action", "E");
  } else {
    out.set("type", coding("http://terminology.hl7.org/CodeSystem/audit-event-type", "rest", "RESTful Operation"));
    const RestMapping m = restMapping(action);
    subtype->add(coding("http://hl7.org/fhir/restful-interaction", m.interaction));
    out.set("action", m.action);
    if (m.profile != nullptr) profiles->add(std::string(kBalp) + m.profile);
    if (m.patientProfile != nullptr && !str("patient").empty()) profiles->add(std::string(kBalp) + m.patientProfile);
  }
  // FHIR allows no empty array or string: an element without content is left out
  // (a security alert has no BALP profile, no request id, method or path).
  if (profiles->size() > 0) {
    meta->set("profile", profiles);
    out.set("meta", meta);
  }
  out.set("subtype", subtype);
  out.set("recorded", str("time"));
  const long long status = in->has("httpStatus") ? in->getValue<long long>("httpStatus") : 0;
  // 0 success; 4 minor failure (refusals, the caller's errors); 8 serious failure (the node's errors).
  out.set("outcome", outcome == "success" ? "0" : (outcome == "denied" || (status >= 400 && status < 500)) ? "4" : "8");
  if (!str("outcomeReason").empty()) out.set("outcomeDesc", outcome + ": " + str("outcomeReason"));

  Array::Ptr purposes = new Array;
  if (!str("purpose").empty()) purposes->add(concept(coding("http://terminology.hl7.org/CodeSystem/v3-ActReason", str("purpose"))));
  if (in->has("breakGlass") && in->getValue<bool>("breakGlass")) {
    purposes->add(concept(coding("http://terminology.hl7.org/CodeSystem/v3-ActReason", "BTG", "break the glass")));
  }
  if (purposes->size() > 0) out.set("purposeOfEvent", purposes);

  // source.observer is required; every sealed entry names its node, so the fallback is never expected.
  const std::string node = str("node").empty() ? std::string("hie-node") : str("node");
  Array::Ptr agents = new Array;
  Object::Ptr client = new Object;
  client->set("type", concept(coding("http://dicom.nema.org/resources/ontology/DCM", "110153", "Source Role ID")));
  Object::Ptr clientWho = new Object;
  Object::Ptr clientId = new Object;
  clientId->set("system", "urn:ietf:rfc:3986");
  clientId->set("value", str("organization").empty() ? "unidentified" : str("organization"));
  clientWho->set("identifier", clientId);
  if (!str("subjectDn").empty()) clientWho->set("display", str("subjectDn"));
  client->set("who", clientWho);
  client->set("requestor", true);
  if (!str("remoteAddress").empty()) {
    Object::Ptr network = new Object;
    network->set("address", str("remoteAddress"));
    network->set("type", "2");
    client->set("network", network);
  }
  agents->add(client);
  Object::Ptr server = new Object;
  server->set("type", concept(coding("http://dicom.nema.org/resources/ontology/DCM", "110152", "Destination Role ID")));
  Object::Ptr serverWho = new Object;
  serverWho->set("display", node);
  server->set("who", serverWho);
  server->set("requestor", false);
  agents->add(server);
  out.set("agent", agents);

  Object::Ptr source = new Object;
  Object::Ptr observer = new Object;
  observer->set("display", node);
  source->set("observer", observer);
  Array::Ptr sourceTypes = new Array;
  sourceTypes->add(coding("http://terminology.hl7.org/CodeSystem/security-source-type", "4", "Application Server"));
  source->set("type", sourceTypes);
  out.set("source", source);

  Array::Ptr entities = new Array;
  if (!str("patient").empty()) entities->add(entity(str("patient"), "1", "Patient"));
  std::stringstream list(str("entities"));
  std::string item;
  while (std::getline(list, item, ',')) {
    if (!item.empty() && item != str("patient")) entities->add(entity(item, "4", "Domain Resource"));
  }
  // The request: named by its X-Request-Id when it reached HTTP; a refused handshake has none,
  // and its entity then only carries the details.
  Object::Ptr request = new Object;
  if (!str("requestId").empty()) {
    Object::Ptr requestWhat = new Object;
    Object::Ptr requestIdent = new Object;
    requestIdent->set("value", str("requestId"));
    requestWhat->set("identifier", requestIdent);
    request->set("what", requestWhat);
    request->set("type", coding("https://profiles.ihe.net/ITI/BALP/CodeSystem/BasicAuditEntityType", "XrequestId"));
  }
  Array::Ptr details = new Array;
  auto detail = [&details](const std::string& type, const std::string& value) {
    if (value.empty()) return;
    Object::Ptr d = new Object;
    d->set("type", type);
    d->set("valueString", value);
    details->add(d);
  };
  // Where the entry is: a v1 chain and its seq, or a v2 log (its origin) and the leaf index.
  const bool chain = entry.format == TrailEntry::Format::kChain;
  detail(chain ? "chain" : "origin", entry.log);
  detail(chain ? "seq" : "index", std::to_string(entry.position));
  detail("hash", entry.hash);
  detail("method", str("method"));
  detail("path", str("path"));
  detail("httpStatus", std::to_string(in->has("httpStatus") ? in->getValue<long long>("httpStatus") : 0));
  detail("patientQuery", str("patientQuery"));
  detail("causedBy", str("causedBy"));
  detail("certSha256", str("certSha256"));
  // Signed requests (a leaf of 32 keys): how the request's signature was checked, and whether the answer was signed.
  detail("signatureCheck", str("signatureCheck"));
  if (!str("responseSignature").empty()) detail("answerSigned", "true");
  request->set("detail", details);
  entities->add(request);
  out.set("entity", entities);

  return pocoJsonText(out);
}

}  // namespace hie::audit
