// The alert rules (alerts/holomush.rules.yaml) compiled into the operator at build time.
#pragma once

namespace holomush::op {

const char* EmbeddedAlertRules();

}  // namespace holomush::op
