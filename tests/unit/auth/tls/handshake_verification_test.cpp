// What the verify and info callbacks record belongs to the connection (the
// SSL object), not to the thread: two handshakes interleaved on one thread,
// one refused and one admitted, each keep their own record and standing.
#include "auth/tls/handshake_verification.h"

#include <openssl/bio.h>
#include <openssl/err.h>

#include <gtest/gtest.h>

#include "auth/tls/client_standing.h"
#include "auth/tls/server_tls_context.h"
#include "tests/support/test_pki.h"

namespace hie::auth {
namespace {

using testing::CertSpec;
using testing::Credential;
using testing::TestPki;

// A client and a server SSL joined by an in-memory BIO pair.
struct MemoryConnection {
  ossl::UniquePtr<SSL> client;
  ossl::UniquePtr<SSL> server;
  bool serverDone = false;  // finished or failed
  int serverResult = 0;

  MemoryConnection(SSL_CTX* clientCtx, SSL_CTX* serverCtx)
      : client(SSL_new(clientCtx)), server(SSL_new(serverCtx)) {
    BIO* c = nullptr;
    BIO* s = nullptr;
    if (!client || !server || BIO_new_bio_pair(&c, 0, &s, 0) != 1) throw std::runtime_error("cannot set up");
    SSL_set_bio(client.get(), c, c);
    SSL_set_bio(server.get(), s, s);
    SSL_set_connect_state(client.get());
    SSL_set_accept_state(server.get());
  }
  // One flight each way.
  void step() {
    if (serverDone) return;
    SSL_do_handshake(client.get());
    serverResult = SSL_do_handshake(server.get());
    const int err = SSL_get_error(server.get(), serverResult);
    serverDone = serverResult == 1 || (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE);
    ERR_clear_error();
  }
};

class HandshakeRecordTest : public ::testing::Test {
 protected:
  void SetUp() override {
    CertSpec node;
    node.commonName = "node-a";
    node.extendedKeyUsage = {"serverAuth", "clientAuth"};
    const Credential nodeCert = pki.leaf(node);
    files.certificate = testing::writeFile(dir.path(), "node.crt", pki.chainPem(nodeCert));
    files.privateKey = testing::writeFile(dir.path(), "node.key", nodeCert.keyPem());
    files.trustBundle = testing::writeFile(dir.path(), "ca.pem", pki.root.certPem());
    auto opened = TlsMaterialStore::open(files);
    ASSERT_TRUE(opened) << opened.error().internal;
    store = std::move(*opened);
    auto made = makeServerContext(*store->current()->material, ServerTlsOptions{});
    ASSERT_TRUE(made) << made.error().internal;
    context = *made;
    store->attachTo(context->sslContext());
    recheck = std::make_unique<ClientRecheck>(*store, nullptr);
    recheck->attachTo(context->sslContext());
  }

  // A client context presenting leaf (and the intermediate); it does not check the server.
  static ossl::UniquePtr<SSL_CTX> clientPresenting(const Credential& leaf, const Credential& intermediate) {
    ossl::UniquePtr<SSL_CTX> ctx(SSL_CTX_new(TLS_client_method()));
    SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_NONE, nullptr);
    SSL_CTX_use_certificate(ctx.get(), leaf.cert());
    SSL_CTX_use_PrivateKey(ctx.get(), leaf.key());
    SSL_CTX_add1_chain_cert(ctx.get(), intermediate.cert());
    return ctx;
  }

  Credential member(const TestPki& issuer, const std::string& name) const {
    CertSpec spec;
    spec.commonName = name;
    spec.extendedKeyUsage = {"clientAuth"};
    return issuer.leaf(spec);
  }

  TestPki pki = TestPki::create();
  testing::TempDir dir;
  TlsFiles files;
  std::unique_ptr<TlsMaterialStore> store;
  Poco::Net::Context::Ptr context;
  std::unique_ptr<ClientRecheck> recheck;
};

TEST_F(HandshakeRecordTest, InterleavedHandshakesOnOneThreadKeepTheirOwnRecords) {
  TestPki stranger = TestPki::create();
  const Credential outsider = member(stranger, "outsider");
  const Credential insider = member(pki, "insider");
  auto refusedCtx = clientPresenting(outsider, stranger.intermediate);
  auto admittedCtx = clientPresenting(insider, pki.intermediate);
  MemoryConnection refused(refusedCtx.get(), context->sslContext());
  MemoryConnection admitted(admittedCtx.get(), context->sslContext());
  // The refused handshake fails first; the admitted one completes afterwards on the same thread.
  for (int i = 0; i < 10 && !refused.serverDone; ++i) {
    refused.step();
    admitted.step();
  }
  for (int i = 0; i < 10 && !admitted.serverDone; ++i) admitted.step();
  ASSERT_TRUE(refused.serverDone && admitted.serverDone);
  EXPECT_NE(refused.serverResult, 1);
  ASSERT_EQ(admitted.serverResult, 1);

  const VerificationRecord* refusedRecord = findVerificationRecord(refused.server.get());
  ASSERT_NE(refusedRecord, nullptr);
  ASSERT_TRUE(refusedRecord->refusal);
  EXPECT_EQ(refusedRecord->refusal->reason, "unknown_issuer");
  EXPECT_EQ(refusedRecord->refusal->certSha256, outsider.sha256Fingerprint());
  EXPECT_NE(refusedRecord->handshakeError, 0u) << "the info callback kept the error that ended it";

  const VerificationRecord* admittedRecord = findVerificationRecord(admitted.server.get());
  EXPECT_TRUE(admittedRecord == nullptr || !admittedRecord->refusal) << "the other connection's refusal is not here";

  auto standing = recheck->takeHandshake(admitted.server.get());
  ASSERT_TRUE(standing) << standing.error().internal;
  ASSERT_TRUE(standing->leaf);
  EXPECT_EQ(X509_cmp(standing->leaf.get(), insider.cert()), 0);
  EXPECT_EQ(standing->verifiedWith, store->current());
  EXPECT_FALSE(recheck->takeHandshake(admitted.server.get())) << "taken once";
  EXPECT_FALSE(recheck->takeHandshake(refused.server.get())) << "a refused handshake leaves no standing";
}

TEST_F(HandshakeRecordTest, AVerificationOutsideAHandshakeWritesToTheAttachedRecord) {
  TestPki stranger = TestPki::create();
  const Credential outsider = member(stranger, "outsider");
  ossl::UniquePtr<X509_STORE_CTX> ctx(X509_STORE_CTX_new());
  ASSERT_TRUE(ctx);
  ASSERT_EQ(X509_STORE_CTX_init(ctx.get(), store->current()->verifyStore.get(), outsider.cert(), nullptr), 1);
  X509_STORE_CTX_set_verify_cb(ctx.get(), &verifyClientCertificate);
  VerificationRecord record;
  attachVerificationRecord(ctx.get(), &record);
  EXPECT_NE(X509_verify_cert(ctx.get()), 1);
  ASSERT_TRUE(record.refusal);
  EXPECT_EQ(record.refusal->reason, "unknown_issuer");
  ERR_clear_error();
}

}  // namespace
}  // namespace hie::auth
