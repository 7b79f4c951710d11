// ExchangeApi against a scripted PeerFanout: the one deadline, partial results
// when peers fail or are busy, refusals before any call. No sockets.
#include "exchange/handlers/exchange_api.h"

#include <gtest/gtest.h>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include "tests/support/fake_peer_fanout.h"

namespace hie::exchange {
namespace {

using hie::testing::FakePeerFanout;
using namespace std::chrono_literals;

const std::string kOwn = "urn:oid:2.16.840.1.113883.3.7001";
const std::string kHarbor = "urn:oid:2.16.840.1.113883.3.7002";
const std::string kRiver = "urn:oid:2.16.840.1.113883.3.7003";
const std::string kClosed = "urn:oid:2.16.840.1.113883.3.7004";

Poco::JSON::Object::Ptr parse(const std::string& body) {
  Poco::JSON::Parser parser;
  return parser.parse(body).extract<Poco::JSON::Object::Ptr>();
}

FakePeerFanout::Answer bundleOf(const std::vector<std::string>& ids) {
  std::string body = "{\"resourceType\":\"Bundle\",\"type\":\"searchset\",\"entry\":[";
  for (std::size_t i = 0; i < ids.size(); ++i) {
    body += std::string(i ? "," : "") + "{\"fullUrl\":\"https://peer/fhir/Observation/" + ids[i] +
            "\",\"resource\":{\"resourceType\":\"Observation\",\"id\":\"" + ids[i] + "\"}}";
  }
  return {PeerResponse{200, "application/fhir+json", body + "]}"}, false};
}

FakePeerFanout::Answer failure(const std::string& reason) {
  return {tl::make_unexpected(PeerFailure{reason, "scripted"}), false};
}

// The OperationOutcome issue of the bundle entry for peer, or null.
Poco::JSON::Object::Ptr issueFor(const Poco::JSON::Object::Ptr& bundle, const std::string& peer) {
  auto entries = bundle->getArray("entry");
  for (std::size_t i = 0; entries && i < entries->size(); ++i) {
    auto resource = entries->getObject(i)->getObject("resource");
    if (resource->getValue<std::string>("resourceType") != "OperationOutcome") continue;
    auto issue = resource->getArray("issue")->getObject(0);
    if (issue->getValue<std::string>("diagnostics").rfind("peer " + peer + ": ", 0) == 0) return issue;
  }
  return nullptr;
}

const audit::AuditEvent* callTo(const HttpReply& reply, const std::string& peer) {
  for (const auto& e : reply.relatedAudit) {
    if (e.peerOrganization == peer) return &e;
  }
  return nullptr;
}

class ExchangeApiTest : public ::testing::Test {
 protected:
  ExchangeApiTest() {
    registry.organizations = {{kOwn, "Lakeside", auth::OrganizationStatus::kActive, {auth::Role::kLocal}, {}, {}},
                              {kHarbor, "Harbor", auth::OrganizationStatus::kActive, {auth::Role::kMember}, {}, {}},
                              {kRiver, "River", auth::OrganizationStatus::kActive, {auth::Role::kMember}, {}, {}},
                              {kClosed, "Closed", auth::OrganizationStatus::kSuspended, {auth::Role::kMember}, {}, {}}};
    registry.peers = {{kOwn, "https://own:8443"},
                      {kHarbor, "https://harbor:8443"},
                      {kRiver, "https://river:8443"},
                      {kClosed, "https://closed:8443"}};
    options.deadline = 300ms;
    options.ownOrganization = kOwn;
    options.resourceTypes = {"Patient", "Observation"};
  }

  HttpReply query(const ExchangeApi& api, HeaderList params = {{"patient.identifier", "urn:mrn|123"}},
                  HeaderList headers = {{"X-Purpose-Of-Use", "TREAT"}}, const std::string& path = "/exchange/Observation",
                  const auth::Organization* org = nullptr, const std::string& method = "GET") {
    HttpCall call;
    call.method = method;
    call.path = path;
    call.query = std::move(params);
    call.headers = std::move(headers);
    call.requestId = "req-42";
    return api.handle(call, org ? *org : registry.organizations[0], registry);
  }

