// The leaf shapes (docs/audit-format.md, "Keys"): this version writes 34 keys (the UDAP
// authentication and clientId since issue 17); readers take 27, 32 or 34 and nothing in between;
// the renderings carry the UDAP client.
#include <gtest/gtest.h>

#include <map>
#include <string>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include "audit/atna_message.h"
#include "audit/canonical_form.h"
#include "audit/fhir_audit_event.h"
#include "audit/log_verifier.h"
#include "audit/merkle.h"

namespace hie::audit {
namespace {

AuditEvent udapRead() {
  AuditEvent e;
  e.time = "2026-12-02T10:00:00.123Z";
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
  e.purpose = "TREAT";
  e.httpStatus = 200;
  e.requestId = "req-1";
  e.remoteAddress = "192.0.2.7:50412";
  e.signatureCheck = "absent";
  e.authentication = "mtls+udap";
  e.clientId = "Zm9vYmFyYmF6cXV4";
  return e;
}

CanonicalObject withoutKeys(CanonicalObject o, std::initializer_list<const char*> keys) {
  for (const char* k : keys) o.erase(k);
  return o;
}

TEST(LeafShape, ThisVersionWrites34KeysWithAuthenticationAndClientId) {
  const CanonicalObject leaf = leafObject(udapRead(), "node-a", 7);
  EXPECT_EQ(leaf.size(), kLeafKeysUdap);
  EXPECT_EQ(std::get<std::string>(leaf.at("authentication")), "mtls+udap");
  EXPECT_EQ(std::get<std::string>(leaf.at("clientId")), "Zm9vYmFyYmF6cXV4");
  const std::string text = canonicalJson(leaf);
  EXPECT_NE(text.find(",\"authentication\":\"mtls+udap\",\"breakGlass\":false,"), std::string::npos) << text;
  EXPECT_NE(text.find(",\"clientId\":\"Zm9vYmFyYmF6cXV4\","), std::string::npos) << text;
  EXPECT_EQ(canonicalKeyCount(text), std::optional<std::size_t>(34));
  // A plain mTLS request and a handshake: the keys are there, with "mtls" and "" as values.
  AuditEvent plain = udapRead();
  plain.authentication = "mtls";
  plain.clientId.clear();
  EXPECT_NE(canonicalJson(leafObject(plain, "node-a", 8)).find("\"authentication\":\"mtls\",\"breakGlass\""),
            std::string::npos);
  AuditEvent handshake;
  EXPECT_NE(canonicalJson(leafObject(handshake, "node-a", 9)).find("\"authentication\":\"\",\"breakGlass\""),
            std::string::npos);
}

TEST(LeafShape, ReadersAccept27And32And34KeysAndNothingElse) {
  const CanonicalObject current = leafObject(udapRead(), "node-a", 7);
  const CanonicalObject beforeUdap = withoutKeys(current, {"authentication", "clientId"});
  const CanonicalObject beforeSignatures =
      withoutKeys(beforeUdap, {"requestSignature", "requestSignatureBase", "responseSignature", "responseSignatureBase",
                               "signatureCheck"});
  ASSERT_EQ(beforeUdap.size(), 32u);
  ASSERT_EQ(beforeSignatures.size(), 27u);
  EXPECT_TRUE(leafShapeValid(canonicalJson(current)));
  EXPECT_TRUE(leafShapeValid(canonicalJson(beforeUdap)));
  EXPECT_TRUE(leafShapeValid(canonicalJson(beforeSignatures)));
  // 33 (one UDAP key only), 35, 31, 26: no version wrote them.
  EXPECT_FALSE(leafShapeValid(canonicalJson(withoutKeys(current, {"clientId"}))));
  CanonicalObject more = current;
  more.emplace("zzz", CanonicalValue(std::string("x")));
  EXPECT_FALSE(leafShapeValid(canonicalJson(more)));
  EXPECT_FALSE(leafShapeValid(canonicalJson(withoutKeys(beforeUdap, {"signatureCheck"}))));
  EXPECT_FALSE(leafShapeValid(canonicalJson(withoutKeys(beforeSignatures, {"time"}))));
  // Not an object of plain values.
  EXPECT_FALSE(canonicalKeyCount("[]"));
  EXPECT_FALSE(canonicalKeyCount("{\"a\":{\"b\":1}}"));
  EXPECT_FALSE(canonicalKeyCount("{\"a\":\"x\",}"));
  EXPECT_FALSE(canonicalKeyCount("{\"a\":\"x"));
  // A ':' or ',' or '}' inside a string value is no key.
  EXPECT_EQ(canonicalKeyCount("{\"a\":\"x:y,z}\\\"q\",\"b\":1}"), std::optional<std::size_t>(2));
  EXPECT_EQ(canonicalKeyCount("{}"), std::optional<std::size_t>(0));
}

TEST(LeafShape, TheLogVerifierReportsALeafOfNoShape) {
  auto run = [](const std::string& leaf) {
    LogVerifier v("hie-node/node-a/audit", note::VerifierKey{}, {});
    const merkle::Hash hash = merkle::leafHash(leaf);
    v.leaf(0, leaf, merkle::toBytes(hash), "");
    std::vector<std::string> kinds;
    for (const auto& p : v.problems()) kinds.push_back(problemKindName(p.kind));
    return kinds;
  };
  const CanonicalObject current = leafObject(udapRead(), "node-a", 0);
  auto has = [](const std::vector<std::string>& kinds, const std::string& kind) {
    return std::find(kinds.begin(), kinds.end(), kind) != kinds.end();
  };
  EXPECT_FALSE(has(run(canonicalJson(current)), "leaf-shape"));
  EXPECT_FALSE(has(run(canonicalJson(withoutKeys(current, {"authentication", "clientId"}))), "leaf-shape"));
  EXPECT_TRUE(has(run(canonicalJson(withoutKeys(current, {"clientId"}))), "leaf-shape"));
}

TEST(LeafShape, FhirRenderingNamesTheUdapClientAsTheRequestorsAltId) {
  const TrailEntry entry = TrailEntry::fromLeaf("hie-node/node-a/audit", 7, canonicalJson(leafObject(udapRead(), "node-a", 7)));
  auto rendered = fhirAuditEvent(entry);
  ASSERT_TRUE(rendered) << rendered.error().internal;
  Poco::JSON::Parser parser;
  auto event = parser.parse(*rendered).extract<Poco::JSON::Object::Ptr>();
  auto requestor = event->getArray("agent")->getObject(0);
  EXPECT_EQ(requestor->getValue<std::string>("altId"), "Zm9vYmFyYmF6cXV4");
  // who stays the organization.
  EXPECT_EQ(requestor->getObject("who")->getObject("identifier")->getValue<std::string>("value"),
            "urn:oid:2.16.840.1.113883.3.7001");
  std::map<std::string, std::string> details;
  auto entities = event->getArray("entity");
  auto list = entities->getObject(entities->size() - 1)->getArray("detail");
  for (std::size_t i = 0; i < list->size(); ++i) {
    details[list->getObject(i)->getValue<std::string>("type")] = list->getObject(i)->getValue<std::string>("valueString");
  }
  EXPECT_EQ(details["authentication"], "mtls+udap");
  EXPECT_EQ(details["clientId"], "Zm9vYmFyYmF6cXV4");
  // Without a client: no altId (a 32-key leaf has neither key).
  const TrailEntry old = TrailEntry::fromLeaf(
      "hie-node/node-a/audit", 8,
      canonicalJson(withoutKeys(leafObject(udapRead(), "node-a", 8), {"authentication", "clientId"})));
  auto before = fhirAuditEvent(old);
  ASSERT_TRUE(before);
  EXPECT_EQ(before->find("altId"), std::string::npos);
  EXPECT_EQ(before->find("\"authentication\""), std::string::npos);
}

TEST(LeafShape, DicomMessageNamesTheUdapClientAsAlternativeUserId) {
  const TrailEntry entry = TrailEntry::fromLeaf("hie-node/node-a/audit", 7, canonicalJson(leafObject(udapRead(), "node-a", 7)));
  auto xml = dicomAuditMessage(entry);
  ASSERT_TRUE(xml) << xml.error().internal;
  EXPECT_NE(xml->find("<ActiveParticipant UserID=\"urn:oid:2.16.840.1.113883.3.7001\" UserIsRequestor=\"true\" "
                      "AlternativeUserID=\"Zm9vYmFyYmF6cXV4\""),
            std::string::npos)
      << *xml;
  EXPECT_NE(xml->find("type=\"clientId\""), std::string::npos);
  EXPECT_NE(xml->find("type=\"authentication\""), std::string::npos);
}

}  // namespace
}  // namespace hie::audit
