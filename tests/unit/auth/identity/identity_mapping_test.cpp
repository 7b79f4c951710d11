#include "auth/identity/identity_mapping.h"

#include <gtest/gtest.h>

namespace hie::auth {
namespace {

const std::string kLakeside = "urn:oid:2.16.840.1.113883.3.7001";
const std::string kRiver = "urn:oid:2.16.840.1.113883.3.7002";
const std::string kPinA(64, 'a');
const std::string kPinB(64, 'b');

std::vector<Organization> registry() {
  Organization lakeside{kLakeside, "Lakeside Clinic", OrganizationStatus::kActive, {Role::kMember}, {}, {}};
  Organization river{kRiver, "River Hospital", OrganizationStatus::kActive, {Role::kMember}, {kPinA}, {}};
  Organization closed{"urn:oid:2.16.840.1.113883.3.7003", "Closed Practice", OrganizationStatus::kSuspended,
                      {Role::kMember}, {kPinB}, {}};
  return {lakeside, river, closed};
}

struct Case {
  const char* name;
  PeerIdentity peer;
  MappingOutcome outcome;
  std::string organization;  // expected identifier for admitted/suspended
};

PeerIdentity peer(std::vector<std::string> uris, std::string sha = std::string(64, 'f'), std::string subject = "") {
  PeerIdentity p;
  p.sanUris = std::move(uris);
  p.certSha256 = std::move(sha);
  p.subjectDn = std::move(subject);
  return p;
}

class IdentityMappingTable : public ::testing::TestWithParam<Case> {};

TEST_P(IdentityMappingTable, MapsByTheRules) {
  const auto orgs = registry();
  const Case& c = GetParam();
  const IdentityMapping m = mapIdentity(c.peer, orgs);
  EXPECT_EQ(m.outcome, c.outcome) << c.name;
  if (c.outcome == MappingOutcome::kAdmitted || c.outcome == MappingOutcome::kSuspended) {
    ASSERT_NE(m.organization, nullptr) << c.name;
    EXPECT_EQ(m.organization->identifier, c.organization) << c.name;
  } else {
    EXPECT_EQ(m.organization, nullptr) << c.name;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Rules, IdentityMappingTable,
    ::testing::Values(
        Case{"san uri equals identifier", peer({kLakeside}), MappingOutcome::kAdmitted, kLakeside},
        Case{"san uri among others", peer({"https://lakeside.example", kLakeside}), MappingOutcome::kAdmitted,
             kLakeside},
        Case{"urn:oid prefix is case-insensitive", peer({"URN:OID:2.16.840.1.113883.3.7001"}),
             MappingOutcome::kAdmitted, kLakeside},
        Case{"oid digits must match exactly", peer({"urn:oid:2.16.840.1.113883.3.70010"}), MappingOutcome::kUnknown,
             ""},
        Case{"identifier as prefix does not match", peer({kLakeside + ".1"}), MappingOutcome::kUnknown, ""},
        Case{"pinned fingerprint without san", peer({}, kPinA), MappingOutcome::kAdmitted, kRiver},
        Case{"pin and san naming the same org", peer({kRiver}, kPinA), MappingOutcome::kAdmitted, kRiver},
        Case{"pin and san naming different orgs", peer({kLakeside}, kPinA), MappingOutcome::kAmbiguous, ""},
        Case{"two san uris of two orgs", peer({kLakeside, kRiver}), MappingOutcome::kAmbiguous, ""},
        Case{"suspended by pin", peer({}, kPinB), MappingOutcome::kSuspended, "urn:oid:2.16.840.1.113883.3.7003"},
        Case{"suspended and active together is ambiguous", peer({kLakeside}, kPinB), MappingOutcome::kAmbiguous,
             ""},
        Case{"no san, no pin", peer({}), MappingOutcome::kUnknown, ""},
        Case{"unregistered san uri", peer({"urn:oid:1.2.3.4"}), MappingOutcome::kUnknown, ""},
        Case{"CN or O naming the org never maps",
             peer({}, std::string(64, 'f'), "CN=urn:oid:2.16.840.1.113883.3.7001,O=Lakeside Clinic"),
             MappingOutcome::kUnknown, ""},
        Case{"empty fingerprint never matches a pin", peer({}, ""), MappingOutcome::kUnknown, ""},
        Case{"uppercase fingerprint does not match lowercase pin", peer({}, std::string(64, 'A')),
             MappingOutcome::kUnknown, ""}));

TEST(IdentityMapping, SanDnsNamesNeverMap) {
  auto orgs = registry();
  PeerIdentity p = peer({});
  p.sanDns = {"urn:oid:2.16.840.1.113883.3.7001", "lakeside.example"};
  EXPECT_EQ(mapIdentity(p, orgs).outcome, MappingOutcome::kUnknown);
}

TEST(IdentityMapping, EmptyRegistryAdmitsNobody) {
  EXPECT_EQ(mapIdentity(peer({kLakeside}, kPinA), {}).outcome, MappingOutcome::kUnknown);
}

TEST(IdentityMapping, ReportsEveryMatchedOrganization) {
  auto orgs = registry();
  auto m = mapIdentity(peer({kLakeside}, kPinA), orgs);
  EXPECT_EQ(m.matched, (std::vector<std::string>{kLakeside, kRiver}));
}

TEST(OrganizationIdentifier, AcceptsOnlyUrnOid) {
  for (const char* good : {"urn:oid:2.16.840.1.113883.3.7001", "urn:oid:1.2", "urn:oid:0.0", "urn:oid:2.999.10"}) {
    EXPECT_TRUE(isValidOrganizationIdentifier(good)) << good;
  }
  for (const char* bad : {"", "urn:oid:", "urn:oid:1", "urn:oid:3.1", "urn:oid:1..2", "urn:oid:1.02",
                          "urn:oid:1.2.", "URN:OID:1.2", "urn:oid:1.2 ", "oid:1.2", "https://x.example",
                          "urn:oid:1.2;drop", "urn:oid:1.2\n", "urn:oid:12.3"}) {
    EXPECT_FALSE(isValidOrganizationIdentifier(bad)) << bad;
  }
}

}  // namespace
}  // namespace hie::auth
