// SPDX-License-Identifier: MPL-2.0
// membarrier-based heavy fence; see fence.hpp.
#include "fence.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <linux/membarrier.h>
#include <mutex>
#include <sys/syscall.h>
#include <unistd.h>

namespace volley::detail {

std::atomic<bool> fence_state::asymmetric{false};
std::atomic<unsigned> fence_state::tsan_word{0};

void init_fences() noexcept {
    static std::once_flag once;
    std::call_once(once, [] {
        long cmds = ::syscall(__NR_membarrier, MEMBARRIER_CMD_QUERY, 0, 0);
        if (cmds < 0 || !(cmds & MEMBARRIER_CMD_PRIVATE_EXPEDITED)) return;
        if (::syscall(__NR_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) != 0) return;
        fence_state::asymmetric.store(true, std::memory_order_seq_cst);
    });
}

void heavy_fence() noexcept {
#if defined(VOLLEY_TSAN)
    fence_state::tsan_word.fetch_add(1, std::memory_order_seq_cst);
#else
    if (fence_state::asymmetric.load(std::memory_order_relaxed)) {
        std::atomic_thread_fence(std::memory_order_seq_cst);
        if (::syscall(__NR_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0) == 0) return;
        // Cannot happen once registered; if the kernel says otherwise, every thread switches
        // to full fences from here on, and we say so.
        if (fence_state::asymmetric.exchange(false))
            std::fprintf(stderr, "volley: membarrier failed (%s); using full fences from now on\n",
                         std::strerror(errno));
    }
    std::atomic_thread_fence(std::memory_order_seq_cst);
#endif
}

} // namespace volley::detail
