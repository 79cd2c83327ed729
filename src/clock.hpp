// SPDX-License-Identifier: MPL-2.0
// Deadlines for blocking calls: a timeout in milliseconds (-1 = none)
// becomes a point on the steady clock, or time_point::max().
#pragma once

#include <chrono>

namespace volley::detail {

using clock = std::chrono::steady_clock;

inline clock::time_point deadline_after(std::chrono::milliseconds timeout) noexcept {
    if (timeout.count() < 0) return clock::time_point::max();
    return clock::now() + timeout;
}

} // namespace volley::detail
