#include "exchange/http/request_signature.h"

namespace hie::exchange {

std::string targetUri(const HttpCall& call) {
  // Host as the client sent it: the client signed what it sent. Several Host lines (which Poco
  // lets through) join with ", " and so never match what a client signed.
  return "https://" + call.headerLines("Host") + call.target;
}

auth::HttpMessage requestMessage(const HttpCall& call) {
  auth::HttpMessage m;
  m.method = call.method;
  m.targetUri = targetUri(call);
  m.fields = call.headers;
  return m;
}

}  // namespace hie::exchange
