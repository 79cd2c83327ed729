// SPDX-License-Identifier: MPL-2.0
// The ZMTP codec on its own: greetings, frames split across every possible
// read boundary, large bodies read in place, commands and READY properties,
// and every malformed input the decoder must refuse with a reason.
#include "zmtp/commands.hpp"
#include "zmtp/decoder.hpp"
#include "zmtp/encoder.hpp"
#include "zmtp/wire.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

using namespace volley;
using namespace volley::zmtp;

namespace {

// Flattens what the encoder would write.
std::vector<std::byte> drain(encoder& e) {
    std::vector<std::byte> out;
    while (!e.empty()) {
        iovec iov[8];
        const int n = e.gather(iov, 8);
        std::size_t took = 0;
        for (int i = 0; i < n; ++i) {
            const auto* p = static_cast<const std::byte*>(iov[i].iov_base);
            out.insert(out.end(), p, p + iov[i].iov_len);
            took += iov[i].iov_len;
        }
        e.consumed(took);
    }
    return out;
}

// Feeds `bytes` to a decoder `chunk` bytes per read; collects the frames.
std::vector<decoder::frame> feed(decoder& d, const std::vector<std::byte>& bytes, std::size_t chunk,
                                 decoder::status* last = nullptr) {
    std::vector<decoder::frame> frames;
    std::size_t at = 0;
    for (;;) {
        decoder::frame f;
        const auto st = d.next(f);
        if (st == decoder::status::frame) {
            frames.push_back(std::move(f));
            continue;
        }
        if (last != nullptr) *last = st;
        if (st == decoder::status::error || at == bytes.size()) return frames;
        auto target = d.read_target();
        const std::size_t n = std::min<std::size_t>({chunk, target.size(), bytes.size() - at});
        std::memcpy(target.data(), bytes.data() + at, n);
        d.received(n);
        at += n;
    }
}

message body(std::string_view s, bool more = false) {
    message m(s);
    m.set_more(more);
    return m;
}

std::vector<std::byte> raw(std::initializer_list<int> v) {
    std::vector<std::byte> out;
    for (int b : v) out.push_back(static_cast<std::byte>(b));
    return out;
}

} // namespace

TEST_CASE("volley's greeting is ZMTP 3.1 with the NULL mechanism, as-server 0") {
    std::byte g[greeting_size];
    write_greeting(g, "NULL", false);
    CHECK(g[0] == std::byte{0xFF});
    CHECK(g[9] == std::byte{0x7F});
    CHECK(g[10] == std::byte{3});
    CHECK(g[11] == std::byte{1});
    CHECK(std::memcmp(g + 12, "NULL", 4) == 0);
    CHECK(g[32] == std::byte{0});
    greeting parsed;
    CHECK(parse_greeting(g, parsed).empty());
    CHECK(parsed.major == 3);
    CHECK(parsed.minor == 1);
    CHECK(parsed.mechanism == "NULL");
}

TEST_CASE("greetings of non-ZMTP, ZMTP 1.0 and 2.0 peers are refused as soon as the bytes show it") {
    const std::string http = "GET / HTTP/1.1";
    CHECK(check_greeting_prefix(reinterpret_cast<const std::byte*>(http.data()), 1).find("0xFF") != std::string::npos);
    std::byte g[greeting_size];
    write_greeting(g, "NULL", false);
    g[9] = std::byte{0x7E}; // bit 0 clear: ZMTP 1.0
    CHECK(check_greeting_prefix(g, 10).find("1.0") != std::string::npos);
    write_greeting(g, "NULL", false);
    g[10] = std::byte{2};
    CHECK(check_greeting_prefix(g, 11).find("ZMTP 2.0") != std::string::npos);
    write_greeting(g, "NULL", false);
    CHECK(check_greeting_prefix(g, 11).empty());
}

TEST_CASE("a mechanism that is not NUL-padded is a malformed greeting") {
    std::byte g[greeting_size];
    write_greeting(g, "NULL", false);
    g[20] = std::byte{'x'};
    greeting parsed;
    CHECK_FALSE(parse_greeting(g, parsed).empty());
}

TEST_CASE("frames survive being split at every byte boundary") {
    encoder e;
    e.add(body("short", true), false);
    e.add(message(std::size_t{300}), false); // a long frame
    e.add(message(), false);                  // empty
    e.add(make_ping(10, {}), true);
    const auto bytes = drain(e);
    for (std::size_t chunk = 1; chunk <= bytes.size(); ++chunk) {
        decoder d(1024, 512);
        const auto frames = feed(d, bytes, chunk);
        REQUIRE_MESSAGE(frames.size() == 4, "chunk " << chunk);
        CHECK(frames[0].body == "short");
        CHECK(frames[0].body.more());
        CHECK(frames[1].body.size() == 300);
        CHECK_FALSE(frames[1].body.more());
        CHECK(frames[2].body.empty());
        CHECK(frames[3].command);
        CHECK(d.idle());
    }
}

