#include "auth/tls/client_tls_context.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <Poco/Exception.h>

#include "auth/identity/certificate_identity.h"
#include "auth/identity/identity_mapping.h"
#include "auth/tls/handshake_verification.h"
#include "auth/tls/server_tls_context.h"

namespace hie::auth {
namespace {

int verifyPeerServer(X509_STORE_CTX* ctx, void* arg) {
  const auto* expect = static_cast<const ClientTlsContext::Expectation*>(arg);
  if (X509_verify_cert(ctx) != 1) {
    const int err = X509_STORE_CTX_get_error(ctx);
    recordHandshakeRefusal(ctx, err, verifyErrorReason(err));
    return 0;
  }
  X509* leaf = X509_STORE_CTX_get0_cert(ctx);
  if (leaf == nullptr || X509_check_ca(leaf) != 0) {
    X509_STORE_CTX_set_error(ctx, X509_V_ERR_INVALID_CA);
    recordHandshakeRefusal(ctx, X509_V_ERR_INVALID_CA, "ca_as_server");
    return 0;
  }
  // A valid chain is not authorization: the certificate must be the directory's organization.
  auto identity = extractIdentity(leaf);
  const OrganizationSnapshot snapshot = expect->directory->snapshot();
  if (!identity) {
    X509_STORE_CTX_set_error(ctx, X509_V_ERR_APPLICATION_VERIFICATION);
    recordHandshakeRefusal(ctx, X509_V_ERR_APPLICATION_VERIFICATION, "peer_identity_unreadable");
    return 0;
  }
  const IdentityMapping mapping = mapIdentity(*identity, snapshot->organizations);
  if (mapping.outcome == MappingOutcome::kAdmitted && mapping.organization->identifier == expect->organization) {
    return 1;
  }
  std::string reason, detail;
  if (mapping.organization != nullptr && mapping.organization->identifier != expect->organization) {
    reason = "impersonation";
    detail = "the server's certificate belongs to " + mapping.organization->identifier + ", not " +
             expect->organization;
  } else if (mapping.outcome == MappingOutcome::kSuspended) {
    reason = "peer_suspended";
    detail = expect->organization + " is suspended";
  } else if (mapping.outcome == MappingOutcome::kAmbiguous) {
    reason = "peer_identity_ambiguous";
    detail = "the server's certificate names more than one organization";
  } else {
    reason = "peer_identity_unknown";
    detail = "the server's certificate maps to no registered organization (expected " + expect->organization + ")";
  }
  X509_STORE_CTX_set_error(ctx, X509_V_ERR_APPLICATION_VERIFICATION);
  recordHandshakeRefusal(ctx, X509_V_ERR_APPLICATION_VERIFICATION, reason, detail);
  return 0;
}

int contextIndex() {
  static const int kIndex = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return kIndex;
}

// Keeps the newest session the server handed out; returning 1 keeps OpenSSL's reference.
int rememberSession(SSL* ssl, SSL_SESSION* session) {
  auto* expect =
      static_cast<ClientTlsContext::Expectation*>(SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), contextIndex()));
  if (expect == nullptr || SSL_SESSION_is_resumable(session) != 1) return 0;
  std::lock_guard<std::mutex> lock(expect->sessionMutex);
  expect->latestSession.reset(session);
  return 1;
}

Error tlsError(const std::string& what) {
  return Error{ErrorCode::kInternal, what + ": " + ossl::drainErrors(), "TLS configuration error"};
}

}  // namespace

SSL_SESSION* ClientTlsContext::takeResumableSession() const {
  if (!expectation) return nullptr;
  std::lock_guard<std::mutex> lock(expectation->sessionMutex);
  if (!expectation->latestSession) return nullptr;
  SSL_SESSION_up_ref(expectation->latestSession.get());
  return expectation->latestSession.get();
}

Result<ClientTlsContext> makeClientContext(const TlsMaterial& material, const ExpectedHost& host,
                                           const std::string& expectedOrganization,
                                           const OrganizationDirectory& directory) {
  ClientTlsContext out;
  try {
    Poco::Net::Context::Params params;
    params.verificationMode = Poco::Net::Context::VERIFY_STRICT;
    params.loadDefaultCAs = false;
    params.cipherList = kTls12Ciphers;
    out.context = new Poco::Net::Context(Poco::Net::Context::TLS_CLIENT_USE, params);
    out.context->enableExtendedCertificateVerification(false);  // checked inside OpenSSL instead
    out.context->enableSessionCache(true);
  } catch (const Poco::Exception& e) {
    return fail(ErrorCode::kInternal, "cannot create a client TLS context: " + e.displayText(), "TLS configuration error");
  }
  SSL_CTX* ctx = out.context->sslContext();
  if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 || SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) != 1 ||
      SSL_CTX_set_cipher_list(ctx, kTls12Ciphers) != 1 || SSL_CTX_set_ciphersuites(ctx, kTls13Ciphersuites) != 1) {
    return tl::make_unexpected(tlsError("cannot restrict protocols and ciphers"));
  }
  SSL_CTX_set_security_level(ctx, 2);
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION | SSL_OP_IGNORE_UNEXPECTED_EOF);
  if (SSL_CTX_use_certificate(ctx, material.leaf.get()) != 1) return tl::make_unexpected(tlsError("own certificate"));
  for (int i = 0; i < sk_X509_num(material.intermediates.get()); ++i) {
    if (SSL_CTX_add1_chain_cert(ctx, sk_X509_value(material.intermediates.get(), i)) != 1) {
      return tl::make_unexpected(tlsError("own chain"));
    }
  }
  if (SSL_CTX_use_PrivateKey(ctx, material.key.get()) != 1) return tl::make_unexpected(tlsError("own key"));
  auto store = makeVerifyStore(material);
  if (!store) return tl::make_unexpected(store.error());
  SSL_CTX_set_cert_store(ctx, store->release());
  SSL_CTX_set_purpose(ctx, X509_PURPOSE_SSL_SERVER);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);  // not Poco's callback: it could consult a prompt handler
  SSL_CTX_set_verify_depth(ctx, 4);
  X509_VERIFY_PARAM* param = SSL_CTX_get0_param(ctx);
  const int hostOk = host.isIp ? X509_VERIFY_PARAM_set1_ip_asc(param, host.name.c_str())
                              : X509_VERIFY_PARAM_set1_host(param, host.name.c_str(), 0);
  if (hostOk != 1) return tl::make_unexpected(tlsError("cannot set the expected host " + host.name));
  out.expectation = std::make_unique<ClientTlsContext::Expectation>();
  out.expectation->directory = &directory;
  out.expectation->organization = expectedOrganization;
  SSL_CTX_set_cert_verify_callback(ctx, &verifyPeerServer, out.expectation.get());
  SSL_CTX_set_ex_data(ctx, contextIndex(), out.expectation.get());
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
  SSL_CTX_sess_set_new_cb(ctx, &rememberSession);
  ERR_clear_error();
  return out;
}

}  // namespace hie::auth
