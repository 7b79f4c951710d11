#include "exchange/handlers/exchange_api.h"

#include <condition_variable>
#include <mutex>

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/URI.h>


#include "auth/policy/policy.h"
#include "common/poco_json.h"
#include "exchange/fhir/fhir_request.h"
#include "exchange/fhir/operation_outcome.h"

namespace hie::exchange {
namespace {

using Clock = std::chrono::steady_clock;
using Poco::JSON::Array;
using Poco::JSON::Object;

HttpReply refused(int status, const char* code, const std::string& text, const char* reason) {
  HttpReply reply = operationOutcome(status, code, text);
  reply.refusalReason = reason;
  reply.access.action = "query";
  return reply;
}

struct PeerResult {
  auth::PeerEntry peer;
  tl::expected<PeerResponse, PeerFailure> outcome = tl::make_unexpected(PeerFailure{"timeout", "no answer before the deadline"});
  long long micros = 0;
};

Object::Ptr outcomeFor(const std::string& peer, const std::string& reason, const std::string& detail) {
  Object::Ptr issue = new Object;
  issue->set("severity", "error");
  const bool security = reason == "impersonation" || reason.compare(0, 4, "tls_") == 0 || reason == "tls" ||
                        reason.compare(0, 7, "answer_") == 0;
  issue->set("code", reason == "timeout"                      ? "timeout"
                     : reason == "busy"                       ? "throttled"
                     : reason.compare(0, 5, "http_") == 0     ? "processing"
                     : security                               ? "security"
                                                              : "transient");
  issue->set("diagnostics", "peer " + peer + ": " + reason + (detail.empty() ? "" : ": " + detail));
  Array::Ptr issues = new Array;
  issues->add(issue);
  Object::Ptr oo = new Object;
  oo->set("resourceType", "OperationOutcome");
  oo->set("issue", issues);
  return oo;
}

Object::Ptr sourceExtension(const std::string& org) {
  Object::Ptr ident = new Object;
  ident->set("system", "urn:ietf:rfc:3986");
  ident->set("value", org);
  Object::Ptr ext = new Object;
  ext->set("url", kSourceOrganizationExtension);
  ext->set("valueIdentifier", ident);
  Array::Ptr exts = new Array;
  exts->add(ext);
  Object::Ptr holder = new Object;
  holder->set("extension", exts);
  return holder;
}

}  // namespace

ExchangeApi::ExchangeApi(PeerFanout& client, ExchangeOptions options, Counters& counters)
    : client_(client), options_(std::move(options)), counters_(counters) {}

HttpReply ExchangeApi::handle(const HttpCall& call, const auth::Organization& organization,
                              const auth::RegistrySnapshot& registry) const {
  if (!organization.hasRole(auth::Role::kLocal)) {
    return refused(403, "forbidden", "Only this institution's own systems (role local) may query the exchange.",
                   "role_not_allowed");
  }
  if (call.method != "GET") {
    HttpReply reply = refused(405, "not-supported", "Only GET is supported here.", "method_not_allowed");
    reply.headers.emplace_back("Allow", "GET");
    return reply;
  }
  const std::string type = call.path.substr(std::string("/exchange/").size());
  if (options_.resourceTypes.count(type) == 0) {
    return refused(404, "not-found", "Unsupported resource type.", "unsupported_type");
  }
  std::string identifier;
  for (const auto& [name, value] : call.query) {
    if (name != "patient.identifier" || !identifier.empty()) {
      return refused(400, "invalid", "The exchange takes exactly one patient.identifier=SYSTEM|VALUE.", "invalid_request");
    }
    identifier = value;
  }
  if (!parsePatientIdentifier("patient.identifier", identifier)) {
    return refused(400, "invalid", "patient.identifier must be SYSTEM|VALUE.", "invalid_request");
  }
  const PurposeOfUseHeader purposeHeader = purposeOfUseHeader(call);
  const std::string& purpose = purposeHeader.value;
  if (!purposeHeader.valid()) {
    return refused(400, "required", "An X-Purpose-Of-Use header with an HL7 v3 PurposeOfUse code is required.",
                   "missing_purpose");
  }

  std::string encoded;
  Poco::URI::encode(identifier, "&=+#?/|%", encoded);
  // One page of the peer's largest size; a patient with more matches at one peer is cut there (see docs/api.md).
  const std::string pathAndQuery = (type == "Patient" ? "/fhir/Patient?identifier=" + encoded
                                                      : "/fhir/" + type + "?patient.identifier=" + encoded) +
                                   "&_count=100";
  std::vector<auth::PeerEntry> peers;
  for (const auto& p : registry.peers) {
    const auth::Organization* org = registry.organization(p.organization);
    if (p.organization != options_.ownOrganization && org != nullptr &&
        org->status == auth::OrganizationStatus::kActive) {
      peers.push_back(p);
    }
  }

  // The calls run on the client's workers, shared by every request of the node; this request keeps at
  // most maxParallel of them queued or running, and waits for them until its one deadline. The calls
  // share their state with this thread through a shared_ptr: a call still running at the deadline is
  // reported as a timeout and cut there (its socket is shut down), and writes into the state it holds.
  const auto deadline = Clock::now() + options_.deadline;
  enum class CallState { kNotSubmitted, kQueued, kRunning, kDone };
  struct Shared {
    std::mutex mutex;
    std::condition_variable changed;
    std::vector<PeerResult> results;
    std::vector<CallState> state;
    std::vector<Clock::time_point> startedAt;
    std::size_t completed = 0;
    std::string pathAndQuery;  // the same for every peer: kept once, not copied into each call
    HeaderList headers;
  };
  auto shared = std::make_shared<Shared>();
  shared->results.resize(peers.size());
  shared->state.assign(peers.size(), CallState::kNotSubmitted);
  shared->startedAt.resize(peers.size());
  for (std::size_t i = 0; i < peers.size(); ++i) shared->results[i].peer = peers[i];
  shared->pathAndQuery = pathAndQuery;
  shared->headers = {{"X-Purpose-Of-Use", purpose}, {"X-Request-Id", call.requestId}, {"Accept", "application/fhir+json"}};
  PeerFanout* client = &client_;
  const std::size_t parallel = static_cast<std::size_t>(std::max(1, options_.maxParallel));
  std::vector<PeerResult> resultStore;
  {
    std::size_t submitted = 0;
    std::unique_lock<std::mutex> lock(shared->mutex);
    while (true) {
      while (submitted < peers.size() && submitted - shared->completed < parallel) {
        const std::size_t i = submitted++;
        shared->state[i] = CallState::kQueued;
        lock.unlock();
        const bool queued = client->submit(deadline, [shared, client, i, deadline] {
          auth::PeerEntry peer;
          {
            std::lock_guard<std::mutex> l(shared->mutex);
            shared->state[i] = CallState::kRunning;
            shared->startedAt[i] = Clock::now();
            peer = shared->results[i].peer;
          }
          auto outcome = client->get(peer, shared->pathAndQuery, shared->headers, deadline);
          std::lock_guard<std::mutex> l(shared->mutex);
          shared->results[i].outcome = std::move(outcome);
          shared->results[i].micros =
              std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - shared->startedAt[i]).count();
          shared->state[i] = CallState::kDone;
          ++shared->completed;
          shared->changed.notify_all();
        });
        lock.lock();
        if (!queued) {
          PeerFailure stopping{"busy", "not asked: the node is shutting down"};
          stopping.auth = client->authFor(shared->results[i].peer);
          shared->results[i].outcome = tl::make_unexpected(std::move(stopping));
          shared->state[i] = CallState::kDone;
          ++shared->completed;
        }
      }
      if (shared->completed == peers.size() || Clock::now() >= deadline) break;
      shared->changed.wait_until(lock, deadline);
    }
    // Finished answers move out (up to client.maxResponseKiB each); a call still running
    // at the deadline keeps its slot, which its worker may yet write to.
    resultStore.resize(shared->results.size());
    for (std::size_t i = 0; i < resultStore.size(); ++i) {
      PeerResult& r = resultStore[i];
      if (shared->state[i] == CallState::kDone) {
        r = std::move(shared->results[i]);
        continue;
      }
      r.peer = shared->results[i].peer;
      // No answer from get(): the entry still says how this node authenticates to the peer (mtls+udap
      // and its client_id there for an auth=udap peer).
      const PeerCallAuth peerAuth = client_.authFor(r.peer);
      switch (shared->state[i]) {
        case CallState::kDone:
          break;
        case CallState::kRunning:
          r.outcome = tl::make_unexpected(PeerFailure{"timeout", "no answer before the deadline", {}, peerAuth});
          r.micros = std::chrono::duration_cast<std::chrono::microseconds>(deadline - shared->startedAt[i]).count();
          break;
        case CallState::kQueued:
          // Never sent: every outbound worker of the node was taken until the deadline.
          r.outcome = tl::make_unexpected(PeerFailure{
              "busy", "not asked: all client.maxConcurrentCalls outbound calls of this node were in use until the deadline",
              {}, peerAuth});
          r.micros = 0;
          break;
        case CallState::kNotSubmitted:
          r.outcome = tl::make_unexpected(PeerFailure{
              "busy", "not asked: this request's exchange.maxParallel calls were all still under way at the deadline",
              {}, peerAuth});
          r.micros = 0;
          break;
      }
    }
  }

