#include "audit/atna_message.h"

#include <cstdio>
#include <sstream>

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include "audit/fhir_audit_event.h"
#include "common/base64.h"

namespace hie::audit {
namespace {

using Poco::JSON::Object;

constexpr const char* kDcm = "DCM";
constexpr const char* kRfc3881 = "RFC-3881";
constexpr const char* kActReason = "2.16.840.1.113883.5.8";  // HL7 v3 ActReason (PurposeOfUse)
constexpr const char* kRestful = "http://hl7.org/fhir/restful-interaction";
constexpr const char* kBalpEntityType = "https://profiles.ihe.net/ITI/BALP/CodeSystem/BasicAuditEntityType";

std::string attr(const char* name, const std::string& value) { return std::string(" ") + name + "=\"" + xmlText(value) + "\""; }

// A CodedValueType element of the DICOM schema.
std::string coded(const char* element, const std::string& code, const char* system, const std::string& text) {
  return std::string("<") + element + attr("csd-code", code) + attr("codeSystemName", system) +
         (text.empty() ? "" : attr("originalText", text)) + "/>";
}

// What an entry's action is in DICOM: EventID, EventActionCode and the EventTypeCode (the restful
// interaction, from the system FHIR uses; none when the entry says none). Kept consistent with
// restMapping() in fhir_audit_event.cpp (same action codes and interactions; the unit test
// compares both renderings of every action):
// - reads and writes of records: 110110 Patient Record (DICOM allows C, R, U, D);
// - searches: 110112 Query (E); reading this node's audit trail: 110101 Audit Log Used (R);
// - a refused handshake: 110113 Security Alert (E) of type 110126 Node Authentication;
// - what DICOM has no event for (capabilities, transaction, batch, witness, and a request refused
//   before a handler knew what it was): the FHIR type `rest` (Restful Operation), as the FHIR
//   rendering has it.
struct DicomEvent {
  const char* eventId;
  const char* eventSystem;
  const char* eventText;
  const char* actionCode;
  const char* interaction;  // nullptr: no EventTypeCode
};

constexpr const char* kAuditEventType = "http://terminology.hl7.org/CodeSystem/audit-event-type";

DicomEvent dicomEvent(const std::string& eventType, const std::string& action) {
  if (eventType == "security-alert") return {"110113", kDcm, "Security Alert", "E", nullptr};
  if (action == "read") return {"110110", kDcm, "Patient Record", "R", "read"};
  if (action == "create") return {"110110", kDcm, "Patient Record", "C", "create"};
  if (action == "update") return {"110110", kDcm, "Patient Record", "U", "update"};
  if (action == "delete") return {"110110", kDcm, "Patient Record", "D", "delete"};
  if (action == "search" || action == "query" || action == "peer-call") return {"110112", kDcm, "Query", "E", "search-type"};
  if (action == "audit-query") return {"110101", kDcm, "Audit Log Used", "R", "search-type"};
  if (action == "capabilities") return {"rest", kAuditEventType, "Restful Operation", "R", "capabilities"};
  if (action == "transaction" || action == "batch") {
    return {"rest", kAuditEventType, "Restful Operation", "E", action == "batch" ? "batch" : "transaction"};
  }
  if (action == "witness" || action == "witness-submit") return {"rest", kAuditEventType, "Restful Operation", "E", "operation"};
  return {"rest", kAuditEventType, "Restful Operation", "E", nullptr};  // `rest`: refused before a handler knew what it was
}

// The RoleIDCode of the caller and of this node, as agentTypes() in fhir_audit_event.cpp: a read
// has the caller as Destination (the data flows to it) and the node as Source; a delete has the
// caller as Application and the node as Custodian; every other event the caller as Source and the
// node as Destination, as DICOM has a request.
struct Role {
  const char* code;
  const char* system;
  const char* text;
};
struct Roles {
  Role client;
  Role server;
};

Roles dicomRoles(const std::string& action) {
  const Role source{"110153", kDcm, "Source Role ID"};
  const Role destination{"110152", kDcm, "Destination Role ID"};
  // A peer call, as the FHIR rendering has it: the organization on whose behalf the node called is
  // the requestor without a transfer role (code nullptr: no RoleIDCode); this node sends the query
  // (Source); the peer called is a third participant (Destination).
  if (action == "peer-call") return {{nullptr, nullptr, nullptr}, source};
  if (action == "read") return {destination, source};
  if (action == "delete") {
    return {{"110150", kDcm, "Application"},
            {"custodian", "http://terminology.hl7.org/CodeSystem/provenance-participant-type", "Custodian"}};
  }
  return {source, destination};
}

// The address part of "192.0.2.7:50412" or "[2001:db8::7]:50412".
std::string hostOf(const std::string& address) {
  if (!address.empty() && address[0] == '[') {
    const auto close = address.find(']');
    return close == std::string::npos ? address : address.substr(1, close - 1);
  }
  const auto colon = address.rfind(':');
  return colon == std::string::npos ? address : address.substr(0, colon);
}

bool printable(char c) { return c > 0x20 && c < 0x7F; }

std::string headerField(const std::string& value, std::size_t max) {
  if (value.empty()) return "-";
  std::string out = value.substr(0, max);
  for (char& c : out) {
    if (!printable(c)) c = '-';
  }
  return out;
}

// RFC 3339 as RFC 5424 TIMESTAMP wants it: YYYY-MM-DDThh:mm:ss[.frac]Z, checked character by character.
bool isSyslogTime(const std::string& t) {
  const std::string shape = "dddd-dd-ddTdd:dd:dd";
  if (t.size() < shape.size() + 1 || t.size() > 32 || t.back() != 'Z') return false;
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == 'd' ? !(t[i] >= '0' && t[i] <= '9') : t[i] != shape[i]) return false;
  }
  const auto field = [&t](std::size_t at) { return (t[at] - '0') * 10 + (t[at + 1] - '0'); };
  // Month, day, hour, minute, second (60: a leap second) in range.
  if (field(5) < 1 || field(5) > 12 || field(8) < 1 || field(8) > 31 || field(11) > 23 || field(14) > 59 ||
      field(17) > 60) {
    return false;
  }
  std::size_t i = shape.size();
  if (t[i] == '.') {
    std::size_t digits = 0;
    for (++i; i + 1 < t.size(); ++i, ++digits) {
      if (!(t[i] >= '0' && t[i] <= '9')) return false;
    }
    return digits >= 1 && digits <= 6;
  }
  return i + 1 == t.size();
}

}  // namespace

