// SPDX-License-Identifier: MPL-2.0
// Memory registrations kept per block. See rdma_mr_cache.hpp.
#include "rdma_mr_cache.hpp"

#include "body_access.hpp"

#include <algorithm>
#include <cerrno>
#include <new>

namespace volley::detail {
namespace {
// A pooled block serves sending and receiving alike. A buffer for one use gets what that
// use needs: a user's buffer may be read-only memory, which a local-write registration refuses.
constexpr int pooled_access = IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_READ;
} // namespace

rdma_mr_cache::~rdma_mr_cache() {
    clear();
}

void rdma_mr_cache::clear() noexcept {
    for (std::size_t i = 0; i < entries_.size(); ++i) drop(i);
    entries_.clear();
}

void rdma_mr_cache::drop(std::size_t i) noexcept {
    entry& e = entries_[i];
    if (e.mr != nullptr) (void)ibv_dereg_mr(e.mr);
    e = entry{};
}

rdma_mr_cache::lease rdma_mr_cache::acquire(const message& m, bool to_write) noexcept {
    body_region r = body_access::region(m);
    if (r.base == nullptr) r = {m.data(), m.size(), 0}; // the user's buffer: for this use only
    ++clock_;
    std::size_t free_slot = entries_.size();
    for (std::size_t i = 0; i < entries_.size(); ++i) {
        entry& e = entries_[i];
        if (e.mr == nullptr) {
            free_slot = std::min(free_slot, i);
            continue;
        }
        if (r.stamp != 0 && e.stamp == r.stamp && e.base == r.base && e.bytes >= r.bytes) {
            ++e.users;
            e.last_use = clock_;
            ++hits_;
            return {e.mr, static_cast<std::uint32_t>(i)};
        }
    }
    if (free_slot == entries_.size()) {
        try {
            entries_.emplace_back();
        } catch (const std::bad_alloc&) {
            errno = ENOMEM;
            return {};
        }
    }
    const int access = r.stamp != 0 ? pooled_access : to_write ? IBV_ACCESS_LOCAL_WRITE : IBV_ACCESS_REMOTE_READ;
    ibv_mr* mr = ibv_reg_mr(pd_, const_cast<std::byte*>(r.base), r.bytes, access);
    if (mr == nullptr) return {};
    ++registrations_;
    entries_[free_slot] = {r.base, r.bytes, r.stamp, mr, 1, clock_};
    trim();
    return {mr, static_cast<std::uint32_t>(free_slot)};
}

void rdma_mr_cache::release(std::uint32_t i) noexcept {
    if (i >= entries_.size() || entries_[i].users == 0) return;
    entry& e = entries_[i];
    if (--e.users == 0 && e.stamp == 0) drop(i);
}

void rdma_mr_cache::trim() noexcept {
    for (;;) {
        std::size_t idle = 0, oldest = entries_.size();
        for (std::size_t i = 0; i < entries_.size(); ++i) {
            const entry& e = entries_[i];
            if (e.mr == nullptr || e.users != 0) continue;
            ++idle;
            if (oldest == entries_.size() || e.last_use < entries_[oldest].last_use) oldest = i;
        }
        if (idle <= kept) return;
        drop(oldest);
    }
}

} // namespace volley::detail
