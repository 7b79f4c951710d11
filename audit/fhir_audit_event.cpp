#include "audit/fhir_audit_event.h"

#include <sstream>
#include <vector>

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include "common/base64.h"
#include "common/poco_json.h"

namespace hie::audit {
namespace {

using Poco::JSON::Array;
using Poco::JSON::Object;

constexpr const char* kDcm = "http://dicom.nema.org/resources/ontology/DCM";
constexpr const char* kEntityType = "http://terminology.hl7.org/CodeSystem/audit-entity-type";
constexpr const char* kObjectRole = "http://terminology.hl7.org/CodeSystem/object-role";
constexpr const char* kInteraction = "http://hl7.org/fhir/restful-interaction";
constexpr const char* kResourceTypes = "http://hl7.org/fhir/resource-types";
constexpr const char* kBalp = "https://profiles.ihe.net/ITI/BALP/StructureDefinition/";

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

Object::Ptr reference(const std::string& ref) {
  Object::Ptr what = new Object;
  what->set("reference", ref);
  return what;
}

// "SYSTEM|VALUE" split at its first '|'; false unless both parts are present.
bool splitIdentifier(const std::string& identifier, std::string& system, std::string& value) {
  const auto bar = identifier.find('|');
  if (bar == std::string::npos || bar == 0 || bar + 1 == identifier.size()) return false;
  system = identifier.substr(0, bar);
  value = identifier.substr(bar + 1);
  return true;
}

// The patient as BALP's patient slice has it: type Person (1), role Patient (1). `what` is the
// Patient reference when the entry names one, with the identifier searched for when there was one;
// a search by identifier that found no patient (and every /exchange query: the peers' patients
// have no id here) names the patient by that identifier alone, a typed logical reference
// (`{type: Patient, identifier}`), as BALP's PatientQuery asks for a search "by a Patient id or
// identifier".
Object::Ptr patientEntity(const std::string& patient, const std::string& patientQuery) {
  Object::Ptr e = new Object;
  Object::Ptr what = new Object;
  if (!patient.empty()) what->set("reference", patient);
  std::string system, value;
  if (splitIdentifier(patientQuery, system, value)) {
    if (patient.empty()) what->set("type", "Patient");
    Object::Ptr identifier = new Object;
    identifier->set("system", system);
    identifier->set("value", value);
    what->set("identifier", identifier);
  }
  e->set("what", what);
  e->set("type", coding(kEntityType, "1", "Person"));
  e->set("role", coding(kObjectRole, "1", "Patient"));
  return e;
}

// A resource read, written or returned (role Domain Resource, 4), of the given entity type. A
// resource an /exchange peer returned ("<organization>#Type/id" in the entry) is not this node's:
// a '#' in a reference would name a contained resource, so it is a logical reference, the
// resource's type and {system: the peer's organization, value: "Type/id"}.
Object::Ptr resourceEntity(const std::string& ref, Object::Ptr type) {
  Object::Ptr e = new Object;
  const auto hash = ref.find('#');
  if (hash == std::string::npos) {
    e->set("what", reference(ref));
  } else {
    Object::Ptr what = new Object;
    const std::string local = ref.substr(hash + 1);
    const std::string resourceType = local.substr(0, local.find('/'));
    if (!resourceType.empty() && resourceType.size() < local.size()) what->set("type", resourceType);
    Object::Ptr identifier = new Object;
    if (hash > 0) identifier->set("system", ref.substr(0, hash));
    identifier->set("value", local);
    what->set("identifier", identifier);
    e->set("what", what);
  }
  if (type) e->set("type", type);
  e->set("role", coding(kObjectRole, "4", "Domain Resource"));
  return e;
}

// The FHIR type of "Type/id[/_history/n]" or "<organization>#Type/id"; "" when it names none.
std::string resourceTypeOf(const std::string& ref) {
  const auto hash = ref.rfind('#');
  const std::string local = hash == std::string::npos ? ref : ref.substr(hash + 1);
  const std::string type = local.substr(0, local.find('/'));
  if (type.empty() || type.size() == local.size() || type[0] < 'A' || type[0] > 'Z') return "";
  for (char c : type) {
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'))) return "";
  }
  return type;
}

// "192.0.2.7:50412" -> "192.0.2.7", "[2001:db8::7]:50412" -> "2001:db8::7": the IP address of
// agent.network (type 2); the address with its port stays in the request's details.
std::string hostOf(const std::string& address) {
  if (!address.empty() && address[0] == '[') {
    const auto close = address.find(']');
    return close == std::string::npos ? address : address.substr(1, close - 1);
  }
  const auto colon = address.find(':');
  return colon != std::string::npos && address.find(':', colon + 1) == std::string::npos ? address.substr(0, colon)
                                                                                          : address;
}

Object::Ptr network(const std::string& address, const char* type) {
  Object::Ptr n = new Object;
  n->set("address", address);
  n->set("type", type);
  return n;
}

// How an entry's action reads in FHIR: its restful-interaction ("" when the entry says none),
// AuditEvent.action, BALP's profiles (without and with a patient; none where BALP has none), the
// agent types those profiles give the client and the server, and whether the profile's data slice
// needs exactly one resource (read, create, update, delete) or a query entity (searches).
enum class Shape { kNone, kOneResource, kQuery };
struct RestMapping {
  const char* interaction;
  const char* action;
  const char* profile;
  const char* patientProfile;
  Shape shape;
};

RestMapping restMapping(const std::string& action) {
  if (action == "read") return {"read", "R", "IHE.BasicAudit.Read", "IHE.BasicAudit.PatientRead", Shape::kOneResource};
  if (action == "create") return {"create", "C", "IHE.BasicAudit.Create", "IHE.BasicAudit.PatientCreate", Shape::kOneResource};
  if (action == "update") return {"update", "U", "IHE.BasicAudit.Update", "IHE.BasicAudit.PatientUpdate", Shape::kOneResource};
  if (action == "delete") return {"delete", "D", "IHE.BasicAudit.Delete", "IHE.BasicAudit.PatientDelete", Shape::kOneResource};
  if (action == "search" || action == "query" || action == "audit-query") {
    return {"search-type", "E", "IHE.BasicAudit.Query", "IHE.BasicAudit.PatientQuery", Shape::kQuery};
  }
  // A peer call is this node's own search of a peer, on behalf of an organization. A profile is
  // claimed only when the entry holds the remote party's network address as the TCP connection
  // gave it (the caller's remoteAddress); for a peer call the remote party is the peer, the server,
  // whose address the entry does not hold: no profile.
  if (action == "peer-call") return {"search-type", "E", nullptr, nullptr, Shape::kNone};
  if (action == "capabilities") return {"capabilities", "R", nullptr, nullptr, Shape::kNone};
  if (action == "transaction" || action == "batch") return {action == "batch" ? "batch" : "transaction", "E", nullptr, nullptr, Shape::kNone};
  if (action == "witness" || action == "witness-submit") return {"operation", "E", nullptr, nullptr, Shape::kNone};
  return {"", "E", nullptr, nullptr, Shape::kNone};  // `rest`: refused before a handler knew what it was
}

// BALP's agent types: Read has the client as Destination (110152) and the server as Source
// (110153), the data flowing to the client; Delete has the client as Application (110150) and the
// server as Custodian; every other pattern (Query, Create, Update, and the events without a
// profile) has the client as Source and the server as Destination, as DICOM has a request. A peer
// call: the organization on whose behalf the node called is the requestor, with no transfer role;
// this node sends the query (Source) and the peer, a third agent, receives it (Destination).
struct AgentTypes {
  Object::Ptr client;  // null: no type
  Object::Ptr server;
};

AgentTypes agentTypes(const std::string& action) {
  if (action == "peer-call") return {nullptr, coding(kDcm, "110153", "Source Role ID")};
  if (action == "read") return {coding(kDcm, "110152", "Destination Role ID"), coding(kDcm, "110153", "Source Role ID")};
  if (action == "delete") {
    return {coding(kDcm, "110150", "Application"),
            coding("http://terminology.hl7.org/CodeSystem/provenance-participant-type", "custodian", "Custodian")};
  }
  return {coding(kDcm, "110153", "Source Role ID"), coding(kDcm, "110152", "Destination Role ID")};
}

// A query-string value percent-encoded (RFC 3986): unreserved characters and ':' '/' '@' are kept,
// every other byte becomes %XX ('|' -> %7C).
std::string queryValue(const std::string& value) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : value) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
        c == '_' || c == '~' || c == ':' || c == '/' || c == '@') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

