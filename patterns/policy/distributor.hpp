// SPDX-License-Identifier: MPL-2.0
// distributor: sends each message to a chosen set of pipes (libzmq dist.hpp):
// PUB's subscribers whose subscriptions match it. The pattern marks the set
// with match() (duplicates cost nothing: a pipe already matched is skipped),
// then send() gives every matched pipe a copy (bodies are shared, never
// copied) and clears the set. A pipe at its high-water mark loses the
// message (the whole message: later frames follow the first), counted with
// the `dropped` callback; PUB never waits for a slow subscriber.
//
// Matched pipes sit in [0, matched) of the slot array, so matching is a swap.
//
// Pipe needs: bool write(message&), a std::uint32_t out_slot member.
#pragma once

#include "pipe_slots.hpp"

#include <volley/message.hpp>

#include <vector>

namespace volley::detail {

template <class Pipe>
class distributor {
public:
    void attach(Pipe& p) {
        pipes_.add(p); // active = every pipe; matched = [0, matched_)
    }
    void terminated(Pipe& p) noexcept {
        if (p.out_slot < matched_) {
            pipes_.swap_slots(p.out_slot, matched_ - 1);
            --matched_;
        }
        for (auto& q : sending_) {
            if (q == &p) q = nullptr;
        }
        pipes_.remove(p);
    }
    // PUB never sleeps waiting for a subscriber: nothing to park. (The park interface of
    // fair_queue; true: the socket keeps its heavy fence.)
    bool park(bool = false) noexcept { return true; }
    bool unpark() noexcept { return false; }
    void activated(Pipe&) noexcept {}

    // Adds `p` to the set the next message goes to.
    void match(Pipe& p) noexcept {
        if (p.out_slot < matched_) return;
        pipes_.swap_slots(p.out_slot, matched_);
        ++matched_;
    }
    // Adds every pipe.
    void match_all() noexcept { matched_ = pipes_.size(); }

    // Sends frame `m` to the set chosen for its message (chosen at its first frame): a copy to
    // each, `m` itself to the last. `dropped(pipe)` is called for each pipe that was at its
    // high-water mark, once per message. Never fails and never waits.
    template <class Dropped>
    void send(message& m, Dropped&& dropped) {
        const bool more = m.more();
        if (!in_message_) { // the first frame fixes who gets the message
            sending_.clear();
            for (std::size_t i = 0; i < matched_; ++i) sending_.push_back(pipes_[i]);
            matched_ = 0;
        }
        in_message_ = more;
        std::size_t last = sending_.size();
        while (last > 0 && sending_[last - 1] == nullptr) --last;
        for (std::size_t i = 0; i < last; ++i) {
            Pipe* p = sending_[i];
            if (p == nullptr) continue;
            message copy = i + 1 == last ? std::move(m) : message(m);
            if (!p->write(copy)) { // at its high-water mark (first frame only) or gone: skip the rest
                dropped(*p);
                sending_[i] = nullptr;
            }
        }
        m.reset();
    }

    std::size_t size() const noexcept { return pipes_.size(); }

private:
    pipe_slots<Pipe, &Pipe::out_slot> pipes_;
    std::size_t matched_ = 0;
    std::vector<Pipe*> sending_; // the set of the message under way (nullptr: dropped out)
    bool in_message_ = false;
};

} // namespace volley::detail
