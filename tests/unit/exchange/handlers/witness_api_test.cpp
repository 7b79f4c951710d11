// POST /witness/add-checkpoint against an in-memory witness state: every
// status code of c2sp.org/tlog-witness, the cosignature it returns, what it
// stores, the compare-and-set race, and the request gate's routing.
#include "exchange/handlers/witness_api.h"

#include <gtest/gtest.h>

#include "audit/add_checkpoint.h"
#include "audit/witness_policy.h"
#include "exchange/http/request_gate.h"
#include "tests/support/memory_audit_reader.h"
#include "tests/support/memory_record_store.h"
#include "tests/support/witness_fakes.h"

namespace hie::exchange {
namespace {

using audit::merkle::Hash;
using hie::testing::MemoryWitnessStore;
using hie::testing::TestLog;

const std::string kOrgA = "urn:oid:2.16.840.1.113883.3.7100";
const std::string kOrgB = "urn:oid:2.16.840.1.113883.3.7200";
const std::string kWitnessName = "hie-node/node-b/witness";
constexpr std::uint64_t kNow = 1767225600;

class WitnessApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    log.append("read", 5);
    registry.peers.push_back(auth::PeerEntry{kOrgA, "https://a.example", log.vkey().text(), ""});
  }

  HttpReply post(const std::string& body) const {
    HttpCall call;
    call.method = "POST";
    call.path = kAddCheckpointPath;
    call.body = body;
    return api.handle(call, registry);
  }
  HttpReply submit(std::uint64_t old, std::uint64_t size) const {
    return post(audit::addCheckpointBody(old, log.proof(old, size), log.checkpoint(size)));
  }
  audit::note::VerifierKey witnessVkey() const {
    return audit::note::VerifierKey::of(kWitnessName, audit::note::kCosignatureV1,
                                        *audit::VerifyKey::fromRaw(witnessKey.rawPublicKey()));
  }
  std::uint64_t storedSize() const { return store.heads.at(log.origin).size; }

  TestLog log;
  audit::SigningKey witnessKey = *audit::SigningKey::generate();
  MemoryWitnessStore store;
  Counters counters;
  auth::RegistrySnapshot registry;
  WitnessApi api{store, witnessKey, kWitnessName, counters, [] { return kNow; }};
};

TEST_F(WitnessApiTest, CosignsAConsistentCheckpointAndStoresItFirst) {
  auto r = submit(0, 5);
  ASSERT_EQ(r.status, 200) << r.body << r.internalError;
  EXPECT_EQ(r.contentType, "text/plain; charset=utf-8");
  EXPECT_EQ(r.access.action, "witness");
  EXPECT_TRUE(r.refusalReason.empty());
  // One cosignature/v1 line of the witness's key, over the checkpoint's text, at the witness's time.
  auto lines = audit::note::parseSignatureLines(r.body);
  ASSERT_TRUE(lines) << r.body;
  ASSERT_EQ(lines->size(), 1u);
  std::uint64_t time = 0;
  EXPECT_TRUE(audit::note::verifyCosignature(log.head(5).text(), lines->front(), witnessVkey(), time));
  EXPECT_EQ(time, kNow);
  // Stored before the answer: the head, and the checkpoint with the cosignature returned.
  EXPECT_EQ(storedSize(), 5u);
  EXPECT_EQ(store.heads.at(log.origin).root, log.root(5));
  ASSERT_EQ(store.cosigned.size(), 1u);
  EXPECT_EQ(store.cosigned[0].second, log.checkpoint(5) + r.body);
  // The auditor's check counts this witness.
  auto known = audit::knownCosignatures(store.cosigned[0].second, {}, {witnessVkey()});
  ASSERT_TRUE(known) << known.error().internal;
  EXPECT_EQ(known->size(), 1u);

  // The next checkpoint, with its consistency proof from 5.
  log.append("search", 4);
  auto next = submit(5, 9);
  ASSERT_EQ(next.status, 200) << next.body << next.internalError;
  EXPECT_EQ(storedSize(), 9u);
  // The same checkpoint again (old = size, same root): cosigned again.
  EXPECT_EQ(submit(9, 9).status, 200);
  EXPECT_EQ(counters.witnessRequests.value({"cosigned"}), 3u);
}

