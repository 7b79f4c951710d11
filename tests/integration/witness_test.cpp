// Witnesses over mTLS on loopback: three nodes A, B, C (one PostgreSQL, a
// database each), each the witness of the other two. A's own audit writer
// makes its checkpoints from real requests; B and C cosign them; a replayed
// old checkpoint gets 409 with the size, an inconsistent one 422; and once A's
// database owner rewrites A's history and signs it with A's own audit key,
// neither witness cosigns it, A raises the alarm, and A's running writer
// refuses to append to the rewritten log.
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

// A leaf of node A's log as its writer would encode a read by org.
std::string readLeaf(std::uint64_t index, const std::string& org) {
  audit::AuditEvent e;
  e.time = "2026-12-01T10:00:00.000Z";
  e.eventType = "rest";
  e.action = "read";
  e.outcome = "success";
  e.organization = org;
  e.method = "GET";
  e.path = "/fhir/Patient/p-ava";
  e.resourceType = "Patient";
  e.patient = "Patient/p-ava";
  e.httpStatus = 200;
  e.requestId = "forged-" + std::to_string(index);
  return audit::canonicalJson(audit::leafObject(e, "node-a", index));
}

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
    clinician = a.memberCert({kOrgB}, "clinician-b");
  }

  audit::note::VerifierKey witnessKeyOf(NodeFixture& n) { return *audit::note::VerifierKey::parse(keys[&n]["witness-key"]); }

  // Real requests to A, each answered only once A's writer covered it by a signed checkpoint;
  // returns the size of A's newest checkpoint after them.
  std::uint64_t requestsToA(const std::string& prefix, int count) {
    for (int i = 0; i < count; ++i) {
      auto r = a.get(clinician, "/fhir/metadata", {"X-Request-Id: " + prefix + std::to_string(i)});
      EXPECT_EQ(r.status, 200) << r.body;
    }
    return static_cast<std::uint64_t>(
        scalar(a.db.uri(), "SELECT max(tree_size) FROM audit_log_checkpoints WHERE origin = '" + kOriginA + "'"));
  }

  // Waits until B and C both cosigned the same checkpoint of A, of at least size atLeast, and A
  // stored both cosignatures for it; returns its size (0: not within the time).
  std::uint64_t waitForBothCosigned(std::uint64_t atLeast) {
    audit::PgAuditLogStore store(a.db.uri());
    std::uint64_t size = 0;
    const bool done = waitFor(
        [&] {
          auto both = store.latestCosignedSize(kOriginA, 2);
          if (!both || !*both || **both < atLeast) return false;
          size = **both;
          return witnessedSize(b) == size && witnessedSize(c) == size;
        },
        std::chrono::seconds(30));
    return done ? size : 0;
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

  // A's database owner rewrites A's history in one transaction, tables locked against A's writer:
  // every leaf of the stored tree kept but leaf 2, which now says another organization read the
  // record, and one more read after them (a leaf that is not witnessing, so that A's submitter
  // offers the fork); the tree rebuilt, the true checkpoints and their cosignatures deleted, and the
  // fork's checkpoint signed with A's own audit key. Returns the forged tree's leaf hashes and note.
  std::pair<std::vector<audit::merkle::Hash>, std::string> rewriteHistoryOfA() {
    pqxx::connection conn(a.db.ownerUri());
    pqxx::work tx(conn);
    tx.exec("LOCK TABLE audit_log_leaves, audit_log_checkpoints, audit_log_cosignatures IN ACCESS EXCLUSIVE MODE");
    std::vector<std::string> leaves;
    for (const auto& row : tx.exec("SELECT idx, leaf FROM audit_log_leaves WHERE origin = " + tx.quote(kOriginA) +
                                   " ORDER BY idx")) {
      EXPECT_EQ(row[0].as<long long>(), static_cast<long long>(leaves.size()));
      leaves.push_back(row[1].as<std::string>());
    }
    EXPECT_GT(leaves.size(), 2u);
    leaves[2] = readLeaf(2, "urn:oid:2.16.840.1.113883.3.7999");
    leaves.push_back(readLeaf(leaves.size(), kOrgC));
    audit::merkle::Frontier frontier;
    std::vector<audit::merkle::Hash> hashes;
    std::string sql = "ALTER TABLE audit_log_leaves DISABLE TRIGGER USER; "
                      "ALTER TABLE audit_log_checkpoints DISABLE TRIGGER USER; "
                      "ALTER TABLE audit_log_cosignatures DISABLE TRIGGER USER; "
                      "DELETE FROM audit_log_cosignatures WHERE origin = " + tx.quote(kOriginA) + "; "
                      "DELETE FROM audit_log_checkpoints WHERE origin = " + tx.quote(kOriginA) + "; "
                      "DELETE FROM audit_log_leaves WHERE origin = " + tx.quote(kOriginA) + "; ";
    for (std::size_t i = 0; i < leaves.size(); ++i) {
      const auto h = audit::merkle::leafHash(leaves[i]);
      std::string completed;
      for (const auto& n : frontier.append(h)) completed += audit::merkle::toHex(n);
      hashes.push_back(h);
      sql += "INSERT INTO audit_log_leaves (origin, idx, leaf, leaf_hash, subtree_hashes) VALUES (" + tx.quote(kOriginA) +
             ", " + std::to_string(i) + ", " + tx.quote(leaves[i]) + ", '\\x" + audit::merkle::toHex(h) + "', '\\x" +
             completed + "'); ";
    }
    auto forged = audit::signTreeHead(audit::TreeHead{kOriginA, frontier.size(), frontier.root()}, aKey);
    EXPECT_TRUE(forged);
    sql += "INSERT INTO audit_log_checkpoints (origin, tree_size, root_hash, note) VALUES (" + tx.quote(kOriginA) + ", " +
           std::to_string(frontier.size()) + ", '\\x" + audit::merkle::toHex(frontier.root()) + "', " +
           tx.quote(forged->note) + "); "
           "ALTER TABLE audit_log_leaves ENABLE TRIGGER USER; "
           "ALTER TABLE audit_log_checkpoints ENABLE TRIGGER USER; "
           "ALTER TABLE audit_log_cosignatures ENABLE TRIGGER USER";
    tx.exec(sql);
    tx.commit();
    return {hashes, forged->note};
  }

  TestPki pki = TestPki::create();
  NodeFixture a{pki, "node-a", kOrgA};
  NodeFixture b{pki, "node-b", kOrgB};
  NodeFixture c{pki, "node-c", kOrgC};
  std::map<NodeFixture*, std::map<std::string, std::string>> keys;
  audit::SigningKey aKey = *audit::SigningKey::generate();
  Credential clinician;
};

