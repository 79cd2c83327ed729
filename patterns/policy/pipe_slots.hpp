// SPDX-License-Identifier: MPL-2.0
// The bookkeeping shared by the routing policies: a vector of pipes whose
// first `active` entries are the active ones, each pipe knowing its own
// index (libzmq's array_t), so activating, parking and removing a pipe are
// O(1) swaps. `Slot` names the member of the pipe that holds its index, so
// one pipe can sit in an inbound and an outbound policy at once.
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace volley::detail {

template <class Pipe, std::uint32_t Pipe::*Slot>
class pipe_slots {
public:
    static constexpr std::uint32_t npos = static_cast<std::uint32_t>(-1);

    std::size_t size() const noexcept { return pipes_.size(); }
    std::size_t active() const noexcept { return active_; }
    Pipe* operator[](std::size_t i) const noexcept { return pipes_[i]; }
    bool is_active(const Pipe& p) const noexcept { return p.*Slot < active_; }

    // Adds `p` as active.
    void add(Pipe& p) {
        p.*Slot = static_cast<std::uint32_t>(pipes_.size());
        pipes_.push_back(&p);
        activate(p);
    }
    // Moves `p` into the active range (no-op when it is there).
    void activate(Pipe& p) noexcept {
        if (p.*Slot < active_) return;
        swap(p.*Slot, active_);
        ++active_;
    }
    // Marks every pipe inactive; the previously active ones are at [0, n) afterwards.
    std::size_t deactivate_all() noexcept { return std::exchange(active_, 0); }
    // Removes `p`.
    void remove(Pipe& p) noexcept {
        std::size_t i = p.*Slot;
        if (i < active_) {
            --active_;
            swap(i, active_);
            i = active_;
        }
        swap(i, pipes_.size() - 1);
        pipes_.pop_back();
        p.*Slot = npos;
    }

private:
    void swap(std::size_t i, std::size_t j) noexcept {
        std::swap(pipes_[i], pipes_[j]);
        pipes_[i]->*Slot = static_cast<std::uint32_t>(i);
        pipes_[j]->*Slot = static_cast<std::uint32_t>(j);
    }

    std::vector<Pipe*> pipes_;
    std::size_t active_ = 0;
};

} // namespace volley::detail
