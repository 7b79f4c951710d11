// hie-node pki init|issue|revoke|crl — a DEVELOPMENT certificate authority for
// demos and tests. NOT FOR PRODUCTION: keys sit unencrypted in one folder.
#include <algorithm>
#include <fstream>
#include <iostream>
#include <optional>
#include <set>
#include <sstream>

#include <sys/stat.h>

#include "app/command_support.h"
#include "app/commands.h"
#include "auth/identity/certificate_identity.h"
#include "common/file.h"
#include "auth/registry/organization.h"
#include "auth/tls/development_ca.h"
#include "auth/tls/tls_material.h"
#include "exchange/http/base_url.h"

namespace hie::app {
namespace {

const char* const kWarning =
    "hie-node pki: DEVELOPMENT CA — NOT FOR PRODUCTION (see docs/operations.md for using a real CA)\n";
const char* const kPkiUsage =
    "usage: hie-node pki init --dir DIR\n"
    "       hie-node pki issue --dir DIR --name NAME --org urn:oid:... [--profile node|client|server] "
    "[--uri URI]... [--dns NAME]... [--ip ADDR]... [--key ec|rsa] [--days N]\n"
    "       hie-node pki revoke --dir DIR NAME\n"
    "       hie-node pki crl --dir DIR [--days N]";

bool exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

// The development CA reports failures as values; this command turns them into
// its one runtime error (caught in runPki).
template <class T>
T orThrow(Result<T> result) {
  if (!result) throw std::runtime_error(result.error().external);
  return std::move(*result);
}

std::string read(const std::string& path) { return orThrow(readFile(path, "file")); }

// Key files 0600, everything else 0644.
void write(const std::string& dir, const std::string& name, const std::string& content) {
  const bool isKey = content.find("PRIVATE KEY") != std::string::npos;
  orThrow(writeFileWithMode(dir, name, content, isKey ? 0600 : 0644));
}

bool plainName(const std::string& name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.')) return false;
  }
  return name.front() != '.';
}

// RSA leaves (pki issue --key rsa): 3072 bits, NIST's size for security beyond 2030 (SP 800-57);
// RS256 signatures (UDAP's required algorithm) need an RSA key.
constexpr int kRsaBits = 3072;

// A SAN URI besides the organization's: why --uri is refused, or nullopt when it is fine. Either an
// https URL in the form of server.baseUrl (a plain host name or IP address, an optional port 1-65535, a
// path of letters, digits and - . _ ~ /: no user info, query, fragment, percent-escape or white space)
// without a trailing '/' or an empty, '.' or '..' segment — a UDAP server's FHIR base URL, which a
// client compares byte for byte with signed_metadata's iss; or a urn: URI (RFC 8141 urn:NID:NSS: NID of
// 2-32 letters, digits and '-', not beginning or ending with '-'; NSS of letters, digits, - . _ ~
// ! $ & ' ( ) * + , ; = : @ / and %XX escapes; no ?+, ?= or # component), and a urn:oid: one a
// well-formed OID as --org is. At most 512 bytes.
std::optional<std::string> sanUriProblem(const std::string& uri) {
  if (uri.empty() || uri.size() > 512) return std::string("must be 1-512 characters");
  for (char c : uri) {
    if (c <= ' ' || c > '~') return std::string("must be printable ASCII without spaces or control characters");
  }
  if (uri.rfind("https://", 0) == 0) {
    const std::string form =
        "an https URL must be https://HOST[:PORT][/PATH] as server.baseUrl is: a plain host name or IP address, a "
        "port 1-65535, a path of letters, digits and - . _ ~ / without a trailing '/' or an empty, '.' or '..' "
        "segment (no user info, query, fragment or %-escape)";
    if (!exchange::isPlainBaseUrl(uri)) return form;
    const std::size_t slash = uri.find('/', 8);
    if (slash != std::string::npos) {
      const std::string path = uri.substr(slash);
      std::size_t start = 1;
      while (start <= path.size()) {
        std::size_t end = path.find('/', start);
        if (end == std::string::npos) end = path.size();
        const std::string segment = path.substr(start, end - start);
        if (segment.empty() || segment == "." || segment == "..") return form;
        start = end + 1;
      }
    }
    return std::nullopt;
  }
  if (uri.rfind("urn:", 0) != 0) return std::string("must be an https:// URL or a urn: URI");
  const std::string form =
      "a urn: URI must be urn:NID:NSS (RFC 8141: NID 2-32 letters, digits or '-', not beginning or ending with "
      "'-'; NSS of letters, digits, - . _ ~ ! $ & ' ( ) * + , ; = : @ / and %XX escapes; no '?' or '#')";
  const std::size_t colon = uri.find(':', 4);
  if (colon == std::string::npos) return form;
  const std::string nid = uri.substr(4, colon - 4);
  const std::string nss = uri.substr(colon + 1);
  auto alnum = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; };
  if (nid.size() < 2 || nid.size() > 32 || !alnum(nid.front()) || !alnum(nid.back()) ||
      !std::all_of(nid.begin(), nid.end(), [&](char c) { return alnum(c) || c == '-'; })) {
    return form;
  }
  if (nss.empty()) return form;
  for (std::size_t k = 0; k < nss.size(); ++k) {
    const char c = nss[k];
    if (c == '%') {
      if (k + 2 >= nss.size() || !std::isxdigit(static_cast<unsigned char>(nss[k + 1])) ||
          !std::isxdigit(static_cast<unsigned char>(nss[k + 2]))) {
        return form;
      }
      k += 2;
      continue;
    }
    if (!(alnum(c) || std::string("-._~!$&'()*+,;=:@/").find(c) != std::string::npos)) return form;
  }
  std::string lowerNid = nid;
  std::transform(lowerNid.begin(), lowerNid.end(), lowerNid.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (lowerNid == "oid" && !auth::isValidOrganizationIdentifier(uri)) {
    return std::string("a urn:oid: URI must be urn:oid: and a well-formed OID (digits separated by single dots, "
                       "no leading zeros), in lower case as --org");
  }
  return std::nullopt;
}

auth::CertificateAuthority loadCa(const std::string& dir) {
  if (!exists(dir + "/intermediate.key")) throw std::runtime_error(dir + " holds no development CA; run `hie-node pki init --dir " + dir + "` first");
  return auth::CertificateAuthority{
      orThrow(auth::credentialFromPem(read(dir + "/root.crt"), read(dir + "/root.key"))),
      orThrow(auth::credentialFromPem(read(dir + "/intermediate.crt"), read(dir + "/intermediate.key")))};
}

int days(const ParsedArgs& args, int fallback, int& out) {
  out = fallback;
  if (!args.has("days")) return 0;
  const std::string d = args.value("days");
  if (d.empty() || d.size() > 5 || d.find_first_not_of("0123456789") != std::string::npos || std::stoi(d) < 1) {
    return usageError("--days must be a whole number of days, at least 1");
  }
  out = std::stoi(d);
  return 0;
}

int init(const ParsedArgs& args, const std::string& dir) {
  if (exists(dir + "/root.key")) return runtimeError(dir + " already holds a development CA; it is never overwritten");
  ::mkdir(dir.c_str(), 0700);
  (void)args;
  const auto ca = orThrow(auth::createCertificateAuthority(
      "hie-node development", "HIE Development Root CA (NOT FOR PRODUCTION)", 10L * 365 * 86400,
      "HIE Development Issuing CA (NOT FOR PRODUCTION)", 5L * 365 * 86400));
  write(dir, "root.key", orThrow(auth::privateKeyPem(ca.root.key.get())));
  write(dir, "root.crt", orThrow(auth::certificatePem(ca.root.cert.get())));
  write(dir, "intermediate.key", orThrow(auth::privateKeyPem(ca.intermediate.key.get())));
  write(dir, "intermediate.crt", orThrow(auth::certificatePem(ca.intermediate.cert.get())));
  write(dir, "network-ca.pem", orThrow(auth::certificatePem(ca.root.cert.get())));
  write(dir, "revoked.txt", "");
  write(dir, "DEVELOPMENT-ONLY.txt",
        "This folder is a development CA made by `hie-node pki init`.\n"
        "Its private keys are unencrypted. Never use it for a production network.\n");
  std::cout << "development CA in " << dir << ": root and issuing CA; trust bundle " << dir << "/network-ca.pem\n";
  return 0;
}

int issue(const ParsedArgs& args, const std::string& dir) {
  if (!args.has("name") || !args.has("org")) return usageError(kPkiUsage);
  const std::string name = args.value("name"), org = args.value("org");
  const std::string profile = args.has("profile") ? args.value("profile") : "node";
  if (!plainName(name)) return usageError("--name must be 1-64 of [A-Za-z0-9._-]");
  if (!auth::isValidOrganizationIdentifier(org)) return usageError("--org must be an organization identifier (urn:oid:...)");
  if (profile != "node" && profile != "client" && profile != "server") {
    return usageError("--profile must be node, client or server");
  }
  const std::string keyType = args.has("key") ? args.value("key") : "ec";
  if (keyType != "ec" && keyType != "rsa") return usageError("--key must be ec (EC P-256) or rsa (RSA-3072)");
  std::vector<std::string> uris{org};
  for (const auto& uri : args.values("uri")) {
    if (auto problem = sanUriProblem(uri)) {
      // Quoted only when printable: a control character is not echoed to the terminal.
      const bool printable = std::all_of(uri.begin(), uri.end(), [](char c) { return c >= ' ' && c <= '~'; });
      return usageError("--uri " + (printable && uri.size() <= 512 ? "'" + uri + "' " : std::string()) + "is refused: " +
                        *problem + "; nothing was written");
    }
    if (std::find(uris.begin(), uris.end(), uri) == uris.end()) uris.push_back(uri);
  }
  int validDays = 0;
  if (int rc = days(args, 365, validDays); rc != 0) return rc;
  if (exists(dir + "/" + name + ".crt")) return runtimeError(dir + "/" + name + ".crt already exists");
  auto ca = loadCa(dir);
  // A leaf never outlives its issuing CA.
  int caDaysLeft = 0, caSecondsLeft = 0;
  ASN1_TIME_diff(&caDaysLeft, &caSecondsLeft, nullptr, X509_get0_notAfter(ca.intermediate.cert.get()));
  if (validDays > caDaysLeft) {
    return runtimeError("--days " + std::to_string(validDays) + " would outlive the issuing CA (" +
                        std::to_string(caDaysLeft) + " days left)");
  }
  auth::CertificateProfile spec;
  spec.commonName = name;
  spec.sanUris = uris;
  spec.rsaBits = keyType == "rsa" ? kRsaBits : 0;
  spec.sanDns = args.values("dns");
  spec.sanIps = args.values("ip");
  spec.extendedKeyUsage = profile == "node"     ? std::vector<std::string>{"serverAuth", "clientAuth"}
                          : profile == "client" ? std::vector<std::string>{"clientAuth"}
                                                : std::vector<std::string>{"serverAuth"};
  spec.notAfterOffsetSeconds = static_cast<long>(validDays) * 86400;
  auto leaf = orThrow(auth::issueCertificate(spec, &ca.intermediate));
  write(dir, name + ".key", orThrow(auth::privateKeyPem(leaf.key.get())));
  write(dir, name + ".crt",
        orThrow(auth::certificatePem(leaf.cert.get())) + orThrow(auth::certificatePem(ca.intermediate.cert.get())));
  std::cout << "issued " << profile << " certificate " << dir << "/" << name << ".crt for " << org
            << " (sha256 " << orThrow(auth::certificateSha256(leaf.cert.get())) << ", " << validDays << " days, "
            << (keyType == "rsa" ? "RSA-3072" : "EC P-256") << " key)\n";
  for (std::size_t i = 1; i < uris.size(); ++i) std::cout << "  SAN URI " << uris[i] << "\n";
  return 0;
}

int revoke(const ParsedArgs& args, const std::string& dir) {
  if (args.positional.size() != 1) return usageError("usage: hie-node pki revoke --dir DIR NAME");
  const std::string name = args.positional.front();
  if (!plainName(name) || !exists(dir + "/" + name + ".crt")) return runtimeError("no certificate " + name + " in " + dir);
  loadCa(dir);
  auto cert = orThrow(auth::credentialFromPem(read(dir + "/" + name + ".crt"), ""));
  const auto identity = orThrow(auth::extractIdentity(cert.cert.get()));
  std::ofstream(dir + "/revoked.txt", std::ios::app) << name << "\n";
  std::cout << "revoked " << name << " (serial " << identity.serialHex << "); run `hie-node pki crl --dir " << dir
            << "` to publish it\n";
  return 0;
}

int crl(const ParsedArgs& args, const std::string& dir) {
  int validDays = 0;
  if (int rc = days(args, 7, validDays); rc != 0) return rc;
  auto ca = loadCa(dir);
  std::vector<auth::CaCredential> revoked;
  std::stringstream list(read(dir + "/revoked.txt"));
  std::string name;
  std::set<std::string> seen;
  while (std::getline(list, name)) {
    if (!name.empty() && seen.insert(name).second) {
      revoked.push_back(orThrow(auth::credentialFromPem(read(dir + "/" + name + ".crt"), "")));
    }
  }
  auth::CrlProfile intermediateCrl;
  for (const auto& r : revoked) intermediateCrl.revoked.push_back(r.cert.get());
  intermediateCrl.nextUpdateOffsetSeconds = static_cast<long>(validDays) * 86400;
  auth::CrlProfile rootCrl;
  rootCrl.nextUpdateOffsetSeconds = intermediateCrl.nextUpdateOffsetSeconds;
  // Both CRLs: with tls.crl set, the node checks the leaf and the issuing CA.
  write(dir, "network.crl.tmp",
        orThrow(auth::makeCrlPem(ca.root, rootCrl)) + orThrow(auth::makeCrlPem(ca.intermediate, intermediateCrl)));
  if (std::rename((dir + "/network.crl.tmp").c_str(), (dir + "/network.crl").c_str()) != 0) {
    return runtimeError("cannot write " + dir + "/network.crl");
  }
  std::cout << "wrote " << dir << "/network.crl (" << revoked.size() << " revoked, next update in " << validDays
            << " days)\n";
  return 0;
}

}  // namespace

int runPki(const Args& argv) {
  if (argv.empty()) return usageError(kPkiUsage);
  const std::string verb = argv.front();
  OptionSpec spec{{"dir"}, {}, {}};
  if (verb == "issue") spec = OptionSpec{{"dir", "name", "org", "profile", "dns", "ip", "uri", "key", "days"}, {"dns", "ip", "uri"}, {}};
  else if (verb == "crl") spec = OptionSpec{{"dir", "days"}, {}, {}};
  else if (verb != "init" && verb != "revoke") return usageError("unknown pki subcommand '" + verb + "'\n" + kPkiUsage);
  auto args = parseArgs(Args(argv.begin() + 1, argv.end()), spec);
  if (!args) return usageError(args.error().external);
  if (!args->has("dir")) return usageError(std::string("pki ") + verb + " needs --dir DIR");
  std::cerr << kWarning;
  try {
    const std::string dir = args->value("dir");
    if (verb == "init") return init(*args, dir);
    if (verb == "issue") return issue(*args, dir);
    if (verb == "revoke") return revoke(*args, dir);
    return crl(*args, dir);
  } catch (const std::exception& e) {
    return runtimeError(e.what());
  }
}

}  // namespace hie::app
