// SPDX-License-Identifier: MPL-2.0
// Out-of-line parts of volley::message: the refcounted body behind large and
// zero-copy frames. A body is a small header (reference count, free
// callback, the block's stamp) either followed by the bytes in the same
// pooled block, or pointing at a user buffer (zero-copy).
#include <volley/message.hpp>

#include "body_access.hpp"
#include "body_pool.hpp"

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <new>

namespace volley::detail {

struct body {
    std::atomic<std::uint32_t> refs;
    message::free_fn ffn; // user bodies only
    void* hint;
    // Names the block's life from the system's allocation to its release: kept while the
    // pool reuses the block, new when the system hands it out (body_access.hpp).
    std::uint64_t stamp;
};

namespace {
// Bytes after the header start max_align_t-aligned.
constexpr std::size_t header_size =
    (sizeof(body) + alignof(std::max_align_t) - 1) & ~(alignof(std::max_align_t) - 1);
static_assert(header_size == 32, "the body header fits in the space it had before the stamp");

std::atomic<std::uint64_t> next_stamp{1};

// A body in `block`: its stamp is the block's, carried over from the body it held before
// (the pool leaves a free block's bytes alone), or a new one for a block new from the system.
body* make_body(const body_pool::block& block, message::free_fn ffn, void* hint) noexcept {
    std::uint64_t stamp;
    if (block.fresh)
        stamp = next_stamp.fetch_add(1, std::memory_order_relaxed);
    else
        std::memcpy(&stamp, static_cast<const std::byte*>(block.memory) + offsetof(body, stamp), sizeof stamp);
    return new (block.memory) body{{1}, ffn, hint, stamp};
}
} // namespace

body_region body_access::region(const message& m) noexcept {
    if (m.kind_ != message::kind::pooled_body) return {};
    const std::size_t capacity = body_pool::capacity(m.size_class_);
    if (capacity == 0) return {m.u_.ext.data, m.u_.ext.size, 0}; // its own allocation, freed with it
    return {reinterpret_cast<const std::byte*>(m.u_.ext.body), capacity, m.u_.ext.body->stamp};
}

} // namespace volley::detail

namespace volley {

using detail::body;
using detail::header_size;
namespace body_pool = detail::body_pool;

message::message(std::size_t size) {
    static_assert(offsetof(message, u_) + short_inline <= 64, "a short message lies in the first cache line");
    reset_inline(size <= inline_capacity ? size : 0);
    if (size <= inline_capacity) return;
    if (size > SIZE_MAX - header_size) throw std::bad_alloc(); // header_size + size would wrap
    const auto block = body_pool::allocate(header_size + size);
    u_.ext.body = detail::make_body(block, nullptr, nullptr);
    u_.ext.data = static_cast<std::byte*>(block.memory) + header_size;
    u_.ext.size = size;
    size_class_ = block.size_class;
    kind_ = kind::pooled_body;
}

message::message(const void* data, std::size_t size) : message(size) {
    if (size != 0) std::memcpy(this->data(), data, size);
}

message::message(const void* data, std::size_t size, free_fn ffn, void* hint) {
    reset_inline(0);
    const auto block = body_pool::allocate(sizeof(body));
    u_.ext.body = detail::make_body(block, ffn, hint);
    u_.ext.data = static_cast<std::byte*>(const_cast<void*>(data)); // read only (message.hpp)
    u_.ext.size = size;
    size_class_ = block.size_class;
    kind_ = kind::user_body;
}

message::message(const message& other) noexcept {
    u_ = other.u_;
    inline_size_ = other.inline_size_;
    kind_ = other.kind_;
    flags_ = other.flags_;
    size_class_ = other.size_class_;
    copied_ = 0;
    if (kind_ == kind::inline_body) return;
    u_.ext.body->refs.fetch_add(1, std::memory_order_relaxed);
    other.mark_copied();
    mark_copied();
}

message& message::operator=(const message& other) noexcept {
    if (this != &other) {
        message copy(other);
        *this = std::move(copy);
    }
    return *this;
}

bool message::is_shared() const noexcept {
    return kind_ != kind::inline_body && maybe_copied() && u_.ext.body->refs.load(std::memory_order_acquire) > 1;
}

void message::free_unshared() noexcept {
    u_.ext.body->~body();
    body_pool::deallocate(u_.ext.body, size_class_);
}

void message::release_body() noexcept {
    body* b = u_.ext.body;
    // The last owner sees every earlier owner's writes (acq_rel), then frees.
    if (b->refs.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
    if (kind_ == kind::user_body && b->ffn != nullptr) b->ffn(u_.ext.data, b->hint);
    b->~body();
    body_pool::deallocate(b, size_class_);
}

} // namespace volley
