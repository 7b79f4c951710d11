#include "common/utf8.h"

namespace hie {
namespace {

bool continuation(unsigned char c) { return c >= 0x80 && c <= 0xbf; }

}  // namespace

std::size_t utf8SequenceAt(std::string_view text, std::size_t i) {
  const auto at = [&](std::size_t k) { return static_cast<unsigned char>(text[i + k]); };
  const std::size_t left = text.size() - i;
  const unsigned char c = at(0);
  if (c < 0x80) return 1;
  if (c >= 0xc2 && c <= 0xdf) return left >= 2 && continuation(at(1)) ? 2 : 0;
  if (c >= 0xe0 && c <= 0xef) {
    if (left < 3 || !continuation(at(2))) return 0;
    const unsigned char d = at(1);
    // E0: no overlong forms; ED: no UTF-16 surrogates.
    const bool ok = c == 0xe0 ? (d >= 0xa0 && d <= 0xbf) : c == 0xed ? (d >= 0x80 && d <= 0x9f) : continuation(d);
    return ok ? 3 : 0;
  }
  if (c >= 0xf0 && c <= 0xf4) {
    if (left < 4 || !continuation(at(2)) || !continuation(at(3))) return 0;
    const unsigned char d = at(1);
    // F0: no overlong forms; F4: nothing past U+10FFFF.
    const bool ok = c == 0xf0 ? (d >= 0x90 && d <= 0xbf) : c == 0xf4 ? (d >= 0x80 && d <= 0x8f) : continuation(d);
    return ok ? 4 : 0;
  }
  return 0;  // a continuation byte without a lead, C0/C1 overlong leads, F5-FF
}

std::size_t validUtf8Prefix(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    const std::size_t n = utf8SequenceAt(text, i);
    if (n == 0) return i;
    i += n;
  }
  return text.size();
}

}  // namespace hie
