// The admin listener: health, readiness and Prometheus metrics.
#include <gtest/gtest.h>

#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/StreamCopier.h>

#include "tests/support/node_fixture.h"
#include "tests/support/private_cluster.h"

namespace hie::testing {
namespace {

const std::string kLakeside = "urn:oid:2.16.840.1.113883.3.7001";

std::pair<int, std::string> adminGet(int port, const std::string& path) {
  Poco::Net::HTTPClientSession session("127.0.0.1", static_cast<Poco::UInt16>(port));
  session.setTimeout(Poco::Timespan(5, 0));
  Poco::Net::HTTPRequest request(Poco::Net::HTTPRequest::HTTP_GET, path, Poco::Net::HTTPMessage::HTTP_1_1);
  session.sendRequest(request);
  Poco::Net::HTTPResponse response;
  std::string body;
  Poco::StreamCopier::copyToString(session.receiveResponse(response), body);
  return {response.getStatus(), body};
}

TEST(AdminListener, HealthReadinessAndMetrics) {
  NodeFixture f;
  f.migrate();
  f.addOrg(kLakeside, "Lakeside Clinic");
  f.start();
  const int admin = f.node()->adminPort();
  ASSERT_NE(admin, 0) << f.node()->log();
  EXPECT_EQ(adminGet(admin, "/healthz").first, 200);
  auto ready = adminGet(admin, "/readyz");
  EXPECT_EQ(ready.first, 200) << ready.second;

  EXPECT_EQ(f.get(f.memberCert({kLakeside})).status, 200);
  EXPECT_EQ(f.get(f.memberCert({"urn:oid:1.2.3"})).status, 403);
  TestPki other = TestPki::create();
  CertSpec spec;
  spec.commonName = "stranger";
  spec.extendedKeyUsage = {"clientAuth"};
  Credential stranger = other.leaf(spec);
  EXPECT_TRUE(tlsGet(f.node()->port(), f.pki.root, ClientIdentity{&stranger, {&other.intermediate}}, "/fhir/metadata")
                  .tlsRefused);
  auto metrics = adminGet(admin, "/metrics");
  ASSERT_EQ(metrics.first, 200);
  const std::string& m = metrics.second;
  EXPECT_TRUE(contains(m, "hie_requests_total{outcome=\"success\",organization=\"" + kLakeside + "\"} 1")) << m;
  EXPECT_TRUE(contains(m, "hie_requests_total{outcome=\"denied\",organization=\"none\"} 1")) << m;
  EXPECT_TRUE(contains(m, "hie_refusals_total{stage=\"identity\",reason=\"unknown_organization\"} 1")) << m;
  // Counted a moment after the client sees the refusal.
  EXPECT_TRUE(waitFor([&] { return f.node()->counter("hie_tls_handshake_failures_total{reason=\"unknown_issuer\"}") == 1; },
                      std::chrono::seconds(5)))
      << f.node()->metrics();
  EXPECT_TRUE(contains(f.node()->metrics(), "# TYPE hie_tls_handshake_failures_total counter\n"
                                             "hie_tls_handshake_failures_total{reason=\"unknown_issuer\"} 1\n"));
  EXPECT_TRUE(contains(m, "hie_audit_queue_depth")) << m;
  EXPECT_TRUE(contains(m, "hie_certificate_not_after_timestamp_seconds{kind=\"node\"}")) << m;
  EXPECT_TRUE(contains(m, "# TYPE hie_requests_total counter")) << m;
  EXPECT_EQ(adminGet(admin, "/nothing").first, 404);
}

TEST(AdminListener, NotReadyWhileTheDatabaseIsDown) {
  PrivateCluster cluster;
  NodeFixture f(cluster.host(), cluster.port());
  f.migrate();
  f.config["audit.commitTimeout"] = "1000";
  f.writeConfig();
  f.start({{"ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0:fast_unwind_on_malloc=0"}});
  const int admin = f.node()->adminPort();
  EXPECT_EQ(adminGet(admin, "/readyz").first, 200);
  cluster.stop();
  EXPECT_TRUE(waitFor([&] { return adminGet(admin, "/readyz").first == 503; }, std::chrono::seconds(15)));
  auto r = adminGet(admin, "/readyz");
  EXPECT_TRUE(contains(r.second, "database")) << r.second;
  EXPECT_EQ(adminGet(admin, "/healthz").first, 200);
  cluster.start();
  EXPECT_TRUE(waitFor([&] { return adminGet(admin, "/readyz").first == 200; }, std::chrono::seconds(20)));
}

}  // namespace
}  // namespace hie::testing
