// SPDX-License-Identifier: MPL-2.0
// Out-of-line parts of volley::message: the refcounted body behind large and
// zero-copy frames. A body is a small header (reference count, free
// callback) either followed by the bytes in the same pooled block, or
// pointing at a user buffer (zero-copy).
#include <volley/message.hpp>

#include "body_pool.hpp"

#include <cstddef>
#include <cstdint>
#include <new>

namespace volley::detail {

struct body {
    std::atomic<std::uint32_t> refs;
    message::free_fn ffn; // user bodies only
    void* hint;
};

namespace {
// Bytes after the header start max_align_t-aligned.
constexpr std::size_t header_size =
    (sizeof(body) + alignof(std::max_align_t) - 1) & ~(alignof(std::max_align_t) - 1);
} // namespace

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
    u_.ext.body = new (block.memory) body{{1}, nullptr, nullptr};
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
    u_.ext.body = new (block.memory) body{{1}, ffn, hint};
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
