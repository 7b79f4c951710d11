// What a TLS handshake verified can stop holding while a connection stays
// open or its session is resumed: the client certificate expires, a CRL runs
// past its nextUpdate, a reload revokes the certificate, an OCSP answer runs
// out or turns to revoked. The next request on an open keep-alive connection,
// and on a connection resuming a saved session, is then refused (403,
// audited once, counted), never served.
#include <openssl/ssl.h>

#include <csignal>
#include <ctime>
#include <memory>

#include <gtest/gtest.h>

#include <pqxx/pqxx>

#include "auth/tls/expiry.h"
#include "tests/support/node_fixture.h"
#include "tests/support/ocsp_responder.h"

namespace hie::testing {
namespace {

const std::string kLakeside = "urn:oid:2.16.840.1.113883.3.7001";

long long audited(const NodeFixture& f, const std::string& requestId, const std::string& reason) {
  pqxx::connection c(f.db.uri());
  pqxx::read_transaction tx(c);
  return tx
      .exec_params1("SELECT count(*) FROM audit_log_entries WHERE request_id = $1 AND outcome = 'denied' "
                    "AND organization = '' AND strpos(leaf, $2) > 0",
                    requestId, "\"outcomeReason\":\"" + reason + "\"")[0]
      .as<long long>();
}

// Waits (bounded) until the wall clock is past `epoch`, the second a certificate, CRL or OCSP answer runs out.
bool waitUntilPast(std::int64_t epoch) {
  return waitFor([&] { return static_cast<std::int64_t>(std::time(nullptr)) > epoch; }, std::chrono::seconds(30));
}

TlsClientOptions only(int version) {
  TlsClientOptions options;
  options.minVersion = version;
  options.maxVersion = version;
  return options;
}

class SessionRecheck : public ::testing::Test {
 protected:
  void SetUp() override {
    // Idle connections stay open while their certificates run out.
    f.config["server.keepAliveTimeout"] = "60";
  }
  void start() {
    f.writeConfig();
    f.migrate();
    f.addOrg(kLakeside, "Lakeside Clinic");
    f.start();
  }
  std::string metrics() { return f.node()->metrics(); }
  std::unique_ptr<KeepAliveConnection> connect(const Credential& leaf, const SavedSession& resume = {},
                                               const TlsClientOptions& options = {}) {
    return std::make_unique<KeepAliveConnection>(f.node()->port(), f.pki.root, f.as(leaf), resume, options);
  }
  void writeCrl(long intermediateNextUpdateIn, std::vector<const Credential*> revoked = {}) {
    CrlSpec spec;
    spec.revoked = std::move(revoked);
    spec.nextUpdateOffsetSeconds = intermediateNextUpdateIn;
    writeFile(f.dir.path(), "network.crl.tmp", makeCrlPem(f.pki.root, CrlSpec{}) + makeCrlPem(f.pki.intermediate, spec));
    std::rename((f.dir.path() + "/network.crl.tmp").c_str(), (f.dir.path() + "/network.crl").c_str());
  }
  NodeFixture f;
};

TEST_F(SessionRecheck, AnExpiredClientCertificateIsRefusedOnOpenConnectionsAndResumedSessions) {
  start();
  CertSpec spec;
  spec.commonName = "short-lived";
  spec.sanUris = {kLakeside};
  spec.extendedKeyUsage = {"clientAuth"};
  spec.notAfterOffsetSeconds = 10;
  const Credential shortLived = f.pki.leaf(spec);
  const std::int64_t notAfter = auth::certificateNotAfter(shortLived.cert());

  struct Client {
    std::string name;
    TlsClientOptions options;
    std::unique_ptr<KeepAliveConnection> open;     // full handshake, kept alive
    std::unique_ptr<KeepAliveConnection> resumed;  // resumed open's session, kept alive
    SavedSession unused;  // a session not offered yet (a TLS 1.3 client offers each ticket once)
  };
  std::vector<Client> clients;
  clients.push_back(Client{"tls12", only(TLS1_2_VERSION), nullptr, nullptr, {}});
  clients.push_back(Client{"tls13", only(TLS1_3_VERSION), nullptr, nullptr, {}});
  for (Client& c : clients) {
    c.open = connect(shortLived, {}, c.options);
    ASSERT_EQ(c.open->get("/fhir/metadata").status, 200) << c.name << "\n" << f.node()->log();
    const SavedSession saved = c.open->session();
    ASSERT_TRUE(saved) << c.name;
    c.resumed = connect(shortLived, saved, c.options);
    ASSERT_TRUE(c.resumed->resumed()) << c.name << ": the node must offer session resumption";
    ASSERT_EQ(c.resumed->get("/fhir/metadata").status, 200) << c.name << ": a valid resumed session is served";
    c.unused = c.resumed->session();
    ASSERT_TRUE(c.unused) << c.name;
  }
  ASSERT_LT(static_cast<std::int64_t>(std::time(nullptr)), notAfter) << "setting up took longer than the validity";

  ASSERT_TRUE(waitUntilPast(notAfter));
  for (Client& c : clients) {
    const std::string onOpen = "expired-open-" + c.name;
    auto r = c.open->get("/fhir/metadata", {"X-Request-Id: " + onOpen});
    EXPECT_EQ(r.status, 403) << c.name << " " << r.tlsError << r.head;
    EXPECT_TRUE(contains(r.body, "OperationOutcome")) << r.body;
    EXPECT_TRUE(r.header("Connection") == "close" || r.header("Connection") == "Close") << r.head;
    EXPECT_TRUE(c.open->closedByServer(std::chrono::seconds(5))) << c.name;
    EXPECT_EQ(audited(f, onOpen, "certificate_expired"), 1) << c.name;

    const std::string onResumed = "expired-resumed-open-" + c.name;
    r = c.resumed->get("/fhir/metadata", {"X-Request-Id: " + onResumed});
    EXPECT_EQ(r.status, 403) << c.name << " " << r.tlsError << r.head;
    EXPECT_EQ(audited(f, onResumed, "certificate_expired"), 1) << c.name;

    // A new connection resuming a saved session: the session is taken, the request is not served.
    auto again = connect(shortLived, c.unused, c.options);
    const std::string onResume = "expired-resume-" + c.name;
    r = again->get("/fhir/metadata", {"X-Request-Id: " + onResume});
    EXPECT_TRUE(again->resumed()) << c.name << ": this case is about a resumed session";
    EXPECT_EQ(r.status, 403) << c.name << " " << r.tlsError << r.head;
    EXPECT_EQ(audited(f, onResume, "certificate_expired"), 1) << c.name;
  }
  // A full handshake with the expired certificate is refused in the TLS layer, as ever.
  EXPECT_TRUE(f.get(shortLived).tlsRefused);
  const std::string m = metrics();
  EXPECT_TRUE(contains(m, "hie_refusals_total{stage=\"certificate\",reason=\"certificate_expired\"} 6")) << m;
  EXPECT_TRUE(contains(m, "hie_requests_total{outcome=\"success\",organization=\"" + kLakeside + "\"} 4")) << m;
}

TEST_F(SessionRecheck, ACrlPastItsNextUpdateRefusesRequestsOnOpenConnections) {
  writeCrl(10);
  f.config["tls.crl"] = "network.crl";
  const std::int64_t nextUpdate = static_cast<std::int64_t>(std::time(nullptr)) + 10;
  start();
  const Credential x = f.memberCert({kLakeside}, "x");
  auto open = connect(x);
  ASSERT_EQ(open->get().status, 200) << f.node()->log();
  const SavedSession saved = open->session();
  ASSERT_TRUE(saved);
  ASSERT_LT(static_cast<std::int64_t>(std::time(nullptr)), nextUpdate) << "setting up took longer than the CRL";

  ASSERT_TRUE(waitUntilPast(nextUpdate + 1));
  auto r = open->get("/fhir/metadata", {"X-Request-Id: crl-open"});
  EXPECT_EQ(r.status, 403) << r.tlsError << r.head;
  EXPECT_EQ(audited(f, "crl-open", "crl_expired"), 1);
  auto again = connect(x, saved);
  r = again->get("/fhir/metadata", {"X-Request-Id: crl-resume"});
  EXPECT_TRUE(again->resumed());
  EXPECT_EQ(r.status, 403) << r.tlsError << r.head;
  EXPECT_EQ(audited(f, "crl-resume", "crl_expired"), 1);
  EXPECT_TRUE(f.get(x).tlsRefused) << "a full handshake fails closed too";
  const std::string m = metrics();
  EXPECT_TRUE(contains(m, "hie_refusals_total{stage=\"certificate\",reason=\"crl_expired\"} 2")) << m;
}

TEST_F(SessionRecheck, ACertificateRevokedByAReloadedCrlIsRefusedOnItsOpenConnection) {
  writeCrl(7L * 86400);
  f.config["tls.crl"] = "network.crl";
  start();
  const Credential x = f.memberCert({kLakeside}, "x");
  const Credential y = f.memberCert({kLakeside}, "y");
  auto openX = connect(x);
  auto openY = connect(y);
  ASSERT_EQ(openX->get().status, 200);
  ASSERT_EQ(openY->get().status, 200);
  const SavedSession saved = openX->session();

  writeCrl(7L * 86400, {&x});
  f.node()->signal(SIGHUP);
  // The reload swaps the material, then flushes the session cache: wait for the flush.
  ASSERT_TRUE(waitFor([&] { return f.node()->counter("hie_tls_session_cache_flushes_total") >= 1; },
                      std::chrono::seconds(10)))
      << f.node()->log();
  auto r = openX->get("/fhir/metadata", {"X-Request-Id: revoked-open"});
  EXPECT_EQ(r.status, 403) << r.tlsError << r.head;
  EXPECT_EQ(audited(f, "revoked-open", "certificate_revoked"), 1);
  EXPECT_EQ(openY->get().status, 200) << "a certificate the new CRL does not list keeps its connection";
  // The reload flushed the session cache: the saved session starts a full handshake, which refuses x.
  auto again = connect(x, saved);
  EXPECT_FALSE(again->resumed());
  EXPECT_TRUE(again->get().tlsRefused) << "the full handshake must refuse the revoked certificate";
}

TEST_F(SessionRecheck, AnOcspAnswerPastItsValidityIsAskedAgainAndARevokedAnswerRefusesAndFlushesSessions) {
  CertSpec responderSpec;
  responderSpec.commonName = "ocsp responder";
  responderSpec.extendedKeyUsage = {"OCSPSigning"};
  TestOcspResponder responder(f.pki.leaf(responderSpec));
  responder.setNextUpdateIn(4);
  CertSpec member;
  member.commonName = "member";
  member.sanUris = {kLakeside};
  member.extendedKeyUsage = {"clientAuth"};
  member.ocspUrl = responder.url();
  const Credential x = f.pki.leaf(member);
  responder.setRevoked(x, false);
  const Credential y = f.memberCert({kLakeside}, "y");  // names no responder: not OCSP-checked
  f.config["tls.ocsp"] = "require";
  start();

  auto open = connect(x);
  ASSERT_EQ(open->get().status, 200) << f.node()->log();
  std::int64_t answeredBy = std::time(nullptr);  // the answer's nextUpdate is at most 4 s after this
  ASSERT_EQ(responder.answered(), 1);
  auto resumed = connect(x, open->session());
  ASSERT_TRUE(resumed->resumed());
  ASSERT_EQ(resumed->get().status, 200);
  const SavedSession xUnused = resumed->session();
  auto openY = connect(y);
  ASSERT_EQ(openY->get().status, 200);
  const SavedSession yUnused = openY->session();

  // The cached good answer runs out: the next request asks again, and is served on a good answer.
  ASSERT_TRUE(waitUntilPast(answeredBy + 4));
  const int before = responder.answered();
  EXPECT_EQ(open->get().status, 200) << f.node()->log();
  EXPECT_EQ(responder.answered(), before + 1) << "the request must be re-checked with the responder";
  answeredBy = std::time(nullptr);

  // Now the responder says revoked: once the good answer runs out, the open connections are refused.
  responder.setRevoked(x, true);
  ASSERT_TRUE(waitUntilPast(answeredBy + 4));
  auto r = open->get("/fhir/metadata", {"X-Request-Id: ocsp-open"});
  EXPECT_EQ(r.status, 403) << r.tlsError << r.head;
  EXPECT_EQ(audited(f, "ocsp-open", "certificate_revoked_ocsp"), 1);
  r = resumed->get("/fhir/metadata", {"X-Request-Id: ocsp-resumed-open"});
  EXPECT_EQ(r.status, 403) << r.tlsError << r.head;
  EXPECT_EQ(audited(f, "ocsp-resumed-open", "certificate_revoked_ocsp"), 1);
  EXPECT_EQ(openY->get().status, 200) << "a certificate OCSP does not cover keeps its connection";

  // The newly revoked answer flushed the whole session cache: no saved session resumes,
  // not even y's (which would otherwise resume and be served); a full handshake refuses x.
  auto again = connect(x, xUnused);
  EXPECT_FALSE(again->resumed());
  EXPECT_TRUE(again->get().tlsRefused);
  auto againY = connect(y, yUnused);
  EXPECT_FALSE(againY->resumed()) << "the session cache must have been flushed";
  EXPECT_EQ(againY->get().status, 200);
  const std::string m = metrics();
  EXPECT_TRUE(contains(m, "hie_refusals_total{stage=\"certificate\",reason=\"certificate_revoked_ocsp\"} 2")) << m;
  EXPECT_TRUE(contains(m, "hie_tls_session_cache_flushes_total 1")) << m;
}

// TLS 1.2, where the server alone decides whether a session resumes (a TLS 1.3
// client itself drops a ticket past the lifetime the server announced with it).
TEST_F(SessionRecheck, SessionsLastTlsSessionLifetimeAndZeroTurnsResumptionOff) {
  f.config["tls.sessionLifetime"] = "2";
  start();
  const Credential x = f.memberCert({kLakeside}, "x");
  const TlsClientOptions tls12 = only(TLS1_2_VERSION);
  const std::int64_t issued = std::time(nullptr);
  auto first = connect(x, {}, tls12);
  auto second = connect(x, {}, tls12);
  ASSERT_EQ(first->get().status, 200);
  ASSERT_EQ(second->get().status, 200);
  auto soon = connect(x, first->session(), tls12);
  EXPECT_TRUE(soon->resumed());
  EXPECT_EQ(soon->get().status, 200);
  ASSERT_TRUE(waitUntilPast(issued + 3));
  auto late = connect(x, second->session(), tls12);
  EXPECT_FALSE(late->resumed()) << "the session must have run out after tls.sessionLifetime";
  EXPECT_EQ(late->get().status, 200);
  for (auto* c : {&first, &second, &soon, &late}) c->reset();  // idle connections would hold up the stop

  f.node()->stop();
  f.config["tls.sessionLifetime"] = "0";
  f.writeConfig();
  f.start();
  auto plain = connect(x, {}, tls12);
  ASSERT_EQ(plain->get().status, 200);
  auto offered = connect(x, plain->session(), tls12);
  EXPECT_FALSE(offered->resumed()) << "tls.sessionLifetime = 0 turns resumption off";
  EXPECT_EQ(offered->get().status, 200);
}

}  // namespace
}  // namespace hie::testing
