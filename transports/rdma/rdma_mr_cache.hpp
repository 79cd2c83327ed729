// SPDX-License-Identifier: MPL-2.0
// rdma_mr_cache: the memory registrations of one protection domain, kept
// for the pooled blocks that message bodies cycle through, so a body sent
// or received again in the same block is not registered again (a
// registration pins the pages and costs a system call and a page walk).
//
// A registration covers the whole block (body_access.hpp), and is known by
// the block's address and stamp: a block the system handed out again at the
// same address has a new stamp, so a registration of the old pages is never
// used for new ones. A body the pool did not allocate (a zero-copy user
// buffer, a block beyond the pool's classes) is registered for one use.
//
// At most `kept` idle registrations stay; past that, the least recently used
// idle one goes (deregistered). Registrations in use are never dropped.
// A kept registration allows local writes and remote reads: the peer of the
// connection may read a cached block until it is deregistered, which is the
// rendezvous protocol's trust in the peer of an RC connection.
//
// Not thread-safe: the wire's driver lock covers it.
#pragma once

#include <volley/message.hpp>

#include <infiniband/verbs.h>

#include <cstddef>
#include <cstdint>
#include <vector>

namespace volley::detail {

class rdma_mr_cache {
public:
    static constexpr std::size_t kept = 32;

    rdma_mr_cache() noexcept = default;
    ~rdma_mr_cache();
    rdma_mr_cache(const rdma_mr_cache&) = delete;
    rdma_mr_cache& operator=(const rdma_mr_cache&) = delete;

    // Sets the protection domain (before the first acquire).
    void use(ibv_pd* pd) noexcept { pd_ = pd; }

    struct lease {
        ibv_mr* mr = nullptr; // nullptr: registration failed (errno says why)
        std::uint32_t entry = 0;
    };
    // A registration covering `m`'s bytes, in use until release(entry): for the device to
    // write into (`to_write`, a body being read) or for the peer to read.
    lease acquire(const message& m, bool to_write) noexcept;
    void release(std::uint32_t entry) noexcept;
    // Deregisters everything (before the protection domain goes).
    void clear() noexcept;

    std::uint64_t registrations() const noexcept { return registrations_; } // made, in all
    std::uint64_t hits() const noexcept { return hits_; }                   // acquires served by one kept

private:
    struct entry {
        const std::byte* base = nullptr;
        std::size_t bytes = 0;
        std::uint64_t stamp = 0; // 0: for one use
        ibv_mr* mr = nullptr;
        std::uint32_t users = 0;
        std::uint64_t last_use = 0;
    };
    void drop(std::size_t i) noexcept;
    void trim() noexcept;

    ibv_pd* pd_ = nullptr;
    std::vector<entry> entries_; // a free entry has mr == nullptr
    std::uint64_t clock_ = 0;
    std::uint64_t registrations_ = 0;
    std::uint64_t hits_ = 0;
};

} // namespace volley::detail
