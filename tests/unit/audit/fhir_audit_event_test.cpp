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
// Create/Update/Delete (and their Patient profiles when a patient is named); a transaction or batch
// Bundle is E with its own restful-interaction and no BALP profile (BALP has none for a Bundle).
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
    e.entities = "Patient/p1/_history/2,Observation/o1/_history/1";
    e.resultCount = 2;
    Rendered with = render(e);
    EXPECT_EQ(with.interaction, c.interaction) << c.action;
    EXPECT_EQ(with.action, c.code) << c.action;
    EXPECT_EQ(with.profiles, c.withPatient) << c.action;
    EXPECT_EQ(with.hasMeta, !c.withPatient.empty()) << c.action;
    // The patient first (role Patient), then every version written.
    EXPECT_EQ(with.references, (std::vector<std::string>{"Patient/p1", "Patient/p1/_history/2", "Observation/o1/_history/1"}))
        << c.action;
    e.patient.clear();
    Rendered without = render(e);
    EXPECT_EQ(without.profiles, c.withoutPatient) << c.action;
    EXPECT_EQ(without.action, c.code) << c.action;
  }
}

TEST(FhirAuditEvent, ReadsAndSearchesKeepTheirMapping) {
  AuditEvent e = event();
  Rendered read = render(e);
  EXPECT_EQ(read.interaction, "read");
  EXPECT_EQ(read.action, "R");
  EXPECT_EQ(read.profiles, (std::vector<std::string>{kBalp + "IHE.BasicAudit.Read", kBalp + "IHE.BasicAudit.PatientRead"}));
  e.action = "search";
  Rendered search = render(e);
  EXPECT_EQ(search.interaction, "search-type");
  EXPECT_EQ(search.action, "E");
  EXPECT_EQ(search.profiles,
            (std::vector<std::string>{kBalp + "IHE.BasicAudit.Query", kBalp + "IHE.BasicAudit.PatientQuery"}));
}

}  // namespace
}  // namespace hie::audit
