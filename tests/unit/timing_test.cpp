// SPDX-License-Identifier: MPL-2.0
// The short-deadline machinery of batched sends on its own: precise_timer (a
// timerfd the reactor watches, armed from any thread) and send_clock (which
// decides that a socket sends in a burst, reading the TSC as seldom as it can).
// Only lower bounds on time are checked: a timer may fire late on a loaded
// machine, never early.
#include "channel.hpp"
#include "precise_timer.hpp"
#include "reactor.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <future>
#include <thread>

using namespace volley::detail;
using namespace std::chrono_literals;

TEST_CASE("a precise timer fires once, on the reactor thread, not before its deadline") {
    reactor r;
    std::promise<bool> fired;
    auto f = fired.get_future();
    int fires = 0;
    precise_timer t(r, [&] {
        if (++fires == 1) fired.set_value(r.in_thread());
    });
    const auto armed = std::chrono::steady_clock::now();
    t.arm(3ms);
    REQUIRE(f.wait_for(5s) == std::future_status::ready);
    CHECK(std::chrono::steady_clock::now() - armed >= 3ms);
    CHECK(f.get());
    CHECK(r.run_sync([] {})); // a lap of the reactor after the expiry: still one firing
    CHECK(fires == 1);
    t.close();
}

TEST_CASE("arming a precise timer again pushes its deadline back") {
    reactor r;
    std::promise<std::chrono::steady_clock::time_point> fired;
    auto f = fired.get_future();
    precise_timer t(r, [&] { fired.set_value(std::chrono::steady_clock::now()); });
    t.arm(30ms);
    std::this_thread::sleep_for(10ms); // the pace of the re-arming thread, not a wait for an event
    const auto rearmed = std::chrono::steady_clock::now();
    t.arm(30ms);
    REQUIRE(f.wait_for(5s) == std::future_status::ready);
    CHECK(f.get() - rearmed >= 30ms);
    t.close();
}

TEST_CASE("a closed precise timer never fires") {
    reactor r;
    int closed_fires = 0;
    precise_timer closed(r, [&] { ++closed_fires; });
    closed.arm(1ms);
    closed.close();
    std::promise<void> later;
    auto f = later.get_future();
    precise_timer witness(r, [&] { later.set_value(); });
    witness.arm(20ms); // fires after the closed one would have
    REQUIRE(f.wait_for(5s) == std::future_status::ready);
    CHECK(r.run_sync([] {}));
    CHECK(closed_fires == 0);
    witness.close();
}

namespace {
// One message through the clock: the answer to "burst?", asked as a link does.
bool send_one(send_clock& c, bool went_direct) {
    c.begin();
    const bool burst = c.burst();
    if (went_direct) c.went_direct();
    c.end();
    return burst;
}
} // namespace

TEST_CASE("the send clock calls back-to-back sends a burst, and a pause after a direct send not") {
    send_clock c;
    send_one(c, true);
    std::this_thread::sleep_for(1ms); // a pause far over burst_gap
    CHECK_FALSE(send_one(c, true));
    bool burst = false;
    for (int i = 0; i < 100 && !burst; ++i) burst = send_one(c, false);
    CHECK(burst);
}

TEST_CASE("a burst is believed for recheck_every sends without the clock, unless the socket waited") {
    send_clock c;
    send_one(c, false);
    bool burst = false;
    for (int i = 0; i < 100 && !burst; ++i) burst = send_one(c, false);
    REQUIRE(burst);
    // Sends that stop short of recheck_every after that answer are still believed a burst,
    // though they come after a pause: the connection's batch deadline covers them.
    std::this_thread::sleep_for(1ms);
    CHECK(send_one(c, false));
    // Counting from the last reading, the clock is read again at recheck_every: the pause
    // shows then.
    int believed = 1;
    while (believed < 100 && send_one(c, false)) {
        ++believed;
        std::this_thread::sleep_for(1ms);
    }
    CHECK(believed == static_cast<int>(send_clock::recheck_every));
    // A wait in between makes the next send read the clock.
    for (int i = 0; i < 100 && !send_one(c, false); ++i) {
    }
    std::this_thread::sleep_for(1ms);
    c.interrupted();
    CHECK_FALSE(send_one(c, false));
}
