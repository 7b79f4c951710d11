// The witness submitter's rounds against in-memory witnesses (the real
// WitnessApi over a memory store, reached through a fake poster) and canned
// answers: what it submits, stores, skips (the loop breaker), retries after a
// 409, raises as an alarm, and how it audits each call.
#include "exchange/peers/witness_submitter.h"

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <map>

#include "audit/add_checkpoint.h"
#include "audit/witness_policy.h"
#include "exchange/handlers/witness_api.h"
#include "tests/support/witness_fakes.h"

namespace hie::exchange {
namespace {

using hie::testing::MemoryWitnessedLog;
using hie::testing::MemoryWitnessStore;
using hie::testing::TestLog;

const std::string kOrgA = "urn:oid:2.16.840.1.113883.3.7100";
const std::string kOrgB = "urn:oid:2.16.840.1.113883.3.7200";
const std::string kOrgC = "urn:oid:2.16.840.1.113883.3.7300";

class Sink : public audit::AuditSink {
 public:
  Result<std::int64_t> record(const audit::AuditEvent& e) override {
    recordAsync(e);
    return 1;
  }
  void recordAsync(const audit::AuditEvent& e) override {
    std::lock_guard<std::mutex> lock(mutex);
    events.push_back(e);
  }
  std::mutex mutex;
  std::vector<audit::AuditEvent> events;
};

class Directory : public auth::OrganizationDirectory {
 public:
  auth::OrganizationSnapshot snapshot() const override { return std::make_shared<auth::RegistrySnapshot>(snap); }
  auth::RegistrySnapshot snap;
};

// A witness node in memory: its key, its state, and its add-checkpoint endpoint.
struct Witness {
  explicit Witness(const std::string& name, Counters& counters) : name(name), api(store, key, name, counters) {}
  audit::note::VerifierKey vkey() const {
    return audit::note::VerifierKey::of(name, audit::note::kCosignatureV1, *audit::VerifyKey::fromRaw(key.rawPublicKey()));
  }
  std::string name;
  audit::SigningKey key = *audit::SigningKey::generate();
  MemoryWitnessStore store;
  WitnessApi api;
  auth::RegistrySnapshot knows;  // its peer directory: the log keys it trusts
};

// Delivers each POST to the witness of its peer, or answers what `canned` says.
class Poster : public PeerPoster {
 public:
  tl::expected<PeerResponse, PeerFailure> post(const auth::PeerEntry& peer, const std::string& path,
                                               const std::string& body, const std::string& contentType,
                                               const HeaderList& headers, std::chrono::steady_clock::time_point) override {
    calls.push_back(Call{peer.organization, path, body, contentType, headers});
    if (auto it = canned.find(peer.organization); it != canned.end()) return it->second(body);
    Witness* w = witnesses.at(peer.organization);
    HttpCall call;
    call.method = "POST";
    call.path = path;
    call.body = body;
    HttpReply reply = w->api.handle(call, w->knows);
    return PeerResponse{reply.status, reply.contentType, reply.body};
  }
  struct Call {
    std::string peer, path, body, contentType;
    HeaderList headers;
  };
  std::map<std::string, Witness*> witnesses;
  std::map<std::string, std::function<tl::expected<PeerResponse, PeerFailure>(const std::string&)>> canned;
  std::vector<Call> calls;
};

class WitnessSubmitterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (Witness* w : {&b, &c}) w->knows.peers.push_back(auth::PeerEntry{kOrgA, "https://a", log.vkey().text(), ""});
    directory.snap.peers = {auth::PeerEntry{kOrgA, "https://a", "", ""},  // itself: never asked
                            auth::PeerEntry{kOrgB, "https://b", "", b.vkey().text()},
                            auth::PeerEntry{kOrgC, "https://c", "", c.vkey().text()},
                            auth::PeerEntry{"urn:oid:9.9", "https://d", "", ""}};  // no witness key: never asked
    poster.witnesses = {{kOrgB, &b}, {kOrgC, &c}};
  }
  void publish(const std::string& action, int count) {
    log.append(action, count);
    ours.published = log.leaves.size();
  }
  std::size_t cosignedAt(std::uint64_t size) { return ours.cosignatures[size].size(); }

  Counters counters;
  TestLog log;
  MemoryWitnessedLog ours{log};
  Witness b{"hie-node/node-b/witness", counters};
  Witness c{"hie-node/node-c/witness", counters};
  Directory directory;
  Poster poster;
  Sink sink;
  WitnessSubmitter submitter{ours, directory, poster, sink, counters,
                             WitnessSubmitterOptions{log.origin, kOrgA, std::chrono::seconds(3600),
                                                     std::chrono::milliseconds(1000)}};
};

