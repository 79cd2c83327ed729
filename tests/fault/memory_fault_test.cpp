// SPDX-License-Identifier: MPL-2.0
// Peers that try to make a volley listener hold ever more memory, on tcp://
// and ipc://: a PING flood from a peer that never reads its PONGs, endless
// messages of empty or tiny frames (with maxmsgsize, and with the defaults,
// where the input budget must stop them), frame sizes declared during the
// handshake and after it that nobody sends, and a READY that quotes megabytes
// back into the monitor. Each test measures what the process holds (resident
// or virtual size, /proc/self/status) around the attack and asserts a bound,
// then checks that the listener still serves. No timing: bounds are counted
// in frames and bytes sent.
#include "fault/listener_fixture.hpp"
#include "fault/raw_peer.hpp"
#include "support/process_memory.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

using namespace volley;
using namespace std::chrono_literals;

using fault::handshaken_peer;
using support::mib;

namespace {

// Sends `unit` `count` times in 64 KiB writes; returns how many went out before the
// listener hung up (count if it never did).
std::size_t flood(raw_zmtp::peer& p, const std::string& unit, std::size_t count) {
    const std::size_t per_chunk = std::max<std::size_t>(1, 65536 / unit.size());
    std::string chunk;
    for (std::size_t i = 0; i < per_chunk; ++i) chunk += unit;
    std::size_t sent = 0;
    while (sent < count) {
        const std::size_t n = std::min(per_chunk, count - sent);
        if (!p.send(std::string_view(chunk).substr(0, n * unit.size()))) return sent;
        sent += n;
    }
    return sent;
}

// Growth of `now` over `before`, never negative.
std::size_t growth(std::size_t before, std::size_t now) { return now > before ? now - before : 0; }

} // namespace

TEST_CASE_TEMPLATE_DEFINE("a PING flood from a peer that never reads does not grow the listener", Scheme, ping_flood) {
    fault::listener l(Scheme::bind_endpoint());
    handshaken_peer bad(l); // never reads what the listener sends
    // 4 million PINGs (36 MB on the wire): each asks for a PONG the peer will never read.
    constexpr std::size_t pings = 4'000'000;
    const std::size_t before = support::resident_bytes();
    REQUIRE(flood(bad.raw, raw_zmtp::command("PING", std::string(2, '\0')), pings) == pings);
    // A message after the flood: once it is received, every PING before it was handled.
    REQUIRE(bad.raw.send(raw_zmtp::frame("after the flood")));
    auto m = l.pull().recv();
    REQUIRE(m.ok());
    CHECK(m->to_string() == "after the flood");
    const std::size_t grown = growth(before, support::resident_bytes());
    MESSAGE("resident growth over ", pings, " PINGs: ", grown / 1024, " KiB");
    CHECK(grown < 4 * mib * support::sanitizer_memory_factor);
    l.check_still_serves();
}
TEST_CASE_TEMPLATE_INSTANTIATE(ping_flood, support::tcp_scheme, support::ipc_scheme);

// An endless message of `frame` (a MORE frame) against a listener configured by `configure`:
// the listener must cut it off, with `cause` in the reason, holding less than `bound`.
template <class Scheme, class Configure>
void endless_message(Configure&& configure, const std::string& frame, std::size_t frames, std::string_view cause,
                     std::size_t bound) {
    fault::listener l(Scheme::bind_endpoint(), configure);
    handshaken_peer bad(l);
    const std::size_t before = support::resident_bytes();
    const std::size_t sent = flood(bad.raw, frame, frames);
    const auto e = l.expect(event_type::disconnected, errc::message_too_large, cause);
    const std::size_t grown = growth(before, support::resident_bytes());
    MESSAGE("cut after at most ", sent, " frames of ", frame.size() - 2, " bytes; resident growth ", grown / 1024,
            " KiB; reason: ", e.detail);
    CHECK(sent < frames); // the listener hung up before the peer was done
    CHECK(grown < bound * support::sanitizer_memory_factor);
    CHECK(bad.raw.wait_closed(5000ms));
    l.check_still_serves(); // nothing of the endless message reaches the application
}

