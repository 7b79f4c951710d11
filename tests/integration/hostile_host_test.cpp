// Hostile Host headers over real mTLS on every endpoint that echoes a URL
// (searches: fullUrl and links; /audit/AuditEvent and /audit/disclosures:
// links): every reply is valid JSON, parsed here with a real JSON parser,
// and its URLs start with the safe fallback, never with the header.
#include <gtest/gtest.h>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include "tests/support/node_fixture.h"

namespace hie::testing {
namespace {

const std::string kLakeside = "urn:oid:2.16.840.1.113883.3.7001";
const std::string kAuditorOrg = "urn:oid:2.16.840.1.113883.3.7009";
const std::string kNet = "urn:oid:2.16.840.1.113883.3.7000.1";

// Every value a Host header can carry over the wire (no CR or LF) that is not a plain host[:port].
std::vector<std::string> hostileHosts() {
  return {"evil\"},{\"relation\":\"next\",\"url\":\"https://evil.example/\"}],\"x\":{\"",
          "a\\b\\",
          "\"\\\"",
          std::string("a\x01\x1b[31m\x7f\0b", 10),
          "a\tb",
          "node.example:8443\"",
          std::string(8000, 'a'),  // under the listener's 8 KiB field limit, over a DNS name's 253
          "[::1",
          "a:1:2",
          "user@node.example",
          "node.example/x",
          "node.example:99999",
          "</script><script>alert(1)</script>"};
}

struct Endpoint {
  const Credential* who;
  std::string path;
  std::string purpose;  // "" = none
};

class HostileHost : public ::testing::Test {
 protected:
  void SetUp() override {
    f.migrate();
    f.addOrg(kLakeside, "Lakeside Clinic");
    f.addOrg(kAuditorOrg, "Network Audit Office", {"--role", "auditor"});
    auto g = f.cli({"grant", "add", "--org", kLakeside, "--resource", "Patient,Observation", "--action", "read,search",
                    "--purpose", "TREAT"});
    ASSERT_EQ(g.exitCode, 0) << g.output;
    auto r = f.cli({"records", "import", std::string(HIE_SOURCE_DIR) + "/config/demo/bundle.json"});
    ASSERT_EQ(r.exitCode, 0) << r.output;
    lakeside = f.memberCert({kLakeside});
    auditor = f.memberCert({kAuditorOrg});
  }

  // Every endpoint that echoes a URL, each with a page size that leaves a next link.
  std::vector<Endpoint> endpoints() const {
    return {{&lakeside, "/fhir/Observation?patient=p-ava&_count=1", "TREAT"},
            {&lakeside, "/fhir/Patient?identifier=" + kNet + "%7CNET-1001", "TREAT"},
            {&auditor, "/audit/AuditEvent?_count=1", ""},
            {&auditor, "/audit/disclosures?patient=p-ava&_count=1", ""}};
  }

  HttpResult send(const Endpoint& e, const std::vector<std::string>& hostLines) {
    std::string request = "GET " + e.path + " HTTP/1.1\r\n";
    for (const auto& line : hostLines) request += line + "\r\n";
    if (!e.purpose.empty()) request += "X-Purpose-Of-Use: " + e.purpose + "\r\n";
    request += "Connection: close\r\n\r\n";
    return tlsExchange(f.node()->port(), f.pki.root, f.as(*e.who), request);
  }

  static Poco::JSON::Object::Ptr parse(const HttpResult& r) {
    Poco::JSON::Parser parser;
    return parser.parse(r.body).extract<Poco::JSON::Object::Ptr>();
  }

  // A searchset Bundle with the usual members only; its link urls and fullUrls.
  static std::vector<std::string> urlsOf(const Poco::JSON::Object::Ptr& bundle) {
    std::vector<std::string> names;
    bundle->getNames(names);
    EXPECT_EQ(names, (std::vector<std::string>{"entry", "link", "resourceType", "total", "type"}));
    std::vector<std::string> urls;
    auto links = bundle->getArray("link");
    EXPECT_TRUE(links && links->size() >= 1);
    for (std::size_t i = 0; links && i < links->size(); ++i) {
      auto link = links->getObject(static_cast<unsigned>(i));
      EXPECT_EQ(link->size(), 2u);
      urls.push_back(link->getValue<std::string>("url"));
    }
    auto entries = bundle->getArray("entry");
    for (std::size_t i = 0; entries && i < entries->size(); ++i) {
      auto entry = entries->getObject(static_cast<unsigned>(i));
      if (entry->has("fullUrl")) urls.push_back(entry->getValue<std::string>("fullUrl"));
    }
    return urls;
  }