// The search as far as the signed entry holds it: its method and path (stored without the query
// string), and the one search parameter the node records, the patient: the identifier searched for
// (`identifier` on /fhir/Patient, `patient.identifier` elsewhere, as the node's search API and
// /exchange name it) or the patient's id (`_id` on /fhir/Patient, `patient` elsewhere, as for
// /audit/…). Other parameters (_count, paging) are not in the entry and are not made up.
std::string reconstructedSearch(const std::string& method, const std::string& path, const std::string& patient,
                                const std::string& patientQuery) {
  std::string out = method + " " + path;
  const bool patientType = path == "/fhir/Patient";
  if (!patientQuery.empty()) {
    out += std::string("?") + (patientType ? "identifier" : "patient.identifier") + "=" + queryValue(patientQuery);
  } else if (patient.rfind("Patient/", 0) == 0 && patient.size() > 8) {
    out += std::string("?") + (patientType ? "_id" : "patient") + "=" + queryValue(patient.substr(8));
  }
  return out;
}

std::vector<std::string> splitList(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream list(text);
  std::string item;
  while (std::getline(list, item, ',')) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

}  // namespace

Result<std::string> fhirAuditEvent(const TrailEntry& entry) { return fhirAuditEvent(entry, FhirAuditView::kTrail); }