  auth::RegistrySnapshot registry;
  ExchangeOptions options;
  Counters counters;
  FakePeerFanout fanout;  // outlives the handler's calls: joined in its destructor
};

TEST_F(ExchangeApiTest, MergesEveryActivePeerMarksTheSourceAndAuditsEachCall) {
  fanout.answer(kHarbor, bundleOf({"h1", "h2"}));
  fanout.answer(kRiver, bundleOf({"r1"}));
  ExchangeApi api(fanout, options, counters);
  auto reply = query(api);
  ASSERT_EQ(reply.status, 200) << reply.body;
  // Neither this node's own organization nor a suspended one is asked.
  std::set<std::string> asked;
  for (const auto& a : fanout.asked()) {
    asked.insert(a.peer.organization);
    EXPECT_EQ(a.pathAndQuery, "/fhir/Observation?patient.identifier=urn:mrn%7C123&_count=100");
    EXPECT_EQ(a.headers, (HeaderList{{"X-Purpose-Of-Use", "TREAT"},
                                     {"X-Request-Id", "req-42"},
                                     {"Accept", "application/fhir+json"}}));
  }
  EXPECT_EQ(asked, (std::set<std::string>{kHarbor, kRiver}));
  auto bundle = parse(reply.body);
  EXPECT_EQ(bundle->getValue<int>("total"), 3);
  auto entries = bundle->getArray("entry");
  ASSERT_EQ(entries->size(), 3u);
  for (std::size_t i = 0; i < entries->size(); ++i) {
    auto entry = entries->getObject(i);
    auto source = entry->getObject("resource")->getObject("meta")->getValue<std::string>("source");
    auto ext = entry->getArray("extension")->getObject(0);
    EXPECT_EQ(ext->getValue<std::string>("url"), kSourceOrganizationExtension);
    EXPECT_EQ(ext->getObject("valueIdentifier")->getValue<std::string>("value"), source);
  }
  ASSERT_EQ(reply.relatedAudit.size(), 2u);
  const audit::AuditEvent* harbor = callTo(reply, kHarbor);
  ASSERT_NE(harbor, nullptr);
  EXPECT_EQ(harbor->action, "peer-call");
  EXPECT_EQ(harbor->outcome, "success");
  EXPECT_EQ(harbor->resultCount, 2);
  EXPECT_EQ(harbor->causedBy, "req-42");
  EXPECT_EQ(harbor->organization, kOwn);
  EXPECT_EQ(reply.access.action, "query");
  EXPECT_EQ(reply.access.patientQuery, "urn:mrn|123");
  EXPECT_EQ(reply.access.resultCount, 3);
  EXPECT_EQ(counters.peerCalls.value({kHarbor}), 1u);
  EXPECT_EQ(counters.peerCallsFailed.value({kHarbor}), 0u);
}

TEST_F(ExchangeApiTest, EachPeerCallsEntryHoldsItsSignaturesAndARefusedAnswerIsDenied) {
  FakePeerFanout::Answer harbor = bundleOf({"h1"});
  harbor.outcome->signatures = PeerCallSignatures{"request base", "request sig", "answer base", "answer sig", "verified"};
  fanout.answer(kHarbor, harbor);
  PeerFailure refused{"answer_signature_invalid", "the peer's answer (HTTP 200) failed its signature check: scripted",
                      PeerCallSignatures{"request base 2", "request sig 2", "claimed base", "bad sig", "signature_invalid"}};
  fanout.answer(kRiver, {tl::make_unexpected(refused), false});
  ExchangeApi api(fanout, options, counters);
  auto reply = query(api);
  ASSERT_EQ(reply.status, 200) << reply.body;
  const audit::AuditEvent* h = callTo(reply, kHarbor);
  ASSERT_NE(h, nullptr);
  EXPECT_EQ(h->outcome, "success");
  EXPECT_EQ(h->requestSignatureBase, "request base");
  EXPECT_EQ(h->requestSignature, "request sig");
  EXPECT_EQ(h->responseSignatureBase, "answer base");
  EXPECT_EQ(h->responseSignature, "answer sig");
  EXPECT_EQ(h->signatureCheck, "verified");
  const audit::AuditEvent* r = callTo(reply, kRiver);
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->outcome, "denied");
  EXPECT_EQ(r->outcomeReason, "answer_signature_invalid");
  EXPECT_EQ(r->requestSignatureBase, "request base 2");
  EXPECT_EQ(r->responseSignatureBase, "claimed base");
  EXPECT_EQ(r->signatureCheck, "signature_invalid");
  auto issue = issueFor(parse(reply.body), kRiver);
  ASSERT_TRUE(issue) << reply.body;
  EXPECT_EQ(issue->getValue<std::string>("code"), "security");
  EXPECT_EQ(parse(reply.body)->getValue<int>("total"), 1);
}

TEST_F(ExchangeApiTest, EachPeerCallsEntrySaysHowThisNodeAuthenticated) {
  // A UDAP peer (token sent, this node's client_id there), a refused UDAP call, and a plain mTLS one.
  FakePeerFanout::Answer harbor = bundleOf({"h1"});
  harbor.outcome->auth = PeerCallAuth{"mtls+udap", "client-at-harbor"};
  fanout.answer(kHarbor, harbor);
  PeerFailure refused{"udap_token_refused:invalid_client", "scripted"};
  refused.auth = PeerCallAuth{"mtls+udap", "client-at-river"};
  fanout.answer(kRiver, {tl::make_unexpected(refused), false});
  ExchangeApi api(fanout, options, counters);
  auto reply = query(api);
  ASSERT_EQ(reply.status, 200) << reply.body;
  const audit::AuditEvent* h = callTo(reply, kHarbor);
  ASSERT_NE(h, nullptr);
  EXPECT_EQ(h->authentication, "mtls+udap");
  EXPECT_EQ(h->clientId, "client-at-harbor");
  const audit::AuditEvent* r = callTo(reply, kRiver);
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->authentication, "mtls+udap");
  EXPECT_EQ(r->clientId, "client-at-river");
  // The default: mutual TLS alone.
  fanout.answer(kHarbor, bundleOf({"h1"}));
  fanout.answer(kRiver, bundleOf({"r1"}));
  auto plain = query(api);
  for (const auto& e : plain.relatedAudit) {
    EXPECT_EQ(e.authentication, "mtls");
    EXPECT_EQ(e.clientId, "");
  }
}

