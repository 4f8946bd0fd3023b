#include "telnet_protocol.hpp"

namespace holomush::gateway {

using namespace telnet;

namespace {

void Append(std::string& out, uint8_t a, uint8_t b, uint8_t c) {
  out.push_back(static_cast<char>(a));
  out.push_back(static_cast<char>(b));
  out.push_back(static_cast<char>(c));
}

}  // namespace

std::string TelnetProtocol::Start() {
  std::string out;
  him_[kOptNaws] = Q::kWantYes;
  Append(out, kIac, kDo, kOptNaws);
  him_[kOptTtype] = Q::kWantYes;
  Append(out, kIac, kDo, kOptTtype);
  return out;
}

bool TelnetProtocol::WantHim(uint8_t opt) { return opt == kOptNaws || opt == kOptTtype; }

// We never echo what the player types on our own initiative (only while a password is typed,
// and then we ask first), and "suppress go-ahead" is free: we never send GA.
bool TelnetProtocol::AllowUs(uint8_t opt) { return opt == kOptSga; }

void TelnetProtocol::Feed(std::string_view bytes, std::string& data, std::string& reply) {
  for (const char ch : bytes) {
    const auto b = static_cast<uint8_t>(ch);
    switch (state_) {
      case State::kData:
        if (b == kIac) {
          state_ = State::kIac;
        } else {
          data.push_back(ch);
        }
        break;
      case State::kIac:
        state_ = State::kData;
        switch (b) {
          case kIac:
            data.push_back(ch);
            break;
          case kWill:
            state_ = State::kWill;
            break;
          case kWont:
            state_ = State::kWont;
            break;
          case kDo:
            state_ = State::kDo;
            break;
          case kDont:
            state_ = State::kDont;
            break;
          case kSb:
            state_ = State::kSb;
            sb_.clear();
            sb_overflow_ = false;
            break;
          case kAyt:
            reply += "[Yes]\r\n";
            break;
          default:
            // NOP, GA, DM, BRK, IP, AO, EC, EL, a stray SE, unknown commands: nothing to do.
            break;
        }
        break;
      case State::kWill:
        state_ = State::kData;
        OnWill(b, reply);
        break;
      case State::kWont:
        state_ = State::kData;
        OnWont(b, reply);
        break;
      case State::kDo:
        state_ = State::kData;
        OnDo(b, reply);
        break;
      case State::kDont:
        state_ = State::kData;
        OnDont(b, reply);
        break;
      case State::kSb:
        if (b == kIac) {
          state_ = State::kSbIac;
        } else if (sb_.size() < kMaxSubnegotiation) {
          sb_.push_back(ch);
        } else {
          sb_overflow_ = true;
        }
        break;
      case State::kSbIac:
        if (b == kIac) {
          state_ = State::kSb;
          if (sb_.size() < kMaxSubnegotiation) {
            sb_.push_back(ch);
          } else {
            sb_overflow_ = true;
          }
        } else if (b == kSe) {
          state_ = State::kData;
          if (!sb_overflow_) OnSubnegotiation(reply);
          sb_.clear();
        } else {
          // IAC <command> inside a subnegotiation: the peer forgot IAC SE. Drop what we
          // collected and read the byte as the command it is.
          sb_.clear();
          state_ = State::kIac;
          const char again = ch;
          Feed(std::string_view(&again, 1), data, reply);
        }
        break;
    }
  }
}

void TelnetProtocol::OnWill(uint8_t opt, std::string& reply) {
  switch (him_[opt]) {
    case Q::kNo:
      if (WantHim(opt)) {
        him_[opt] = Q::kYes;
        Append(reply, kIac, kDo, opt);
      } else {
        Append(reply, kIac, kDont, opt);
        return;
      }
      break;
    case Q::kYes:
      return;
    case Q::kWantNo:
      him_[opt] = Q::kNo;
      return;
    case Q::kWantYes:
      him_[opt] = Q::kYes;
      break;
  }
  if (opt == kOptTtype && !ttype_requested_) {
    ttype_requested_ = true;
    reply.push_back(static_cast<char>(kIac));
    reply.push_back(static_cast<char>(kSb));
    reply.push_back(static_cast<char>(kOptTtype));
    reply.push_back(static_cast<char>(kTtypeSend));
    reply.push_back(static_cast<char>(kIac));
    reply.push_back(static_cast<char>(kSe));
  }
}

void TelnetProtocol::OnWont(uint8_t opt, std::string& reply) {
  switch (him_[opt]) {
    case Q::kNo:
      return;
    case Q::kYes:
      him_[opt] = Q::kNo;
      Append(reply, kIac, kDont, opt);
      return;
    case Q::kWantNo:
    case Q::kWantYes:
      him_[opt] = Q::kNo;
      return;
  }
}

void TelnetProtocol::OnDo(uint8_t opt, std::string& reply) {
  switch (us_[opt]) {
    case Q::kNo:
      if (AllowUs(opt)) {
        us_[opt] = Q::kYes;
        Append(reply, kIac, kWill, opt);
      } else {
        Append(reply, kIac, kWont, opt);
      }
      return;
    case Q::kYes:
      return;
    case Q::kWantNo:
      us_[opt] = Q::kNo;
      return;
    case Q::kWantYes:
      us_[opt] = Q::kYes;
      return;
  }
}

void TelnetProtocol::OnDont(uint8_t opt, std::string& reply) {
  switch (us_[opt]) {
    case Q::kNo:
      return;
    case Q::kYes:
      us_[opt] = Q::kNo;
      Append(reply, kIac, kWont, opt);
      return;
    case Q::kWantNo:
    case Q::kWantYes:
      us_[opt] = Q::kNo;
      return;
  }
}

void TelnetProtocol::OnSubnegotiation(std::string& /*reply*/) {
  if (sb_.empty()) return;
  const auto opt = static_cast<uint8_t>(sb_[0]);
  if (opt == kOptNaws && sb_.size() == 5) {
    auto byte = [this](size_t i) { return static_cast<uint16_t>(static_cast<uint8_t>(sb_[i])); };
    window_size_ = WindowSize{.width = static_cast<uint16_t>((byte(1) << 8) | byte(2)),
                              .height = static_cast<uint16_t>((byte(3) << 8) | byte(4))};
  } else if (opt == kOptTtype && sb_.size() >= 2 && static_cast<uint8_t>(sb_[1]) == kTtypeIs) {
    terminal_type_.clear();
    for (size_t i = 2; i < sb_.size() && terminal_type_.size() < kMaxTerminalType; ++i) {
      const auto c = static_cast<uint8_t>(sb_[i]);
      if (c >= 0x21 && c <= 0x7e) terminal_type_.push_back(static_cast<char>(c));
    }
  }
}

std::string TelnetProtocol::SetServerEcho(bool on) {
  std::string out;
  Q& q = us_[kOptEcho];
  if (on) {
    if (q == Q::kYes || q == Q::kWantYes) return out;
    q = Q::kWantYes;
    Append(out, kIac, kWill, kOptEcho);
  } else {
    if (q == Q::kNo || q == Q::kWantNo) return out;
    q = Q::kWantNo;
    Append(out, kIac, kWont, kOptEcho);
  }
  return out;
}

std::string TelnetProtocol::EscapeIac(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char ch : text) {
    out.push_back(ch);
    if (static_cast<uint8_t>(ch) == kIac) out.push_back(ch);
  }
  return out;
}

}  // namespace holomush::gateway
