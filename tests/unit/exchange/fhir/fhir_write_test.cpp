#include "exchange/fhir/fhir_write.h"

#include <gtest/gtest.h>

#include <stdexcept>

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include "exchange/handlers/record_api.h"

namespace hie::exchange {
namespace {

using Poco::JSON::Object;

const std::set<std::string>& types() {
  static const std::set<std::string> served = defaultResourceTypes();
  return served;
}

std::string join(const std::vector<std::string>& parts) {
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : ",") + p;
  return out;
}

std::string bundleText(const std::string& type, const std::vector<std::string>& entries) {
  return R"({"resourceType":"Bundle","type":")" + type + R"(","entry":[)" + join(entries) + "]}";
}

WriteRequest bundle(const std::string& type, const std::vector<std::string>& entries, WriteLimits limits = {}) {
  return parseWriteBundle(bundleText(type, entries), types(), limits);
}

WriteRequest transaction(const std::vector<std::string>& entries) { return bundle("transaction", entries); }
WriteRequest batch(const std::vector<std::string>& entries) { return bundle("batch", entries); }

// One Bundle.entry: request {method, url, extra request members}, resource and fullUrl when given.
std::string entry(const std::string& method, const std::string& url, const std::string& resource = "",
                  const std::string& fullUrl = "", const std::string& extraRequest = "") {
  std::string out = "{";
  if (!fullUrl.empty()) out += R"("fullUrl":")" + fullUrl + R"(",)";
  if (!resource.empty()) out += R"("resource":)" + resource + ",";
  out += R"("request":{"method":")" + method + R"(","url":")" + url + "\"";
  if (!extraRequest.empty()) out += "," + extraRequest;
  return out + "}}";
}

std::string patient(const std::string& id = "p1", const std::string& extra = "") {
  std::string out = R"({"resourceType":"Patient",)";
  if (!id.empty()) out += R"("id":")" + id + R"(",)";
  if (!extra.empty()) out += extra + ",";
  return out + R"("identifier":[{"system":"urn:oid:2.16.840.1.113883.3.7000.1","value":"MRN-1"}]})";
}

std::string observation(const std::string& id, const std::string& subject, const std::string& extra = "") {
  std::string out = R"({"resourceType":"Observation",)";
  if (!id.empty()) out += R"("id":")" + id + R"(",)";
  if (!extra.empty()) out += extra + ",";
  return out + R"("status":"final","code":{"text":"heart rate"},"subject":{"reference":")" + subject + R"("}})";
}

// The only problem of a request, with its index, status and code; its text contains `part`.
void expectOneProblem(const WriteRequest& r, int index, int status, const std::string& code, const std::string& part,
                      const std::string& what) {
  ASSERT_EQ(r.problems.size(), 1u) << what << (r.problems.empty() ? "" : ": " + r.problems[0].text);
  EXPECT_EQ(r.problems[0].index, index) << what;
  EXPECT_EQ(r.problems[0].status, status) << what;
  EXPECT_EQ(r.problems[0].issueCode, code) << what;
  EXPECT_NE(r.problems[0].text.find(part), std::string::npos) << what << ": " << r.problems[0].text;
  if (index >= 0) {
    EXPECT_EQ(r.problems[0].text.rfind("Bundle.entry[" + std::to_string(index) + "]: ", 0), 0u) << r.problems[0].text;
  }
}

void expectEntryRefused(const std::string& entryText, const std::string& part) {
  const WriteRequest t = transaction({entryText});
  expectOneProblem(t, 0, 400, "invalid", part, entryText);
  EXPECT_TRUE(t.entries.empty()) << entryText;
}

Object::Ptr parse(const std::string& json) {
  Poco::JSON::Parser parser;
  return parser.parse(json).extract<Object::Ptr>();
}

std::string referenceAt(const Object::Ptr& o, const std::string& field) {
  return o->getObject(field)->getValue<std::string>("reference");
}

// --- the bundle as a whole ---------------------------------------------------------------

TEST(FhirWriteBundle, TransactionAndBatchAreTheOnlyBundleTypes) {
  const WriteRequest t = transaction({entry("PUT", "Patient/p1", patient())});
  ASSERT_TRUE(t.ok()) << t.problems[0].text;
  EXPECT_EQ(t.kind, WriteRequest::Kind::kTransaction);
  ASSERT_EQ(t.entries.size(), 1u);
  EXPECT_EQ(t.entries[0].index, 0);
  const WriteRequest b = batch({entry("PUT", "Patient/p1", patient())});
  ASSERT_TRUE(b.ok()) << b.problems[0].text;
  EXPECT_EQ(b.kind, WriteRequest::Kind::kBatch);
  EXPECT_EQ(b.entries.size(), 1u);

  for (const std::string type : {"collection", "document", "searchset", "history", "message", "Transaction", ""}) {
    const WriteRequest r = bundle(type, {entry("PUT", "Patient/p1", patient())});
    expectOneProblem(r, -1, 400, "invalid", "Bundle.type must be transaction or batch", type);
    EXPECT_TRUE(r.entries.empty());
  }
  const WriteRequest noType = parseWriteBundle(R"({"resourceType":"Bundle","entry":[]})", types(), {});
  expectOneProblem(noType, -1, 400, "invalid", "Bundle.type", "no type");
}

TEST(FhirWriteBundle, TheBodyMustBeABundleObject) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", "no body"},
      {"{", "not valid JSON"},
      {"[]", "not an object"},
      {"\"Bundle\"", "the body is"},
      {"{\"resourceType\":\"Bundle\",\"type\":\"batch\xff\"}", "not valid UTF-8"},
      {R"({"resourceType":"Patient","type":"transaction"})", "resourceType must be Bundle"},
      {R"({"type":"transaction","entry":[]})", "resourceType must be Bundle"},
  };
  for (const auto& [body, part] : cases) {
    const WriteRequest r = parseWriteBundle(body, types(), {});
    expectOneProblem(r, -1, 400, "invalid", part, body);
  }
}

TEST(FhirWriteBundle, AnEmptyBundleIsRefused) {
  for (const std::string body : {R"({"resourceType":"Bundle","type":"transaction"})",
                                 R"({"resourceType":"Bundle","type":"batch","entry":[]})"}) {
    expectOneProblem(parseWriteBundle(body, types(), {}), -1, 400, "invalid", "no entries", body);
  }
  expectOneProblem(parseWriteBundle(R"({"resourceType":"Bundle","type":"batch","entry":{}})", types(), {}), -1, 400,
                   "invalid", "Bundle.entry must be an array", "entry object");
}