TEST_F(WitnessApiTest, AnOldSizeThatIsNotTheLastCosignedIs409WithTheSize) {
  ASSERT_EQ(submit(0, 5).status, 200);
  log.append("read", 3);
  ASSERT_EQ(submit(5, 8).status, 200);
  // A replayed old checkpoint, and a submitter that does not know the witness's size.
  for (auto [old, size] : std::vector<std::pair<std::uint64_t, std::uint64_t>>{{0, 5}, {0, 8}, {5, 8}, {3, 5}}) {
    auto r = submit(old, size);
    EXPECT_EQ(r.status, 409) << old << " -> " << size;
    EXPECT_EQ(r.contentType, "text/x.tlog.size");
    EXPECT_EQ(r.body, "8\n");
    EXPECT_EQ(r.refusalReason, "witness_conflict");
  }
  EXPECT_EQ(storedSize(), 8u);
  EXPECT_EQ(store.cosigned.size(), 2u);
  // Never cosigned: the size is 0.
  store.heads.clear();
  auto fresh = submit(5, 8);
  EXPECT_EQ(fresh.status, 409);
  EXPECT_EQ(fresh.body, "0\n");
}

TEST_F(WitnessApiTest, AnInconsistentCheckpointIs422AndChangesNothing) {
  ASSERT_EQ(submit(0, 5).status, 200);
  // A fork: the same log key signs another history of 7 leaves whose first 5 differ.
  TestLog fork(log.origin);
  fork.key = log.key;
  fork.append("forged", 7);
  auto forked = post(audit::addCheckpointBody(5, fork.proof(5, 7), fork.checkpoint(7)));
  EXPECT_EQ(forked.status, 422) << forked.body;
  EXPECT_EQ(forked.refusalReason, "witness_inconsistent");
  // Same size, another root.
  EXPECT_EQ(post(audit::addCheckpointBody(5, {}, fork.checkpoint(5))).status, 422);
  // A proof for other sizes, a truncated proof, a proof with a flipped hash.
  log.append("read", 6);
  EXPECT_EQ(post(audit::addCheckpointBody(5, log.proof(4, 11), log.checkpoint(11))).status, 422);
  auto proof = log.proof(5, 11);
  EXPECT_EQ(post(audit::addCheckpointBody(5, std::vector<Hash>(proof.begin(), proof.end() - 1), log.checkpoint(11))).status,
            422);
  proof[0][3] ^= 1;
  EXPECT_EQ(post(audit::addCheckpointBody(5, proof, log.checkpoint(11))).status, 422);
  EXPECT_EQ(storedSize(), 5u);
  EXPECT_EQ(store.heads.at(log.origin).root, log.root(5));
  EXPECT_EQ(store.cosigned.size(), 1u);
  EXPECT_EQ(counters.witnessRequests.value({"inconsistent"}), 5u);
  // ... and the honest next checkpoint is still cosigned.
  EXPECT_EQ(submit(5, 11).status, 200);
}

TEST_F(WitnessApiTest, FromSizeZeroNoProofAndTheEmptyTreeHasTheEmptyRoot) {
  // old 0 with a proof: 422.
  EXPECT_EQ(post(audit::addCheckpointBody(0, {audit::merkle::leafHash("x")}, log.checkpoint(5))).status, 422);
  // A checkpoint of size 0 must carry the empty tree's root.
  const std::string wrongEmpty = audit::signTreeHead(audit::TreeHead{log.origin, 0, log.root(5)}, log.key)->note;
  EXPECT_EQ(post(audit::addCheckpointBody(0, {}, wrongEmpty)).status, 422);
  EXPECT_TRUE(store.heads.empty());
  const std::string empty =
      audit::signTreeHead(audit::TreeHead{log.origin, 0, audit::merkle::emptyRoot()}, log.key)->note;
  EXPECT_EQ(post(audit::addCheckpointBody(0, {}, empty)).status, 200);
  EXPECT_EQ(storedSize(), 0u);
  EXPECT_EQ(submit(0, 5).status, 200);
}