TEST_F(WitnessSubmitterTest, EachWitnessCosignsTheNewestCheckpointOnce) {
  EXPECT_EQ(submitter.runRound().cosigned, 0) << "nothing signed yet: nothing to submit";
  EXPECT_TRUE(poster.calls.empty());
  publish("read", 5);
  auto round = submitter.runRound();
  EXPECT_EQ(round.cosigned, 2);
  EXPECT_EQ(round.failed, 0);
  ASSERT_EQ(poster.calls.size(), 2u);
  EXPECT_EQ(poster.calls[0].path, "/witness/add-checkpoint");
  EXPECT_EQ(poster.calls[0].body.rfind("old 0\n\n", 0), 0u);
  EXPECT_EQ(cosignedAt(5), 2u);
  EXPECT_EQ(ours.sizes.at(b.name), 5u);
  EXPECT_EQ(ours.sizes.at(c.name), 5u);
  EXPECT_EQ(b.store.heads.at(log.origin).size, 5u);
  // Both stored lines verify as B's and C's cosignatures of the checkpoint.
  std::vector<std::string> lines(ours.cosignatures[5].begin(), ours.cosignatures[5].end());
  auto known = audit::knownCosignatures(log.checkpoint(5), lines, {b.vkey(), c.vkey()});
  ASSERT_TRUE(known) << known.error().internal;
  EXPECT_EQ(known->size(), 2u);

  // Every call audited as a peer call of action witness-submit.
  ASSERT_EQ(sink.events.size(), 2u);
  for (const auto& e : sink.events) {
    EXPECT_EQ(e.action, "witness-submit");
    EXPECT_EQ(e.authentication, "mtls");  // witnessing never uses a UDAP token
    EXPECT_EQ(e.clientId, "");
    EXPECT_EQ(e.outcome, "success");
    EXPECT_EQ(e.httpStatus, 200);
    EXPECT_EQ(e.organization, kOrgA);
    EXPECT_EQ(e.method, "POST");
    EXPECT_EQ(e.path, "/witness/add-checkpoint");
    EXPECT_FALSE(e.requestId.empty());
  }
  EXPECT_EQ(sink.events[0].peerOrganization, kOrgB);
  EXPECT_EQ(poster.calls[0].headers, (HeaderList{{"X-Request-Id", sink.events[0].requestId}}));

  // Same size: nobody is asked again.
  EXPECT_EQ(submitter.runRound().skipped, 2);
  EXPECT_EQ(poster.calls.size(), 2u);
  // A larger one: sent with the consistency proof from 5.
  publish("search", 3);
  EXPECT_EQ(submitter.runRound().cosigned, 2);
  EXPECT_EQ(poster.calls[2].body, audit::addCheckpointBody(5, log.proof(5, 8), log.checkpoint(8)));
  EXPECT_EQ(cosignedAt(8), 2u);
  EXPECT_EQ(counters.witnessSubmissions.value({kOrgB, "cosigned"}), 2u);
}

TEST_F(WitnessSubmitterTest, TheLoopBreakerSkipsAWitnessWhenOnlyWitnessingHappenedSince) {
  publish("read", 4);
  ASSERT_EQ(submitter.runRound().cosigned, 2);
  // The entries witnessing itself leaves behind: no new submission.
  publish("witness-submit", 2);
  publish("witness", 1);
  auto round = submitter.runRound();
  EXPECT_EQ(round.skipped, 2);
  EXPECT_EQ(round.cosigned, 0);
  EXPECT_EQ(poster.calls.size(), 2u);
  // One real entry after them: submitted, the witnessing entries included.
  publish("read", 1);
  EXPECT_EQ(submitter.runRound().cosigned, 2);
  EXPECT_EQ(b.store.heads.at(log.origin).size, 8u);
  // Only witnessing from the start: never submitted either.
  TestLog quiet("hie-node/node-q/audit");
  quiet.append("witness", 3);
  MemoryWitnessedLog view(quiet);
  view.published = 3;
  WitnessSubmitter other(view, directory, poster, sink, counters,
                         WitnessSubmitterOptions{quiet.origin, kOrgA, std::chrono::seconds(1), std::chrono::milliseconds(100)});
  EXPECT_EQ(other.runRound().skipped, 2);
}