Result<std::string> fhirAuditEvent(const TrailEntry& entry, FhirAuditView view) {
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
  const std::string patient = str("patient");
  // Both are required in R4 (id by the node's answers, recorded 1..1): no AuditEvent without them.
  if (entry.hash.size() < 32 || str("time").empty()) {
    return fail(ErrorCode::kInvalidInput, "audit entry without hash or time");
  }
  const bool securityAlert = eventType == "security-alert";
  const bool success = outcome == "success";
  const std::string remote = str("remoteAddress");
  const std::string remoteHost = hostOf(remote);
  // source.observer is required; every sealed entry names its node, so the fallback is never expected.
  const std::string node = str("node").empty() ? std::string("hie-node") : str("node");
  // Only a successful read or search of a patient's data is a disclosure (what /audit/disclosures
  // lists), and, as for the RESTful Patient* profiles, only of a patient named by a Patient
  // reference (PrivacyDisclosure.Source: entity[patient].what only Reference(Patient)).
  const bool disclosure = view == FhirAuditView::kDisclosure && !securityAlert && success &&
                          patient.rfind("Patient/", 0) == 0 && (action == "read" || action == "search");
  RestMapping m = restMapping(action);
  if (action == "read" && str("path").find("/_history/") != std::string::npos) {
    m.interaction = "vread";  // a read of one version (FHIR's vread; in BALP's AllReadVS)
  }
  if (action == "create" && str("method") == "PUT") {
    // A PUT that created its resource: FHIR's interaction is `update` ("update an existing
    // resource by its id, or create it if it is new"; `create` is the POST), and what happened to
    // the data is a creation (action C). BALP's Create fixes the subtype `create` and its Update
    // the action U, so neither fits: no profile.
    m.interaction = "update";
    m.profile = nullptr;
    m.patientProfile = nullptr;
  }
  const std::vector<std::string> listed = splitList(str("entities"));
  // What a profile needs that an entry may lack: the caller's network address (agent[client].network
  // 1..1), exactly one resource for Read/Create/Update/Delete (entity[data] 1..1), and for the
  // Patient* profiles the patient: a Patient reference, or for a search by identifier (a local one
  // that found no patient, every /exchange query) that identifier.
  std::string identSystem, identValue;
  const bool patientByIdentifier = patient.empty() && splitIdentifier(str("patientQuery"), identSystem, identValue);
  const bool patientNamed = patient.rfind("Patient/", 0) == 0 || (m.shape == Shape::kQuery && patientByIdentifier);
  const bool claimsRest = !securityAlert && !disclosure && success && m.profile != nullptr && !remote.empty() &&
                          (m.shape != Shape::kOneResource || listed.size() == 1);

  Object out;
  out.set("resourceType", "AuditEvent");
  out.set("id", entry.hash.substr(0, 32) + (disclosure ? "-disclosure" : ""));
  Array::Ptr profiles = new Array;
  Array::Ptr subtype = new Array;
  if (securityAlert) {
    // DICOM PS3.15 A.5.3.11: Security Alert, its type from CID 403 (Node Authentication), action E.
    out.set("type", coding(kDcm, "110113", "Security Alert"));
    subtype->add(coding(kDcm, "110126", "Node Authentication"));
    out.set("action", "E");
  } else if (disclosure) {
    // BALP PrivacyDisclosure.Source: an Export, at least the subtype `disclose`, action R.
    out.set("type", coding(kDcm, "110106", "Export"));
    // The interaction first, as in every other AuditEvent of the node (slices do not depend on order).
    subtype->add(coding(kInteraction, m.interaction));
    subtype->add(coding("http://terminology.hl7.org/CodeSystem/iso-21089-lifecycle", "disclose",
                        "Disclose Record Lifecycle Event"));
    out.set("action", "R");
    if (!remote.empty()) profiles->add(std::string(kBalp) + "IHE.BasicAudit.PrivacyDisclosure.Source");
  } else {
    out.set("type", coding("http://terminology.hl7.org/CodeSystem/audit-event-type", "rest", "Restful Operation"));
    if (*m.interaction != '\0') subtype->add(coding(kInteraction, m.interaction));
    out.set("action", m.action);
    if (claimsRest) {
      profiles->add(std::string(kBalp) + m.profile);
      if (patientNamed) profiles->add(std::string(kBalp) + m.patientProfile);
    }
  }
  // FHIR allows no empty array or string: an element without content is left out.
  if (profiles->size() > 0) {
    Object::Ptr meta = new Object;
    meta->set("profile", profiles);
    out.set("meta", meta);
  }
  if (subtype->size() > 0) out.set("subtype", subtype);
  out.set("recorded", str("time"));
  const long long status = in->has("httpStatus") ? in->getValue<long long>("httpStatus") : 0;
  // 0 success; 4 minor failure (refusals, the caller's errors); 8 serious failure (the node's errors).
  out.set("outcome", success ? "0" : (outcome == "denied" || (status >= 400 && status < 500)) ? "4" : "8");
  if (!str("outcomeReason").empty()) out.set("outcomeDesc", outcome + ": " + str("outcomeReason"));

  Array::Ptr purposes = new Array;
  if (!str("purpose").empty()) purposes->add(concept(coding("http://terminology.hl7.org/CodeSystem/v3-ActReason", str("purpose"))));
  if (in->has("breakGlass") && in->getValue<bool>("breakGlass")) {
    purposes->add(concept(coding("http://terminology.hl7.org/CodeSystem/v3-ActReason", "BTG", "break the glass")));
  }
  if (purposes->size() > 0) out.set("purposeOfEvent", purposes);

  // agent[0]: the caller (for a disclosure, the recipient; for a security alert, the party that
  // tried to connect: DICOM's performing process, never the requestor). agent[1]: this node.
  // agent[2], for a peer call only: the peer called.
  // A security alert's agents have no type: DICOM A.5.3.11 has a reporting process (this node) and
  // performing participants (the party that tried), no data-transfer roles.
  const AgentTypes types = securityAlert ? AgentTypes{nullptr, nullptr}
                           : disclosure  ? AgentTypes{coding(kDcm, "110152", "Destination Role ID"),
                                                      coding(kDcm, "110153", "Source Role ID")}
                                         : agentTypes(action);
  Array::Ptr agents = new Array;
  Object::Ptr client = new Object;
  if (types.client) client->set("type", concept(types.client));
  Object::Ptr clientWho = new Object;
  if (!str("organization").empty()) {
    Object::Ptr clientId = new Object;
    clientId->set("system", "urn:ietf:rfc:3986");
    clientId->set("value", str("organization"));
    clientWho->set("identifier", clientId);
  }
  // No organization admitted: no identifier ("unidentified" is no URI), only a display.
  if (!str("subjectDn").empty()) {
    clientWho->set("display", str("subjectDn"));
  } else if (str("organization").empty()) {
    clientWho->set("display", "unidentified");
  }
  client->set("who", clientWho);
  // The UDAP client (a leaf of 34 keys): the token's client_id, the client registered or asking at
  // /oauth/*, or this node's client_id at the peer on a peer call. who stays the organization;
  // altId is R4's "alternative user identity" (string 0..1), which BALP leaves open.
  if (!str("clientId").empty()) client->set("altId", str("clientId"));
  client->set("requestor", !securityAlert);
  if (!remoteHost.empty()) client->set("network", network(remoteHost, "2"));  // IP address
  agents->add(client);
  Object::Ptr server = new Object;
  if (types.server) server->set("type", concept(types.server));
  Object::Ptr serverWho = new Object;
  serverWho->set("display", node);
  server->set("who", serverWho);
  server->set("requestor", false);
  // BALP wants the server's network address "as known by TCP connection information"; the signed
  // entry does not record the address or host name the request arrived on, and reading
  // server.baseUrl from the configuration here would make the rendering depend on more than the
  // signed entry. So this node is named by its node.id, type 1 (a name, not an address), the one
  // identity of the server the entry signs. The remote party's network is always its address from
  // the TCP connection, or absent (and then no profile is claimed).
  server->set("network", network(node, "1"));
  agents->add(server);
  if (action == "peer-call" && !securityAlert) {
    // The peer called: its organization; the entry does not hold its address (no network).
    Object::Ptr peer = new Object;
    peer->set("type", concept(coding(kDcm, "110152", "Destination Role ID")));
    Object::Ptr peerWho = new Object;
    if (str("peerOrganization").empty()) {
      peerWho->set("display", "unidentified");
    } else {
      Object::Ptr peerId = new Object;
      peerId->set("system", "urn:ietf:rfc:3986");
      peerId->set("value", str("peerOrganization"));
      peerWho->set("identifier", peerId);
    }
    peer->set("who", peerWho);
    peer->set("requestor", false);
    agents->add(peer);
  }
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
  if (!patient.empty() || patientByIdentifier) entities->add(patientEntity(patient, str("patientQuery")));
  if (securityAlert) {
    // nothing read or written
  } else if (disclosure || m.shape == Shape::kOneResource) {
    // What was disclosed, read or written: System Object (2), BALP's data slice.
    for (const auto& item : listed) {
      if (disclosure && item == patient) continue;  // the patient entity already names it
      entities->add(resourceEntity(item, coding(kEntityType, "2", "System Object")));
    }
  } else {
    // A search: the resources on the page returned, typed by their FHIR type (the System Object
    // type is BALP's query entity), and the query itself: BALP wants the raw request base64 in
    // `query`. The signed entry holds the method, the target without its query string, and the
    // patient parameter (id or identifier), so `query` is that request rebuilt from them
    // (reconstructedSearch) and `description` the same, readable; the leaf format stays as signed.
    for (const auto& item : listed) {
      if (item == patient) continue;
      const std::string type = resourceTypeOf(item);
      entities->add(resourceEntity(item, type.empty() ? nullptr : coding(kResourceTypes, type)));
    }
    if (m.shape == Shape::kQuery && !str("method").empty()) {
      Object::Ptr query = new Object;
      query->set("type", coding(kEntityType, "2", "System Object"));
      query->set("role", coding(kObjectRole, "24", "Query"));
      const std::string search = reconstructedSearch(str("method"), str("path"), patient, str("patientQuery"));
      query->set("description", search);
      query->set("query", base64Encode(search));
      entities->add(query);
    }
  }
  // The request: named by its X-Request-Id when it reached HTTP. A refused handshake has none:
  // its entity is DICOM's Alert Subject, the node that tried to connect (Node ID, by IP address),
  // with the Alert Description.
  Object::Ptr request = new Object;
  if (!str("requestId").empty()) {
    Object::Ptr requestWhat = new Object;
    Object::Ptr requestIdent = new Object;
    requestIdent->set("value", str("requestId"));
    requestWhat->set("identifier", requestIdent);
    request->set("what", requestWhat);
    request->set("type", coding("https://profiles.ihe.net/ITI/BALP/CodeSystem/BasicAuditEntityType", "XrequestId"));
  } else if (securityAlert) {
    if (!remoteHost.empty()) {
      Object::Ptr subjectWhat = new Object;
      Object::Ptr subjectIdent = new Object;
      subjectIdent->set("type", concept(coding(kDcm, "110182", "Node ID")));
      subjectIdent->set("value", remoteHost);
      subjectWhat->set("identifier", subjectIdent);
      request->set("what", subjectWhat);
    }
    request->set("type", coding(kEntityType, "2", "System Object"));
  }
  Array::Ptr details = new Array;
  auto detail = [&details](const std::string& type, const std::string& value) {
    if (value.empty()) return;
    Object::Ptr d = new Object;
    d->set("type", type);
    d->set("valueString", value);
    details->add(d);
  };
  if (securityAlert) detail("Alert Description", str("outcomeReason").empty() ? outcome : str("outcomeReason"));
  // Where the entry is: a v1 chain and its seq, or a v2 log (its origin) and the leaf index.
  const bool chain = entry.format == TrailEntry::Format::kChain;
  detail(chain ? "chain" : "origin", entry.log);
  detail(chain ? "seq" : "index", std::to_string(entry.position));
  detail("hash", entry.hash);
  detail("method", str("method"));
  detail("path", str("path"));
  detail("httpStatus", std::to_string(status));
  detail("remoteAddress", remote);
  detail("patientQuery", str("patientQuery"));
  detail("causedBy", str("causedBy"));
  detail("certSha256", str("certSha256"));
  // Signed requests (a leaf of 32 keys): how the request's signature was checked, and whether the answer was signed.
  detail("signatureCheck", str("signatureCheck"));
  if (!str("responseSignature").empty()) detail("answerSigned", "true");
  // UDAP (a leaf of 34 keys): mtls | mtls+udap, and the client_id.
  detail("authentication", str("authentication"));
  detail("clientId", str("clientId"));
  request->set("detail", details);
  entities->add(request);
  out.set("entity", entities);

  return pocoJsonText(out);
}

}  // namespace hie::audit
