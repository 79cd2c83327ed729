// SPDX-License-Identifier: MPL-2.0
// Control-plane half of pipes: ownership, events to the peer, close.
#include "pipe.hpp"

namespace volley::detail {

pipe_pair* pipe_pair::create(std::uint64_t hwm0, std::uint64_t hwm1) {
    return new pipe_pair(hwm0, hwm1);
}

pipe_pair::pipe_pair(std::uint64_t hwm0, std::uint64_t hwm1) noexcept : flows_{flow(hwm0), flow(hwm1)} {
    for (int side = 0; side < 2; ++side) {
        ends_[side].pair_ = this;
        ends_[side].side_ = side;
    }
}

void pipe::set_owner(std::shared_ptr<mailbox> owner) noexcept {
    std::lock_guard lock(pair_->mutex_);
    pair_->owners_[side_] = std::move(owner);
}

void pipe::post(event_kind kind, int side) noexcept {
    std::shared_ptr<mailbox> owner;
    {
        std::lock_guard lock(pair_->mutex_);
        owner = pair_->owners_[side];
    }
    if (!owner) return; // that end is not attached yet, or is closed
    add_ref();          // the event's reference
    owner->post({kind, &pair_->ends_[side], 0});
}

void pipe::close(clock::time_point linger_deadline) noexcept {
    out().rollback(); // an unfinished multipart message is never delivered
    pair_->linger_deadline_[side_].store(linger_deadline.time_since_epoch().count(), std::memory_order_relaxed);
    pair_->closed_[side_].store(true, std::memory_order_release);
    std::shared_ptr<mailbox> peer_owner;
    {
        std::lock_guard lock(pair_->mutex_);
        pair_->owners_[side_].reset();
        peer_owner = pair_->owners_[1 - side_];
    }
    if (peer_owner) {
        add_ref();
        peer_owner->post({event_kind::peer_closed, &pair_->ends_[1 - side_], 0});
    }
    release();
}

bool pipe::peer_closed() const noexcept {
    return pair_->closed_[1 - side_].load(std::memory_order_acquire);
}

clock::time_point pipe::peer_linger_deadline() const noexcept {
    return clock::time_point(clock::duration(pair_->linger_deadline_[1 - side_].load(std::memory_order_relaxed)));
}

bool pipe::peer_linger_expired(clock::time_point now) const noexcept {
    return peer_closed() &&
           now.time_since_epoch().count() >= pair_->linger_deadline_[1 - side_].load(std::memory_order_relaxed);
}

void pipe::add_ref() noexcept {
    pair_->refs_.fetch_add(1, std::memory_order_relaxed);
}

void pipe::release() noexcept {
    if (pair_->refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete pair_;
}

} // namespace volley::detail