bool parseAtnaFormat(const std::string& text, AtnaFormat& out) {
  if (text == "dicom") {
    out = AtnaFormat::kDicom;
    return true;
  }
  if (text == "fhir") {
    out = AtnaFormat::kFhir;
    return true;
  }
  return false;
}

const char* atnaFormatName(AtnaFormat format) {
  switch (format) {
    case AtnaFormat::kDicom: return "dicom";
    case AtnaFormat::kFhir: return "fhir";
    case AtnaFormat::kLeaf: return "leaf";
  }
  return "leaf";
}

const char* atnaMsgId(AtnaFormat format) {
  switch (format) {
    case AtnaFormat::kDicom: return "IHE+RFC-3881";
    case AtnaFormat::kFhir: return "IHE+FHIR";
    case AtnaFormat::kLeaf: return "-";
  }
  return "-";
}

std::string xmlText(const std::string& value) {
  std::string out;
  out.reserve(value.size());
  for (const char ch : value) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      // As character references: raw in an attribute, XML would turn them into spaces (and an LF
      // would break the message's one line).
      case '\t': out += "&#9;"; break;
      case '\n': out += "&#10;"; break;
      case '\r': out += "&#13;"; break;
      default:
        // Other control bytes are not XML 1.0 characters, and bytes above 0x7E may not be UTF-8:
        // %XX, as the entry stores them (which already writes a literal % as %25).
        if (c < 0x20 || c >= 0x7F) {
          char hex[4];
          std::snprintf(hex, sizeof hex, "%%%02X", c);
          out += hex;
        } else {
          out += ch;
        }
    }
  }
  return out;
}

std::string sdParamValue(const std::string& value) {
  std::string out;
  out.reserve(value.size());
  for (const char c : value) {
    if (c == '"' || c == '\\' || c == ']') out += '\\';
    out += c;
  }
  return out;
}

std::string octetCountedFrame(const std::string& message) { return std::to_string(message.size()) + " " + message; }

