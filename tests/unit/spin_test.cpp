// SPDX-License-Identifier: MPL-2.0
// The adaptive spin budget on its own: how long a blocked call polls before
// sleeping, after waits that a spin caught and waits that ended in sleep; and
// the connection's spin_lock.
#include "spin.hpp"
#include "spin_lock.hpp"

#include <doctest/doctest.h>

#include <cstdint>
#include <thread>

using volley::detail::spin_budget;
using volley::detail::spin_lock;
using namespace std::chrono_literals;

TEST_CASE("a fresh budget spins the whole max, its first phase relax_max") {
    spin_budget b;
    CHECK(b.current() == spin_budget::max);
    CHECK(b.relax() == spin_budget::relax_max);
}

TEST_CASE("a wait under twice max that slept puts the spin back to max") {
    spin_budget b;
    b.slept(10ms); // long: halved
    REQUIRE(b.current() == spin_budget::max / 2);
    b.slept(2 * spin_budget::max - 1ns); // a longer spin might have saved that sleep
    CHECK(b.current() == spin_budget::max);
}

TEST_CASE("waits of twice max or more halve the spin down to min, and a hit doubles it back") {
    spin_budget b;
    b.slept(10ms);
    CHECK(b.current() == spin_budget::max / 2);
    for (int i = 0; i < 20; ++i) b.slept(1s); // an idle socket
    CHECK(b.current() == spin_budget::min);
    b.hit_relaxing();
    CHECK(b.current() == 2 * spin_budget::min);
    for (int i = 0; i < 20; ++i) b.hit_relaxing();
    CHECK(b.current() == spin_budget::max);
}

TEST_CASE("hits found only by yielding shorten the first phase, hits found relaxing lengthen it") {
    spin_budget b;
    for (int i = 0; i < 20; ++i) b.hit_yielding();
    CHECK(b.relax() == spin_budget::relax_min);
    b.hit_relaxing();
    CHECK(b.relax() == 2 * spin_budget::relax_min);
    for (int i = 0; i < 20; ++i) b.hit_relaxing();
    CHECK(b.relax() == spin_budget::relax_max);
}

TEST_CASE("a ceiling set (busy_poll) bounds the spin, and 0 never spins") {
    spin_budget b;
    b.set_ceiling(spin_budget::polled_max);
    CHECK(b.current() == spin_budget::polled_max);
    b.slept(1900us); // under twice the ceiling: a longer spin might have saved it
    CHECK(b.current() == spin_budget::polled_max);
    for (int i = 0; i < 30; ++i) b.slept(1s);
    CHECK(b.current() == spin_budget::min);
    for (int i = 0; i < 30; ++i) b.hit_relaxing();
    CHECK(b.current() == spin_budget::polled_max);
    b.set_ceiling(0ns);
    CHECK(b.current() == 0ns);
    b.hit_relaxing();
    b.slept(1us);
    CHECK(b.current() == 0ns);
    b.slept(1s);
    CHECK(b.current() == 0ns); // not lifted to min
    b.set_ceiling(spin_budget::max);
    CHECK(b.current() == spin_budget::max);
}

TEST_CASE("spin_lock: two threads that take it by turns lose none of each other's writes") {
    // A lock that let both in would lose increments (and TSan would report the race).
    spin_lock lock;
    std::uint64_t counter = 0; // plain memory: only the lock orders the two threads' writes
    constexpr int rounds = 100'000;
    auto work = [&](bool blocking) {
        for (int i = 0; i < rounds;) {
            if (blocking) {
                lock.lock();
            } else if (!lock.try_lock()) {
                continue; // as the socket's thread does: try again later
            }
            ++counter;
            lock.unlock();
            ++i;
        }
    };
    std::thread reactor_side(work, true);
    work(false);
    reactor_side.join();
    CHECK(counter == 2 * rounds);
    CHECK(lock.try_lock()); // left unlocked
}
