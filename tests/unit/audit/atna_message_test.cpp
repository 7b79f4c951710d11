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
#include "audit/fhir_audit_event.h"
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
  // A read: the data flows to the caller (Destination) from the node (Source), as in BALP.
  EXPECT_EQ(roleCode(participants[0]), "110152");
  EXPECT_EQ(participants[1]->getAttribute("UserID"), "node-a");
  EXPECT_EQ(participants[1]->getAttribute("UserIsRequestor"), "false");
  EXPECT_EQ(roleCode(participants[1]), "110153");

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
  // The party that tried to connect is not a requestor; its address is the Alert Subject.
  EXPECT_EQ(p.all("ActiveParticipant")[0]->getAttribute("UserIsRequestor"), "false");
  Element* subject = p.all("ParticipantObjectIdentification").back();
  EXPECT_EQ(subject->getAttribute("ParticipantObjectID"), "2001:db8::7");
  EXPECT_EQ(subject->getAttribute("ParticipantObjectTypeCodeRole"), "13");
  EXPECT_EQ(p.one("ParticipantObjectIDTypeCode")->getAttribute("csd-code"), "110182");
  // No HTTP answer, nothing returned: those details are left out.
  EXPECT_EQ(details(p).count("httpStatus"), 0u);
  EXPECT_EQ(details(p).count("resultCount"), 0u);
  EXPECT_EQ(details(p)["index"], "2");

  AuditEvent auditRead = event();
  auditRead.action = "audit-query";
  auditRead.patient.clear();
  auditRead.entities.clear();
  xml = dicomAuditMessage(leafEntry(auditRead));
  ASSERT_TRUE(xml);
  p = parseXml(*xml);
  EXPECT_EQ(p.one("EventID")->getAttribute("csd-code"), "110101");
  EXPECT_EQ(p.one("EventID")->getAttribute("originalText"), "Audit Log Used");
  EXPECT_EQ(p.one("EventIdentification")->getAttribute("EventActionCode"), "R");
}