// A call to a UDAP peer that get() never answered (still queued, not submitted, the fan-out stopping,
// still running at the deadline) is audited as the UDAP call it was to be: mtls+udap and the client_id.
TEST_F(ExchangeApiTest, AUdapPeersCallWithoutAnAnswerStillSaysMtlsUdap) {
  registry.peers[1].auth = "udap";  // Harbor
  auto expectUdap = [&](const HttpReply& reply, const std::string& reason) {
    const audit::AuditEvent* h = callTo(reply, kHarbor);
    ASSERT_NE(h, nullptr);
    EXPECT_EQ(h->outcomeReason, reason);
    EXPECT_EQ(h->authentication, "mtls+udap");
    EXPECT_EQ(h->clientId, "client-at-" + kHarbor);
    const audit::AuditEvent* r = callTo(reply, kRiver);
    ASSERT_NE(r, nullptr);
    EXPECT_EQ(r->authentication, "mtls");
    EXPECT_EQ(r->clientId, "");
  };
  {
    fanout.setPool(FakePeerFanout::Pool::kKeepQueued);
    ExchangeApi api(fanout, options, counters);
    expectUdap(query(api), "busy");
  }
  {
    fanout.setPool(FakePeerFanout::Pool::kRefuse);
    ExchangeApi api(fanout, options, counters);
    expectUdap(query(api), "busy");
  }
  {
    fanout.setPool(FakePeerFanout::Pool::kRun);
    auto stuck = bundleOf({"h1"});
    stuck.hang = true;
    fanout.answer(kHarbor, stuck);
    fanout.answer(kRiver, bundleOf({"r1"}));
    ExchangeApi api(fanout, options, counters);
    expectUdap(query(api), "timeout");
  }
  {
    // River is never submitted: Harbor (asked first) hangs and maxParallel is 1.
    registry.peers[2].auth = "udap";
    options.maxParallel = 1;
    ExchangeApi api(fanout, options, counters);
    auto reply = query(api);
    for (const auto& [peer, reason] : {std::make_pair(kHarbor, "timeout"), std::make_pair(kRiver, "busy")}) {
      const audit::AuditEvent* e = callTo(reply, peer);
      ASSERT_NE(e, nullptr);
      EXPECT_EQ(e->outcomeReason, reason);
      EXPECT_EQ(e->authentication, "mtls+udap");
      EXPECT_EQ(e->clientId, "client-at-" + peer);
    }
  }
  fanout.release();
}

