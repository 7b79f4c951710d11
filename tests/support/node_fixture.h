// One running node for integration tests: a test PKI, a fresh database
// (migrated), a config file, and `hie-node serve` on a free loopback port.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "tests/support/node_process.h"
#include "tests/support/test_database.h"
#include "tests/support/test_pki.h"
#include "tests/support/tls_client.h"

namespace hie::testing {

constexpr const char* kNodeOrg = "urn:oid:2.16.840.1.113883.3.7000";

class NodeFixture {
 public:
  NodeFixture();
  // With its database on another cluster (see PrivateCluster).
  NodeFixture(const std::string& pgHost, const std::string& pgPort);
  // One node of a network: the network's PKI, its own node id and organization.
  NodeFixture(const TestPki& networkPki, const std::string& nodeId, const std::string& organization);

  TestPki pki;
  TempDir dir;
  TestDatabase db;
  Credential serverCert;
  std::string configPath;
  std::map<std::string, std::string> config;  // written by writeConfig()

  // A clientAuth leaf from the network's intermediate with the given SAN URIs.
  Credential memberCert(const std::vector<std::string>& sanUris, const std::string& cn = "member") const;
  ClientIdentity as(const Credential& leaf) const { return ClientIdentity{&leaf, {&pki.intermediate}}; }

  void writeConfig();                                // from `config`
  CommandResult cli(const std::vector<std::string>& args) const;  // hie-node ARGS --config configPath
  void migrate() const;                              // asserts success
  void addOrg(const std::string& identifier, const std::string& name,
              const std::vector<std::string>& extra = {}) const;  // asserts success
  // Starts serve (with extra environment); asserts it is listening.
  NodeProcess& start(const std::map<std::string, std::string>& env = {});
  NodeProcess* node() { return node_.get(); }
  HttpResult get(const Credential& leaf, const std::string& path = "/fhir/metadata",
                 const std::vector<std::string>& headers = {}) const;

 private:
  void setUp(const std::string& nodeId = "node-a", const std::string& organization = kNodeOrg);
  std::unique_ptr<NodeProcess> node_;
};

}  // namespace hie::testing
