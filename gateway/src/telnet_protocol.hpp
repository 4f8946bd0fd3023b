// The telnet protocol layer (RFC 854/855/1143): IAC commands out of the byte stream, option
// negotiation answered or refused, NAWS and TTYPE subnegotiations read. Pure; no I/O.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace holomush::gateway {

namespace telnet {
inline constexpr uint8_t kIac = 255;
inline constexpr uint8_t kDont = 254;
inline constexpr uint8_t kDo = 253;
inline constexpr uint8_t kWont = 252;
inline constexpr uint8_t kWill = 251;
inline constexpr uint8_t kSb = 250;
inline constexpr uint8_t kGa = 249;
inline constexpr uint8_t kAyt = 246;
inline constexpr uint8_t kNop = 241;
inline constexpr uint8_t kSe = 240;

inline constexpr uint8_t kOptEcho = 1;
inline constexpr uint8_t kOptSga = 3;
inline constexpr uint8_t kOptTtype = 24;
inline constexpr uint8_t kOptNaws = 31;

inline constexpr uint8_t kTtypeIs = 0;
inline constexpr uint8_t kTtypeSend = 1;
}  // namespace telnet

struct WindowSize {
  uint16_t width = 0;
  uint16_t height = 0;
  bool operator==(const WindowSize&) const = default;
};

// Owned by one telnet connection and used only on its strand.
//
// Option state follows RFC 1143's "Q method" reduced to what we need: each side of each
// option is No, Yes, or WantYes/WantNo (we asked and wait for the answer). We never answer an
// answer, so negotiation cannot loop however hostile the peer is.
class TelnetProtocol {
 public:
  // Longest subnegotiation kept; longer ones are read to the end and dropped.
  static constexpr size_t kMaxSubnegotiation = 256;
  static constexpr size_t kMaxTerminalType = 64;

  // Bytes to send when a connection opens: we ask for NAWS and TTYPE.
  std::string Start();

  // Consumes bytes from the network. Plain data (with IAC IAC turned into one 0xFF byte) is
  // appended to `data`; bytes that must be sent back (negotiation answers) to `reply`.
  void Feed(std::string_view bytes, std::string& data, std::string& reply);

  // Asks the client to stop (true) or resume (false) echoing what the player types; returns
  // the bytes to send (empty when the state already matches).
  std::string SetServerEcho(bool on);
  // Whether we currently claim WILL ECHO (the client should not echo locally).
  bool server_echo() const { return us_[telnet::kOptEcho] == Q::kYes; }

  std::optional<WindowSize> window_size() const { return window_size_; }
  const std::string& terminal_type() const { return terminal_type_; }

  // Escapes text for the wire: every 0xFF byte is doubled.
  static std::string EscapeIac(std::string_view text);

 private:
  enum class State : uint8_t { kData, kIac, kWill, kWont, kDo, kDont, kSb, kSbIac };
  enum class Q : uint8_t { kNo, kYes, kWantYes, kWantNo };

  void OnWill(uint8_t opt, std::string& reply);
  void OnWont(uint8_t opt, std::string& reply);
  void OnDo(uint8_t opt, std::string& reply);
  void OnDont(uint8_t opt, std::string& reply);
  void OnSubnegotiation(std::string& reply);
  static bool WantHim(uint8_t opt);  // options we like the client to enable
  static bool AllowUs(uint8_t opt);  // options we agree to enable when asked

  State state_ = State::kData;
  std::string sb_;  // current subnegotiation (option byte first), capped
  bool sb_overflow_ = false;
  std::array<Q, 256> us_{};   // options on our side (WILL/WONT)
  std::array<Q, 256> him_{};  // options on the client's side (DO/DONT)
  bool ttype_requested_ = false;
  std::optional<WindowSize> window_size_;
  std::string terminal_type_;
};

}  // namespace holomush::gateway
