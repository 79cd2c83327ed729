// SPDX-License-Identifier: MPL-2.0
// A pool for message bodies. Messages are made on one thread and dropped on
// another (that is what a messaging library is for), and glibc's malloc
// serialises exactly that pattern on the allocating thread's arena lock.
// The pool keeps, per size class, a small free list in each thread and a
// shared depot of fixed-size batches: a thread allocates from and frees to
// its own list, and trades a whole batch with the depot (one lock) only when
// its list runs empty or overflows. So a steady producer/consumer pair pays
// one lock per batch per side instead of contention on every message.
//
// Classes cover payloads up to 4 MiB; larger blocks go straight to
// operator new. A thread holds at most two batches (512 KiB, or two
// blocks) per class. The depot keeps what is being cycled, up to 8 MiB per
// small class and 256 MiB per class of 64 KiB and more, and frees batches
// that sat unused for a second (checked whenever the class is used). Under AddressSanitizer pooled
// blocks are poisoned while free, so use-after-free is still caught.
#pragma once

#include <cstddef>
#include <cstdint>

namespace volley::detail::body_pool {

// Marks a block that did not come from a size class.
inline constexpr std::uint8_t unpooled = 0xff;

struct block {
    void* memory;
    std::uint8_t size_class; // pass back to deallocate
    bool fresh;              // new from the system, not a block the pool had before
};

// A block of at least `bytes` bytes, max_align_t-aligned. Throws std::bad_alloc.
block allocate(std::size_t bytes);
// Returns a block from allocate(); any thread may call it.
void deallocate(void* memory, std::uint8_t size_class) noexcept;
// The usable bytes of a block of `size_class` (0 for an unpooled one: its size was asked).
std::size_t capacity(std::uint8_t size_class) noexcept;

} // namespace volley::detail::body_pool
