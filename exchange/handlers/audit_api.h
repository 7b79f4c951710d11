// The audit reviewers' API (role auditor only):
//   GET /audit/AuditEvent?date=geT&date=leT&agent=ORG&patient=ID&outcome=O&_count=N&_offset=K
//   GET /audit/disclosures?patient=ID[&hipaa=true]
// Both answer a searchset Bundle of FHIR AuditEvent resources. Reading the
// audit is itself audited by the listener like any other request.
#pragma once

#include "auth/registry/organization.h"
#include "db/connection_pool.h"
#include "exchange/http/http_call.h"

namespace hie::exchange {

class AuditApi {
 public:
  explicit AuditApi(db::ConnectionPool& pool) : pool_(pool) {}
  // baseUrl starts the self and next links (publicBaseUrl, decided by the request gate).
  HttpReply handle(const HttpCall& call, const auth::Organization& organization, const std::string& baseUrl) const;

 private:
  db::ConnectionPool& pool_;
};

}  // namespace hie::exchange
