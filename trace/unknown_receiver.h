// The `to` of a message whose receiver the recorder could not learn (trace
// format 1.4): erl_drv_send_term from a thread of the driver's own fires no
// send trace. The model gives such a message to the first process that takes
// the binary without a message of its own (docs/spec/model.md, decision 72).
#pragma once

#include <string_view>

namespace refctrace::trace {

inline constexpr std::string_view kUnknownReceiver = "unknown";

}  // namespace refctrace::trace
