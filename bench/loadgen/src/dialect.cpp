#include "holomush/loadgen/dialect.hpp"

#include <stdexcept>

namespace holomush::loadgen {

Dialect Dialect::For(std::string_view name) {
  if (name == "holomush") return Dialect(Target::kHoloMush);
  if (name == "tinymux") return Dialect(Target::kTinyMux);
  if (name == "echo") return Dialect(Target::kEcho);
  throw std::invalid_argument("unknown target '" + std::string(name) +
                              "' (holomush, tinymux, echo)");
}

std::string Dialect::name() const {
  switch (target_) {
    case Target::kHoloMush:
      return "holomush";
    case Target::kTinyMux:
      return "tinymux";
    case Target::kEcho:
      return "echo";
  }
  return "?";
}

std::string Dialect::hub_room() const {
  return target_ == Target::kTinyMux ? "Limbo" : "The Nexus";
}

std::string Dialect::Login(bool create, const std::string& user,
                           const std::string& password) const {
  return std::string(create ? "create " : "connect ") + user + " " + password + "\r\n";
}

std::string Dialect::Say(std::string_view text) const {
  return "say " + std::string(text) + "\r\n";
}

std::string Dialect::Pose(std::string_view text) const {
  return "pose " + std::string(text) + "\r\n";
}

std::string Dialect::Page(std::string_view who, std::string_view text) const {
  return "page " + std::string(who) + "=" + std::string(text) + "\r\n";
}

std::string Dialect::Look() const { return "look\r\n"; }

std::string Dialect::Move(size_t to_room) const { return "go out\r\n" + Enter(to_room); }

std::string Dialect::Enter(size_t room) const { return "go " + ExitName(room) + "\r\n"; }

// TinyMUX only knows QUIT in capitals; HoloMUSH takes any case.
std::string Dialect::Quit() const { return "QUIT\r\n"; }

bool Dialect::IsLoginRefusal(std::string_view line) const {
  static constexpr std::string_view kTinyMux[] = {
      "Either that player does not exist, or has a different password.",
      "That name is not allowed.",
      "The limit of new players for this hour has been reached.",
      "is already taken.",
  };
  static constexpr std::string_view kHoloMush[] = {
      "That name is already taken.",
      "Invalid username or password.",
      "This account is locked",
      "Usernames are 3 to 30",
      "Your first character takes your username",
      "Passwords must be",
      "Account not created.",
      "Login refused.",
      "The server is busy, try again in a moment.",  // core's password queue is full
  };
  auto contains = [&](std::string_view phrase) {
    return line.find(phrase) != std::string_view::npos;
  };
  if (target_ == Target::kTinyMux) {
    for (auto phrase : kTinyMux) {
      if (contains(phrase)) return true;
    }
    return false;
  }
  for (auto phrase : kHoloMush) {
    if (contains(phrase)) return true;
  }
  return false;
}

std::vector<std::string> Dialect::AdminLogin(const std::string& user,
                                             const std::string& password) const {
  if (target_ == Target::kTinyMux) {
    // The wizard (#1) of a fresh TinyMUX database; new players start in Limbo (#0).
    return {"connect wizard potrzebie\r\n", "@tel #0\r\n"};
  }
  // HoloMUSH admins are made explicitly (bench/run: `holomush admin create`).
  return {Login(false, user, password)};
}

std::string Dialect::Dig(size_t room) const {
  if (target_ == Target::kTinyMux) {
    return "@dig " + RoomName(room) + "=" + ExitName(room) + ",out\r\n";
  }
  return "dig " + ExitName(room) + " to \"" + RoomName(room) + "\" return out\r\n";
}

bool Dialect::IsDigReply(std::string_view line) const {
  if (target_ == Target::kTinyMux) return line.find(" created as room #") != std::string_view::npos;
  return line.rfind("Dug \"", 0) == 0 || IsDigDone(line);
}

bool Dialect::IsDigDone(std::string_view line) const {
  return target_ != Target::kTinyMux && line == "There is already an exit called that here.";
}

std::string Dialect::RoomName(size_t room) { return "Bench Room " + std::to_string(room); }

std::string Dialect::ExitName(size_t room) { return "b" + std::to_string(room); }

bool Dialect::IsRoomTitle(std::string_view line, std::string_view room) {
  if (line.size() < room.size() || line.compare(0, room.size(), room) != 0) return false;
  const std::string_view rest = line.substr(room.size());
  return rest.empty() || rest.rfind("(#", 0) == 0;
}

std::string Dialect::PlayerName(std::string_view prefix, size_t index) {
  std::string suffix(4, 'a');
  for (int i = 3; i >= 0; --i) {
    suffix[static_cast<size_t>(i)] = static_cast<char>('a' + index % 26);
    index /= 26;
  }
  std::string name(prefix);
  if (!name.empty()) {
    name[0] = static_cast<char>(name[0] >= 'a' && name[0] <= 'z' ? name[0] - 32 : name[0]);
    for (size_t i = 1; i < name.size(); ++i) {
      if (name[i] >= 'A' && name[i] <= 'Z') name[i] = static_cast<char>(name[i] + 32);
    }
  }
  return name + suffix;
}

}  // namespace holomush::loadgen