TEST_CASE_TEMPLATE_DEFINE("an endless message of empty frames is cut at maxmsgsize counting each frame's cost", Scheme,
                          empty_frames) {
    // 0-byte frames carry no body, but each costs the listener its bookkeeping: with
    // maxmsgsize 1 MiB, the listener holds at most twice that before it hangs up.
    const auto limit = [](volley::socket& s) { s.set(opt::maxmsgsize, std::int64_t{1} << 20); };
    endless_message<Scheme>(limit, raw_zmtp::frame("", raw_zmtp::flag_more), 16'000'000, "maxmsgsize", 8 * mib);
}
TEST_CASE_TEMPLATE_INSTANTIATE(empty_frames, support::tcp_scheme, support::ipc_scheme);

TEST_CASE_TEMPLATE_DEFINE("an endless message of 1-byte frames is cut at maxmsgsize counting each frame's cost", Scheme,
                          tiny_frames) {
    const auto limit = [](volley::socket& s) { s.set(opt::maxmsgsize, std::int64_t{1} << 20); };
    endless_message<Scheme>(limit, raw_zmtp::frame("x", raw_zmtp::flag_more), 16'000'000, "maxmsgsize", 8 * mib);
}
TEST_CASE_TEMPLATE_INSTANTIATE(tiny_frames, support::tcp_scheme, support::ipc_scheme);

TEST_CASE_TEMPLATE_DEFINE("with the defaults an endless message is cut at the input budget", Scheme, default_budget) {
    // No maxmsgsize (libzmq's default, under which libzmq holds whatever comes): the
    // default input_budget of 64 MiB still ends it, 64 bytes a frame: after about 1 M frames.
    volley::context ctx;
    CHECK(volley::socket(ctx, socket_type::pull).get(opt::input_budget) == std::int64_t{64} << 20);
    endless_message<Scheme>([](volley::socket&) {}, raw_zmtp::frame("", raw_zmtp::flag_more), 16'000'000,
                            "input_budget", 96 * mib);
}
TEST_CASE_TEMPLATE_INSTANTIATE(default_budget, support::tcp_scheme, support::ipc_scheme);

TEST_CASE_TEMPLATE_DEFINE("input_budget bounds one large frame and lets smaller messages through", Scheme,
                          budget_option) {
    fault::listener l(Scheme::bind_endpoint(), [](volley::socket& s) { s.set(opt::input_budget, std::int64_t{1} << 20); });
    handshaken_peer bad(l);
    const std::string fits(512 * 1024, 'f');
    REQUIRE(bad.raw.send(raw_zmtp::frame_header(raw_zmtp::flag_more, 100) + std::string(100, 'h') +
                         raw_zmtp::frame_header(0, fits.size()) + fits));
    auto head = l.pull().recv();
    REQUIRE(head.ok());
    CHECK(head->size() == 100);
    CHECK(l.pull().recv().value().size() == fits.size());
    const std::size_t before = support::virtual_bytes();
    // 2 MiB declared, 1 MiB allowed: refused at the header, nothing allocated for it.
    bad.raw.send(raw_zmtp::frame_header(0, 2 * mib) + std::string(1000, 'x'));
    const auto e = l.expect(event_type::disconnected, errc::message_too_large, "input_budget");
    CHECK(e.detail.find("frame of 2097152 bytes") != std::string::npos);
    CHECK(growth(before, support::virtual_bytes()) < 2 * mib);
    CHECK(bad.raw.wait_closed(5000ms));
    l.check_still_serves();
}
TEST_CASE_TEMPLATE_INSTANTIATE(budget_option, support::tcp_scheme, support::ipc_scheme);