TEST_F(WitnessApiTest, UnknownOriginIs404AndAnUntrustedSignatureIs403) {
  TestLog stranger("hie-node/node-x/audit");
  stranger.append("read", 2);
  auto unknown = post(audit::addCheckpointBody(0, {}, stranger.checkpoint()));
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(unknown.refusalReason, "witness_unknown_origin");

  // Signed under the log's name by another key: an unknown key, ignored, so no trusted signature.
  TestLog impostor(log.origin);
  impostor.leaves = log.leaves;
  auto unsignedByLog = post(audit::addCheckpointBody(0, {}, impostor.checkpoint(5)));
  EXPECT_EQ(unsignedByLog.status, 403);
  EXPECT_EQ(unsignedByLog.refusalReason, "witness_unsigned");

  // The log's name and key id, but a signature that does not verify: the note is refused.
  std::string note = log.checkpoint(5);
  auto parsed = audit::note::parse(note);
  std::string sig = parsed->signatures[0].signature;
  sig[0] = static_cast<char>(sig[0] ^ 1);
  const std::string forged = parsed->text + "\n" + audit::note::signatureLine(log.origin, parsed->signatures[0].keyId, sig) + "\n";
  auto bad = post(audit::addCheckpointBody(0, {}, forged));
  EXPECT_EQ(bad.status, 403);
  EXPECT_EQ(bad.refusalReason, "witness_bad_signature");
  // ... even next to a good one.
  EXPECT_EQ(post(audit::addCheckpointBody(0, {}, note + audit::note::signatureLine(log.origin, parsed->signatures[0].keyId, sig) + "\n")).status,
            403);
  // A witness key registered as the peer's log key is not a log key.
  registry.peers[0].logKey = witnessVkey().text();
  EXPECT_EQ(submit(0, 5).status, 404);
  EXPECT_TRUE(store.heads.empty());
}

TEST_F(WitnessApiTest, MalformedRequestsAre400) {
  const std::string cp = log.checkpoint(5);
  for (const std::string& body : std::vector<std::string>{
           "", "old 0\n", "old 0\n\n", "old x\n\n" + cp, "old 0\n\nnot a note\n",
           "old 0\n\n" + cp.substr(0, cp.size() - 1),               // no final newline
           "old 6\n\n" + cp,                                          // old > size
           // A note that is not a checkpoint (an extension line).
           "old 0\n\n" + log.head(5).text() + "ext\n\n" + *audit::note::signText(log.head(5).text() + "ext\n", log.origin, log.key) + "\n",
       }) {
    auto r = post(body);
    EXPECT_EQ(r.status, 400) << body;
    EXPECT_EQ(r.refusalReason, "witness_malformed");
    EXPECT_EQ(r.access.action, "witness");
  }
  HttpCall withQuery;
  withQuery.method = "POST";
  withQuery.path = kAddCheckpointPath;
  withQuery.query = {{"x", "1"}};
  withQuery.body = audit::addCheckpointBody(0, {}, cp);
  EXPECT_EQ(api.handle(withQuery, registry).status, 400);
  EXPECT_TRUE(store.heads.empty());
  EXPECT_EQ(counters.witnessRequests.value({"malformed"}), 9u);
}

TEST_F(WitnessApiTest, OnlyPostOnTheOnePath) {
  HttpCall get;
  get.method = "GET";
  get.path = kAddCheckpointPath;
  auto r = api.handle(get, registry);
  EXPECT_EQ(r.status, 405);
  ASSERT_EQ(r.headers.size(), 1u);
  EXPECT_EQ(r.headers[0], (std::pair<std::string, std::string>{"Allow", "POST"}));
  HttpCall other;
  other.method = "POST";
  other.path = "/witness/sign-subtree";
  EXPECT_EQ(api.handle(other, registry).status, 404);
}

