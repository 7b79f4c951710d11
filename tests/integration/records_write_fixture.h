// The node, organizations and request helpers shared by the write API's integration tests
// (records_write_test.cpp, records_write_concurrency_test.cpp). The node is not started in
// SetUp: a test may change f.config (records.maxBundleEntries, ...) or consent first, then start().
#pragma once

#include <gtest/gtest.h>

#include <regex>
#include <string>
#include <vector>

#include <pqxx/pqxx>

#include "tests/support/node_fixture.h"

namespace hie::testing {

inline const std::string kHospital = "urn:oid:2.16.840.1.113883.3.7009";  // role local: writes
inline const std::string kLakeside = "urn:oid:2.16.840.1.113883.3.7001";  // member, reads with TREAT
inline const std::string kRiver = "urn:oid:2.16.840.1.113883.3.7002";     // member, reads with TREAT
inline const std::string kHill = "urn:oid:2.16.840.1.113883.3.7003";      // member without grants
inline const std::string kAuditOffice = "urn:oid:2.16.840.1.113883.3.7004";  // role auditor

// What the write path stores: current rows, every version, patient identifiers.
struct StoredCounts {
  long long current = 0, history = 0, identifiers = 0;
  bool operator==(const StoredCounts& o) const {
    return current == o.current && history == o.history && identifiers == o.identifiers;
  }
};
inline std::ostream& operator<<(std::ostream& out, const StoredCounts& c) {
  return out << "{current " << c.current << ", history " << c.history << ", identifiers " << c.identifiers << "}";
}

class RecordsWriteFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    f.migrate();
    f.addOrg(kHospital, "Our Hospital Systems", {"--role", "local"});
    f.addOrg(kLakeside, "Lakeside Clinic");
    f.addOrg(kRiver, "River Hospital");
    f.addOrg(kHill, "Hill Clinic");
    f.addOrg(kAuditOffice, "Audit Office", {"--role", "auditor"});
    for (const auto& org : {kLakeside, kRiver}) {
      ok(f.cli({"grant", "add", "--org", org, "--resource", "Patient,Observation", "--action", "read,search",
                "--purpose", "TREAT"}));
    }
    hospital = f.memberCert({kHospital});
    lakeside = f.memberCert({kLakeside});
    river = f.memberCert({kRiver});
    hill = f.memberCert({kHill});
    auditor = f.memberCert({kAuditOffice});
  }

  // Writes f.config and starts the node.
  void start() {
    f.writeConfig();
    f.start();
  }

  static void ok(const CommandResult& r) { ASSERT_EQ(r.exitCode, 0) << r.output; }

  // One request with a body over mTLS; headers are extra lines; an empty purpose or content type
  // sends no such field. Bodies come back without the space PostgreSQL puts after ':' and ','.
  HttpResult send(const Credential& who, const std::string& method, const std::string& path, const std::string& body,
                  std::vector<std::string> headers = {}, const std::string& purpose = "HOPERAT",
                  const std::string& contentType = "application/fhir+json") {
    std::string req = method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
    if (!purpose.empty()) req += "X-Purpose-Of-Use: " + purpose + "\r\n";
    if (!body.empty()) {
      if (!contentType.empty()) req += "Content-Type: " + contentType + "\r\n";
      req += "Content-Length: " + std::to_string(body.size()) + "\r\n";
    }
    for (const auto& h : headers) req += h + "\r\n";
    req += "\r\n" + body;
    return flat(tlsExchange(f.node()->port(), f.pki.root, f.as(who), req));
  }

  // A read as a member organization with TREAT.
  HttpResult read(const Credential& who, const std::string& path, const std::string& purpose = "TREAT") {
    return flat(f.get(who, path, {"X-Purpose-Of-Use: " + purpose}));
  }

  static HttpResult flat(HttpResult r) {
    r.body = std::regex_replace(r.body, std::regex("([:,]) "), "$1");
    return r;
  }

  StoredCounts counts() {
    pqxx::connection c(f.db.uri());
    pqxx::read_transaction tx(c);
    const auto row = tx.exec1(
        "SELECT (SELECT count(*) FROM fhir_resources), (SELECT count(*) FROM fhir_resource_history), "
        "(SELECT count(*) FROM patient_identifiers)");
    return StoredCounts{row[0].as<long long>(), row[1].as<long long>(), row[2].as<long long>()};
  }

  long long scalar(const std::string& sql) {
    pqxx::connection c(f.db.uri());
    pqxx::read_transaction tx(c);
    return tx.exec1(sql)[0].as<long long>();
  }

  // The current version of Type/id in the database, 0 when there is no row.
  long long versionOf(const std::string& type, const std::string& id) {
    return scalar("SELECT coalesce(max(version), 0) FROM fhir_resources WHERE resource_type = '" + type +
                  "' AND id = '" + id + "'");
  }

  NodeFixture f;
  Credential hospital, lakeside, river, hill, auditor;
};

// "total": N of a searchset, -1 when there is none.
inline long long searchTotal(const HttpResult& r) {
  std::smatch m;
  if (!std::regex_search(r.body, m, std::regex("\"total\":(\\d+)"))) return -1;
  return std::stoll(m[1]);
}

// Every entry.response.status of a transaction- or batch-response, in order.
inline std::vector<std::string> responseStatuses(const std::string& body) {
  std::vector<std::string> out;
  const std::regex status("\"status\":\"(\\d\\d\\d[^\"]*)\"");
  for (auto it = std::sregex_iterator(body.begin(), body.end(), status); it != std::sregex_iterator(); ++it) {
    out.push_back((*it)[1]);
  }
  return out;
}

}  // namespace hie::testing
