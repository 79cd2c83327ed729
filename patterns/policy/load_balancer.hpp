// SPDX-License-Identifier: MPL-2.0
// load_balancer: round-robins whole (multipart) messages over the pipes
// that are below their high-water mark (libzmq lb.hpp). The first frame of
// a message picks the pipe; later frames follow it. If that pipe's peer goes
// away mid-message, the rest of the message is dropped, never sent
// elsewhere half-done.
//
// Full pipes are parked lazily, like fair_queue: they stay in the rotation
// (and are skipped) until the socket sleeps.
//
// Pipe needs: bool write(message&), bool writable(), void rollback(),
// void park_writer(), bool unpark_writer(), and a std::uint32_t out_slot member.
#pragma once

#include "pipe_slots.hpp"

#include <volley/message.hpp>

namespace volley::detail {

template <class Pipe>
class load_balancer {
public:
    void attach(Pipe& p) { pipes_.add(p); }
    void activated(Pipe& p) noexcept { pipes_.activate(p); }
    void terminated(Pipe& p) noexcept {
        if (pinned_ == &p) { // the peer left mid-message: drop its remaining frames
            pinned_ = nullptr;
            dropping_ = true;
        }
        pipes_.remove(p);
        if (current_ >= pipes_.active()) current_ = 0;
    }

    // Queues frame `m` on a pipe (consuming it); false when no pipe can take a new message.
    // `to`, when given, is set to the pipe the message goes to (nullptr once it is dropped).
    bool send(message& m, Pipe** to = nullptr) {
        const bool more = m.more();
        if (dropping_) {
            m.reset();
            dropping_ = more;
            if (to != nullptr) *to = nullptr;
            return true;
        }
        if (pinned_ != nullptr) {
            Pipe* p = pinned_;
            if (to != nullptr) *to = p;
            if (!more) pinned_ = nullptr;
            if (!p->write(m)) { // its peer went away mid-message: drop the rest
                p->rollback();
                m.reset();
                pinned_ = nullptr;
                dropping_ = more;
                if (to != nullptr) *to = nullptr;
            }
            return true;
        }
        for (std::size_t n = pipes_.active(); n > 0; --n) {
            if (current_ >= pipes_.active()) current_ = 0;
            Pipe* p = pipes_[current_++];
            if (p->write(m)) {
                if (more) pinned_ = p;
                if (to != nullptr) *to = p;
                return true;
            }
        }
        return false;
    }

    // The socket is going to sleep: park every active pipe. Parked writers always pair
    // asymmetrically (src/fence.hpp), so `symmetric` is ignored and the socket must run its
    // heavy fence: true.
    bool park(bool /*symmetric*/ = false) noexcept {
        parked_ = pipes_.park([](Pipe& p) { p.park_writer(); });
        current_ = 0;
        return true;
    }
    // After park() and a heavy fence: re-activates pipes that drained meanwhile.
    bool unpark() noexcept {
        return pipes_.unpark(std::exchange(parked_, 0), [](Pipe& p) { return p.writable(); },
                             [](Pipe& p) { return p.unpark_writer(); });
    }

    // True when some active pipe can take a new message now (or a message is under way).
    bool can_send() noexcept {
        if (pinned_ != nullptr || dropping_) return true;
        for (std::size_t i = 0; i < pipes_.active(); ++i) {
            if (pipes_[i]->writable()) return true;
        }
        return false;
    }

    std::size_t size() const noexcept { return pipes_.size(); }
    std::size_t active() const noexcept { return pipes_.active(); }

private:
    pipe_slots<Pipe, &Pipe::out_slot> pipes_;
    std::size_t current_ = 0;
    std::size_t parked_ = 0;
    Pipe* pinned_ = nullptr;
    bool dropping_ = false;
};

} // namespace volley::detail
