// IHE ATNA Record Audit Event (ITI-20) messages built from a committed v2 log
// leaf: the DICOM PS3.15 A.5 audit message XML, or the FHIR AuditEvent JSON of
// fhir_audit_event.h, wrapped in an RFC 5424 syslog message and framed for
// RFC 5425 (octet counting). Pure: no sockets, no database.
// docs/audit-format.md, "ATNA feed messages", is the receiver's specification.
#pragma once

#include <string>

#include "audit/audit_query.h"
#include "common/result.h"

namespace hie::audit {

// kLeaf is never configured: the feed sends a leaf that cannot be rendered as its own text.
enum class AtnaFormat { kDicom, kFhir, kLeaf };

// "dicom" | "fhir"; false for anything else.
bool parseAtnaFormat(const std::string& text, AtnaFormat& out);
const char* atnaFormatName(AtnaFormat format);

// The RFC 5424 MSGID of each format: "IHE+RFC-3881" (ITI-20) for DICOM XML, "IHE+FHIR" for FHIR JSON,
// "-" (none) for a raw leaf, which is neither.
const char* atnaMsgId(AtnaFormat format);

// The DICOM PS3.15 A.5.1 AuditMessage of a v2 leaf (entry.format kLog). The leaf's strings are
// written as stored (%XX-encoded, printable ASCII), XML-escaped; ParticipantObjectDetail values are
// base64 (xs:base64Binary). kInvalidInput when the text is not an entry.
Result<std::string> dicomAuditMessage(const TrailEntry& entry);

// The body in format: dicomAuditMessage, fhirAuditEvent, or the leaf text itself.
Result<std::string> atnaBody(const TrailEntry& entry, AtnaFormat format);

// Where the message comes from (RFC 5424 HOSTNAME and PROCID); each 1-255 (PROCID 1-128)
// printable ASCII characters, anything else is replaced by '-'.
struct SyslogOrigin {
  std::string hostname = "-";
  std::string procId = "-";
  // The IANA private enterprise number in the SD-ID hie-audit@N (atna.enterpriseNumber). 32473 is
  // RFC 5612's number for documentation: a deployment sets its own.
  std::string enterpriseNumber = "32473";
};

// The RFC 5424 message: "<85>1 TIME HOSTNAME hie-node PROCID MSGID
// [hie-audit@32473 origin=".." index="N" leafHash=".." format=".."] BODY", TIME the entry's own
// time (the leaf's "time", RFC 3339 UTC; "-" when the text has none), facility 10
// (security/authorization), severity 5 (notice).
std::string syslogMessage(const TrailEntry& entry, AtnaFormat format, const SyslogOrigin& origin,
                                  const std::string& body);

// RFC 5425 octet-counting frame: "<decimal length of message> SP message".
std::string octetCountedFrame(const std::string& message);

// An RFC 5424 PARAM-VALUE: '"', '\' and ']' escaped with '\'.
std::string sdParamValue(const std::string& value);

// Text for XML 1.0 character data and attribute values: & < > " ' as entities; TAB, LF, CR as
// character references (so attribute normalisation keeps them and the text stays one line); any
// other byte below 0x20 or above 0x7E as %XX (not XML 1.0 characters, or maybe not UTF-8).
std::string xmlText(const std::string& value);

}  // namespace hie::audit
