// The FHIR write API over real mTLS against a real PostgreSQL: the institution's own systems
// (role local) keep records current; everyone else is refused; every version is kept; a refused
// write stores nothing (counted in fhir_resources, fhir_resource_history, patient_identifiers).
#include <gtest/gtest.h>

#include <regex>
#include <sstream>

#include "tests/integration/records_write_fixture.h"
#include "tests/support/fhir_validator.h"

namespace hie::testing {
namespace {

class RecordsWrite : public RecordsWriteFixture {};

const char* kPatient =
    R"({"resourceType":"Patient","id":"w-1","identifier":[{"system":"urn:oid:1.2.3","value":"MRN-1"}],"name":[{"family":"Doe"}]})";

std::string patient(const std::string& id, const std::string& family, const std::string& mrn = "") {
  std::string p = R"({"resourceType":"Patient")";
  if (!id.empty()) p += R"(,"id":")" + id + "\"";
  if (!mrn.empty()) p += R"(,"identifier":[{"system":"urn:oid:1.2.3","value":")" + mrn + "\"}]";
  return p + R"(,"name":[{"family":")" + family + "\"}]}";
}

std::string observation(const std::string& id, const std::string& subject) {
  std::string o = R"({"resourceType":"Observation")";
  if (!id.empty()) o += R"(,"id":")" + id + "\"";
  return o + R"(,"status":"final","code":{"text":"pulse"},"subject":{"reference":")" + subject + "\"}}";
}

// A bundle entry: PUT/DELETE Type/id or POST Type; extra goes into request (e.g. ,"ifMatch":"W/\"1\"").
std::string entry(const std::string& method, const std::string& url, const std::string& resource,
                  const std::string& fullUrl = "", const std::string& extra = "") {
  std::string e = "{";
  if (!fullUrl.empty()) e += R"("fullUrl":")" + fullUrl + "\",";
  if (!resource.empty()) e += R"("resource":)" + resource + ",";
  return e + R"("request":{"method":")" + method + R"(","url":")" + url + "\"" + extra + "}}";
}

std::string bundle(const std::string& type, const std::vector<std::string>& entries) {
  std::string b = R"({"resourceType":"Bundle","type":")" + type + R"(","entry":[)";
  for (std::size_t i = 0; i < entries.size(); ++i) b += (i ? "," : "") + entries[i];
  return b + "]}";
}

TEST_F(RecordsWrite, SmokePutReadDelete) {
  start();
  auto created = send(hospital, "PUT", "/fhir/Patient/w-1", kPatient);
  ASSERT_EQ(created.status, 201) << created.body << f.node()->log();
  EXPECT_EQ(created.header("ETag"), "W/\"1\"");
  auto updated = send(hospital, "PUT", "/fhir/Patient/w-1", kPatient, {"If-Match: W/\"1\""});
  ASSERT_EQ(updated.status, 200) << updated.body;
  EXPECT_EQ(updated.header("ETag"), "W/\"2\"");
  auto stale = send(hospital, "PUT", "/fhir/Patient/w-1", kPatient, {"If-Match: W/\"1\""});
  EXPECT_EQ(stale.status, 412) << stale.body;
  auto read = f.get(lakeside, "/fhir/Patient/w-1", {"X-Purpose-Of-Use: TREAT"});
  EXPECT_EQ(read.status, 200) << read.body;
  EXPECT_EQ(read.header("ETag"), "W/\"2\"");
  auto v1 = f.get(lakeside, "/fhir/Patient/w-1/_history/1", {"X-Purpose-Of-Use: TREAT"});
  EXPECT_EQ(v1.status, 200) << v1.body;
  auto member = send(lakeside, "PUT", "/fhir/Patient/w-1", kPatient, {}, "TREAT");
  EXPECT_EQ(member.status, 403) << member.body;
  const std::string tx = R"({"resourceType":"Bundle","type":"transaction","entry":[
    {"fullUrl":"urn:uuid:0b0c1a2e-1111-4222-8333-444455556666","resource":{"resourceType":"Patient","name":[{"family":"New"}]},
     "request":{"method":"POST","url":"Patient"}},
    {"resource":{"resourceType":"Observation","status":"final","code":{"text":"x"},
      "subject":{"reference":"urn:uuid:0b0c1a2e-1111-4222-8333-444455556666"}},"request":{"method":"POST","url":"Observation"}}]})";
  auto posted = send(hospital, "POST", "/fhir", tx);
  EXPECT_EQ(posted.status, 200) << posted.body << f.node()->log();
  EXPECT_NE(posted.body.find("transaction-response"), std::string::npos) << posted.body;
  auto del = send(hospital, "DELETE", "/fhir/Patient/w-1", "");
  EXPECT_EQ(del.status, 200) << del.body;
  auto gone = f.get(lakeside, "/fhir/Patient/w-1", {"X-Purpose-Of-Use: TREAT"});
  EXPECT_EQ(gone.status, 410) << gone.body;
}

TEST_F(RecordsWrite, OnlyTheInstitutionsOwnSystemsWrite) {
  start();
  ASSERT_EQ(send(hospital, "PUT", "/fhir/Patient/w-1", kPatient).status, 201);
  const StoredCounts before = counts();
  const std::string tx = bundle("transaction", {entry("PUT", "Patient/w-9", patient("w-9", "Roe"))});
  for (const Credential* who : {&lakeside, &auditor}) {
    const std::string name = who == &lakeside ? "member" : "auditor";
    for (const std::string purpose : {"HOPERAT", "TREAT"}) {
      auto put = send(*who, "PUT", "/fhir/Patient/w-1", kPatient, {}, purpose);
      EXPECT_EQ(put.status, 403) << name << " " << put.body;
      EXPECT_TRUE(contains(put.body, "\"code\":\"forbidden\"")) << put.body;
      auto post = send(*who, "POST", "/fhir", tx, {}, purpose);
      EXPECT_EQ(post.status, 403) << name << " " << post.body;
      auto create = send(*who, "POST", "/fhir/Patient", patient("", "Roe"), {}, purpose);
      EXPECT_EQ(create.status, 403) << name << " " << create.body;
      auto del = send(*who, "DELETE", "/fhir/Patient/w-1", "", {}, purpose);
      EXPECT_EQ(del.status, 403) << name << " " << del.body;
    }
  }
  EXPECT_EQ(counts(), before);
  EXPECT_EQ(versionOf("Patient", "w-1"), 1);
}

