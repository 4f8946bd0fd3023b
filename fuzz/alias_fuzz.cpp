// Fuzzes the alias cache with a script of sets, removals and expansions: whatever the order,
// no expansion loops or runs past the depth limit, and a refused set changes nothing.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "game/alias_cache.hpp"

namespace {

void Check(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace holomush::core;
  AliasCache cache([](const std::string& w) { return w == "say" || w == "look"; });
  // A few names, so cycles and chains are likely; commands are "<name> <rest>".
  const std::vector<std::string> names = {"a", "b", "c", "d", "say", "look"};
  const std::vector<std::string> players = {"p1", "p2", ""};
  size_t i = 0;
  auto next = [&]() -> uint8_t { return i < size ? data[i++] : 0; };
  while (i < size) {
    const uint8_t op = next() % 5;
    const std::string& player = players[next() % players.size()];
    const std::string& alias = names[next() % 4];  // never a command name
    const std::string command = names[next() % names.size()] + " x" + std::to_string(next());
    switch (op) {
      case 0:
      case 1: {
        const auto before = player.empty() ? cache.ListSystem() : cache.ListPlayer(player);
        const auto set = player.empty() ? cache.SetSystem(alias, command)
                                        : cache.SetPlayer(player, alias, command);
        if (!set) {
          Check((player.empty() ? cache.ListSystem() : cache.ListPlayer(player)) == before);
        }
        break;
      }
      case 2:
        if (player.empty()) {
          cache.RemoveSystem(alias);
        } else {
          cache.RemovePlayer(player, alias);
        }
        break;
      default: {
        const auto expanded = cache.Expand(player.empty() ? "p1" : player, alias + " tail");
        if (expanded) {
          // Expansion ends at a real command (or an unknown word) with the arguments kept.
          Check(expanded->size() >= 4 && expanded->substr(expanded->size() - 4) == "tail");
        }
        break;
      }
    }
  }
  return 0;
}