Result<std::string> dicomAuditMessage(const TrailEntry& entry) {
  Object::Ptr in;
  try {
    Poco::JSON::Parser parser;
    in = parser.parse(entry.text).extract<Object::Ptr>();
  } catch (const std::exception& e) {
    return fail(ErrorCode::kInvalidInput, std::string("not an audit entry: ") + e.what());
  }
  if (in.isNull()) return fail(ErrorCode::kInvalidInput, "not an audit entry: not a JSON object");
  auto str = [&in](const char* key) {
    try {
      return in->has(key) ? in->getValue<std::string>(key) : std::string();
    } catch (const std::exception&) {
      return std::string();
    }
  };
  auto number = [&in](const char* key) -> long long {
    try {
      return in->has(key) ? in->getValue<long long>(key) : 0;
    } catch (const std::exception&) {
      return 0;
    }
  };
  if (str("time").empty()) return fail(ErrorCode::kInvalidInput, "audit entry without time");
  const std::string outcome = str("outcome");
  const long long status = number("httpStatus");
  // As the FHIR rendering: 0 success; 4 minor failure (refusals, the caller's errors); 8 serious failure.
  const char* outcomeCode =
      outcome == "success" ? "0" : (outcome == "denied" || (status >= 400 && status < 500)) ? "4" : "8";
  DicomEvent ev = dicomEvent(str("eventType"), str("action"));
  // The two interactions the FHIR rendering takes from more than the action (fhir_audit_event.cpp):
  // a read of one version is FHIR's vread; a PUT that created its resource is FHIR's update.
  if (str("action") == "read" && str("path").find("/_history/") != std::string::npos) ev.interaction = "vread";
  if (str("action") == "create" && str("method") == "PUT") ev.interaction = "update";
  const std::string node = str("node").empty() ? std::string("hie-node") : str("node");
  const std::string organization = str("organization").empty() ? std::string("unidentified") : str("organization");

  std::string x = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><AuditMessage>";  // one line: syslog receivers split at LF
  x += "<EventIdentification" + attr("EventActionCode", ev.actionCode) + attr("EventDateTime", str("time")) +
       attr("EventOutcomeIndicator", outcomeCode) + ">";
  const bool securityAlert = str("eventType") == "security-alert";
  x += coded("EventID", ev.eventId, ev.eventSystem, ev.eventText);
  if (securityAlert) {
    x += coded("EventTypeCode", "110126", kDcm, "Node Authentication");
  } else if (ev.interaction != nullptr) {
    x += coded("EventTypeCode", ev.interaction, kRestful, ev.interaction);
  }
  if (!str("outcomeReason").empty()) x += "<EventOutcomeDescription>" + xmlText(outcome + ": " + str("outcomeReason")) + "</EventOutcomeDescription>";
  if (!str("purpose").empty()) x += coded("PurposeOfUse", str("purpose"), kActReason, str("purpose"));
  if (in->has("breakGlass")) {
    bool breakGlass = false;
    try {
      breakGlass = in->getValue<bool>("breakGlass");
    } catch (const std::exception&) {
    }
    if (breakGlass) x += coded("PurposeOfUse", "BTG", kActReason, "break the glass");
  }
  x += "</EventIdentification>";

  // The caller: the organization the client certificate mapped to (or none), at its network address;
  // the requestor, except in a security alert (the party that tried to connect is DICOM's
  // performing process there, as in the FHIR rendering).
  // A security alert's participants carry no transfer role (DICOM A.5.3.11 asks none; the FHIR
  // rendering gives its agents no type either).
  const Roles roles = securityAlert ? Roles{{nullptr, nullptr, nullptr}, {nullptr, nullptr, nullptr}}
                                    : dicomRoles(str("action"));
  x += "<ActiveParticipant" + attr("UserID", organization) + attr("UserIsRequestor", securityAlert ? "false" : "true");
  // The UDAP client_id (a leaf of 34 keys), as the FHIR rendering's agent altId.
  if (!str("clientId").empty()) x += attr("AlternativeUserID", str("clientId"));
  if (!str("subjectDn").empty()) x += attr("UserName", str("subjectDn"));
  if (!str("remoteAddress").empty()) {
    x += attr("NetworkAccessPointID", hostOf(str("remoteAddress"))) + attr("NetworkAccessPointTypeCode", "2");
  }
  x += ">";
  if (roles.client.code != nullptr) x += coded("RoleIDCode", roles.client.code, roles.client.system, roles.client.text);
  x += "</ActiveParticipant>";
  // This node, named by node.id (a machine name: access point type 1, as in the FHIR rendering).
  x += "<ActiveParticipant" + attr("UserID", node) + attr("UserIsRequestor", "false") +
       attr("NetworkAccessPointID", node) + attr("NetworkAccessPointTypeCode", "1") + ">";
  if (roles.server.code != nullptr) x += coded("RoleIDCode", roles.server.code, roles.server.system, roles.server.text);
  x += "</ActiveParticipant>";
  if (str("action") == "peer-call" && !securityAlert) {
    // The peer called, by its organization; the entry does not hold its address.
    x += "<ActiveParticipant" + attr("UserID", str("peerOrganization").empty() ? "unidentified" : str("peerOrganization")) +
         attr("UserIsRequestor", "false") + ">" + coded("RoleIDCode", "110152", kDcm, "Destination Role ID") +
         "</ActiveParticipant>";
  }

  x += "<AuditSourceIdentification" + attr("AuditEnterpriseSiteID", entry.log) + attr("AuditSourceID", node) + ">" +
       coded("AuditSourceTypeCode", "4", kDcm, "Application Server") + "</AuditSourceIdentification>";

  if (!str("patient").empty()) {
    x += "<ParticipantObjectIdentification" + attr("ParticipantObjectID", str("patient")) +
         attr("ParticipantObjectTypeCode", "1") + attr("ParticipantObjectTypeCodeRole", "1") + ">" +
         coded("ParticipantObjectIDTypeCode", "2", kRfc3881, "Patient Number") + "</ParticipantObjectIdentification>";
  }
  std::stringstream list(str("entities"));
  std::string item;
  while (std::getline(list, item, ',')) {
    if (item.empty() || item == str("patient")) continue;
    x += "<ParticipantObjectIdentification" + attr("ParticipantObjectID", item) +
         attr("ParticipantObjectTypeCode", "2") + attr("ParticipantObjectTypeCodeRole", "4") + ">" +
         coded("ParticipantObjectIDTypeCode", "12", kRfc3881, "URI") + "</ParticipantObjectIdentification>";
  }
  // The request itself, named by its X-Request-Id; its details name the leaf (origin, index, hash).
  // A refused handshake has no request: its object is DICOM's Alert Subject, the node that tried
  // to connect (Node ID, by IP address; role 13 Security Resource), as in the FHIR rendering.
  const std::string remoteHost = hostOf(str("remoteAddress"));
  if (str("requestId").empty() && securityAlert && !remoteHost.empty()) {
    x += "<ParticipantObjectIdentification" + attr("ParticipantObjectID", remoteHost) +
         attr("ParticipantObjectTypeCode", "2") + attr("ParticipantObjectTypeCodeRole", "13") + ">" +
         coded("ParticipantObjectIDTypeCode", "110182", kDcm, "Node ID");
  } else {
    x += "<ParticipantObjectIdentification" + attr("ParticipantObjectID", str("requestId").empty() ? "-" : str("requestId")) +
         attr("ParticipantObjectTypeCode", "2") + attr("ParticipantObjectTypeCodeRole", "3") + ">" +
         coded("ParticipantObjectIDTypeCode", "XrequestId", kBalpEntityType, "X-Request-Id");
  }
  if (!str("patientQuery").empty()) x += "<ParticipantObjectQuery>" + base64Encode(str("patientQuery")) + "</ParticipantObjectQuery>";
  auto detail = [&x](const char* type, const std::string& value) {
    if (value.empty()) return;
    x += std::string("<ParticipantObjectDetail") + attr("type", type) + attr("value", base64Encode(value)) + "/>";
  };
  const bool chain = entry.format == TrailEntry::Format::kChain;
  detail(chain ? "chain" : "origin", entry.log);
  detail(chain ? "seq" : "index", std::to_string(entry.position));
  detail("hash", entry.hash);
  detail("action", str("action"));
  detail("method", str("method"));
  detail("path", str("path"));
  // Only what the entry says: a refused handshake got no HTTP answer (status 0) and returned nothing.
  if (status > 0) detail("httpStatus", std::to_string(status));
  if (!securityAlert && in->has("resultCount")) detail("resultCount", std::to_string(number("resultCount")));
  detail("causedBy", str("causedBy"));
  detail("peerOrganization", str("peerOrganization"));
  detail("certSha256", str("certSha256"));
  detail("signatureCheck", str("signatureCheck"));
  detail("authentication", str("authentication"));
  detail("clientId", str("clientId"));
  x += "</ParticipantObjectIdentification>";
  x += "</AuditMessage>";
  return x;
}