  // Merge, and audit each outbound call on this node, linked to the local request.
  Array::Ptr entries = new Array;
  long long matches = 0;
  std::string entities;
  std::vector<audit::AuditEvent> peerCalls;
  peerCalls.reserve(resultStore.size());
  for (auto& r : resultStore) {
    audit::AuditEvent e;
    e.eventType = "rest";
    e.action = "peer-call";
    e.peerOrganization = r.peer.organization;
    e.organization = organization.identifier;
    e.method = "GET";
    e.path = pathAndQuery.substr(0, pathAndQuery.find('?'));
    e.resourceType = type;
    e.patientQuery = identifier;
    e.purpose = purpose;
    e.requestId = call.requestId;
    e.causedBy = call.requestId;
    e.latencyMicros = r.micros;
    recordSignatures(r.outcome ? r.outcome->signatures : r.outcome.error().signatures, e);
    // How this node authenticated to the peer (mtls, or mtls+udap and its client_id there).
    recordAuth(r.outcome ? r.outcome->auth : r.outcome.error().auth, e);
    std::string failureReason, failureDetail;
    if (!r.outcome) {
      failureReason = r.outcome.error().reason;
      failureDetail = r.outcome.error().detail;
    } else if (r.outcome->status != 200) {
      failureReason = "http_" + std::to_string(r.outcome->status);
      failureDetail = "the peer refused or failed the request";
    } else {
      try {
        Poco::JSON::Parser parser;
        Object::Ptr bundle = parser.parse(r.outcome->body).extract<Object::Ptr>();
        if (!bundle || bundle->optValue<std::string>("resourceType", "") != "Bundle") throw Poco::Exception("not a Bundle");
        long long count = 0;
        if (Array::Ptr peerEntries = bundle->getArray("entry")) {
          for (std::size_t k = 0; k < peerEntries->size(); ++k) {
            Object::Ptr entry = peerEntries->getObject(static_cast<unsigned>(k));
            Object::Ptr resource = entry ? entry->getObject("resource") : nullptr;
            if (!resource) continue;
            Object::Ptr meta = resource->getObject("meta");
            if (!meta) {
              meta = new Object;
              resource->set("meta", meta);
            }
            meta->set("source", r.peer.organization);
            Object::Ptr merged = new Object;
            merged->set("extension", sourceExtension(r.peer.organization)->getArray("extension"));
            if (entry->has("fullUrl")) merged->set("fullUrl", entry->get("fullUrl"));
            merged->set("resource", resource);
            Object::Ptr search = new Object;
            search->set("mode", "match");
            merged->set("search", search);
            entries->add(merged);
            ++count;
            const std::string id = resource->optValue<std::string>("id", "");
            if (entities.size() < 8192) {
              entities += (entities.empty() ? "" : ",") + r.peer.organization + "#" +
                          resource->optValue<std::string>("resourceType", type) + "/" + id;
            }
          }
        }
        matches += count;
        e.resultCount = count;
        e.httpStatus = 200;
        e.outcome = "success";
      } catch (const std::exception&) {
        failureReason = "invalid_response";
        failureDetail = "the peer's answer is not a FHIR Bundle";
      }
    }
    if (!failureReason.empty()) {
      e.outcome = peerCallOutcome(failureReason);
      e.outcomeReason = failureReason;
      e.httpStatus = r.outcome ? r.outcome->status : 0;
      Object::Ptr wrapped = new Object;
      wrapped->set("resource", outcomeFor(r.peer.organization, failureReason, failureDetail));
      Object::Ptr search = new Object;
      search->set("mode", "outcome");
      wrapped->set("search", search);
      wrapped->set("extension", sourceExtension(r.peer.organization)->getArray("extension"));
      entries->add(wrapped);
    }
    counters_.peerCalls.inc({r.peer.organization});
    counters_.peerCallMicros.inc({r.peer.organization}, static_cast<std::uint64_t>(std::max<long long>(r.micros, 0)));
    if (e.outcome != "success") counters_.peerCallsFailed.inc({r.peer.organization});
    if (failureReason == "busy") counters_.peerBusy.inc();
    peerCalls.push_back(std::move(e));
  }
  Object bundle;
  bundle.set("resourceType", "Bundle");
  bundle.set("type", "searchset");
  bundle.set("total", matches);
  if (entries->size() > 0) bundle.set("entry", entries);  // FHIR allows no empty array
  HttpReply reply;
  reply.body = pocoJsonText(bundle);
  reply.access.action = "query";
  reply.access.resourceType = type;
  reply.access.patientQuery = identifier;
  reply.access.resultCount = matches;
  reply.access.entities = entities;
  // Committed by the listener together with the request's own entry (one group commit, one wait)
  // before this reply is released; if they cannot be, the caller gets 503 and none of this.
  reply.relatedAudit = std::move(peerCalls);
  return reply;
}

}  // namespace hie::exchange
