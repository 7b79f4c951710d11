#include "auth/signatures/http_signature.h"

#include <gtest/gtest.h>

#include <string>

namespace hie::auth {
namespace {

HttpMessage request() {
  HttpMessage m;
  m.method = "GET";
  m.targetUri = "https://Node-B.example:443/fhir/Patient?identifier=urn:oid:1.2%7C42&_count=5";
  m.fields = {{"X-Request-Id", "r-1"}, {"X-Purpose-Of-Use", "TREAT"}, {"Accept", "application/fhir+json"}};
  return m;
}

ComponentId named(const std::string& name) {
  ComponentId id;
  id.name = name;
  return id;
}

SignatureParams covering(std::vector<ComponentId> components) {
  SignatureParams p;
  p.components = std::move(components);
  p.created = 1700000000;
  return p;
}

TEST(HttpSignature, DerivedComponentsOfTheNodesRequests) {
  auto base = signatureBase(request(), nullptr,
                            covering({named("@method"), named("@target-uri"), named("@authority"), named("@path"),
                                      named("@query"), named("@request-target"), named("@scheme")}));
  ASSERT_TRUE(base) << base.error().internal;
  EXPECT_EQ(*base,
            "\"@method\": GET\n"
            "\"@target-uri\": https://Node-B.example:443/fhir/Patient?identifier=urn:oid:1.2%7C42&_count=5\n"
            "\"@authority\": node-b.example\n"
            "\"@path\": /fhir/Patient\n"
            "\"@query\": ?identifier=urn:oid:1.2%7C42&_count=5\n"
            "\"@request-target\": /fhir/Patient?identifier=urn:oid:1.2%7C42&_count=5\n"
            "\"@scheme\": https\n"
            "\"@signature-params\": (\"@method\" \"@target-uri\" \"@authority\" \"@path\" \"@query\" "
            "\"@request-target\" \"@scheme\");created=1700000000");
}

TEST(HttpSignature, AuthorityKeepsANonDefaultPort) {
  HttpMessage m = request();
  m.targetUri = "https://127.0.0.1:8443/fhir/metadata";
  auto base = signatureBase(m, nullptr, covering({named("@authority"), named("@query")}));
  ASSERT_TRUE(base);
  EXPECT_EQ(base->substr(0, base->find("\"@sig")), "\"@authority\": 127.0.0.1:8443\n\"@query\": ?\n");
}

TEST(HttpSignature, FieldNamesAreCaseInsensitiveAndLinesCombine) {
  HttpMessage m = request();
  m.fields.emplace_back("accept", "  text/plain ");
  auto base = signatureBase(m, nullptr, covering({named("accept"), named("x-purpose-of-use")}));
  ASSERT_TRUE(base);
  EXPECT_EQ(base->substr(0, base->find("\"@sig")),
            "\"accept\": application/fhir+json, text/plain\n\"x-purpose-of-use\": TREAT\n");
}

TEST(HttpSignature, ComponentParametersKeepTheirReceivedOrder) {
  auto sigs = parseSignatures(R"(a=("signature";key="sig1";req "x-d";sf);created=1;keyid="k")", "a=:AAAA:");
  ASSERT_TRUE(sigs) << sigs.error().internal;
  const SignatureParams& p = sigs->front().params;
  EXPECT_EQ(p.serialize(), R"(("signature";key="sig1";req "x-d";sf);created=1;keyid="k")");
  ComponentId reordered = p.components[0];
  reordered.order.clear();
  EXPECT_EQ(reordered.serialize(), R"("signature";req;key="sig1")");
  EXPECT_TRUE(reordered == p.components[0]);
  EXPECT_TRUE(p.covers("x-d"));
  EXPECT_FALSE(p.covers("signature"));  // only with req
}

TEST(HttpSignature, ParsesSeveralSignaturesInInputOrder) {
  auto sigs = parseSignatures(R"(b=("@method");created=2, a=();created=1)", "a=:AQID:, b=:BAUG:");
  ASSERT_TRUE(sigs) << sigs.error().internal;
  ASSERT_EQ(sigs->size(), 2u);
  EXPECT_EQ((*sigs)[0].label, "b");
  EXPECT_EQ((*sigs)[0].signature, std::string("\x04\x05\x06"));
  EXPECT_EQ((*sigs)[1].signatureField(), ":AQID:");
}

TEST(HttpSignature, RefusesMalformedSignatureFields) {
  struct Case {
    const char* input;
    const char* signature;
  };
  const Case kBad[] = {
      {R"(a=();created=1)", "b=:AAAA:"},                       // labels differ
      {R"(a=();created=1, b=();created=1)", "a=:AAAA:"},      // b has no Signature
      {R"(a=();created=1)", "a=:AAAA:, b=:AAAA:"},            // b has no Signature-Input
      {R"(a=();created=1, a=();created=2)", "a=:AAAA:"},      // duplicate label
      {R"(a="@method";created=1)", "a=:AAAA:"},               // not an inner list
      {R"(a=();created=1)", "a=(:AAAA:)"},                    // signature not a byte sequence
      {R"(a=();created=1)", "a=\"AAAA\""},                    // signature not a byte sequence
      {R"(a=();created=1)", "a=::"},                          // empty signature
      {R"(a=(@method);created=1)", "a=:AAAA:"},               // component is a token
      {R"(a=("X-Request-Id");created=1)", "a=:AAAA:"},        // upper-case component name
      {R"(a=("x request");created=1)", "a=:AAAA:"},           // not a field name
      {R"(a=("@signature-params");created=1)", "a=:AAAA:"},   // may not be listed
      {R"(a=("x-a";bs);created=1)", "a=:AAAA:"},              // bs is not supported
      {R"(a=("x-a";tr);created=1)", "a=:AAAA:"},              // tr is not supported
      {R"(a=("x-a";foo);created=1)", "a=:AAAA:"},             // unknown component parameter
      {R"(a=("x-a";req=?0);created=1)", "a=:AAAA:"},          // req must be true
      {R"(a=("x-a";key=1);created=1)", "a=:AAAA:"},           // key must be a string
      {R"(a=("x-a";name="n");created=1)", "a=:AAAA:"},        // name only on @query-param
      {R"(a=("@method";key="k");created=1)", "a=:AAAA:"},     // key only on fields
      {R"(a=();created="1")", "a=:AAAA:"},                    // created must be an integer
      {R"(a=();keyid=abc)", "a=:AAAA:"},                      // keyid must be a string
      {R"(a=();foo="x")", "a=:AAAA:"},                        // unknown signature parameter
      {R"(a=();created=1)", ""},                              // no Signature at all
      {"a=(", "a=:AAAA:"},                                    // not a dictionary
  };
  for (const Case& c : kBad) {
    auto sigs = parseSignatures(c.input, c.signature);
    EXPECT_FALSE(sigs) << c.input << " / " << c.signature;
    if (!sigs) {
      EXPECT_EQ(sigs.error().code, ErrorCode::kInvalidInput);
    }
  }
}

TEST(HttpSignature, BoundsSignaturesComponentsAndBase) {
  std::string input;
  std::string signature;
  for (int i = 0; i < 17; ++i) {
    input += (i ? ", s" : "s") + std::to_string(i) + "=();created=1";
    signature += (i ? ", s" : "s") + std::to_string(i) + "=:AAAA:";
  }
  EXPECT_FALSE(parseSignatures(input, signature));  // 17 signatures
  std::string components;
  for (int i = 0; i < 65; ++i) components += " \"x-" + std::to_string(i) + "\"";
  EXPECT_FALSE(parseSignatures("a=(" + components + ")", "a=:AAAA:"));  // 65 components
  EXPECT_TRUE(parseSignatures("a=(" + components.substr(0, components.rfind(" \"")) + ")", "a=:AAAA:"));

  HttpMessage m = request();
  m.fields.emplace_back("x-big", std::string(8200, 'a'));
  auto base = signatureBase(m, nullptr, covering({named("x-big")}));
  ASSERT_FALSE(base);
  EXPECT_NE(base.error().internal.find("8192"), std::string::npos);
}

// Signature-Input and Signature longer than kMaxSignatureFieldBytes are refused before parsing; the
// hostile ones the review found (a member with 161k parameters, 162k members) took a minute before.
TEST(HttpSignature, BoundsTheLengthOfTheSignatureFields) {
  const std::string prefix = R"(sig1=("@method");created=1;tag=")";
  const std::string longest = prefix + std::string(kMaxSignatureFieldBytes - prefix.size() - 1, 't') + "\"";
  ASSERT_EQ(longest.size(), kMaxSignatureFieldBytes);
  EXPECT_TRUE(parseSignatures(longest, "sig1=:AAAA:"));
  auto tooLong = parseSignatures(longest + ";nonce=\"n\"", "sig1=:AAAA:");
  ASSERT_FALSE(tooLong);
  EXPECT_EQ(tooLong.error().code, ErrorCode::kInvalidInput);
  EXPECT_NE(tooLong.error().internal.find("longer than 8192"), std::string::npos) << tooLong.error().internal;
  EXPECT_FALSE(parseSignatures(R"(sig1=("@method");created=1)", "sig1=:" + std::string(8200, 'A') + ":"));

