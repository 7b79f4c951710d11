#include "exchange/net/poco_ssl_handle.h"

#include <Poco/Net/SecureSocketImpl.h>
#include <Poco/Net/SecureStreamSocket.h>
#include <Poco/Net/SecureStreamSocketImpl.h>

namespace hie::exchange {
namespace {

// Poco (1.11, and upstream to this day) keeps the SSL* private and offers no
// accessor. Reading it is the only way to tie OpenSSL's callbacks to the
// connection they ran for without guessing from threads or descriptors.
// Explicit instantiation may name private members ([temp.spec]/6), so the two
// pointers-to-member below are taken once, checked by the compiler: if Poco
// renames or retypes them this stops compiling rather than misbehaving.
struct ImplMember {
  using type = Poco::Net::SecureSocketImpl Poco::Net::SecureStreamSocketImpl::*;
  friend type member(ImplMember);
};
struct SslMember {
  using type = SSL* Poco::Net::SecureSocketImpl::*;
  friend type member(SslMember);
};

template <class Tag, typename Tag::type Member>
struct Expose {
  friend typename Tag::type member(Tag) { return Member; }
};

template struct Expose<ImplMember, &Poco::Net::SecureStreamSocketImpl::_impl>;
template struct Expose<SslMember, &Poco::Net::SecureSocketImpl::_pSSL>;

}  // namespace

ssl_st* sslOf(const Poco::Net::SecureStreamSocket& socket) {
  auto* impl = dynamic_cast<Poco::Net::SecureStreamSocketImpl*>(socket.impl());
  if (impl == nullptr) return nullptr;
  return (impl->*member(ImplMember{})).*member(SslMember{});
}

}  // namespace hie::exchange
