// What the load generator types and what it looks for, per server: HoloMUSH, TinyMUX, and
// the bench echo server (which speaks HoloMUSH's dialect). The world is the same on every
// server: a start room (the hub) with exits b0..bN-1 to "Bench Room 0".."Bench Room N-1",
// each with an exit "out" back to the hub.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace holomush::loadgen {

enum class Target { kHoloMush, kTinyMux, kEcho };

class Dialect {
 public:
  // "holomush", "tinymux" or "echo"; throws std::invalid_argument otherwise.
  static Dialect For(std::string_view name);

  Target target() const { return target_; }
  std::string name() const;
  // The room new characters start in.
  std::string hub_room() const;

  std::string Login(bool create, const std::string& user, const std::string& password) const;
  std::string Say(std::string_view text) const;
  std::string Pose(std::string_view text) const;
  std::string Page(std::string_view who, std::string_view text) const;
  std::string Look() const;
  // From a bench room to another through the hub: two commands, one write.
  std::string Move(size_t to_room) const;
  // From the hub into a bench room.
  std::string Enter(size_t room) const;
  std::string Quit() const;
  // A line that refuses a login or an account (name taken, wrong password, limits), so a
  // session fails at once instead of waiting for its timeout.
  bool IsLoginRefusal(std::string_view line) const;

  // Room building, as the admin (HoloMUSH: made by `holomush admin create`; TinyMUX: the wizard).
  std::vector<std::string> AdminLogin(const std::string& user, const std::string& password) const;
  std::string Dig(size_t room) const;
  bool IsDigReply(std::string_view line) const;
  // A refusal that means the world is already built (HoloMUSH: the exit exists).
  bool IsDigDone(std::string_view line) const;

  static std::string RoomName(size_t room);
  static std::string ExitName(size_t room);
  // Whether `line` is the title line of a room called `room` (TinyMUX appends "(#12R)"
  // for objects the viewer controls).
  static bool IsRoomTitle(std::string_view line, std::string_view room);
  // "Aa" + index in four letters: "Aaaaab". Letters only, as both servers' names want.
  static std::string PlayerName(std::string_view prefix, size_t index);

 private:
  explicit Dialect(Target target) : target_(target) {}
  Target target_;
};

}  // namespace holomush::loadgen
