#include "auth/tls/server_tls_context.h"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <Poco/Exception.h>

#include "auth/tls/handshake_verification.h"

namespace hie::auth {

const char* const kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";
const char* const kTls13Ciphersuites = "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256";

namespace {

Error tlsError(const std::string& what) {
  return Error{ErrorCode::kInternal, what + ": " + ossl::drainErrors(), "TLS configuration error"};
}

}  // namespace

Result<Poco::Net::Context::Ptr> makeServerContext(const TlsMaterial& material, const ServerTlsOptions& options) {
  Poco::Net::Context::Ptr context;
  try {
    Poco::Net::Context::Params params;
    params.verificationMode = Poco::Net::Context::VERIFY_STRICT;
    params.verificationDepth = options.verifyDepth;
    params.loadDefaultCAs = false;
    params.cipherList = kTls12Ciphers;
    context = new Poco::Net::Context(Poco::Net::Context::TLS_SERVER_USE, params);
    // Poco would otherwise match the client's certificate against its IP address.
    context->enableExtendedCertificateVerification(false);
    context->disableStatelessSessionResumption();
    context->enableSessionCache(true, options.sessionIdContext);  // also sets the session id context
    context->preferServerCiphers();
  } catch (const Poco::Exception& e) {
    return fail(ErrorCode::kInternal, "cannot create the TLS context: " + e.displayText(), "TLS configuration error");
  }

  SSL_CTX* ctx = context->sslContext();
  if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 || SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) != 1) {
    return tl::make_unexpected(tlsError("cannot restrict protocol versions"));
  }
  SSL_CTX_set_security_level(ctx, 2);
  if (SSL_CTX_set_cipher_list(ctx, kTls12Ciphers) != 1 || SSL_CTX_set_ciphersuites(ctx, kTls13Ciphersuites) != 1) {
    return tl::make_unexpected(tlsError("cannot set cipher suites"));
  }
  if (SSL_CTX_set1_groups_list(ctx, "X25519:P-256:P-384") != 1) {
    return tl::make_unexpected(tlsError("cannot set key exchange groups"));
  }
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION | SSL_OP_CIPHER_SERVER_PREFERENCE |
                               SSL_OP_IGNORE_UNEXPECTED_EOF);
  if (options.sessionLifetimeSeconds > 0) {
    SSL_CTX_set_timeout(ctx, options.sessionLifetimeSeconds);  // OpenSSL 3.0 would keep them 7200 s
  } else {
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_num_tickets(ctx, 0);  // no TLS 1.3 tickets either
  }

  if (SSL_CTX_use_certificate(ctx, material.leaf.get()) != 1) {
    return tl::make_unexpected(tlsError("cannot use the node certificate"));
  }
  for (int i = 0; i < sk_X509_num(material.intermediates.get()); ++i) {
    if (SSL_CTX_add1_chain_cert(ctx, sk_X509_value(material.intermediates.get(), i)) != 1) {
      return tl::make_unexpected(tlsError("cannot add an intermediate certificate"));
    }
  }
  if (SSL_CTX_use_PrivateKey(ctx, material.key.get()) != 1 || SSL_CTX_check_private_key(ctx) != 1) {
    return tl::make_unexpected(tlsError("cannot use the node private key"));
  }

  auto store = makeVerifyStore(material);
  if (!store) return tl::make_unexpected(store.error());
  SSL_CTX_set_cert_store(ctx, store->release());  // the context owns it now
  SSL_CTX_set_purpose(ctx, X509_PURPOSE_SSL_CLIENT);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT | SSL_VERIFY_CLIENT_ONCE,
                     &verifyClientCertificate);
  SSL_CTX_set_verify_depth(ctx, options.verifyDepth);

  // Name the acceptable issuers in the CertificateRequest so clients pick the right certificate.
  if (STACK_OF(X509_NAME)* names = clientCaNames(material)) SSL_CTX_set_client_CA_list(ctx, names);  // takes it
  ERR_clear_error();
  return context;
}

}  // namespace hie::auth