TEST_F(RecordsWrite, WritesNeedAPurposeAcceptedForWrites) {
  start();
  const StoredCounts empty = counts();
  auto missing = send(hospital, "PUT", "/fhir/Patient/w-1", kPatient, {}, "");
  EXPECT_EQ(missing.status, 400) << missing.body;
  EXPECT_TRUE(contains(missing.body, "X-Purpose-Of-Use")) << missing.body;
  auto unknown = send(hospital, "PUT", "/fhir/Patient/w-1", kPatient, {}, "NOSUCHPURPOSE");
  EXPECT_EQ(unknown.status, 400) << unknown.body;
  auto twice = send(hospital, "PUT", "/fhir/Patient/w-1", kPatient, {"X-Purpose-Of-Use: TREAT"}, "TREAT");
  EXPECT_EQ(twice.status, 400) << twice.body;
  auto payment = send(hospital, "PUT", "/fhir/Patient/w-1", kPatient, {}, "HPAYMT");
  EXPECT_EQ(payment.status, 403) << payment.body;
  EXPECT_TRUE(contains(payment.body, "not accepted for writes")) << payment.body;
  auto paymentBundle =
      send(hospital, "POST", "/fhir", bundle("transaction", {entry("PUT", "Patient/w-1", kPatient)}), {}, "HPAYMT");
  EXPECT_EQ(paymentBundle.status, 403) << paymentBundle.body;
  EXPECT_EQ(counts(), empty);
  // Every purpose of records.writePurposes writes.
  EXPECT_EQ(send(hospital, "PUT", "/fhir/Patient/w-1", kPatient, {}, "TREAT").status, 201);
  EXPECT_EQ(send(hospital, "PUT", "/fhir/Patient/w-1", kPatient, {}, "PATADMIN").status, 200);
}