  std::string hostileParameters = R"(sig1=("@method"))";
  std::string hostileMembers;
  for (int i = 0; hostileParameters.size() < 800000; ++i) {
    hostileParameters += ";p" + std::to_string(i);
    hostileMembers += (i ? ", s" : "s") + std::to_string(i) + "=:AAAA:";
  }
  EXPECT_FALSE(parseSignatures(hostileParameters, "sig1=:AAAA:"));
  EXPECT_FALSE(parseSignatures(R"(sig1=("@method");created=1)", hostileMembers));
  EXPECT_FALSE(parseSignatures(hostileMembers, "sig1=:AAAA:"));
  // Within the length, a member over the parser's bound of parameters is refused too.
  std::string parameters;
  for (int i = 0; i < 33; ++i) parameters += ";tag=\"" + std::to_string(i) + "\";p" + std::to_string(i);
  EXPECT_FALSE(parseSignatures(R"(sig1=("@method"))" + parameters, "sig1=:AAAA:"));
}

TEST(HttpSignature, BaseRefusesWhatCannotBeResolved) {
  const HttpMessage m = request();
  HttpMessage response;
  response.status = 200;
  response.fields = {{"X-Request-Id", "r-1"}};
  ComponentId reqMethod = named("@method");
  reqMethod.req = true;
  ComponentId nameless = named("@query-param");
  ComponentId missingParam = named("@query-param");
  missingParam.paramName = "nope";
  ComponentId count = named("@query-param");
  count.paramName = "_count";
  ComponentId missingKey = named("x-purpose-of-use");
  missingKey.key = "a";

  EXPECT_FALSE(signatureBase(m, nullptr, covering({named("x-absent")})));         // field not in the message
  EXPECT_FALSE(signatureBase(m, nullptr, covering({named("@method"), named("@method")})));  // duplicate
  EXPECT_FALSE(signatureBase(m, nullptr, covering({named("@unknown")})));         // unsupported derived
  EXPECT_FALSE(signatureBase(m, nullptr, covering({named("@status")})));          // @status of a request
  EXPECT_FALSE(signatureBase(m, nullptr, covering({reqMethod})));                 // req in a request
  EXPECT_FALSE(signatureBase(response, nullptr, covering({reqMethod})));          // req without the request
  EXPECT_FALSE(signatureBase(response, nullptr, covering({named("@method")})));   // @method of a response
  EXPECT_FALSE(signatureBase(m, nullptr, covering({nameless})));                  // @query-param without name
  EXPECT_FALSE(signatureBase(m, nullptr, covering({missingParam})));              // parameter not in the query
  EXPECT_FALSE(signatureBase(m, nullptr, covering({missingKey})));                // TREAT is not a dictionary with a
  EXPECT_FALSE(signatureBase(m, nullptr, covering({named("@signature-params")})));
  EXPECT_TRUE(signatureBase(m, nullptr, covering({count})));
  EXPECT_TRUE(signatureBase(response, &m, covering({named("@status"), reqMethod})));

  HttpMessage twice = m;
  twice.targetUri += "&_count=6";
  EXPECT_FALSE(signatureBase(twice, nullptr, covering({count})));  // a parameter named twice

  HttpMessage odd = m;
  odd.fields.emplace_back("x-odd", "caf\xc3\xa9");
  EXPECT_FALSE(signatureBase(odd, nullptr, covering({named("x-odd")})));  // non-ASCII value
  odd.fields.back().second = "a\nb";
  EXPECT_FALSE(signatureBase(odd, nullptr, covering({named("x-odd")})));  // a bare line break
  odd.targetUri = "/relative";
  EXPECT_FALSE(signatureBase(odd, nullptr, covering({named("@path")})));
  HttpMessage badStatus = response;
  badStatus.status = 42;
  EXPECT_FALSE(signatureBase(badStatus, nullptr, covering({named("@status")})));
}

TEST(HttpSignature, SignatureParamsSerialiseInTheNodesOrder) {
  SignatureParams p = covering({named("@method")});
  p.keyid = "abc";
  p.alg = "ed25519";
  p.nonce = "n\"1";
  p.expires = 1700000060;
  p.tag = "t";
  EXPECT_EQ(p.serialize(),
            R"(("@method");created=1700000000;expires=1700000060;nonce="n\"1";alg="ed25519";keyid="abc";tag="t")");
  EXPECT_EQ(signatureInputField("sig1", p), "sig1=" + p.serialize());
  EXPECT_EQ(signatureField("sig1", std::string("\x01\x02\x03", 3)), "sig1=:AQID:");
}

TEST(ContentDigest, MembersAreCheckedStrictly) {
  const std::string body = "{}";
  const std::string good = contentDigestField(body);
  EXPECT_EQ(checkContentDigest(good, body), DigestCheck::kMatches);
  EXPECT_EQ(checkContentDigest(good + ", md5=:AAAA:", body), DigestCheck::kMatches);
  EXPECT_EQ(checkContentDigest(good + ", sha-512=:AAAA:", body), DigestCheck::kMismatch);  // every known one
  EXPECT_EQ(checkContentDigest(good, body + " "), DigestCheck::kMismatch);
  EXPECT_EQ(checkContentDigest("sha-256=\"x\"", body), DigestCheck::kMalformed);
  EXPECT_EQ(checkContentDigest("", body), DigestCheck::kNoKnownAlgorithm);
  EXPECT_EQ(checkContentDigest("sha=:AAAA:", body), DigestCheck::kNoKnownAlgorithm);
}

// The review's hostile Content-Digest: 162k members in ~100 lines took 95 s to parse. Longer than
// kMaxSignatureFieldBytes is malformed before parsing; within it, more than 64 members is.
TEST(ContentDigest, BoundsTheFieldAndItsMembers) {
  const std::string body = "{}";
  const std::string good = contentDigestField(body);
  std::string hostile = good;
  for (int i = 0; hostile.size() < 800000; ++i) hostile += ", a" + std::to_string(i) + "=:AAAA:";
  EXPECT_EQ(checkContentDigest(hostile, body), DigestCheck::kMalformed);

  std::string padded = good + ", pad=\"";
  padded += std::string(kMaxSignatureFieldBytes - padded.size() - 1, 'x') + "\"";
  ASSERT_EQ(padded.size(), kMaxSignatureFieldBytes);
  EXPECT_EQ(checkContentDigest(padded, body), DigestCheck::kMatches);
  EXPECT_EQ(checkContentDigest(padded + ", x", body), DigestCheck::kMalformed);

  std::string many = good;
  for (int i = 1; i < 64; ++i) many += ", a" + std::to_string(i) + "=:AAAA:";
  EXPECT_EQ(checkContentDigest(many, body), DigestCheck::kMatches);  // 64 members
  EXPECT_EQ(checkContentDigest(many + ", a64=:AAAA:", body), DigestCheck::kMalformed);
}

}  // namespace
}  // namespace hie::auth
