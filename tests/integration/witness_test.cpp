// Witnesses over mTLS on loopback: three nodes A, B, C (one PostgreSQL, a
// database each), each the witness of the other two. A's checkpoints get
// cosigned by B and C; a replayed old checkpoint gets 409 with the size, an
// inconsistent one 422; and once A's database owner rewrites A's history and
// signs it with A's own audit key, neither witness cosigns it and A raises
// the alarm. Until the audit writer appends to the transparency log, the test
// fills A's log itself (PgAuditLogStore).
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <sstream>
#include <thread>
#include <tuple>

#include <pqxx/pqxx>

#include "audit/add_checkpoint.h"
#include "audit/canonical_form.h"
#include "audit/pg_audit_log_store.h"
#include "audit/pg_witness_store.h"
#include "audit/witness_policy.h"
#include "db/connection_pool.h"
#include "tests/support/node_fixture.h"

namespace hie::testing {
namespace {

const std::string kOrgA = "urn:oid:2.16.840.1.113883.3.7100";
const std::string kOrgB = "urn:oid:2.16.840.1.113883.3.7200";
const std::string kOrgC = "urn:oid:2.16.840.1.113883.3.7300";
const std::string kOriginA = "hie-node/node-a/audit";

void ok(const CommandResult& r) { ASSERT_EQ(r.exitCode, 0) << r.output; }

long long scalar(const std::string& uri, const std::string& sql) {
  pqxx::connection c(uri);
  pqxx::read_transaction tx(c);
  return tx.exec1(sql)[0].as<long long>();
}

// "log-key VKEY" and "witness-key VKEY" as `hie-node audit keys` prints them.
std::map<std::string, std::string> keysOf(const NodeFixture& node) {
  auto r = node.cli({"audit", "keys"});
  EXPECT_EQ(r.exitCode, 0) << r.output;
  std::map<std::string, std::string> keys;
  std::stringstream lines(r.output);
  std::string line;
  while (std::getline(lines, line)) {
    const auto space = line.find(' ');
    if (space != std::string::npos && (line.rfind("log-key ", 0) == 0 || line.rfind("witness-key ", 0) == 0)) {
      keys[line.substr(0, space)] = line.substr(space + 1);
    }
  }
  return keys;
}

// A log of audit leaves kept in memory as the test writes it into a node's database.
struct LogWriter {
  std::string origin;
  audit::SigningKey key;
  std::vector<audit::merkle::Hash> hashes;

