// SPDX-License-Identifier: MPL-2.0
// Pipes on their own: the high-water mark counts whole messages, a message
// becomes visible with its last frame, wake-up events are posted only at
// the empty/full edges, and two threads can stream through one pipe.
#include "fence.hpp"
#include "mailbox.hpp"
#include "pipe.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

using namespace volley::detail;
using vpipe = volley::detail::pipe; // ::pipe() from <unistd.h> would be ambiguous
using volley::message;

namespace {

// Owns one pipe pair with a mailbox per end, as two sockets would.
struct fixture {
    explicit fixture(std::uint64_t hwm) : pair(pipe_pair::create(hwm, hwm)) {
        init_fences();
        a().set_owner(box_a);
        b().set_owner(box_b);
    }
    ~fixture() {
        a().close(clock::now());
        b().close(clock::now());
        box_a->close();
        box_b->close();
    }
    vpipe& a() { return pair->end(0); }
    vpipe& b() { return pair->end(1); }
    // Drains a mailbox; returns how many events of `kind` it held.
    static int count(mailbox& box, event_kind kind) {
        std::vector<event> events;
        box.take(events);
        int n = 0;
        for (auto& e : events) {
            n += e.kind == kind;
            e.target->release();
        }
        return n;
    }

    std::shared_ptr<mailbox> box_a = std::make_shared<mailbox>();
    std::shared_ptr<mailbox> box_b = std::make_shared<mailbox>();
    pipe_pair* pair;
};

message frame(const std::string& s, bool more = false) {
    message m(s);
    m.set_more(more);
    return m;
}

} // namespace

TEST_CASE("a pipe lets in hwm whole messages, then refuses the next one") {
    fixture f(4);
    for (int i = 0; i < 4; ++i) {
        message m = frame("m" + std::to_string(i));
        REQUIRE(f.a().write(m));
    }
    message extra = frame("extra");
    CHECK_FALSE(f.a().write(extra));
    CHECK(extra == "extra"); // a refused message is left untouched
    CHECK_FALSE(f.a().writable());
}

TEST_CASE("the high-water mark counts messages, not frames") {
    fixture f(2);
    for (int msg = 0; msg < 2; ++msg) {
        for (int part = 0; part < 5; ++part) {
            message m = frame("p", part < 4);
            REQUIRE(f.a().write(m));
        }
    }
    CHECK_FALSE(f.a().writable());
    message m;
    int frames = 0;
    while (f.b().read(m)) ++frames;
    CHECK(frames == 10);
}

TEST_CASE("a reader frees room in batches of hwm/2, and at once when it empties the pipe") {
    fixture f(4);
    for (int i = 0; i < 4; ++i) {
        message m = frame("x");
        REQUIRE(f.a().write(m));
    }
    message m;
    REQUIRE(f.b().read(m));
    CHECK_FALSE(f.a().writable()); // one read is not reported yet
    REQUIRE(f.b().read(m));
    CHECK(f.a().writable()); // hwm/2 = 2 reads are
    REQUIRE(f.b().read(m));
    REQUIRE(f.b().read(m));
    CHECK_FALSE(f.b().read(m)); // finding the pipe empty reports the rest
    for (int i = 0; i < 4; ++i) {
        message again = frame("y");
        CHECK(f.a().write(again));
    }
}

TEST_CASE("a multipart message becomes visible with its last frame") {
    fixture f(10);
    message m1 = frame("1", true), m2 = frame("2", true), m3 = frame("3");
    REQUIRE(f.a().write(m1));
    REQUIRE(f.a().write(m2));
    message got;
    CHECK_FALSE(f.b().readable());
    CHECK_FALSE(f.b().read(got));
    REQUIRE(f.a().write(m3));
    REQUIRE(f.b().read(got));
    CHECK(got == "1");
    CHECK(got.more());
    CHECK(f.b().reading_message());
    REQUIRE(f.b().read(got));
    REQUIRE(f.b().read(got));
    CHECK(got == "3");
    CHECK_FALSE(got.more());
    CHECK_FALSE(f.b().reading_message());
}

TEST_CASE("rollback drops the frames of an unfinished message") {
    fixture f(10);
    message m1 = frame("dropped", true), m2 = frame("dropped", true);
    REQUIRE(f.a().write(m1));
    REQUIRE(f.a().write(m2));
    f.a().rollback();
    message m3 = frame("kept");
    REQUIRE(f.a().write(m3));
    message got;
    REQUIRE(f.b().read(got));
    CHECK(got == "kept");
    CHECK_FALSE(f.b().read(got));
}

