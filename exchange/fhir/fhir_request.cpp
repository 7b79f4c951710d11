#include "exchange/fhir/fhir_request.h"

#include <algorithm>
#include <map>

#include <strings.h>

#include <Poco/URI.h>

#include "common/purpose_of_use.h"

namespace hie::exchange {
namespace {

Error invalid(const std::string& message) { return Error{ErrorCode::kInvalidInput, message, message}; }

Result<std::string> parsePatientReference(const std::string& text) {
  std::string id = text;
  if (id.compare(0, 8, "Patient/") == 0) id = id.substr(8);
  if (!isValidFhirId(id)) return tl::make_unexpected(invalid("patient must be a FHIR id or Patient/ID"));
  return id;
}

}  // namespace

std::vector<SearchParameterSpec> searchParameters(const std::string& resourceType) {
  const SearchParameterSpec count{"_count", "number", "",
                                  "Page size, 1 to 999999; lowered to the node's largest page (records.maxPageSize)."};
  if (resourceType == "Patient") {
    return {{"identifier", "token", "http://hl7.org/fhir/SearchParameter/Patient-identifier",
             "SYSTEM|VALUE, both required, matched exactly. Exactly one of identifier and _id."},
            {"_id", "token", "http://hl7.org/fhir/SearchParameter/Resource-id",
             "The patient's id. Exactly one of identifier and _id."},
            count};
  }
  return {{"patient", "reference", "http://hl7.org/fhir/SearchParameter/clinical-patient",
           "The patient's id or Patient/ID. Exactly one of patient and patient.identifier."},
          {"patient.identifier", "token", "",
           "Chained: the patient's identifier, SYSTEM|VALUE, both required, matched exactly. Exactly one of "
           "patient and patient.identifier."},
          count};
}


bool isPlainText(const std::string& s, std::size_t max) {
  if (s.empty() || s.size() > max || !isValidUtf8(s)) return false;
  for (unsigned char c : s) {
    if (c < 0x20 || c == 0x7f) return false;
  }
  return true;
}

bool isValidFhirId(const std::string& id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
    if (!ok) return false;
  }
  return true;
}

