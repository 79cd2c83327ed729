// SPDX-License-Identifier: MPL-2.0
// fair_queue: receives whole messages round-robin from the pipes that have
// some, so that one chatty peer cannot starve the others (libzmq fq.hpp:
// "senders gone berserk won't cause denial of service"). Once the first
// frame of a multipart message is taken from a pipe, the rest come from the
// same pipe; a message is published whole, so they are always there.
//
// Pipes are parked lazily: an empty pipe stays in the rotation until the
// socket is about to sleep and calls park(); a parked pipe comes back with
// activated() when its writer posts, or in unpark() if it filled meanwhile.
//
// Pipe needs: bool read(message&), bool readable(), bool park_reader(bool symmetric),
// bool unpark_reader(), and a std::uint32_t in_slot member.
#pragma once

#include "pipe_slots.hpp"

#include <volley/message.hpp>

namespace volley::detail {

template <class Pipe>
class fair_queue {
public:
    void attach(Pipe& p) { pipes_.add(p); }
    void activated(Pipe& p) noexcept { pipes_.activate(p); }
    void terminated(Pipe& p) noexcept {
        if (pinned_ == &p) pinned_ = nullptr;
        pipes_.remove(p);
        if (current_ >= pipes_.active()) current_ = 0;
    }

    // Takes the next frame into `m`; false when no active pipe has one. `from`, when given,
    // is set to the pipe the frame came from (ROUTER prefixes its peer's id, REP keeps the
    // route of a request).
    bool recv(message& m, Pipe** from = nullptr) noexcept {
        if (pinned_ != nullptr) {
            Pipe* p = pinned_;
            if (!p->read(m)) return false; // cannot happen: messages are published whole
            if (from != nullptr) *from = p;
            if (!m.more()) {
                pinned_ = nullptr;
                ++current_;
            }
            return true;
        }
        for (std::size_t n = pipes_.active(); n > 0; --n) {
            if (current_ >= pipes_.active()) current_ = 0;
            Pipe* p = pipes_[current_];
            if (p->read(m)) {
                if (from != nullptr) *from = p;
                if (m.more())
                    pinned_ = p;
                else
                    ++current_;
                return true;
            }
            ++current_;
        }
        return false;
    }

    // The socket is going to sleep: park every active pipe, asking their writers for
    // symmetric fences or not (src/fence.hpp). True when the socket must then run a heavy
    // fence, not a full one.
    bool park(bool symmetric = false) noexcept {
        bool heavy = !symmetric;
        parked_ = pipes_.park([&](Pipe& p) { heavy = p.park_reader(symmetric) || heavy; });
        current_ = 0;
        return heavy;
    }
    // After park() and a heavy fence: re-activates the pipes that filled meanwhile.
    // True when any did (or its writer is posting an activation).
    bool unpark() noexcept {
        return pipes_.unpark(std::exchange(parked_, 0), [](Pipe& p) { return p.readable(); },
                             [](Pipe& p) { return p.unpark_reader(); });
    }

    std::size_t size() const noexcept { return pipes_.size(); }
    std::size_t active() const noexcept { return pipes_.active(); }

private:
    pipe_slots<Pipe, &Pipe::in_slot> pipes_;
    std::size_t current_ = 0;
    std::size_t parked_ = 0;
    Pipe* pinned_ = nullptr; // mid-way through a multipart message
};

} // namespace volley::detail