TEST_F(ExchangeApiTest, APeerThatDoesNotAnswerByTheDeadlineIsATimeoutAndTheOthersStillCount) {
  fanout.answer(kHarbor, bundleOf({"h1"}));
  auto late = bundleOf({"late"});
  late.hang = true;
  fanout.answer(kRiver, late);
  ExchangeApi api(fanout, options, counters);
  const auto started = std::chrono::steady_clock::now();
  auto reply = query(api);
  EXPECT_GE(std::chrono::steady_clock::now() - started, options.deadline);  // it waited for the deadline
  ASSERT_EQ(reply.status, 200);
  auto bundle = parse(reply.body);
  EXPECT_EQ(bundle->getValue<int>("total"), 1);
  auto issue = issueFor(bundle, kRiver);
  ASSERT_FALSE(issue.isNull()) << reply.body;
  EXPECT_EQ(issue->getValue<std::string>("code"), "timeout");
  EXPECT_EQ(issue->getValue<std::string>("diagnostics"), "peer " + kRiver + ": timeout: no answer before the deadline");
  const audit::AuditEvent* river = callTo(reply, kRiver);
  ASSERT_NE(river, nullptr);
  EXPECT_EQ(river->outcome, "error");
  EXPECT_EQ(river->outcomeReason, "timeout");
  EXPECT_EQ(callTo(reply, kHarbor)->outcome, "success");
  EXPECT_EQ(counters.peerCallsFailed.value({kRiver}), 1u);
  // The late answer arrives after the reply was made: it changes nothing and touches nothing freed.
  fanout.release();
  ASSERT_TRUE(fanout.waitAnswered(2));
  EXPECT_EQ(reply.body.find("late"), std::string::npos);
}

TEST_F(ExchangeApiTest, FailedPeersBecomeOutcomesBesideThePartialResult) {
  registry.organizations.push_back({"urn:oid:9.1", "A", auth::OrganizationStatus::kActive, {auth::Role::kMember}, {}, {}});
  registry.organizations.push_back({"urn:oid:9.2", "B", auth::OrganizationStatus::kActive, {auth::Role::kMember}, {}, {}});
  registry.organizations.push_back({"urn:oid:9.3", "C", auth::OrganizationStatus::kActive, {auth::Role::kMember}, {}, {}});
  registry.peers.push_back({"urn:oid:9.1", "https://a"});
  registry.peers.push_back({"urn:oid:9.2", "https://b"});
  registry.peers.push_back({"urn:oid:9.3", "https://c"});
  fanout.answer(kHarbor, bundleOf({"h1", "h2"}));
  fanout.answer(kRiver, failure("tls_unknown_ca"));
  fanout.answer("urn:oid:9.1", {PeerResponse{500, "text/plain", "oops"}, false});
  fanout.answer("urn:oid:9.2", {PeerResponse{403, "application/fhir+json", "{}"}, false});
  fanout.answer("urn:oid:9.3", {PeerResponse{200, "application/fhir+json", "not json"}, false});
  ExchangeApi api(fanout, options, counters);
  auto reply = query(api);
  ASSERT_EQ(reply.status, 200);
  auto bundle = parse(reply.body);
  EXPECT_EQ(bundle->getValue<int>("total"), 2);
  EXPECT_EQ(bundle->getArray("entry")->size(), 6u);  // two matches, four outcomes
  struct Expect {
    std::string peer, code, reason, outcome;
  };
  for (const auto& e : std::vector<Expect>{{kRiver, "security", "tls_unknown_ca", "denied"},
                                           {"urn:oid:9.1", "processing", "http_500", "error"},
                                           {"urn:oid:9.2", "processing", "http_403", "denied"},
                                           {"urn:oid:9.3", "transient", "invalid_response", "error"}}) {
    auto issue = issueFor(bundle, e.peer);
    ASSERT_FALSE(issue.isNull()) << e.peer << " " << reply.body;
    EXPECT_EQ(issue->getValue<std::string>("code"), e.code) << e.peer;
    const audit::AuditEvent* call = callTo(reply, e.peer);
    ASSERT_NE(call, nullptr);
    EXPECT_EQ(call->outcomeReason, e.reason);
    EXPECT_EQ(call->outcome, e.outcome);
  }
  EXPECT_EQ(callTo(reply, "urn:oid:9.1")->httpStatus, 500);
  EXPECT_EQ(reply.access.resultCount, 2);
}

