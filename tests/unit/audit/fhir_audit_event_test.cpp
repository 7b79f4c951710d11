// FHIR AuditEvents of both formats: a v2 log leaf renders like the v1 entry of the
// same event, named by its origin and leaf index instead of chain and seq, with
// its leaf hash computed from the leaf itself.
#include "audit/fhir_audit_event.h"

#include <gtest/gtest.h>

#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/JSON/Stringifier.h>

#include "common/digest.h"

namespace hie::audit {
namespace {

using Poco::JSON::Object;

AuditEvent event() {
  AuditEvent e;
  e.time = "2026-11-26T10:00:00.123Z";
  e.eventType = "rest";
  e.action = "read";
  e.outcome = "success";
  e.organization = "urn:oid:2.16.840.1.113883.3.7001";
  e.method = "GET";
  e.path = "/fhir/Patient/p1";
  e.resourceType = "Patient";
  e.resourceId = "p1";
  e.patient = "Patient/p1";
  e.entities = "Patient/p1";
  e.purpose = "ETREAT";
  e.breakGlass = true;
  e.httpStatus = 200;
  e.requestId = "req-1";
  e.remoteAddress = "192.0.2.7:50412";
  return e;
}

Object::Ptr parse(const std::string& text) {
  Poco::JSON::Parser parser;
  return parser.parse(text).extract<Object::Ptr>();
}

// The request entity's details, type -> value.
std::map<std::string, std::string> details(const Object::Ptr& event) {
  std::map<std::string, std::string> out;
  auto entities = event->getArray("entity");
  auto request = entities->getObject(entities->size() - 1);
  auto list = request->getArray("detail");
  for (std::size_t i = 0; i < list->size(); ++i) {
    out[list->getObject(i)->getValue<std::string>("type")] = list->getObject(i)->getValue<std::string>("valueString");
  }
  return out;
}

TEST(FhirAuditEvent, ALogLeafIsNamedByOriginAndIndexAndItsLeafHash) {
  const std::string leaf = canonicalJson(leafObject(event(), "node-a", 41));
  const TrailEntry entry = TrailEntry::fromLeaf("hie-node/node-a/audit", 41, leaf);
  // RFC 6962: SHA-256(0x00 || leaf), computed here independently of the Merkle code.
  const std::string leafHash = sha256Hex(std::string(1, '\0') + leaf);
  EXPECT_EQ(entry.hash, leafHash);
  auto rendered = fhirAuditEvent(entry);
  ASSERT_TRUE(rendered) << rendered.error().internal;
  auto out = parse(*rendered);
  EXPECT_EQ(out->getValue<std::string>("id"), leafHash.substr(0, 32));
  EXPECT_EQ(out->getValue<std::string>("recorded"), "2026-11-26T10:00:00.123Z");
  auto d = details(out);
  EXPECT_EQ(d["origin"], "hie-node/node-a/audit");
  EXPECT_EQ(d["index"], "41");
  EXPECT_EQ(d["hash"], leafHash);
  EXPECT_EQ(d.count("chain"), 0u);
  EXPECT_EQ(d.count("seq"), 0u);
}

TEST(FhirAuditEvent, BothFormatsOfOneEventSayTheSameButWhereTheyAre) {
  ChainHead head{"node-a/2026-11-26T10-00-00Z/abcdef012345", 6, std::string(64, 'a')};
  auto key = SigningKey::generate();
  auto sealed = seal(event(), "node-a", head, *key);
  ASSERT_TRUE(sealed);
  auto v1 = fhirAuditEvent(TrailEntry::fromChain(*sealed));
  auto v2 = fhirAuditEvent(TrailEntry::fromLeaf("hie-node/node-a/audit", 3, canonicalJson(leafObject(event(), "node-a", 3))));
  ASSERT_TRUE(v1 && v2);
  auto a = parse(*v1), b = parse(*v2);
  EXPECT_EQ(a->getValue<std::string>("id"), sealed->hash.substr(0, 32));
  auto da = details(a), db = details(b);
  EXPECT_EQ(da["chain"], head.chain);
  EXPECT_EQ(da["seq"], "7");
  EXPECT_EQ(da["hash"], sealed->hash);
  for (const auto& name : {"chain", "seq", "origin", "index", "hash"}) {
    da.erase(name);
    db.erase(name);
  }
  EXPECT_EQ(da, db);
  // Everything else: type, purpose with break-glass, agents, source, outcome.
  for (const char* element : {"type", "subtype", "action", "recorded", "outcome", "purposeOfEvent", "agent", "source",
                              "meta"}) {
    std::ostringstream x, y;
    Poco::JSON::Stringifier::stringify(a->get(element), x);
    Poco::JSON::Stringifier::stringify(b->get(element), y);
    EXPECT_EQ(x.str(), y.str()) << element;
  }
  EXPECT_NE(v2->find("\"BTG\""), std::string::npos) << *v2;
}

TEST(FhirAuditEvent, ASignedRequestSaysHowItsSignatureWasCheckedAndAnOldLeafRendersAsBefore) {
  AuditEvent signedEvent = event();
  signedEvent.signatureCheck = "verified";
  signedEvent.requestSignatureBase = "\"@method\": GET\n\"@signature-params\": (\"@method\");created=1";
  signedEvent.requestSignature = "sig";
  signedEvent.responseSignatureBase = "\"@status\": 200\n\"@signature-params\": (\"@status\");created=1";
  signedEvent.responseSignature = "answer";
  auto rendered = fhirAuditEvent(TrailEntry::fromLeaf("o", 1, canonicalJson(leafObject(signedEvent, "node-a", 1))));
  ASSERT_TRUE(rendered) << rendered.error().internal;
  auto d = details(parse(*rendered));
  EXPECT_EQ(d["signatureCheck"], "verified");
  EXPECT_EQ(d["answerSigned"], "true");
  // A leaf of 27 keys (written before signed requests) has neither detail.
  CanonicalObject old = leafObject(event(), "node-a", 2);
  for (const char* key : {"requestSignature", "requestSignatureBase", "responseSignature", "responseSignatureBase",
                          "signatureCheck"}) {
    old.erase(key);
  }
  auto before = fhirAuditEvent(TrailEntry::fromLeaf("o", 2, canonicalJson(old)));
  ASSERT_TRUE(before) << before.error().internal;
  auto db = details(parse(*before));
  EXPECT_EQ(db.count("signatureCheck"), 0u);
  EXPECT_EQ(db.count("answerSigned"), 0u);
  EXPECT_EQ(db["path"], "/fhir/Patient/p1");
}

// The profiles, subtype code, action and entity references of one rendered event.
struct Rendered {
  std::vector<std::string> profiles;
  std::string interaction, action;
  std::vector<std::string> references;  // entity.what.reference, in order
  bool hasMeta = false;
};

Rendered render(const AuditEvent& e) {
  auto text = fhirAuditEvent(TrailEntry::fromLeaf("hie-node/node-a/audit", 5, canonicalJson(leafObject(e, "node-a", 5))));
  EXPECT_TRUE(text) << text.error().internal;
  Rendered r;
  if (!text) return r;
  auto out = parse(*text);
  r.hasMeta = out->has("meta");
  if (r.hasMeta) {
    auto list = out->getObject("meta")->getArray("profile");
    for (std::size_t i = 0; i < list->size(); ++i) r.profiles.push_back(list->getElement<std::string>(i));
  }
  r.interaction = out->getArray("subtype")->getObject(0)->getValue<std::string>("code");
  EXPECT_EQ(out->getArray("subtype")->getObject(0)->getValue<std::string>("system"),
            "http://hl7.org/fhir/restful-interaction");
  r.action = out->getValue<std::string>("action");
  auto entities = out->getArray("entity");
  for (std::size_t i = 0; i < entities->size(); ++i) {
    auto what = entities->getObject(i)->getObject("what");
    if (what && what->has("reference")) r.references.push_back(what->getValue<std::string>("reference"));
  }
  return r;
}

const std::string kBalp = "https://profiles.ihe.net/ITI/BALP/StructureDefinition/";

// Writes of the FHIR write API (role local): create, update and delete are C, U and D with BALP's
// Create/Update/Delete (and their Patient profiles when a patient is named) when one version was
// written (BALP's data slice is 1..1); a transaction or batch Bundle is E with its own
// restful-interaction and no BALP profile (BALP has none for a Bundle).
TEST(FhirAuditEvent, WritesMapToTheirInteractionActionAndBalpProfile) {
  struct Case {
    const char* action;
    const char* interaction;
    const char* code;
    std::vector<std::string> withPatient;
    std::vector<std::string> withoutPatient;
  };
  const std::vector<Case> cases = {
      {"create", "create", "C", {kBalp + "IHE.BasicAudit.Create", kBalp + "IHE.BasicAudit.PatientCreate"},
       {kBalp + "IHE.BasicAudit.Create"}},
      {"update", "update", "U", {kBalp + "IHE.BasicAudit.Update", kBalp + "IHE.BasicAudit.PatientUpdate"},
       {kBalp + "IHE.BasicAudit.Update"}},
      {"delete", "delete", "D", {kBalp + "IHE.BasicAudit.Delete", kBalp + "IHE.BasicAudit.PatientDelete"},
       {kBalp + "IHE.BasicAudit.Delete"}},
      {"transaction", "transaction", "E", {}, {}},
      {"batch", "batch", "E", {}, {}},
  };
  for (const auto& c : cases) {
    AuditEvent e = event();
    e.action = c.action;
    e.method = std::string(c.action) == "delete" ? "DELETE" : std::string(c.action) == "update" ? "PUT" : "POST";
    e.purpose = "HOPERAT";
    e.breakGlass = false;
    e.httpStatus = std::string(c.action) == "create" ? 201 : 200;
    e.patient = "Patient/p1";
    e.entities = "Observation/o1/_history/1";
    e.resultCount = 1;
    Rendered with = render(e);
    EXPECT_EQ(with.interaction, c.interaction) << c.action;
    EXPECT_EQ(with.action, c.code) << c.action;
    EXPECT_EQ(with.profiles, c.withPatient) << c.action;
    EXPECT_EQ(with.hasMeta, !c.withPatient.empty()) << c.action;
    // The patient first (role Patient), then the version written.
    EXPECT_EQ(with.references, (std::vector<std::string>{"Patient/p1", "Observation/o1/_history/1"})) << c.action;
    e.patient.clear();
    Rendered without = render(e);
    EXPECT_EQ(without.profiles, c.withoutPatient) << c.action;
    EXPECT_EQ(without.action, c.code) << c.action;
    // Two versions written do not fit BALP's one data entity: no profile, the same shape otherwise.
    e.patient = "Patient/p1";
    e.entities = "Patient/p1/_history/2,Observation/o1/_history/1";
    e.resultCount = 2;
    Rendered two = render(e);
    EXPECT_FALSE(two.hasMeta) << c.action;
    EXPECT_EQ(two.action, c.code) << c.action;
    EXPECT_EQ(two.references, (std::vector<std::string>{"Patient/p1", "Patient/p1/_history/2", "Observation/o1/_history/1"}))
        << c.action;
  }
}

// FHIR's interactions, not only the entry's action: a read of one version is a vread (in BALP's
// AllReadVS: still Read); a PUT that created its resource is the interaction update with action C
// (a creation), which neither BALP's Create (subtype create) nor its Update (action U) fits.
TEST(FhirAuditEvent, AVersionReadIsAVreadAndAPutThatCreatesIsAnUpdateThatCreated) {
  AuditEvent e = event();
  e.path = "/fhir/Patient/p1/_history/2";
  e.entities = "Patient/p1/_history/2";
  Rendered vread = render(e);
  EXPECT_EQ(vread.interaction, "vread");
  EXPECT_EQ(vread.action, "R");
  EXPECT_EQ(vread.profiles, (std::vector<std::string>{kBalp + "IHE.BasicAudit.Read", kBalp + "IHE.BasicAudit.PatientRead"}));
  e = event();
  e.action = "create";
  e.method = "PUT";
  e.httpStatus = 201;
  e.entities = "Patient/p1/_history/1";
  Rendered put = render(e);
  EXPECT_EQ(put.interaction, "update");
  EXPECT_EQ(put.action, "C");
  EXPECT_FALSE(put.hasMeta);
  EXPECT_EQ(put.references, (std::vector<std::string>{"Patient/p1", "Patient/p1/_history/1"}));
  // A POST is FHIR's create.
  e.method = "POST";
  Rendered post = render(e);
  EXPECT_EQ(post.interaction, "create");
  EXPECT_EQ(post.profiles, (std::vector<std::string>{kBalp + "IHE.BasicAudit.Create", kBalp + "IHE.BasicAudit.PatientCreate"}));
}

TEST(FhirAuditEvent, ReadsAndSearchesClaimBalpOnlyWhenTheySucceeded) {
  AuditEvent e = event();
  Rendered read = render(e);
  EXPECT_EQ(read.interaction, "read");
  EXPECT_EQ(read.action, "R");
  EXPECT_EQ(read.profiles, (std::vector<std::string>{kBalp + "IHE.BasicAudit.Read", kBalp + "IHE.BasicAudit.PatientRead"}));
  // The patient, and the resource read as BALP's data entity (here the same Patient).
  EXPECT_EQ(read.references, (std::vector<std::string>{"Patient/p1", "Patient/p1"}));
  for (const std::string action : {"search", "query", "audit-query"}) {
    e.action = action;
    Rendered search = render(e);
    EXPECT_EQ(search.interaction, "search-type") << action;
    EXPECT_EQ(search.action, "E") << action;
    EXPECT_EQ(search.profiles,
              (std::vector<std::string>{kBalp + "IHE.BasicAudit.Query", kBalp + "IHE.BasicAudit.PatientQuery"}))
        << action;
  }
  // BALP's RESTful profiles fix outcome 0: a refusal or an error follows the same pattern and claims none.
  e = event();
  e.outcome = "denied";
  e.outcomeReason = "no_grant";
  e.httpStatus = 403;
  e.entities.clear();
  EXPECT_FALSE(render(e).hasMeta);
  e.action = "search";
  EXPECT_FALSE(render(e).hasMeta);
  // Without the caller's address BALP's client agent (network 1..1) cannot be filled: no claim.
  e = event();
  e.remoteAddress.clear();
  EXPECT_FALSE(render(e).hasMeta);
  // Actions BALP has no pattern for.
  for (const std::string action : {"capabilities", "peer-call", "witness", "witness-submit"}) {
    e = event();
    e.action = action;
    EXPECT_FALSE(render(e).hasMeta) << action;
  }
}

Object::Ptr renderObject(const AuditEvent& e, FhirAuditView view = FhirAuditView::kTrail) {
  auto text = fhirAuditEvent(TrailEntry::fromLeaf("hie-node/node-a/audit", 5, canonicalJson(leafObject(e, "node-a", 5))), view);
  EXPECT_TRUE(text) << text.error().internal;
  return text ? parse(*text) : Object::Ptr(new Object);
}

std::string str(const Poco::Dynamic::Var& v) {
  std::ostringstream out;
  Poco::JSON::Stringifier::stringify(v, out);
  return out.str();
}

std::string agentCode(const Object::Ptr& event, std::size_t i) {
  return event->getArray("agent")->getObject(i)->getObject("type")->getArray("coding")->getObject(0)->getValue<std::string>("code");
}

// BALP's agent types: Read has the client as Destination and the server as Source (the data flows
// to the client), Query/Create/Update the reverse, Delete the client as Application and the server
// as Custodian. Both agents carry a network: the caller's IP address from the TCP connection, and
// this node's node.id as a name (type 1): the signed entry holds no address of the node.
TEST(FhirAuditEvent, AgentsFollowTheRolesOfEachBalpPattern) {
  AuditEvent e = event();
  auto read = renderObject(e);
  EXPECT_EQ(agentCode(read, 0), "110152");
  EXPECT_EQ(agentCode(read, 1), "110153");
  auto client = read->getArray("agent")->getObject(0);
  EXPECT_EQ(str(client->get("network")), R"({"address":"192.0.2.7","type":"2"})");
  EXPECT_TRUE(client->getValue<bool>("requestor"));
  EXPECT_EQ(str(read->getArray("agent")->getObject(1)->get("network")), R"({"address":"node-a","type":"1"})");
  e.action = "search";
  auto search = renderObject(e);
  EXPECT_EQ(agentCode(search, 0), "110153");
  EXPECT_EQ(agentCode(search, 1), "110152");
  e.action = "delete";
  auto del = renderObject(e);
  EXPECT_EQ(agentCode(del, 0), "110150");
  EXPECT_EQ(agentCode(del, 1), "custodian");
  // An IPv6 caller: the address without brackets and port; the whole of it is a detail.
  e.remoteAddress = "[2001:db8::7]:50412";
  auto v6 = renderObject(e);
  EXPECT_EQ(v6->getArray("agent")->getObject(0)->getObject("network")->getValue<std::string>("address"), "2001:db8::7");
  EXPECT_EQ(details(v6)["remoteAddress"], "[2001:db8::7]:50412");
  // A peer call: the organization on whose behalf (requestor, no transfer role, no address: it
  // did not connect), this node sending the query, the peer receiving it, with no address (the
  // entry holds none, which is why a peer call claims no profile).
  e = event();
  e.action = "peer-call";
  e.remoteAddress.clear();
  e.peerOrganization = "urn:oid:1.3";
  auto peer = renderObject(e);
  EXPECT_FALSE(peer->has("meta"));
  auto agents = peer->getArray("agent");
  ASSERT_EQ(agents->size(), 3u);
  EXPECT_FALSE(agents->getObject(0)->has("type"));
  EXPECT_TRUE(agents->getObject(0)->getValue<bool>("requestor"));
  EXPECT_FALSE(agents->getObject(0)->has("network"));
  EXPECT_EQ(agentCode(peer, 1), "110153");
  EXPECT_EQ(str(agents->getObject(1)->get("network")), R"({"address":"node-a","type":"1"})");
  EXPECT_EQ(agentCode(peer, 2), "110152");
  EXPECT_EQ(str(agents->getObject(2)->get("who")), R"({"identifier":{"system":"urn:ietf:rfc:3986","value":"urn:oid:1.3"}})");
  EXPECT_FALSE(agents->getObject(2)->getValue<bool>("requestor"));
  EXPECT_FALSE(agents->getObject(2)->has("network"));
}

// A search: the resources returned typed by their FHIR type, and BALP's query entity (System Object,
// role Query) holding the request as far as the signed entry has it (method, path and the patient
// parameter), base64 in `query` and readable in `description`, with no what and no detail.
TEST(FhirAuditEvent, ASearchHasBalpsQueryEntity) {
  AuditEvent e = event();
  e.action = "search";
  e.path = "/fhir/Observation";
  e.resourceType = "Observation";
  e.entities = "Observation/o1,Observation/o2";
  auto out = renderObject(e);
  auto entities = out->getArray("entity");
  ASSERT_EQ(entities->size(), 5u);
  EXPECT_EQ(str(entities->getObject(0)->get("type")), R"({"code":"1","display":"Person","system":"http://terminology.hl7.org/CodeSystem/audit-entity-type"})");
  EXPECT_EQ(str(entities->getObject(1)->get("type")), R"({"code":"Observation","system":"http://hl7.org/fhir/resource-types"})");
  auto query = entities->getObject(3);
  EXPECT_EQ(query->getObject("role")->getValue<std::string>("code"), "24");
  EXPECT_EQ(query->getObject("type")->getValue<std::string>("code"), "2");
  EXPECT_EQ(query->getValue<std::string>("description"), "GET /fhir/Observation?patient=p1");
  EXPECT_EQ(query->getValue<std::string>("query"), "R0VUIC9maGlyL09ic2VydmF0aW9uP3BhdGllbnQ9cDE=");
  EXPECT_FALSE(query->has("what"));
  EXPECT_FALSE(query->has("detail"));
  EXPECT_EQ(entities->getObject(4)->getObject("type")->getValue<std::string>("code"), "XrequestId");
  auto queryOf = [](const Object::Ptr& out) {
    auto list = out->getArray("entity");
    for (std::size_t i = 0; i < list->size(); ++i) {
      auto role = list->getObject(i)->getObject("role");
      if (role && role->getValue<std::string>("code") == "24") return list->getObject(i);
    }
    return Object::Ptr(new Object);
  };
  // By identifier, percent-encoded as a query value: `patient.identifier` on /exchange and other types,
  // `identifier` on Patient; by id on Patient: `_id`.
  e.action = "query";
  e.path = "/exchange/Patient";
  e.patient.clear();
  e.patientQuery = "urn:oid:2.16.840.1.113883.3.7000.1|NET-1001";
  auto exchange = queryOf(renderObject(e));
  EXPECT_EQ(exchange->getValue<std::string>("description"),
            "GET /exchange/Patient?patient.identifier=urn:oid:2.16.840.1.113883.3.7000.1%7CNET-1001");
  EXPECT_EQ(exchange->getValue<std::string>("query"),
            "R0VUIC9leGNoYW5nZS9QYXRpZW50P3BhdGllbnQuaWRlbnRpZmllcj11cm46b2lkOjIuMTYuODQwLjEuMTEzODgzLjMuNzAwMC4xJTdDTkVULTEwMDE=");
  e.action = "search";
  e.path = "/fhir/Patient";
  EXPECT_EQ(queryOf(renderObject(e))->getValue<std::string>("description"),
            "GET /fhir/Patient?identifier=urn:oid:2.16.840.1.113883.3.7000.1%7CNET-1001");
  e.patientQuery.clear();
  e.patient = "Patient/p1";
  EXPECT_EQ(queryOf(renderObject(e))->getValue<std::string>("description"), "GET /fhir/Patient?_id=p1");
  // No patient parameter (an audit read of the whole trail): the method and path only.
  e.action = "audit-query";
  e.path = "/audit/AuditEvent";
  e.patient.clear();
  EXPECT_EQ(queryOf(renderObject(e))->getValue<std::string>("description"), "GET /audit/AuditEvent");
}

// BALP's PatientQuery is for a search naming its patient "by a Patient id or identifier": an
// /exchange query (the peers' patients have no id here) and a local search by identifier that
// found nobody name the patient by the identifier searched for, a typed logical reference, and
// claim PatientQuery; a search that found the patient names it by reference and identifier.
TEST(FhirAuditEvent, ASearchByPatientIdentifierIsAPatientQuery) {
  AuditEvent e = event();
  e.action = "query";
  e.method = "GET";
  e.path = "/exchange/Patient";
  e.patient.clear();
  e.patientQuery = "urn:oid:2.16.840.1.113883.3.7000.1|NET-1001";
  e.entities = "urn:oid:1.3#Patient/x";
  auto out = renderObject(e);
  EXPECT_EQ(str(out->getObject("meta")->get("profile")),
            R"(["https://profiles.ihe.net/ITI/BALP/StructureDefinition/IHE.BasicAudit.Query","https://profiles.ihe.net/ITI/BALP/StructureDefinition/IHE.BasicAudit.PatientQuery"])");
  auto patient = out->getArray("entity")->getObject(0);
  EXPECT_EQ(str(patient->get("what")),
            R"({"identifier":{"system":"urn:oid:2.16.840.1.113883.3.7000.1","value":"NET-1001"},"type":"Patient"})");
  EXPECT_EQ(patient->getObject("type")->getValue<std::string>("code"), "1");
  EXPECT_EQ(patient->getObject("role")->getValue<std::string>("code"), "1");
  // What the peer returned: not a reference with '#' (a contained resource), but the resource's type
  // and its "Type/id" as an identifier of the peer's organization.
  auto returned = out->getArray("entity")->getObject(1);
  EXPECT_EQ(str(returned->get("what")), R"({"identifier":{"system":"urn:oid:1.3","value":"Patient/x"},"type":"Patient"})");
  EXPECT_EQ(str(returned->get("type")), R"({"code":"Patient","system":"http://hl7.org/fhir/resource-types"})");
  EXPECT_EQ(returned->getObject("role")->getValue<std::string>("code"), "4");
  // A local search by identifier that matched nothing: the same.
  e.action = "search";
  e.path = "/fhir/Patient";
  e.entities.clear();
  auto none = renderObject(e);
  EXPECT_EQ(str(none->getObject("meta")->get("profile")), str(out->getObject("meta")->get("profile")));
  EXPECT_EQ(str(none->getArray("entity")->getObject(0)->get("what")), str(patient->get("what")));
  // One that found the patient: the reference, and the identifier it was found by.
  e.patient = "Patient/p1";
  e.entities = "Patient/p1";
  auto found = renderObject(e);
  EXPECT_EQ(str(found->getArray("entity")->getObject(0)->get("what")),
            R"({"identifier":{"system":"urn:oid:2.16.840.1.113883.3.7000.1","value":"NET-1001"},"reference":"Patient/p1"})");
  // A malformed identifier names no patient: Query only.
  e.patient.clear();
  e.patientQuery = "NET-1001";
  EXPECT_EQ(str(renderObject(e)->getObject("meta")->get("profile")),
            R"(["https://profiles.ihe.net/ITI/BALP/StructureDefinition/IHE.BasicAudit.Query"])");
}

// /audit/disclosures: a successful read or search of a patient's data as BALP's
// PrivacyDisclosure.Source: an Export by this node (agent Source, the same as source.observer) to
// the caller (agent Destination), subtype disclose and the interaction, its own id.
TEST(FhirAuditEvent, ADisclosureIsAnExportAtTheSource) {
  AuditEvent e = event();
  auto trail = renderObject(e);
  auto out = renderObject(e, FhirAuditView::kDisclosure);
  EXPECT_EQ(out->getValue<std::string>("id"), trail->getValue<std::string>("id") + "-disclosure");
  EXPECT_EQ(str(out->getObject("meta")->get("profile")),
            R"(["https://profiles.ihe.net/ITI/BALP/StructureDefinition/IHE.BasicAudit.PrivacyDisclosure.Source"])");
  EXPECT_EQ(out->getObject("type")->getValue<std::string>("code"), "110106");
  EXPECT_EQ(out->getValue<std::string>("action"), "R");
  auto subtype = out->getArray("subtype");
  ASSERT_EQ(subtype->size(), 2u);
  EXPECT_EQ(subtype->getObject(0)->getValue<std::string>("code"), "read");
  EXPECT_EQ(subtype->getObject(1)->getValue<std::string>("code"), "disclose");
  EXPECT_EQ(agentCode(out, 0), "110152");  // the recipient: the caller
  EXPECT_EQ(agentCode(out, 1), "110153");  // the source: this node
  EXPECT_EQ(str(out->getArray("agent")->getObject(1)->get("who")), str(out->getObject("source")->get("observer")));
  // The patient, then what was disclosed (the Patient itself is not repeated), then the request.
  EXPECT_EQ(out->getArray("entity")->size(), 2u);
  e.action = "search";
  e.entities = "Patient/p1,Observation/o1";
  auto search = renderObject(e, FhirAuditView::kDisclosure);
  EXPECT_EQ(search->getArray("subtype")->getObject(0)->getValue<std::string>("code"), "search-type");
  EXPECT_EQ(search->getArray("entity")->getObject(1)->getObject("what")->getValue<std::string>("reference"), "Observation/o1");
  // A patient not named by a Patient reference (never written today) is no PrivacyDisclosure.Source,
  // whose patient entity is a Reference(Patient), and renders as in the trail.
  e.patient = "Group/g1";
  EXPECT_EQ(str(renderObject(e, FhirAuditView::kDisclosure)), str(renderObject(e)));
  e.patient = "Patient/p1";
  // What is not a disclosure renders as in the trail.
  e.outcome = "denied";
  e.outcomeReason = "no_grant";
  EXPECT_EQ(str(renderObject(e, FhirAuditView::kDisclosure)), str(renderObject(e)));
}

// A refused handshake: DICOM PS3.15 A.5.3.11 (BALP has no profile for it): Security Alert, Node
// Authentication, action E; the party that tried is a performing participant (not the requestor),
// the node reports; the Alert Subject is that party's node (by IP address) with the Alert Description.
TEST(FhirAuditEvent, ARefusedHandshakeIsADicomSecurityAlert) {
  AuditEvent e;
  e.time = "2026-11-26T10:00:00.123Z";
  e.eventType = "security-alert";
  e.action = "node-authentication";
  e.outcome = "denied";
  e.outcomeReason = "certificate_untrusted: unable to get local issuer certificate";
  e.remoteAddress = "192.0.2.9:40000";
  e.subjectDn = "CN=intruder";
  auto out = renderObject(e);
  EXPECT_FALSE(out->has("meta"));
  EXPECT_EQ(out->getObject("type")->getValue<std::string>("code"), "110113");
  EXPECT_EQ(out->getArray("subtype")->getObject(0)->getValue<std::string>("code"), "110126");
  EXPECT_EQ(out->getValue<std::string>("action"), "E");
  EXPECT_EQ(out->getValue<std::string>("outcome"), "4");
  EXPECT_FALSE(out->getArray("agent")->getObject(0)->getValue<bool>("requestor"));
  EXPECT_FALSE(out->getArray("agent")->getObject(1)->getValue<bool>("requestor"));
  // No data-transfer role types (DICOM's alert has a reporting process and performing participants);
  // no organization was admitted: the party is named by its certificate subject, with no identifier.
  EXPECT_FALSE(out->getArray("agent")->getObject(0)->has("type"));
  EXPECT_FALSE(out->getArray("agent")->getObject(1)->has("type"));
  EXPECT_EQ(str(out->getArray("agent")->getObject(0)->get("who")), R"({"display":"CN=intruder"})");
  e.subjectDn.clear();
  EXPECT_EQ(str(renderObject(e)->getArray("agent")->getObject(0)->get("who")), R"({"display":"unidentified"})");
  e.subjectDn = "CN=intruder";
  auto entities = out->getArray("entity");
  ASSERT_EQ(entities->size(), 1u);
  EXPECT_EQ(str(entities->getObject(0)->getObject("what")),
            R"({"identifier":{"type":{"coding":[{"code":"110182","display":"Node ID","system":"http://dicom.nema.org/resources/ontology/DCM"}]},"value":"192.0.2.9"}})");
  EXPECT_EQ(details(out)["Alert Description"], "certificate_untrusted: unable to get local issuer certificate");
  // Never shown as a disclosure.
  EXPECT_EQ(str(renderObject(e, FhirAuditView::kDisclosure)), str(out));
}

// The same entry renders to the same bytes, every time.
TEST(FhirAuditEvent, TheRenderingIsDeterministic) {
  const TrailEntry entry = TrailEntry::fromLeaf("o", 9, canonicalJson(leafObject(event(), "node-a", 9)));
  for (auto view : {FhirAuditView::kTrail, FhirAuditView::kDisclosure}) {
    auto a = fhirAuditEvent(entry, view), b = fhirAuditEvent(entry, view);
    ASSERT_TRUE(a && b);
    EXPECT_EQ(*a, *b);
  }
  EXPECT_EQ(*fhirAuditEvent(entry), *fhirAuditEvent(entry, FhirAuditView::kTrail));
}

}  // namespace
}  // namespace hie::audit
