// `holomush-bench-echo <port>`: see echo_server.hpp.
#include <cstdlib>
#include <iostream>

#include "echo_server.hpp"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: holomush-bench-echo <port>\n";
    return 2;
  }
  return holomush::loadgen::RunEchoServer(std::atoi(argv[1]));
}