Result<FhirRequest> parseFhirRequest(const std::string& path, const HeaderList& query,
                                     const std::set<std::string>& supportedTypes, const SearchLimits& limits) {
  static const std::string kPrefix = "/fhir/";
  if (path.compare(0, kPrefix.size(), kPrefix) != 0) return fail(ErrorCode::kNotFound, "not a FHIR path", "No such endpoint.");
  const std::string rest = path.substr(kPrefix.size());
  const auto slash = rest.find('/');
  FhirRequest req;
  req.resourceType = rest.substr(0, slash);
  if (supportedTypes.count(req.resourceType) == 0) {
    return fail(ErrorCode::kNotFound, "unsupported resource type", "Unsupported resource type.");
  }
  if (slash != std::string::npos) {
    req.kind = FhirRequest::Kind::kRead;
    req.id = rest.substr(slash + 1);
    if (req.id.size() > 9 && req.id.compare(req.id.size() - 9, 9, "/_history") == 0) {
      return tl::make_unexpected(invalid("This node does not list a resource's history; read one version with "
                                         "_history/{vid} (meta.versionId is the current one)."));
    }
    if (const auto history = req.id.find("/_history/"); history != std::string::npos) {
      const std::string vid = req.id.substr(history + 10);
      req.id = req.id.substr(0, history);
      req.kind = FhirRequest::Kind::kVersionRead;
      if (vid.empty() || vid.size() > 9 || vid[0] == '0' || vid.find_first_not_of("0123456789") != std::string::npos) {
        return tl::make_unexpected(invalid("The version id must be a whole number from 1 (as in meta.versionId)."));
      }
      req.version = std::stoi(vid);
    }
    if (!isValidFhirId(req.id)) return tl::make_unexpected(invalid("The resource id is not a valid FHIR id."));
    if (!query.empty()) return tl::make_unexpected(invalid("A read takes no query parameters."));
    return req;
  }

  req.kind = FhirRequest::Kind::kSearch;
  req.count = limits.defaultCount;
  std::map<std::string, std::string> params;
  for (const auto& [name, value] : query) {
    if (!params.emplace(name, value).second) {
      return tl::make_unexpected(invalid("Search parameter " + name + " is given more than once."));
    }
  }
  const bool isPatient = req.resourceType == "Patient";
  // What /fhir/metadata declares, and the cursor of next links.
  std::set<std::string> allowed{"_cursor"};
  for (const auto& p : searchParameters(req.resourceType)) allowed.insert(p.name);
  for (const auto& [name, value] : params) {
    if (allowed.count(name) == 0) {
      // Echo the name only when it is plain; never reflect arbitrary bytes.
      const bool plain = isPlainText(name, 40) && name.find_first_of("<>\"'") == std::string::npos;
      return tl::make_unexpected(invalid(plain ? "Unsupported search parameter " + name + "."
                                               : "Unsupported search parameter."));
    }
  }
  // Patient is searched by its own identifier or _id; other types by their patient's.
  const std::string identParam = isPatient ? "identifier" : "patient.identifier";
  const std::string idParam = isPatient ? "_id" : "patient";
  const bool byIdentifier = params.count(identParam) != 0;
  if (byIdentifier == (params.count(idParam) != 0)) {
    return tl::make_unexpected(invalid("Search needs exactly one of " + idParam + "=ID or " + identParam +
                                       "=SYSTEM|VALUE."));
  }
  if (byIdentifier) {
    auto sel = parsePatientIdentifier(identParam, params[identParam]);
    if (!sel) return tl::make_unexpected(sel.error());
    req.patient = *sel;
  } else {
    auto id = parsePatientReference(params[idParam]);
    if (!id) return tl::make_unexpected(id.error());
    req.patient.patientId = *id;
  }
  if (auto it = params.find("_count"); it != params.end()) {
    const std::string& c = it->second;
    const std::string range = "_count must be a whole number from 1 to 999999.";
    if (c.empty() || c.size() > 6 || c.find_first_not_of("0123456789") != std::string::npos) {
      return tl::make_unexpected(invalid(range));
    }
    req.count = std::stoi(c);
    if (req.count < 1) return tl::make_unexpected(invalid(range));
    // FHIR lets a server return fewer than asked: a larger page size is lowered to this
    // node's maximum (a peer asking for 100 still gets answers from a node that pages by 50).
    req.count = std::min(req.count, limits.maxCount);
  }
  if (auto it = params.find("_cursor"); it != params.end()) {
    if (!isValidFhirId(it->second)) return tl::make_unexpected(invalid("_cursor is not valid."));
    req.after = it->second;
  }
  return req;
}

std::string nextPageQuery(const FhirRequest& r, const std::string& after) {
  std::string q;
  auto add = [&q](const std::string& name, const std::string& value) {
    std::string encoded;
    Poco::URI::encode(value, "&=+#?/|%", encoded);
    q += (q.empty() ? "" : "&") + name + "=" + encoded;
  };
  const bool isPatient = r.resourceType == "Patient";
  if (r.patient.byIdentifier()) {
    add(isPatient ? "identifier" : "patient.identifier", r.patient.system + "|" + r.patient.value);
  } else {
    add(isPatient ? "_id" : "patient", r.patient.patientId);
  }
  add("_count", std::to_string(r.count));
  if (!after.empty()) add("_cursor", after);
  return q;
}

Result<PatientSelector> parsePatientIdentifier(const std::string& name, const std::string& text) {
  const auto bar = text.find('|');
  if (bar == std::string::npos || bar == 0 || bar + 1 == text.size() || text.find('|', bar + 1) != std::string::npos) {
    return tl::make_unexpected(invalid(name + " must be SYSTEM|VALUE"));
  }
  PatientSelector sel;
  sel.system = text.substr(0, bar);
  sel.value = text.substr(bar + 1);
  if (!isPlainText(sel.system, 256) || !isPlainText(sel.value, 256)) {
    return tl::make_unexpected(invalid(name + " system and value must be 1-256 printable characters"));
  }
  return sel;
}

bool PurposeOfUseHeader::valid() const { return count == 1 && purpose::isKnown(value); }

PurposeOfUseHeader purposeOfUseHeader(const HttpCall& call) {
  PurposeOfUseHeader out;
  if (!call.authorizedPurpose.empty()) {
    // The accepted access token's purpose (the gate refused a header that differs).
    out.count = 1;
    out.value = call.authorizedPurpose;
    return out;
  }
  for (const auto& [name, value] : call.headers) {
    if (strcasecmp(name.c_str(), "X-Purpose-Of-Use") == 0) {
      ++out.count;
      out.value = value;
    }
  }
  return out;
}

}  // namespace hie::exchange
