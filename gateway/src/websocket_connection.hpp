// WebSocket clients on /ws (Boost.Beast): JSON messages, one per text frame (ws_message.hpp).
#pragma once

#include <boost/asio/ip/tcp.hpp>

#include "connection.hpp"

namespace holomush::gateway {

// Takes a freshly accepted socket: admits it (connection limit, shutdown; refused with HTTP
// 503) and serves the WebSocket upgrade on /ws; other requests get 404 and are closed.
void AcceptWebSocket(boost::asio::ip::tcp::socket socket, const ConnectionEnv& env);

}  // namespace holomush::gateway