TEST_CASE("rollback across chunk boundaries keeps the queue consistent") {
    fixture f(0);
    for (int round = 0; round < 3; ++round) {
        for (int i = 0; i < 150; ++i) { // more than two chunks of frames
            message m = frame("x", true);
            REQUIRE(f.a().write(m));
        }
        f.a().rollback();
        message last = frame("r" + std::to_string(round));
        REQUIRE(f.a().write(last));
    }
    message got;
    for (int round = 0; round < 3; ++round) {
        REQUIRE(f.b().read(got));
        CHECK(got == "r" + std::to_string(round));
    }
    CHECK_FALSE(f.b().read(got));
}

TEST_CASE("a parked reader is woken once, by the first message, not per message") {
    fixture f(0);
    f.b().park_reader();
    for (int i = 0; i < 100; ++i) {
        message m = frame("x");
        REQUIRE(f.a().write(m));
    }
    CHECK(f.box_b->pending());
    CHECK(fixture::count(*f.box_b, event_kind::read_activated) == 1);
    CHECK(fixture::count(*f.box_a, event_kind::read_activated) == 0);
}

TEST_CASE("an active reader is never sent an event") {
    fixture f(0);
    for (int i = 0; i < 100; ++i) {
        message m = frame("x");
        REQUIRE(f.a().write(m));
    }
    CHECK_FALSE(f.box_b->pending());
}

TEST_CASE("a parked writer is woken once when the reader frees room") {
    fixture f(4);
    for (int i = 0; i < 4; ++i) {
        message m = frame("x");
        REQUIRE(f.a().write(m));
    }
    f.a().park_writer();
    message got;
    for (int i = 0; i < 4; ++i) REQUIRE(f.b().read(got));
    CHECK_FALSE(f.b().read(got));
    CHECK(fixture::count(*f.box_a, event_kind::write_activated) == 1);
}

TEST_CASE("a reader that empties the pipe before a progress report still wakes the parked writer") {
    fixture f(8); // progress is reported every 4 messages, or on finding the pipe empty
    for (int i = 0; i < 3; ++i) {
        message m = frame("x");
        REQUIRE(f.a().write(m));
    }
    f.a().park_writer();
    message got;
    for (int i = 0; i < 3; ++i) REQUIRE(f.b().read(got));
    CHECK_FALSE(f.box_a->pending()); // 3 reads: not reported yet
    CHECK_FALSE(f.b().read(got));    // empty: reported, and the writer is told
    CHECK(fixture::count(*f.box_a, event_kind::write_activated) == 1);
}

TEST_CASE("raising the high-water mark wakes a writer parked at the old one") {
    fixture f(1);
    message m = frame("x");
    REQUIRE(f.a().write(m));
    f.a().park_writer();
    f.a().set_out_hwm(100);
    CHECK(fixture::count(*f.box_a, event_kind::write_activated) == 1);
    CHECK(f.a().writable());
}

TEST_CASE("unpark reports whether the peer already re-activated the pipe") {
    fixture f(0);
    f.b().park_reader();
    CHECK(f.b().unpark_reader()); // nobody else did: we did
    f.b().park_reader();
    message m = frame("x");
    REQUIRE(f.a().write(m)); // the writer re-activates and posts
    CHECK_FALSE(f.b().unpark_reader());
    CHECK(fixture::count(*f.box_b, event_kind::read_activated) == 1);
}

TEST_CASE("a reader needs the heavy fence when it parks asymmetric or switches to symmetric, only then") {
    fixture f(0);
    CHECK(f.b().park_reader(false));
    CHECK(f.b().unpark_reader());
    CHECK(f.b().park_reader(true)); // the switch: writers may not have seen the request yet
    CHECK(f.b().unpark_reader());
    CHECK_FALSE(f.b().park_reader(true)); // they have: a full fence pairs with theirs
    CHECK(f.b().unpark_reader());
    CHECK(f.b().park_reader(false)); // back to the lopsided pairing
    message m = frame("x");
    REQUIRE(f.a().write(m)); // the parked reader is woken, whatever the pairing
    CHECK(fixture::count(*f.box_b, event_kind::read_activated) == 1);
}

TEST_CASE("fence_mode asks for symmetric fences when parks come fewer than symmetric_below items apart") {
    fence_mode mode;
    CHECK_FALSE(mode.symmetric(fence_mode::symmetric_below)); // the first park, after many items
    CHECK(mode.symmetric(fence_mode::symmetric_below + 1));  // one item later
    CHECK(mode.symmetric(fence_mode::symmetric_below + 1));  // none
    CHECK_FALSE(mode.symmetric(3 * fence_mode::symmetric_below + 1));
    CHECK(mode.symmetric(4 * fence_mode::symmetric_below));  // one short of the bound
}

