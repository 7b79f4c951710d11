#include "exchange/http/pg_udap_store.h"

#include <cstdlib>

#include <openssl/rand.h>
#include <pqxx/pqxx>
#include <spdlog/spdlog.h>

#include "common/base64.h"
#include "common/json_writer.h"
#include "db/pooled.h"
#include "exchange/http/form_body.h"

namespace hie::exchange {
namespace {

constexpr std::uint64_t kPruneEvery = 1000;
constexpr std::int64_t kPruneSeconds = 60;
constexpr int kPruneBatch = 5000;
constexpr int kRegisterAttempts = 3;

constexpr const char* kColumns =
    "c.client_id, o.identifier, c.san_uri, c.status, c.client_name, c.contacts, c.scope, c.software_statement, "
    "c.cert_sha256, to_char(c.registered_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), "
    "to_char(c.updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')";

std::string contactsJson(const std::vector<std::string>& contacts) {
  JsonWriter w;
  w.beginArray();
  for (const auto& c : contacts) w.value(c);
  w.endArray();
  return w.take();
}

std::vector<std::string> contactsFromJson(const std::string& text) {
  auto parsed = parseJsonObject("{\"c\":" + text + "}");
  if (!parsed) return {};
  return parsed->at("c").strings;
}

UdapClientRecord recordFrom(const pqxx::row& row) {
  UdapClientRecord r;
  r.clientId = row[0].as<std::string>();
  r.organization = row[1].as<std::string>();
  r.sanUri = row[2].as<std::string>();
  r.active = row[3].as<std::string>() == "active";
  r.clientName = row[4].as<std::string>();
  r.contacts = contactsFromJson(row[5].as<std::string>());
  r.scope = row[6].as<std::string>();
  r.softwareStatement = row[7].as<std::string>();
  r.certSha256 = row[8].as<std::string>();
  r.registeredAt = row[9].as<std::string>();
  r.updatedAt = row[10].as<std::string>();
  return r;
}

}  // namespace

std::string newUdapClientId() {
  // Drawn again while it would begin with '-': an operator passes it on a command line
  // (`hie-node udap clients cancel ID`), where a leading '-' reads as an option.
  for (;;) {
    unsigned char bytes[16];
    if (RAND_bytes(bytes, sizeof bytes) != 1) std::abort();  // a broken CSPRNG is a broken invariant
    std::string text = base64Encode(std::string(reinterpret_cast<const char*>(bytes), sizeof bytes));
    while (!text.empty() && text.back() == '=') text.pop_back();
    for (char& c : text) {
      if (c == '+') c = '-';
      if (c == '/') c = '_';
    }
    if (text.front() != '-') return text;
  }
}

Result<UdapRegistered> PgUdapClientStore::registerClient(const UdapRegistration& reg) {
  return db::withConnection(pool_, "register UDAP client", [&](pqxx::connection& c) -> Result<UdapRegistered> {
    for (int attempt = 1;; ++attempt) {
      try {
        pqxx::work tx(c);
        auto active = tx.exec_params(
            "SELECT client_id FROM udap_clients WHERE san_uri = $1 AND status = 'active' FOR UPDATE", reg.sanUri);
        UdapRegistered out;
        if (!active.empty()) {
          out.clientId = active[0][0].as<std::string>();
          tx.exec_params(
              "UPDATE udap_clients SET organization_id = (SELECT id FROM organizations WHERE identifier = $2), "
              "client_name = $3, contacts = $4, scope = $5, software_statement = $6, cert_sha256 = $7, "
              "updated_at = now() WHERE client_id = $1",
              out.clientId, reg.organization, reg.clientName, contactsJson(reg.contacts), reg.scope,
              reg.softwareStatement, reg.certSha256);
        } else {
          out.clientId = newUdapClientId();
          out.created = true;
          auto inserted = tx.exec_params(
              "INSERT INTO udap_clients (client_id, organization_id, san_uri, status, client_name, contacts, scope, "
              "software_statement, cert_sha256) SELECT $1, id, $3, 'active', $4, $5, $6, $7, $8 "
              "FROM organizations WHERE identifier = $2",
              out.clientId, reg.organization, reg.sanUri, reg.clientName, contactsJson(reg.contacts), reg.scope,
              reg.softwareStatement, reg.certSha256);
          if (inserted.affected_rows() != 1) {
            return fail(ErrorCode::kNotFound, "register UDAP client: no organization " + reg.organization,
                        "Unknown organization.");
          }
        }
        tx.commit();
        return out;
      } catch (const pqxx::unique_violation&) {
        // Another process registered the same SAN URI at the same time: modify its row instead.
        if (attempt >= kRegisterAttempts) throw;
      }
    }
  });
}

Result<std::optional<std::string>> PgUdapClientStore::cancelBySan(const std::string& sanUri) {
  return db::withConnection(pool_, "cancel UDAP client", [&](pqxx::connection& c) -> Result<std::optional<std::string>> {
    pqxx::work tx(c);
    auto r = tx.exec_params(
        "UPDATE udap_clients SET status = 'cancelled', updated_at = now() WHERE san_uri = $1 AND status = 'active' "
        "RETURNING client_id",
        sanUri);
    tx.commit();
    if (r.empty()) return std::optional<std::string>();
    return std::optional<std::string>(r[0][0].as<std::string>());
  });
}

Result<bool> PgUdapClientStore::cancelById(const std::string& clientId) {
  return db::withConnection(pool_, "cancel UDAP client", [&](pqxx::connection& c) -> Result<bool> {
    pqxx::work tx(c);
    auto r = tx.exec_params(
        "UPDATE udap_clients SET status = 'cancelled', updated_at = now() WHERE client_id = $1 AND status = 'active'",
        clientId);
    tx.commit();
    return r.affected_rows() == 1;
  });
}

Result<std::optional<UdapClientRecord>> PgUdapClientStore::find(const std::string& clientId) const {
  return db::withConnection(pool_, "find UDAP client", [&](pqxx::connection& c) -> Result<std::optional<UdapClientRecord>> {
    pqxx::read_transaction tx(c);
    auto r = tx.exec_params(std::string("SELECT ") + kColumns +
                                " FROM udap_clients c JOIN organizations o ON o.id = c.organization_id "
                                "WHERE c.client_id = $1",
                            clientId);
    if (r.empty()) return std::optional<UdapClientRecord>();
    return std::optional<UdapClientRecord>(recordFrom(r[0]));
  });
}

Result<std::vector<UdapClientRecord>> PgUdapClientStore::list() const {
  return db::withConnection(pool_, "list UDAP clients", [&](pqxx::connection& c) -> Result<std::vector<UdapClientRecord>> {
    pqxx::read_transaction tx(c);
    auto r = tx.exec(std::string("SELECT ") + kColumns +
                     " FROM udap_clients c JOIN organizations o ON o.id = c.organization_id "
                     "ORDER BY c.status = 'active' DESC, c.registered_at DESC, c.client_id");
    std::vector<UdapClientRecord> out;
    for (const auto& row : r) out.push_back(recordFrom(row));
    return out;
  });
}

bool PgJtiRegistry::prunePending(std::int64_t now) {
  const bool many = ++inserts_ % kPruneEvery == 0;
  std::lock_guard<std::mutex> lock(pruneMutex_);
  if (!many && now - lastPrune_ < kPruneSeconds) return false;
  lastPrune_ = now;
  return true;
}

Result<bool> PgJtiRegistry::remember(const std::string& issuer, const std::string& jti, std::int64_t rememberUntil,
                                     std::int64_t now) {
  const bool prune = prunePending(now);
  return db::withConnection(pool_, "remember UDAP jti", [&](pqxx::connection& c) -> Result<bool> {
    pqxx::nontransaction tx(c);
    // general.md 7.1.4: a jti may be used again once every JWT that carried it has expired, so a row
    // of this pair that is past its time goes first.
    tx.exec_params("DELETE FROM udap_jti WHERE issuer = $1 AND jti = $2 AND remember_until < to_timestamp($3)", issuer,
                   jti, now);
    auto r = tx.exec_params(
        "INSERT INTO udap_jti (issuer, jti, remember_until) VALUES ($1, $2, to_timestamp($3)) "
        "ON CONFLICT (issuer, jti) DO NOTHING",
        issuer, jti, rememberUntil);
    const bool first = r.affected_rows() == 1;
    if (prune) {
      try {
        auto gone = tx.exec_params(
            "DELETE FROM udap_jti WHERE (issuer, jti) IN (SELECT issuer, jti FROM udap_jti "
            "WHERE remember_until < now() - interval '300 seconds' LIMIT $1)",
            kPruneBatch);
        if (gone.affected_rows() > 0) spdlog::debug("pruned {} expired UDAP jti rows", gone.affected_rows());
      } catch (const pqxx::broken_connection&) {
        throw;
      } catch (const std::exception& e) {
        spdlog::warn("cannot prune expired UDAP jti rows: {}", e.what());
      }
    }
    return first;
  });
}

}  // namespace hie::exchange
