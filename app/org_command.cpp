#include <iomanip>
#include <iostream>
#include <optional>

#include "app/command_support.h"
#include "app/commands.h"
#include "common/file.h"
#include "auth/identity/certificate_identity.h"
#include "auth/registry/registry_repository.h"
#include "auth/tls/tls_material.h"

namespace hie::app {
namespace {

const char* const kOrgUsage =
    "usage: hie-node org add --identifier urn:oid:... --name NAME [--role member|auditor|local]... [--pin-cert FILE]\n"
    "                        [--signatures require|verify-if-present|off]\n"
    "       hie-node org list | suspend ID | reactivate ID | pin-cert ID FILE\n"
    "       hie-node org signatures ID require|verify-if-present|off|default";

std::string policyError(const std::string& value) {
  return "unknown signature policy '" + value + "'; policies are require, verify-if-present, off";
}


// The identity of the single certificate in a PEM file, or an error naming the file.
Result<auth::PeerIdentity> certificateFromFile(const std::string& path) {
  auto text = readFile(path, "certificate file");
  if (!text) return tl::make_unexpected(Error{ErrorCode::kUnavailable, text.error().internal, text.error().external});
  auto cert = auth::parseCertificatePem(*text);
  if (!cert) {
    const std::string msg = "certificate file " + path + ": " + cert.error().external;
    return fail(ErrorCode::kUnavailable, msg);
  }
  auto id = auth::extractIdentity(cert->get());
  if (!id) return fail(ErrorCode::kUnavailable, "certificate file " + path + ": " + id.error().external);
  return id;
}

bool validIdentifierArg(const std::string& id) { return auth::isValidOrganizationIdentifier(id); }

std::string identifierError(const std::string& id) {
  return "'" + id + "' is not an organization identifier; expected urn:oid: followed by a dotted OID, e.g. "
         "urn:oid:2.16.840.1.113883.3.7001";
}

Result<std::string> checkName(const std::string& name) {
  if (name.empty() || name.size() > 200) return fail(ErrorCode::kInvalidInput, "--name must be 1 to 200 characters");
  for (unsigned char c : name) {
    if (c < 0x20 || c == 0x7f) return fail(ErrorCode::kInvalidInput, "--name must not contain control characters");
  }
  return name;
}

int add(const ParsedArgs& args, auth::RegistryRepository& repo) {
  if (!args.positional.empty()) return usageError("unexpected argument '" + args.positional.front() + "'");
  if (!args.has("identifier")) return usageError("org add needs --identifier");
  if (!args.has("name")) return usageError("org add needs --name");
  auth::Organization org;
  org.identifier = args.value("identifier");
  if (!validIdentifierArg(org.identifier)) return usageError(identifierError(org.identifier));
  auto name = checkName(args.value("name"));
  if (!name) return usageError(name.error().external);
  org.name = *name;
  for (const auto& r : args.values("role")) {
    auth::Role role;
    if (!auth::parseRole(r, role)) return usageError("unknown role '" + r + "'; roles are member, auditor, local");
    if (!org.hasRole(role)) org.roles.push_back(role);
  }
  if (org.roles.empty()) org.roles.push_back(auth::Role::kMember);
  if (args.has("signatures")) {
    org.signaturePolicy = auth::parseSignaturePolicy(args.value("signatures"));
    if (!org.signaturePolicy) return usageError(policyError(args.value("signatures")));
  }
  std::optional<auth::PeerIdentity> pin;
  if (args.has("pin-cert")) {
    auto cert = certificateFromFile(args.value("pin-cert"));
    if (!cert) return runtimeError(cert.error().external);
    pin = *cert;
  }
  auto stored = repo.add(org, pin);
  if (!stored) return commandError(stored.error());
  std::cout << "added organization " << stored->identifier << " (" << stored->name << ")";
  if (pin) std::cout << " with pinned certificate sha256 " << pin->certSha256;
  std::cout << "\n";
  return 0;
}

int list(const ParsedArgs& args, auth::RegistryRepository& repo) {
  if (!args.positional.empty()) return usageError("org list takes no arguments");
  auto snapshot = repo.loadAll();
  if (!snapshot) return commandError(snapshot.error());
  const auto* all = &snapshot->organizations;
  std::cout << std::left << std::setw(44) << "IDENTIFIER" << std::setw(11) << "STATUS" << std::setw(22) << "ROLES"
            << std::setw(6) << "PINS" << std::setw(19) << "SIGNATURES" << "NAME\n";
  for (const auto& org : *all) {
    std::string roles;
    for (auto r : org.roles) roles += (roles.empty() ? "" : ",") + std::string(auth::roleName(r));
    std::cout << std::left << std::setw(44) << org.identifier << std::setw(11) << auth::statusName(org.status)
              << std::setw(22) << roles << std::setw(6) << org.pinnedSha256.size() << std::setw(19)
              << (org.signaturePolicy ? auth::signaturePolicyName(*org.signaturePolicy) : "default") << org.name
              << "\n";
    for (const auto& pin : org.pinnedSha256) std::cout << "    pinned sha256 " << pin << "\n";
  }
  return 0;
}

int setStatus(const ParsedArgs& args, auth::RegistryRepository& repo, auth::OrganizationStatus status) {
  if (args.positional.size() != 1) return usageError("expected exactly one organization identifier");
  const std::string& id = args.positional.front();
  if (!validIdentifierArg(id)) return usageError(identifierError(id));
  auto changed = repo.setStatus(id, status);
  if (!changed) return commandError(changed.error());
  std::cout << "organization " << id << (*changed ? " is now " : " was already ") << auth::statusName(status) << "\n";
  return 0;
}

int pinCert(const ParsedArgs& args, auth::RegistryRepository& repo) {
  if (args.positional.size() != 2) return usageError("usage: hie-node org pin-cert ID FILE");
  const std::string& id = args.positional[0];
  if (!validIdentifierArg(id)) return usageError(identifierError(id));
  auto cert = certificateFromFile(args.positional[1]);
  if (!cert) return runtimeError(cert.error().external);
  auto pinned = repo.pin(id, *cert);
  if (!pinned) return commandError(pinned.error());
  std::cout << "certificate sha256 " << cert->certSha256 << (*pinned ? " pinned to " : " was already pinned to ") << id
            << "\n";
  return 0;
}

// org signatures ID POLICY: the organization's own policy for signed requests and answers, or
// "default" to follow the node's settings (signatures.requests, signatures.answers).
int setSignatures(const ParsedArgs& args, auth::RegistryRepository& repo) {
  if (args.positional.size() != 2) {
    return usageError("usage: hie-node org signatures ID require|verify-if-present|off|default");
  }
  const std::string& id = args.positional[0];
  if (!validIdentifierArg(id)) return usageError(identifierError(id));
  const std::string& value = args.positional[1];
  std::optional<auth::SignaturePolicy> policy;
  if (value != "default") {
    policy = auth::parseSignaturePolicy(value);
    if (!policy) return usageError(policyError(value) + ", default");
  }
  auto changed = repo.setSignaturePolicy(id, policy);
  if (!changed) return commandError(changed.error());
  const std::string shown = policy ? auth::signaturePolicyName(*policy) : "the node's default";
  std::cout << "signature policy of " << id << (*changed ? " is now " : " was already ") << shown << "\n";
  return 0;
}

}  // namespace

int runOrg(const Args& argv) {
  if (argv.empty()) return usageError(std::string("org needs a subcommand\n") + kOrgUsage);
  const std::string verb = argv.front();
  const Args rest(argv.begin() + 1, argv.end());
  OptionSpec spec;
  if (verb == "add") spec = OptionSpec{{"identifier", "name", "role", "pin-cert", "signatures"}, {"role"}, {}};
  else if (verb != "list" && verb != "suspend" && verb != "reactivate" && verb != "pin-cert" &&
           verb != "signatures") {
    return usageError("unknown org subcommand '" + verb + "'\n" + kOrgUsage);
  }
  auto args = parseArgs(rest, spec);
  if (!args) return usageError(args.error().external);
  auto uri = runtimeDatabaseUri(*args);
  if (!uri) return runtimeError(uri.error().external);
  auth::RegistryRepository repo(*uri);
  if (verb == "add") return add(*args, repo);
  if (verb == "list") return list(*args, repo);
  if (verb == "suspend") return setStatus(*args, repo, auth::OrganizationStatus::kSuspended);
  if (verb == "reactivate") return setStatus(*args, repo, auth::OrganizationStatus::kActive);
  if (verb == "signatures") return setSignatures(*args, repo);
  return pinCert(*args, repo);
}

}  // namespace hie::app