TEST(FhirWriteBundle, MoreEntriesThanTheLimitIs413) {
  WriteLimits limits;
  limits.maxEntries = 2;
  const std::string e = entry("DELETE", "Observation/o1");
  EXPECT_TRUE(bundle("batch", {e, entry("DELETE", "Observation/o2")}, limits).ok());
  for (const std::string type : {"transaction", "batch"}) {
    const WriteRequest r = bundle(type, {e, entry("DELETE", "Observation/o2"), entry("DELETE", "Observation/o3")}, limits);
    expectOneProblem(r, -1, 413, "too-costly", "records.maxBundleEntries", type);
    EXPECT_NE(r.problems[0].text.find("3 entries"), std::string::npos) << r.problems[0].text;
    EXPECT_TRUE(r.entries.empty());
  }
}

// --- request.method and request.url --------------------------------------------------------

TEST(FhirWriteBundle, EveryMethod) {
  const WriteRequest r = transaction({
      entry("PUT", "Patient/p1", patient()),
      entry("PUT", "Patient?identifier=urn:oid:2.16.840.1.113883.3.7000.1%7CMRN-2", patient("p2")),
      entry("POST", "Observation", observation("", "Patient/p1")),
      entry("DELETE", "Observation/o9"),
  });
  ASSERT_TRUE(r.ok()) << r.problems[0].text;
  ASSERT_EQ(r.entries.size(), 4u);
  std::map<int, WriteEntry> byIndex;
  for (const auto& w : r.entries) byIndex[w.index] = w;
  EXPECT_EQ(byIndex[0].method, WriteMethod::kPut);
  EXPECT_EQ(byIndex[0].id, "p1");
  EXPECT_FALSE(byIndex[0].conditional);
  EXPECT_EQ(byIndex[1].method, WriteMethod::kConditionalPut);
  EXPECT_TRUE(byIndex[1].conditional);
  EXPECT_EQ(byIndex[1].id, "p2") << "a conditional update keeps the resource's own id as a proposal";
  EXPECT_EQ(byIndex[2].method, WriteMethod::kPost);
  EXPECT_EQ(byIndex[2].type, "Observation");
  EXPECT_EQ(byIndex[2].id, "");
  EXPECT_EQ(byIndex[3].method, WriteMethod::kDelete);
  EXPECT_EQ(byIndex[3].id, "o9");
  EXPECT_STREQ(writeMethodName(WriteMethod::kPut), "PUT");
  EXPECT_STREQ(writeMethodName(WriteMethod::kConditionalPut), "PUT");
  EXPECT_STREQ(writeMethodName(WriteMethod::kPost), "POST");
  EXPECT_STREQ(writeMethodName(WriteMethod::kDelete), "DELETE");
}

TEST(FhirWriteBundle, ReadsPatchesAndUnknownMethodsAreRefused) {
  for (const std::string method : {"GET", "HEAD", "PATCH", "OPTIONS", "put", "delete", ""}) {
    const WriteRequest r = transaction({entry(method, "Patient/p1", patient())});
    expectOneProblem(r, 0, 400, "not-supported", "request.method must be PUT, POST or DELETE", method);
  }
  expectOneProblem(transaction({R"({"resource":)" + patient() + R"(,"request":{"url":"Patient/p1"}})"}), 0, 400,
                   "not-supported", "request.method", "no method");
  expectOneProblem(transaction({R"({"resource":)" + patient() + "}"}), 0, 400, "invalid", "no request object",
                   "no request");
  expectOneProblem(transaction({R"("Patient/p1")"}), 0, 400, "invalid", "no request object", "entry not an object");
  expectOneProblem(transaction({R"({"request":"PUT Patient/p1"})"}), 0, 400, "invalid", "no request object",
                   "request not an object");
}

TEST(FhirWriteBundle, UrlForms) {
  // Type?identifier=SYSTEM|VALUE, with the bar written plainly or %-encoded.
  for (const std::string url : {"Patient?identifier=urn:oid:2.16.840.1.113883.3.7000.1%7CMRN-1",
                                "Patient?identifier=urn:oid:2.16.840.1.113883.3.7000.1|MRN-1",
                                "Patient?identifier=urn%3Aoid%3A2.16.840.1.113883.3.7000.1%7CMRN-1"}) {
    const WriteRequest r = transaction({entry("PUT", url, patient(""))});
    ASSERT_TRUE(r.ok()) << url << ": " << r.problems[0].text;
    EXPECT_EQ(r.entries[0].method, WriteMethod::kConditionalPut);
    EXPECT_EQ(r.entries[0].condition.system, "urn:oid:2.16.840.1.113883.3.7000.1") << url;
    EXPECT_EQ(r.entries[0].condition.value, "MRN-1") << url;
    EXPECT_EQ(r.entries[0].id, "");
  }
  const std::string shape = "request.url must be Type, Type/id or Type?identifier";
  const std::vector<std::tuple<std::string, std::string, std::string>> refused = {
      {"PUT", "https://node.example.org/fhir/Patient/p1", "is not one this node stores"},
      {"PUT", "http://other/Patient/p1", "is not one this node stores"},
      {"PUT", "/Patient/p1", shape},
      {"PUT", "Patient#p1", shape},
      {"PUT", "Patient/p1#x", shape},
      {"PUT", "Patient/", "not a valid FHIR id"},
      {"PUT", "Patient/a/b", "not a valid FHIR id"},
      {"PUT", "Patient/a_b", "not a valid FHIR id"},
      {"PUT", "Patient/a%20b", "not a valid FHIR id"},
      {"PUT", "Patient/" + std::string(65, 'a'), "not a valid FHIR id"},
      {"PUT", "Patient", "PUT needs Type/id or Type?identifier"},
      {"PUT", "Patient?", "PUT needs Type/id or Type?identifier"},
      {"PUT", "Patient/p1?identifier=urn:oid:1|A", "PUT needs Type/id or Type?identifier"},
      {"PUT", "Patient?name=Smith", "the only condition this node evaluates is identifier"},
      {"PUT", "Patient?identifier=urn:oid:1|A&identifier=urn:oid:1|B", "the only condition"},
      {"PUT", "Patient?identifier=MRN-1", "identifier must be SYSTEM|VALUE"},
      {"PUT", "Patient?identifier=urn:oid:1|A|B", "identifier must be SYSTEM|VALUE"},
      {"PUT", "Patient?identifier=%7CA", "identifier must be SYSTEM|VALUE"},
      {"PUT", "Patient?identifier=%zz", "malformed query"},
      {"POST", "Patient/p1", "POST creates"},
      {"POST", "Patient?identifier=urn:oid:1|A", "POST creates"},
      {"DELETE", "Patient", "DELETE needs Type/id"},
      {"DELETE", "Patient?identifier=urn:oid:1|A", "DELETE needs Type/id"},
      {"DELETE", "Patient/p1?identifier=urn:oid:1|A", "DELETE needs Type/id"},
  };
  for (const auto& [method, url, part] : refused) {
    const std::string e = method == "DELETE" ? entry(method, url) : entry(method, url, patient(""));
    const WriteRequest r = transaction({e});
    ASSERT_FALSE(r.ok()) << method << " " << url;
    EXPECT_EQ(r.problems[0].index, 0) << url;
    EXPECT_NE(r.problems[0].text.find(part), std::string::npos) << url << ": " << r.problems[0].text;
    EXPECT_TRUE(r.entries.empty()) << url;
  }
  // A type this node does not serve: not-supported (400 inside a bundle, 404 for a single request's path).
  expectOneProblem(transaction({entry("PUT", "Medication/m1", R"({"resourceType":"Medication","id":"m1"})")}), 0, 400,
                   "not-supported", "'Medication' is not one this node stores", "Medication");
  WriteRequest narrow = parseWriteBundle(bundleText("batch", {entry("DELETE", "Observation/o1")}), {"Patient"}, {});
  expectOneProblem(narrow, 0, 400, "not-supported", "'Observation'", "type not configured");
}

