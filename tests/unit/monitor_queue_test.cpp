// SPDX-License-Identifier: MPL-2.0
// The monitor queue's bounds: an application that never reads its monitor,
// while peers fill the details with whatever they like, costs at most the
// queue's byte bound; what does not fit is counted, and long details are cut.
#include "monitor_queue.hpp"
#include "peer_text.hpp"

#include <doctest/doctest.h>

using volley::event_type;
using volley::detail::monitor_queue;

TEST_CASE("the monitor queue is bounded in bytes as well as events, and counts what it drops") {
    monitor_queue q;
    q.enable();
    constexpr std::size_t pushed = 10'000;
    for (std::size_t i = 0; i < pushed; ++i)
        q.push(event_type::handshake_failed, "tcp://127.0.0.1:5555", {}, std::string(100'000, 'd'));
    CHECK(q.bytes() <= monitor_queue::capacity_bytes);
    CHECK(q.dropped() > 0);
    std::size_t kept = 0;
    while (auto e = q.pop(std::chrono::milliseconds(0))) {
        ++kept;
        CHECK(e->detail.size() <= monitor_queue::max_detail_bytes);
    }
    CHECK(kept + q.dropped() == pushed);
    CHECK(q.bytes() == 0);
    MESSAGE("kept ", kept, " events of 100 kB details, dropped ", q.dropped());
}

TEST_CASE("small events still fill the queue up to its event bound") {
    monitor_queue q;
    q.enable();
    for (std::size_t i = 0; i < monitor_queue::capacity + 5; ++i) q.push(event_type::accepted, "ipc:///tmp/x");
    CHECK(q.dropped() == 5);
}

TEST_CASE("peer bytes are quoted short, escaped, with their length when cut") {
    using volley::detail::quote_peer;
    CHECK(quote_peer("PUSH") == "'PUSH'");
    CHECK(quote_peer(std::string("a\0b\n\x7f\\'", 7)) == "'a\\x00b\\x0a\\x7f\\x5c\\x27'");
    CHECK(quote_peer(std::string(100, 'x'), 4) == "'xxxx'... (100 bytes)");
    CHECK(quote_peer("\xff\x80") == "'\\xff\\x80'");
}
