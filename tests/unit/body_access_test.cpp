// SPDX-License-Identifier: MPL-2.0
// body_access: what a transport that registers memory (rdma://) learns of a
// message's block, and the stamp that tells a reused pooled block from one
// the system handed out again.
#include "body_access.hpp"

#include <volley/message.hpp>

#include <doctest/doctest.h>

#include <cstdint>

using volley::message;
using volley::detail::body_access;

TEST_CASE("a pooled body's region covers its bytes, and a block the pool reuses keeps its stamp") {
    const std::byte* base = nullptr;
    std::uint64_t stamp = 0;
    {
        const message m(64 * 1024);
        const auto r = body_access::region(m);
        REQUIRE(r.base != nullptr);
        CHECK(r.stamp != 0);
        CHECK(r.base <= m.data());
        CHECK(r.base + r.bytes >= m.data() + m.size());
        base = r.base;
        stamp = r.stamp;
    }
    // The thread's free list gives the block just freed back first.
    const message again(60 * 1024);
    const auto r = body_access::region(again);
    CHECK(r.base == base);
    CHECK(r.stamp == stamp);
    // Another block, alive beside it, has another stamp.
    const message other(64 * 1024);
    CHECK(body_access::region(other).stamp != stamp);
}

TEST_CASE("inline and zero-copy bodies have no pooled region; a body beyond the pool's classes is for one use") {
    CHECK(body_access::region(message(8)).base == nullptr);
    static const char text[] = "the caller's own bytes";
    CHECK(body_access::region(message(text, sizeof text, nullptr)).base == nullptr);
    const message huge(std::size_t{8} << 20);
    const auto r = body_access::region(huge);
    CHECK(r.base == huge.data());
    CHECK(r.bytes == huge.size());
    CHECK(r.stamp == 0);
}