TEST(FhirWriteBundle, ProblemTextNeverQuotesControlCharacters) {
  const WriteRequest r = transaction({entry("PUT", R"(Pat\u001b[31mient/p1)", patient())});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.problems[0].text.find('\x1b'), std::string::npos) << r.problems[0].text;
}

// --- If-Match and If-None-Exist ---------------------------------------------------------------

TEST(FhirWriteVersionTag, ParsesWeakAndStrongTagsOfAVersion) {
  EXPECT_EQ(parseVersionTag("W/\"3\""), 3);
  EXPECT_EQ(parseVersionTag("\"3\""), 3);
  EXPECT_EQ(parseVersionTag("W/\"42\""), 42);
  EXPECT_EQ(parseVersionTag("W/\"123456789\""), 123456789);
  for (const std::string bad :
       {"W/\"0\"", "W/\"01\"", "W/\"abc\"", "W/\"1234567890\"", "W/\"-1\"", "W/\"+1\"", "W/\" 1\"", "W/\"1 \"", "W/3",
        "3", "W/\"3", "W/3\"", "\"3", "W/\"\"", "\"\"", "\"", "", "W/", "w/\"3\"", "W/W/\"3\"", "W/\"3\" ",
        " W/\"3\"", "*", "W/\"1.5\"", "W/\"٣\""}) {
    EXPECT_FALSE(parseVersionTag(bad).has_value()) << bad;
  }
}

