#include "auth/policy/policy.h"

#include <gtest/gtest.h>

namespace hie::auth {
namespace {

const std::string kLakeside = "urn:oid:2.16.840.1.113883.3.7001";

Organization org(OrganizationStatus status, std::vector<Role> roles) {
  return Organization{kLakeside, "Lakeside", status, std::move(roles), {}, {}};
}

const std::vector<Grant> kGrants = {
    {1, kLakeside, {"Patient", "DocumentReference"}, {Action::kRead, Action::kSearch}, {"TREAT", "ETREAT"}},
    {2, kLakeside, {"Observation"}, {Action::kSearch}, {"PUBHLTH"}},
    {3, "urn:oid:9.9", {"Condition"}, {Action::kRead}, {"TREAT"}},  // another organization's grant
};

struct Case {
  const char* name;
  Organization organization;
  Action action;
  std::string type;
  std::string purpose;
  std::optional<PatientConsent> consent;
  bool breakGlassAllowed;
  bool permit;
  DecisionReason reason;
  bool breakGlass;
};

const Organization kMember = org(OrganizationStatus::kActive, {Role::kMember});
const PatientConsent kOptedOut{true, {}};
const PatientConsent kDeniesLakeside{false, {kLakeside}};
const PatientConsent kDeniesOther{false, {"urn:oid:9.9"}};
const PatientConsent kOptedOutAndDenies{true, {kLakeside}};

class PolicyTable : public ::testing::TestWithParam<Case> {};

TEST_P(PolicyTable, Decides) {
  const Case& c = GetParam();
  AccessQuestion q{&c.organization, c.action, c.type, c.purpose, &kGrants};
  const AccessDecision d = decide(q, c.consent ? &*c.consent : nullptr, PolicySettings{c.breakGlassAllowed});
  EXPECT_EQ(d.permit, c.permit) << c.name;
  EXPECT_EQ(d.reason, c.reason) << c.name << ": " << decisionReasonName(d.reason);
  EXPECT_EQ(d.breakGlass, c.breakGlass) << c.name;
}

INSTANTIATE_TEST_SUITE_P(
    Cases, PolicyTable,
    ::testing::Values(
        Case{"granted read", kMember, Action::kRead, "Patient", "TREAT", {}, false, true, DecisionReason::kPermitted, false},
        Case{"granted search", kMember, Action::kSearch, "DocumentReference", "TREAT", {}, false, true,
             DecisionReason::kPermitted, false},
        Case{"local role may read", org(OrganizationStatus::kActive, {Role::kLocal}), Action::kRead, "Patient", "TREAT",
             {}, false, true, DecisionReason::kPermitted, false},
        Case{"type not granted", kMember, Action::kRead, "Condition", "TREAT", {}, false, false,
             DecisionReason::kNoGrant, false},
        Case{"another org's grant does not count", kMember, Action::kRead, "Condition", "TREAT", {}, false, false,
             DecisionReason::kNoGrant, false},
        Case{"purpose not granted", kMember, Action::kRead, "Patient", "HPAYMT", {}, false, false,
             DecisionReason::kNoGrant, false},
        Case{"action not granted", kMember, Action::kRead, "Observation", "PUBHLTH", {}, false, false,
             DecisionReason::kNoGrant, false},
        Case{"grant parts never combine across grants", kMember, Action::kSearch, "Observation", "TREAT", {}, false,
             false, DecisionReason::kNoGrant, false},
        Case{"unknown purpose", kMember, Action::kRead, "Patient", "CURIOSITY", {}, false, false,
             DecisionReason::kUnknownPurpose, false},
        Case{"empty purpose", kMember, Action::kRead, "Patient", "", {}, false, false, DecisionReason::kUnknownPurpose,
             false},
        Case{"lowercase purpose is unknown", kMember, Action::kRead, "Patient", "treat", {}, false, false,
             DecisionReason::kUnknownPurpose, false},
        Case{"suspended org", org(OrganizationStatus::kSuspended, {Role::kMember}), Action::kRead, "Patient", "TREAT",
             {}, false, false, DecisionReason::kOrganizationNotActive, false},
        Case{"auditor role alone reads no patient data", org(OrganizationStatus::kActive, {Role::kAuditor}),
             Action::kRead, "Patient", "TREAT", {}, false, false, DecisionReason::kRoleNotAllowed, false},
        Case{"no roles", org(OrganizationStatus::kActive, {}), Action::kRead, "Patient", "TREAT", {}, false, false,
             DecisionReason::kRoleNotAllowed, false},
        Case{"opted out", kMember, Action::kRead, "Patient", "TREAT", kOptedOut, false, false,
             DecisionReason::kPatientOptedOut, false},
        Case{"opted out, ETREAT without break-glass config", kMember, Action::kRead, "Patient", "ETREAT", kOptedOut,
             false, false, DecisionReason::kPatientOptedOut, false},
        Case{"opted out, ETREAT with break-glass config", kMember, Action::kRead, "Patient", "ETREAT", kOptedOut, true,
             true, DecisionReason::kPermittedBreakGlass, true},
        Case{"opted out, TREAT with break-glass config", kMember, Action::kRead, "Patient", "TREAT", kOptedOut, true,
             false, DecisionReason::kPatientOptedOut, false},
        Case{"break-glass still needs an ETREAT grant", kMember, Action::kSearch, "Observation", "ETREAT", kOptedOut,
             true, false, DecisionReason::kNoGrant, false},
        Case{"denies this organization", kMember, Action::kRead, "Patient", "TREAT", kDeniesLakeside, false, false,
             DecisionReason::kPatientDeniedOrganization, false},
        Case{"denial is never overridden by ETREAT", kMember, Action::kRead, "Patient", "ETREAT", kOptedOutAndDenies,
             true, false, DecisionReason::kPatientDeniedOrganization, false},
        Case{"denial of another organization", kMember, Action::kRead, "Patient", "TREAT", kDeniesOther, false, true,
             DecisionReason::kPermitted, false},
        Case{"consent record without restrictions", kMember, Action::kRead, "Patient", "TREAT", PatientConsent{}, false,
             true, DecisionReason::kPermitted, false},
        Case{"ETREAT granted, no opt-out: not break-glass", kMember, Action::kRead, "Patient", "ETREAT", {}, true, true,
             DecisionReason::kPermitted, false}));

TEST(Policy, NoGrantsMeansDeny) {
  AccessQuestion q{&kMember, Action::kRead, "Patient", "TREAT", nullptr};
  EXPECT_FALSE(decide(q, nullptr, {}).permit);
  std::vector<Grant> none;
  q.grants = &none;
  EXPECT_EQ(decide(q, nullptr, {}).reason, DecisionReason::kNoGrant);
}

TEST(Policy, NoOrganizationMeansDeny) {
  AccessQuestion q{nullptr, Action::kRead, "Patient", "TREAT", &kGrants};
  EXPECT_FALSE(decide(q, nullptr, {true}).permit);
}

// --- writes (records write API) ---------------------------------------------------------

TEST(PolicyWrite, OnlyAnActiveLocalOrganizationWritesForAWritePurpose) {
  const auto& purposes = defaultWritePurposes();
  EXPECT_EQ(purposes, (std::set<std::string>{"HOPERAT", "PATADMIN", "RECORDMGT", "TREAT", "ETREAT"}));
  struct WriteCase {
    const char* name;
    Organization organization;
    std::string purpose;
    bool permit;
    DecisionReason reason;
  };
  const Organization local = org(OrganizationStatus::kActive, {Role::kLocal});
  const std::vector<WriteCase> cases = {
      {"local, TREAT", local, "TREAT", true, DecisionReason::kPermitted},
      {"local, every default write purpose", local, "RECORDMGT", true, DecisionReason::kPermitted},
      {"local and member", org(OrganizationStatus::kActive, {Role::kMember, Role::kLocal}), "PATADMIN", true,
       DecisionReason::kPermitted},
      {"member: reads, never writes", kMember, "TREAT", false, DecisionReason::kRoleNotAllowed},
      {"auditor", org(OrganizationStatus::kActive, {Role::kAuditor}), "HOPERAT", false, DecisionReason::kRoleNotAllowed},
      {"member and auditor", org(OrganizationStatus::kActive, {Role::kMember, Role::kAuditor}), "TREAT", false,
       DecisionReason::kRoleNotAllowed},
      {"no roles", org(OrganizationStatus::kActive, {}), "TREAT", false, DecisionReason::kRoleNotAllowed},
      {"suspended local", org(OrganizationStatus::kSuspended, {Role::kLocal}), "TREAT", false,
       DecisionReason::kOrganizationNotActive},
      {"unknown purpose", local, "CURIOSITY", false, DecisionReason::kUnknownPurpose},
      {"empty purpose", local, "", false, DecisionReason::kUnknownPurpose},
      {"lowercase purpose", local, "treat", false, DecisionReason::kUnknownPurpose},
      {"known purpose, not for writes", local, "PUBHLTH", false, DecisionReason::kPurposeNotForWrites},
      {"payment is not a write purpose", local, "HPAYMT", false, DecisionReason::kPurposeNotForWrites},
  };
  for (const auto& c : cases) {
    const AccessDecision d = decideWrite(&c.organization, c.purpose, purposes);
    EXPECT_EQ(d.permit, c.permit) << c.name;
    EXPECT_EQ(d.reason, c.reason) << c.name << ": " << decisionReasonName(d.reason);
    EXPECT_FALSE(d.breakGlass) << c.name;
  }
  for (const auto& p : purposes) EXPECT_TRUE(decideWrite(&local, p, purposes).permit) << p;
  EXPECT_EQ(decideWrite(nullptr, "TREAT", purposes).reason, DecisionReason::kOrganizationNotActive);
  EXPECT_STREQ(decisionReasonName(DecisionReason::kPurposeNotForWrites), "purpose_not_for_writes");
}

TEST(PolicyWrite, TheConfiguredPurposesDecide) {
  const Organization local = org(OrganizationStatus::kActive, {Role::kLocal});
  const std::set<std::string> onlyAdmin = {"PATADMIN"};
  EXPECT_TRUE(decideWrite(&local, "PATADMIN", onlyAdmin).permit);
  EXPECT_EQ(decideWrite(&local, "TREAT", onlyAdmin).reason, DecisionReason::kPurposeNotForWrites);
  EXPECT_EQ(decideWrite(&local, "PUBHLTH", {"PUBHLTH"}).reason, DecisionReason::kPermitted);
  EXPECT_EQ(decideWrite(&local, "TREAT", {}).reason, DecisionReason::kPurposeNotForWrites);
  // An unknown code in the set does not make it a purpose (config refuses such a set anyway).
  EXPECT_EQ(decideWrite(&local, "CURIOSITY", {"CURIOSITY"}).reason, DecisionReason::kUnknownPurpose);
  // The role decides before the purpose: a member learns nothing about the write purposes.
  EXPECT_EQ(decideWrite(&kMember, "CURIOSITY", onlyAdmin).reason, DecisionReason::kRoleNotAllowed);
}

}  // namespace
}  // namespace hie::auth
