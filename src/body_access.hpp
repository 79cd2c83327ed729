// SPDX-License-Identifier: MPL-2.0
// What a transport that registers memory with a device (rdma://) needs to
// know of a message's body: the block that holds it, and whether that block
// is the same one it registered before. A pooled block is reused by the
// pool without returning to the system, so a registration of it stays good;
// once freed to the system, the same address may come back as other pages.
// The stamp tells the two apart: it stays with a block while the pool keeps
// it and is new each time the system hands a block out.
#pragma once

#include <volley/message.hpp>

#include <cstddef>
#include <cstdint>

namespace volley::detail {

struct body_region {
    const std::byte* base = nullptr; // nullptr: no body of ours (inline, or the user's buffer)
    std::size_t bytes = 0;           // from base, covering the message's bytes
    std::uint64_t stamp = 0;         // 0: a block freed with its message, never reused
};

struct body_access {
    static body_region region(const message& m) noexcept;
};

} // namespace volley::detail
