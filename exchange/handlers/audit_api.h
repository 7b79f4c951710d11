// The audit reviewers' API (role auditor only):
//   GET /audit/AuditEvent?date=geT&date=leT&agent=ORG&patient=ID&outcome=O&_count=N&_offset=K
//   GET /audit/disclosures?patient=ID[&hipaa=true]
// Both answer a searchset Bundle of FHIR AuditEvent resources. Reading the
// audit is itself audited by the listener like any other request.
#pragma once

#include "audit/audit_query.h"
#include "auth/registry/organization.h"
#include "exchange/http/http_call.h"

namespace hie::exchange {

class AuditApi {
 public:
  explicit AuditApi(audit::AuditReader& reader) : reader_(reader) {}
  // baseUrl starts the self and next links (publicBaseUrl, decided by the request gate).
  HttpReply handle(const HttpCall& call, const auth::Organization& organization, const std::string& baseUrl) const;

 private:
  audit::AuditReader& reader_;
};

}  // namespace hie::exchange
