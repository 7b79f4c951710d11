// The audited reply without sockets or a database: a hand-written AuditSink
// that commits or refuses, and what release() leaves for the wire.
#include "exchange/http/audited_reply.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <ctime>

#include "auth/identity/certificate_identity.h"
#include "common/base64.h"
#include "tests/support/test_pki.h"

namespace hie::exchange {
namespace {

class FakeAuditSink : public audit::AuditSink {
 public:
  bool available = true;
  std::vector<std::vector<audit::AuditEvent>> commits;  // each recordAll() that committed
  std::vector<audit::AuditEvent> queued;                // recordAsync()
  int refusedCommits = 0;

  Result<std::int64_t> record(const audit::AuditEvent& event) override {
    auto all = recordAll({event});
    if (!all) return tl::make_unexpected(all.error());
    return static_cast<std::int64_t>(commits.size());
  }
  Result<bool> recordAll(const std::vector<audit::AuditEvent>& events) override {
    if (!available) {
      ++refusedCommits;
      return fail(ErrorCode::kUnavailable, "audit store down (fake)");
    }
    commits.push_back(events);
    return true;
  }
  void recordAsync(const audit::AuditEvent& event) override { queued.push_back(event); }
};

class AuditedReplyTest : public ::testing::Test {
 protected:
  AuditedReplyTest() {
    call.method = "GET";
    call.path = "/fhir/Patient/p1";
    call.requestId = "req-1";
    call.remoteAddress = "127.0.0.1:5000";
    call.headers.emplace_back("X-Purpose-Of-Use", "TREAT");
    peer.certSha256 = "ab12";
    peer.subjectDn = "CN=member";
  }
  ServedRequest served(std::string organization = "urn:oid:1.2.3") {
    return ServedRequest{call, "/fhir/Patient/p1", peer, std::move(organization), std::chrono::steady_clock::now(), {}, ""};
  }
  static HttpReply patientRecord() {
    HttpReply reply;
    reply.body = R"({"resourceType":"Patient","id":"p1","name":[{"family":"Secret"}]})";
    reply.headers.emplace_back("ETag", "W/\"3\"");
    reply.access.action = "read";
    reply.access.resourceType = "Patient";
    reply.access.resourceId = "p1";
    reply.access.patientId = "p1";
    return reply;
  }
  static bool hasHeader(const HttpReply& r, const std::string& name) {
    return std::any_of(r.headers.begin(), r.headers.end(), [&](const auto& h) { return h.first == name; });
  }