// Every malformed or impossible write: its status, what the OperationOutcome says, and no row stored.
TEST_F(RecordsWrite, RefusedWritesStoreNothing) {
  start();
  ASSERT_EQ(send(hospital, "PUT", "/fhir/Patient/w-1", kPatient).status, 201);
  ASSERT_EQ(send(hospital, "PUT", "/fhir/Observation/o-1", observation("o-1", "Patient/w-1")).status, 201);
  const StoredCounts before = counts();
  ASSERT_EQ(before, (StoredCounts{2, 2, 1}));

  struct Case {
    std::string name, method, path, body;
    std::vector<std::string> headers;
    std::string contentType;
    int status;
    std::string says;  // part of the flattened answer
  };
  const std::string fhirJson = "application/fhir+json";
  const std::string urn = "urn:uuid:9a0b5f3e-2d41-4c6e-8f7a-1b2c3d4e5f60";
  const std::vector<Case> cases = {
      {"text/plain", "PUT", "/fhir/Patient/w-1", kPatient, {}, "text/plain", 415, "not-supported"},
      {"no content type", "PUT", "/fhir/Patient/w-1", kPatient, {}, "", 415, "not-supported"},
      {"xml", "POST", "/fhir", "<Bundle/>", {}, "application/fhir+xml", 415, "not-supported"},
      {"charset latin1", "PUT", "/fhir/Patient/w-1", kPatient, {}, fhirJson + "; charset=ISO-8859-1", 415, ""},
      {"malformed json", "PUT", "/fhir/Patient/w-1", R"({"resourceType":"Patient","id":"w-1",)", {}, fhirJson, 400,
       "not valid JSON"},
      {"json array", "PUT", "/fhir/Patient/w-1", "[]", {}, fhirJson, 400, "not an object"},
      {"invalid utf-8", "PUT", "/fhir/Patient/w-1",
       R"({"resourceType":"Patient","id":"w-1","name":[{"family":"D)" + std::string("\xff\xfe") + R"("}]})", {},
       fhirJson, 400, "not valid UTF-8"},
      {"wrong resourceType", "PUT", "/fhir/Patient/w-1", observation("w-1", "Patient/w-1"), {}, fhirJson, 400,
       "resourceType must be Patient"},
      {"id mismatch", "PUT", "/fhir/Patient/w-2", kPatient, {}, fhirJson, 400, "must equal the id in the url"},
      {"invalid id in url", "PUT", "/fhir/Patient/bad_id", patient("bad_id", "Doe"), {}, fhirJson, 400,
       "not a valid FHIR id"},
      {"id too long", "PUT", "/fhir/Patient/" + std::string(65, 'a'), patient(std::string(65, 'a'), "Doe"), {},
       fhirJson, 400, "not a valid FHIR id"},
      {"unknown type in url", "PUT", "/fhir/Spaceship/s-1", R"({"resourceType":"Spaceship","id":"s-1"})", {},
       fhirJson, 404, "not-supported"},
      {"post with id in url", "POST", "/fhir/Patient/w-1", kPatient, {}, fhirJson, 400, "POST creates"},
      {"single urn:uuid reference", "PUT", "/fhir/Observation/o-2", observation("o-2", urn), {}, fhirJson, 400,
       "only a transaction can resolve"},
      {"missing patient (single)", "PUT", "/fhir/Observation/o-2", observation("o-2", "Patient/nobody"), {}, fhirJson,
       400, "Patient/nobody"},
      {"meta not an object", "PUT", "/fhir/Patient/w-5", R"({"resourceType":"Patient","id":"w-5","meta":"x"})", {},
       fhirJson, 400, "Patient.meta must be an object"},
      {"meta an array", "POST", "/fhir",
       bundle("transaction", {entry("PUT", "Patient/w-5", R"({"resourceType":"Patient","id":"w-5","meta":[{"tag":[]}]})")}),
       {}, fhirJson, 400, "Patient.meta must be an object"},
      {"if-match mismatch", "PUT", "/fhir/Patient/w-1", kPatient, {"If-Match: W/\"7\""}, fhirJson, 412,
       "current version of Patient/w-1 is W/\\\"1\\\""},
      {"if-match of nothing", "PUT", "/fhir/Patient/w-3", patient("w-3", "Doe"), {"If-Match: W/\"1\""}, fhirJson, 412,
       "does not exist"},
      {"if-match malformed", "PUT", "/fhir/Patient/w-1", kPatient, {"If-Match: 1"}, fhirJson, 400, "If-Match"},
      {"delete never existing", "DELETE", "/fhir/Patient/never", "", {}, "", 404, "does not exist"},
      {"delete with if-match mismatch", "DELETE", "/fhir/Observation/o-1", "", {"If-Match: W/\"3\""}, "", 412,
       "conflict"},
      {"delete patient with observations", "DELETE", "/fhir/Patient/w-1", "", {}, "", 409, "still has resources"},
      {"not a bundle", "POST", "/fhir", kPatient, {}, fhirJson, 400, "resourceType must be Bundle"},
      {"collection bundle", "POST", "/fhir", bundle("collection", {entry("PUT", "Patient/w-4", patient("w-4", "X"))}),
       {}, fhirJson, 400, "transaction or batch"},
      {"empty transaction", "POST", "/fhir", R"({"resourceType":"Bundle","type":"transaction","entry":[]})", {},
       fhirJson, 400, "no entries"},
      {"unknown type in bundle", "POST", "/fhir",
       bundle("transaction", {entry("PUT", "Patient/w-4", patient("w-4", "X")),
                              entry("POST", "Spaceship", R"({"resourceType":"Spaceship"})")}),
       {}, fhirJson, 400, "\"expression\":[\"Bundle.entry[1]\"]"},
      {"a read in a bundle", "POST", "/fhir",
       bundle("transaction", {entry("PUT", "Patient/w-4", patient("w-4", "X")), entry("GET", "Patient/w-1", "")}),
       {}, fhirJson, 400, "request.method must be PUT"},
      {"duplicate ids in a transaction", "POST", "/fhir",
       bundle("transaction", {entry("PUT", "Patient/w-4", patient("w-4", "X")),
                              entry("PUT", "Patient/w-4", patient("w-4", "Y"))}),
       {}, fhirJson, 400, "more than once"},
      {"duplicate fullUrls in a transaction", "POST", "/fhir",
       bundle("transaction", {entry("POST", "Patient", patient("", "X"), urn), entry("POST", "Patient", patient("", "Y"), urn)}),
       {}, fhirJson, 400, "fullUrl appears in more than one entry"},
      {"missing patient (transaction)", "POST", "/fhir",
       bundle("transaction", {entry("PUT", "Patient/w-4", patient("w-4", "X")),
                              entry("PUT", "Observation/o-2", observation("o-2", "Patient/nobody"))}),
       {}, fhirJson, 400, "which this node does not have"},
      {"urn:uuid without its fullUrl", "POST", "/fhir",
       bundle("transaction", {entry("POST", "Patient", patient("", "X"), "urn:uuid:11111111-2222-4333-8444-555555555555"),
                              entry("POST", "Observation", observation("", urn))}),
       {}, fhirJson, 400, "no entry of this transaction has as its fullUrl"},
      {"subject names an Observation", "POST", "/fhir",
       bundle("transaction", {entry("POST", "Observation", observation("", "Patient/w-1"), urn),
                              entry("POST", "Observation", observation("", urn))}),
       {}, fhirJson, 400, "not a Patient"},
      {"urn:uuid in a batch", "POST", "/fhir",
       bundle("batch", {entry("POST", "Observation", observation("", urn))}),
       {}, fhirJson, 200, "which a batch cannot resolve"},
      {"transaction if-match mismatch", "POST", "/fhir",
       bundle("transaction", {entry("PUT", "Patient/w-1", kPatient, "", R"(,"ifMatch":"W/\"5\"")")}), {}, fhirJson, 412,
       "conflict"},
      {"transaction deletes a patient with observations", "POST", "/fhir",
       bundle("transaction", {entry("DELETE", "Patient/w-1", "")}), {}, fhirJson, 409, "still has resources"},
      {"transaction deletes nothing", "POST", "/fhir", bundle("transaction", {entry("DELETE", "Patient/never", "")}),
       {}, fhirJson, 404, "does not exist"},
  };
  for (const auto& c : cases) {
    auto r = send(hospital, c.method, c.path, c.body, c.headers, "HOPERAT", c.contentType);
    EXPECT_EQ(r.status, c.status) << c.name << ": " << r.body;
    if (c.status != 200) {
      EXPECT_TRUE(contains(r.body, "\"resourceType\":\"OperationOutcome\"")) << c.name << ": " << r.body;
      EXPECT_EQ(r.header("Content-Type"), "application/fhir+json") << c.name;
    }
    EXPECT_TRUE(contains(r.body, c.says)) << c.name << ": " << r.body;
    EXPECT_EQ(counts(), before) << c.name;
  }
  EXPECT_EQ(versionOf("Patient", "w-1"), 1);
  EXPECT_EQ(versionOf("Observation", "o-1"), 1);
}

TEST_F(RecordsWrite, LimitsOfSizeAndEntries) {
  f.config["records.maxRequestBytes"] = "1024";
  f.config["records.maxBundleEntries"] = "3";
  start();
  const StoredCounts empty = counts();
  std::vector<std::string> four;
  for (int i = 0; i < 4; ++i) four.push_back(entry("PUT", "Patient/l-" + std::to_string(i), patient("l-" + std::to_string(i), "L")));
  const std::string tooMany = bundle("transaction", four);
  ASSERT_LT(tooMany.size(), 1024u);
  auto many = send(hospital, "POST", "/fhir", tooMany);
  EXPECT_EQ(many.status, 413) << many.body;
  EXPECT_TRUE(contains(many.body, "records.maxBundleEntries")) << many.body;
  auto manyBatch = send(hospital, "POST", "/fhir", bundle("batch", four));
  EXPECT_EQ(manyBatch.status, 413) << manyBatch.body;
  EXPECT_EQ(counts(), empty);

  // Over records.maxRequestBytes: refused before the body is read.
  const std::string large = patient("l-9", std::string(2000, 'x'));
  auto big = send(hospital, "PUT", "/fhir/Patient/l-9", large);
  EXPECT_EQ(big.status, 413) << big.body;
  EXPECT_TRUE(contains(big.body, "larger than this endpoint accepts")) << big.body;
  auto bigBundle = send(hospital, "POST", "/fhir", bundle("transaction", {entry("PUT", "Patient/l-9", large)}));
  EXPECT_EQ(bigBundle.status, 413) << bigBundle.body;
  // A body of unknown length: 411.
  const std::string body = patient("l-8", "C");
  std::ostringstream size;
  size << std::hex << body.size();
  auto chunked = flat(tlsExchange(
      f.node()->port(), f.pki.root, f.as(hospital),
      "PUT /fhir/Patient/l-8 HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nX-Purpose-Of-Use: HOPERAT\r\n"
      "Content-Type: application/fhir+json\r\nTransfer-Encoding: chunked\r\n\r\n" +
          size.str() + "\r\n" + body + "\r\n0\r\n\r\n"));
  EXPECT_EQ(chunked.status, 411) << chunked.body;
  EXPECT_EQ(counts(), empty);

  // At the limits: stored.
  four.pop_back();
  auto three = send(hospital, "POST", "/fhir", bundle("transaction", four));
  EXPECT_EQ(three.status, 200) << three.body;
  EXPECT_EQ(counts(), (StoredCounts{3, 3, 0}));
  std::string exact = patient("l-7", "");
  exact = patient("l-7", std::string(1024 - exact.size(), 'y'));
  ASSERT_EQ(exact.size(), 1024u);
  EXPECT_EQ(send(hospital, "PUT", "/fhir/Patient/l-7", exact).status, 201);
}

TEST_F(RecordsWrite, ATransactionIsAllOrNothing) {
  start();
  ASSERT_EQ(send(hospital, "PUT", "/fhir/Patient/w-1", kPatient).status, 201);
  const StoredCounts before = counts();
  const std::string urn = "urn:uuid:3f2504e0-4f89-41d3-9a0c-0305e82c3301";
  // The last entry fails only in the database (its patient does not exist), after the others were checked.
  auto unknownPatient = send(hospital, "POST", "/fhir",
                             bundle("transaction", {entry("POST", "Patient", patient("", "Tee", "MRN-T"), urn),
                                                    entry("POST", "Observation", observation("", urn)),
                                                    entry("PUT", "Patient/t-2", patient("t-2", "Tee")),
                                                    entry("PUT", "Observation/t-3", observation("t-3", "Patient/nobody"))}));
  EXPECT_EQ(unknownPatient.status, 400) << unknownPatient.body;
  EXPECT_TRUE(contains(unknownPatient.body, "\"expression\":[\"Bundle.entry[3]\"]")) << unknownPatient.body;
  EXPECT_EQ(counts(), before);
  // The last entry fails after the earlier ones were written in the transaction (If-Match, in order).
  auto stale = send(hospital, "POST", "/fhir",
                    bundle("transaction", {entry("PUT", "Patient/t-2", patient("t-2", "Tee", "MRN-T2")),
                                           entry("PUT", "Observation/t-3", observation("t-3", "Patient/t-2")),
                                           entry("PUT", "Patient/w-1", kPatient, "", R"(,"ifMatch":"W/\"2\"")")}));
  EXPECT_EQ(stale.status, 412) << stale.body;
  EXPECT_TRUE(contains(stale.body, "Bundle.entry[2]")) << stale.body;
  EXPECT_EQ(counts(), before);
  EXPECT_EQ(read(lakeside, "/fhir/Patient/t-2").status, 404);
  EXPECT_EQ(versionOf("Patient", "w-1"), 1);
  // The patient deleted last, its observation not: 409, and the deletion of w-1's other data is undone too.
  ASSERT_EQ(send(hospital, "PUT", "/fhir/Observation/o-1", observation("o-1", "Patient/w-1")).status, 201);
  ASSERT_EQ(send(hospital, "PUT", "/fhir/Observation/o-2", observation("o-2", "Patient/w-1")).status, 201);
  const StoredCounts withObservations = counts();
  auto partial = send(hospital, "POST", "/fhir",
                      bundle("transaction", {entry("DELETE", "Observation/o-1", ""), entry("DELETE", "Patient/w-1", "")}));
  EXPECT_EQ(partial.status, 409) << partial.body;
  EXPECT_EQ(counts(), withObservations);
  EXPECT_EQ(read(lakeside, "/fhir/Observation/o-1").status, 200);
  // Both observations and the patient in one transaction: all deleted.
  auto whole = send(hospital, "POST", "/fhir",
                    bundle("transaction", {entry("DELETE", "Patient/w-1", ""), entry("DELETE", "Observation/o-1", ""),
                                           entry("DELETE", "Observation/o-2", "")}));
  EXPECT_EQ(whole.status, 200) << whole.body;
  EXPECT_EQ(responseStatuses(whole.body), (std::vector<std::string>{"200 OK", "200 OK", "200 OK"})) << whole.body;
  EXPECT_EQ(read(lakeside, "/fhir/Patient/w-1").status, 410);
  EXPECT_EQ(read(lakeside, "/fhir/Observation/o-2").status, 410);
  EXPECT_EQ(scalar("SELECT count(*) FROM patient_identifiers WHERE patient_id = 'w-1'"), 0);
}

TEST_F(RecordsWrite, ABatchAnswersEachEntry) {
  start();
  const StoredCounts empty = counts();
  const std::string batch =
      bundle("batch", {entry("PUT", "Patient/b-1", patient("b-1", "Bee", "MRN-B1")),
                       entry("PUT", "Observation/b-2", observation("b-2", "Patient/nobody")),  // refused by the store
                       entry("PUT", "Patient/bad_id", patient("bad_id", "Bee")),             // refused by the parser
                       entry("POST", "Patient", patient("", "Bee")),
                       entry("PUT", "Patient/b-1", patient("b-1", "Bee"), "", R"(,"ifMatch":"W/\"9\"")")});
  auto r = send(hospital, "POST", "/fhir", batch);
  ASSERT_EQ(r.status, 200) << r.body << f.node()->log();
  EXPECT_TRUE(contains(r.body, "\"type\":\"batch-response\"")) << r.body;
  EXPECT_EQ(responseStatuses(r.body), (std::vector<std::string>{"201 Created", "400 Bad Request", "400 Bad Request",
                                                               "201 Created", "412 Precondition Failed"}))
      << r.body;
  EXPECT_TRUE(contains(r.body, "\"expression\":[\"Bundle.entry[1]\"]")) << r.body;
  EXPECT_TRUE(contains(r.body, "\"expression\":[\"Bundle.entry[2]\"]")) << r.body;
  EXPECT_TRUE(contains(r.body, "\"expression\":[\"Bundle.entry[4]\"]")) << r.body;
  EXPECT_TRUE(contains(r.body, "\"location\":\"Patient/b-1/_history/1\"")) << r.body;
  // The two good entries, nothing of the three others.
  EXPECT_EQ(counts(), (StoredCounts{empty.current + 2, empty.history + 2, empty.identifiers + 1}));
  EXPECT_EQ(read(lakeside, "/fhir/Patient/b-1").status, 200);
  EXPECT_EQ(versionOf("Observation", "b-2"), 0);
  // A batch of nothing but failures still answers 200, and stores nothing.
  const StoredCounts after = counts();
  auto failures = send(hospital, "POST", "/fhir", bundle("batch", {entry("DELETE", "Patient/never", "")}));
  EXPECT_EQ(failures.status, 200) << failures.body;
  EXPECT_EQ(responseStatuses(failures.body), (std::vector<std::string>{"404 Not Found"})) << failures.body;
  EXPECT_EQ(counts(), after);
}

TEST_F(RecordsWrite, EveryVersionIsKeptAndDeletionsAreVersions) {
  // River's patient w-1 refuses River: River never learns that w-1 existed or was deleted.
  ok(f.cli({"consent", "set", "--patient", "w-1", "--deny-org", kRiver}));
  start();
  auto v1 = send(hospital, "PUT", "/fhir/Patient/w-1", kPatient);
  ASSERT_EQ(v1.status, 201) << v1.body;
  // The base URL comes from the Host field (no server.baseUrl configured here).
  EXPECT_EQ(v1.header("Location"), "https://127.0.0.1/fhir/Patient/w-1/_history/1")
      << v1.head;
  EXPECT_FALSE(v1.header("Last-Modified").empty()) << v1.head;
  EXPECT_TRUE(contains(v1.body, "\"versionId\":\"1\"")) << v1.body;
  auto v2 = send(hospital, "PUT", "/fhir/Patient/w-1", patient("w-1", "Roe", "MRN-1"));
  ASSERT_EQ(v2.status, 200) << v2.body;
  EXPECT_EQ(v2.header("ETag"), "W/\"2\"");
  EXPECT_TRUE(contains(v2.body, "\"versionId\":\"2\"")) << v2.body;

  auto current = read(lakeside, "/fhir/Patient/w-1");
  ASSERT_EQ(current.status, 200) << current.body;
  EXPECT_EQ(current.header("ETag"), "W/\"2\"");
  EXPECT_TRUE(std::regex_match(current.header("Last-Modified"),
                               std::regex("[A-Z][a-z]{2}, \\d\\d [A-Z][a-z]{2} \\d{4} \\d\\d:\\d\\d:\\d\\d GMT")))
      << current.head;
  EXPECT_TRUE(contains(current.body, "\"family\":\"Roe\"")) << current.body;
  auto first = read(lakeside, "/fhir/Patient/w-1/_history/1");
  ASSERT_EQ(first.status, 200) << first.body;
  EXPECT_EQ(first.header("ETag"), "W/\"1\"");
  EXPECT_FALSE(first.header("Last-Modified").empty()) << first.head;
  EXPECT_TRUE(contains(first.body, "\"family\":\"Doe\"") && contains(first.body, "\"versionId\":\"1\"")) << first.body;
  auto second = read(lakeside, "/fhir/Patient/w-1/_history/2");
  ASSERT_EQ(second.status, 200) << second.body;
  EXPECT_TRUE(contains(second.body, "\"family\":\"Roe\"") && contains(second.body, "\"versionId\":\"2\"")) << second.body;
  EXPECT_EQ(read(lakeside, "/fhir/Patient/w-1/_history/3").status, 404);
  EXPECT_EQ(read(river, "/fhir/Patient/w-1").status, 404);
  EXPECT_EQ(read(river, "/fhir/Patient/w-1/_history/1").status, 404);

  auto del = send(hospital, "DELETE", "/fhir/Patient/w-1", "");
  ASSERT_EQ(del.status, 200) << del.body;
  EXPECT_EQ(del.header("ETag"), "W/\"3\"");
  EXPECT_TRUE(contains(del.body, "\"resourceType\":\"OperationOutcome\"")) << del.body;
  // Deleting again changes nothing.
  const StoredCounts afterDelete = counts();
  auto again = send(hospital, "DELETE", "/fhir/Patient/w-1", "");
  EXPECT_EQ(again.status, 200) << again.body;
  EXPECT_TRUE(contains(again.body, "already deleted")) << again.body;
  EXPECT_EQ(counts(), afterDelete);
  EXPECT_EQ(versionOf("Patient", "w-1"), 3);

  auto gone = read(lakeside, "/fhir/Patient/w-1");
  EXPECT_EQ(gone.status, 410) << gone.body;
  EXPECT_FALSE(contains(gone.body, "Roe")) << gone.body;
  auto goneVersion = read(lakeside, "/fhir/Patient/w-1/_history/3");
  EXPECT_EQ(goneVersion.status, 410) << goneVersion.body;
  // Earlier versions stay readable.
  EXPECT_EQ(read(lakeside, "/fhir/Patient/w-1/_history/2").status, 200);
  // Denied by consent: not found, as before the deletion; without a grant: refused as before.
  EXPECT_EQ(read(river, "/fhir/Patient/w-1").status, 404);
  EXPECT_EQ(read(river, "/fhir/Patient/w-1/_history/3").status, 404);
  EXPECT_EQ(read(hill, "/fhir/Patient/w-1").status, 403);
  EXPECT_EQ(read(hill, "/fhir/Patient/w-1/_history/3").status, 403);
  // Searches no longer find it.
  EXPECT_EQ(searchTotal(read(lakeside, "/fhir/Patient?identifier=urn:oid:1.2.3%7CMRN-1")), 0);
  // Written again: created anew (201) as version 4, readable.
  auto back = send(hospital, "PUT", "/fhir/Patient/w-1", kPatient);
  EXPECT_EQ(back.status, 201) << back.body;
  EXPECT_EQ(back.header("ETag"), "W/\"4\"");
  EXPECT_EQ(read(lakeside, "/fhir/Patient/w-1").status, 200);
  EXPECT_EQ(scalar("SELECT count(*) FROM fhir_resource_history WHERE id = 'w-1'"), 4);
  // The client's meta.versionId and lastUpdated are the server's to set; the rest of meta is kept.
  auto meta = send(hospital, "PUT", "/fhir/Patient/w-5",
                   R"({"resourceType":"Patient","id":"w-5","meta":{"versionId":"77","lastUpdated":"1999-01-01T00:00:00Z",)"
                   R"("tag":[{"code":"x"}]}})");
  ASSERT_EQ(meta.status, 201) << meta.body;
  EXPECT_TRUE(contains(meta.body, "\"versionId\":\"1\"") && contains(meta.body, "\"tag\":[{\"code\":\"x\"}]") &&
              !contains(meta.body, "1999"))
      << meta.body;
}

TEST_F(RecordsWrite, ConditionalWritesFindByIdentifier) {
  start();
  const std::string byMrn = "/fhir/Patient?identifier=urn:oid:1.2.3%7CMRN-7";
  auto created = send(hospital, "PUT", byMrn, patient("", "Cee", "MRN-7"));
  ASSERT_EQ(created.status, 201) << created.body << f.node()->log();
  std::smatch m;
  const std::string location = created.header("Location");
  ASSERT_TRUE(std::regex_search(location, m, std::regex("/fhir/Patient/([A-Za-z0-9.-]+)/_history/1$"))) << location;
  const std::string id = m[1];
  auto updated = send(hospital, "PUT", byMrn, patient("", "Cee-Updated", "MRN-7"));
  ASSERT_EQ(updated.status, 200) << updated.body;
  EXPECT_EQ(updated.header("ETag"), "W/\"2\"");
  EXPECT_TRUE(contains(updated.header("Location"), "/fhir/Patient/" + id + "/_history/2")) << updated.head;
  EXPECT_EQ(scalar("SELECT count(*) FROM fhir_resources WHERE resource_type = 'Patient'"), 1);
  // The body may name the id the condition finds, not another.
  auto other = send(hospital, "PUT", byMrn, patient("someone-else", "Cee", "MRN-7"));
  EXPECT_EQ(other.status, 400) << other.body;
  EXPECT_EQ(send(hospital, "PUT", byMrn, patient(id, "Cee", "MRN-7")).status, 200);
  EXPECT_EQ(versionOf("Patient", id), 3);

  // If-None-Exist: the existing one, no new version.
  const StoredCounts before = counts();
  auto existing = send(hospital, "POST", "/fhir/Patient", patient("", "Cee", "MRN-7"),
                       {"If-None-Exist: identifier=urn:oid:1.2.3%7CMRN-7"});
  EXPECT_EQ(existing.status, 200) << existing.body;
  EXPECT_EQ(existing.header("ETag"), "W/\"3\"");
  EXPECT_TRUE(contains(existing.header("Location"), "/fhir/Patient/" + id + "/_history/3")) << existing.head;
  auto inBundle = send(hospital, "POST", "/fhir",
                       bundle("transaction", {entry("POST", "Patient", patient("", "Cee", "MRN-7"), "",
                                                    R"(,"ifNoneExist":"identifier=urn:oid:1.2.3%7CMRN-7")")}));
  EXPECT_EQ(inBundle.status, 200) << inBundle.body;
  EXPECT_EQ(responseStatuses(inBundle.body), (std::vector<std::string>{"200 OK"})) << inBundle.body;
  EXPECT_TRUE(contains(inBundle.body, "\"location\":\"Patient/" + id + "/_history/3\"")) << inBundle.body;
  EXPECT_EQ(counts(), before);
  EXPECT_EQ(versionOf("Patient", id), 3);
  // A reference to the fullUrl of a conditional create that matched names the existing resource.
  const std::string urn = "urn:uuid:3f2504e0-4f89-41d3-9a0c-0305e82c3301";
  auto withObservation = send(hospital, "POST", "/fhir",
                              bundle("transaction", {entry("POST", "Patient", patient("", "Cee", "MRN-7"), urn,
                                                           R"(,"ifNoneExist":"identifier=urn:oid:1.2.3%7CMRN-7")"),
                                                     entry("PUT", "Observation/c-obs", observation("c-obs", urn))}));
  ASSERT_EQ(withObservation.status, 200) << withObservation.body;
  EXPECT_EQ(responseStatuses(withObservation.body), (std::vector<std::string>{"200 OK", "201 Created"}))
      << withObservation.body;
  auto obs = read(lakeside, "/fhir/Observation/c-obs");
  EXPECT_TRUE(contains(obs.body, "\"subject\":{\"reference\":\"Patient/" + id + "\"}")) << obs.body;
  EXPECT_EQ(versionOf("Patient", id), 3);
  EXPECT_EQ(counts(), (StoredCounts{before.current + 1, before.history + 1, before.identifiers}));
  // ... and only while that resource is there: deleted, the condition no longer matches and a new one is made.
  ASSERT_EQ(send(hospital, "DELETE", "/fhir/Observation/c-obs", "").status, 200);
  ASSERT_EQ(send(hospital, "DELETE", "/fhir/Patient/" + id, "").status, 200);
  auto recreated = send(hospital, "POST", "/fhir",
                        bundle("transaction", {entry("POST", "Patient", patient("", "Cee", "MRN-7"), urn,
                                                     R"(,"ifNoneExist":"identifier=urn:oid:1.2.3%7CMRN-7")"),
                                               entry("PUT", "Observation/c-obs", observation("c-obs", urn))}));
  ASSERT_EQ(recreated.status, 200) << recreated.body;
  // The deleted Observation written again is created anew too.
  EXPECT_EQ(responseStatuses(recreated.body), (std::vector<std::string>{"201 Created", "201 Created"})) << recreated.body;
  EXPECT_FALSE(contains(recreated.body, "Patient/" + id + "/")) << recreated.body;
  // No match: created.
  auto fresh = send(hospital, "POST", "/fhir/Patient", patient("", "Dee", "MRN-8"),
                    {"If-None-Exist: identifier=urn:oid:1.2.3%7CMRN-8"});
  EXPECT_EQ(fresh.status, 201) << fresh.body;

  // Two patients with one identifier: the condition matches both, 412, nothing changes.
  ASSERT_EQ(send(hospital, "PUT", "/fhir/Patient/dup-a", patient("dup-a", "A", "MRN-9")).status, 201);
  ASSERT_EQ(send(hospital, "PUT", "/fhir/Patient/dup-b", patient("dup-b", "B", "MRN-9")).status, 201);
  const StoredCounts twins = counts();
  auto ambiguous = send(hospital, "PUT", "/fhir/Patient?identifier=urn:oid:1.2.3%7CMRN-9", patient("", "C", "MRN-9"));
  EXPECT_EQ(ambiguous.status, 412) << ambiguous.body;
  EXPECT_TRUE(contains(ambiguous.body, "multiple-matches")) << ambiguous.body;
  auto ambiguousCreate = send(hospital, "POST", "/fhir/Patient", patient("", "C", "MRN-9"),
                              {"If-None-Exist: identifier=urn:oid:1.2.3%7CMRN-9"});
  EXPECT_EQ(ambiguousCreate.status, 412) << ambiguousCreate.body;
  EXPECT_EQ(counts(), twins);
  // Conditions other than identifier=SYSTEM|VALUE are refused.
  EXPECT_EQ(send(hospital, "PUT", "/fhir/Patient?name=Cee", patient("", "C")).status, 400);
  EXPECT_EQ(send(hospital, "PUT", "/fhir/Patient?identifier=MRN-9", patient("", "C")).status, 400);
  EXPECT_EQ(counts(), twins);
}

TEST_F(RecordsWrite, AnswersAreValidR4) {
  start();
  std::vector<FhirDocument> answers;
  auto keep = [&](const std::string& label, const HttpResult& r) { answers.push_back({label, r.body}); };
  const std::string urn = "urn:uuid:0b0c1a2e-1111-4222-8333-444455556666";
  auto tx = send(hospital, "POST", "/fhir",
                 bundle("transaction", {entry("POST", "Patient", patient("", "Vee", "MRN-V"), urn),
                                        entry("POST", "Observation", observation("", urn)),
                                        entry("PUT", "Patient/w-1", kPatient)}));
  ASSERT_EQ(tx.status, 200) << tx.body;
  keep("transaction-response", tx);
  auto txRepresentation = send(hospital, "POST", "/fhir", bundle("transaction", {entry("PUT", "Patient/w-1", kPatient)}),
                               {"Prefer: return=representation"});
  ASSERT_EQ(txRepresentation.status, 200) << txRepresentation.body;
  keep("transaction-response-representation", txRepresentation);
  auto batch = send(hospital, "POST", "/fhir",
                    bundle("batch", {entry("PUT", "Patient/w-2", patient("w-2", "Wee")),
                                     entry("PUT", "Observation/o-9", observation("o-9", "Patient/nobody"))}));
  ASSERT_EQ(batch.status, 200) << batch.body;
  keep("batch-response", batch);
  auto refused = send(hospital, "POST", "/fhir",
                      bundle("transaction", {entry("PUT", "Patient/w-4", patient("w-4", "X")),
                                             entry("POST", "Spaceship", R"({"resourceType":"Spaceship"})")}));
  ASSERT_EQ(refused.status, 400) << refused.body;
  keep("operation-outcome-refusal", refused);
  auto put = send(hospital, "PUT", "/fhir/Patient/w-3", patient("w-3", "Three"));
  ASSERT_EQ(put.status, 201) << put.body;
  keep("put-patient", put);
  auto outcome = send(hospital, "PUT", "/fhir/Patient/w-3", patient("w-3", "Three"), {"Prefer: return=OperationOutcome"});
  ASSERT_EQ(outcome.status, 200) << outcome.body;
  keep("put-operation-outcome", outcome);
  auto del = send(hospital, "DELETE", "/fhir/Patient/w-3", "");
  ASSERT_EQ(del.status, 200) << del.body;
  keep("delete-outcome", del);
  auto gone = read(lakeside, "/fhir/Patient/w-3");
  ASSERT_EQ(gone.status, 410) << gone.body;
  keep("read-deleted", gone);
  auto version = read(lakeside, "/fhir/Patient/w-1/_history/2");
  ASSERT_EQ(version.status, 200) << version.body;
  keep("history-version", version);
  auto valid = validateFhirR4(answers, f.dir.path());
  EXPECT_EQ(valid.exitCode, 0) << valid.output;
}

TEST_F(RecordsWrite, WritesAreAuditedWithoutPatientData) {
  start();
  ASSERT_EQ(send(hospital, "PUT", "/fhir/Patient/w-1", kPatient).status, 201);
  ASSERT_EQ(send(hospital, "PUT", "/fhir/Patient/w-1", kPatient).status, 200);
  const std::string urn = "urn:uuid:0b0c1a2e-1111-4222-8333-444455556666";
  auto tx = send(hospital, "POST", "/fhir",
                 bundle("transaction", {entry("PUT", "Observation/o-1", observation("o-1", "Patient/w-1")),
                                        entry("POST", "Patient", patient("", "Doe", "MRN-D"), urn)}));
  ASSERT_EQ(tx.status, 200) << tx.body;
  ASSERT_EQ(send(hospital, "DELETE", "/fhir/Observation/o-1", "").status, 200);
  EXPECT_EQ(send(lakeside, "PUT", "/fhir/Patient/w-1", kPatient, {}, "TREAT").status, 403);
  ASSERT_EQ(f.node()->stop(), 0) << f.node()->log();

  auto verify = f.cli({"audit", "verify"});
  EXPECT_EQ(verify.exitCode, 0) << verify.output;
  auto exported = f.cli({"audit", "export", "--format", "jsonl"});
  ASSERT_EQ(exported.exitCode, 0) << exported.output;
  bool update = false, create = false, transaction = false, deletion = false, refusal = false;
  std::istringstream lines(exported.output);
  for (std::string line; std::getline(lines, line);) {
    if (contains(line, "\"action\":\"create\"") && contains(line, "\"entities\":\"Patient/w-1/_history/1\"")) {
      create = contains(line, "\"patient\":\"Patient/w-1\"") && contains(line, "\"httpStatus\":201");
    }
    if (contains(line, "\"action\":\"update\"") && contains(line, "\"entities\":\"Patient/w-1/_history/2\"")) {
      update = contains(line, "\"httpStatus\":200") && contains(line, "\"purpose\":\"HOPERAT\"");
    }
    if (contains(line, "\"action\":\"transaction\"") && contains(line, "Observation/o-1/_history/1")) {
      transaction = contains(line, "\"httpStatus\":200");
    }
    if (contains(line, "\"action\":\"delete\"") && contains(line, "\"entities\":\"Observation/o-1/_history/2\"")) {
      deletion = true;
    }
    if (contains(line, "\"action\":\"update\"") && contains(line, "\"httpStatus\":403")) refusal = true;
  }
  EXPECT_TRUE(create) << exported.output;
  EXPECT_TRUE(update) << exported.output;
  EXPECT_TRUE(transaction) << exported.output;
  EXPECT_TRUE(deletion) << exported.output;
  EXPECT_TRUE(refusal) << exported.output;
  // No patient data in the audit or the log.
  EXPECT_FALSE(contains(exported.output, "Doe")) << exported.output;
  EXPECT_FALSE(contains(exported.output, "MRN-")) << exported.output;
  EXPECT_FALSE(contains(f.node()->log(), "Doe")) << f.node()->log();
  EXPECT_FALSE(contains(f.node()->log(), "MRN-")) << f.node()->log();
}

}  // namespace
}  // namespace hie::testing

namespace hie::testing {
namespace {

TEST_F(RecordsWrite, ConditionsSeeTheTransactionsOwnDeletes) {
  start();
  // FHIR applies a transaction's DELETEs first: a condition that would find a resource the same
  // transaction deletes finds nothing.
  ASSERT_EQ(send(hospital, "PUT", "/fhir/Patient/d-1", patient("d-1", "Dee", "MRN-D")).status, 201);
  auto replaced = send(hospital, "POST", "/fhir",
                       bundle("transaction", {entry("DELETE", "Patient/d-1", ""),
                                              entry("POST", "Patient", patient("", "Dee-New", "MRN-D"), "",
                                                    R"(,"ifNoneExist":"identifier=urn:oid:1.2.3%7CMRN-D")")}));
  ASSERT_EQ(replaced.status, 200) << replaced.body;
  EXPECT_EQ(responseStatuses(replaced.body), (std::vector<std::string>{"200 OK", "201 Created"})) << replaced.body;
  EXPECT_EQ(scalar("SELECT count(*) FROM fhir_resources WHERE resource_type = 'Patient' AND NOT deleted"), 1);
  EXPECT_EQ(scalar("SELECT count(*) FROM fhir_resources WHERE id = 'd-1' AND deleted"), 1);
  // A conditional update that resolves to a resource the transaction also deletes writes it twice: refused.
  ASSERT_EQ(send(hospital, "PUT", "/fhir/Patient/d-2", patient("d-2", "Eve", "MRN-E")).status, 201);
  const StoredCounts before = counts();
  auto twice = send(hospital, "POST", "/fhir",
                    bundle("transaction", {entry("PUT", "Patient/d-2", patient("d-2", "Eve", "MRN-E")),
                                           entry("PUT", "Patient?identifier=urn:oid:1.2.3%7CMRN-E",
                                                 patient("", "Eve-Again", "MRN-E"))}));
  EXPECT_EQ(twice.status, 400) << twice.body;
  EXPECT_TRUE(contains(twice.body, "more than once")) << twice.body;
  EXPECT_EQ(counts(), before);
}

}  // namespace
}  // namespace hie::testing

namespace hie::testing {
namespace {

TEST_F(RecordsWrite, NumbersAreStoredExactlyAsSent) {
  start();
  // FHIR keeps a decimal's precision: 1.50 is not 1.5, and no integer wraps around.
  ASSERT_EQ(send(hospital, "PUT", "/fhir/Patient/n-1", patient("n-1", "Num")).status, 201);
  const std::string obs =
      R"({"resourceType":"Observation","id":"n-obs","status":"final","code":{"text":"creatinine"},)"
      R"("subject":{"reference":"Patient/n-1"},"valueQuantity":{"value":1.50,"unit":"mg/dL"},)"
      R"("component":[{"code":{"text":"a"},"valueQuantity":{"value":18446744073709551617}},)"
      R"({"code":{"text":"b"},"valueQuantity":{"value":0.1234567890123456789}}]})";
  auto put = send(hospital, "PUT", "/fhir/Observation/n-obs", obs);
  ASSERT_EQ(put.status, 201) << put.body;
  auto r = read(lakeside, "/fhir/Observation/n-obs");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(contains(r.body, "\"value\":1.50")) << r.body;
  EXPECT_TRUE(contains(r.body, "\"value\":18446744073709551617")) << r.body;
  EXPECT_TRUE(contains(r.body, "\"value\":0.1234567890123456789")) << r.body;
  // The same through records import.
  TempDir dir;
  const std::string file = writeFile(dir.path(), "b.json",
      R"({"resourceType":"Bundle","type":"collection","entry":[{"resource":)" +
          std::string(R"({"resourceType":"Observation","id":"n-imp","status":"final","code":{"text":"x"},)"
                      R"("subject":{"reference":"Patient/n-1"},"valueQuantity":{"value":2.500}})") +
          "}]}");
  ASSERT_EQ(f.cli({"records", "import", file}).exitCode, 0);
  auto imported = read(lakeside, "/fhir/Observation/n-imp");
  EXPECT_TRUE(contains(imported.body, "\"value\":2.500")) << imported.body;
}

}  // namespace
}  // namespace hie::testing

namespace hie::testing {
namespace {

TEST_F(RecordsWrite, AConditionCountsEveryMatchTheTransactionDoesNotDelete) {
  start();
  for (const char* id : {"m-a", "m-b", "m-c", "m-d"}) {
    ASSERT_EQ(send(hospital, "PUT", std::string("/fhir/Patient/") + id, patient(id, "Same", "MRN-M")).status, 201);
  }
  const StoredCounts before = counts();
  // Two of four deleted: two still match, so the condition is ambiguous.
  auto r = send(hospital, "POST", "/fhir",
                bundle("transaction", {entry("DELETE", "Patient/m-a", ""), entry("DELETE", "Patient/m-b", ""),
                                       entry("PUT", "Patient?identifier=urn:oid:1.2.3%7CMRN-M",
                                             patient("", "Same", "MRN-M"))}));
  EXPECT_EQ(r.status, 412) << r.body;
  EXPECT_EQ(counts(), before);
}

TEST_F(RecordsWrite, AValueTheStoreCannotHoldIsRefusedForItsEntryOnly) {
  start();
  ASSERT_EQ(send(hospital, "PUT", "/fhir/Patient/v-1", patient("v-1", "Val")).status, 201);
  const std::string huge =
      R"({"resourceType":"Observation","id":"v-obs","status":"final","code":{"text":"x"},)"
      R"("subject":{"reference":"Patient/v-1"},"valueQuantity":{"value":1e200000}})";
  const StoredCounts before = counts();
  auto single = send(hospital, "PUT", "/fhir/Observation/v-obs", huge);
  EXPECT_EQ(single.status, 400) << single.body;
  EXPECT_EQ(counts(), before);
  auto batch = send(hospital, "POST", "/fhir",
                    bundle("batch", {entry("PUT", "Observation/v-obs", huge),
                                     entry("PUT", "Observation/v-ok", observation("v-ok", "Patient/v-1"))}));
  ASSERT_EQ(batch.status, 200) << batch.body;
  EXPECT_EQ(responseStatuses(batch.body), (std::vector<std::string>{"400 Bad Request", "201 Created"}))
      << batch.body << f.node()->log();
  EXPECT_EQ(versionOf("Observation", "v-ok"), 1);
  EXPECT_EQ(scalar("SELECT count(*) FROM fhir_resources WHERE id = 'v-obs'"), 0);
}

}  // namespace
}  // namespace hie::testing