TEST(FhirWriteBundle, IfMatchOnPutAndDeleteOnly) {
  const WriteRequest r = transaction({entry("PUT", "Patient/p1", patient(), "", R"("ifMatch":"W/\"3\"")"),
                                      entry("DELETE", "Observation/o1", "", "", R"("ifMatch":"\"7\"")")});
  ASSERT_TRUE(r.ok()) << r.problems[0].text;
  std::map<int, WriteEntry> byIndex;
  for (const auto& w : r.entries) byIndex[w.index] = w;
  EXPECT_EQ(byIndex[0].ifMatch, 3);
  EXPECT_EQ(byIndex[1].ifMatch, 7);
  const WriteRequest none = transaction({entry("PUT", "Patient/p1", patient())});
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none.entries[0].ifMatch.has_value());

  for (const std::string& extra : {std::string(R"("ifMatch":"W/\"0\"")"), std::string(R"("ifMatch":"3")"),
                                   std::string(R"("ifMatch":3)"), std::string(R"("ifMatch":"")"),
                                   std::string(R"("ifMatch":"W/\"abc\"")")}) {
    expectEntryRefused(entry("PUT", "Patient/p1", patient(), "", extra), "request.ifMatch");
  }
  expectEntryRefused(entry("POST", "Patient", patient(""), "", R"("ifMatch":"W/\"1\"")"), "request.ifMatch");
}

TEST(FhirWriteBundle, IfNoneExistOnPostOnly) {
  const WriteRequest r = transaction({entry("POST", "Patient", patient(""), "",
                                            R"("ifNoneExist":"identifier=urn:oid:2.16.840.1.113883.3.7000.1%7CMRN-1")")});
  ASSERT_TRUE(r.ok()) << r.problems[0].text;
  EXPECT_EQ(r.entries[0].method, WriteMethod::kPost);
  EXPECT_TRUE(r.entries[0].conditional);
  EXPECT_EQ(r.entries[0].condition.system, "urn:oid:2.16.840.1.113883.3.7000.1");
  EXPECT_EQ(r.entries[0].condition.value, "MRN-1");

  for (const std::string& value : {std::string("name=Smith"), std::string(""), std::string("identifier=MRN-1"),
                                   std::string("identifier=a|b&identifier=c|d"), std::string("identifier=%zz")}) {
    expectEntryRefused(entry("POST", "Patient", patient(""), "", R"("ifNoneExist":")" + value + "\""),
                       "request.ifNoneExist");
  }
  expectEntryRefused(entry("POST", "Patient", patient(""), "", R"("ifNoneExist":7)"), "request.ifNoneExist");
  expectEntryRefused(entry("PUT", "Patient/p1", patient(), "", R"("ifNoneExist":"identifier=urn:oid:1|A")"),
                     "ifNoneExist is only for POST");
  expectEntryRefused(entry("DELETE", "Patient/p1", "", "", R"("ifNoneExist":"identifier=urn:oid:1|A")"),
                     "ifNoneExist is only for POST");
}

// --- the resource ------------------------------------------------------------------------------

TEST(FhirWriteBundle, TheResourceMustAgreeWithTheUrl) {
  expectEntryRefused(entry("PUT", "Patient/p1", observation("p1", "Patient/p1")), "resource.resourceType must be Patient");
  expectEntryRefused(entry("POST", "Observation", patient("")), "resource.resourceType must be Observation");
  expectEntryRefused(entry("PUT", "Patient/p1", R"({"id":"p1"})"), "resource.resourceType must be Patient");
  expectEntryRefused(entry("PUT", "Patient/p1", patient("p2")), "resource.id must equal the id in the url");
  expectEntryRefused(entry("PUT", "Patient/p1", patient("")), "resource.id must equal the id in the url");
  expectEntryRefused(entry("PUT", "Patient/p1", R"({"resourceType":"Patient","id":1})"), "resource.id is not a valid");
  expectEntryRefused(entry("POST", "Patient", patient("a b")), "resource.id is not a valid FHIR id");
  expectEntryRefused(entry("POST", "Patient", patient(std::string(65, 'x'))), "resource.id is not a valid FHIR id");
  expectEntryRefused(entry("POST", "Patient", R"({"resourceType":"Patient","id":null})"), "resource.id is not a valid");
  expectEntryRefused(entry("PUT", "Patient/p1"), "PUT needs a resource object");
  expectEntryRefused(entry("POST", "Patient", "[]"), "POST needs a resource object");
  expectEntryRefused(entry("PUT", "Patient/p1", R"("Patient")"), "PUT needs a resource object");
  // A DELETE carries no resource to check; one given is ignored.
  const WriteRequest del = transaction({entry("DELETE", "Patient/p1", R"({"resourceType":"Observation"})")});
  ASSERT_TRUE(del.ok()) << del.problems[0].text;
  EXPECT_EQ(del.entries[0].method, WriteMethod::kDelete);
}

TEST(FhirWriteBundle, NulCannotBeStored) {
  expectEntryRefused(entry("PUT", "Patient/p1", patient("p1", R"("gender":"fe\u0000male")")), "NUL character");
  expectEntryRefused(entry("PUT", "Patient/p1", patient("p1", R"("name":[{"given":["A\u0000"]}])")), "NUL character");
  expectEntryRefused(entry("PUT", R"(Patient/p\u0000)", patient("p1")), "not a valid FHIR id");
  // A reference with a NUL is refused with its resource (a fullUrl is never stored).
  expectEntryRefused(entry("PUT", "Observation/o1", observation("o1", R"(urn:uuid:a\u0000)")), "NUL character");
  // Poco's parser cuts a member name at a NUL ("ke\u0000y" becomes "ke"): what reaches the
  // store has no NUL either way.
  const WriteRequest key = transaction({entry("PUT", "Patient/p1", patient("p1", R"("ke\u0000y":"x")"))});
  if (key.ok()) {
    const Finalized f = finalizeWrites(key, {{0, "p1"}});
    ASSERT_EQ(f.resources.size(), 1u);
    EXPECT_EQ(f.resources[0].json.find('\0'), std::string::npos);
    EXPECT_EQ(f.resources[0].json.find("\\u0000"), std::string::npos) << f.resources[0].json;
  }
}

TEST(FhirWriteBundle, R4RulesAreChecked) {
  expectEntryRefused(entry("PUT", "Patient/p1", patient("p1", R"("gender":"")")), "Patient.gender is an empty string");
  expectEntryRefused(entry("PUT", "Patient/p1", patient("p1", R"("birthDate":null)")), "Patient.birthDate is null");
  expectEntryRefused(entry("PUT", "Patient/p1", patient("p1", R"("name":[])")), "Patient.name is an empty array");
  expectEntryRefused(entry("PUT", "Patient/p1", patient("p1", R"("maritalStatus":{})")),
                     "Patient.maritalStatus is an empty object");
  expectEntryRefused(entry("PUT", "Observation/o1",
                           R"({"resourceType":"Observation","id":"o1","code":{"text":"x"},"subject":{"reference":"Patient/p1"}})"),
                     "Observation.status is missing");
  // Several problems of one entry are all reported, each naming the entry.
  const WriteRequest r = transaction({entry("PUT", "Patient/p1", patient("p1", R"("gender":"","birthDate":null)"))});
  ASSERT_EQ(r.problems.size(), 2u);
  for (const auto& p : r.problems) EXPECT_EQ(p.index, 0);
}

TEST(FhirWriteBundle, IdentifiersMustBeUsable) {
  const auto withIdentifier = [](const std::string& identifier) {
    return entry("PUT", "Patient/p1", R"({"resourceType":"Patient","id":"p1","identifier":)" + identifier + "}");
  };
  expectEntryRefused(withIdentifier(R"([{"system":"not a uri","value":"A"}])"), "system must be an absolute URI");
  expectEntryRefused(withIdentifier(R"([{"system":"2.16.840.1","value":"A"}])"), "system must be an absolute URI");
  expectEntryRefused(withIdentifier(R"([{"system":":x","value":"A"}])"), "system must be an absolute URI");
  expectEntryRefused(withIdentifier(R"([{"system":7,"value":"A"}])"), "system must be an absolute URI");
  expectEntryRefused(withIdentifier(R"([{"system":"urn:oid:1.2","value":"A\u0002"}])"), "value must be a string of 1-256");
  expectEntryRefused(withIdentifier(R"([{"system":"urn:oid:1.2","value":7}])"), "value must be a string of 1-256");
  expectEntryRefused(withIdentifier(R"([{"system":"urn:oid:1.2","value":")" + std::string(257, 'v') + "\"}]"),
                     "value must be a string of 1-256");
  expectEntryRefused(withIdentifier(R"([{"system":"urn:oid:1.2"}])"), "value must be a string of 1-256");
  expectEntryRefused(withIdentifier(R"({"system":"urn:oid:1.2","value":"A"})"), "identifier must be an array");
  expectEntryRefused(withIdentifier(R"(["urn:oid:1.2|A"])"), "identifier[0] must be an object");
  // An empty value is both an R4 problem and an identifier problem.
  const WriteRequest empty = transaction({withIdentifier(R"([{"system":"urn:oid:1.2","value":""}])")});
  ASSERT_EQ(empty.problems.size(), 2u);
  EXPECT_NE(empty.problems[0].text.find("empty string"), std::string::npos) << empty.problems[0].text;
  EXPECT_NE(empty.problems[1].text.find("value must be a string of 1-256"), std::string::npos);
  // A value without a system is accepted (it is not used for lookups).
  EXPECT_TRUE(transaction({withIdentifier(R"([{"value":"A"}])")}).ok());
}

// --- patient references --------------------------------------------------------------------------

TEST(FhirWriteBundle, PatientReferences) {
  EXPECT_TRUE(transaction({entry("PUT", "Observation/o1", observation("o1", "Patient/p1"))}).ok());
  // AllergyIntolerance names its patient in "patient".
  EXPECT_TRUE(transaction({entry("PUT", "AllergyIntolerance/a1",
                                 R"({"resourceType":"AllergyIntolerance","id":"a1","patient":{"reference":"Patient/p1"}})")})
                  .ok());
  const WriteRequest wrongField = transaction({entry(
      "PUT", "AllergyIntolerance/a1",
      R"({"resourceType":"AllergyIntolerance","id":"a1","subject":{"reference":"Patient/p1"}})")});
  ASSERT_EQ(wrongField.problems.size(), 2u);
  EXPECT_NE(wrongField.problems[0].text.find("AllergyIntolerance.patient is missing"), std::string::npos);
  EXPECT_NE(wrongField.problems[1].text.find("patient.reference must be Patient/ID"), std::string::npos);
  for (const std::string ref : {"p1", "Patient/", "Patient/a b", "Group/g1", "https://node.example.org/fhir/Patient/p1",
                                "patient/p1", "Patient/p1/_history/2"}) {
    expectEntryRefused(entry("PUT", "Observation/o1", observation("o1", ref)),
                       "subject.reference must be Patient/ID or the urn:uuid: fullUrl");
  }
  expectEntryRefused(entry("PUT", "Observation/o1",
                           R"({"resourceType":"Observation","id":"o1","status":"final","code":{"text":"x"}})"),
                     "subject.reference must be Patient/ID");

  const std::string patientUrn = "urn:uuid:0f8c2d4e-1111-4a4a-8b8b-000000000001";
  const std::string obsUrn = "urn:uuid:0f8c2d4e-1111-4a4a-8b8b-000000000002";
  // The fullUrl of a Patient entry of the same transaction.
  const WriteRequest ok = transaction({entry("POST", "Patient", patient(""), patientUrn),
                                       entry("POST", "Observation", observation("", patientUrn))});
  EXPECT_TRUE(ok.ok()) << ok.problems[0].text;
  // ... whichever comes first in the bundle.
  EXPECT_TRUE(transaction({entry("POST", "Observation", observation("", patientUrn)),
                           entry("POST", "Patient", patient(""), patientUrn)})
                  .ok());
  // The fullUrl of an Observation: not a patient.
  const WriteRequest notPatient = transaction({entry("POST", "Observation", observation("", "Patient/p1"), obsUrn),
                                               entry("POST", "Observation", observation("", obsUrn))});
  expectOneProblem(notPatient, 1, 400, "invalid", "subject.reference names an entry that is not a Patient", "obs urn");
  EXPECT_TRUE(notPatient.entries.empty());
  // No entry has it.
  const WriteRequest unknown = transaction({entry("POST", "Patient", patient(""), patientUrn),
                                            entry("POST", "Observation", observation("", obsUrn))});
  expectOneProblem(unknown, 1, 400, "invalid", "no entry of this transaction has as its fullUrl", "unknown urn");
  // A deleted entry's fullUrl names nothing to refer to.
  const WriteRequest deleted = transaction({entry("DELETE", "Patient/p1", "", patientUrn),
                                            entry("POST", "Observation", observation("", patientUrn))});
  expectOneProblem(deleted, 1, 400, "invalid", "no entry of this transaction has as its fullUrl", "deleted urn");
  // A batch's entries stand alone.
  const WriteRequest inBatch = batch({entry("POST", "Patient", patient(""), patientUrn),
                                      entry("POST", "Observation", observation("", patientUrn))});
  expectOneProblem(inBatch, 1, 400, "invalid", "a batch cannot resolve", "batch urn");
  ASSERT_EQ(inBatch.entries.size(), 1u);
  EXPECT_EQ(inBatch.entries[0].index, 0);
  // Any other reference to a urn:uuid: must resolve too.
  const WriteRequest other = transaction({entry(
      "PUT", "Observation/o1", observation("o1", "Patient/p1", R"("performer":[{"reference":")" + obsUrn + R"("}])"))});
  expectOneProblem(other, 0, 400, "invalid", "no entry of this transaction has as its fullUrl", "performer urn");
}

TEST(FhirWriteBundle, EveryUrnUuidReferenceMustResolveHoweverManyThereAre) {
  const std::string p = "urn:uuid:6c1f3b1e-0000-4000-8000-00000000000a";
  std::vector<std::string> refs(20, R"({"reference":")" + p + R"("})");
  // basedOn comes before performer in the parsed object: the unknown reference is the 21st.
  const std::string extra = R"("basedOn":[)" + join(refs) + R"(],"performer":[{"reference":"urn:uuid:nowhere"}])";
  const WriteRequest r = transaction({entry("POST", "Patient", patient(""), p),
                                      entry("POST", "Observation", observation("", p, extra))});
  expectOneProblem(r, 1, 400, "invalid", "no entry of this transaction has as its fullUrl", "21st reference");
  EXPECT_TRUE(r.entries.empty());
  // The same number of references that all resolve is fine.
  const WriteRequest ok = transaction({entry("POST", "Patient", patient(""), p),
                                       entry("POST", "Observation", observation("", p, R"("basedOn":[)" + join(refs) + "]"))});
  EXPECT_TRUE(ok.ok()) << ok.problems[0].text;
}

TEST(FhirWriteBundle, FullUrlMustBeAUri) {
  const std::string request = R"("request":{"method":"PUT","url":"Patient/p1"})";
  for (const std::string& fullUrl : std::vector<std::string>{R"("")", "7", "null", R"({"a":1})", "\"" + std::string(1025, 'u') + "\""}) {
    expectEntryRefused(R"({"fullUrl":)" + fullUrl + R"(,"resource":)" + patient() + "," + request + "}",
                       "fullUrl must be a URI of at most 1024 characters");
  }
  const WriteRequest ok = transaction({entry("PUT", "Patient/p1", patient(), "https://node.example.org/fhir/Patient/p1")});
  ASSERT_TRUE(ok.ok()) << ok.problems[0].text;
  EXPECT_EQ(ok.entries[0].fullUrl, "https://node.example.org/fhir/Patient/p1");
}

// --- transactions: every target and fullUrl once --------------------------------------------------

TEST(FhirWriteBundle, ATransactionWritesEachTargetAndFullUrlOnce) {
  const std::string cond = "Patient?identifier=urn:oid:2.16.840.1.113883.3.7000.1%7CMRN-1";
  const std::vector<std::tuple<std::string, std::string, std::string>> twice = {
      {entry("PUT", "Patient/p1", patient()), entry("PUT", "Patient/p1", patient()), "writes Patient/p1 more than once"},
      {entry("DELETE", "Patient/p1"), entry("PUT", "Patient/p1", patient()), "writes Patient/p1 more than once"},
      {entry("PUT", "Patient/p1", patient()), entry("DELETE", "Patient/p1"), "writes Patient/p1 more than once"},
      {entry("DELETE", "Observation/o1"), entry("DELETE", "Observation/o1"), "writes Observation/o1 more than once"},
      {entry("PUT", cond, patient("")), entry("PUT", cond, patient("")), "Patient of that identifier more than once"},
      {entry("PUT", "Patient/p1", patient(), "urn:uuid:a"), entry("PUT", "Patient/p2", patient("p2"), "urn:uuid:a"),
       "fullUrl appears in more than one entry"},
      {entry("DELETE", "Patient/p1", "", "urn:uuid:a"), entry("POST", "Patient", patient(""), "urn:uuid:a"),
       "fullUrl appears in more than one entry"},
  };
  for (const auto& [first, second, part] : twice) {
    const WriteRequest t = transaction({first, second});
    expectOneProblem(t, 1, 400, "invalid", part, first + " " + second);
    EXPECT_TRUE(t.entries.empty()) << "a transaction with any problem has nothing to apply";
    // A batch's entries are independent requests: the same target twice is the client's business.
    const WriteRequest b = batch({first, second});
    EXPECT_TRUE(b.ok()) << first << " " << second << ": " << b.problems[0].text;
    EXPECT_EQ(b.entries.size(), 2u);
  }
  // Conditional creates name their target by the condition: twice, or with a conditional update of it, is refused.
  const std::string ifNone = R"("ifNoneExist":"identifier=urn:oid:2.16.840.1.113883.3.7000.1%7CMRN-1")";
  expectOneProblem(transaction({entry("POST", "Patient", patient(""), "", ifNone), entry("POST", "Patient", patient(""), "", ifNone)}),
                   1, 400, "invalid", "Patient of that identifier more than once", "two conditional creates");
  expectOneProblem(transaction({entry("POST", "Patient", patient(""), "", ifNone), entry("PUT", cond, patient(""))}), 1, 400,
                   "invalid", "Patient of that identifier more than once", "conditional create and update");
  // Two creates of the same type are two resources, whatever ids the client proposes.
  EXPECT_TRUE(transaction({entry("POST", "Patient", patient("p1")), entry("POST", "Patient", patient("p1"))}).ok());
  // Different targets.
  EXPECT_TRUE(transaction({entry("PUT", "Patient/p1", patient()), entry("PUT", "Patient/p2", patient("p2")),
                           entry("DELETE", "Observation/p1")})
                  .ok());
}

TEST(FhirWriteBundle, EntriesApplyAsDeletePostPutKeepingTheirIndex) {
  const WriteRequest r = transaction({
      entry("PUT", "Patient/p1", patient()),                                       // 0
      entry("POST", "Observation", observation("", "Patient/p1")),                 // 1
      entry("DELETE", "Observation/o9"),                                           // 2
      entry("PUT", "Observation/o2", observation("o2", "Patient/p1")),             // 3
      entry("POST", "Patient", patient("")),                                       // 4
      entry("DELETE", "Condition/c1"),                                             // 5
      entry("PUT", "Patient?identifier=urn:oid:2.16.840.1.113883.3.7000.1%7CX", patient("")),  // 6
  });
  ASSERT_TRUE(r.ok()) << r.problems[0].text;
  std::vector<int> order;
  for (const auto& w : r.entries) order.push_back(w.index);
  // DELETE, POST, PUT; within each by type, then unconditional before conditional, then id (a fixed lock order).
  EXPECT_EQ(order, (std::vector<int>{5, 2, 1, 4, 3, 0, 6}));
  // The resources travel with their entries.
  std::map<int, std::string> ids;
  for (std::size_t i = 0; i < r.entries.size(); ++i) {
    if (r.entries[i].method != WriteMethod::kDelete) ids[static_cast<int>(i)] = "id" + std::to_string(r.entries[i].index);
  }
  const Finalized f = finalizeWrites(r, ids);
  ASSERT_TRUE(f.problems.empty()) << f.problems[0].text;
  ASSERT_EQ(f.resources.size(), 5u);
  for (const auto& res : f.resources) {
    const WriteEntry& w = r.entries.at(static_cast<std::size_t>(res.entry));
    const Object::Ptr o = parse(res.json);
    EXPECT_EQ(o->getValue<std::string>("resourceType"), w.type) << w.index;
    EXPECT_EQ(o->getValue<std::string>("id"), "id" + std::to_string(w.index));
  }
}

TEST(FhirWriteBundle, ABatchKeepsItsGoodEntriesAndNamesTheBadOnes) {
  const WriteRequest r = batch({
      entry("PUT", "Patient/p1", patient()),                        // 0 good
      entry("GET", "Patient/p1"),                                   // 1 bad method
      entry("DELETE", "Observation/o1"),                            // 2 good
      entry("PUT", "Medication/m1", R"({"resourceType":"Medication","id":"m1"})"),  // 3 bad type
      entry("PUT", "Patient/p2", patient("p2", R"("gender":"")")),  // 4 bad resource
      entry("POST", "Observation", observation("", "urn:uuid:x")),  // 5 bad reference
      entry("POST", "Observation", observation("", "Patient/p1")),  // 6 good
  });
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.kind, WriteRequest::Kind::kBatch);
  std::vector<int> bad;
  for (const auto& p : r.problems) {
    bad.push_back(p.index);
    EXPECT_EQ(p.text.rfind("Bundle.entry[" + std::to_string(p.index) + "]: ", 0), 0u) << p.text;
  }
  EXPECT_EQ(bad, (std::vector<int>{1, 3, 4, 5}));
  EXPECT_EQ(r.problems[0].issueCode, "not-supported");
  EXPECT_EQ(r.problems[1].issueCode, "not-supported");
  EXPECT_EQ(r.problems[2].issueCode, "invalid");
  std::vector<int> good;
  for (const auto& w : r.entries) good.push_back(w.index);
  EXPECT_EQ(good, (std::vector<int>{2, 6, 0}));

  // Each good entry stands alone as a request of its own.
  const WriteRequest one = batchEntry(r, 2);
  EXPECT_EQ(one.kind, WriteRequest::Kind::kBatch);
  ASSERT_EQ(one.entries.size(), 1u);
  EXPECT_EQ(one.entries[0].index, 0);
  const Finalized f = finalizeWrites(one, {{0, "p1"}});
  ASSERT_EQ(f.resources.size(), 1u);
  EXPECT_EQ(f.resources[0].patientId, "p1");
  EXPECT_TRUE(f.resources[0].patientInRequest);
}

