#include "holomush/loadgen/telnet_lines.hpp"

namespace holomush::loadgen {
namespace {

constexpr unsigned char kIac = 255;
constexpr unsigned char kSb = 250;
constexpr unsigned char kSe = 240;
constexpr unsigned char kWill = 251;
constexpr unsigned char kDont = 254;
constexpr unsigned char kEscape = 0x1b;

}  // namespace

void TelnetLineReader::Reset() {
  state_ = State::kData;
  partial_.clear();
}

void TelnetLineReader::Feed(std::string_view bytes, std::vector<std::string>& lines) {
  for (const char ch : bytes) {
    const auto c = static_cast<unsigned char>(ch);
    switch (state_) {
      case State::kData:
        if (c == kIac) {
          state_ = State::kIac;
        } else if (c == kEscape) {
          state_ = State::kEsc;
        } else if (c == '\n') {
          lines.push_back(std::move(partial_));
          partial_.clear();
        } else if (c != '\r' && c != '\0') {
          partial_.push_back(ch);
          if (partial_.size() >= kMaxLine) {
            lines.push_back(std::move(partial_));
            partial_.clear();
          }
        }
        break;
      case State::kIac:
        if (c == kIac) {  // an escaped 255 data byte
          partial_.push_back(ch);
          state_ = State::kData;
        } else if (c >= kWill && c <= kDont) {
          state_ = State::kOption;
        } else if (c == kSb) {
          state_ = State::kSub;
        } else {  // NOP, GA, EOR, ...: two bytes
          state_ = State::kData;
        }
        break;
      case State::kOption:
        state_ = State::kData;
        break;
      case State::kSub:
        if (c == kIac) state_ = State::kSubIac;
        break;
      case State::kSubIac:
        state_ = c == kSe ? State::kData : State::kSub;
        break;
      case State::kEsc:
        // CSI sequences (ESC [ ... final byte) are what MUSH servers send; other escapes
        // are two bytes.
        state_ = c == '[' ? State::kCsi : State::kData;
        break;
      case State::kCsi:
        if (c >= 0x40 && c <= 0x7e) state_ = State::kData;
        break;
    }
  }
}

}  // namespace holomush::loadgen
