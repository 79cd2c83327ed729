// SPDX-License-Identifier: MPL-2.0
// crowding on its own: when a context counts as crowded (more sockets waiting
// than CPUs, plus its I/O thread), smoothed so that it does not flip with
// every wait.
#include "crowding.hpp"

#include <doctest/doctest.h>

using volley::detail::crowding;

namespace {
// `n` waits of one socket while `others` other sockets wait throughout.
void waits_among(crowding& c, int others, int n) {
    for (int i = 0; i < others; ++i) c.enter();
    for (int i = 0; i < n; ++i) {
        c.enter();
        c.leave();
    }
    for (int i = 0; i < others; ++i) c.leave();
}
} // namespace

TEST_CASE("one socket waiting at a time never crowds two CPUs") {
    crowding c(2);
    waits_among(c, 0, 1000);
    CHECK_FALSE(c.crowded());
    CHECK(c.waiting() == 0);
}

TEST_CASE("as many sockets waiting as CPUs crowd them, after a few waits, not at the first") {
    crowding c(2);
    c.enter(); // another socket waits throughout
    int waits = 0;
    while (!c.crowded() && waits < 100) {
        c.enter();
        c.leave();
        ++waits;
    }
    c.leave();
    CHECK(c.crowded());
    MESSAGE("crowded after " << waits << " waits");
    CHECK(waits > 2);
}

TEST_CASE("a crowded context stays so through a few quiet waits, and leaves it after many") {
    crowding c(2);
    waits_among(c, 3, 100);
    REQUIRE(c.crowded());
    const auto before = crowding::times_crowded();
    waits_among(c, 0, 3);
    CHECK(c.crowded()); // hysteresis
    waits_among(c, 0, 100);
    CHECK_FALSE(c.crowded());
    waits_among(c, 3, 100);
    CHECK(c.crowded());
    CHECK(crowding::times_crowded() == before + 1);
}

TEST_CASE("the CPU count is the affinity mask's, and tests can set it") {
    CHECK(crowding::available_cpus() >= 1);
    crowding::set_cpus_for_testing(5);
    CHECK(crowding::available_cpus() == 5);
    crowding::set_cpus_for_testing(0);
    CHECK(crowding::available_cpus() >= 1);
    crowding c(0); // nonsense counts as one CPU
    CHECK(c.limit() == 1);
}
