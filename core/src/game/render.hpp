// How an event reads to one character.
#pragma once

#include <string>
#include <vector>

#include "store/store.hpp"

namespace holomush::core {

// The line `viewer_character_id` sees for `event`; empty when they see nothing (their own
// arrival, say). Pure.
std::string RenderEvent(const EventRecord& event, const std::string& viewer_character_id);

// RenderEvent, done once per viewpoint (the actor's, everyone else's) of the event last
// rendered on this thread: the recipients of an event, delivered one after another on one
// thread, share those two renderings. The reference holds until the next call on this thread.
const std::string& RenderEventOnce(const EventRecord& event,
                                   const std::string& viewer_character_id);

// Every event type the game writes (metrics export each at 0 from the start).
const std::vector<std::string>& KnownEventTypes();

}  // namespace holomush::core
