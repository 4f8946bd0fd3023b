// How an event reads to one character.
#pragma once

#include <string>

#include "store/store.hpp"

namespace holomush::core {

// The line `viewer_character_id` sees for `event`; empty when they see nothing (their own
// arrival, say). Pure.
std::string RenderEvent(const EventRecord& event, const std::string& viewer_character_id);

}  // namespace holomush::core