TEST_CASE("a large body is read straight into its message, in pieces") {
    encoder e(64); // bodies of 64 bytes or more go out by reference
    message big(std::size_t{100'000});
    for (std::size_t i = 0; i < big.size(); ++i) big.data()[i] = static_cast<std::byte>(i % 251);
    const message original = big;
    e.add(std::move(big), false);
    e.add(body("after"), false);
    const auto bytes = drain(e);
    decoder d(4096, 1024);
    const auto frames = feed(d, bytes, 3000);
    REQUIRE(frames.size() == 2);
    REQUIRE(frames[0].body.size() == original.size());
    CHECK(std::memcmp(frames[0].body.data(), original.data(), original.size()) == 0);
    CHECK(frames[1].body == "after");
}

TEST_CASE("the encoder sends large bodies from their own buffer") {
    encoder e(1024);
    message big(std::size_t{4096});
    const std::byte* where = big.data();
    e.add(std::move(big), false);
    iovec iov[4];
    const int n = e.gather(iov, 4);
    REQUIRE(n == 2); // header, then the body itself
    CHECK(iov[1].iov_base == where);
    CHECK(iov[0].iov_len == 9);
    CHECK(e.pending() == 9 + 4096);
    e.consumed(100);
    CHECK(e.pending() == 9 + 4096 - 100);
}

TEST_CASE("the encoder hands out at most the bytes asked for, cutting the last piece short") {
    encoder e(1024);
    message big(std::size_t{4096});
    const std::byte* where = big.data();
    e.add(std::move(big), false);
    e.add(body("next"), false);
    iovec iov[4];
    int n = e.gather(iov, 4, 1009); // the 9-byte header and 1000 body bytes
    REQUIRE(n == 2);
    CHECK(iov[0].iov_len == 9);
    CHECK(iov[1].iov_base == where);
    CHECK(iov[1].iov_len == 1000);
    e.consumed(1009);
    n = e.gather(iov, 4); // the rest of the body from where it stopped, then the next frame
    REQUIRE(n == 2);
    CHECK(iov[0].iov_base == where + 1000);
    CHECK(iov[0].iov_len == 3096);
    CHECK(iov[1].iov_len == 2 + 4);
    CHECK(e.gather(iov, 4, 0) == 0);
}

TEST_CASE("an encoder that never runs empty keeps its buffer near what is unwritten") {
    // A peer that keeps up only just: each write leaves a little behind, more is added.
    encoder e;
    std::vector<std::byte> sent;
    std::uint64_t next_added = 0;
    std::size_t most = 0;
    const auto add_one = [&] {
        const std::string text = std::to_string(next_added++);
        e.add(body(text), false);
    };
    for (int i = 0; i < 100; ++i) add_one();
    for (int round = 0; round < 20'000; ++round) {
        for (int i = 0; i < 10; ++i) add_one();
        iovec iov[64];
        const int n = e.gather(iov, 64);
        std::size_t take = 0;
        for (int i = 0; i < n; ++i) take += iov[i].iov_len;
        take -= std::min<std::size_t>(take, 7); // never quite everything
        std::size_t left = take;
        for (int i = 0; i < n && left > 0; ++i) {
            const std::size_t part = std::min(left, iov[i].iov_len);
            const auto* p = static_cast<const std::byte*>(iov[i].iov_base);
            sent.insert(sent.end(), p, p + part);
            left -= part;
        }
        e.consumed(take);
        REQUIRE(e.pending() > 0);
        most = std::max(most, e.buffered_bytes());
    }
    CHECK(most < 256 * 1024); // ~1.5 MB were written through it
    // And what went out is the frames, whole and in order.
    decoder d(4096, 1024);
    const auto frames = feed(d, sent, 100'000);
    REQUIRE(frames.size() > 1000);
    for (std::size_t i = 0; i < frames.size(); ++i) REQUIRE(frames[i].body == std::to_string(i));
}

TEST_CASE("the decoder refuses malformed frames with a reason") {
    struct bad_case {
        const char* what;
        std::vector<std::byte> bytes;
        errc code;
        const char* reason;
    };
    const bad_case cases[] = {
        {"reserved bits", raw({0x08, 0x01, 0x41}), errc::protocol_error, "reserved"},
        {"command with MORE", raw({0x05, 0x01, 0x41}), errc::protocol_error, "MORE"},
        {"impossible size", raw({0x02, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}), errc::protocol_error,
         "impossible"},
    };
    for (const auto& c : cases) {
        decoder d;
        decoder::status st{};
        feed(d, c.bytes, 64, &st);
        CHECK_MESSAGE(st == decoder::status::error, c.what);
        CHECK(d.error_code() == c.code);
        CHECK(d.error_reason().find(c.reason) != std::string::npos);
    }
}

TEST_CASE("maxmsgsize refuses a larger frame before allocating it") {
    decoder d;
    d.set_limits(1000, -1);
    decoder::status st{};
    feed(d, raw({0x02, 0, 0, 0, 0, 0, 0, 0x13, 0x88}), 64, &st); // 5000 bytes announced
    CHECK(st == decoder::status::error);
    CHECK(d.error_code() == errc::message_too_large);
    CHECK(d.error_reason().find("maxmsgsize") != std::string::npos);
}

TEST_CASE("maxmsgsize bounds a whole multipart message, not each frame alone") {
    encoder e;
    e.add(body(std::string(400, 'a'), true), false);
    e.add(body(std::string(400, 'b'), true), false);
    e.add(body(std::string(200, 'c'), false), false); // 1000 bytes in all: at the limit
    e.add(body(std::string(600, 'd'), true), false);
    e.add(body(std::string(600, 'e'), false), false); // 1200: over it, though each frame is not
    const auto bytes = drain(e);
    decoder d;
    d.set_limits(1000, -1);
    decoder::status st{};
    const auto frames = feed(d, bytes, 100, &st);
    CHECK(frames.size() == 4); // the first message whole, and the first frame of the second
    CHECK(st == decoder::status::error);
    CHECK(d.error_code() == errc::message_too_large);
    CHECK(d.error_reason().find("multipart message of 1200 bytes") != std::string::npos);
}

TEST_CASE("maxmsgsize counts each frame's bookkeeping: empty frames cannot hold memory beyond it") {
    // 0-byte frames with MORE: no body, but each is a message held until the last frame.
    std::vector<std::byte> bytes;
    for (int i = 0; i < 100; ++i) {
        bytes.push_back(std::byte{flag_more});
        bytes.push_back(std::byte{0});
    }
    decoder d;
    d.set_limits(1000, -1); // memory bound 2 x 1000 + 1024 = 3024: 23 frames of 128 bytes
    decoder::status st{};
    const auto frames = feed(d, bytes, 64, &st);
    CHECK(frames.size() == 3024 / decoder::frame_cost);
    CHECK(st == decoder::status::error);
    CHECK(d.error_code() == errc::message_too_large);
    CHECK(d.error_reason().find("more than maxmsgsize 1000 allows") != std::string::npos);
}

TEST_CASE("a message of frames of 64 bytes or more meets only maxmsgsize's body bound") {
    encoder e;
    for (int i = 0; i < 15; ++i) e.add(body(std::string(64, 'a'), true), false);
    e.add(body(std::string(40, 'z'), false), false); // 15 x 64 + 40 = 1000: at the limit
    decoder d;
    d.set_limits(1000, -1);
    decoder::status st{};
    const auto frames = feed(d, drain(e), 100, &st);
    CHECK(frames.size() == 16);
    CHECK(st == decoder::status::need_more);
}

TEST_CASE("the input budget bounds one frame and a whole message by the memory they hold") {
    SUBCASE("a frame over the budget is refused at its header, before allocating") {
        decoder d;
        d.set_limits(-1, 100'000);
        decoder::status st{};
        feed(d, raw({0x02, 0, 0, 0, 0, 0, 0x01, 0x86, 0xa1}), 64, &st); // 100 001 bytes announced
        CHECK(st == decoder::status::error);
        CHECK(d.error_code() == errc::message_too_large);
        CHECK(d.error_reason() == "frame of 100001 bytes exceeds input_budget 100000");
    }
    SUBCASE("a message of many frames is refused once what it holds passes the budget") {
        encoder e;
        for (int i = 0; i < 100; ++i) e.add(body(std::string(1000, 'm'), true), false);
        decoder d;
        d.set_limits(-1, 10'000); // 1128 bytes a frame (1000 + a 128-byte message): the 9th would hold 10 152
        static_assert(decoder::cost(1000) == 1128);
        decoder::status st{};
        const auto frames = feed(d, drain(e), 4096, &st);
        CHECK(frames.size() == 8);
        CHECK(st == decoder::status::error);
        CHECK(d.error_reason().find("multipart message of 9 frames would hold 10152 bytes") != std::string::npos);
    }
    SUBCASE("a command over maxmsgsize is refused, even with room in the memory bound") {
        encoder e;
        e.add(body(std::string(1500, 'c'), false), true);
        decoder d;
        d.set_limits(1000, -1);
        decoder::status st{};
        feed(d, drain(e), 4096, &st);
        CHECK(st == decoder::status::error);
        CHECK(d.error_reason() == "frame of 1500 bytes exceeds maxmsgsize 1000");
    }
    SUBCASE("commands are counted alone") {
        encoder e;
        e.add(body(std::string(5000, 'm'), true), false);
        e.add(body(std::string(6000, 'c'), false), true); // a command mid-message
        decoder d;
        d.set_limits(-1, 8000);
        decoder::status st{};
        CHECK(feed(d, drain(e), 4096, &st).size() == 2);
        CHECK(st == decoder::status::need_more);
    }
}

TEST_CASE("during the handshake no frame over 64 KiB is taken, and its size reserves nothing") {
    decoder d;
    d.set_handshake(true);
    decoder::status st{};
    // A READY announcing 16 GiB: refused at its header, not allocated.
    feed(d, raw({0x06, 0, 0, 0, 0x04, 0, 0, 0, 0}), 64, &st);
    CHECK(st == decoder::status::error);
    CHECK(d.error_code() == errc::protocol_error);
    CHECK(d.error_reason() == "frame of 17179869184 bytes during the handshake (at most 65536)");
    decoder after;
    after.set_handshake(true);
    after.set_handshake(false); // the handshake is over: such frames are for the budget to judge
    feed(after, raw({0x06, 0, 0, 0, 0, 0, 0x01, 0, 0}), 64, &st); // 64 KiB + 1 announced
    CHECK(st == decoder::status::need_more);
}

TEST_CASE("the encoder tells how much it has written of what it was given") {
    encoder e;
    e.add(body("ping", false), true);
    const auto end = e.end();
    CHECK(e.written() < end);
    drain(e);
    CHECK(e.written() == end);
}

TEST_CASE("READY carries Socket-Type, and Identity when given") {
    const std::string id = "worker-7";
    const message ready = make_ready(socket_type::dealer, &id);
    const auto cmd = parse_command(ready);
    REQUIRE(cmd);
    CHECK(cmd->name == "READY");
    properties props;
    CHECK(parse_properties(cmd->data, props).empty());
    REQUIRE(find_property(props, "socket-type") != nullptr); // names are case-insensitive
    CHECK(*find_property(props, "Socket-Type") == "DEALER");
    CHECK(*find_property(props, "Identity") == id);
    CHECK(socket_type_from_name("DEALER") == socket_type::dealer);
    CHECK_FALSE(socket_type_from_name("BOGUS"));
}

TEST_CASE("READY is byte for byte what RFC 37's example shows") {
    const std::string empty;
    const message ready = make_ready(socket_type::dealer, &empty);
    encoder e;
    e.add(message(ready), true);
    const auto bytes = drain(e);
    // 04 29 | 05 "READY" | 0B "Socket-Type" 00 00 00 06 "DEALER" | 08 "Identity" 00 00 00 00
    REQUIRE(bytes.size() == 2 + 41);
    CHECK(bytes[0] == std::byte{0x04});
    CHECK(bytes[1] == std::byte{41});
    CHECK(std::memcmp(bytes.data() + 2, "\x05READY\x0BSocket-Type\0\0\0\x06" "DEALER\x08Identity\0\0\0\0", 41) == 0);
}

TEST_CASE("malformed property lists are refused") {
    properties props;
    CHECK_FALSE(parse_properties(raw({0x00}), props).empty());                   // empty name
    CHECK_FALSE(parse_properties(raw({0x05, 'a', 'b'}), props).empty());         // name runs past the end
    CHECK_FALSE(parse_properties(raw({0x01, 'a', 0, 0, 0}), props).empty());     // value length cut short
    CHECK_FALSE(parse_properties(raw({0x01, 'a', 0, 0, 0, 9, 'x'}), props).empty()); // value runs past
    CHECK_FALSE(parse_properties(raw({0x01, '{', 0, 0, 0, 0}), props).empty());  // bad name character
}

TEST_CASE("PING and PONG carry the TTL and echo the context") {
    const std::byte ctx[] = {std::byte{1}, std::byte{2}, std::byte{3}};
    const message ping = make_ping(150, ctx);
    const auto cmd = parse_command(ping);
    REQUIRE(cmd);
    CHECK(cmd->name == "PING");
    const auto p = parse_ping(cmd->data);
    REQUIRE(p);
    CHECK(p->ttl_deciseconds == 150);
    REQUIRE(p->context.size() == 3);
    const message pong = make_pong(p->context);
    const auto pc = parse_command(pong);
    REQUIRE(pc);
    CHECK(pc->name == "PONG");
    CHECK(pc->data.size() == 3);
    CHECK_FALSE(parse_ping(raw({0x01})));
}

TEST_CASE("ERROR carries a reason") {
    const message err = make_error("Invalid socket type");
    const auto cmd = parse_command(err);
    REQUIRE(cmd);
    CHECK(cmd->name == "ERROR");
    CHECK(parse_error(cmd->data) == std::optional<std::string>("Invalid socket type"));
    CHECK_FALSE(parse_error(raw({0x09, 'a'})));
    CHECK_FALSE(parse_command(message()));
}
