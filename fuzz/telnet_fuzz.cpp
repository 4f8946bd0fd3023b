// Fuzzes the telnet input path: IAC decoding, line splitting, UTF-8 repair, output escaping.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "line_splitter.hpp"
#include "telnet_protocol.hpp"
#include "text.hpp"

namespace {

using holomush::gateway::InputLine;
using holomush::gateway::LineSplitter;
using holomush::gateway::SanitizeUtf8;
using holomush::gateway::TelnetProtocol;

constexpr size_t kMaxLine = 64;

void Check(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  // The first byte chooses how the rest is cut into reads, as the network would.
  const size_t chunk = 1 + data[0] % 17;
  const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);

  TelnetProtocol protocol;
  LineSplitter splitter(kMaxLine);
  std::string decoded;
  std::string reply = protocol.Start();
  std::vector<InputLine> lines;
  for (size_t i = 0; i < input.size(); i += chunk) {
    std::string piece;
    protocol.Feed(input.substr(i, chunk), piece, reply);
    decoded += piece;
    splitter.Feed(piece, lines);
    if (i % 5 == 0) reply += protocol.SetServerEcho(i % 10 == 0);
  }
  Check(decoded.size() <= input.size());
  Check(splitter.pending() <= kMaxLine);
  Check(protocol.terminal_type().size() <= TelnetProtocol::kMaxTerminalType);
  for (const InputLine& line : lines) {
    if (line.too_long) {
      Check(line.text.empty());
      continue;
    }
    Check(SanitizeUtf8(line.text) == line.text);
    for (const char c : line.text) Check(static_cast<uint8_t>(c) >= 0x20 && c != 0x7F);
    Check(line.text.size() <= 3 * kMaxLine);
  }

  // Whatever we send escaped comes back unchanged through a fresh decoder.
  TelnetProtocol peer;
  std::string round_trip;
  std::string ignored;
  peer.Feed(TelnetProtocol::EscapeIac(input), round_trip, ignored);
  Check(round_trip == input);

  // Text never becomes a telnet command: every IAC in it is doubled, so a client's decoder
  // reads all of it as data and has nothing to answer.
  const std::string wire = holomush::gateway::ToTelnetText(input);
  Check(wire.size() >= 2 && wire.compare(wire.size() - 2, 2, "\r\n") == 0);
  TelnetProtocol client;
  std::string shown;
  std::string answer;
  client.Feed(wire, shown, answer);
  Check(answer.empty());
  Check(std::count(shown.begin(), shown.end(), '\xFF') ==
        std::count(input.begin(), input.end(), '\xFF'));
  return 0;
}