// The required structure of DICOM PS3.15 A.5.1 (the AuditMessage schema), checked element by
// element: written here from the standard's RELAX NG text (no schema file is vendored). "" when
// the message conforms, else the first problem.
std::string a51Problem(Element* root) {
  auto children = [](Element* e) {
    std::vector<Element*> out;
    for (auto* n = e->firstChild(); n != nullptr; n = n->nextSibling()) {
      if (n->nodeType() == Poco::XML::Node::ELEMENT_NODE) out.push_back(static_cast<Element*>(n));
    }
    return out;
  };
  auto oneOf = [](const std::string& v, std::initializer_list<const char*> allowed) {
    for (const char* a : allowed) {
      if (v == a) return true;
    }
    return false;
  };
  // CodedValueType: csd-code, codeSystemName and originalText required, displayName optional, no content.
  auto coded = [&](Element* e) -> std::string {
    for (const char* a : {"csd-code", "codeSystemName", "originalText"}) {
      if (!e->hasAttribute(a) || e->getAttribute(a).empty()) return e->nodeName() + " without " + a;
    }
    if (!children(e).empty()) return e->nodeName() + " has content";
    return "";
  };
  // Children in order: each (name, min, max), max 0 = unbounded.
  struct Slot {
    const char* name;
    int min;
    int max;
  };
  auto sequence = [&](Element* e, std::vector<Slot> slots) -> std::string {
    auto kids = children(e);
    std::size_t i = 0;
    for (const auto& slot : slots) {
      int n = 0;
      while (i < kids.size() && kids[i]->nodeName() == slot.name) ++i, ++n;
      if (n < slot.min || (slot.max > 0 && n > slot.max)) return e->nodeName() + ": " + std::to_string(n) + " " + slot.name;
    }
    if (i != kids.size()) return e->nodeName() + ": unexpected " + kids[i]->nodeName();
    return "";
  };
  if (root->nodeName() != "AuditMessage") return "root " + root->nodeName();
  if (auto bad = sequence(root, {{"EventIdentification", 1, 1}, {"ActiveParticipant", 1, 0},
                                 {"AuditSourceIdentification", 1, 1}, {"ParticipantObjectIdentification", 0, 0}});
      !bad.empty()) {
    return bad;
  }
  for (Element* e : children(root)) {
    const std::string name = e->nodeName();
    if (name == "EventIdentification") {
      if (!oneOf(e->getAttribute("EventActionCode"), {"C", "R", "U", "D", "E"})) return "EventActionCode";
      if (e->getAttribute("EventDateTime").empty()) return "EventDateTime";
      if (!oneOf(e->getAttribute("EventOutcomeIndicator"), {"0", "4", "8", "12"})) return "EventOutcomeIndicator";
      if (auto bad = sequence(e, {{"EventID", 1, 1}, {"EventTypeCode", 0, 0}, {"EventOutcomeDescription", 0, 1},
                                  {"PurposeOfUse", 0, 0}});
          !bad.empty()) {
        return bad;
      }
      for (Element* c : children(e)) {
        if (c->nodeName() != "EventOutcomeDescription") {
          if (auto bad = coded(c); !bad.empty()) return bad;
        }
      }
    } else if (name == "ActiveParticipant") {
      if (e->getAttribute("UserID").empty()) return "ActiveParticipant without UserID";
      if (!oneOf(e->getAttribute("UserIsRequestor"), {"true", "false"})) return "UserIsRequestor";
      if (e->hasAttribute("NetworkAccessPointTypeCode") &&
          !oneOf(e->getAttribute("NetworkAccessPointTypeCode"), {"1", "2", "3", "4", "5"})) {
        return "NetworkAccessPointTypeCode";
      }
      if (auto bad = sequence(e, {{"RoleIDCode", 0, 0}, {"MediaIdentifier", 0, 1}}); !bad.empty()) return bad;
      for (Element* c : children(e)) {
        if (auto bad = coded(c); !bad.empty()) return bad;
      }
    } else if (name == "AuditSourceIdentification") {
      if (e->getAttribute("AuditSourceID").empty()) return "AuditSourceID";
      if (auto bad = sequence(e, {{"AuditSourceTypeCode", 0, 0}}); !bad.empty()) return bad;
      for (Element* c : children(e)) {
        if (auto bad = coded(c); !bad.empty()) return bad;
      }
    } else {
      if (e->getAttribute("ParticipantObjectID").empty()) return "ParticipantObjectID";
      if (e->hasAttribute("ParticipantObjectTypeCode") &&
          !oneOf(e->getAttribute("ParticipantObjectTypeCode"), {"1", "2", "3", "4"})) {
        return "ParticipantObjectTypeCode";
      }
      if (e->hasAttribute("ParticipantObjectTypeCodeRole")) {
        const int role = std::stoi(e->getAttribute("ParticipantObjectTypeCodeRole"));
        if (role < 1 || role > 24) return "ParticipantObjectTypeCodeRole";
      }
      // ParticipantObjectName and ParticipantObjectQuery are a choice.
      const bool named = !children(e).empty() && children(e).size() > 1 && children(e)[1]->nodeName() == "ParticipantObjectName";
      if (auto bad = sequence(e, {{"ParticipantObjectIDTypeCode", 1, 1},
                                  {named ? "ParticipantObjectName" : "ParticipantObjectQuery", 0, 1},
                                  {"ParticipantObjectDetail", 0, 0}, {"ParticipantObjectDescription", 0, 0}});
          !bad.empty()) {
        return bad;
      }
      if (auto bad = coded(children(e)[0]); !bad.empty()) return bad;
      for (Element* c : children(e)) {
        if (c->nodeName() == "ParticipantObjectDetail" && (!c->hasAttribute("type") || !c->hasAttribute("value"))) {
          return "ParticipantObjectDetail without type or value";
        }
      }
    }
  }
  return "";
}