  FakeAuditSink sink;
  Counters counters;
  AuditedReply audited{sink, counters};
  HttpCall call;
  auth::PeerIdentity peer;
};

TEST_F(AuditedReplyTest, ACommittedEntryLetsTheReplyGoUnchanged) {
  HttpReply reply = patientRecord();
  const HttpReply original = reply;
  audited.release(served(), reply);
  ASSERT_EQ(sink.commits.size(), 1u);
  ASSERT_EQ(sink.commits[0].size(), 1u);
  const audit::AuditEvent& e = sink.commits[0][0];
  EXPECT_EQ(e.outcome, "success");
  EXPECT_EQ(e.requestId, "req-1");
  EXPECT_EQ(e.organization, "urn:oid:1.2.3");
  EXPECT_EQ(e.patient, "Patient/p1");
  EXPECT_EQ(e.purpose, "TREAT");
  EXPECT_EQ(e.httpStatus, 200);
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.body, original.body);
  EXPECT_EQ(reply.headers, original.headers);
  EXPECT_TRUE(sink.queued.empty());
  EXPECT_EQ(counters.requests.value({"success", "urn:oid:1.2.3"}), 1u);
}

TEST_F(AuditedReplyTest, AnEntryThatCannotBeCommittedTurnsTheReplyIntoA503WithNothingOfIt) {
  sink.available = false;
  HttpReply reply = patientRecord();
  reply.relatedAudit.push_back(audit::AuditEvent{});
  audited.release(served(), reply);
  EXPECT_EQ(sink.refusedCommits, 1);
  EXPECT_TRUE(sink.commits.empty());
  EXPECT_EQ(reply.status, 503);
  EXPECT_EQ(reply.contentType, "application/fhir+json");
  EXPECT_NE(reply.body.find("OperationOutcome"), std::string::npos);
  EXPECT_NE(reply.body.find("transient"), std::string::npos);
  EXPECT_EQ(reply.body.find("Secret"), std::string::npos) << "nothing of the record leaks";
  EXPECT_EQ(reply.body.find("p1"), std::string::npos);
  EXPECT_FALSE(hasHeader(reply, "ETag")) << "nor of its headers";
  EXPECT_TRUE(hasHeader(reply, "Retry-After"));
  EXPECT_TRUE(reply.access.patientId.empty());
  EXPECT_TRUE(reply.relatedAudit.empty());
  EXPECT_EQ(reply.refusalReason, "audit_unavailable");
  EXPECT_EQ(reply.internalError, "audit store down (fake)") << "the log line says why";
  EXPECT_EQ(std::count_if(reply.headers.begin(), reply.headers.end(),
                          [](const auto& h) { return h.first == "Retry-After"; }),
            1);
  // What the caller got is queued for the audit trail instead.
  ASSERT_EQ(sink.queued.size(), 1u);
  EXPECT_EQ(sink.queued[0].httpStatus, 503);
  EXPECT_EQ(sink.queued[0].outcome, "error");
  EXPECT_EQ(sink.queued[0].outcomeReason, "audit_unavailable");
  EXPECT_EQ(sink.queued[0].requestId, "req-1");
  EXPECT_TRUE(sink.queued[0].patient.empty()) << "the queued entry records the 503, not the disclosure";
  EXPECT_EQ(counters.refusals.value({"audit", "audit_unavailable"}), 1u);
  EXPECT_EQ(counters.requests.value({"error", "urn:oid:1.2.3"}), 1u);
  EXPECT_EQ(counters.requests.value({"success", "urn:oid:1.2.3"}), 0u);
}

// A write's open database transaction, as the test sees it.
class FakeWrite : public DeferredCommit {
 public:
  FakeWrite(std::vector<std::string>& events, bool works) : events_(events), works_(works) {}
  ~FakeWrite() override {
    if (!committed_) events_.push_back("rolled back");
  }
  Result<void> commit() override {
    if (!works_) return fail(ErrorCode::kUnavailable, "commit in doubt (fake)", "unavailable");
    committed_ = true;
    events_.push_back("committed");
    return {};
  }

