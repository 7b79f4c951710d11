// Structured Field Values for HTTP (RFC 8941), the subset message signatures
// need: Lists, Dictionaries, Items, Inner Lists, Parameters; Integers,
// Decimals, Strings, Tokens, Byte Sequences and Booleans. Parsing follows
// section 4.2 (strict: anything else is an error), serialising section 4.1
// (canonical). Pure, bounded, and total on any input.
//
// Bounds: a parse fails (kInvalidInput) as soon as a List or Dictionary has more than kMaxMembers
// members, an Inner List more than kMaxInnerListItems items, or an Item or Inner List more than
// kMaxParameters parameters. Every key is checked against the earlier ones, so these bounds are
// what keeps the work linear in the input: without them a hostile field of 800 KB (Poco's limit,
// ~100 lines of 8 KiB) held 160k keys and cost the node a minute of CPU. They are below RFC 8941
// section 3's "MUST support at least" figures (1024 members, 256 items and parameters): this parser
// reads what message signatures carry (Signature-Input, Signature, Content-Digest and covered
// fields), none of which comes near them. docs/api.md, "Signed requests and answers", lists them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"

namespace hie::auth::sf {

inline constexpr std::size_t kMaxMembers = 64;          // of a List or a Dictionary
inline constexpr std::size_t kMaxInnerListItems = 64;   // of an Inner List (RFC 9421: covered components)
inline constexpr std::size_t kMaxParameters = 32;       // of an Item or an Inner List

struct BareItem {
  enum class Kind { kInteger, kDecimal, kString, kToken, kByteSequence, kBoolean };
  Kind kind = Kind::kBoolean;
  std::int64_t integer = 0;  // kInteger
  std::string text;          // kString, kToken, kByteSequence (raw bytes), kDecimal (canonical text)
  bool boolean = true;       // kBoolean

  static BareItem ofInteger(std::int64_t value);
  static BareItem ofString(std::string value);
  static BareItem ofToken(std::string value);
  static BareItem ofBytes(std::string raw);
  static BareItem ofBoolean(bool value);
  bool operator==(const BareItem& other) const;
};

using Parameters = std::vector<std::pair<std::string, BareItem>>;  // keys unique, in order

struct Item {
  BareItem value;
  Parameters params;
};

struct InnerList {
  std::vector<Item> items;
  Parameters params;
};

// A List member or a Dictionary member value: an Item or an Inner List.
struct Member {
  bool isInnerList = false;
  Item item;        // !isInnerList
  InnerList inner;  // isInnerList
};

using List = std::vector<Member>;
using Dictionary = std::vector<std::pair<std::string, Member>>;  // keys unique, in order

// Duplicate keys: RFC 8941 keeps the first position and the last value; kRefuse makes them an error
// (message signature labels must be unique).
enum class Duplicates { kLastWins, kRefuse };

// Each fails with kInvalidInput naming the problem. Inputs are the combined field value.
Result<List> parseList(std::string_view input);
Result<Dictionary> parseDictionary(std::string_view input, Duplicates duplicates = Duplicates::kLastWins);
Result<Item> parseItem(std::string_view input);

std::string serializeBareItem(const BareItem& item);
std::string serializeParameters(const Parameters& params);
std::string serializeItem(const Item& item);
std::string serializeInnerList(const InnerList& list);
std::string serializeMember(const Member& member);
std::string serializeList(const List& list);
std::string serializeDictionary(const Dictionary& dictionary);

// A valid key (lcalpha or "*", then lcalpha, DIGIT, "_", "-", ".", "*").
bool isKey(std::string_view text);

}  // namespace hie::auth::sf
