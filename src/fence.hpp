// SPDX-License-Identifier: MPL-2.0
// Asymmetric memory fences for the "is the other side asleep?" handshakes.
//
// A pipe writer must not miss a reader that is going to sleep, and the
// reader must not sleep past a message just written: a Dekker handshake,
// which needs a StoreLoad barrier on both sides. The writer runs it for
// every message, the sleeper only before sleeping, so the barrier is made
// lopsided: light_fence() on the hot side is a compiler barrier, and
// heavy_fence() on the sleeping side is membarrier(PRIVATE_EXPEDITED),
// which runs a full barrier on every CPU running a thread of this process.
// Where membarrier is unavailable, both fall back to seq_cst fences.
// ThreadSanitizer models neither fences nor membarrier, so under it both
// halves are seq_cst read-modify-writes of one shared word: the same
// guarantee (RMWs on one atomic are totally ordered and synchronise), in a
// form it can check.
#pragma once

#include <atomic>

#if defined(__SANITIZE_THREAD__)
#define VOLLEY_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define VOLLEY_TSAN 1
#endif
#endif

namespace volley::detail {

namespace fence_state {
// True when membarrier(PRIVATE_EXPEDITED) is registered for this process.
extern std::atomic<bool> asymmetric;
// The word both fences update under ThreadSanitizer.
extern std::atomic<unsigned> tsan_word;
} // namespace fence_state

// Call once before relying on the fences (the context does); idempotent.
void init_fences() noexcept;

// The hot side's half of the handshake: orders a preceding store before a following load.
inline void light_fence() noexcept {
#if defined(VOLLEY_TSAN)
    fence_state::tsan_word.fetch_add(1, std::memory_order_seq_cst);
#else
    if (fence_state::asymmetric.load(std::memory_order_relaxed))
        std::atomic_signal_fence(std::memory_order_seq_cst);
    else
        std::atomic_thread_fence(std::memory_order_seq_cst);
#endif
}

// The sleeping side's half: a full barrier on every thread that may run light_fence().
void heavy_fence() noexcept;

// A plain full fence (StoreLoad included) on this thread, for symmetric handshakes.
inline void full_fence() noexcept {
#if defined(VOLLEY_TSAN)
    fence_state::tsan_word.fetch_add(1, std::memory_order_seq_cst);
#else
    std::atomic_thread_fence(std::memory_order_seq_cst);
#endif
}

} // namespace volley::detail