 private:
  std::vector<std::string>& events_;
  bool works_;
  bool committed_ = false;
};

HttpReply writeReply(std::vector<std::string>& events, bool commitWorks) {
  HttpReply reply;
  reply.status = 200;
  reply.body = R"({"resourceType":"Patient","id":"p1","name":[{"family":"Secret"}]})";
  reply.access.action = "update";
  reply.access.resourceType = "Patient";
  reply.access.resourceId = "p1";
  reply.access.patientId = "p1";
  reply.access.entities = "Patient/p1/_history/4";
  reply.access.resultCount = 1;
  reply.deferred = std::make_shared<FakeWrite>(events, commitWorks);
  return reply;
}

TEST_F(AuditedReplyTest, AWriteIsCommittedOnlyAfterItsEntry) {
  std::vector<std::string> events;
  call.method = "PUT";
  HttpReply reply = writeReply(events, true);
  audited.release(served(), reply);
  ASSERT_EQ(sink.commits.size(), 1u);
  EXPECT_EQ(events, (std::vector<std::string>{"committed"}));
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(sink.commits[0][0].entities, "Patient/p1/_history/4");
  EXPECT_FALSE(reply.deferred);
}

TEST_F(AuditedReplyTest, AWriteWhoseEntryCannotBeCommittedIsUndone) {
  std::vector<std::string> events;
  sink.available = false;
  call.method = "PUT";
  HttpReply reply = writeReply(events, true);
  audited.release(served(), reply);
  EXPECT_EQ(events, (std::vector<std::string>{"rolled back"})) << "no change stands without its entry";
  EXPECT_EQ(reply.status, 503);
  EXPECT_EQ(reply.body.find("Secret"), std::string::npos);
  ASSERT_EQ(sink.queued.size(), 1u);
  EXPECT_EQ(sink.queued[0].outcomeReason, "audit_unavailable");
  EXPECT_TRUE(sink.queued[0].entities.empty()) << "nothing was written";
}

TEST_F(AuditedReplyTest, AWriteWhoseCommitFailsAfterItsEntryIsA503WithASecondEntry) {
  std::vector<std::string> events;
  call.method = "PUT";
  HttpReply reply = writeReply(events, false);
  audited.release(served(), reply);
  ASSERT_EQ(sink.commits.size(), 1u);
  EXPECT_EQ(sink.commits[0][0].outcome, "success") << "the entry committed before the write's commit failed";
  EXPECT_EQ(reply.status, 503);
  EXPECT_EQ(reply.refusalReason, "write_not_committed");
  EXPECT_EQ(reply.body.find("Secret"), std::string::npos);
  EXPECT_TRUE(hasHeader(reply, "Retry-After"));
  ASSERT_EQ(sink.queued.size(), 1u);
  const audit::AuditEvent& e = sink.queued[0];
  EXPECT_EQ(e.requestId, "req-1");
  EXPECT_EQ(e.httpStatus, 503);
  EXPECT_EQ(e.outcomeReason, "write_not_committed");
  EXPECT_EQ(e.entities, "Patient/p1/_history/4") << "what it tried to write";
  EXPECT_EQ(counters.requests.value({"error", "urn:oid:1.2.3"}), 1u);
}

TEST_F(AuditedReplyTest, RelatedEntriesShareTheRequestsCommit) {
  HttpReply reply = patientRecord();
  audit::AuditEvent peerCall;
  peerCall.action = "peer-call";
  peerCall.causedBy = "req-1";
  reply.relatedAudit = {peerCall, peerCall};
  audited.release(served(), reply);
  ASSERT_EQ(sink.commits.size(), 1u) << "one group commit";
  ASSERT_EQ(sink.commits[0].size(), 3u);
  EXPECT_EQ(sink.commits[0][0].action, "peer-call");
  EXPECT_EQ(sink.commits[0][1].action, "peer-call");
  EXPECT_EQ(sink.commits[0][2].requestId, "req-1") << "the request's own entry last";
  EXPECT_TRUE(reply.relatedAudit.empty());
  EXPECT_EQ(reply.status, 200);
}

TEST_F(AuditedReplyTest, EveryServiceUnavailableReplyCarriesRetryAfter) {
  HttpReply reply = patientRecord();
  reply.status = 503;
  reply.body = "{}";
  audited.release(served(), reply);
  EXPECT_TRUE(hasHeader(reply, "Retry-After"));
  audited.release(served(), reply);
  EXPECT_EQ(std::count_if(reply.headers.begin(), reply.headers.end(),
                          [](const auto& h) { return h.first == "Retry-After"; }),
            1)
      << "added once";
}

TEST_F(AuditedReplyTest, AProtocolRefusalIsCountedAsOne) {
  call.path.clear();
  HttpReply reply;
  reply.status = 400;
  reply.refusalReason = "malformed_request";
  audited.release(ServedRequest{call, "-", peer, "", std::chrono::steady_clock::now(), {}, ""}, reply);
  EXPECT_EQ(counters.refusals.value({"protocol", "malformed_request"}), 1u);
  EXPECT_EQ(counters.requests.value({"error", "none"}), 1u);
  ASSERT_EQ(sink.commits.size(), 1u);
  EXPECT_EQ(sink.commits[0][0].outcomeReason, "malformed_request");
  EXPECT_EQ(sink.commits[0][0].path, "-");
}

TEST_F(AuditedReplyTest, ARefusalOfAnAdmittedRequestIsNotAProtocolRefusal) {
  HttpReply reply;
  reply.status = 403;
  reply.refusalReason = "no_grant";
  audited.release(served(), reply);  // an organization and a path: the gate admitted it
  EXPECT_EQ(counters.refusals.value({"protocol", "no_grant"}), 0u);
  EXPECT_EQ(counters.requests.value({"denied", "urn:oid:1.2.3"}) + counters.requests.value({"error", "urn:oid:1.2.3"}), 1u);
  ASSERT_EQ(sink.commits.size(), 1u);
  EXPECT_EQ(sink.commits[0][0].outcomeReason, "no_grant");
}

// Every answer is signed as it is sent, the 503 that replaces an uncommitted one included, and
// the entry that records it holds the answer's signature and the request's.
class SignedAuditedReplyTest : public AuditedReplyTest {
 protected:
  SignedAuditedReplyTest() {
    hie::testing::CertSpec spec;
    spec.commonName = "node";
    spec.sanUris = {"urn:oid:1.2"};
    spec.extendedKeyUsage = {"serverAuth", "clientAuth"};
    nodeCert = pki.leaf(spec);
    auto key = auth::MessageSigningKey::fromPem(nodeCert.keyPem(), pki.chainPem(nodeCert));
    if (!key) throw std::runtime_error(key.error().internal);
    signer = std::make_unique<ReplySigner>(std::make_shared<const auth::MessageSigningKey>(std::move(*key)));
    node = *auth::extractIdentity(nodeCert.cert());
  }
  // Verifies reply as the answer to call, as a caller that sent no signature would.
  void expectVerifies(const HttpReply& reply, const audit::AuditEvent& entry) {
    auth::HttpMessage response;
    response.status = reply.status;
    response.fields = reply.headers;
    response.fields.emplace_back("X-Request-Id", call.requestId);
    const auth::SignatureWindow window{static_cast<std::int64_t>(std::time(nullptr)), 300, 30};
    auto verified = auth::verifyResponse(response, reply.body, requestMessage(call), nullptr, node.publicKeyDer,
                                         node.certSha256, window);
    ASSERT_TRUE(verified) << verified.error().reason << ": " << verified.error().detail;
    ASSERT_TRUE(*verified);
    EXPECT_EQ(entry.responseSignatureBase, (*verified)->base);
    EXPECT_EQ(entry.responseSignature, (*verified)->signature);
    EXPECT_NE(entry.responseSignatureBase.find("\"@status\": " + std::to_string(reply.status) + "\n"),
              std::string::npos)
        << entry.responseSignatureBase;
  }

