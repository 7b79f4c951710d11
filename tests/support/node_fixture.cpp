#include "tests/support/node_fixture.h"

#include <fstream>
#include <stdexcept>

#include <gtest/gtest.h>

#include "audit/signing_key.h"

namespace hie::testing {

NodeFixture::NodeFixture() : pki(TestPki::create()) { setUp(); }

NodeFixture::NodeFixture(const std::string& pgHost, const std::string& pgPort)
    : pki(TestPki::create()), db(pgHost, pgPort) {
  setUp();
}

NodeFixture::NodeFixture(const TestPki& networkPki, const std::string& nodeId, const std::string& organization)
    : pki(networkPki) {
  setUp(nodeId, organization);
}

void NodeFixture::setUp(const std::string& nodeId, const std::string& organization) {
  CertSpec server;
  server.commonName = nodeId;
  server.sanUris = {organization};
  server.sanDns = {"localhost"};
  server.sanIps = {"127.0.0.1"};
  server.extendedKeyUsage = {"serverAuth", "clientAuth"};
  serverCert = pki.leaf(server);
  writeFile(dir.path(), "node.crt", pki.chainPem(serverCert));
  writeFile(dir.path(), "node.key", serverCert.keyPem());
  writeFile(dir.path(), "network-ca.pem", pki.root.certPem());
  auto auditKey = audit::SigningKey::generate();
  if (!auditKey) throw std::runtime_error("cannot make an audit key");
  writeFile(dir.path(), "audit-ed25519.pem", auditKey->privatePem());
  writeFile(dir.path(), "audit-ed25519.pub", auditKey->publicPem());
  configPath = dir.path() + "/node.properties";
  config = {
      {"node.id", nodeId},
      {"node.organization", organization},
      {"server.host", "127.0.0.1"},
      {"server.port", "0"},
      {"server.timeout", "3"},
      {"server.keepAliveTimeout", "2"},
      {"tls.certificate", "node.crt"},
      {"tls.privateKey", "node.key"},
      {"tls.trustBundle", "network-ca.pem"},
      {"db.uri", db.uri()},
      {"db.ownerUri", db.ownerUri()},
      {"audit.signingKey", "audit-ed25519.pem"},
      {"registry.pollInterval", "200"},
      {"admin.port", "0"},
  };
  writeConfig();
}

Credential NodeFixture::memberCert(const std::vector<std::string>& sanUris, const std::string& cn) const {
  CertSpec spec;
  spec.commonName = cn;
  spec.sanUris = sanUris;
  spec.extendedKeyUsage = {"clientAuth"};
  return pki.leaf(spec);
}

void NodeFixture::writeConfig() {
  std::ofstream out(configPath, std::ios::trunc);
  for (const auto& [k, v] : config) out << k << " = " << v << "\n";
}

CommandResult NodeFixture::cli(const std::vector<std::string>& args) const {
  std::vector<std::string> full = args;
  full.push_back("--config");
  full.push_back(configPath);
  return runNode(full);
}

void NodeFixture::migrate() const {
  auto r = cli({"migrate"});
  ASSERT_EQ(r.exitCode, 0) << r.output;
}

void NodeFixture::addOrg(const std::string& identifier, const std::string& name,
                         const std::vector<std::string>& extra) const {
  std::vector<std::string> args{"org", "add", "--identifier", identifier, "--name", name};
  args.insert(args.end(), extra.begin(), extra.end());
  auto r = cli(args);
  ASSERT_EQ(r.exitCode, 0) << r.output;
}

NodeProcess& NodeFixture::start(const std::map<std::string, std::string>& env) {
  // A fresh log file per start: a restarted node must not be read from its predecessor's log.
  static int starts = 0;
  node_ = std::make_unique<NodeProcess>(std::vector<std::string>{"serve", "--config", configPath}, env,
                                        dir.path() + "/serve-" + std::to_string(++starts) + ".log");
  if (!node_->waitUntilListening()) {
    ADD_FAILURE() << "hie-node serve did not start:\n" << node_->log();
    throw std::runtime_error("node did not start");
  }
  return *node_;
}

HttpResult NodeFixture::get(const Credential& leaf, const std::string& path,
                            const std::vector<std::string>& headers) const {
  return tlsGet(node_->port(), pki.root, as(leaf), path, headers);
}

}  // namespace hie::testing