  std::string leaf(std::uint64_t index, const std::string& action, const std::string& who) const {
    audit::AuditEvent e;
    e.time = "2026-12-01T10:00:00.000Z";
    e.eventType = "rest";
    e.action = action;
    e.outcome = "success";
    e.organization = who;
    e.method = "GET";
    e.path = "/fhir/Patient/p-ava";
    e.resourceType = "Patient";
    e.patient = "Patient/p-ava";
    e.httpStatus = 200;
    e.requestId = "fill-" + std::to_string(index);
    return audit::canonicalJson(audit::leafObject(e, "node-a", index));
  }
  // Appends count leaves and the checkpoint of the new size; returns that checkpoint.
  std::string append(audit::PgAuditLogStore& store, int count, const std::string& who = kOrgB) {
    audit::merkle::MemoryHashSource source(hashes);
    audit::merkle::Frontier frontier = *audit::merkle::Frontier::load(hashes.size(), source);
    std::vector<audit::LogLeaf> leaves;
    for (int i = 0; i < count; ++i) {
      audit::LogLeaf l;
      l.index = hashes.size();
      l.leaf = leaf(l.index, "read", who);
      l.hash = audit::merkle::leafHash(l.leaf);
      l.completed = frontier.append(l.hash);
      hashes.push_back(l.hash);
      leaves.push_back(std::move(l));
    }
    auto checkpoint = audit::signTreeHead(audit::TreeHead{origin, hashes.size(), frontier.root()}, key);
    EXPECT_TRUE(checkpoint);
    auto stored = store.append(origin, leaves, *checkpoint);
    EXPECT_TRUE(stored) << stored.error().internal;
    return checkpoint->note;
  }
  std::vector<audit::merkle::Hash> proof(std::uint64_t oldSize, std::uint64_t newSize) const {
    audit::merkle::MemoryHashSource source(hashes);
    return *audit::merkle::consistencyProof(oldSize, newSize, source);
  }
};

class Witnesses : public ::testing::Test {
 protected:
  void SetUp() override {
    for (NodeFixture* n : {&a, &b, &c}) {
      // Each node a witness, with its own key (never its audit key), submitting every second.
      auto witnessKey = audit::SigningKey::generate();
      ASSERT_TRUE(witnessKey);
      writeFile(n->dir.path(), "witness-ed25519.pem", witnessKey->privatePem());
      n->config["witness.signingKey"] = "witness-ed25519.pem";
      n->config["audit.witnessInterval"] = "1";
      n->config["audit.witnessTimeout"] = "3000";
      n->writeConfig();
      n->migrate();
      n->addOrg(kOrgA, "Node A Hospital");
      n->addOrg(kOrgB, "Node B Clinic");
      n->addOrg(kOrgC, "Node C Lab");
    }
    for (NodeFixture* n : {&a, &b, &c}) keys[n] = keysOf(*n);
    for (NodeFixture* n : {&a, &b, &c}) n->start();
    for (NodeFixture* n : {&a, &b, &c}) {
      for (auto [peer, org] : std::vector<std::pair<NodeFixture*, std::string>>{{&a, kOrgA}, {&b, kOrgB}, {&c, kOrgC}}) {
        if (peer == n) continue;
        ok(n->cli({"peer", "add", "--org", org, "--url", "https://127.0.0.1:" + std::to_string(peer->node()->port()),
                   "--log-key", keys[peer]["log-key"], "--witness-key", keys[peer]["witness-key"]}));
      }
    }
    aKey = *audit::SigningKey::fromPemFile(a.dir.path() + "/audit-ed25519.pem");
    writer = std::make_unique<LogWriter>(LogWriter{kOriginA, aKey, {}});
  }

  audit::note::VerifierKey witnessKeyOf(NodeFixture& n) { return *audit::note::VerifierKey::parse(keys[&n]["witness-key"]); }

  // The cosignature lines A stored for its checkpoint of size, once both witnesses' are there.
  std::vector<std::string> waitForCosignatures(std::uint64_t size) {
    audit::PgAuditLogStore store(a.db.uri());
    std::vector<std::string> lines;
    waitFor(
        [&] {
          auto got = store.cosignatures(kOriginA, size);
          lines = got ? *got : std::vector<std::string>{};
          return lines.size() >= 2;
        },
        std::chrono::seconds(30));
    return lines;
  }

