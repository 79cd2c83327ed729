// SPDX-License-Identifier: MPL-2.0
// backoff: how long a dialer waits before its next attempt. Exponential from reconnect_ivl
// (at least 1 ms, so 0 means "at once" without spinning) up to reconnect_ivl_max, with up
// to a quarter of jitter so that clients do not retry in lockstep; the jittered wait never
// exceeds reconnect_ivl_max. reconnect_ivl_max 0 (or below reconnect_ivl): a fixed wait.
#pragma once

#include "clock.hpp"

#include <algorithm>
#include <chrono>
#include <random>

namespace volley::detail {

class backoff {
public:
    using ms = std::chrono::milliseconds;
    backoff(ms ivl, ms max) noexcept
        : base_(ivl), max_(max), next_(ivl),
          jitter_(static_cast<unsigned>(clock::now().time_since_epoch().count())) {}

    // The wait before the next attempt; the one after it grows.
    ms next() noexcept {
        const ms ivl = std::max(next_, ms(1));
        const ms extra(ivl.count() >= 4 ? jitter_() % (ivl.count() / 4 + 1) : 0);
        ms wait = ivl + extra;
        if (max_ > base_) {
            wait = std::min(wait, max_);
            next_ = std::min(max_, ivl * 2);
        }
        return wait;
    }
    // A working connection: the next wait starts from reconnect_ivl again.
    void reset() noexcept { next_ = base_; }

private:
    ms base_;
    ms max_;
    ms next_;
    std::minstd_rand jitter_;
};

} // namespace volley::detail