// One rule for /exchange and `hie-node fetch`: the peer's refusals (403, UDAP) and this node's refusals
// of the peer are denied, anything else an error.
TEST(PeerCallOutcome, RefusalsAreDeniedTheRestErrors) {
  for (const char* denied : {"http_403", "udap_metadata_invalid", "udap_registration_refused", "udap_token_refused",
                             "impersonation", "tls_unknown_ca", "answer_signature_invalid"}) {
    EXPECT_STREQ(peerCallOutcome(denied), "denied") << denied;
  }
  for (const char* error : {"http_500", "http_404", "timeout", "busy", "connect", "invalid_response",
                            "udap_not_configured", "udap_signing_failed", "internal", "udap_token_refusedx"}) {
    EXPECT_STREQ(peerCallOutcome(error), "error") << error;
  }
}

TEST_F(ExchangeApiTest, UdapRefusalsAreAuditedAsDenied) {
  fanout.answer(kHarbor, failure("udap_token_refused"));
  fanout.answer(kRiver, failure("udap_registration_refused"));
  ExchangeApi api(fanout, options, counters);
  auto reply = query(api);
  ASSERT_EQ(reply.status, 200);
  for (const auto& peer : {kHarbor, kRiver}) {
    const audit::AuditEvent* e = callTo(reply, peer);
    ASSERT_NE(e, nullptr);
    EXPECT_EQ(e->outcome, "denied") << e->outcomeReason;
  }
  fanout.answer(kHarbor, failure("udap_metadata_invalid"));
  fanout.answer(kRiver, failure("udap_not_configured"));
  auto again = query(api);
  EXPECT_EQ(callTo(again, kHarbor)->outcome, "denied");
  EXPECT_EQ(callTo(again, kRiver)->outcome, "error") << "this node's own configuration, not a refusal";
}

TEST_F(ExchangeApiTest, PeersNotAskedForWantOfAWorkerAreBusy) {
  auto busyReason = [](const HttpReply& reply, const std::string& peer) {
    const audit::AuditEvent* call = callTo(reply, peer);
    return call == nullptr ? std::string("<none>") : call->outcomeReason;
  };
  {
    // Every node-wide worker taken until the deadline: the call stays queued and is never sent.
    fanout.setPool(FakePeerFanout::Pool::kKeepQueued);
    ExchangeApi api(fanout, options, counters);
    auto reply = query(api);
    ASSERT_EQ(reply.status, 200);
    auto bundle = parse(reply.body);
    EXPECT_EQ(bundle->getValue<int>("total"), 0);
    for (const auto& peer : {kHarbor, kRiver}) {
      EXPECT_EQ(busyReason(reply, peer), "busy");
      auto issue = issueFor(bundle, peer);
      ASSERT_FALSE(issue.isNull());
      EXPECT_EQ(issue->getValue<std::string>("code"), "throttled");
      EXPECT_NE(issue->getValue<std::string>("diagnostics").find("client.maxConcurrentCalls"), std::string::npos);
    }
    EXPECT_TRUE(fanout.asked().empty());
    EXPECT_EQ(counters.peerBusy.value(), 2u);
  }
  {
    // The fan-out is stopping: nothing is run, at once.
    fanout.setPool(FakePeerFanout::Pool::kRefuse);
    ExchangeApi api(fanout, options, counters);
    auto reply = query(api);
    EXPECT_EQ(busyReason(reply, kHarbor), "busy");
    EXPECT_NE(issueFor(parse(reply.body), kHarbor)->getValue<std::string>("diagnostics").find("shutting down"),
              std::string::npos);
  }
}

