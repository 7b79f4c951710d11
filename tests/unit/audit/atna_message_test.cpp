// ATNA (ITI-20) messages of a v2 leaf: the DICOM audit message parses back as XML with the
// entry's fields, hostile strings stay valid XML 1.0, the syslog header and structured data name
// the leaf (origin, index, leaf hash), and the frame counts octets.
#include "audit/atna_message.h"

#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <Poco/AutoPtr.h>
#include <Poco/DOM/DOMParser.h>
#include <Poco/DOM/Document.h>
#include <Poco/DOM/Element.h>
#include <Poco/DOM/NodeList.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include "audit/canonical_form.h"
#include "common/base64.h"
#include "common/digest.h"

namespace hie::audit {
namespace {

using Poco::XML::Element;

AuditEvent event() {
  AuditEvent e;
  e.time = "2026-11-26T10:00:00.123Z";
  e.eventType = "rest";
  e.action = "read";
  e.outcome = "success";
  e.organization = "urn:oid:2.16.840.1.113883.3.7001";
  e.subjectDn = "CN=Lakeside,O=Lakeside Clinic";
  e.remoteAddress = "192.0.2.7:50412";
  e.method = "GET";
  e.path = "/fhir/Patient/p1";
  e.resourceType = "Patient";
  e.resourceId = "p1";
  e.patient = "Patient/p1";
  e.entities = "Patient/p1,Observation/o1";
  e.purpose = "ETREAT";
  e.breakGlass = true;
  e.httpStatus = 200;
  e.requestId = "req-1";
  return e;
}

TrailEntry leafEntry(const AuditEvent& e, std::uint64_t index = 41) {
  return TrailEntry::fromLeaf("hie-node/node-a/audit", static_cast<std::int64_t>(index),
                              canonicalJson(leafObject(e, "node-a", index)));
}

struct Parsed {
  Poco::AutoPtr<Poco::XML::Document> doc;
  Element* root = nullptr;
  std::vector<Element*> all(const std::string& name) const {
    std::vector<Element*> out;
    Poco::AutoPtr<Poco::XML::NodeList> list = doc->getElementsByTagName(name);
    for (unsigned long i = 0; i < list->length(); ++i) out.push_back(static_cast<Element*>(list->item(i)));
    return out;
  }
  Element* one(const std::string& name) const {
    auto v = all(name);
    return v.empty() ? nullptr : v.front();
  }
};

Parsed parseXml(const std::string& xml) {
  Poco::XML::DOMParser parser;
  Parsed p;
  p.doc = parser.parseString(xml);
  p.root = p.doc->documentElement();
  return p;
}

// The role code of an ActiveParticipant.
std::string roleCode(Element* participant) {
  Poco::AutoPtr<Poco::XML::NodeList> list = participant->getElementsByTagName("RoleIDCode");
  return list->length() == 0 ? std::string() : static_cast<Element*>(list->item(0))->getAttribute("csd-code");
}

std::map<std::string, std::string> details(const Parsed& p) {
  std::map<std::string, std::string> out;
  for (Element* d : p.all("ParticipantObjectDetail")) {
    std::string value;
    EXPECT_TRUE(base64Decode(d->getAttribute("value"), value)) << d->getAttribute("value");
    out[d->getAttribute("type")] = value;
  }
  return out;
}

TEST(AtnaMessage, DicomAuditMessageCarriesTheEntrysFields) {
  const TrailEntry entry = leafEntry(event());
  auto xml = dicomAuditMessage(entry);
  ASSERT_TRUE(xml) << xml.error().internal;
  Parsed p = parseXml(*xml);
  ASSERT_EQ(p.root->nodeName(), "AuditMessage");

  Element* ev = p.one("EventIdentification");
  ASSERT_NE(ev, nullptr);
  EXPECT_EQ(ev->getAttribute("EventActionCode"), "R");
  EXPECT_EQ(ev->getAttribute("EventDateTime"), "2026-11-26T10:00:00.123Z");
  EXPECT_EQ(ev->getAttribute("EventOutcomeIndicator"), "0");
  EXPECT_EQ(p.one("EventID")->getAttribute("csd-code"), "110110");
  EXPECT_EQ(p.one("EventID")->getAttribute("codeSystemName"), "DCM");
  EXPECT_EQ(p.one("EventTypeCode")->getAttribute("csd-code"), "read");
  auto purposes = p.all("PurposeOfUse");
  ASSERT_EQ(purposes.size(), 2u);
  EXPECT_EQ(purposes[0]->getAttribute("csd-code"), "ETREAT");
  EXPECT_EQ(purposes[0]->getAttribute("codeSystemName"), "2.16.840.1.113883.5.8");
  EXPECT_EQ(purposes[1]->getAttribute("csd-code"), "BTG");

  auto participants = p.all("ActiveParticipant");
  ASSERT_EQ(participants.size(), 2u);
  EXPECT_EQ(participants[0]->getAttribute("UserID"), "urn:oid:2.16.840.1.113883.3.7001");
  EXPECT_EQ(participants[0]->getAttribute("UserIsRequestor"), "true");
  EXPECT_EQ(participants[0]->getAttribute("UserName"), "CN=Lakeside,O=Lakeside Clinic");
  EXPECT_EQ(participants[0]->getAttribute("NetworkAccessPointID"), "192.0.2.7");
  EXPECT_EQ(participants[0]->getAttribute("NetworkAccessPointTypeCode"), "2");
  EXPECT_EQ(roleCode(participants[0]), "110153");
  EXPECT_EQ(participants[1]->getAttribute("UserID"), "node-a");
  EXPECT_EQ(participants[1]->getAttribute("UserIsRequestor"), "false");
  EXPECT_EQ(roleCode(participants[1]), "110152");

  Element* source = p.one("AuditSourceIdentification");
  ASSERT_NE(source, nullptr);
  EXPECT_EQ(source->getAttribute("AuditSourceID"), "node-a");
  EXPECT_EQ(source->getAttribute("AuditEnterpriseSiteID"), "hie-node/node-a/audit");
  EXPECT_EQ(p.one("AuditSourceTypeCode")->getAttribute("csd-code"), "4");

  auto objects = p.all("ParticipantObjectIdentification");
  ASSERT_EQ(objects.size(), 3u);  // the patient, the other resource, the request
  EXPECT_EQ(objects[0]->getAttribute("ParticipantObjectID"), "Patient/p1");
  EXPECT_EQ(objects[0]->getAttribute("ParticipantObjectTypeCode"), "1");
  EXPECT_EQ(objects[0]->getAttribute("ParticipantObjectTypeCodeRole"), "1");
  EXPECT_EQ(objects[1]->getAttribute("ParticipantObjectID"), "Observation/o1");
  EXPECT_EQ(objects[1]->getAttribute("ParticipantObjectTypeCodeRole"), "4");
  EXPECT_EQ(objects[2]->getAttribute("ParticipantObjectID"), "req-1");
  auto d = details(p);
  EXPECT_EQ(d["origin"], "hie-node/node-a/audit");
  EXPECT_EQ(d["index"], "41");
  EXPECT_EQ(d["hash"], sha256Hex(std::string(1, '\0') + entry.text));
  EXPECT_EQ(d["method"], "GET");
  EXPECT_EQ(d["path"], "/fhir/Patient/p1");
  EXPECT_EQ(d["httpStatus"], "200");
}

TEST(AtnaMessage, RefusalsAndHandshakesMapToTheirCodes) {
  AuditEvent denied = event();
  denied.outcome = "denied";
  denied.outcomeReason = "no_grant";
  denied.httpStatus = 403;
  denied.breakGlass = false;
  denied.action = "search";
  auto xml = dicomAuditMessage(leafEntry(denied));
  ASSERT_TRUE(xml);
  Parsed p = parseXml(*xml);
  EXPECT_EQ(p.one("EventIdentification")->getAttribute("EventOutcomeIndicator"), "4");
  EXPECT_EQ(p.one("EventIdentification")->getAttribute("EventActionCode"), "E");
  EXPECT_EQ(p.one("EventID")->getAttribute("csd-code"), "110112");
  EXPECT_EQ(p.one("EventOutcomeDescription")->innerText(), "denied: no_grant");
  EXPECT_EQ(p.all("PurposeOfUse").size(), 1u);

  AuditEvent handshake;
  handshake.time = "2026-11-26T10:00:01.000Z";
  handshake.eventType = "security-alert";
  handshake.action = "node-authentication";
  handshake.outcome = "denied";
  handshake.outcomeReason = "certificate_untrusted";
  handshake.remoteAddress = "[2001:db8::7]:50412";
  xml = dicomAuditMessage(leafEntry(handshake, 2));
  ASSERT_TRUE(xml);
  p = parseXml(*xml);
  EXPECT_EQ(p.one("EventID")->getAttribute("csd-code"), "110113");
  EXPECT_EQ(p.one("EventTypeCode")->getAttribute("csd-code"), "110126");
  EXPECT_EQ(p.all("ActiveParticipant")[0]->getAttribute("UserID"), "unidentified");
  EXPECT_EQ(p.all("ActiveParticipant")[0]->getAttribute("NetworkAccessPointID"), "2001:db8::7");
}

TEST(AtnaMessage, HostileStringsStayValidXml) {
  AuditEvent e = event();
  // What a peer controls: the purpose header and the path; the leaf stores them %XX-encoded
  // except printable ASCII, which includes XML's special characters.
  e.purpose = "TREAT\"/><Injected a='1'>&amp;\x01\x7f\xff";
  e.path = "/fhir/Patient/]]><x>\"'&";
  e.requestId = "a<b>&\"'";
  auto xml = dicomAuditMessage(leafEntry(e));
  ASSERT_TRUE(xml);
  Parsed p = parseXml(*xml);  // throws on malformed XML
  EXPECT_TRUE(p.all("Injected").empty());
  EXPECT_TRUE(p.all("x").empty());
  const std::string purpose = p.all("PurposeOfUse")[0]->getAttribute("csd-code");
  EXPECT_EQ(purpose.rfind("TREAT\"/><Injected a='1'>&amp;", 0), 0u) << purpose;
  EXPECT_EQ(details(p)["path"], "/fhir/Patient/]]><x>\"'&");
  EXPECT_EQ(p.all("ParticipantObjectIdentification").back()->getAttribute("ParticipantObjectID"), "a<b>&\"'");
  // Control characters never reach the XML raw.
  EXPECT_EQ(xmlText(std::string("a\x01" "b\x7f\tc", 6)), "a%01b%7F\tc");
}

TEST(AtnaMessage, SyslogMessageNamesTheLeafInItsStructuredData) {
  const TrailEntry entry = leafEntry(event(), 7);
  auto body = atnaBody(entry, AtnaFormat::kDicom);
  ASSERT_TRUE(body);
  auto message = std::make_optional(syslogMessage(entry, AtnaFormat::kDicom, SyslogOrigin{"node-a.example", "1234"}, *body));
  const std::string header = "<85>1 2026-11-26T10:00:00.123Z node-a.example hie-node 1234 IHE+RFC-3881 "
                             "[hie-audit@32473 origin=\"hie-node/node-a/audit\" index=\"7\" leafHash=\"" +
                             entry.hash + "\" format=\"dicom\"] <?xml";
  EXPECT_EQ(message->substr(0, header.size()), header);
  EXPECT_EQ(message->substr(message->size() - body->size()), *body);

  auto fhirBody = atnaBody(entry, AtnaFormat::kFhir);
  ASSERT_TRUE(fhirBody);
  auto fhir = std::make_optional(syslogMessage(entry, AtnaFormat::kFhir, SyslogOrigin{"", "bad proc id"}, *fhirBody));
  EXPECT_NE(fhir->find(" - hie-node bad-proc-id IHE+FHIR [hie-audit@32473 "), std::string::npos) << *fhir;
  EXPECT_NE(fhir->find("format=\"fhir\"] {"), std::string::npos);
  Poco::JSON::Parser parser;
  auto json = parser.parse(fhir->substr(fhir->find("] {") + 2)).extract<Poco::JSON::Object::Ptr>();
  EXPECT_EQ(json->getValue<std::string>("resourceType"), "AuditEvent");
}

TEST(AtnaMessage, StructuredDataAndFramesEscapeAndCount) {
  EXPECT_EQ(sdParamValue("a\"b\\c]d"), "a\\\"b\\\\c\\]d");
  TrailEntry odd = leafEntry(event());
  odd.log = "weird\"origin]";
  auto message = std::make_optional(syslogMessage(odd, AtnaFormat::kDicom, SyslogOrigin{}, "x"));
  EXPECT_NE(message->find("origin=\"weird\\\"origin\\]\""), std::string::npos) << *message;
  EXPECT_EQ(octetCountedFrame("hello"), "5 hello");
  EXPECT_EQ(octetCountedFrame(std::string(1000, 'x')).substr(0, 5), "1000 ");
  TrailEntry bad = TrailEntry::fromLeaf("o", 1, "{\"time\":\"yesterday\"}");
  EXPECT_EQ(syslogMessage(bad, AtnaFormat::kDicom, SyslogOrigin{}, "x").substr(0, 9), "<85>1 - -");
  EXPECT_FALSE(dicomAuditMessage(TrailEntry::fromLeaf("o", 1, "not json")));
  AtnaFormat f = AtnaFormat::kDicom;
  EXPECT_TRUE(parseAtnaFormat("fhir", f));
  EXPECT_EQ(f, AtnaFormat::kFhir);
  EXPECT_FALSE(parseAtnaFormat("xml", f));
}

}  // namespace
}  // namespace hie::audit