TEST_CASE("a reader that sleeps between bursts, switching fence pairings, never sleeps past a message") {
    // The writer sends bursts of random length, each after the reader took the one before,
    // so the reader parks between bursts; it picks the pairing at random at each park, so
    // both kinds and the switches between them meet a running writer. A wake-up lost to a
    // wrong pairing would leave the reader asleep to its deadline with a burst waiting
    // (nothing else would wake it: the writer waits for it).
    fixture f(0);
    constexpr int count = 20'000;
    std::atomic<int> consumed{0};
    std::atomic<bool> refused{false}; // a write refused (no limit is set: must not happen)
    std::thread writer([&] {
        std::minstd_rand rng(11);
        for (int i = 0; i < count;) {
            const int burst = 1 + static_cast<int>(rng() % 16);
            for (int k = 0; k < burst && i < count; ++k, ++i) {
                message m = frame(std::to_string(i));
                if (!f.a().write(m)) refused = true;
            }
            const auto give_up = clock::now() + std::chrono::seconds(5);
            while (consumed.load() < i && clock::now() < give_up) std::this_thread::yield();
        }
    });
    std::minstd_rand pick(13);
    int received = 0;
    int late = 0, parks = 0, symmetric_parks = 0, heavy = 0;
    bool in_order = true;
    message m;
    while (received < count) {
        if (f.b().read(m)) {
            in_order = in_order && m == std::to_string(received);
            consumed.store(++received);
            continue;
        }
        fixture::count(*f.box_b, event_kind::read_activated); // events of earlier parks
        const auto ticket = f.box_b->prepare_sleep();
        const bool symmetric = pick() % 3 != 0;
        const bool need_heavy = f.b().park_reader(symmetric);
        fence_mode::fence(need_heavy);
        ++parks;
        symmetric_parks += symmetric;
        heavy += need_heavy;
        if (f.b().readable()) {
            f.b().unpark_reader();
            f.box_b->cancel_sleep();
            continue;
        }
        if (!f.box_b->sleep(ticket, clock::now() + std::chrono::seconds(1)) && f.b().readable()) ++late;
        f.b().unpark_reader();
    }
    writer.join();
    CHECK_FALSE(refused.load());
    CHECK(in_order);
    CHECK(late == 0);
    MESSAGE(parks << " parks, " << symmetric_parks << " symmetric, " << heavy << " heavy fences");
    CHECK(parks > 0);
}

TEST_CASE("closing an end tells the peer, and leaves what was written readable") {
    auto box_a = std::make_shared<mailbox>();
    auto box_b = std::make_shared<mailbox>();
    pipe_pair* pp = pipe_pair::create(0, 0);
    pp->end(0).set_owner(box_a);
    pp->end(1).set_owner(box_b);
    vpipe& b = pp->end(1);
    message m = frame("last words");
    REQUIRE(pp->end(0).write(m));
    pp->end(0).close(clock::time_point::max());
    CHECK(b.peer_closed());
    CHECK_FALSE(b.peer_linger_expired(clock::now()));
    CHECK(fixture::count(*box_b, event_kind::peer_closed) == 1);
    message got;
    REQUIRE(b.read(got));
    CHECK(got == "last words");
    b.close(clock::now());
    box_a->close();
    box_b->close();
}

TEST_CASE("two threads stream multipart messages through a small pipe, in order and whole") {
    fixture f(16);
    constexpr int count = 200'000;
    std::thread writer([&] {
        std::minstd_rand rng(7);
        for (int i = 0; i < count; ++i) {
            const int parts = 1 + static_cast<int>(rng() % 3);
            for (int p = 0; p < parts; ++p) {
                message m = frame(std::to_string(i) + ":" + std::to_string(p) + "/" + std::to_string(parts),
                                  p + 1 < parts);
                while (!f.a().write(m)) std::this_thread::yield();
            }
        }
    });
    int received = 0;
    bool ok = true;
    message m;
    while (received < count && ok) {
        if (!f.b().read(m)) {
            std::this_thread::yield();
            continue;
        }
        // Frames of message i arrive as i:0/n .. i:n-1/n with more set on all but the last.
        const std::string first = m.to_string();
        const auto colon = first.find(':'), slash = first.find('/');
        const int index = std::stoi(first.substr(0, colon));
        const int parts = std::stoi(first.substr(slash + 1));
        ok = index == received && first.substr(colon + 1, slash - colon - 1) == "0";
        for (int p = 1; ok && p < parts; ++p) {
            ok = m.more() && f.b().read(m) &&
                 m.to_string() == std::to_string(index) + ":" + std::to_string(p) + "/" + std::to_string(parts);
        }
        ok = ok && !m.more();
        ++received;
    }
    writer.join();
    CHECK(ok);
    CHECK(received == count);
}
