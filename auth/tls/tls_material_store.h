// The node's TLS material as it is now, swapped whole on reload (SIGHUP or a
// changed file). New handshakes take the new certificate, key, trust anchors
// and CRLs through an OpenSSL certificate callback; connections already open
// keep what they negotiated. Broken new material is refused and the old
// stays in use.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <openssl/ssl.h>

#include "auth/tls/tls_material.h"
#include "common/result.h"

namespace hie::auth {

struct LoadedTls {
  std::shared_ptr<const TlsMaterial> material;
  ossl::UniquePtr<X509_STORE> verifyStore;  // anchors + CRLs, ready for handshakes
  std::int64_t loadedAt = 0;  // seconds since the epoch when it was loaded (for a reload: when it took over)
};

class TlsMaterialStore {
 public:
  // Loads and checks the files; kInvalidInput naming the file at fault.
  static Result<std::unique_ptr<TlsMaterialStore>> open(const TlsFiles& files);

  std::shared_ptr<const LoadedTls> current() const;
  // The material in use before the last successful reload(), null before the first: what was signed
  // with the previous key (the node's UDAP access tokens) stays verifiable across one reload.
  std::shared_ptr<const LoadedTls> previous() const;
  // Loads the files again; on any problem keeps the current material and returns the error.
  Result<bool> reload();
  // A check new material must also pass before reload() swaps it in (serve, with udap.enabled: the
  // UDAP startup checks); it returns the problem, nullopt when fine. A problem refuses the reload
  // (kInvalidInput with that text) and the current material stays. Set before reloads can run.
  using MaterialCheck = std::function<std::optional<std::string>(const TlsMaterial&)>;
  void requireOnReload(MaterialCheck check);
  // True when a file's modification time or size changed since the last (re)load.
  bool filesChanged() const;

  // Installs the per-handshake callback on a server SSL_CTX; the store must outlive it.
  void attachTo(SSL_CTX* serverContext);

 private:
  explicit TlsMaterialStore(TlsFiles files) : files_(std::move(files)) {}
  static Result<std::shared_ptr<LoadedTls>> load(const TlsFiles& files);
  std::vector<std::pair<long long, long long>> stamps() const;

  TlsFiles files_;
  mutable std::mutex mutex_;
  std::shared_ptr<const LoadedTls> current_;
  std::shared_ptr<const LoadedTls> previous_;
  std::vector<std::pair<long long, long long>> stamps_;
  MaterialCheck reloadCheck_;
};

// Every CRL must be signed by a trust anchor or by a CA certificate of the
// node's own chain; kInvalidInput naming the unknown issuer otherwise.
Result<bool> checkCrlIssuers(const TlsMaterial& material, const std::string& crlFile);

}  // namespace hie::auth
