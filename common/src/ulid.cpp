#include "holomush/common/ulid.hpp"

#include <openssl/rand.h>

#include <chrono>

namespace holomush::common {
namespace {

constexpr char kAlphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

int DecodeChar(char c) {
  for (int i = 0; i < 32; ++i) {
    if (kAlphabet[i] == c) return i;
  }
  return -1;
}

std::string Encode(uint64_t millis, const std::array<uint8_t, 10>& random) {
  // 128 bits: 48 time + 80 random, written as 26 base32 digits (the first carries 3 bits).
  std::array<uint8_t, 16> bytes{};
  for (int i = 0; i < 6; ++i) bytes[i] = static_cast<uint8_t>(millis >> (8 * (5 - i)));
  for (int i = 0; i < 10; ++i) bytes[6 + i] = random[i];
  std::string out(26, '0');
  // Walk the 130-bit space (2 leading zero bits) five bits at a time.
  for (int digit = 0; digit < 26; ++digit) {
    int value = 0;
    for (int b = 0; b < 5; ++b) {
      int bit_index = digit * 5 + b - 2;  // index into the 128 bits
      int bit = 0;
      if (bit_index >= 0) bit = (bytes[bit_index / 8] >> (7 - bit_index % 8)) & 1;
      value = (value << 1) | bit;
    }
    out[digit] = kAlphabet[value];
  }
  return out;
}

}  // namespace

std::string UlidGenerator::Next() {
  auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                 std::chrono::system_clock::now().time_since_epoch())
                 .count();
  return NextAt(static_cast<uint64_t>(now));
}

std::string UlidGenerator::NextAt(uint64_t unix_millis) {
  std::lock_guard lock(mu_);
  if (unix_millis <= last_millis_) {
    // Same millisecond or the clock went back: stay on the last time and count up.
    for (int i = 9; i >= 0; --i) {
      if (++last_random_[i] != 0) break;
    }
  } else {
    last_millis_ = unix_millis;
    RAND_bytes(last_random_.data(), static_cast<int>(last_random_.size()));
    last_random_[0] &= 0x7f;  // headroom so increments in one millisecond never overflow
  }
  return Encode(last_millis_, last_random_);
}

std::string UlidFloor(uint64_t unix_millis) { return Encode(unix_millis, {}); }

bool IsUlid(const std::string& id) {
  if (id.size() != 26 || DecodeChar(id[0]) > 7) return false;
  for (char c : id) {
    if (DecodeChar(c) < 0) return false;
  }
  return true;
}

uint64_t UlidMillis(const std::string& id) {
  if (!IsUlid(id)) return 0;
  // The first 10 digits hold 50 bits: 2 zero bits and the 48-bit time.
  uint64_t value = 0;
  for (int i = 0; i < 10; ++i) value = (value << 5) | static_cast<uint64_t>(DecodeChar(id[i]));
  return value;
}

}  // namespace holomush::common
