// SPDX-License-Identifier: MPL-2.0
// The dialer's back-off on its own: doubling from reconnect_ivl with at most a quarter of
// jitter, never past reconnect_ivl_max, fixed without a max, at least 1 ms, reset by a
// working connection.
#include "backoff.hpp"

#include <doctest/doctest.h>

using volley::detail::backoff;
using ms = std::chrono::milliseconds;

TEST_CASE("the wait doubles from reconnect_ivl, with at most a quarter of jitter, up to reconnect_ivl_max") {
    backoff b(ms(100), ms(1000));
    ms base(100);
    for (int i = 0; i < 12; ++i) {
        const ms w = b.next();
        CAPTURE(i);
        CHECK(w >= std::min(base, ms(1000)));
        CHECK(w <= std::min(base + base / 4, ms(1000)));
        base = std::min(base * 2, ms(1000));
    }
    CHECK(b.next() == ms(1000)); // at the max, jitter cannot pass it
}

TEST_CASE("without a max above reconnect_ivl the wait stays reconnect_ivl, plus jitter") {
    for (const ms max : {ms(0), ms(50)}) {
        backoff b(ms(100), max);
        for (int i = 0; i < 8; ++i) {
            const ms w = b.next();
            CHECK(w >= ms(100));
            CHECK(w <= ms(125));
        }
    }
}

TEST_CASE("reconnect_ivl 0 waits 1 ms, not 0, and a reset starts again from reconnect_ivl") {
    backoff zero(ms(0), ms(0));
    CHECK(zero.next() == ms(1));
    backoff b(ms(8), ms(1000));
    for (int i = 0; i < 6; ++i) (void)b.next();
    CHECK(b.next() >= ms(256));
    b.reset();
    CHECK(b.next() <= ms(10));
}
