// The evidence bundle of one signed request (docs/audit-format.md, "Evidence
// bundles"): what a leaf holds of the request's and the answer's signatures,
// and the files an auditor verifies offline with openssl, sha256sum and
// scripts/verify-audit. Pure: `hie-node audit evidence` reads the leaf, its
// proof and the certificate chains, and writes the files.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"

namespace hie::audit {

// One signature a leaf records: the exact base that was signed, the raw signature, and what the
// base's "@signature-params" line names.
struct RecordedSignature {
  std::string base;       // the signature base's bytes (the leaf's string, %XX decoded)
  std::string signature;  // raw bytes (the leaf's base64, decoded)
  std::string keyId;      // keyid parameter: the signer's certificate SHA-256, lower-case hex
  std::string algorithm;  // alg parameter ("" when the base names none)
  std::int64_t created = 0;
};

// The fields of a leaf the evidence needs; request and answer are absent when the leaf holds no such
// signature (a leaf of 27 keys, written before signed requests, holds neither).
struct LeafEvidence {
  std::string requestId, action, node, certSha256, organization, patient, purpose, time, outcome, signatureCheck;
  std::optional<RecordedSignature> request;
  std::optional<RecordedSignature> answer;
};

// Reads a stored leaf (canonical form). kInvalidInput naming the field when a signature is not
// canonical base64, a base is missing beside its signature, or a base's parameters lack keyid or created.
Result<LeafEvidence> readLeafEvidence(const std::string& leaf);

// A stored string with each %XX replaced by the byte XX (docs/audit-format.md, "Strings").
std::string percentDecoded(const std::string& stored);

// A parameter of the "@signature-params" line (the base's last line): a string's content or an
// integer's digits; nullopt when absent.
std::optional<std::string> signatureBaseParameter(const std::string& base, const std::string& name);

// The line of an answer's base that covers the request's signature labelled label:
// `"signature";req;key="<label>": :<b64>:`.
std::string requestSignatureLine(const std::string& rawRequestSignature, const std::string& label = "sig1");
// The label of the request's signature an answer's base covers (its `"signature";req;key="..."` line);
// "sig1" when the base has no such line or the label is not an RFC 8941 key.
std::string requestLabelIn(const std::string& answerBase);

// ECDSA r || s (two equal halves, as RFC 9421 signs) as a DER ECDSA-Sig-Value, SEQUENCE { INTEGER r,
// INTEGER s }, which `openssl dgst -verify` takes; nullopt for an empty or odd-sized input.
std::optional<std::string> ecdsaSignatureDer(const std::string& rawRs);

struct BundleFile {
  std::string name;
  std::string content;
};

// What the bundle is made of, read by the command.
struct EvidenceSource {
  std::string origin;        // the log holding the leaf
  std::uint64_t index = 0;   // the leaf's index
  std::string exportLine;    // the leaf's export line (logExportLine) with its inclusion proof, no newline
  std::string logKey;        // the log's verifier key (vkey)
  LeafEvidence leaf;         // its request signature is present
  std::string requesterChainPem;
  std::string nodeChainPem;  // when leaf.answer is present
  std::string madeAt;        // RFC 3339, for VERIFY.txt
};

// The bundle's files: entry.jsonl, log-key.vkey, request-base.txt, request-signature.bin (and .der for
// ECDSA), requester-chain.pem, the answer-* files and node-chain.pem when the answer was signed, and
// VERIFY.txt (a POSIX sh script of the checks, see docs). kInvalidInput for an algorithm it cannot
// give openssl commands for.
Result<std::vector<BundleFile>> evidenceBundle(const EvidenceSource& source);

}  // namespace hie::audit
