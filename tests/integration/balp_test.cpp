// The AuditEvents a running node answers (/audit/AuditEvent, /audit/disclosures, `audit export
// --format fhir`) follow the IHE Basic Audit Log Patterns (BALP) they claim in meta.profile: each
// kind of event is produced for real (reads, searches, /exchange, writes, a refused handshake,
// disclosures, audit reads), then every answer is checked against the FHIR R4 definitions
// (validate-fhir.js) and every claim against the BALP profiles' own rules (balp-check.js, reading
// the IG's FSH in tests/fixtures/balp). The checker is shown to fail: events with a required agent,
// code or entity taken away are reported, with the FSH line of the rule they break.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <sstream>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/JSON/Stringifier.h>

#include "tests/integration/records_write_fixture.h"
#include "tests/support/fhir_validator.h"

namespace hie::testing {
namespace {

using Poco::JSON::Array;
using Poco::JSON::Object;

const std::string kBalp = "https://profiles.ihe.net/ITI/BALP/StructureDefinition/";
const std::string kIdent = "urn:oid:2.16.840.1.113883.3.7000.1%7CNET-1001";
const std::string kNobody = "urn:oid:2.16.840.1.113883.3.7000.1%7CNOBODY-1";

Object::Ptr parse(const std::string& text) {
  Poco::JSON::Parser parser;
  return parser.parse(text).extract<Object::Ptr>();
}

std::string text(const Poco::Dynamic::Var& v) {
  std::ostringstream out;
  Poco::JSON::Stringifier::stringify(v, out);
  return out.str();
}

// The AuditEvents of a searchset Bundle.
std::vector<Object::Ptr> events(const std::string& bundle) {
  std::vector<Object::Ptr> out;
  auto b = parse(bundle);
  auto entries = b->getArray("entry");
  for (std::size_t i = 0; entries && i < entries->size(); ++i) out.push_back(entries->getObject(i)->getObject("resource"));
  return out;
}

std::set<std::string> profiles(const Object::Ptr& event) {
  std::set<std::string> out;
  if (!event->has("meta")) return out;
  auto list = event->getObject("meta")->getArray("profile");
  for (std::size_t i = 0; i < list->size(); ++i) out.insert(list->getElement<std::string>(i).substr(kBalp.size()));
  return out;
}

// What identifies an event's kind: its type code, its restful-interaction (or first subtype), action and outcome.
std::string kind(const Object::Ptr& e) {
  std::string sub = e->has("subtype") ? e->getArray("subtype")->getObject(0)->getValue<std::string>("code") : "-";
  return e->getObject("type")->getValue<std::string>("code") + " " + sub + " " + e->getValue<std::string>("action") +
         " " + e->getValue<std::string>("outcome");
}

std::string patientOf(const Object::Ptr& e) {
  auto entities = e->getArray("entity");
  for (std::size_t i = 0; i < entities->size(); ++i) {
    auto role = entities->getObject(i)->getObject("role");
    if (role && role->getValue<std::string>("code") == "1") {
      auto what = entities->getObject(i)->getObject("what");
      if (what->has("reference")) return what->getValue<std::string>("reference");
      // A patient searched for by identifier and not known here: "SYSTEM|VALUE".
      auto identifier = what->getObject("identifier");
      return identifier->getValue<std::string>("system") + "|" + identifier->getValue<std::string>("value");
    }
  }
  return "";
}

std::string jsonIn(const std::string& output) {
  const auto first = output.find('{');
  const auto last = output.rfind('}');
  return first == std::string::npos || last == std::string::npos ? output : output.substr(first, last - first + 1);
}

class Balp : public RecordsWriteFixture {
 protected:
  void SetUp() override {
    RecordsWriteFixture::SetUp();
    ok(f.cli({"records", "import", std::string(HIE_SOURCE_DIR) + "/config/demo/bundle.json"}));
    start();
  }

  long long entries(const std::string& where) {
    return scalar("SELECT count(*) FROM audit_log_entries WHERE " + where);
  }

