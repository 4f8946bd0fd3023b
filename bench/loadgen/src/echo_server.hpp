// The bench echo server: a trivial in-memory MUSH on one epoll thread that speaks just
// enough of HoloMUSH's telnet dialect (create, look, go, say, pose, page, QUIT) for the
// load generator. Against it, the load generator's own ceiling is measured.
#pragma once

namespace holomush::loadgen {

// Listens on 127.0.0.1:<port> and serves until killed; returns 1 when it cannot listen.
int RunEchoServer(int port);

}  // namespace holomush::loadgen