// --- finalizeWrites ------------------------------------------------------------------------------

TEST(FhirWriteFinalize, ReferencesToFullUrlsBecomeTypeAndIdButIdentifierValuesStay) {
  const std::string p = "urn:uuid:6c1f3b1e-0000-4000-8000-00000000000a";
  const std::string o = "urn:uuid:6c1f3b1e-0000-4000-8000-00000000000b";
  const std::string extra = R"("identifier":[{"system":"urn:ietf:rfc:3986","value":")" + p + R"("}],)" +
                            R"("hasMember":[{"reference":")" + o + R"("},{"reference":"Observation/keep"}],)" +
                            R"("extension":[{"url":"https://example.org/x","valueReference":{"reference":")" + p +
                            R"(","display":")" + p + R"("}}],)" + R"("focus":[{"identifier":{"value":")" + p +
                            R"("}}])";
  const WriteRequest r = transaction({
      entry("POST", "Observation", observation("", p, extra), "urn:uuid:6c1f3b1e-0000-4000-8000-00000000000c"),
      entry("POST", "Patient", patient(""), p),
      entry("PUT", "Observation/o2", observation("o2", "Patient/other"), o),
  });
  ASSERT_TRUE(r.ok()) << r.problems[0].text;
  // Applied as POST, POST, PUT: positions 0 (entry 0), 1 (entry 1), 2 (entry 2).
  ASSERT_EQ(r.entries[1].type, "Patient");
  const Finalized f = finalizeWrites(r, {{0, "obs-new"}, {1, "pat-new"}, {2, "o2"}});
  ASSERT_TRUE(f.problems.empty()) << f.problems[0].text;
  ASSERT_EQ(f.resources.size(), 3u);

  const FinalResource& obs = f.resources[0];
  EXPECT_EQ(obs.entry, 0);
  EXPECT_EQ(obs.patientId, "pat-new");
  EXPECT_TRUE(obs.patientInRequest);
  const Object::Ptr json = parse(obs.json);
  EXPECT_EQ(json->getValue<std::string>("id"), "obs-new");
  EXPECT_EQ(referenceAt(json, "subject"), "Patient/pat-new");
  const auto members = json->getArray("hasMember");
  EXPECT_EQ(members->getObject(0)->getValue<std::string>("reference"), "Observation/o2");
  EXPECT_EQ(members->getObject(1)->getValue<std::string>("reference"), "Observation/keep");
  const auto ext = json->getArray("extension")->getObject(0)->getObject("valueReference");
  EXPECT_EQ(ext->getValue<std::string>("reference"), "Patient/pat-new");
  EXPECT_EQ(ext->getValue<std::string>("display"), p) << "only Reference.reference is rewritten";
  EXPECT_EQ(json->getArray("identifier")->getObject(0)->getValue<std::string>("value"), p)
      << "an identifier value equal to a fullUrl is data, not a reference";
  EXPECT_EQ(json->getArray("focus")->getObject(0)->getObject("identifier")->getValue<std::string>("value"), p);

  const FinalResource& pat = f.resources[1];
  EXPECT_EQ(pat.patientId, "pat-new");
  EXPECT_TRUE(pat.patientInRequest);
  EXPECT_EQ(pat.identifiers,
            (std::vector<std::pair<std::string, std::string>>{{"urn:oid:2.16.840.1.113883.3.7000.1", "MRN-1"}}));
  EXPECT_EQ(parse(pat.json)->getValue<std::string>("id"), "pat-new");

  const FinalResource& other = f.resources[2];
  EXPECT_EQ(other.patientId, "other");
  EXPECT_FALSE(other.patientInRequest);
}