  // POST add-checkpoint to a witness as A's institution, over mTLS.
  HttpResult addCheckpoint(NodeFixture& witness, const std::string& body) {
    const Credential member = witness.memberCert({kOrgA}, "node-a-submitter");
    return tlsExchange(witness.node()->port(), witness.pki.root, witness.as(member),
                       "POST /witness/add-checkpoint HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/plain\r\n"
                       "Content-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body);
  }

  std::uint64_t witnessedSize(NodeFixture& witness) {
    return static_cast<std::uint64_t>(
        scalar(witness.db.uri(), "SELECT coalesce(max(tree_size), -1) FROM witness_checkpoints WHERE origin = '" +
                                     kOriginA + "'"));
  }

  TestPki pki = TestPki::create();
  NodeFixture a{pki, "node-a", kOrgA};
  NodeFixture b{pki, "node-b", kOrgB};
  NodeFixture c{pki, "node-c", kOrgC};
  std::map<NodeFixture*, std::map<std::string, std::string>> keys;
  audit::SigningKey aKey = *audit::SigningKey::generate();
  std::unique_ptr<LogWriter> writer;
};

TEST_F(Witnesses, PeersCosignConsistentCheckpointsAndRefuseARewrittenHistory) {
  ASSERT_EQ(keys[&a]["log-key"].rfind(kOriginA + "+", 0), 0u) << keys[&a]["log-key"];
  ASSERT_EQ(keys[&b]["witness-key"].rfind("hie-node/node-b/witness+", 0), 0u) << keys[&b]["witness-key"];
  audit::PgAuditLogStore store(a.db.uri());

  // 1. A's first checkpoint: cosigned by B and C, from old size 0.
  const std::string first = writer->append(store, 5);
  auto lines = waitForCosignatures(5);
  ASSERT_EQ(lines.size(), 2u) << a.node()->log();
  auto known = audit::knownCosignatures(first, lines, {witnessKeyOf(b), witnessKeyOf(c)});
  ASSERT_TRUE(known) << known.error().internal;
  EXPECT_EQ(known->size(), 2u);
  EXPECT_EQ(witnessedSize(b), 5u);
  EXPECT_EQ(witnessedSize(c), 5u);

  // 2. The next one, with a consistency proof from 5.
  const std::string second = writer->append(store, 6);
  lines = waitForCosignatures(11);
  ASSERT_EQ(lines.size(), 2u) << a.node()->log();
  known = audit::knownCosignatures(second, lines, {witnessKeyOf(b), witnessKeyOf(c)});
  ASSERT_TRUE(known) << known.error().internal;
  EXPECT_EQ(known->size(), 2u);
  EXPECT_EQ(witnessedSize(b), 11u);

  // 3. Replaying the old checkpoint: 409 with the size the witness cosigned.
  auto replay = addCheckpoint(b, audit::addCheckpointBody(0, {}, first));
  EXPECT_EQ(replay.status, 409) << replay.head << replay.body;
  EXPECT_EQ(replay.body, "11\n");
  EXPECT_EQ(replay.header("Content-Type"), "text/x.tlog.size");
  replay = addCheckpoint(c, audit::addCheckpointBody(5, writer->proof(5, 11), second));
  EXPECT_EQ(replay.status, 409);
  EXPECT_EQ(replay.body, "11\n");

  // 4. An inconsistent checkpoint, signed by A's key: a root that is not the tree's.
  const std::string bogus =
      audit::signTreeHead(audit::TreeHead{kOriginA, 12, audit::merkle::leafHash("not the tree")}, aKey)->note;
  auto inconsistent = addCheckpoint(b, audit::addCheckpointBody(11, writer->proof(11, 11), bogus));
  EXPECT_EQ(inconsistent.status, 422) << inconsistent.body;
  // Signed by another key under A's origin: 403; an origin no peer registered: 404.
  auto otherKey = audit::SigningKey::generate();
  EXPECT_EQ(addCheckpoint(b, audit::addCheckpointBody(11, {}, audit::signTreeHead(audit::TreeHead{kOriginA, 11, {}}, *otherKey)->note)).status,
            403);
  EXPECT_EQ(addCheckpoint(b, audit::addCheckpointBody(0, {}, audit::signTreeHead(audit::TreeHead{"hie-node/x/audit", 1, {}}, *otherKey)->note)).status,
            404);
  EXPECT_EQ(witnessedSize(b), 11u);

  // 5. A's database owner rewrites A's history: leaf 2 says something else from now on, and
  //    the forged tree of 12 leaves is signed with A's own audit key.
  a.db.exec("ALTER TABLE audit_log_leaves DISABLE TRIGGER USER");
  a.db.exec("DELETE FROM audit_log_leaves WHERE origin = '" + kOriginA + "'");
  a.db.exec("ALTER TABLE audit_log_leaves ENABLE TRIGGER USER");
  LogWriter forger{kOriginA, aKey, {}};
  forger.append(store, 2);
  forger.append(store, 1, "urn:oid:2.16.840.1.113883.3.7999");  // the rewritten leaf
  const std::string forged = forger.append(store, 9);
  ASSERT_EQ(*store.storedSize(kOriginA), 12u);
  // A's submitter sends it to both witnesses (from 11, with a proof of the forged tree): both
  // refuse it as inconsistent, and A raises the alarm.
  const auto alarm = [&](const std::string& org) {
    return a.node()->counter("hie_witness_alarms_total{peer=\"" + org + "\",reason=\"inconsistent\"}");
  };
  EXPECT_TRUE(waitFor([&] { return alarm(kOrgB) >= 1 && alarm(kOrgC) >= 1; }, std::chrono::seconds(30)))
      << a.node()->log();
  EXPECT_TRUE(contains(a.node()->log(), "witness alarm: witness hie-node/node-b/witness (" + kOrgB + ")"))
      << a.node()->log();
  // Had A also forgotten what they cosigned, they name their size (409) and refuse again from it.
  a.db.exec("DELETE FROM audit_log_witness_sizes WHERE origin = '" + kOriginA + "'");
  const auto before = alarm(kOrgB);
  EXPECT_TRUE(waitFor([&] { return alarm(kOrgB) > before; }, std::chrono::seconds(30))) << a.node()->log();
  EXPECT_GE(a.node()->counter("hie_witness_submissions_total{peer=\"" + kOrgB + "\",result=\"conflict\"}"), 1u);
  // Submitted by hand, the same: from 0 a 409 naming 11, from 11 a 422.
  auto direct = addCheckpoint(c, audit::addCheckpointBody(0, {}, forged));
  EXPECT_EQ(direct.status, 409);
  EXPECT_EQ(direct.body, "11\n");
  EXPECT_EQ(addCheckpoint(c, audit::addCheckpointBody(11, forger.proof(11, 12), forged)).status, 422);

  // No cosignature for the fork; the witnesses still hold A's true tree of 11.
  EXPECT_EQ(store.cosignatures(kOriginA, 12)->size(), 0u);
  for (NodeFixture* w : {&b, &c}) {
    EXPECT_EQ(witnessedSize(*w), 11u);
    audit::merkle::MemoryHashSource honest(writer->hashes);
    EXPECT_EQ(scalar(w->db.uri(), "SELECT count(*) FROM witness_checkpoints WHERE origin = '" + kOriginA +
                                      "' AND root_hash = decode('" + audit::merkle::toHex(*audit::merkle::rootHash(11, honest)) +
                                      "', 'hex')"),
              1);
    EXPECT_EQ(scalar(w->db.uri(), "SELECT count(*) FROM witness_cosigned WHERE origin = '" + kOriginA + "'"), 2);
  }

  // Both sides audited: the witnesses' answers (action witness), A's calls (witness-submit).
  EXPECT_GE(scalar(b.db.uri(), "SELECT count(*) FROM audit_entries WHERE action = 'witness' AND organization = '" +
                                   kOrgA + "' AND outcome = 'success'"),
            2);
  EXPECT_GE(scalar(b.db.uri(), "SELECT count(*) FROM audit_entries WHERE action = 'witness' AND canonical LIKE '%\"httpStatus\":422%'"), 2);
  EXPECT_GE(scalar(a.db.uri(), "SELECT count(*) FROM audit_entries WHERE action = 'witness-submit' AND outcome = "
                               "'success' AND canonical LIKE '%\"peerOrganization\":\"" + kOrgC + "\"%'"),
            2);
  for (NodeFixture* n : {&a, &b, &c}) {
    ASSERT_EQ(n->node()->stop(), 0) << n->node()->log();
    auto v = n->cli({"audit", "verify"});
    EXPECT_EQ(v.exitCode, 0) << v.output;
  }
}

// The peer directory's keys, checked before anything is stored; and `audit keys`. One node, not started.
TEST(WitnessKeys, PeerAddChecksTheKeysAndAuditKeysPrintsThem) {
  NodeFixture n;
  n.migrate();
  n.addOrg(kOrgB, "Node B Clinic");
  n.addOrg(kOrgC, "Node C Lab");
  // B's keys, as B's `audit keys` would print them.
  auto vkey = [](const std::string& name, unsigned char type) {
    auto key = audit::SigningKey::generate();
    return audit::note::VerifierKey::of(name, type, *audit::VerifyKey::fromRaw(key->rawPublicKey())).text();
  };
  const std::string log = vkey("hie-node/node-b/audit", audit::note::kEd25519);
  const std::string witness = vkey("hie-node/node-b/witness", audit::note::kCosignatureV1);
  const std::string url = "https://127.0.0.1:8443";
  for (const auto& [option, value, message] : std::vector<std::tuple<std::string, std::string, std::string>>{
           {"--log-key", witness, "--log-key (the peer's audit log key) must be an Ed25519 log key (type 01), not a cosignature/v1 witness key (type 04)"},
           {"--witness-key", log, "--witness-key (the peer's witness key) must be a cosignature/v1 witness key (type 04), not an Ed25519 log key (type 01)"},
           {"--log-key", "hie-node/node-b/audit", "--log-key (the peer's audit log key): a verifier key is <name>+<key id hex>+<base64 key>"},
           {"--log-key", log.substr(0, log.size() - 2), "--log-key (the peer's audit log key): the verifier key's key is not base64 of a type byte and 32 bytes"},
           {"--witness-key", "other/name" + witness.substr(witness.find('+')), "--witness-key (the peer's witness key): the verifier key's id does not match its name and key"},
       }) {
    auto r = n.cli({"peer", "add", "--org", kOrgB, "--url", url, option, value});
    EXPECT_EQ(r.exitCode, 2) << option << " " << value << ": " << r.output;
    EXPECT_TRUE(contains(r.output, message)) << r.output;
  }
  EXPECT_EQ(scalar(n.db.uri(), "SELECT count(*) FROM peers"), 0) << "a bad key stores nothing";
  ok(n.cli({"peer", "add", "--org", kOrgB, "--url", url, "--log-key", log}));
  ok(n.cli({"peer", "add", "--org", kOrgB, "--url", url, "--witness-key", witness}));  // the log key stays
  auto listed = n.cli({"peer", "list"});
  EXPECT_TRUE(contains(listed.output, "  log key:     " + log + "\n")) << listed.output;
  EXPECT_TRUE(contains(listed.output, "  witness key: " + witness + "\n")) << listed.output;
  auto same = n.cli({"peer", "add", "--org", kOrgB, "--url", url, "--log-key", log, "--witness-key", witness});
  EXPECT_TRUE(contains(same.output, "(unchanged)")) << same.output;
  // B's log origin and witness name are B's: C may not claim them.
  auto taken = n.cli({"peer", "add", "--org", kOrgC, "--url", url, "--log-key", log});
  EXPECT_EQ(taken.exitCode, 1) << taken.output;
  EXPECT_TRUE(contains(taken.output, "the log origin hie-node/node-b/audit is already registered for the peer " + kOrgB))
      << taken.output;
  auto takenWitness = n.cli({"peer", "add", "--org", kOrgC, "--url", url, "--witness-key",
                             vkey("hie-node/node-b/witness", audit::note::kCosignatureV1)});
  EXPECT_EQ(takenWitness.exitCode, 1) << takenWitness.output;
  EXPECT_EQ(scalar(n.db.uri(), "SELECT count(*) FROM peers"), 1);

  // audit keys: the log key (named by the log's origin) verifies the node's checkpoints.
  auto printed = n.cli({"audit", "keys"});
  ASSERT_EQ(printed.exitCode, 0) << printed.output;
  EXPECT_TRUE(contains(printed.output, "no witness key")) << printed.output;
  EXPECT_FALSE(contains(printed.output, "witness-key ")) << printed.output;
  const auto aKey = audit::SigningKey::fromPemFile(n.dir.path() + "/audit-ed25519.pem");
  const auto at = printed.output.find("log-key hie-node/node-a/audit+");
  ASSERT_NE(at, std::string::npos) << printed.output;
  const auto mine = audit::note::VerifierKey::parse(printed.output.substr(at + 8, printed.output.find('\n', at) - at - 8));
  ASSERT_TRUE(mine) << printed.output;
  audit::TreeHead head{"hie-node/node-a/audit", 1, audit::merkle::leafHash("x")};
  EXPECT_TRUE(audit::openCheckpoint(audit::signTreeHead(head, *aKey)->note, *mine));
  // With a witness key: printed with its name; never the audit key itself.
  writeFile(n.dir.path(), "witness.pem", audit::SigningKey::generate()->privatePem());
  n.config["witness.signingKey"] = "witness.pem";
  n.config["witness.name"] = "witness.example.org/a";
  n.writeConfig();
  printed = n.cli({"audit", "keys"});
  ASSERT_EQ(printed.exitCode, 0) << printed.output;
  EXPECT_TRUE(contains(printed.output, "witness-key witness.example.org/a+")) << printed.output;
  n.config["witness.signingKey"] = "audit-ed25519.pem";
  n.writeConfig();
  auto refused = n.cli({"audit", "keys"});
  EXPECT_EQ(refused.exitCode, 1);
  EXPECT_TRUE(contains(refused.output, "witness.signingKey must not be the audit signing key")) << refused.output;
}

// The listener reads a body only for POST /witness/add-checkpoint: bounded in size and time.
TEST(WitnessListener, TakesABodyOnlyForAddCheckpointBoundedInSizeAndTime) {
  NodeFixture n;
  n.migrate();
  n.addOrg(kOrgA, "Node A Hospital");
  const Credential member = n.memberCert({kOrgA});
  auto post = [&](const std::string& path, const std::string& body, const std::string& extra = "") {
    return tlsExchange(n.node()->port(), n.pki.root, n.as(member),
                       "POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/plain\r\n" + extra +
                           "Content-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body);
  };
  const std::string body = audit::addCheckpointBody(
      0, {}, audit::signTreeHead(audit::TreeHead{"hie-node/node-x/audit", 0, audit::merkle::emptyRoot()},
                                 *audit::SigningKey::generate())->note);

  // No witness key: 404 for the witness endpoint, audited as witnessing.
  n.start();
  auto none = post("/witness/add-checkpoint", body, "X-Request-Id: no-witness\r\n");
  EXPECT_EQ(none.status, 404) << none.body;
  ASSERT_EQ(n.node()->stop(), 0) << n.node()->log();
  EXPECT_EQ(scalar(n.db.uri(), "SELECT count(*) FROM audit_entries WHERE request_id = 'no-witness' AND action = 'witness'"), 1);

  writeFile(n.dir.path(), "witness.pem", audit::SigningKey::generate()->privatePem());
  n.config["witness.signingKey"] = "witness.pem";
  n.writeConfig();
  n.start();
  // Read and handed to the witness: the origin is unknown here.
  auto unknown = post("/witness/add-checkpoint", body);
  EXPECT_EQ(unknown.status, 404) << unknown.body;
  EXPECT_EQ(unknown.body, "Unknown log origin.\n");
  EXPECT_EQ(unknown.header("Content-Type"), "text/plain; charset=utf-8");
  // Larger than 64 KiB: 413 before a byte of it is read.
  auto large = post("/witness/add-checkpoint", std::string(65537, 'x'));
  EXPECT_EQ(large.status, 413);
  EXPECT_TRUE(contains(large.body, "larger than this endpoint accepts")) << large.body;
  // Elsewhere, and chunked, a body is refused as before.
  EXPECT_EQ(post("/fhir/metadata", "hello").status, 413);
  auto chunked = tlsExchange(n.node()->port(), n.pki.root, n.as(member),
                             "POST /witness/add-checkpoint HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n"
                             "Connection: close\r\n\r\n5\r\nhello\r\n0\r\n\r\n");
  EXPECT_EQ(chunked.status, 413);
  auto get = tlsGet(n.node()->port(), n.pki.root, n.as(member), "/witness/add-checkpoint");
  EXPECT_EQ(get.status, 405);
  EXPECT_EQ(get.header("Allow"), "POST");
  // A body that trickles is cut at server.timeout (3 s here) like a head: 408.
  const std::string slowBody(2000, 'x');
  const std::string request = "POST /witness/add-checkpoint HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: " +
                              std::to_string(slowBody.size()) + "\r\n\r\n" + slowBody;
  auto trickle = tlsTrickle(n.node()->port(), n.pki.root, n.as(member), request, std::chrono::milliseconds(2),
                            std::chrono::seconds(20));
  EXPECT_TRUE(trickle.cut);
  EXPECT_EQ(trickle.status, 408);
  EXPECT_LT(trickle.bytesSent, request.size());
  ASSERT_EQ(n.node()->stop(), 0) << n.node()->log();
}

// The witness's state in PostgreSQL: of concurrent submissions from the same head exactly one
// advances it; it never moves back; the loop breaker's query reads the signed leaves' action.
TEST(WitnessState, ConcurrentAdvancesFromOneHeadHaveOneWinnerAndNeverRollBack) {
  NodeFixture n;
  n.migrate();
  db::ConnectionPool pool(n.db.uri(), 8);
  audit::PgWitnessStore store(pool);
  const std::string origin = "hie-node/node-x/audit";
  auto race = [&](const std::optional<audit::CosignedHead>& from, std::uint64_t size) {
    std::atomic<int> won{0}, lost{0}, failed{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < 6; ++i) {
      threads.emplace_back([&, i] {
        const audit::CosignedHead head{size, audit::merkle::leafHash("root " + std::to_string(size) + " " + std::to_string(i))};
        auto r = store.advance(origin, from, head, "note " + std::to_string(i));
        (!r ? failed : *r ? won : lost)++;
      });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(won.load(), 1);
    EXPECT_EQ(lost.load(), 5);
    EXPECT_EQ(failed.load(), 0);
  };
  race(std::nullopt, 3);  // the first head: one INSERT wins
  auto first = store.latest(origin);
  ASSERT_TRUE(first && *first);
  EXPECT_EQ((*first)->size, 3u);
  race(*first, 7);  // from that head: one UPDATE wins
  auto second = store.latest(origin);
  ASSERT_TRUE(second && *second);
  EXPECT_EQ((*second)->size, 7u);
  EXPECT_EQ(scalar(n.db.uri(), "SELECT count(*) FROM witness_cosigned WHERE origin = '" + origin + "'"), 2);
  // A stale expectation stores nothing.
  auto stale = store.advance(origin, *first, audit::CosignedHead{9, {}}, "stale");
  ASSERT_TRUE(stale);
  EXPECT_FALSE(*stale);
  // Even the runtime role cannot move it back (the trigger), nor rewrite what was cosigned.
  pqxx::connection c(n.db.uri());
  pqxx::work tx(c);
  EXPECT_THROW(tx.exec("UPDATE witness_checkpoints SET tree_size = 2 WHERE origin = '" + origin + "'"), pqxx::sql_error);
  tx.abort();
  EXPECT_EQ((*store.latest(origin))->size, 7u);
}

TEST(WitnessState, TheLoopBreakerReadsTheActionOfTheSignedLeaves) {
  NodeFixture n;
  n.migrate();
  audit::PgAuditLogStore store(n.db.uri());
  const std::string origin = "hie-node/node-a/audit";
  auto key = audit::SigningKey::generate();
  audit::merkle::Frontier frontier;
  std::vector<audit::LogLeaf> leaves;
  for (const std::string action : {"read", "witness", "witness-submit", "witness", "search", "witness"}) {
    audit::AuditEvent e;
    e.time = "2026-12-01T10:00:00.000Z";
    e.eventType = "rest";
    e.action = action;
    audit::LogLeaf l;
    l.index = leaves.size();
    l.leaf = audit::canonicalJson(audit::leafObject(e, "node-a", l.index));
    l.hash = audit::merkle::leafHash(l.leaf);
    l.completed = frontier.append(l.hash);
    leaves.push_back(std::move(l));
  }
  ASSERT_TRUE(store.append(origin, leaves, *audit::signTreeHead(audit::TreeHead{origin, 6, frontier.root()}, *key)));
  const std::vector<std::string> witnessing{"witness", "witness-submit"};
  EXPECT_TRUE(*store.onlyActionsIn(origin, 1, 4, witnessing));
  EXPECT_TRUE(*store.onlyActionsIn(origin, 5, 6, witnessing));
  EXPECT_TRUE(*store.onlyActionsIn(origin, 3, 3, witnessing)) << "an empty range";
  EXPECT_FALSE(*store.onlyActionsIn(origin, 0, 4, witnessing)) << "leaf 0 is a read";
  EXPECT_FALSE(*store.onlyActionsIn(origin, 1, 5, witnessing)) << "leaf 4 is a search";
  EXPECT_FALSE(*store.onlyActionsIn(origin, 5, 7, witnessing)) << "leaf 6 is not stored";
  EXPECT_FALSE(*store.onlyActionsIn("hie-node/other/audit", 0, 1, witnessing)) << "no leaves at all";
}

}  // namespace
}  // namespace hie::testing
