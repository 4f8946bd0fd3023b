// The store interfaces the game works through, bundled (PostgreSQL behind them in production).
#pragma once

#include "store/store.hpp"

namespace holomush::core {

struct Stores {
  AccountStore& accounts;
  WorldStore& world;
  AliasStore& aliases;
  SessionStore& sessions;
  EventStore& events;
};

}  // namespace holomush::core
