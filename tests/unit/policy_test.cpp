// SPDX-License-Identifier: MPL-2.0
// The routing policies against fake pipes, with no I/O and no threads:
// fair_queue takes whole messages round-robin, load_balancer spreads them
// round-robin over pipes below their HWM, both keep multipart messages on
// one pipe, and both park and re-activate pipes as the sleep protocol says.
#include "policy/fair_queue.hpp"
#include "policy/load_balancer.hpp"

#include <doctest/doctest.h>

#include <deque>
#include <string>
#include <vector>

using namespace volley::detail;
using volley::message;

namespace {

// A pipe with a bounded queue of whole messages and visible parking flags.
struct fake_pipe {
    explicit fake_pipe(std::string n, std::size_t cap = 100) : name(std::move(n)), capacity(cap) {}

    bool read(message& m) {
        if (frames.empty()) return false;
        m = std::move(frames.front());
        frames.pop_front();
        return true;
    }
    bool readable() const { return !frames.empty(); }
    bool write(message& m) {
        if (closed) return false;
        if (!writing && messages() >= capacity) return false;
        writing = m.more();
        written.push_back(std::move(m));
        return true;
    }
    bool writable() const { return !closed && messages() < capacity; }
    void rollback() {
        while (!written.empty() && written.back().more()) written.pop_back();
        writing = false;
    }
    bool park_reader(bool symmetric) {
        reader_parked = true;
        const bool switched = symmetric && !asked_symmetric;
        asked_symmetric = symmetric;
        return !symmetric || switched;
    }
    bool unpark_reader() { return std::exchange(reader_parked, false); }
    void park_writer() { writer_parked = true; }
    bool unpark_writer() { return std::exchange(writer_parked, false); }

    std::size_t messages() const {
        std::size_t n = 0;
        for (auto& m : written) n += !m.more();
        return n;
    }
    void feed(const std::string& s, bool more = false) {
        message m(s);
        m.set_more(more);
        frames.push_back(std::move(m));
    }

    std::string name;
    std::size_t capacity;
    std::deque<message> frames;  // what fair_queue reads
    std::vector<message> written; // what load_balancer wrote
    bool writing = false;
    bool closed = false;
    bool reader_parked = false;
    bool asked_symmetric = false; // the fence pairing the last park_reader asked for
    bool writer_parked = false;
    std::uint32_t in_slot = static_cast<std::uint32_t>(-1);
    std::uint32_t out_slot = static_cast<std::uint32_t>(-1);
};

std::string recv_text(fair_queue<fake_pipe>& fq) {
    message m;
    return fq.recv(m) ? m.to_string() : std::string("<none>");
}

bool send_text(load_balancer<fake_pipe>& lb, const std::string& s, bool more = false) {
    message m(s);
    m.set_more(more);
    return lb.send(m);
}

} // namespace

TEST_CASE("fair_queue takes one message from each pipe in turn") {
    fake_pipe a("a"), b("b"), c("c");
    for (auto* p : {&a, &b, &c})
        for (int i = 0; i < 3; ++i) p->feed(p->name + std::to_string(i));
    fair_queue<fake_pipe> fq;
    fq.attach(a);
    fq.attach(b);
    fq.attach(c);
    std::vector<std::string> got;
    for (int i = 0; i < 9; ++i) got.push_back(recv_text(fq));
    CHECK(got == std::vector<std::string>{"a0", "b0", "c0", "a1", "b1", "c1", "a2", "b2", "c2"});
    CHECK(recv_text(fq) == "<none>");
}

TEST_CASE("fair_queue keeps a chatty pipe from starving the others") {
    fake_pipe busy("busy"), quiet("quiet");
    for (int i = 0; i < 100; ++i) busy.feed("busy");
    fair_queue<fake_pipe> fq;
    fq.attach(busy);
    fq.attach(quiet);
    CHECK(recv_text(fq) == "busy");
    quiet.feed("quiet");
    CHECK(recv_text(fq) == "quiet");
}

TEST_CASE("fair_queue reads every frame of a multipart message from the same pipe") {
    fake_pipe a("a"), b("b");
    a.feed("a1", true);
    a.feed("a2", true);
    a.feed("a3");
    b.feed("b1");
    fair_queue<fake_pipe> fq;
    fq.attach(a);
    fq.attach(b);
    CHECK(recv_text(fq) == "a1");
    CHECK(recv_text(fq) == "a2");
    CHECK(recv_text(fq) == "a3");
    CHECK(recv_text(fq) == "b1");
}