// The ids finalizeWrites takes, given by bundle index (entries are applied in another order).
std::map<int, std::string> idsByIndex(const WriteRequest& r, const std::map<int, std::string>& byIndex) {
  std::map<int, std::string> ids;
  for (std::size_t i = 0; i < r.entries.size(); ++i) {
    auto it = byIndex.find(r.entries[i].index);
    if (it != byIndex.end()) ids[static_cast<int>(i)] = it->second;
  }
  return ids;
}

// The finalized resource of the entry with that bundle index.
const FinalResource& resourceOf(const WriteRequest& r, const Finalized& f, int index) {
  for (const auto& res : f.resources) {
    if (r.entries.at(static_cast<std::size_t>(res.entry)).index == index) return res;
  }
  throw std::runtime_error("no resource of entry " + std::to_string(index));
}

TEST(FhirWriteFinalize, PatientInRequestAndIdentifiers) {
  const WriteRequest r = transaction({
      entry("PUT", "Patient/p1", R"({"resourceType":"Patient","id":"p1","identifier":[)"
                                 R"({"system":"urn:oid:1.2","value":"A"},{"value":"no-system"},)"
                                 R"({"system":"urn:oid:1.3","value":"B"}]})"),
      entry("PUT", "Observation/o1", observation("o1", "Patient/p1")),
      entry("PUT", "Observation/o2", observation("o2", "Patient/p2")),
  });
  ASSERT_TRUE(r.ok()) << r.problems[0].text;
  const Finalized f = finalizeWrites(r, idsByIndex(r, {{0, "p1"}, {1, "o1"}, {2, "o2"}}));
  ASSERT_TRUE(f.problems.empty());
  ASSERT_EQ(f.resources.size(), 3u);
  EXPECT_EQ(resourceOf(r, f, 0).identifiers,
            (std::vector<std::pair<std::string, std::string>>{{"urn:oid:1.2", "A"}, {"urn:oid:1.3", "B"}}));
  EXPECT_TRUE(resourceOf(r, f, 1).patientInRequest) << "Patient/p1 is written by the same transaction";
  EXPECT_EQ(resourceOf(r, f, 2).patientId, "p2");
  EXPECT_FALSE(resourceOf(r, f, 2).patientInRequest);

  // A patient create the store found already done is not written: not in the request.
  const Finalized skipped = finalizeWrites(r, idsByIndex(r, {{1, "o1"}}));
  ASSERT_EQ(skipped.resources.size(), 1u);
  EXPECT_EQ(r.entries.at(static_cast<std::size_t>(skipped.resources[0].entry)).index, 1);
  EXPECT_FALSE(skipped.resources[0].patientInRequest);
}

