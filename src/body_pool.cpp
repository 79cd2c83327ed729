// SPDX-License-Identifier: MPL-2.0
// Size-class pool for message bodies: thread caches plus a shared depot of
// batches. See body_pool.hpp. Free blocks are kept as arrays of pointers,
// never linked through the blocks, so taking or returning a block touches
// no block memory (a block freed by the consumer thread is not pulled into
// the producer's cache until the producer writes it).
#include "body_pool.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <chrono>
#include <mutex>
#include <new>
#include <vector>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#define VOLLEY_POISON(p, n) ASAN_POISON_MEMORY_REGION(p, n)
#define VOLLEY_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION(p, n)
#else
#define VOLLEY_POISON(p, n) ((void)(p), (void)(n))
#define VOLLEY_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

namespace volley::detail::body_pool {
namespace {

// Class c holds up to 2^(6+c) bytes of payload (64 B .. 4 MiB) plus a header of up to
// `slack` bytes, so a power-of-two payload does not spill into the next class. Large
// classes matter as much as small ones: a fresh multi-megabyte block comes from mmap and
// is page-faulted in on first touch, for every message, unless it is reused.
constexpr std::size_t min_shift = 6;
constexpr std::size_t class_count = 17;
constexpr std::size_t slack = 64;
constexpr std::size_t class_bytes(std::size_t c) noexcept { return (std::size_t{1} << (min_shift + c)) + slack; }
// A batch is about 256 KiB of blocks (1..64 of them); a thread keeps at most two batches
// a class. The depot keeps what is being cycled, up to a ceiling: 8 MiB a class for small
// blocks (cheap to get again), 256 MiB for blocks of 64 KiB and more, whose every fresh
// page is a page fault: a sender that is woken once per 256 messages sent allocates 256
// large bodies at once, and would otherwise take every one of them from the kernel again.
// Batches that sat unused in the depot for a whole trim period are freed.
constexpr std::size_t batch_blocks_of(std::size_t c) noexcept {
    return std::clamp<std::size_t>((256 * 1024) / class_bytes(c), 1, 64);
}
// A table: every free computes it, and a division costs ~40 cycles (a tenth of the pool's
// share of a 64-byte message).
constexpr auto batch_table = [] {
    std::array<std::uint8_t, class_count> t{};
    for (std::size_t c = 0; c < class_count; ++c) t[c] = static_cast<std::uint8_t>(batch_blocks_of(c));
    return t;
}();
constexpr std::size_t batch_blocks(std::size_t c) noexcept { return batch_table[c]; }
constexpr std::size_t depot_max_batches(std::size_t c) noexcept {
    const std::size_t ceiling = class_bytes(c) >= 64 * 1024 ? std::size_t{256} << 20 : std::size_t{8} << 20;
    return std::max<std::size_t>(2, ceiling / (batch_blocks(c) * class_bytes(c)));
}
constexpr auto trim_period = std::chrono::seconds(1);

using batch = std::vector<void*>;

void release_all(batch& b, std::size_t c) noexcept {
    for (void* p : b) {
        VOLLEY_UNPOISON(p, class_bytes(c));
        ::operator delete(p);
    }
    b.clear();
}

// Every batch vector has room for two batches, so a thread's free array never grows;
// emptied vectors go back to the depot for the next hand-off: no allocation once warm.
batch make_batch(std::size_t c) {
    batch b;
    b.reserve(2 * batch_blocks(c));
    return b;
}

// Shared by every thread; never destroyed, since blocks may be freed during exit.
struct depot {
    std::mutex mutex[class_count];
    std::vector<batch> full[class_count];
    std::vector<batch> empty[class_count];
    // Fewest full batches seen since the trim period began: that many sat unused throughout.
    std::size_t low[class_count] = {};
    std::chrono::steady_clock::time_point period[class_count] = {};