  // Sends each Host to each endpoint; every reply must be a Bundle whose URLs all start with `base`.
  void expectBase(const std::vector<std::vector<std::string>>& hostSets, const std::string& base) {
    for (const auto& e : endpoints()) {
      for (const auto& hosts : hostSets) {
        const std::string what = e.path + " with " + (hosts.empty() ? "no Host" : hosts.front().substr(0, 80));
        auto r = send(e, hosts);
        ASSERT_EQ(r.status, 200) << what << "\n" << r.head << r.body;
        Poco::JSON::Object::Ptr bundle;
        ASSERT_NO_THROW(bundle = parse(r)) << what << "\n" << r.body;
        const auto urls = urlsOf(bundle);
        ASSERT_FALSE(urls.empty()) << what;
        for (const auto& url : urls) EXPECT_EQ(url.rfind(base, 0), 0u) << what << "\n" << url;
        if (e.path.rfind("/fhir/Observation", 0) == 0) {
          EXPECT_EQ(bundle->getArray("link")->size(), 2u) << what << "\n" << r.body;  // self and next
        }
      }
    }
  }

  NodeFixture f;
  Credential lakeside, auditor;
};

TEST_F(HostileHost, RepliesAreValidJsonAndLinkToTheAddressTheCallArrivedOn) {
  f.start();
  // Enough audited requests (these too) that both audit endpoints page.
  ASSERT_EQ(f.get(lakeside, "/fhir/Patient/p-ava", {"X-Purpose-Of-Use: TREAT"}).status, 200);
  ASSERT_EQ(f.get(lakeside, "/fhir/Observation?patient=p-ava", {"X-Purpose-Of-Use: TREAT"}).status, 200);

  std::vector<std::vector<std::string>> hostSets;
  for (const auto& host : hostileHosts()) hostSets.push_back({"Host: " + host});
  hostSets.push_back({});                                        // no Host at all
  hostSets.push_back({"Host: a.example", "Host: b.example"});    // two of them
  expectBase(hostSets, "https://127.0.0.1:" + std::to_string(f.node()->port()) + "/");

  // A plain host[:port] is what the caller used, and is echoed as it is.
  expectBase({{"Host: node-a.example.org:8443"}}, "https://node-a.example.org:8443/");
  expectBase({{"Host: [::1]:8443"}}, "https://[::1]:8443/");

  // Longer than the listener's field limit, or not UTF-8: refused before any handler, still as JSON.
  for (const auto& [host, status] : std::vector<std::pair<std::string, int>>{
           {std::string(10240, 'a'), 431}, {std::string(10240, '"'), 431}, {"bad\xff\xfe\"", 400}}) {
    for (const auto& e : endpoints()) {
      auto r = send(e, {"Host: " + host});
      EXPECT_EQ(r.status, status) << e.path << "\n" << r.head;
      Poco::JSON::Object::Ptr outcome;
      ASSERT_NO_THROW(outcome = parse(r)) << r.body;
      EXPECT_EQ(outcome->getValue<std::string>("resourceType"), "OperationOutcome");
    }
  }
}

TEST_F(HostileHost, TheConfiguredBaseUrlWinsOverAnyHost) {
  f.config["server.baseUrl"] = "https://hie.example.org/node-a/";
  f.writeConfig();
  f.start();
  ASSERT_EQ(f.get(lakeside, "/fhir/Patient/p-ava", {"X-Purpose-Of-Use: TREAT"}).status, 200);
  ASSERT_EQ(f.get(lakeside, "/fhir/Observation?patient=p-ava", {"X-Purpose-Of-Use: TREAT"}).status, 200);
  expectBase({{"Host: node-b.example.org"}, {"Host: " + hostileHosts().front()}, {}},
             "https://hie.example.org/node-a/");
}

}  // namespace
}  // namespace hie::testing