TEST_F(Witnesses, PeersCosignConsistentCheckpointsAndRefuseARewrittenHistory) {
  ASSERT_EQ(keys[&a]["log-key"].rfind(kOriginA + "+", 0), 0u) << keys[&a]["log-key"];
  ASSERT_EQ(keys[&b]["witness-key"].rfind("hie-node/node-b/witness+", 0), 0u) << keys[&b]["witness-key"];
  audit::PgAuditLogStore store(a.db.uri());
  const std::vector<audit::note::VerifierKey> witnessKeys{witnessKeyOf(b), witnessKeyOf(c)};

  // 1. A's checkpoint over a few real requests: cosigned by B and C (from old size 0).
  const std::uint64_t s1 = waitForBothCosigned(requestsToA("first-", 3));
  ASSERT_GT(s1, 2u) << a.node()->log();
  const std::string first = **store.checkpointAt(kOriginA, s1);
  auto known = audit::knownCosignatures(first, *store.cosignatures(kOriginA, s1), witnessKeys);
  ASSERT_TRUE(known) << known.error().internal;
  EXPECT_EQ(known->size(), 2u);

  // 2. More requests; the next checkpoint is cosigned with a consistency proof from s1.
  const std::uint64_t s2 = waitForBothCosigned(requestsToA("second-", 3));
  ASSERT_GT(s2, s1) << a.node()->log();
  const std::string second = **store.checkpointAt(kOriginA, s2);
  known = audit::knownCosignatures(second, *store.cosignatures(kOriginA, s2), witnessKeys);
  ASSERT_TRUE(known) << known.error().internal;
  EXPECT_EQ(known->size(), 2u);
  const std::string s2Answer = std::to_string(s2) + "\n";
  auto trueHashes = store.hashes(kOriginA);
  const audit::merkle::Hash trueRoot = *audit::merkle::rootHash(s2, *trueHashes);

  // 3. Replaying an old checkpoint: 409 with the size the witness cosigned.
  auto replay = addCheckpoint(b, audit::addCheckpointBody(0, {}, first));
  EXPECT_EQ(replay.status, 409) << replay.head << replay.body;
  EXPECT_EQ(replay.body, s2Answer);
  EXPECT_EQ(replay.header("Content-Type"), "text/x.tlog.size");
  replay = addCheckpoint(c, audit::addCheckpointBody(s1, *audit::merkle::consistencyProof(s1, s2, *trueHashes), second));
  EXPECT_EQ(replay.status, 409);
  EXPECT_EQ(replay.body, s2Answer);

  // 4. An inconsistent checkpoint, signed by A's key, with a true consistency proof from s2 to a
  //    larger size of A's tree, but a root that is not the tree's.
  std::uint64_t grown = 0;
  ASSERT_TRUE(waitFor([&] { return (grown = *store.storedSize(kOriginA)) > s2; }, std::chrono::seconds(30)));
  const std::string bogus =
      audit::signTreeHead(audit::TreeHead{kOriginA, grown, audit::merkle::leafHash("not the tree")}, aKey)->note;
  auto inconsistent =
      addCheckpoint(b, audit::addCheckpointBody(s2, *audit::merkle::consistencyProof(s2, grown, *trueHashes), bogus));
  EXPECT_EQ(inconsistent.status, 422) << inconsistent.body;
  // Signed by another key under A's origin: 403; an origin no peer registered: 404.
  auto otherKey = audit::SigningKey::generate();
  EXPECT_EQ(addCheckpoint(b, audit::addCheckpointBody(s2, {}, audit::signTreeHead(audit::TreeHead{kOriginA, s2, trueRoot}, *otherKey)->note)).status,
            403);
  EXPECT_EQ(addCheckpoint(b, audit::addCheckpointBody(0, {}, audit::signTreeHead(audit::TreeHead{"hie-node/x/audit", 1, {}}, *otherKey)->note)).status,
            404);
  EXPECT_EQ(witnessedSize(b), s2);
  // A's own calls are audited in its log (witness-submit), with the witness that answered.
  EXPECT_TRUE(waitFor(
      [&] {
        return scalar(a.db.uri(), "SELECT count(*) FROM audit_log_entries WHERE action = 'witness-submit' AND outcome = "
                                  "'success' AND leaf LIKE '%\"peerOrganization\":\"" + kOrgC + "\"%'") >= 2;
      },
      std::chrono::seconds(30)));

  // 5. A's database owner rewrites A's history (leaf 2 changed) and signs it with A's own audit key.
  const auto [forgedHashes, forged] = rewriteHistoryOfA();
  const std::uint64_t forgedSize = forgedHashes.size();
  audit::merkle::MemoryHashSource forgedSource(forgedHashes);
  // A's running writer refuses to append to a log that does not extend what it signed: fail closed.
  EXPECT_EQ(a.get(clinician, "/fhir/metadata", {"X-Request-Id: after-rewrite"}).status, 503);
  EXPECT_TRUE(waitFor([&] { return contains(a.node()->log(), "(history rewritten); refusing to append to it"); },
                      std::chrono::seconds(30)))
      << a.node()->log();
  // A's submitter sends the fork to both witnesses (from s2, with a proof of the forged tree): both
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
  // Submitted by hand, the same: from 0 a 409 naming s2, from s2 a 422.
  auto direct = addCheckpoint(c, audit::addCheckpointBody(0, {}, forged));
  EXPECT_EQ(direct.status, 409);
  EXPECT_EQ(direct.body, s2Answer);
  EXPECT_EQ(addCheckpoint(c, audit::addCheckpointBody(s2, *audit::merkle::consistencyProof(s2, forgedSize, forgedSource), forged))
                .status,
            422);

  // No cosignature for the fork; the witnesses still hold A's true tree of s2, and cosigned nothing larger.
  EXPECT_EQ(store.cosignatures(kOriginA, forgedSize)->size(), 0u);
  for (NodeFixture* w : {&b, &c}) {
    EXPECT_EQ(witnessedSize(*w), s2);
    EXPECT_EQ(scalar(w->db.uri(), "SELECT count(*) FROM witness_checkpoints WHERE origin = '" + kOriginA +
                                      "' AND root_hash = decode('" + audit::merkle::toHex(trueRoot) + "', 'hex')"),
              1);
    EXPECT_GE(scalar(w->db.uri(), "SELECT count(*) FROM witness_cosigned WHERE origin = '" + kOriginA + "'"), 2);
    EXPECT_EQ(scalar(w->db.uri(), "SELECT count(*) FROM witness_cosigned WHERE origin = '" + kOriginA +
                                      "' AND tree_size > " + std::to_string(s2)),
              0);
  }

  // The witnesses' answers are audited in their logs (action witness): successes for A, and the 422s.
  EXPECT_TRUE(waitFor(
      [&] {
        return scalar(b.db.uri(), "SELECT count(*) FROM audit_log_entries WHERE action = 'witness' AND organization = '" +
                                      kOrgA + "' AND outcome = 'success'") >= 2 &&
               scalar(b.db.uri(), "SELECT count(*) FROM audit_log_entries WHERE action = 'witness' AND http_status = 422") >= 2;
      },
      std::chrono::seconds(30)));

  for (NodeFixture* n : {&a, &b, &c}) {
    // A too stops cleanly: it drops the witness-submit events it can no longer append, and says so.
    EXPECT_EQ(n->node()->stop(), 0) << n->node()->log();
  }
  EXPECT_TRUE(contains(a.node()->log(), "audit writer stopping with ")) << a.node()->log();
  // B and C: their trails verify.
  for (NodeFixture* n : {&b, &c}) {
    auto v = n->cli({"audit", "verify"});
    EXPECT_EQ(v.exitCode, 0) << v.output;
  }
  // A: the owner deleted every true checkpoint, so the fork is consistent in itself and A's trail alone
  // verifies; what it lacks is a witness: no checkpoint of the stored tree carries a cosignature.
  auto alone = a.cli({"audit", "verify"});
  EXPECT_EQ(alone.exitCode, 0) << alone.output;
  auto witnessed = a.cli({"audit", "verify", "--witnesses", "1"});
  EXPECT_EQ(witnessed.exitCode, 1) << witnessed.output;
  EXPECT_TRUE(contains(witnessed.output, "unwitnessed: no checkpoint that matches the stored tree carries valid "
                                         "cosignatures of 1 known witnesses"))
      << witnessed.output;
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
  EXPECT_EQ(scalar(n.db.uri(), "SELECT count(*) FROM audit_log_entries WHERE request_id = 'no-witness' AND action = 'witness'"), 1);

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
  // Elsewhere a body is refused as before.
  EXPECT_EQ(post("/fhir/metadata", "hello").status, 413);
  auto chunked = tlsExchange(n.node()->port(), n.pki.root, n.as(member),
                             "POST /witness/add-checkpoint HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n"
                             "Connection: close\r\n\r\n5\r\nhello\r\n0\r\n\r\n");
  // An endpoint that takes a body needs its length: chunked is 411 (as for the writes under /fhir).
  EXPECT_EQ(chunked.status, 411);
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
