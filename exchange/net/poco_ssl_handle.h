// The OpenSSL connection under a Poco secure socket, so that the thread that
// runs a handshake can read what the callbacks recorded on it (SSL ex_data,
// auth/tls/handshake_verification.h, client_standing.h).
#pragma once

struct ssl_st;

namespace Poco::Net {
class SecureStreamSocket;
}

namespace hie::exchange {

// The socket's SSL object, owned by the socket (valid until it is reset or
// destroyed); null before one exists. Borrowed: never free it.
ssl_st* sslOf(const Poco::Net::SecureStreamSocket& socket);

}  // namespace hie::exchange