TEST_CASE("fair_queue asks each pipe for the fence pairing, and for a heavy fence when any pipe needs one") {
    fake_pipe a("a"), b("b");
    fair_queue<fake_pipe> fq;
    fq.attach(a);
    CHECK(fq.park(false)); // asymmetric: always the heavy fence
    CHECK_FALSE(a.asked_symmetric);
    CHECK_FALSE(fq.unpark());
    fq.activated(a); // its writer's event: the next park parks it again
    CHECK(fq.park(true)); // a's switch to symmetric needs one heavy fence
    CHECK(a.asked_symmetric);
    fq.activated(a);
    CHECK_FALSE(fq.park(true)); // a switched already: a full fence will do
    fq.attach(b);
    fq.activated(a);
    CHECK(fq.park(true)); // b switches now
    CHECK(a.asked_symmetric);
    CHECK(b.asked_symmetric);
}

TEST_CASE("fair_queue parks every pipe before sleep and re-activates the ones that filled") {
    fake_pipe a("a"), b("b");
    fair_queue<fake_pipe> fq;
    fq.attach(a);
    fq.attach(b);
    fq.park();
    CHECK(a.reader_parked);
    CHECK(b.reader_parked);
    CHECK(fq.active() == 0);
    b.feed("late"); // arrived between parking and the re-check
    CHECK(fq.unpark());
    CHECK(fq.active() == 1);
    CHECK(a.reader_parked); // still empty: stays parked
    CHECK(recv_text(fq) == "late");
    a.feed("woken");
    fq.activated(a); // the writer's read_activated event
    CHECK(fq.active() == 2);
    CHECK(recv_text(fq) == "woken");
}

TEST_CASE("fair_queue forgets a terminated pipe") {
    fake_pipe a("a"), b("b");
    a.feed("a");
    b.feed("b");
    fair_queue<fake_pipe> fq;
    fq.attach(a);
    fq.attach(b);
    fq.terminated(a);
    CHECK(fq.size() == 1);
    CHECK(recv_text(fq) == "b");
    CHECK(recv_text(fq) == "<none>");
}

TEST_CASE("load_balancer sends one message to each pipe in turn") {
    fake_pipe a("a"), b("b"), c("c");
    load_balancer<fake_pipe> lb;
    lb.attach(a);
    lb.attach(b);
    lb.attach(c);
    for (int i = 0; i < 6; ++i) REQUIRE(send_text(lb, std::to_string(i)));
    CHECK(a.written.size() == 2);
    CHECK(b.written.size() == 2);
    CHECK(c.written.size() == 2);
    CHECK(a.written[0] == "0");
    CHECK(b.written[0] == "1");
    CHECK(a.written[1] == "3");
}

TEST_CASE("load_balancer skips pipes at their high-water mark and refuses when all are") {
    fake_pipe a("a", 1), b("b", 3);
    load_balancer<fake_pipe> lb;
    lb.attach(a);
    lb.attach(b);
    for (int i = 0; i < 4; ++i) REQUIRE(send_text(lb, "m"));
    CHECK(a.written.size() == 1);
    CHECK(b.written.size() == 3);
    CHECK_FALSE(send_text(lb, "m"));
}

TEST_CASE("load_balancer sends every frame of a message to the pipe of its first frame") {
    fake_pipe a("a"), b("b");
    load_balancer<fake_pipe> lb;
    lb.attach(a);
    lb.attach(b);
    REQUIRE(send_text(lb, "1", true));
    REQUIRE(send_text(lb, "2", true));
    REQUIRE(send_text(lb, "3"));
    REQUIRE(send_text(lb, "next"));
    CHECK(a.written.size() == 3);
    CHECK(b.written.size() == 1);
    CHECK(b.written[0] == "next");
}

TEST_CASE("load_balancer drops the rest of a message whose pipe went away mid-way") {
    fake_pipe a("a"), b("b");
    load_balancer<fake_pipe> lb;
    lb.attach(a);
    lb.attach(b);
    REQUIRE(send_text(lb, "1", true));
    lb.terminated(a);
    CHECK(send_text(lb, "2", true)); // accepted and dropped
    CHECK(send_text(lb, "3"));
    CHECK(b.written.empty());
    REQUIRE(send_text(lb, "whole"));
    REQUIRE(b.written.size() == 1);
    CHECK(b.written[0] == "whole");
}

TEST_CASE("load_balancer parks full pipes and re-activates the ones that drained") {
    fake_pipe a("a", 1), b("b", 1);
    load_balancer<fake_pipe> lb;
    lb.attach(a);
    lb.attach(b);
    REQUIRE(send_text(lb, "x"));
    REQUIRE(send_text(lb, "y"));
    lb.park();
    CHECK(a.writer_parked);
    CHECK(b.writer_parked);
    CHECK_FALSE(lb.unpark());
    b.written.clear(); // the reader drained b
    lb.activated(b);   // its write_activated event
    CHECK(send_text(lb, "z"));
    CHECK(b.written.size() == 1);
}
