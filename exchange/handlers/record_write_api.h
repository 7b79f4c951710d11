// The FHIR write API for the institution's own systems (role local):
// POST /fhir (transaction or batch Bundle), PUT /fhir/{Type}/{id},
// PUT /fhir/{Type}?identifier=SYSTEM|VALUE, POST /fhir/{Type} (If-None-Exist)
// and DELETE /fhir/{Type}/{id} (If-Match on PUT and DELETE).
//
// Order of checks: role local (everyone else: 403, whatever they send), one
// X-Purpose-Of-Use of records.writePurposes, Content-Type, then the request
// (fhir_write.h), then the store (record_store.h, RecordWriter). A refused
// write stores nothing. Every write is audited with what it changed
// (Type/id/_history/version of every version written), never the content.
#pragma once

#include <string>

#include "auth/registry/organization.h"
#include "exchange/handlers/record_api.h"
#include "exchange/http/http_call.h"
#include "exchange/records/record_store.h"

namespace hie::exchange {

class RecordWriteApi {
 public:
  // settings: the record API's (types, write limits, write purposes); both must outlive this.
  RecordWriteApi(RecordWriter& writer, const RecordApiSettings& settings);

  // call.method is PUT, POST or DELETE on /fhir or /fhir/...; baseUrl starts Location headers.
  HttpReply handle(const HttpCall& call, const auth::Organization& organization, const std::string& baseUrl) const;

 private:
  HttpReply single(const HttpCall& call, const std::string& baseUrl) const;
  HttpReply bundle(const HttpCall& call, const std::string& baseUrl) const;

  RecordWriter& writer_;
  const RecordApiSettings& settings_;
};

// Whether a write with this method may reach this (decoded) path: PUT, POST and DELETE under
// /fhir/ (and POST /fhir itself). The request gate routes these here.
bool isWritePath(const std::string& method, const std::string& path);

}  // namespace hie::exchange
