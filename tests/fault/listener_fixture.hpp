// SPDX-License-Identifier: MPL-2.0
// The victim of the fault tests: a volley PULL listening on tcp:// or ipc://,
// with a monitor, and a well-behaved PUSH (the "veteran") that connected and
// finished its handshake before any misbehaving peer shows up. After each
// attack the test checks two things: the listener reported the attack with
// the right event, error code and a detail sentence naming the cause; and it
// still serves, both the veteran and a newcomer that connects afterwards,
// while nothing of the bad peer's bytes ever reached the application.
#pragma once

#include "fault/raw_peer.hpp"
#include "support/test_support.hpp"

#include <doctest/doctest.h>

#include <set>
#include <string>
#include <string_view>
#include <system_error>

namespace fault {

using namespace std::chrono_literals;

class listener {
public:
    // Binds a PULL at `bind_at` after `configure(pull)` set its options, connects the
    // veteran and returns once both ends report handshake_succeeded.
    template <class Configure>
    listener(const std::string& bind_at, Configure&& configure)
        : pull_(ctx_, volley::socket_type::pull), veteran_(ctx_, volley::socket_type::push) {
        pull_.set(volley::opt::rcvtimeo, 5000ms);
        pull_.set(volley::opt::linger, 0ms);
        configure(pull_);
        events_ = pull_.monitor();
        pull_.bind(bind_at);
        endpoint_ = pull_.last_endpoint();
        connect_push(veteran_);
        support::expect_event(events_, volley::event_type::handshake_succeeded);
    }
    explicit listener(const std::string& bind_at) : listener(bind_at, [](volley::socket&) {}) {}

    const std::string& endpoint() const noexcept { return endpoint_; }
    const volley::monitor& events() const noexcept { return events_; }
    // The listening PULL, for tests that read multipart messages themselves.
    volley::socket& pull() noexcept { return pull_; }

    // Waits for an event of `type` (others are skipped) and checks that it carries
    // `code` and a detail sentence containing `cause`.
    volley::monitor_event expect(volley::event_type type, volley::errc code, std::string_view cause,
                                 std::chrono::milliseconds timeout = 5000ms) {
        const auto e = support::expect_event(events_, type, timeout);
        INFO("event detail: \"", e.detail, "\", error: ", e.error.message());
        CHECK(e.error == code);
        CHECK(e.detail.find(cause) != std::string::npos);
        return e;
    }

    // The veteran still delivers, a newcomer connects and delivers, and nothing else
    // (no fragment of a bad peer's traffic) is waiting in the listener, apart from the
    // whole messages in `earlier` that a bad peer sent before it misbehaved.
    void check_still_serves(std::set<std::string> earlier = {}) {
        REQUIRE(veteran_.send("from the veteran").ok());
        volley::socket newcomer(ctx_, volley::socket_type::push);
        connect_push(newcomer);
        REQUIRE(newcomer.send("from the newcomer").ok());
        std::set<std::string> expected = std::move(earlier);
        expected.insert({"from the veteran", "from the newcomer"});
        std::set<std::string> got;
        for (std::size_t i = 0; i < expected.size(); ++i) {
            auto m = pull_.recv();
            REQUIRE_MESSAGE(m.ok(), "listener received nothing: " << m.error_code().message());
            CHECK_FALSE(m->more());
            got.insert(m->to_string());
        }
        CHECK(got == expected);
        CHECK(pull_.recv(volley::recv_flags::dontwait).error() == volley::errc::would_block);
    }

private:
    // A well-behaved PUSH: bounded send, no linger, connected and past its handshake.
    void connect_push(volley::socket& s) {
        s.set(volley::opt::sndtimeo, 5000ms);
        s.set(volley::opt::linger, 0ms);
        const auto events = s.monitor();
        s.connect(endpoint_);
        support::expect_event(events, volley::event_type::handshake_succeeded);
    }

    volley::context ctx_;
    volley::socket pull_;
    volley::socket veteran_;
    volley::monitor events_;
    std::string endpoint_;
};

// A raw PUSH that has finished the handshake with the listener.
struct handshaken_peer {
    raw_zmtp::peer raw;
    explicit handshaken_peer(listener& l) : raw(l.endpoint()) {
        const auto problem = raw.handshake("PUSH");
        REQUIRE_MESSAGE(problem.empty(), problem);
        support::expect_event(l.events(), volley::event_type::handshake_succeeded);
    }
};

} // namespace fault