TEST_F(WitnessSubmitterTest, A409NamesTheWitnessSizeAndTheSubmissionIsMadeAgainFromIt) {
  publish("read", 6);
  ASSERT_EQ(submitter.runRound().cosigned, 2);
  // This node lost its record of what B cosigned (B is at 6; we believe 0).
  ours.sizes.erase(b.name);
  publish("read", 4);
  auto round = submitter.runRound();
  EXPECT_EQ(round.cosigned, 2);
  EXPECT_EQ(round.failed, 0);
  // B: old 0 -> 409 "6" -> old 6 with the proof from 6 -> cosigned.
  ASSERT_EQ(poster.calls.size(), 5u);
  EXPECT_EQ(poster.calls[2].body.rfind("old 0\n", 0), 0u);
  EXPECT_EQ(poster.calls[3].body, audit::addCheckpointBody(6, log.proof(6, 10), log.checkpoint(10)));
  EXPECT_EQ(ours.sizes.at(b.name), 10u);
  EXPECT_EQ(counters.witnessSubmissions.value({kOrgB, "conflict"}), 1u);
  EXPECT_EQ(counters.witnessAlarms.value({kOrgB, "witness_ahead"}), 0u);
  // The 409 was audited as an error of that call.
  EXPECT_EQ(sink.events[2].outcome, "error");
  EXPECT_EQ(sink.events[2].outcomeReason, "http_409");
}

TEST_F(WitnessSubmitterTest, AWitnessAheadOfThisLogOrRefusingItAsInconsistentIsAnAlarm) {
  publish("read", 3);
  // B claims to have cosigned 50 leaves of a log that has 3.
  poster.canned[kOrgB] = [](const std::string&) -> tl::expected<PeerResponse, PeerFailure> {
    return PeerResponse{409, "text/x.tlog.size", "50\n"};
  };
  // C holds another view of this log.
  poster.canned[kOrgC] = [](const std::string&) -> tl::expected<PeerResponse, PeerFailure> {
    return PeerResponse{422, "text/plain; charset=utf-8", "inconsistent\n"};
  };
  auto round = submitter.runRound();
  EXPECT_EQ(round.alarms, 2);
  EXPECT_EQ(round.failed, 2);
  EXPECT_EQ(round.cosigned, 0);
  EXPECT_EQ(counters.witnessAlarms.value({kOrgB, "witness_ahead"}), 1u);
  EXPECT_EQ(counters.witnessAlarms.value({kOrgC, "inconsistent"}), 1u);
  EXPECT_EQ(poster.calls.size(), 2u) << "no retry towards a size this log does not have";
  EXPECT_EQ(ours.sizes.count(b.name), 0u) << "a size ahead of the log is not recorded";
  EXPECT_TRUE(ours.cosignatures.empty());
  EXPECT_EQ(sink.events.size(), 2u);
  EXPECT_EQ(sink.events[1].outcomeReason, "http_422");

  // A witness recorded as ahead of this log (the log lost its tail) is an alarm without a call.
  poster.canned.clear();
  ours.sizes[b.name] = 40;
  round = submitter.runRound();
  EXPECT_EQ(round.alarms, 1);
  EXPECT_EQ(counters.witnessAlarms.value({kOrgB, "witness_ahead"}), 2u);
}

