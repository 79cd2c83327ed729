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

    // Adds `p` as active. Throws std::bad_alloc, having changed nothing.
    void add(Pipe& p) {
        pipes_.push_back(&p);
        p.*Slot = static_cast<std::uint32_t>(pipes_.size() - 1);
        activate(p);
    }
    // Moves `p` into the active range (no-op when it is there).
    void activate(Pipe& p) noexcept {
        if (p.*Slot < active_) return;
        swap(p.*Slot, active_);
        ++active_;
    }
    // The socket is about to sleep: every active pipe becomes inactive and is parked with
    // `park(pipe)`. Returns how many were parked (they sit at [0, n) until unpark()).
    template <class Park>
    std::size_t park(Park park) noexcept {
        const std::size_t n = std::exchange(active_, 0);
        for (std::size_t i = 0; i < n; ++i) park(*pipes_[i]);
        return n;
    }
    // After park() returned n and a heavy fence: each of those n pipes that is `ready` after
    // all is un-parked, and re-activated when `unpark` says we (not the peer's event) did
    // it. True when any was ready.
    template <class Ready, class Unpark>
    bool unpark(std::size_t n, Ready ready, Unpark unpark) noexcept {
        bool any = false;
        for (std::size_t i = 0; i < n; ++i) {
            Pipe* p = pipes_[i];
            if (!ready(*p)) continue;
            any = true;
            if (unpark(*p)) activate(*p); // swaps p with an earlier, already checked, pipe
        }
        return any;
    }
    // Removes `p` (nothing when it was never added, or its add() failed).
    void remove(Pipe& p) noexcept {
        if (p.*Slot == npos) return;
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

    // Exchanges the pipes at slots i and j (for policies that keep ranges of their own).
    void swap_slots(std::size_t i, std::size_t j) noexcept { swap(i, j); }

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