TEST(FhirWriteFinalize, APatientFullUrlWithoutAnIdIsAProblemOfTheReferringEntry) {
  const std::string p = "urn:uuid:6c1f3b1e-0000-4000-8000-00000000000a";
  const WriteRequest r = transaction({entry("POST", "Patient", patient(""), p),
                                      entry("POST", "Observation", observation("", p))});
  ASSERT_TRUE(r.ok()) << r.problems[0].text;
  const Finalized f = finalizeWrites(r, idsByIndex(r, {{1, "o1"}}));  // the patient got no id
  ASSERT_EQ(f.problems.size(), 1u);
  EXPECT_EQ(f.problems[0].index, 1);
  EXPECT_NE(f.problems[0].text.find("does not resolve to a Patient"), std::string::npos) << f.problems[0].text;
  EXPECT_TRUE(f.resources.empty());
}

// --- single-resource requests --------------------------------------------------------------------

WriteRequest single(const std::string& method, const std::string& target, const std::string& body,
                    const HeaderList& query = {}, const std::string& ifMatch = "", const std::string& ifNoneExist = "") {
  return parseSingleWrite(method, target, query, body, ifMatch, ifNoneExist, types());
}

TEST(FhirWriteSingle, PutPostAndDelete) {
  const WriteRequest put = single("PUT", "Patient/p1", patient(), {}, "W/\"4\"");
  ASSERT_TRUE(put.ok()) << put.problems[0].text;
  EXPECT_EQ(put.kind, WriteRequest::Kind::kSingle);
  ASSERT_EQ(put.entries.size(), 1u);
  EXPECT_EQ(put.entries[0].index, -1);
  EXPECT_EQ(put.entries[0].method, WriteMethod::kPut);
  EXPECT_EQ(put.entries[0].id, "p1");
  EXPECT_EQ(put.entries[0].ifMatch, 4);

  const WriteRequest cond = single("PUT", "Patient", patient(""), {{"identifier", "urn:oid:1.2|A"}});
  ASSERT_TRUE(cond.ok()) << cond.problems[0].text;
  EXPECT_EQ(cond.entries[0].method, WriteMethod::kConditionalPut);
  EXPECT_EQ(cond.entries[0].condition.system, "urn:oid:1.2");
  EXPECT_EQ(cond.entries[0].condition.value, "A");
  const WriteRequest condWithId = single("PUT", "Patient", patient("mine"), {{"identifier", "urn:oid:1.2|A"}});
  ASSERT_TRUE(condWithId.ok());
  EXPECT_EQ(condWithId.entries[0].id, "mine");

  const WriteRequest post = single("POST", "Patient", patient("client-chose-this"));
  ASSERT_TRUE(post.ok()) << post.problems[0].text;
  EXPECT_EQ(post.entries[0].method, WriteMethod::kPost);
  EXPECT_EQ(post.entries[0].id, "") << "the server assigns the id of a create";
  EXPECT_FALSE(post.entries[0].conditional);
  const Finalized f = finalizeWrites(post, {{0, "server-id"}});
  ASSERT_EQ(f.resources.size(), 1u);
  EXPECT_EQ(parse(f.resources[0].json)->getValue<std::string>("id"), "server-id");

  const WriteRequest postIf = single("POST", "Patient", patient(""), {}, "", "identifier=urn:oid:1.2%7CA");
  ASSERT_TRUE(postIf.ok()) << postIf.problems[0].text;
  EXPECT_TRUE(postIf.entries[0].conditional);
  EXPECT_EQ(postIf.entries[0].condition.value, "A");

  const WriteRequest del = single("DELETE", "Observation/o1", "", {}, "W/\"2\"");
  ASSERT_TRUE(del.ok()) << del.problems[0].text;
  EXPECT_EQ(del.entries[0].method, WriteMethod::kDelete);
  EXPECT_EQ(del.entries[0].id, "o1");
  EXPECT_EQ(del.entries[0].ifMatch, 2);
  EXPECT_TRUE(finalizeWrites(del, {}).resources.empty());
}