    // Swaps a full batch into `into` (which must be empty) and keeps `into`'s vector for
    // reuse; false when there is none.
    bool take(std::size_t c, batch& into) {
        std::lock_guard lock(mutex[c]);
        if (full[c].empty()) return false;
        into.swap(full[c].back());
        batch spare = std::move(full[c].back()); // `into`'s old, empty vector
        full[c].pop_back(); // first: a failed push_back below must not leave it in full[c]
        if (empty[c].size() < depot_max_batches(c)) {
            try {
                empty[c].push_back(std::move(spare));
            } catch (const std::bad_alloc&) { // out of memory: just do not keep it
            }
        }
        low[c] = std::min(low[c], full[c].size());
        trim(c);
        return true;
    }
    // Called with mutex[c] held: frees the batches nobody needed for a whole period (the
    // oldest ones, at the front).
    void trim(std::size_t c) noexcept {
        const auto now = std::chrono::steady_clock::now();
        if (now - period[c] < trim_period) return;
        const std::size_t idle = std::min(low[c], full[c].size());
        for (std::size_t i = 0; i < idle; ++i) release_all(full[c][i], c);
        full[c].erase(full[c].begin(), full[c].begin() + static_cast<std::ptrdiff_t>(idle));
        low[c] = full[c].size();
        period[c] = now;
    }
    // An empty batch vector with room for two batches.
    batch vessel(std::size_t c) {
        {
            std::lock_guard lock(mutex[c]);
            if (!empty[c].empty()) {
                batch b = std::move(empty[c].back());
                empty[c].pop_back();
                return b;
            }
        }
        return make_batch(c);
    }
    void give(std::size_t c, batch&& b) noexcept {
        {
            std::lock_guard lock(mutex[c]);
            trim(c);
            if (full[c].size() < depot_max_batches(c)) {
                try {
                    full[c].push_back(std::move(b));
                    return;
                } catch (const std::bad_alloc&) {
                }
            }
        }
        release_all(b, c);
    }
};

depot& shared_depot() {
    static depot* d = new depot;
    return *d;
}

struct thread_cache {
    std::array<batch, class_count> free;

    ~thread_cache() {
        for (std::size_t c = 0; c < class_count; ++c) {
            if (!free[c].empty()) shared_depot().give(c, std::move(free[c]));
        }
    }
};

// The cache lives in a thread_local object; `tls_state` (trivially destructible) tells
// whether it is alive, so frees that happen after it is gone (in other thread_local
// destructors) go to operator delete instead.
enum class cache_state : std::uint8_t { fresh, alive, gone };
thread_local cache_state tls_state = cache_state::fresh;

struct cache_holder {
    thread_cache cache;
    cache_holder() noexcept { tls_state = cache_state::alive; }
    ~cache_holder() { tls_state = cache_state::gone; }
};

thread_cache* local_cache() noexcept {
    if (tls_state == cache_state::gone) return nullptr;
    thread_local cache_holder holder;
    return &holder.cache;
}

// The smallest class that holds `bytes`, class_count when none does.
constexpr std::size_t class_of(std::size_t bytes) noexcept {
    if (bytes <= class_bytes(0)) return 0;
    // class_bytes(c) >= bytes  <=>  2^(min_shift + c) >= bytes - slack
    const auto width = static_cast<std::size_t>(std::bit_width(bytes - slack - 1));
    return std::min(class_count, width - min_shift);
}
static_assert(class_of(1) == 0 && class_of(class_bytes(0)) == 0 && class_of(class_bytes(0) + 1) == 1);
static_assert(class_of(class_bytes(class_count - 1)) == class_count - 1);
static_assert(class_of(class_bytes(class_count - 1) + 1) == class_count);
static_assert([] {
    for (std::size_t c = 1; c < class_count; ++c)
        if (class_of(class_bytes(c - 1) + 1) != c || class_of(class_bytes(c)) != c) return false;
    return true;
}());

} // namespace

block allocate(std::size_t bytes) {
    const std::size_t c = class_of(bytes);
    if (c == class_count) return {::operator new(bytes), unpooled, true};
    const auto tag = static_cast<std::uint8_t>(c);
    thread_cache* tc = local_cache();
    if (tc == nullptr) return {::operator new(class_bytes(c)), tag, true};
    batch& b = tc->free[c];
    if (b.empty() && !shared_depot().take(c, b)) return {::operator new(class_bytes(c)), tag, true};
    void* p = b.back();
    b.pop_back();
    VOLLEY_UNPOISON(p, class_bytes(c));
    return {p, tag, false};
}

std::size_t capacity(std::uint8_t size_class) noexcept {
    return size_class == unpooled ? 0 : class_bytes(size_class);
}

void deallocate(void* memory, std::uint8_t size_class) noexcept {
    const std::size_t c = size_class;
    thread_cache* tc = size_class == unpooled ? nullptr : local_cache();
    if (tc == nullptr) {
        ::operator delete(memory);
        return;
    }
    batch& b = tc->free[c];
    const std::size_t n = batch_blocks(c);
    try {
        if (b.capacity() < 2 * n) b.reserve(2 * n);
        if (b.size() == 2 * n) { // hand the older half to the depot
            batch half = shared_depot().vessel(c);
            half.assign(b.begin(), b.begin() + static_cast<std::ptrdiff_t>(n));
            b.erase(b.begin(), b.begin() + static_cast<std::ptrdiff_t>(n));
            shared_depot().give(c, std::move(half));
        }
        b.push_back(memory);
    } catch (const std::bad_alloc&) {
        ::operator delete(memory);
        return;
    }
    VOLLEY_POISON(memory, class_bytes(c));
}

} // namespace volley::detail::body_pool