  // Runs balp-check.js over documents written to the test's directory.
  CommandResult balpCheck(const std::vector<FhirDocument>& docs, const std::string& sub) {
    const std::string dir = f.dir.path() + "/" + sub;
    std::filesystem::create_directories(dir);
    std::vector<std::string> files;
    for (const auto& d : docs) {
      files.push_back(dir + "/" + d.label + ".json");
      std::ofstream(files.back(), std::ios::trunc) << d.json;
    }
    return runFhirTool("balp-check.js", files);
  }

  // One of each kind of event the node records.
  void makeEveryKindOfEvent() {
    ASSERT_EQ(read(lakeside, "/fhir/metadata").status, 200);
    ASSERT_EQ(read(lakeside, "/fhir/Patient/p-ava").status, 200);
    ASSERT_EQ(read(lakeside, "/fhir/Patient/p-ava/_history/1").status, 200);  // a vread
    ASSERT_EQ(read(lakeside, "/fhir/Observation?patient=p-ava").status, 200);
    ASSERT_EQ(read(lakeside, "/fhir/Patient?identifier=" + kIdent).status, 200);
    ASSERT_EQ(read(lakeside, "/fhir/Patient?identifier=" + kNobody).status, 200);  // found nobody
    ASSERT_EQ(read(lakeside, "/fhir/Patient/p-ava", "HPAYMT").status, 403);
    ASSERT_EQ(read(lakeside, "/fhir/Patient/nobody").status, 404);
    ASSERT_EQ(send(hospital, "PUT", "/fhir/Patient/w-1", R"({"resourceType":"Patient","id":"w-1","name":[{"family":"Balp"}]})").status, 201);
    ASSERT_EQ(send(hospital, "PUT", "/fhir/Patient/w-1", R"({"resourceType":"Patient","id":"w-1","name":[{"family":"Basic"}]})").status, 200);
    ASSERT_EQ(send(hospital, "PUT", "/fhir/Observation/w-obs",
                   R"({"resourceType":"Observation","id":"w-obs","status":"final","code":{"text":"pulse"},"subject":{"reference":"Patient/w-1"}})")
                  .status,
              201);
    ASSERT_EQ(send(hospital, "DELETE", "/fhir/Observation/w-obs", "").status, 200);
    // A create by POST (FHIR's create; the PUTs that created above are FHIR's update).
    ASSERT_EQ(send(hospital, "POST", "/fhir/Observation",
                   R"({"resourceType":"Observation","status":"final","code":{"text":"pulse"},"subject":{"reference":"Patient/w-1"}})")
                  .status,
              201);
    ASSERT_EQ(send(hospital, "POST", "/fhir",
                   R"({"resourceType":"Bundle","type":"transaction","entry":[{"resource":{"resourceType":"Patient","id":"w-2","name":[{"family":"Tx"}]},"request":{"method":"PUT","url":"Patient/w-2"}}]})")
                  .status,
              200);
    // The network (no peers: an empty answer) by this institution's own system.
    ASSERT_EQ(flat(f.get(hospital, "/exchange/Patient?patient.identifier=" + kIdent, {"X-Purpose-Of-Use: TREAT"})).status, 200);
    // Refused handshakes: a certificate of another CA, and none at all.
    TestPki other = TestPki::create();
    CertSpec spec;
    spec.commonName = "intruder";
    spec.sanUris = {kLakeside};
    spec.extendedKeyUsage = {"clientAuth"};
    Credential intruder = other.leaf(spec);
    EXPECT_TRUE(tlsGet(f.node()->port(), f.pki.root, ClientIdentity{&intruder, {&other.intermediate}}, "/fhir/metadata").tlsRefused);
    EXPECT_TRUE(tlsGet(f.node()->port(), f.pki.root, ClientIdentity{}, "/fhir/metadata").tlsRefused);
    ASSERT_TRUE(waitFor([&] { return entries("event_type = 'security-alert'") == 2; }, std::chrono::seconds(10)));
    // Audit reads, with and without a patient.
    ASSERT_EQ(f.get(auditor, "/audit/AuditEvent?_count=1").status, 200);
    ASSERT_EQ(f.get(auditor, "/audit/AuditEvent?patient=p-ava&_count=1").status, 200);
  }
};

TEST_F(Balp, EveryAuditEventFollowsTheBalpProfilesItClaims) {
  makeEveryKindOfEvent();
  auto trail = f.get(auditor, "/audit/AuditEvent?_count=100");
  ASSERT_EQ(trail.status, 200) << trail.body;
  auto disclosures = f.get(auditor, "/audit/disclosures?patient=p-ava");
  ASSERT_EQ(disclosures.status, 200) << disclosures.body;
  auto exported = f.cli({"audit", "export", "--format", "fhir"});
  ASSERT_EQ(exported.exitCode, 0) << exported.output;
  const std::vector<FhirDocument> docs = {
      {"audit-trail", trail.body}, {"audit-disclosures", disclosures.body}, {"audit-export", jsonIn(exported.output)}};

  // Valid R4, and every BALP claim holds.
  auto r4 = validateFhirR4(docs, f.dir.path());
  EXPECT_EQ(r4.exitCode, 0) << r4.output;
  auto balp = balpCheck(docs, "balp");
  EXPECT_EQ(balp.exitCode, 0) << balp.output;
  EXPECT_TRUE(contains(balp.output, " 0 problems")) << balp.output;
  EXPECT_FALSE(contains(balp.output, " 0 BALP profile claims")) << "nothing was checked: " << balp.output;

  // Each kind of event claims what it follows, and only that.
  std::map<std::string, std::set<std::set<std::string>>> claims;  // kind (+ patient or not) -> the profile sets seen
  for (const auto& e : events(trail.body)) {
    claims[kind(e) + (patientOf(e).empty() ? "" : " patient")].insert(profiles(e));
  }
  using P = std::set<std::string>;
  auto only = [&](const std::string& k, const P& p) {
    ASSERT_EQ(claims.count(k), 1u) << "no event of kind " << k << " in " << trail.body;
    EXPECT_EQ(claims[k], std::set<P>{p}) << k;
  };
  only("rest read R 0 patient", P{"IHE.BasicAudit.Read", "IHE.BasicAudit.PatientRead"});
  only("rest vread R 0 patient", P{"IHE.BasicAudit.Read", "IHE.BasicAudit.PatientRead"});
  only("rest search-type E 0 patient", P{"IHE.BasicAudit.Query", "IHE.BasicAudit.PatientQuery"});
  only("rest search-type E 0", P{"IHE.BasicAudit.Query"});  // an audit read of no patient
  only("rest create C 0 patient", P{"IHE.BasicAudit.Create", "IHE.BasicAudit.PatientCreate"});  // POST
  // A PUT that created: FHIR's update with action C, which neither BALP Create nor Update fits.
  only("rest update C 0 patient", P{});
  only("rest update U 0 patient", P{"IHE.BasicAudit.Update", "IHE.BasicAudit.PatientUpdate"});
  only("rest delete D 0 patient", P{"IHE.BasicAudit.Delete", "IHE.BasicAudit.PatientDelete"});
  only("rest transaction E 0 patient", P{});  // BALP has no pattern for a Bundle
  only("rest capabilities R 0", P{});
  // Refusals and errors (403, 404): BALP's RESTful profiles fix outcome 0, so they claim none.
  std::size_t failures = 0;
  for (const auto& [k, seen] : claims) {
    if (k.rfind("rest read R 4", 0) == 0 || k.rfind("rest read R 8", 0) == 0) {
      failures++;
      EXPECT_EQ(seen, std::set<P>{P{}}) << k;
    }
  }
  EXPECT_GE(failures, 1u) << trail.body;
  // A search by patient identifier is a PatientQuery whether or not the patient is known here:
  // the /exchange query (peers know the identifier only) and the local search that found nobody
  // name the patient by the identifier searched for.
  std::set<std::string> byIdentifier;
  for (const auto& e : events(trail.body)) {
    if (patientOf(e) == "urn:oid:2.16.840.1.113883.3.7000.1|NET-1001" ||
        patientOf(e) == "urn:oid:2.16.840.1.113883.3.7000.1|NOBODY-1") {
      EXPECT_EQ(profiles(e), (P{"IHE.BasicAudit.Query", "IHE.BasicAudit.PatientQuery"})) << text(e);
      byIdentifier.insert(patientOf(e));
    }
  }
  EXPECT_EQ(byIdentifier.size(), 2u) << trail.body;
  only("110113 110126 E 4", P{});      // DICOM Security Alert: no BALP profile

  // The accounting of disclosures: every one a PrivacyDisclosure.Source, the read and the searches of p-ava.
  auto listed = events(disclosures.body);
  ASSERT_GE(listed.size(), 3u) << disclosures.body;
  for (const auto& e : listed) {
    EXPECT_EQ(profiles(e), P{"IHE.BasicAudit.PrivacyDisclosure.Source"}) << text(e);
    EXPECT_EQ(e->getObject("type")->getValue<std::string>("code"), "110106");
    EXPECT_EQ(patientOf(e), "Patient/p-ava");
  }
  // The export renders the trail's entries as the API does.
  EXPECT_GE(events(docs[2].json).size(), events(trail.body).size());
}

// A checker that cannot fail proves nothing: real events with a required agent, code or entity
// taken away are reported, each with the profile, the element and the FSH line of the rule.
TEST_F(Balp, TheCheckerReportsWhatBreaksAProfile) {
  ASSERT_EQ(read(lakeside, "/fhir/Patient/p-ava").status, 200);
  ASSERT_EQ(read(lakeside, "/fhir/Observation?patient=p-ava").status, 200);
  auto trail = events(f.get(auditor, "/audit/AuditEvent?patient=p-ava&_count=10").body);
  auto disclosed = events(f.get(auditor, "/audit/disclosures?patient=p-ava").body);
  Object::Ptr read, search, disclosure;
  for (const auto& e : trail) {
    if (profiles(e).count("IHE.BasicAudit.PatientRead")) read = e;
    if (profiles(e).count("IHE.BasicAudit.PatientQuery") &&
        contains(text(e), "Observation")) search = e;
  }
  ASSERT_TRUE(read && search) << text(trail.empty() ? Object::Ptr(new Object) : trail[0]);
  ASSERT_FALSE(disclosed.empty());
  disclosure = disclosed[0];
  // Writes (a PUT that creates, which claims nothing, then an update, a create by POST, a delete)
  // and an /exchange query by identifier.
  const std::string obs = R"({"resourceType":"Observation","id":"n-obs","status":"final","code":{"text":"pulse"},"subject":{"reference":"Patient/p-ava"}})";
  ASSERT_EQ(send(hospital, "PUT", "/fhir/Observation/n-obs", obs).status, 201);
  ASSERT_EQ(send(hospital, "PUT", "/fhir/Observation/n-obs", obs).status, 200);
  ASSERT_EQ(send(hospital, "POST", "/fhir/Observation",
                 R"({"resourceType":"Observation","status":"final","code":{"text":"pulse"},"subject":{"reference":"Patient/p-ava"}})")
                .status,
            201);
  ASSERT_EQ(send(hospital, "DELETE", "/fhir/Observation/n-obs", "").status, 200);
  ASSERT_EQ(flat(f.get(hospital, "/exchange/Patient?patient.identifier=" + kIdent, {"X-Purpose-Of-Use: TREAT"})).status, 200);
  Object::Ptr create, update, del, exchange;
  for (const auto& e : events(f.get(auditor, "/audit/AuditEvent?_count=100").body)) {
    if (profiles(e).count("IHE.BasicAudit.PatientCreate")) create = e;
    if (profiles(e).count("IHE.BasicAudit.PatientUpdate")) update = e;
    if (profiles(e).count("IHE.BasicAudit.PatientDelete")) del = e;
    if (profiles(e).count("IHE.BasicAudit.PatientQuery") && contains(text(e), "exchange")) exchange = e;
  }
  ASSERT_TRUE(create && update && del && exchange);

  // Each case: a copy of a real event, changed; the problem the checker must name.
  struct Case {
    std::string label;
    Object::Ptr base;
    std::function<void(Object::Ptr&)> change;
    std::string expected;
  };
  auto copy = [](const Object::Ptr& e) { return parse(text(e)); };
  auto agentOfType = [](Object::Ptr& e, const std::string& code) {
    auto agents = e->getArray("agent");
    for (std::size_t i = 0; i < agents->size(); ++i) {
      if (text(agents->getObject(i)->get("type")).find("\"" + code + "\"") != std::string::npos) return i;
    }
    return agents->size();
  };
  auto entityWhere = [](Object::Ptr& e, const std::string& part) {
    auto list = e->getArray("entity");
    for (std::size_t i = 0; i < list->size(); ++i) {
      if (text(list->get(i)).find(part) != std::string::npos) return i;
    }
    return list->size();
  };
  const std::vector<Case> cases = {
      {"read-without-client", read,
       [&](Object::Ptr& e) { e->getArray("agent")->remove(static_cast<unsigned>(agentOfType(e, "110152"))); },
       "IHE.BasicAudit.Read: agent[client]: 0 element(s) match the slice, at least 1 required [PatientRead.fsh:40]"},
      {"read-server-without-network", read,
       [&](Object::Ptr& e) { e->getArray("agent")->getObject(agentOfType(e, "110153"))->remove("network"); },
       "agent[server].network: 0 present, at least 1 required [PatientRead.fsh:52]"},
      {"read-wrong-subtype", read,
       [&](Object::Ptr& e) { e->getArray("subtype")->getObject(0)->set("code", "history-instance"); },
       "subtype[anyRead]: 0 element(s) match the slice, at least 1 required [PatientRead.fsh:29]"},
      {"read-failed", read, [&](Object::Ptr& e) { e->set("outcome", "4"); },
       "IHE.BasicAudit.Read: outcome: \"4\" is not http://terminology.hl7.org/CodeSystem/audit-event-outcome#0 [PatientRead.fsh:34]"},
      {"read-wrong-action", read, [&](Object::Ptr& e) { e->set("action", "E"); },
       "action: \"E\" is not #R [PatientRead.fsh:31]"},
      {"read-without-patient", read,
       [&](Object::Ptr& e) { e->getArray("entity")->remove(static_cast<unsigned>(entityWhere(e, "\"Person\""))); },
       "IHE.BasicAudit.PatientRead: entity[patient]: 0 element(s) match the slice, at least 1 required [PatientRead.fsh:105]"},
      {"query-without-query", search,
       [&](Object::Ptr& e) { e->getArray("entity")->getObject(entityWhere(e, "\"24\""))->remove("query"); },
       "entity[query].query: 0 present, at least 1 required [PatientQuery.fsh:96]"},
      {"query-entity-with-what", search,
       [&](Object::Ptr& e) {
         Object::Ptr what = new Object;
         what->set("reference", "Observation/x");
         e->getArray("entity")->getObject(entityWhere(e, "\"24\""))->set("what", what);
       },
       "entity[query].what: 1 present, at most 0 allowed [PatientQuery.fsh:92]"},
      {"disclosure-without-disclose", disclosure,
       [&](Object::Ptr& e) { e->getArray("subtype")->remove(1); },
       "subtype[disclosure]: 0 element(s) match the slice, at least 1 required [rules.fsh:5 via Disclose.fsh:100]"},
      {"disclosure-source-not-observer", disclosure,
       [&](Object::Ptr& e) {
         Object::Ptr who = new Object;
         who->set("display", "someone-else");
         e->getArray("agent")->getObject(agentOfType(e, "110153"))->set("who", who);
       },
       "val-audit-source"},
      {"disclosure-wrong-type", disclosure,
       [&](Object::Ptr& e) { e->getObject("type")->set("code", "110107"); },
       "type: {\"code\":\"110107\""},
      // Delete: the client is BALP's Application (110150), not Source; the server is the custodian.
      {"delete-client-as-source", del,
       [&](Object::Ptr& e) {
         e->getArray("agent")->getObject(agentOfType(e, "110150"))->getObject("type")->getArray("coding")->getObject(0)->set("code", "110153");
       },
       "IHE.BasicAudit.Delete: agent[client]: 0 element(s) match the slice, at least 1 required [PatientDelete.fsh:"},
      {"delete-server-not-custodian", del,
       [&](Object::Ptr& e) {
         auto coding = e->getArray("agent")->getObject(agentOfType(e, "custodian"))->getObject("type")->getArray("coding")->getObject(0);
         coding->set("system", "http://dicom.nema.org/resources/ontology/DCM");
         coding->set("code", "110152");
       },
       "IHE.BasicAudit.Delete: agent[server]: 0 element(s) match the slice, at least 1 required [PatientDelete.fsh:"},
      // BALP's data entity is exactly one resource: why a write of several versions claims nothing.
      {"create-two-data-entities", create,
       [&](Object::Ptr& e) {
         auto list = e->getArray("entity");
         list->add(parse(text(list->getObject(entityWhere(e, "\"Domain Resource\"")))));
       },
       "IHE.BasicAudit.Create: entity[data]: 2 element(s) match the slice, at most 1 allowed [PatientCreate.fsh:"},
      {"update-wrong-action", update, [&](Object::Ptr& e) { e->set("action", "C"); },
       "IHE.BasicAudit.Update: action: \"C\" is not #U [PatientUpdate.fsh:"},
      // A search whose client has Read's direction (Destination, 110152): the mapping easiest to get
      // backwards. (Swapping both agents' types is invisible to the profile: its agent slices are
      // told apart by type alone, and both swapped agents have what the other slice requires.)
      {"query-with-read-directions", search,
       [&](Object::Ptr& e) {
         e->getArray("agent")->getObject(agentOfType(e, "110153"))->getObject("type")->getArray("coding")->getObject(0)->set("code", "110152");
       },
       "IHE.BasicAudit.Query: agent[client]: 0 element(s) match the slice, at least 1 required [PatientQuery.fsh:"},
      {"patientquery-without-patient", search,
       [&](Object::Ptr& e) { e->getArray("entity")->remove(static_cast<unsigned>(entityWhere(e, "\"Person\""))); },
       "IHE.BasicAudit.PatientQuery: entity[patient]: 0 element(s) match the slice, at least 1 required [PatientQuery.fsh:"},
      {"exchange-without-patient", exchange,
       [&](Object::Ptr& e) { e->getArray("entity")->remove(static_cast<unsigned>(entityWhere(e, "\"Person\""))); },
       "IHE.BasicAudit.PatientQuery: entity[patient]: 0 element(s) match the slice, at least 1 required [PatientQuery.fsh:"},
      // A claim under a mistyped canonical is a problem, not "no claim".
      {"wrong-canonical", read,
       [&](Object::Ptr& e) {
         Array::Ptr list = new Array;
         list->add("http://profiles.ihe.net/ITI/BALP/StructureDefinition/IHE.BasicAudit.Read");
         e->getObject("meta")->set("profile", list);
       },
       "http://profiles.ihe.net/ITI/BALP/StructureDefinition/IHE.BasicAudit.Read: not under BALP's canonical"},
      {"unknown-profile", read,
       [&](Object::Ptr& e) { e->getObject("meta")->getArray("profile")->add(kBalp + "IHE.BasicAudit.NoSuchThing"); },
       "IHE.BasicAudit.NoSuchThing: no such BALP profile"},
  };
  std::vector<FhirDocument> docs;
  std::vector<std::string> expected;
  for (const auto& c : cases) {
    Object::Ptr e = copy(c.base);
    c.change(e);
    docs.push_back({c.label, text(e)});
    expected.push_back(c.expected);
  }
  // The unchanged events pass, so each problem below is the change's.
  docs.push_back({"unchanged-read", text(read)});
  docs.push_back({"unchanged-search", text(search)});
  docs.push_back({"unchanged-disclosure", text(disclosure)});
  docs.push_back({"unchanged-create", text(create)});
  docs.push_back({"unchanged-update", text(update)});
  docs.push_back({"unchanged-delete", text(del)});
  docs.push_back({"unchanged-exchange", text(exchange)});
  // And so do three of the IG's own examples (hand-copied from its FSH: tests/fixtures/balp/README.md).
  for (const std::string example :
       {"ex-auditBasicReadServer", "ex-auditBasicQueryGetServer", "ex-auditPrivacyDisclosure-source"}) {
    std::ifstream in(std::string(HIE_SOURCE_DIR) + "/tests/fixtures/balp/examples/" + example + ".json");
    std::stringstream body;
    body << in.rdbuf();
    ASSERT_FALSE(body.str().empty()) << example;
    docs.push_back({"unchanged-" + example, body.str()});
  }
  auto r = balpCheck(docs, "negative");
  EXPECT_EQ(r.exitCode, 1) << r.output;
  for (std::size_t i = 0; i < cases.size(); ++i) {
    bool found = false;
    std::istringstream lines(r.output);
    for (std::string line; std::getline(lines, line);) {
      if (contains(line, "/" + cases[i].label + ".json:") && contains(line, expected[i])) found = true;
    }
    EXPECT_TRUE(found) << cases[i].label << ": expected a problem with \"" << expected[i] << "\" in\n" << r.output;
  }
  EXPECT_FALSE(contains(r.output, "unchanged-")) << r.output;
  EXPECT_TRUE(contains(r.output, std::to_string(docs.size()) + " AuditEvents")) << r.output;

  // A rule the checker does not read stops it (exit 2), never passes: the IG's FSH with one caret
  // rule changed, each checked against the unchanged read (whose profiles PatientRead.fsh defines).
  const std::string readFile = f.dir.path() + "/negative/unchanged-read.json";
  std::ifstream fshIn(std::string(HIE_SOURCE_DIR) + "/tests/fixtures/balp/fsh/PatientRead.fsh");
  std::stringstream fshText;
  fshText << fshIn.rdbuf();
  const std::string original = fshText.str();
  struct Unread {
    std::string label, from, to;
  };
  const std::vector<Unread> unread = {
      {"closed-slicing", "* agent ^slicing.rules = #open", "* agent ^slicing.rules = #closed"},
      {"ordered-slicing", "* agent ^slicing.rules = #open", "* agent ^slicing.ordered = true"},
      {"second-discriminator", "* agent ^slicing.rules = #open", "* agent ^slicing.discriminator[1].type = #value"},
      {"unknown-caret", "* agent ^slicing.rules = #open", "* agent ^mustSupport = true"},
  };
  for (const auto& u : unread) {
    const auto at = original.find(u.from);
    ASSERT_NE(at, std::string::npos) << u.from;
    const std::string dir = f.dir.path() + "/fsh-" + u.label;
    std::filesystem::create_directories(dir);
    for (const auto& file : std::filesystem::directory_iterator(std::string(HIE_SOURCE_DIR) + "/tests/fixtures/balp/fsh")) {
      std::filesystem::copy_file(file.path(), dir + "/" + file.path().filename().string());
    }
    std::ofstream(dir + "/PatientRead.fsh", std::ios::trunc) << original.substr(0, at) << u.to << original.substr(at + u.from.size());
    auto stopped = runFhirTool("balp-check.js", {"--fsh", dir, readFile});
    EXPECT_EQ(stopped.exitCode, 2) << u.label << ": " << stopped.output;
    EXPECT_TRUE(contains(stopped.output, "a caret rule the checker does not read: " + u.to.substr(2))) << u.label << ": " << stopped.output;
  }
  // The same file with the IG's own FSH passes.
  auto passes = runFhirTool("balp-check.js", {readFile});
  EXPECT_EQ(passes.exitCode, 0) << passes.output;
}

}  // namespace
}  // namespace hie::testing
