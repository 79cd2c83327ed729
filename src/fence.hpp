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
//
// That lopsided pairing pays off while sleeps are rare. A membarrier costs
// microseconds (an IPI to each CPU running a thread of ours, and a VM exit
// for each on a virtual machine), a full fence on the hot side tens of
// nanoseconds: a sleeper that parks again after a few hundred messages or
// fewer is cheaper served by symmetric fences. So each flow of a pipe
// carries the pairing its reader asks for (flow::park_reader): the writer
// reads it before its fence and runs full_fence() when asked. The reader
// switches at a park: to symmetric by storing the request and running
// heavy_fence() that once (after it, every writer thread either sees the
// request or ran the membarrier's barrier after its message was stored);
// back to asymmetric by storing the request and running heavy_fence() from
// then on. fence_mode below makes the choice.
// ThreadSanitizer models neither fences nor membarrier, so under it both
// halves are seq_cst read-modify-writes of one shared word: the same
// guarantee (RMWs on one atomic are totally ordered and synchronise), in a
// form it can check.
#pragma once

#include <atomic>
#include <cstdint>

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

// The hot side's half when its sleeper may have asked for symmetric fences.
inline void writer_fence(bool symmetric) noexcept {
    if (symmetric)
        full_fence();
    else
        light_fence();
}

// A sleeper's choice of pairing (see the top of this file): symmetric when it parks again
// after fewer than `symmetric_below` items (a full fence per message costs about what one
// membarrier does at a few hundred messages).
class fence_mode {
public:
    static constexpr std::uint64_t symmetric_below = 256;

    // At a park, with `taken` the count of items taken so far in all (it only grows).
    bool symmetric(std::uint64_t taken) noexcept {
        const bool s = taken - taken_at_park_ < symmetric_below;
        taken_at_park_ = taken;
        return s;
    }
    // The sleeper's fence before its re-checks; `heavy` as the parks said.
    static void fence(bool heavy) noexcept {
        if (heavy)
            heavy_fence();
        else
            full_fence();
    }

private:
    std::uint64_t taken_at_park_ = 0;
};

} // namespace volley::detail