TEST_CASE_TEMPLATE_DEFINE("sizes peers declare reserve no memory, before the handshake or after it", Scheme,
                          declared_sizes) {
    fault::listener l(Scheme::bind_endpoint());
    const std::size_t before = support::virtual_bytes();
    // 20 peers, each announcing a 16 GiB READY and sending a few bytes of it.
    constexpr int peers = 20;
    std::vector<std::unique_ptr<raw_zmtp::peer>> bad;
    for (int i = 0; i < peers; ++i) {
        bad.push_back(std::make_unique<raw_zmtp::peer>(l.endpoint()));
        REQUIRE(bad.back()->send(raw_zmtp::greeting() + raw_zmtp::frame_header(raw_zmtp::flag_command, 16 * 1024 * mib) +
                                 "\x05READY"));
    }
    for (int i = 0; i < peers; ++i) l.expect(event_type::handshake_failed, errc::protocol_error, "during the handshake");
    // And one after its handshake, with the default input_budget.
    handshaken_peer late(l);
    late.raw.send(raw_zmtp::frame_header(0, 16 * 1024 * mib) + std::string(1000, 'x'));
    l.expect(event_type::disconnected, errc::message_too_large, "input_budget");
    const std::size_t grown = growth(before, support::virtual_bytes());
    MESSAGE("virtual growth for 21 peers declaring 16 GiB: ", grown / 1024, " KiB");
    CHECK(grown < 64 * mib); // threads' stacks and the raw peers' buffers, no reservations
    for (auto& p : bad) CHECK(p->wait_closed(5000ms));
    l.check_still_serves();
}
TEST_CASE_TEMPLATE_INSTANTIATE(declared_sizes, support::tcp_scheme, support::ipc_scheme);

TEST_CASE_TEMPLATE_DEFINE("a refused READY is quoted short and escaped in the monitor", Scheme, quoted_ready) {
    fault::listener l(Scheme::bind_endpoint());
    // A Socket-Type of 60 000 bytes (under the handshake's 64 KiB) full of control bytes.
    std::string type = "PU\x01\n\x1b[2J";
    type.resize(60'000, 'S');
    raw_zmtp::peer bad(l.endpoint());
    REQUIRE(bad.send(raw_zmtp::greeting() + raw_zmtp::command("READY", raw_zmtp::property("Socket-Type", type))));
    const auto e = l.expect(event_type::handshake_failed, errc::protocol_error, "unknown peer socket type");
    INFO("detail: ", e.detail);
    CHECK(e.detail.size() < 200);
    CHECK(e.detail.find("'PU\\x01\\x0a\\x1b[2JSSS") != std::string::npos);
    CHECK(e.detail.find("(60000 bytes)") != std::string::npos);
    CHECK(std::none_of(e.detail.begin(), e.detail.end(), [](char c) { return c < 0x20 || c == 0x7f; }));
    // A 4 MiB one is refused at its header: nothing of it is read, let alone quoted.
    raw_zmtp::peer huge(l.endpoint());
    huge.send(raw_zmtp::greeting() + raw_zmtp::command("READY", raw_zmtp::property("Socket-Type", std::string(4 * mib, 'T'))));
    const auto h = l.expect(event_type::handshake_failed, errc::protocol_error, "during the handshake");
    CHECK(h.detail.size() < 200);
    CHECK(bad.wait_closed(5000ms));
    CHECK(huge.wait_closed(5000ms));
    l.check_still_serves();
}
TEST_CASE_TEMPLATE_INSTANTIATE(quoted_ready, support::tcp_scheme, support::ipc_scheme);

TEST_CASE_TEMPLATE_DEFINE("a mechanism name with control bytes is escaped in the monitor", Scheme, quoted_mechanism) {
    fault::listener l(Scheme::bind_endpoint());
    raw_zmtp::peer bad(l.endpoint());
    REQUIRE(bad.send(raw_zmtp::greeting(3, 1, "EVIL\r\nfake: line")));
    const auto e = l.expect(event_type::handshake_failed, errc::protocol_error, "'EVIL\\x0d\\x0afake: line'");
    CHECK(std::none_of(e.detail.begin(), e.detail.end(), [](char c) { return c < 0x20 || c == 0x7f; }));
    CHECK(bad.wait_closed(5000ms));
    l.check_still_serves();
}
TEST_CASE_TEMPLATE_INSTANTIATE(quoted_mechanism, support::tcp_scheme, support::ipc_scheme);
