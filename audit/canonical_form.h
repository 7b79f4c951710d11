// The canonical serialization of an audit entry and of a checkpoint, and the
// hash and signature inputs built from it. docs/audit-format.md specifies the
// same bytes; an auditor reproduces them with `jq -cS` and openssl.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>

#include "audit/audit_event.h"

namespace hie::audit {

using CanonicalValue = std::variant<std::string, std::int64_t, bool>;
using CanonicalObject = std::map<std::string, CanonicalValue>;  // sorted keys

// Compact JSON, keys in byte order, strings escaped only for '"' and '\'
// (all strings are printable ASCII by construction), integers in decimal.
std::string canonicalJson(const CanonicalObject& object);
// One string as canonicalJson writes it: quoted, with only '"' and '\' escaped.
std::string canonicalString(const std::string& text);

// The entry's fields plus chain, seq and node, as a canonical object.
CanonicalObject entryObject(const AuditEvent& event, const std::string& node, const std::string& chain,
                            std::int64_t seq);

// Format v2: a leaf of the transparency log is the entry's fields plus node and its
// leaf index (27 keys; no chain or seq), the 5 keys of signed requests (32) and the 2 of UDAP,
// authentication and clientId: new leaves have 34 keys. Readers accept 27, 32 or 34 (leafKeyCountValid).

CanonicalObject leafObject(const AuditEvent& event, const std::string& node, std::uint64_t index);

// The leaf shapes there have been: 27 keys (before signed requests), 32 (signed requests), 34 (UDAP).
constexpr std::size_t kLeafKeysV2 = 27;
constexpr std::size_t kLeafKeysSigned = 32;
constexpr std::size_t kLeafKeysUdap = 34;

// How many top-level keys a canonical object (strings, integers, booleans; no nesting) has, or
// nullopt when the text is no such object.
std::optional<std::size_t> canonicalKeyCount(const std::string& json);
// True for a leaf of 27, 32 or 34 keys; anything else (33 keys, ...) no version of the node wrote.
bool leafShapeValid(const std::string& json);

// The value of a top-level string key of a canonical object (quotes and backslashes unescaped),
// or nullopt when there is none. In canonical form '"<key>":"' after '{' or ',' occurs only as that key.
std::optional<std::string> canonicalStringField(const std::string& json, const std::string& key);
// The value of a top-level boolean key, or nullopt.
std::optional<bool> canonicalBoolField(const std::string& json, const std::string& key);

constexpr const char* kGenesisHash = "0000000000000000000000000000000000000000000000000000000000000000";

// SHA-256 (lowercase hex) of "hie-audit-entry-v1\n" + prevHash + "\n" + canonical.
std::string entryHash(const std::string& prevHash, const std::string& canonical);

// The bytes the Ed25519 signature covers for an entry: "hie-audit-sig-v1\n" + entryHash.
std::string entrySignatureInput(const std::string& entryHash);

// The bytes the Ed25519 signature covers for a checkpoint: "hie-audit-checkpoint-v1\n" + canonical.
std::string checkpointSignatureInput(const std::string& canonicalCheckpoint);

std::string sha256Hex(const std::string& bytes);

}  // namespace hie::audit