Result<std::string> atnaBody(const TrailEntry& entry, AtnaFormat format) {
  switch (format) {
    case AtnaFormat::kDicom: return dicomAuditMessage(entry);
    case AtnaFormat::kFhir: return fhirAuditEvent(entry);
    case AtnaFormat::kLeaf: break;
  }
  return entry.text;
}

std::string syslogMessage(const TrailEntry& entry, AtnaFormat format, const SyslogOrigin& origin,
                                  const std::string& body) {
  std::string time;
  try {
    Poco::JSON::Parser parser;
    Object::Ptr in = parser.parse(entry.text).extract<Object::Ptr>();
    if (!in.isNull() && in->has("time")) time = in->getValue<std::string>("time");
  } catch (const std::exception&) {
    time.clear();
  }
  if (!isSyslogTime(time)) time = "-";  // NILVALUE: the receiver stamps it
  const bool chain = entry.format == TrailEntry::Format::kChain;
  std::string m = "<85>1 " + time + " " + headerField(origin.hostname, 255) + " hie-node " +
                  headerField(origin.procId, 128) + " " + atnaMsgId(format) + " ";
  m += "[hie-audit@" + headerField(origin.enterpriseNumber, 10) + " " + (chain ? "chain" : "origin") + "=\"" + sdParamValue(entry.log) + "\" " +
       (chain ? "seq" : "index") + "=\"" + std::to_string(entry.position) + "\" leafHash=\"" +
       sdParamValue(entry.hash) + "\" format=\"" + atnaFormatName(format) + "\"]";
  m += " " + body;
  return m;
}

}  // namespace hie::audit
