// grant add|list|revoke and consent set.
#include <iostream>
#include <sstream>

#include "app/command_support.h"
#include "app/commands.h"
#include "auth/registry/organization.h"
#include "auth/registry/registry_repository.h"
#include "common/purpose_of_use.h"
#include "exchange/fhir/fhir_request.h"
#include "exchange/handlers/record_api.h"

namespace hie::app {
namespace {

std::vector<std::string> splitList(const std::vector<std::string>& values) {
  std::vector<std::string> out;
  for (const auto& v : values) {
    std::stringstream in(v);
    std::string item;
    while (std::getline(in, item, ',')) out.push_back(item);
  }
  return out;
}


std::string join(const std::set<std::string>& items) {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : ",") + i;
  return out;
}

void printGrant(const auth::Grant& g) {
  std::set<std::string> actions;
  for (auto a : g.actions) actions.insert(auth::actionName(a));
  std::cout << g.id << "  " << g.organization << "  resources=" << join(g.resourceTypes)
            << "  actions=" << join(actions) << "  purposes=" << join(g.purposes) << "\n";
}

int grantAdd(const ParsedArgs& args, auth::RegistryRepository& repo) {
  if (!args.positional.empty()) return usageError("unexpected argument '" + args.positional.front() + "'");
  for (const char* required : {"org", "resource", "action", "purpose"}) {
    if (!args.has(required)) return usageError(std::string("grant add needs --") + required);
  }
  auth::Grant grant;
  grant.organization = args.value("org");
  if (!auth::isValidOrganizationIdentifier(grant.organization)) {
    return usageError("'" + grant.organization + "' is not an organization identifier (urn:oid:...)");
  }
  for (const auto& t : splitList(args.values("resource"))) {
    if (exchange::defaultResourceTypes().count(t) == 0) return usageError("unsupported resource type '" + t + "'");
    grant.resourceTypes.insert(t);
  }
  for (const auto& a : splitList(args.values("action"))) {
    auth::Action action;
    if (!auth::parseAction(a, action)) return usageError("unknown action '" + a + "'; actions are read, search");
    grant.actions.insert(action);
  }
  for (const auto& p : splitList(args.values("purpose"))) {
    if (!purpose::isKnown(p)) {
      return usageError("'" + p + "' is not an HL7 v3 PurposeOfUse code this node knows (e.g. TREAT, ETREAT)");
    }
    grant.purposes.insert(p);
  }
  auto stored = repo.addGrant(grant);
  if (!stored) return commandError(stored.error());
  std::cout << "added grant ";
  printGrant(*stored);
  return 0;
}

int grantList(const ParsedArgs& args, auth::RegistryRepository& repo) {
  if (!args.positional.empty()) return usageError("grant list takes no arguments");
  const std::string org = args.value("org");
  if (args.has("org") && !auth::isValidOrganizationIdentifier(org)) {
    return usageError("'" + org + "' is not an organization identifier (urn:oid:...)");
  }
  auto grants = repo.listGrants(org);
  if (!grants) return commandError(grants.error());
  for (const auto& g : *grants) printGrant(g);
  if (grants->empty()) std::cout << "no active grants\n";
  return 0;
}

int grantRevoke(const ParsedArgs& args, auth::RegistryRepository& repo) {
  if (args.positional.size() != 1) return usageError("usage: hie-node grant revoke GRANT_ID");
  const std::string& id = args.positional.front();
  if (id.empty() || id.size() > 18 || id.find_first_not_of("0123456789") != std::string::npos) {
    return usageError("'" + id + "' is not a grant id (a number from `hie-node grant list`)");
  }
  auto revoked = repo.revokeGrant(std::stoll(id));
  if (!revoked) return commandError(revoked.error());
  std::cout << "revoked grant " << id << "\n";
  return 0;
}

}  // namespace

int runGrant(const Args& argv) {
  const char* usage = "usage: hie-node grant add --org ID --resource TYPE[,TYPE] --action read[,search] "
                      "--purpose CODE[,CODE] | grant list [--org ID] | grant revoke GRANT_ID";
  if (argv.empty()) return usageError(usage);
  const std::string verb = argv.front();
  OptionSpec spec;
  if (verb == "add") spec = OptionSpec{{"org", "resource", "action", "purpose"}, {"resource", "action", "purpose"}, {}};
  else if (verb == "list") spec = OptionSpec{{"org"}, {}, {}};
  else if (verb != "revoke") return usageError("unknown grant subcommand '" + verb + "'\n" + usage);
  auto args = parseArgs(Args(argv.begin() + 1, argv.end()), spec);
  if (!args) return usageError(args.error().external);
  auto uri = runtimeDatabaseUri(*args);
  if (!uri) return runtimeError(uri.error().external);
  auth::RegistryRepository repo(*uri);
  if (verb == "add") return grantAdd(*args, repo);
  if (verb == "list") return grantList(*args, repo);
  return grantRevoke(*args, repo);
}

int runConsent(const Args& argv) {
  const char* usage = "usage: hie-node consent set --patient PATIENT_ID (--opt-out | --deny-org ID | --clear)";
  if (argv.empty() || argv.front() != "set") return usageError(usage);
  auto args = parseArgs(Args(argv.begin() + 1, argv.end()), OptionSpec{{"patient", "deny-org"}, {}, {"opt-out", "clear"}});
  if (!args) return usageError(args.error().external);
  if (!args->positional.empty()) return usageError(usage);
  if (!args->has("patient")) return usageError("consent set needs --patient");
  const std::string patient = args->value("patient");
  if (!exchange::isValidFhirId(patient)) return usageError("'" + patient + "' is not a FHIR patient id");
  const int choices = (args->has("opt-out") ? 1 : 0) + (args->has("deny-org") ? 1 : 0) + (args->has("clear") ? 1 : 0);
  if (choices != 1) return usageError("consent set takes exactly one of --opt-out, --deny-org ID, --clear");
  auto uri = runtimeDatabaseUri(*args);
  if (!uri) return runtimeError(uri.error().external);
  auth::RegistryRepository repo(*uri);
  auto exists = repo.patientExists(patient);
  if (!exists) return commandError(exists.error());
  Result<bool> changed = false;
  std::string what;
  if (args->has("opt-out")) {
    changed = repo.optOut(patient);
    what = "opted out of exchange";
  } else if (args->has("deny-org")) {
    const std::string org = args->value("deny-org");
    if (!auth::isValidOrganizationIdentifier(org)) {
      return usageError("'" + org + "' is not an organization identifier (urn:oid:...)");
    }
    changed = repo.denyOrganization(patient, org);
    what = "denies " + org;
  } else {
    changed = repo.clearConsent(patient);
    what = "has no consent restrictions";
  }
  if (!changed) return commandError(changed.error());
  std::cout << "patient " << patient << " " << what << (*changed ? "" : " (unchanged)")
            << (*exists ? "" : " -- note: no records for this patient are stored yet") << "\n";
  return 0;
}

}  // namespace hie::app
