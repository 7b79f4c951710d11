#include "exchange/peers/udap_peer_fanout.h"

#include <Poco/Dynamic/Var.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/URI.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <condition_variable>
#include <ctime>
#include <set>

#include <strings.h>

#include "auth/identity/certificate_identity.h"
#include "auth/identity/identity_mapping.h"
#include "auth/tls/client_standing.h"
#include "auth/udap/jws.h"
#include "auth/udap/jws_crypto.h"
#include "common/json_writer.h"
#include "common/purpose_of_use.h"
#include "exchange/http/base_url.h"
#include "exchange/http/request_id.h"
#include "exchange/peers/peer_url.h"

namespace hie::exchange {

struct UdapPeerFanout::PeerState {
  PeerState(std::string baseUrl, std::int64_t since) : entryBaseUrl(std::move(baseUrl)), entrySince(since) {}
  bool isFor(const auth::PeerEntry& peer) const { return peer.baseUrl == entryBaseUrl && peer.since == entrySince; }
  // The directory entry everything below belongs to (constant).
  const std::string entryBaseUrl;
  const std::int64_t entrySince;
  // Single flight: busy is true while one call discovers, registers or gets a token for this peer; the
  // others wait on freed until it ends or their deadline passes. A flag under a plain mutex and a
  // condition variable rather than std::timed_mutex: glibc's pthread_mutex_clocklock, which
  // try_lock_until uses, is not seen by ThreadSanitizer (it then reports the unlock as of an unlocked
  // mutex), and no lock is held across the peer's I/O.
  std::mutex gate;
  std::condition_variable freed;
  bool busy = false;
  std::optional<Metadata> metadata;
  std::string clientId;              // this node's client_id at the peer ("" = not known yet)
  std::string clientEndpoint;        // the registration endpoint clientId belongs to
  std::map<std::string, Token> tokens;  // by purpose of use code
  std::string knownClientId;  // guarded by gate: clientId as the last acquisition left it (for authFor)
  // After a refused registration: no registration (and no call) before registerNotBefore (wall-clock
  // seconds); registerBackoff is the wait that set it (0 = none), doubled by each refusal in a row.
  std::int64_t registerNotBefore = 0;
  std::int64_t registerBackoff = 0;
};

struct UdapPeerFanout::Call {
  const auth::PeerEntry& peer;
  std::string requestId;
  std::chrono::steady_clock::time_point deadline;
  bool registered = false;  // this call registered once already: it never registers twice
  const void* state = nullptr;  // the PeerState of the entry this call is for (set by token())
};

namespace {

constexpr std::int64_t kMaxMetadataLifetime = 365LL * 86400;  // discovery.md 2.3: exp - iat <= 1 year
constexpr std::int64_t kClockSkew = 60;
constexpr std::int64_t kJwtLifetime = 300;  // software statement and client assertion: exp - iat
constexpr const char* kWellKnown = "/fhir/.well-known/udap";
constexpr const char* kPurposeSystem = "urn:oid:2.16.840.1.113883.5.8#";
constexpr std::int64_t kFirstRegistrationBackoff = 30;  // seconds after the first refused registration
constexpr std::int64_t kMaxRegistrationBackoff = 600;   // doubling up to this

std::string utcTime(std::int64_t seconds) {
  const std::time_t t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

using Poco::JSON::Array;
using Poco::JSON::Object;

tl::unexpected<PeerFailure> failure(const std::string& reason, const std::string& detail,
                                    const std::string& clientId = "") {
  PeerFailure f;
  f.reason = reason;
  f.detail = detail;
  f.auth = PeerCallAuth{"mtls+udap", clientId};
  return tl::make_unexpected(std::move(f));
}

std::string headerValue(const HeaderList& headers, const std::string& name) {
  for (const auto& [n, v] : headers) {
    if (n.size() == name.size() && std::equal(n.begin(), n.end(), name.begin(), [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
        })) {
      return v;
    }
  }
  return "";
}

// The JSON object text parsed, or null when it is not one (Poco throws on malformed text).
Object::Ptr parseObject(const std::string& text) {
  try {
    Poco::JSON::Parser parser;
    Poco::Dynamic::Var v = parser.parse(text);
    if (v.type() != typeid(Object::Ptr)) return nullptr;
    return v.extract<Object::Ptr>();
  } catch (const std::exception&) {
    return nullptr;
  }
}

std::optional<std::string> stringMember(const Object::Ptr& o, const std::string& key) {
  if (!o || !o->has(key)) return std::nullopt;
  Poco::Dynamic::Var v = o->get(key);
  if (!v.isString()) return std::nullopt;
  return v.extract<std::string>();
}

std::optional<std::int64_t> integerMember(const Object::Ptr& o, const std::string& key) {
  if (!o || !o->has(key)) return std::nullopt;
  Poco::Dynamic::Var v = o->get(key);
  if (!v.isInteger()) return std::nullopt;
  try {
    return v.convert<std::int64_t>();
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

// The strings of an array member (non-strings skipped); empty when absent.
std::set<std::string> stringSet(const Object::Ptr& o, const std::string& key) {
  std::set<std::string> out;
  if (!o || !o->has(key)) return out;
  Array::Ptr a = o->getArray(key);
  if (!a) return out;
  for (std::size_t i = 0; i < a->size(); ++i) {
    Poco::Dynamic::Var v = a->get(static_cast<unsigned>(i));
    if (v.isString()) out.insert(v.extract<std::string>());
  }
  return out;
}

// The path (below the peer's directory URL) of an endpoint the peer's signed metadata names, or nullopt
// when it is not one this node posts to: https, the directory URL's host (case-insensitive) and port,
// a path under its path, of letters, digits and - . _ ~ / alone (no '%', '?', '#', user info or white
// space), without an empty, '.' or '..' segment. This node never follows metadata to another server.
std::optional<std::string> endpointPath(const std::string& baseUrl, const std::string& endpoint) {
  if (!isPlainBaseUrl(endpoint)) return std::nullopt;
  auto base = parsePeerUrl(baseUrl);
  auto target = parsePeerUrl(endpoint);
  if (!base || !target) return std::nullopt;
  if (strcasecmp(base->host.c_str(), target->host.c_str()) != 0 || base->port != target->port) return std::nullopt;
  const std::string rest = endpoint.substr(std::string("https://").size());
  const std::size_t slash = rest.find('/');
  if (slash == std::string::npos) return std::nullopt;
  const std::string path = rest.substr(slash);
  const std::string prefix = base->pathPrefix + "/";
  if (path.size() <= prefix.size() || path.compare(0, prefix.size(), prefix) != 0) return std::nullopt;
  std::size_t start = 1;
  while (start <= path.size()) {
    std::size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    const std::string segment = path.substr(start, end - start);
    if (segment.empty() || segment == "." || segment == "..") return std::nullopt;
    start = end + 1;
  }
  return path.substr(base->pathPrefix.size());
}

// A client_id this node keeps (udap_peer_registrations), logs, audits and sends as a JWT's iss and sub:
// 1-256 printable ASCII characters, no space (0x21-0x7E). RFC 7591 leaves its form to the server.
bool isValidClientId(const std::string& id) {
  return !id.empty() && id.size() <= 256 &&
         std::all_of(id.begin(), id.end(), [](char c) { return c >= 0x21 && c <= 0x7e; });
}

std::string formEncode(const std::string& value) {
  std::string out;
  Poco::URI::encode(value, "!#$&'()*+,/:;=?@[]% ", out);
  return out;
}

// The peer's OAuth error code from an error answer, "" when it gave none.
std::string oauthErrorOf(const PeerResponse& r) {
  auto code = stringMember(parseObject(r.body), "error");
  if (!code || code->size() > 64) return "";
  for (char c : *code) {
    if (!(std::islower(static_cast<unsigned char>(c)) || c == '_')) return "";
  }
  return *code;
}

std::string refusalDetail(const std::string& step, const PeerResponse& r, const std::string& code) {
  return step + " answered HTTP " + std::to_string(r.status) + (code.empty() ? "" : " " + code);
}

}  // namespace

UdapPeerFanout::UdapPeerFanout(PeerFanout& inner, PeerPoster& poster, UdapRegistrationStore& registrations,
                               const auth::ChainVerifier& chains, const auth::OrganizationDirectory& directory,
                               const UdapJwtSigner& signer, UdapClientOptions options,
                               std::function<std::int64_t()> now)
    : inner_(inner),
      poster_(poster),
      registrations_(registrations),
      chains_(chains),
      directory_(directory),
      signer_(signer),
      options_(std::move(options)),
      now_(now ? std::move(now) : [] { return static_cast<std::int64_t>(std::time(nullptr)); }) {}

UdapPeerFanout::~UdapPeerFanout() = default;

bool UdapPeerFanout::submit(std::chrono::steady_clock::time_point deadline, std::function<void()> call) {
  return inner_.submit(deadline, std::move(call));
}

std::shared_ptr<UdapPeerFanout::PeerState> UdapPeerFanout::stateFor(const auth::PeerEntry& peer) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto& state = peers_[peer.organization];
  // Nothing cached for an older entry is used for this one: a call still in flight on the old state
  // keeps its shared_ptr and ends there.
  if (!state || !state->isFor(peer)) state = std::make_shared<PeerState>(peer.baseUrl, peer.since);
  return state;
}

bool UdapPeerFanout::isCurrent(const Call& call) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = peers_.find(call.peer.organization);
  return it != peers_.end() && it->second.get() == call.state;
}

void UdapPeerFanout::forgetStoredRegistration(const Call& call) {
  if (!isCurrent(call)) {
    spdlog::info("udap: the directory entry of {} changed during this call; its stored registration is left "
                 "to the new entry (request {})", call.peer.organization, call.requestId);
  } else if (auto forgot = registrations_.forget(call.peer.organization); !forgot) {
    spdlog::warn("udap: cannot forget the registration at {}: {}", call.peer.organization, forgot.error().internal);
  }
}

PeerCallAuth UdapPeerFanout::authFor(const auth::PeerEntry& peer) const {
  if (peer.auth != "udap") return inner_.authFor(peer);
  std::shared_ptr<PeerState> state;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = peers_.find(peer.organization);
    if (it != peers_.end()) state = it->second;
  }
  if (!state || !state->isFor(peer)) return PeerCallAuth{"mtls+udap", ""};
  std::lock_guard<std::mutex> gate(state->gate);
  return PeerCallAuth{"mtls+udap", state->knownClientId};
}

tl::expected<PeerResponse, PeerFailure> UdapPeerFanout::get(const auth::PeerEntry& peer,
                                                            const std::string& pathAndQuery,
                                                            const HeaderList& headers,
                                                            std::chrono::steady_clock::time_point deadline) {
  if (peer.auth != "udap") {
    // The entry is (now) auth=mtls: what was cached for it as a UDAP peer goes.
    {
      std::lock_guard<std::mutex> lock(mutex_);
      peers_.erase(peer.organization);
    }
    return inner_.get(peer, pathAndQuery, headers, deadline);
  }
  if (options_.contact.empty()) {
    spdlog::error("udap: the peer {} is auth=udap but udap.contact is not set; the call is not made",
                  peer.organization);
    return failure("udap_not_configured", "this node has no udap.contact to register at a UDAP peer with");
  }
  const std::string purpose = headerValue(headers, "X-Purpose-Of-Use");
  if (!purpose::isKnown(purpose)) {
    return failure("udap_token_refused", "the call has no known purpose of use for the hl7-b2b extension");
  }
  Call call{peer, headerValue(headers, "X-Request-Id"), deadline};
  std::string stale;
  for (int attempt = 0;; ++attempt) {
    auto granted = token(call, purpose, stale);
    if (!granted) {
      // No token: the entry still names this node's client_id at the peer when one is known.
      if (granted.error().auth.clientId.empty()) granted.error().auth = authFor(peer);
      return tl::make_unexpected(std::move(granted.error()));
    }
    HeaderList withToken = headers;
    withToken.emplace_back("Authorization", "Bearer " + granted->accessToken);
    auto answer = inner_.get(peer, pathAndQuery, withToken, deadline);
    const PeerCallAuth used{"mtls+udap", granted->clientId};
    if (answer && answer->status == 401 && attempt == 0 && std::chrono::steady_clock::now() < deadline) {
      spdlog::info("udap: {} refused this node's access token (401); one more call with a new token (request {})",
                   peer.organization, call.requestId);
      stale = granted->accessToken;
      continue;
    }
    if (answer) answer->auth = used;
    else answer.error().auth = used;
    return answer;
  }
}

tl::expected<UdapPeerFanout::Token, PeerFailure> UdapPeerFanout::token(Call& call, const std::string& purpose,
                                                                       const std::string& stale) {
  auto state = stateFor(call.peer);
  call.state = state.get();
  {
    std::unique_lock<std::mutex> gate(state->gate);
    if (!state->freed.wait_until(gate, call.deadline, [&] { return !state->busy; })) {
      return failure("timeout", "another call's UDAP token request to the peer did not end before the deadline");
    }
    state->busy = true;
  }
  struct EndFlight {
    PeerState& state;
    ~EndFlight() {
      {
        std::lock_guard<std::mutex> gate(state.gate);
        state.busy = false;
        state.knownClientId = state.clientId;
      }
      state.freed.notify_all();
    }
  } endFlight{*state};
  // In flight: state is this thread's until the end.
  const auto steadyNow = std::chrono::steady_clock::now();
  if (state->metadata && state->metadata->expires <= now_()) {
    state->metadata.reset();
    state->tokens.clear();
  }
  if (auto it = state->tokens.find(purpose); it != state->tokens.end()) {
    if (state->metadata && it->second.accessToken != stale && it->second.dropAt > steadyNow &&
        it->second.clientId == state->clientId) {
      return it->second;
    }
    state->tokens.erase(it);
  }
  // A registration the peer refused lately: fail at once until the backoff has passed (a wall clock
  // set back by more than the backoff ends it).
  {
    const std::int64_t now = now_();
    if (now < state->registerNotBefore && state->registerNotBefore - now <= state->registerBackoff) {
      return failure("udap_registration_refused",
                     "the peer refused this node's last registration; the next attempt is allowed at " +
                         utcTime(state->registerNotBefore) + " (in " + std::to_string(state->registerNotBefore - now) +
                         " s)");
    }
  }
  if (!state->metadata) {
    auto discovered = discover(call);
    if (!discovered) return tl::make_unexpected(std::move(discovered.error()));
    state->metadata = std::move(*discovered);
  }
  const Metadata metadata = *state->metadata;
  // Any refusal below: the next call discovers anew (the peer may have changed its endpoints).
  auto forgetMetadata = [&] {
    state->metadata.reset();
    state->tokens.clear();
  };
  // A refused registration: no client, and the next registration waits (30 s, doubling to 10 min).
  auto backOff = [&](PeerFailure refused) {
    forgetMetadata();
    state->clientId.clear();
    state->clientEndpoint.clear();
    state->registerBackoff = state->registerBackoff == 0
                                 ? kFirstRegistrationBackoff
                                 : std::min(2 * state->registerBackoff, kMaxRegistrationBackoff);
    state->registerNotBefore = now_() + state->registerBackoff;
    refused.detail += "; the next registration attempt is allowed at " + utcTime(state->registerNotBefore) + " (in " +
                      std::to_string(state->registerBackoff) + " s)";
    spdlog::warn("udap: no registration at {} before {} (request {})", call.peer.organization,
                 utcTime(state->registerNotBefore), call.requestId);
    return tl::make_unexpected(std::move(refused));
  };
  // At most one registration per call.
  auto registerOnce = [&]() -> tl::expected<std::string, PeerFailure> {
    if (call.registered) {
      return failure("udap_registration_refused", "this node registered at the peer once in this call already");
    }
    call.registered = true;
    auto registered = registerClient(call, metadata);
    if (!registered) {
      if (registered.error().reason == "udap_registration_refused") return backOff(std::move(registered.error()));
      forgetMetadata();
      return registered;
    }
    return registered;  // the backoff ends only with a token: a peer may accept registrations and refuse the client
  };
  if (state->clientId.empty() || state->clientEndpoint != metadata.registrationEndpoint) {
    state->clientId.clear();
    auto stored = registrations_.find(call.peer.organization);
    if (!stored) {
      spdlog::error("udap: cannot read this node's registration at {}: {}", call.peer.organization,
                    stored.error().internal);
      return failure("internal", "this node's UDAP registrations cannot be read");
    }
    if (*stored && (*stored)->registrationEndpoint == metadata.registrationEndpoint &&
        isValidClientId((*stored)->clientId)) {
      state->clientId = (*stored)->clientId;
    } else {
      auto registered = registerOnce();
      if (!registered) return tl::make_unexpected(std::move(registered.error()));
      state->clientId = *registered;
    }
    state->clientEndpoint = metadata.registrationEndpoint;
  }
  std::string oauthError;
  auto answer = requestToken(call, metadata, state->clientId, purpose, oauthError);
  if (!answer && oauthError == "invalid_client") {
    forgetStoredRegistration(call);
    if (call.registered) {
      // The peer does not know the client it registered in this very call: as good as a refused
      // registration, and not registered a second time.
      spdlog::warn("udap: {} answered invalid_client for client {}, registered in this call (request {})",
                   call.peer.organization, state->clientId, call.requestId);
      return backOff(std::move(answer.error()));
    }
    // The peer no longer knows this client (cancelled, or its registrations lost): register once more.
    spdlog::info("udap: {} answered invalid_client for client {}; registering again (request {})",
                 call.peer.organization, state->clientId, call.requestId);
    state->clientId.clear();
    auto registered = registerOnce();
    if (!registered) return tl::make_unexpected(std::move(registered.error()));
    state->clientId = *registered;
    oauthError.clear();
    answer = requestToken(call, metadata, state->clientId, purpose, oauthError);
    if (!answer && oauthError == "invalid_client") {
      forgetStoredRegistration(call);
      return backOff(std::move(answer.error()));
    }
  }
  if (!answer) {
    forgetMetadata();
    return tl::make_unexpected(std::move(answer.error()));
  }
  state->registerBackoff = 0;
  state->registerNotBefore = 0;
  const auto lifetime = std::chrono::seconds(answer->second) - options_.tokenMargin;
  Token granted{answer->first, state->clientId,
                std::chrono::steady_clock::now() + std::max(lifetime, std::chrono::seconds(0))};
  state->tokens[purpose] = granted;
  return granted;
}

tl::expected<UdapPeerFanout::Metadata, PeerFailure> UdapPeerFanout::discover(const Call& call) {
  const auth::PeerEntry& peer = call.peer;
  auto invalid = [&](const std::string& detail) {
    spdlog::warn("udap: the metadata of {} at {}{} is refused: {} (request {})", peer.organization, peer.baseUrl,
                 kWellKnown, detail, call.requestId);
    return failure("udap_metadata_invalid", detail);
  };
  auto answer = inner_.get(peer, kWellKnown, HeaderList{{"X-Request-Id", call.requestId}}, call.deadline);
  if (!answer) {
    PeerFailure f = std::move(answer.error());
    f.auth = PeerCallAuth{"mtls+udap", ""};
    return tl::make_unexpected(std::move(f));
  }
  if (answer->status != 200) return invalid("discovery answered HTTP " + std::to_string(answer->status));
  Object::Ptr document = parseObject(answer->body);
  if (!document) return invalid("the metadata is not a JSON object");
  if (stringSet(document, "udap_versions_supported").count("1") == 0) return invalid("udap version 1 is not supported");
  const auto profiles = stringSet(document, "udap_profiles_supported");
  for (const char* p : {"udap_dcr", "udap_authn", "udap_authz"}) {
    if (profiles.count(p) == 0) return invalid(std::string("the profile ") + p + " is not supported");
  }
  if (stringSet(document, "udap_authorization_extensions_supported").count("hl7-b2b") == 0) {
    return invalid("the hl7-b2b authorization extension is not supported");
  }
  if (stringSet(document, "grant_types_supported").count("client_credentials") == 0) {
    return invalid("the client_credentials grant is not supported");
  }
  if (stringSet(document, "token_endpoint_auth_methods_supported").count("private_key_jwt") == 0) {
    return invalid("private_key_jwt is not supported");
  }
  const std::string algorithm = signer_.algorithm();
  if (algorithm.empty()) return failure("udap_signing_failed", "this node's TLS key cannot sign UDAP JWTs");
  if (stringSet(document, "token_endpoint_auth_signing_alg_values_supported").count(algorithm) == 0 ||
      stringSet(document, "registration_endpoint_jwt_signing_alg_values_supported").count(algorithm) == 0) {
    return invalid("the peer does not accept " + algorithm + ", the algorithm this node signs with");
  }
  auto signedMetadata = stringMember(document, "signed_metadata");
  if (!signedMetadata) return invalid("the metadata has no signed_metadata");

  auto jws = auth::udap::parseJws(*signedMetadata);
  if (!jws) return invalid("signed_metadata: " + jws.error().detail);
  auto chain = auth::udap::decodeX5c(*jws);
  if (!chain) return invalid("signed_metadata: " + chain.error().detail);
  if (auto bad = auth::udap::verifyJwsSignature(*jws, X509_get0_pubkey(chain->leaf.get()))) {
    return invalid("signed_metadata: " + bad->detail);
  }
  const std::int64_t now = now_();
  if (auto refused = chains_.verifyChain(chain->leaf.get(), chain->untrusted.get(), now)) {
    return invalid("the signed_metadata certificate does not verify (" + refused->reason + ")");
  }
  // An OCSP query inside verifyChain is bounded by tls.ocspTimeout, not by this call's deadline.
  if (std::chrono::steady_clock::now() >= call.deadline) {
    return failure("timeout", "checking the peer's signed_metadata certificate (OCSP) did not end before the deadline");
  }
  auto identity = auth::extractIdentity(chain->leaf.get());
  if (!identity) return invalid("the signed_metadata certificate cannot be read");
  const auto snapshot = directory_.snapshot();
  const auth::IdentityMapping mapping = auth::mapIdentity(*identity, snapshot->organizations);
  if (mapping.outcome != auth::MappingOutcome::kAdmitted || mapping.organization == nullptr ||
      mapping.organization->identifier != peer.organization) {
    return invalid("the signed_metadata certificate is not the peer organization's (" +
                   (mapping.outcome == auth::MappingOutcome::kAdmitted && mapping.organization != nullptr
                        ? "it is " + mapping.organization->identifier + "'s"
                        : std::string(auth::mappingOutcomeName(mapping.outcome))) +
                   ")");
  }

  Object::Ptr claims = parseObject(jws->claimsJson);
  if (!claims) return invalid("the signed_metadata claims are not a JSON object");
  const std::string fhirBase = peer.baseUrl + "/fhir";
  auto iss = stringMember(claims, "iss");
  auto sub = stringMember(claims, "sub");
  if (!iss || *iss != fhirBase || !sub || *sub != *iss) {
    return invalid("signed_metadata iss and sub must both be the peer's FHIR base URL " + fhirBase);
  }
  if (std::find(identity->sanUris.begin(), identity->sanUris.end(), *iss) == identity->sanUris.end()) {
    return invalid("signed_metadata iss is not a SAN URI of its certificate");
  }
  auto exp = integerMember(claims, "exp");
  auto iat = integerMember(claims, "iat");
  if (!exp || !iat) return invalid("signed_metadata has no exp or iat");
  if (*exp <= now) return invalid("signed_metadata has expired");
  if (*iat > now + kClockSkew) return invalid("signed_metadata is issued in the future");
  // exp > now >= 0 here, so exp - max cannot overflow (exp - iat could: iat is bounded only above).
  if (*iat < *exp - kMaxMetadataLifetime) return invalid("signed_metadata is valid for more than a year");
  auto tokenEndpoint = stringMember(claims, "token_endpoint");
  auto registrationEndpoint = stringMember(claims, "registration_endpoint");
  if (!tokenEndpoint || !registrationEndpoint) return invalid("signed_metadata has no token or registration endpoint");
  const auto tokenPath = endpointPath(peer.baseUrl, *tokenEndpoint);
  const auto registrationPath = endpointPath(peer.baseUrl, *registrationEndpoint);
  if (!tokenPath || !registrationPath) {
    return invalid(std::string("the ") + (tokenPath ? "registration_endpoint" : "token_endpoint") +
                   " of signed_metadata is not an https URL under the peer's URL " + peer.baseUrl +
                   " (same host and port, a path below its path without '%', '?', '#' or a '.' or '..' segment)");
  }
  spdlog::info("udap: discovered {} at {} (token endpoint {}, request {})", peer.organization, fhirBase,
               *tokenEndpoint, call.requestId);
  return Metadata{peer.baseUrl, *tokenEndpoint, *registrationEndpoint, *exp, *tokenPath, *registrationPath};
}

tl::expected<std::string, PeerFailure> UdapPeerFanout::registerClient(const Call& call, const Metadata& metadata) {
  const std::int64_t now = now_();
  JsonWriter claims;
  claims.beginObject()
      .member("iss", options_.organization)
      .member("sub", options_.organization)
      .member("aud", metadata.registrationEndpoint)
      .member("iat", now)
      .member("exp", now + kJwtLifetime)
      .member("jti", newRequestId())
      .member("client_name", options_.clientName)
      .key("contacts")
      .beginArray()
      .value(options_.contact)
      .endArray()
      .key("grant_types")
      .beginArray()
      .value("client_credentials")
      .endArray()
      .member("token_endpoint_auth_method", "private_key_jwt")
      .member("scope", options_.scope)
      .endObject();
  auto statement = signer_.sign(claims.take());
  if (!statement) {
    spdlog::error("udap: cannot sign the software statement: {}", statement.error().internal);
    return failure("udap_signing_failed", "this node cannot sign its software statement");
  }
  JsonWriter body;
  body.beginObject().member("software_statement", *statement).member("udap", "1").endObject();
  auto answer = poster_.post(call.peer, metadata.registrationPath, body.take(),
                             "application/json", HeaderList{{"X-Request-Id", call.requestId}}, call.deadline);
  if (!answer) {
    PeerFailure f = std::move(answer.error());
    f.auth = PeerCallAuth{"mtls+udap", ""};
    return tl::make_unexpected(std::move(f));
  }
  if (answer->status != 201 && answer->status != 200) {
    const std::string code = oauthErrorOf(*answer);
    spdlog::warn("udap: {} refused this node's registration: HTTP {} {} (request {})", call.peer.organization,
                 answer->status, code, call.requestId);
    return failure("udap_registration_refused", refusalDetail("registration", *answer, code));
  }
  Object::Ptr document = parseObject(answer->body);
  auto clientId = stringMember(document, "client_id");
  if (!clientId) return failure("udap_registration_refused", "the registration answer has no client_id");
  if (!isValidClientId(*clientId)) {
    spdlog::warn("udap: {} answered a registration with a client_id of {} bytes that is not 1-256 printable "
                 "ASCII characters (request {})", call.peer.organization, clientId->size(), call.requestId);
    return failure("udap_registration_refused",
                   "the registration answer's client_id is not 1-256 printable ASCII characters (0x21-0x7E)");
  }
  if (document->has("grant_types") && stringSet(document, "grant_types").count("client_credentials") == 0) {
    return failure("udap_registration_refused", "the registration answer does not grant client_credentials");
  }
  if (!isCurrent(call)) {
    // The entry was changed or removed while this call registered: the client serves this call only.
    spdlog::info("udap: registered at {} as client {} for a directory entry that has changed since; not stored "
                 "(request {})", call.peer.organization, *clientId, call.requestId);
    return *clientId;
  }
  if (auto saved = registrations_.save(call.peer.organization, {metadata.registrationEndpoint, *clientId}); !saved) {
    spdlog::error("udap: cannot store the registration at {}: {}", call.peer.organization, saved.error().internal);
    return failure("internal", "this node cannot store its UDAP registration");
  }
  spdlog::info("udap: registered at {} as client {} (request {})", call.peer.organization, *clientId, call.requestId);
  return *clientId;
}

tl::expected<std::pair<std::string, std::int64_t>, PeerFailure> UdapPeerFanout::requestToken(
    const Call& call, const Metadata& metadata, const std::string& clientId, const std::string& purpose,
    std::string& oauthError) {
  const std::int64_t now = now_();
  JsonWriter claims;
  claims.beginObject()
      .member("iss", clientId)
      .member("sub", clientId)
      .member("aud", metadata.tokenEndpoint)
      .member("iat", now)
      .member("exp", now + kJwtLifetime)
      .member("jti", newRequestId())
      .key("extensions")
      .beginObject()
      .key("hl7-b2b")
      .beginObject()
      .member("version", "1")
      .member("organization_id", options_.organization);
  std::string organizationName = options_.organizationName;
  if (organizationName.empty()) {
    const auto snapshot = directory_.snapshot();
    if (const auth::Organization* self = snapshot->organization(options_.organization)) organizationName = self->name;
  }
  if (!organizationName.empty()) claims.member("organization_name", organizationName);
  claims.key("purpose_of_use").beginArray().value(std::string(kPurposeSystem) + purpose).endArray();
  claims.endObject().endObject().endObject();
  auto assertion = signer_.sign(claims.take());
  if (!assertion) {
    spdlog::error("udap: cannot sign the client assertion: {}", assertion.error().internal);
    return failure("udap_signing_failed", "this node cannot sign its client assertion", clientId);
  }
  const std::string form = "grant_type=client_credentials&scope=" + formEncode(options_.scope) +
                           "&client_assertion_type=" +
                           formEncode("urn:ietf:params:oauth:client-assertion-type:jwt-bearer") +
                           "&client_assertion=" + formEncode(*assertion) + "&udap=1";
  auto answer = poster_.post(call.peer, metadata.tokenPath, form,
                             "application/x-www-form-urlencoded", HeaderList{{"X-Request-Id", call.requestId}},
                             call.deadline);
  if (!answer) {
    PeerFailure f = std::move(answer.error());
    f.auth = PeerCallAuth{"mtls+udap", clientId};
    return tl::make_unexpected(std::move(f));
  }
  if (answer->status != 200) {
    oauthError = oauthErrorOf(*answer);
    spdlog::warn("udap: {} refused a token for client {}: HTTP {} {} (request {})", call.peer.organization, clientId,
                 answer->status, oauthError, call.requestId);
    return failure("udap_token_refused", refusalDetail("the token endpoint", *answer, oauthError), clientId);
  }
  Object::Ptr document = parseObject(answer->body);
  auto accessToken = stringMember(document, "access_token");
  auto tokenType = stringMember(document, "token_type");
  std::string type = tokenType.value_or("");
  std::transform(type.begin(), type.end(), type.begin(), [](unsigned char c) { return std::tolower(c); });
  if (!accessToken || accessToken->empty() || accessToken->size() > 16384 || type != "bearer") {
    return failure("udap_token_refused", "the token answer has no Bearer access_token", clientId);
  }
  for (char c : *accessToken) {
    if (c <= ' ' || c > '~') return failure("udap_token_refused", "the access token is not printable ASCII", clientId);
  }
  // RFC 6749 5.1 only recommends expires_in: without it the token is used for this call alone.
  const std::int64_t expiresIn = std::clamp<std::int64_t>(integerMember(document, "expires_in").value_or(0), 0, 86400);
  spdlog::info("udap: token from {} for client {} and purpose {} ({} s, request {})", call.peer.organization, clientId,
               purpose, expiresIn, call.requestId);
  return std::make_pair(*accessToken, expiresIn);
}

}  // namespace hie::exchange