TEST_F(ExchangeApiTest, ThisRequestsParallelLimitLeavesTheRestUnaskedWhenTheFirstHangs) {
  auto stuck = bundleOf({"h1"});
  stuck.hang = true;
  fanout.answer(kHarbor, stuck);
  fanout.answer(kRiver, bundleOf({"r1"}));
  options.maxParallel = 1;
  ExchangeApi api(fanout, options, counters);
  auto reply = query(api);
  auto bundle = parse(reply.body);
  EXPECT_EQ(bundle->getValue<int>("total"), 0);
  EXPECT_EQ(callTo(reply, kHarbor)->outcomeReason, "timeout");
  EXPECT_EQ(callTo(reply, kRiver)->outcomeReason, "busy");
  EXPECT_NE(issueFor(bundle, kRiver)->getValue<std::string>("diagnostics").find("exchange.maxParallel"),
            std::string::npos);
  EXPECT_EQ(fanout.submitted(), 1);
  fanout.release();
}

TEST_F(ExchangeApiTest, RefusalsComeBeforeAnyPeerIsAsked) {
  ExchangeApi api(fanout, options, counters);
  const auth::Organization member{kHarbor, "Harbor", auth::OrganizationStatus::kActive, {auth::Role::kMember}, {}, {}};
  const HeaderList ok{{"patient.identifier", "urn:mrn|123"}};
  const HeaderList treat{{"X-Purpose-Of-Use", "TREAT"}};
  struct Case {
    HttpReply reply;
    int status;
    std::string reason;
  };
  const std::vector<Case> cases{
      {query(api, ok, treat, "/exchange/Observation", &member), 403, "role_not_allowed"},
      {query(api, ok, treat, "/exchange/Observation", nullptr, "POST"), 405, "method_not_allowed"},
      {query(api, ok, treat, "/exchange/Condition"), 404, "unsupported_type"},
      {query(api, {}, treat), 400, "invalid_request"},
      {query(api, {{"patient.identifier", "no-bar"}}, treat), 400, "invalid_request"},
      {query(api, {{"patient.identifier", "|123"}}, treat), 400, "invalid_request"},
      {query(api, {{"patient.identifier", "urn:mrn|1\r\n2"}}, treat), 400, "invalid_request"},
      {query(api, {{"patient.identifier", "urn:mrn|" + std::string(600, '1')}}, treat), 400, "invalid_request"},
      {query(api, {{"patient.identifier", "urn:mrn|1"}, {"patient.identifier", "urn:mrn|2"}}, treat), 400,
       "invalid_request"},
      {query(api, {{"patient.identifier", "urn:mrn|1"}, {"_count", "5"}}, treat), 400, "invalid_request"},
      {query(api, ok, {}), 400, "missing_purpose"},
      {query(api, ok, {{"X-Purpose-Of-Use", "NOPE"}}), 400, "missing_purpose"},
      {query(api, ok, {{"X-Purpose-Of-Use", "TREAT"}, {"x-purpose-of-use", "TREAT"}}), 400, "missing_purpose"},
  };
  for (std::size_t i = 0; i < cases.size(); ++i) {
    EXPECT_EQ(cases[i].reply.status, cases[i].status) << "case " << i;
    EXPECT_EQ(cases[i].reply.refusalReason, cases[i].reason) << "case " << i;
    EXPECT_EQ(cases[i].reply.access.action, "query") << "case " << i;
    EXPECT_TRUE(cases[i].reply.relatedAudit.empty());
  }
  EXPECT_EQ(fanout.submitted(), 0);
}

}  // namespace
}  // namespace hie::exchange