const std::vector<std::string> kActions = {"read", "create", "update", "delete", "search", "query", "audit-query",
                                           "peer-call", "capabilities", "transaction", "batch", "witness",
                                           "witness-submit", "rest"};

// The first code of a CodeableConcept; "" when the element has none (a participant without a role).
std::string codeOf(const Poco::JSON::Object::Ptr& concept) {
  if (concept.isNull()) return "";
  auto codings = concept->getArray("coding");
  return codings->getObject(0)->getValue<std::string>("code");
}

TEST(AtnaMessage, EveryActionConformsToTheDicomStructureAndMatchesTheFhirRendering) {
  std::vector<AuditEvent> events;
  for (const auto& action : kActions) {
    AuditEvent e = event();
    e.action = action;
    events.push_back(e);
  }
  // The interactions FHIR takes from more than the action: a version read (vread), a PUT that created (update).
  AuditEvent vread = event();
  vread.action = "read";
  vread.path = "/fhir/Patient/p1/_history/2";
  events.push_back(vread);
  AuditEvent putCreate = event();
  putCreate.action = "create";
  putCreate.method = "PUT";
  events.push_back(putCreate);
  AuditEvent udap = event();  // a request with a UDAP access token (a leaf of 34 keys)
  udap.authentication = "mtls+udap";
  udap.clientId = "Zm9vYmFyYmF6cXV4";
  events.push_back(udap);
  AuditEvent alert;
  alert.time = "2026-11-26T10:00:01.000Z";
  alert.eventType = "security-alert";
  alert.action = "node-authentication";
  alert.outcome = "denied";
  alert.outcomeReason = "certificate_untrusted";
  alert.remoteAddress = "192.0.2.9:4433";
  events.push_back(alert);
  AuditEvent bare;  // what an entry may lack: no organization, address, patient or request id
  bare.time = "2026-11-26T10:00:02.000Z";
  bare.eventType = "rest";
  bare.action = "rest";
  bare.outcome = "denied";
  events.push_back(bare);
  for (const auto& e : events) {
    SCOPED_TRACE(e.eventType + " " + e.action);
    const TrailEntry entry = leafEntry(e);
    auto xml = dicomAuditMessage(entry);
    ASSERT_TRUE(xml) << xml.error().internal;
    Parsed p = parseXml(*xml);
    EXPECT_EQ(a51Problem(p.root), "") << *xml;

    auto json = fhirAuditEvent(entry);
    ASSERT_TRUE(json) << json.error().internal;
    Poco::JSON::Parser parser;
    auto fhir = parser.parse(*json).extract<Poco::JSON::Object::Ptr>();
    Element* ev = p.one("EventIdentification");
    // One difference, on purpose: DICOM's Audit Log Used (110101) is a Read; BALP's Query is an E.
    EXPECT_EQ(ev->getAttribute("EventActionCode"), e.action == "audit-query" ? "R" : fhir->getValue<std::string>("action"));
    EXPECT_EQ(ev->getAttribute("EventOutcomeIndicator"), fhir->getValue<std::string>("outcome"));
    const std::string fhirType = fhir->getObject("type")->getValue<std::string>("code");
    Element* eventId = p.one("EventID");
    if (eventId->getAttribute("codeSystemName") == "DCM" && fhirType != "110113") {
      EXPECT_EQ(fhirType, "rest");  // FHIR has no DICOM event here: every request is a Restful Operation
    } else {
      EXPECT_EQ(eventId->getAttribute("csd-code"), fhirType);
    }
    auto subtypes = fhir->getArray("subtype");
    Element* typeCode = p.one("EventTypeCode");
    if (subtypes.isNull()) {
      EXPECT_EQ(typeCode, nullptr);
    } else {
      ASSERT_NE(typeCode, nullptr);
      EXPECT_EQ(typeCode->getAttribute("csd-code"), subtypes->getObject(0)->getValue<std::string>("code"));
    }
    auto agents = fhir->getArray("agent");
    auto participants = p.all("ActiveParticipant");
    ASSERT_EQ(participants.size(), agents->size());
    for (std::size_t i = 0; i < participants.size(); ++i) {
      EXPECT_EQ(roleCode(participants[i]), codeOf(agents->getObject(static_cast<unsigned>(i))->getObject("type"))) << i;
      EXPECT_EQ(participants[i]->getAttribute("UserIsRequestor") == "true",
                agents->getObject(static_cast<unsigned>(i))->getValue<bool>("requestor"))
          << i;
    }
  }
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
  EXPECT_EQ(xmlText(std::string("a\x01" "b\x7f\tc", 6)), "a%01b%7F&#9;c");
  // TAB, LF, CR survive attribute-value normalisation as references, and the message stays one line;
  // bytes above 0x7E (only in a tampered leaf) never reach a document declared UTF-8 raw.
  EXPECT_EQ(xmlText("a\tb\nc\rd\xc3\xa9\xff"), "a&#9;b&#10;c&#13;d%C3%A9%FF");
  std::string tampered = leafEntry(event()).text;  // a leaf the node did not write
  tampered.replace(tampered.find("\"req-1\""), 7, "\"r\\n1\\t\\u00e9\"");
  auto xml3 = dicomAuditMessage(TrailEntry::fromLeaf("hie-node/node-a/audit", 41, tampered));
  ASSERT_TRUE(xml3);
  EXPECT_EQ(xml3->find('\n'), std::string::npos);
  Parsed p3 = parseXml(*xml3);
  EXPECT_EQ(p3.all("ParticipantObjectIdentification").back()->getAttribute("ParticipantObjectID"), "r\n1\t%C3%A9");
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
  SyslogOrigin registered{"node-a.example", "1", "99999"};  // atna.enterpriseNumber
  EXPECT_NE(syslogMessage(entry, AtnaFormat::kDicom, registered, *body).find(" IHE+RFC-3881 [hie-audit@99999 origin="),
            std::string::npos);
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
  TrailEntry month13 = TrailEntry::fromLeaf("o", 1, "{\"time\":\"2026-13-26T10:00:00.123Z\"}");
  EXPECT_EQ(syslogMessage(month13, AtnaFormat::kDicom, SyslogOrigin{}, "x").substr(0, 9), "<85>1 - -");
  TrailEntry hour24 = TrailEntry::fromLeaf("o", 1, "{\"time\":\"2026-11-26T24:00:00Z\"}");
  EXPECT_EQ(syslogMessage(hour24, AtnaFormat::kDicom, SyslogOrigin{}, "x").substr(0, 9), "<85>1 - -");
  EXPECT_FALSE(dicomAuditMessage(TrailEntry::fromLeaf("o", 1, "not json")));
  AtnaFormat f = AtnaFormat::kDicom;
  EXPECT_TRUE(parseAtnaFormat("fhir", f));
  EXPECT_EQ(f, AtnaFormat::kFhir);
  EXPECT_FALSE(parseAtnaFormat("xml", f));
  EXPECT_FALSE(parseAtnaFormat("leaf", f));
  // A leaf that cannot be rendered goes as itself, marked so.
  const TrailEntry raw = leafEntry(event(), 3);
  auto leafBody = atnaBody(raw, AtnaFormat::kLeaf);
  ASSERT_TRUE(leafBody);
  EXPECT_EQ(*leafBody, raw.text);
  const std::string leafMessage = syslogMessage(raw, AtnaFormat::kLeaf, SyslogOrigin{}, *leafBody);
  EXPECT_NE(leafMessage.find(" hie-node - - [hie-audit@32473 "), std::string::npos) << leafMessage;
  EXPECT_NE(leafMessage.find("format=\"leaf\"] {"), std::string::npos) << leafMessage;
}

}  // namespace
}  // namespace hie::audit