  hie::testing::TestPki pki = hie::testing::TestPki::create();
  hie::testing::Credential nodeCert;
  auth::PeerIdentity node;
  std::unique_ptr<ReplySigner> signer;
};

TEST_F(SignedAuditedReplyTest, TheAnswerAndItsEntryCarryTheSameSignature) {
  AuditedReply signing{sink, counters, signer.get()};
  ServedRequest request = served();
  request.signature.check = "absent";
  HttpReply reply = patientRecord();
  signing.release(request, reply);
  ASSERT_EQ(sink.commits.size(), 1u);
  const audit::AuditEvent& entry = sink.commits[0].back();
  EXPECT_EQ(entry.signatureCheck, "absent");
  EXPECT_TRUE(hasHeader(reply, "Content-Digest"));
  EXPECT_TRUE(hasHeader(reply, "Signature-Input"));
  expectVerifies(reply, entry);
}

TEST_F(SignedAuditedReplyTest, TheReplacing503IsSignedAndSoIsItsEntry) {
  AuditedReply signing{sink, counters, signer.get()};
  sink.available = false;
  HttpReply reply = patientRecord();
  signing.release(served(), reply);
  ASSERT_EQ(reply.status, 503);
  ASSERT_EQ(sink.queued.size(), 1u);
  expectVerifies(reply, sink.queued[0]);
  // Signed once: the 503 carries no signature of the reply it replaced.
  EXPECT_EQ(std::count_if(reply.headers.begin(), reply.headers.end(),
                          [](const auto& h) { return h.first == "Signature"; }),
            1);
}

TEST_F(SignedAuditedReplyTest, WithoutASignerAnswersGoUnsigned) {
  HttpReply reply = patientRecord();
  audited.release(served(), reply);
  EXPECT_FALSE(hasHeader(reply, "Signature"));
  EXPECT_TRUE(sink.commits[0].back().responseSignature.empty());
}

}  // namespace
}  // namespace hie::exchange
