// Telnet clients: the telnet protocol, line splitting and coalesced writes over Boost.Asio.
#pragma once

#include <boost/asio/ip/tcp.hpp>

#include "connection.hpp"

namespace holomush::gateway {

// Takes a freshly accepted socket: admits it (connection limit, shutdown) and starts a telnet
// connection on it, or refuses it politely.
void AcceptTelnet(boost::asio::ip::tcp::socket socket, const ConnectionEnv& env);

}  // namespace holomush::gateway
