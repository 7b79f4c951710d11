#include "exchange/handlers/record_api.h"


#include <Poco/DateTimeFormat.h>
#include <Poco/DateTimeFormatter.h>
#include <Poco/Timestamp.h>

#include "common/json_writer.h"
#include "exchange/fhir/operation_outcome.h"

namespace hie::exchange {
namespace {

// Every refusal for the patient itself reads the same as "no such resource".
HttpReply notFound(const std::string& reason) { return refusal(404, "not-found", "Resource not found.", reason); }

}  // namespace

std::string versionTag(int version) { return "W/\"" + std::to_string(version) + "\""; }

std::string httpDate(std::int64_t epochSeconds) {
  return Poco::DateTimeFormatter::format(Poco::Timestamp::fromEpochTime(static_cast<std::time_t>(epochSeconds)),
                                         Poco::DateTimeFormat::HTTP_FORMAT);
}

const std::set<std::string>& defaultResourceTypes() {
  static const std::set<std::string> kTypes = {"Patient",   "DocumentReference",   "Observation", "Condition",
                                               "AllergyIntolerance", "MedicationStatement", "Encounter"};
  return kTypes;
}

RecordApi::RecordApi(RecordStore& store, RecordApiSettings settings) : store_(store), settings_(std::move(settings)) {}

HttpReply RecordApi::handle(const HttpCall& call, const auth::Organization& organization,
                            const auth::RegistrySnapshot& registry, const std::string& baseUrl) const {
  if (call.method != "GET" && call.method != "HEAD") {
    // Writes reach RecordWriteApi through the request gate; what is left here is no FHIR interaction.
    HttpReply reply = refusal(405, "not-supported", "This method is not supported here.", "method_not_allowed");
    const bool instance = call.path.find('/', 6) != std::string::npos;
    reply.headers.emplace_back("Allow", instance ? "GET, HEAD, PUT, DELETE" : "GET, HEAD, POST, PUT");
    return reply;
  }
  auto request = parseFhirRequest(call.path, call.query, settings_.resourceTypes, settings_.limits);
  if (!request) {
    HttpReply reply = operationOutcome(request.error());
    reply.refusalReason = request.error().code == ErrorCode::kNotFound ? "unsupported_type" : "invalid_request";
    return reply;
  }
  HttpReply reply = handleValid(*request, call, organization, registry, baseUrl);
  reply.access.action = request->kind == FhirRequest::Kind::kSearch ? "search" : "read";
  reply.access.resourceType = request->resourceType;
  reply.access.resourceId = request->id;
  if (request->kind == FhirRequest::Kind::kSearch) {
    if (request->patient.byIdentifier()) {
      reply.access.patientQuery = request->patient.system + "|" + request->patient.value;
    } else if (reply.access.patientId.empty()) {
      reply.access.patientId = request->patient.patientId;
    }
  }
  return reply;
}

HttpReply RecordApi::handleValid(const FhirRequest& request, const HttpCall& call, const auth::Organization& organization,
                                 const auth::RegistrySnapshot& registry, const std::string& baseUrl) const {
  const PurposeOfUseHeader purposeHeader = purposeOfUseHeader(call);
  const std::string& purpose = purposeHeader.value;
  if (!purposeHeader.valid()) {
    return refusal(400, "required",
                   "Patient data requests need one X-Purpose-Of-Use header with an HL7 v3 PurposeOfUse code "
                   "(e.g. TREAT).",
                   purposeHeader.count == 0 ? "missing_purpose" : "invalid_purpose");
  }

  auth::AccessQuestion question;
  question.organization = &organization;
  question.action = request.kind == FhirRequest::Kind::kSearch ? auth::Action::kSearch : auth::Action::kRead;
  question.resourceType = request.resourceType;
  question.purpose = purpose;
  question.grants = &registry.grantsOf(organization.identifier);
  const auth::AccessDecision forOrg = auth::decideForOrganization(question);
  if (!forOrg.permit) {
    return refusal(403, "forbidden", "This organization is not authorized for that access.",
                   auth::decisionReasonName(forOrg.reason));
  }
  return request.kind == FhirRequest::Kind::kSearch ? search(request, question, registry, baseUrl)
                                                    : read(request, question, registry);
}

HttpReply RecordApi::read(const FhirRequest& request, const auth::AccessQuestion& question,
                          const auth::RegistrySnapshot& registry) const {
  if (request.kind == FhirRequest::Kind::kVersionRead) {
    return readOne(store_.readVersion(request.resourceType, request.id, request.version), question, registry, true);
  }
  return readOne(store_.read(request.resourceType, request.id), question, registry, false);
}

HttpReply RecordApi::readOne(const Result<std::optional<StoredResource>>& found, const auth::AccessQuestion& question,
                             const auth::RegistrySnapshot& registry, bool version) const {
  if (!found) {
    HttpReply reply = operationOutcome(found.error());
    reply.internalError = found.error().internal;
    return reply;
  }
  if (!*found) return notFound("not_found");
  const StoredResource& resource = **found;
  const auth::AccessDecision decision =
      auth::decide(question, registry.consentOf(resource.patientId), settings_.policy);
  HttpReply reply;
  if (!decision.permit) {
    reply = notFound(auth::decisionReasonName(decision.reason));
  } else if (resource.deleted) {
    // Only a reader who could see the resource learns that it was deleted.
    reply = refusal(410, "deleted", "The resource has been deleted.", "deleted");
    reply.headers.emplace_back("ETag", versionTag(resource.version));
  } else {
    reply.body = resource.json;
    reply.access.breakGlass = decision.breakGlass;
    reply.access.entities = resource.type + "/" + resource.id + (version ? "/_history/" + std::to_string(resource.version) : "");
    reply.access.resultCount = 1;
    reply.headers.emplace_back("ETag", versionTag(resource.version));
    if (resource.lastModified > 0) reply.headers.emplace_back("Last-Modified", httpDate(resource.lastModified));
  }
  // The audit records whose data was asked for, even when the answer was "not found".
  reply.access.patientId = resource.patientId;
  return reply;
}

HttpReply RecordApi::search(const FhirRequest& request, const auth::AccessQuestion& question,
                            const auth::RegistrySnapshot& registry, const std::string& baseUrl) const {
  SearchSpec spec;
  spec.resourceType = request.resourceType;
  spec.patient = request.patient;
  spec.count = request.count;
  spec.after = request.after;
  // Patients whose consent refuses this access are excluded in the query itself, so
  // totals and pages never count them. Only patients with consent on record can be.
  std::string hiddenReason;
  if (!request.patient.byIdentifier()) {
    if (const auth::PatientConsent* consent = registry.consentOf(request.patient.patientId)) {
      const auth::AccessDecision d = auth::decide(question, consent, settings_.policy);
      if (!d.permit) {
        spec.excludedPatients.push_back(request.patient.patientId);
        hiddenReason = auth::decisionReasonName(d.reason);
      }
    }
  } else {
    for (const auto& [patientId, consent] : registry.consents) {
      if (!auth::decide(question, &consent, settings_.policy).permit) spec.excludedPatients.push_back(patientId);
    }
  }
  auto page = store_.search(spec);
  if (!page) {
    HttpReply reply = operationOutcome(page.error());
    reply.internalError = page.error().internal;
    return reply;
  }

  const std::string base = baseUrl + "/fhir/" + request.resourceType;
  JsonWriter json;
  json.beginObject().member("resourceType", "Bundle").member("type", "searchset").member("total", page->total);
  json.key("link").beginArray();
  json.beginObject().member("relation", "self").member("url", base + "?" + nextPageQuery(request, request.after)).endObject();
  if (page->more && !page->items.empty()) {
    json.beginObject()
        .member("relation", "next")
        .member("url", base + "?" + nextPageQuery(request, page->items.back().id))
        .endObject();
  }
  json.endArray();
  // No match: no entry element at all (FHIR allows no empty array).
  if (!page->items.empty()) json.key("entry").beginArray();
  HttpReply reply;
  for (std::size_t i = 0; i < page->items.size(); ++i) {
    const StoredResource& r = page->items[i];
    // r.json is PostgreSQL's serialization of the stored jsonb value.
    json.beginObject().member("fullUrl", base + "/" + r.id).key("resource").rawValue(r.json);
    json.key("search").beginObject().member("mode", "match").endObject().endObject();
    if (const auth::PatientConsent* consent = registry.consentOf(r.patientId)) {
      if (auth::decide(question, consent, settings_.policy).breakGlass) reply.access.breakGlass = true;
    }
    if (reply.access.patientId.empty()) reply.access.patientId = r.patientId;
    reply.access.entities += (i ? "," : "") + r.type + "/" + r.id;
  }
  if (!page->items.empty()) json.endArray();
  json.endObject();
  reply.access.resultCount = static_cast<long long>(page->items.size());
  // Looks like "no matches" to the caller; the audit records that consent hid the patient.
  if (!hiddenReason.empty()) reply.refusalReason = hiddenReason;
  reply.body = json.take();
  return reply;
}

}  // namespace hie::exchange