TEST_F(WitnessSubmitterTest, BadAnswersAreFailuresAndForeignLinesAreIgnored) {
  publish("read", 2);
  const audit::SigningKey stranger = *audit::SigningKey::generate();
  const std::string text = log.head(2).text();
  const std::string foreign = *audit::note::cosign(text, 5, "witness.example/w1", stranger);
  // B answers with a stranger's line next to its own: the stranger's is ignored.
  poster.canned[kOrgB] = [&](const std::string&) -> tl::expected<PeerResponse, PeerFailure> {
    return PeerResponse{200, "text/plain", foreign + "\n" + *audit::note::cosign(text, 7, b.name, b.key) + "\n"};
  };
  // C answers with a line of its name and key id whose signature is not C's.
  poster.canned[kOrgC] = [&](const std::string&) -> tl::expected<PeerResponse, PeerFailure> {
    auto line = audit::note::parseSignatureLines(*audit::note::cosign(text, 7, c.name, c.key) + "\n")->front();
    line.signature[30] = static_cast<char>(line.signature[30] ^ 1);
    return PeerResponse{200, "text/plain", audit::note::signatureLine(c.name, line.keyId, line.signature) + "\n"};
  };
  auto round = submitter.runRound();
  EXPECT_EQ(round.cosigned, 1);
  EXPECT_EQ(round.failed, 1);
  ASSERT_EQ(cosignedAt(2), 1u);
  EXPECT_NE(ours.cosignatures[2].begin()->find(b.name), std::string::npos);
  EXPECT_EQ(ours.sizes.count(c.name), 0u);
  EXPECT_EQ(counters.witnessSubmissions.value({kOrgC, "bad_cosignature"}), 1u);

  // Only a stranger's line; garbage; a transport failure; a 500.
  int answer = 0;
  poster.canned[kOrgC] = [&](const std::string&) -> tl::expected<PeerResponse, PeerFailure> {
    switch (answer++) {
      case 0: return PeerResponse{200, "text/plain", foreign + "\n"};
      case 1: return PeerResponse{200, "text/plain", "hello"};
      case 2: return tl::make_unexpected(PeerFailure{"timeout", "no answer before the deadline"});
      default: return PeerResponse{500, "text/plain", ""};
    }
  };
  for (const char* result : {"no_cosignature", "invalid_response", "timeout", "http_500"}) {
    EXPECT_EQ(submitter.runRound().failed, 1) << result;
    EXPECT_EQ(counters.witnessSubmissions.value({kOrgC, result}), 1u) << result;
    EXPECT_EQ(sink.events.back().outcomeReason, result);
    EXPECT_EQ(sink.events.back().peerOrganization, kOrgC);
  }
  EXPECT_EQ(ours.sizes.count(c.name), 0u);
  // A 409 that is not a size answer.
  poster.canned[kOrgC] = [](const std::string&) -> tl::expected<PeerResponse, PeerFailure> {
    return PeerResponse{409, "text/plain", "7\n"};
  };
  submitter.runRound();
  EXPECT_EQ(counters.witnessSubmissions.value({kOrgC, "invalid_response"}), 2u);
  EXPECT_EQ(ours.sizes.count(c.name), 0u);
  // A directory entry whose witness key is not one.
  directory.snap.peers[2].witnessKey = log.vkey().text();
  EXPECT_EQ(submitter.runRound().failed, 1);
  EXPECT_EQ(counters.witnessSubmissions.value({kOrgC, "bad_witness_key"}), 1u);
}

TEST_F(WitnessSubmitterTest, AWitnessLeftBehindIsBroughtToTheSizeTheOthersCosignedDespiteTheLoopBreaker) {
  // C refuses the first round (it does not know this log yet): only B cosigns 5.
  publish("read", 5);
  poster.canned[kOrgC] = [](const std::string&) { return PeerResponse{404, "text/plain", "unknown origin\n"}; };
  EXPECT_EQ(submitter.runRound().cosigned, 1);
  poster.canned.clear();
  // Then only witnessing is logged (its own witness-submit entries, peers' witness requests). The
  // loop breaker keeps B where it is, and C is sent B's checkpoint of 5, not the newest: so one
  // checkpoint carries both cosignatures, and the two do not chase each other's entries.
  publish(audit::kWitnessSubmitAction, 2);
  publish(audit::kWitnessAction, 1);
  auto round = submitter.runRound();
  EXPECT_EQ(round.cosigned, 1);
  EXPECT_EQ(round.skipped, 1);
  EXPECT_EQ(cosignedAt(5), 2u);
  EXPECT_EQ(cosignedAt(8), 0u);
  EXPECT_EQ(ours.sizes.at(c.name), 5u);
  EXPECT_EQ(poster.calls.back().body, audit::addCheckpointBody(0, {}, log.checkpoint(5)));
  // Converged: with nothing but witnessing after 5, nobody is asked again.
  const auto calls = poster.calls.size();
  EXPECT_EQ(submitter.runRound().skipped, 2);
  EXPECT_EQ(poster.calls.size(), calls);
  // Something else is logged: both get the newest checkpoint.
  publish("read", 1);
  EXPECT_EQ(submitter.runRound().cosigned, 2);
  EXPECT_EQ(cosignedAt(9), 2u);
}

TEST_F(WitnessSubmitterTest, TheThreadSubmitsAtOnceAndStopsWithoutWaitingForTheInterval) {
  publish("read", 3);
  const auto started = std::chrono::steady_clock::now();
  submitter.start();
  // The first round runs at once (both witnesses cosign in it); stop() must not wait out the
  // hour-long interval. Polled until the round is done, not only started: under ThreadSanitizer
  // a stop() right after the round began cut it after the first witness.
  auto cosigned = [&] {
    return counters.witnessSubmissions.value({kOrgB, "cosigned"}) + counters.witnessSubmissions.value({kOrgC, "cosigned"});
  };
  for (int i = 0; i < 1000 && (counters.witnessRounds.value() == 0 || cosigned() < 2); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_GE(counters.witnessRounds.value(), 1u);
  submitter.stop();
  submitter.stop();  // idempotent
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(60));
  EXPECT_EQ(cosignedAt(3), 2u);
}

}  // namespace
}  // namespace hie::exchange
