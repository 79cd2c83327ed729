// SPDX-License-Identifier: MPL-2.0
// Peers that complete the ZMTP handshake properly and then send bad frames
// to a live volley PULL listener on tcp:// and ipc://: reserved flag bits, a
// size no machine can hold, a frame above maxmsgsize, a multipart message
// that grows past it, and a frame (small or
// large) cut short by the peer's death. Each must end that one connection with disconnected
// (the right error code, a detail naming the cause), deliver no part of the
// bad message, and leave the listener and the earlier peer working.
#include "fault/listener_fixture.hpp"
#include "fault/raw_peer.hpp"

#include <doctest/doctest.h>

using namespace volley;
using namespace std::chrono_literals;

using fault::handshaken_peer;

TEST_CASE_TEMPLATE_DEFINE("listener drops a peer whose frame sets reserved flag bits", Scheme, reserved_flags) {
    fault::listener l(Scheme::bind_endpoint());
    handshaken_peer bad(l);
    REQUIRE(bad.raw.send(raw_zmtp::frame("whole message first") + raw_zmtp::frame("flagged", 0x80)));
    l.expect(event_type::disconnected, errc::protocol_error, "reserved flag");
    CHECK(bad.raw.wait_closed(5000ms));
    l.check_still_serves({"whole message first"}); // what came before the bad frame stands
}
TEST_CASE_TEMPLATE_INSTANTIATE(reserved_flags, support::tcp_scheme, support::ipc_scheme);

TEST_CASE_TEMPLATE_DEFINE("listener drops a peer whose frame announces 2^63 bytes", Scheme, huge_frame) {
    fault::listener l(Scheme::bind_endpoint());
    handshaken_peer bad(l);
    REQUIRE(bad.raw.send(raw_zmtp::frame_header(0, std::uint64_t{1} << 63) + "a few bytes"));
    // No allocation is tried: the size itself is refused, and named.
    l.expect(event_type::disconnected, errc::protocol_error, "9223372036854775808");
    CHECK(bad.raw.wait_closed(5000ms));
    l.check_still_serves();
}
TEST_CASE_TEMPLATE_INSTANTIATE(huge_frame, support::tcp_scheme, support::ipc_scheme);

TEST_CASE_TEMPLATE_DEFINE("listener drops a peer whose frame exceeds maxmsgsize", Scheme, above_maxmsgsize) {
    fault::listener l(Scheme::bind_endpoint(), [](volley::socket& s) { s.set(opt::maxmsgsize, std::int64_t{1000}); });
    handshaken_peer bad(l);
    REQUIRE(bad.raw.send(raw_zmtp::frame(std::string(1000, 'a')))); // at the limit: fine
    bad.raw.send(raw_zmtp::frame(std::string(5000, 'b')));          // may fail half-way: the listener hangs up
    const auto e = l.expect(event_type::disconnected, errc::message_too_large, "maxmsgsize");
    CHECK(e.detail.find("5000") != std::string::npos);
    CHECK(bad.raw.wait_closed(5000ms));
    l.check_still_serves({std::string(1000, 'a')});
}
TEST_CASE_TEMPLATE_INSTANTIATE(above_maxmsgsize, support::tcp_scheme, support::ipc_scheme);

TEST_CASE_TEMPLATE_DEFINE("listener drops a peer whose multipart message grows past maxmsgsize", Scheme,
                          endless_multipart) {
    // Each frame is small, but the message never ends: without a bound on the whole message
    // the listener would hold ever more of it.
    fault::listener l(Scheme::bind_endpoint(), [](volley::socket& s) { s.set(opt::maxmsgsize, std::int64_t{10'000}); });
    handshaken_peer bad(l);
    REQUIRE(bad.raw.send(raw_zmtp::frame("a", raw_zmtp::flag_more) + raw_zmtp::frame("whole"))); // fine
    std::string endless;
    for (int i = 0; i < 200; ++i) endless += raw_zmtp::frame(std::string(100, 'x'), raw_zmtp::flag_more);
    bad.raw.send(endless); // may fail part-way: the listener hangs up at 10 000 bytes
    const auto e = l.expect(event_type::disconnected, errc::message_too_large, "maxmsgsize");
    CHECK(e.detail.find("multipart message") != std::string::npos);
    CHECK(bad.raw.wait_closed(5000ms));
    // The earlier message arrives whole; nothing of the endless one does.
    auto first = l.pull().recv();
    REQUIRE(first.ok());
    CHECK(first->to_string() == "a");
    REQUIRE(first->more());
    CHECK(l.pull().recv().value() == "whole");
    l.check_still_serves();
}
TEST_CASE_TEMPLATE_INSTANTIATE(endless_multipart, support::tcp_scheme, support::ipc_scheme);

TEST_CASE_TEMPLATE_DEFINE("listener drops a peer that dies mid-frame and delivers none of it", Scheme, dies_mid_frame) {
    fault::listener l(Scheme::bind_endpoint());
    handshaken_peer bad(l);
    // A two-frame message whose second frame announces 1000 bytes and carries 10.
    REQUIRE(bad.raw.send(raw_zmtp::frame("first part", raw_zmtp::flag_more) + raw_zmtp::frame_header(0, 1000) +
                         std::string(10, 'x')));
    bad.raw.close();
    // The peer went away: a disconnect, with at most a protocol error for the cut frame.
    const auto e = support::expect_event(l.events(), event_type::disconnected);
    INFO("event detail: \"", e.detail, "\", error: ", e.error.message());
    CHECK((!e.error || e.error == errc::protocol_error));
    CHECK(e.detail.find("closed") != std::string::npos);
    l.check_still_serves(); // neither "first part" nor the 10 bytes reach the application
}
TEST_CASE_TEMPLATE_INSTANTIATE(dies_mid_frame, support::tcp_scheme, support::ipc_scheme);

TEST_CASE_TEMPLATE_DEFINE("listener drops a peer that dies inside a large frame", Scheme, dies_mid_large_frame) {
    fault::listener l(Scheme::bind_endpoint());
    handshaken_peer bad(l);
    // 1 MiB announced, 100 KiB sent: the listener reads the body in place and waits for
    // the rest with a low-water mark, which the peer's death must still cut short.
    REQUIRE(bad.raw.send(raw_zmtp::frame_header(0, std::size_t{1} << 20) + std::string(100 * 1024, 'x')));
    bad.raw.close();
    const auto e = support::expect_event(l.events(), event_type::disconnected);
    INFO("event detail: \"", e.detail, "\", error: ", e.error.message());
    CHECK(e.detail.find("closed") != std::string::npos);
    l.check_still_serves();
}
TEST_CASE_TEMPLATE_INSTANTIATE(dies_mid_large_frame, support::tcp_scheme, support::ipc_scheme);

TEST_CASE_TEMPLATE_DEFINE("listener drops a peer that sends an ERROR command after the handshake", Scheme,
                          error_after_handshake) {
    fault::listener l(Scheme::bind_endpoint());
    handshaken_peer bad(l);
    REQUIRE(bad.raw.send(raw_zmtp::command("ERROR", std::string(1, char{10}) + "out of tea")));
    l.expect(event_type::disconnected, errc::protocol_error, "out of tea");
    CHECK(bad.raw.wait_closed(5000ms));
    l.check_still_serves();
}
TEST_CASE_TEMPLATE_INSTANTIATE(error_after_handshake, support::tcp_scheme, support::ipc_scheme);