TEST(FhirWriteSingle, RefusedRequests) {
  struct Case {
    WriteRequest request;
    int status;
    std::string code, part;
  };
  const std::vector<Case> cases = {
      {single("DELETE", "Patient/p1", patient()), 400, "invalid", "DELETE takes no body"},
      {single("DELETE", "Patient/p1", " "), 400, "invalid", "DELETE takes no body"},
      {single("PUT", "Medication/m1", "{}"), 404, "not-supported", "'Medication' is not one this node stores"},
      {single("PATCH", "Patient/p1", patient()), 400, "not-supported", "request.method must be PUT, POST or DELETE"},
      {single("GET", "Patient/p1", ""), 400, "not-supported", "request.method"},
      {single("PUT", "Patient/p1", ""), 400, "invalid", "no body"},
      {single("PUT", "Patient/p1", "{"), 400, "invalid", "not valid JSON"},
      {single("PUT", "Patient/p1", "[1]"), 400, "invalid", "not an object"},
      {single("PUT", "Patient/p1", "{\"resourceType\":\"Patient\",\"id\":\"p1\",\"x\":\"\xc3\"}"), 400, "invalid",
       "not valid UTF-8"},
      {single("PUT", "Patient/p1", patient("p2")), 400, "invalid", "resource.id must equal the id in the url"},
      {single("PUT", "Patient/p1", observation("p1", "Patient/p1")), 400, "invalid", "resourceType must be Patient"},
      {single("PUT", "Patient/a b", patient("a b")), 400, "invalid", "not a valid FHIR id"},
      {single("PUT", "Patient", patient("")), 400, "invalid", "PUT needs Type/id"},
      {single("PUT", "Patient", patient(""), {{"name", "x"}}), 400, "invalid", "the only condition"},
      {single("POST", "Patient/p1", patient()), 400, "invalid", "POST creates"},
      {single("DELETE", "Patient", ""), 400, "invalid", "DELETE needs Type/id"},
      {single("POST", "Patient", patient(""), {}, "W/\"1\""), 400, "invalid", "If-Match must be W/\"n\""},
      {single("PUT", "Patient/p1", patient(), {}, "W/\"0\""), 400, "invalid", "If-Match"},
      {single("PUT", "Patient/p1", patient(), {}, "*"), 400, "invalid", "If-Match"},
      {single("PUT", "Patient/p1", patient(), {}, "", "identifier=urn:oid:1|A"), 400, "invalid",
       "If-None-Exist is only for POST"},
      {single("POST", "Patient", patient(""), {}, "", "name=x"), 400, "invalid", "If-None-Exist: the only condition"},
      {single("PUT", "Observation/o1", observation("o1", "urn:uuid:6c1f3b1e-0000-4000-8000-00000000000a")), 400,
       "invalid", "only a transaction can resolve"},
      {single("PUT", "Patient/p1", patient("p1", R"("gender":"")")), 400, "invalid", "empty string"},
      {single("PUT", "Patient/p1", patient("p1", R"("gender":"\u0000")")), 400, "invalid", "NUL"},
  };
  for (const auto& c : cases) {
    ASSERT_FALSE(c.request.ok()) << c.part;
    EXPECT_TRUE(c.request.entries.empty()) << c.part;
    const WriteProblem& p = c.request.problems[0];
    EXPECT_EQ(p.index, -1) << c.part;
    EXPECT_EQ(p.status, c.status) << c.part << ": " << p.text;
    EXPECT_EQ(p.issueCode, c.code) << c.part << ": " << p.text;
    EXPECT_NE(p.text.find(c.part), std::string::npos) << c.part << ": " << p.text;
    EXPECT_EQ(p.text.find("Bundle.entry"), std::string::npos) << p.text;
  }
}

}  // namespace
}  // namespace hie::exchange