TEST_F(WitnessApiTest, ASubmissionThatLosesTheRaceIsCheckedAgainstTheWinner) {
  ASSERT_EQ(submit(0, 5).status, 200);
  log.append("read", 3);
  // Between this submission's check and its store, another one advances the witness to 8.
  bool raced = false;
  store.beforeAdvance = [&] {
    if (raced) return;
    raced = true;
    store.heads[log.origin] = audit::CosignedHead{8, log.root(8)};
  };
  auto r = submit(5, 8);
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(r.body, "8\n");
  EXPECT_EQ(store.cosigned.size(), 1u) << "the loser stored nothing";
  store.beforeAdvance = nullptr;
  EXPECT_EQ(submit(8, 8).status, 200);
}

TEST_F(WitnessApiTest, AStoreThatIsDownIs503AndNoCosignature) {
  store.unavailable = true;
  auto r = submit(0, 5);
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.body.find("\xE2\x80\x94"), std::string::npos);
  EXPECT_EQ(r.refusalReason, "witness_unavailable");
}

// The gate routes /witness/ to the witness, takes a body only for its POST, and answers 404
// (still audited as witnessing) when the node is no witness.
class WitnessRouting : public WitnessApiTest {
 protected:
  class Directory : public auth::OrganizationDirectory {
   public:
    explicit Directory(auth::RegistrySnapshot snap) : snap_(std::make_shared<auth::RegistrySnapshot>(std::move(snap))) {}
    auth::OrganizationSnapshot snapshot() const override { return snap_; }

   private:
    auth::OrganizationSnapshot snap_;
  };

  auth::RegistrySnapshot withOrganizations() const {
    auth::RegistrySnapshot snap = registry;
    snap.organizations = {{kOrgA, "A", auth::OrganizationStatus::kActive, {auth::Role::kMember}, {}, {}}};
    return snap;
  }
  static auth::PeerIdentity peer(const std::string& uri) {
    auth::PeerIdentity p;
    p.sanUris = {uri};
    p.certSha256 = std::string(64, '0');
    return p;
  }

  CapabilityStatementHandler metadata{NodeDescription{"node-b", kOrgB, "0.1.0", {}}};
  hie::testing::MemoryRecordStore records;
  RecordApi recordApi{records, RecordApiSettings{}};
  hie::testing::MemoryAuditReader auditReader;
  AuditApi auditApi{auditReader};
};

TEST_F(WitnessRouting, TheGateRoutesToTheWitnessOnlyWhenThereIsOne) {
  Directory directory(withOrganizations());  // after SetUp: the peer directory holds A's log key
  RequestGate witness(directory, metadata, recordApi, auditApi, nullptr, counters, "", &api);
  RequestGate plain(directory, metadata, recordApi, auditApi, nullptr, counters, "");
  EXPECT_EQ(witness.bodyAllowance("POST", kAddCheckpointPath, auth::PeerIdentity{}).limit, kMaxWitnessBodyBytes);
  EXPECT_EQ(witness.bodyAllowance("PUT", kAddCheckpointPath, auth::PeerIdentity{}).limit, 0u);
  EXPECT_EQ(witness.bodyAllowance("POST", "/fhir/Patient", auth::PeerIdentity{}).limit, 0u);
  EXPECT_EQ(plain.bodyAllowance("POST", kAddCheckpointPath, auth::PeerIdentity{}).limit, kMaxWitnessBodyBytes) << "read, then answered 404";
  EXPECT_EQ(plain.bodyAllowance("POST", "/witness/other", auth::PeerIdentity{}).limit, 0u);

  HttpCall call;
  call.method = "POST";
  call.path = kAddCheckpointPath;
  call.body = audit::addCheckpointBody(0, {}, log.checkpoint(5));
  auto served = witness.handle(call, peer(kOrgA));
  EXPECT_EQ(served.reply.status, 200) << served.reply.body;
  EXPECT_EQ(served.organization, kOrgA);
  // Not admitted: refused by the gate before the witness sees it.
  auto stranger = witness.handle(call, peer("urn:oid:7.7"));
  EXPECT_EQ(stranger.reply.status, 403);
  EXPECT_EQ(store.cosigned.size(), 1u);

  auto none = plain.handle(call, peer(kOrgA));
  EXPECT_EQ(none.reply.status, 404);
  EXPECT_EQ(none.reply.access.action, "witness");
}

}  // namespace
}  // namespace hie::exchange
