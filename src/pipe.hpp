// SPDX-License-Identifier: MPL-2.0
// Pipes: the bounded, lock-free connection between two sockets (inproc) or
// between a socket and the session of one of its connections.
//
// A pipe_pair holds two flows, one per direction; each end of the pair is a
// `pipe` that writes one flow and reads the other. A flow is an SPSC queue
// of frames plus a high-water mark counted in whole messages, so one thread
// writes it and one thread reads it, each without locks:
//
//   end A  --write-->  [ flow 0: frames, HWM ]  --read-->  end B
//   end A  <--read---  [ flow 1: frames, HWM ]  <--write-- end B
//
// Wake-ups happen only at the edges. A socket that finds nothing to do parks
// its pipes (reader_active / writer_active = false) and sleeps; the other
// side, which checks that flag after every message behind a light_fence(),
// flips it back and posts one event to the sleeper's mailbox. While both
// sides keep up, no flag changes and no event is posted: never per message.
//
// A pipe is passive: a queue, a high-water mark and those edge events. It
// calls nothing above it; a socket that wants to drive its connection
// directly does so through the connection's channel (link.hpp).
#pragma once

#include "clock.hpp"
#include "fence.hpp"
#include "mailbox.hpp"
#include "spsc_queue.hpp"

#include <volley/message.hpp>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <limits>
#include <memory>
#include <mutex>

namespace volley::detail {

template <>
struct relocatable<message> : std::true_type { // see spsc_queue.hpp
    static void move(message* to, const message* from) noexcept { message::relocate(to, from); }
};

class pipe_handler; // reactor.hpp

// One direction of a pipe: frames from one writer thread to one reader thread.
class flow {
public:
    enum class write_status { full, ok_frame, ok, ok_wake_reader }; // ok_frame: more frames follow

    explicit flow(std::uint64_t hwm) noexcept : hwm_(hwm), publish_every_(publish_interval(hwm)) {}

    // ---- writer thread ----

    // Queues frame `m` (moved from on success). Only the first frame of a message checks
    // the high-water mark (unless `past_hwm`: a marker that must not be lost to it); later
    // frames of a message that was let in always succeed.
    // The message becomes visible to the reader with its last frame.
    write_status write(message& m, bool past_hwm = false) {
        if (!past_hwm && !in_message_ && !below_hwm()) return write_status::full;
        const bool more = m.more();
        queue_.push(std::move(m));
        in_message_ = more;
        if (more) return write_status::ok_frame;
        ++written_;
        queue_.publish();
        writer_fence(reader_symmetric_.load(std::memory_order_relaxed)); // pairs with the reader's park fence
        return reader_needs_wake() ? write_status::ok_wake_reader : write_status::ok;
    }
    // True when a new message would be let in now (refreshes the reader's progress).
    bool writable() noexcept { return in_message_ || below_hwm(); }
    // True when the reader has taken every message written (as far as it reported: it
    // reports whenever it finds the flow empty), and no message is half written.
    bool drained() const noexcept { return !in_message_ && read_.load(std::memory_order_acquire) == written_; }
    // Drops the frames of an unfinished message.
    void rollback() noexcept {
        queue_.rollback();
        in_message_ = false;
    }
    void park_writer() noexcept { writer_active_.store(false, std::memory_order_relaxed); }
    // Undoes park_writer(); false when the reader already did (and posted an event).
    bool unpark_writer() noexcept { return !writer_active_.exchange(true, std::memory_order_acq_rel); }
    // Any thread: changes the high-water mark. Returns true when a writer parked under the
    // old mark must be told (it may have room now, and nobody else will tell it).
    bool set_hwm(std::uint64_t hwm) noexcept {
        hwm_.store(hwm, std::memory_order_relaxed);
        publish_every_.store(publish_interval(hwm), std::memory_order_relaxed);
        light_fence(); // pairs with the writer's heavy_fence() in park/recheck
        return writer_needs_wake();
    }

    // ---- reader thread ----

    // Takes the next frame; false when none is published. Sets `wake_writer` when a parked
    // writer must be told that the flow dropped below its high-water mark.
    //
    // The reader reports its progress to the writer every min(hwm/2, 256) messages (libzmq's
    // low-water mark, capped so a waiting writer resumes soon) and whenever it finds the
    // flow empty, not per message: a writer spinning on a full flow then does not pull the
    // counter's cache line away from the reader on every message, and a parked writer is
    // woken with room for a batch. So a writer may see the flow full with fewer than hwm
    // messages in it (at least hwm/2 + 1), as with libzmq.
    bool read(message& m, bool& wake_writer) noexcept {
        if (!queue_.pop(m)) {
            if (unreported_ != 0) wake_writer = report_progress();
            return false;
        }
        reading_message_ = m.more();
        if (!reading_message_) {
            ++read_count_;
            if (++unreported_ >= publish_every_.load(std::memory_order_relaxed)) wake_writer = report_progress();
        }
        return true;
    }
    bool readable() noexcept { return queue_.readable(); }
    // True between the first and the last frame of a message being read.
    bool reading_message() const noexcept { return reading_message_; }
    // Parks, asking the writer for symmetric fences or not (fence.hpp). True when the reader
    // must run heavy_fence() before its re-checks: asymmetric, or switched just now.
    bool park_reader(bool symmetric = false) noexcept {
        const bool was = reader_symmetric_.load(std::memory_order_relaxed);
        if (was != symmetric) reader_symmetric_.store(symmetric, std::memory_order_relaxed);
        reader_active_.store(false, std::memory_order_relaxed);
        return !(symmetric && was);
    }
    // Undoes park_reader(); false when the writer already did (and posted an event).
    bool unpark_reader() noexcept { return !reader_active_.exchange(true, std::memory_order_acq_rel); }

private:
    static std::uint32_t publish_interval(std::uint64_t hwm) noexcept {
        // With no limit the writer never waits, so progress reports serve nobody: batch them.
        return static_cast<std::uint32_t>(hwm == 0 ? 256 : std::clamp<std::uint64_t>(hwm / 2, 1, 256));
    }
    bool report_progress() noexcept {
        unreported_ = 0;
        read_.store(read_count_, std::memory_order_release);
        light_fence(); // pairs with the writer's heavy_fence() in park/recheck
        return writer_needs_wake();
    }
    bool below_hwm() noexcept {
        const std::uint64_t hwm = hwm_.load(std::memory_order_relaxed);
        if (hwm == 0 || written_ - seen_read_ < hwm) return true;
        seen_read_ = read_.load(std::memory_order_acquire);
        return written_ - seen_read_ < hwm;
    }
    bool reader_needs_wake() noexcept {
        return !reader_active_.load(std::memory_order_relaxed) &&
               !reader_active_.exchange(true, std::memory_order_acq_rel);
    }
    bool writer_needs_wake() noexcept {
        return !writer_active_.load(std::memory_order_relaxed) &&
               !writer_active_.exchange(true, std::memory_order_acq_rel);
    }

    spsc_queue<message> queue_;
    // Writer-private.
    alignas(64) std::uint64_t written_ = 0;   // whole messages published
    std::uint64_t seen_read_ = 0;             // last value of read_ the writer loaded
    bool in_message_ = false;                 // a multipart message is being written
    std::atomic<std::uint64_t> hwm_;          // 0 = no limit
    // Reader-private.
    alignas(64) std::uint64_t read_count_ = 0;
    std::uint32_t unreported_ = 0;                 // messages read since read_ was last stored
    std::atomic<std::uint32_t> publish_every_;     // report progress after this many
    bool reading_message_ = false;
    // Written by the reader, read by the writer when it thinks the flow is full.
    alignas(64) std::atomic<std::uint64_t> read_{0};
    // Flipped only at park / wake edges; read after every message.
    alignas(64) std::atomic<bool> reader_active_{true};
    std::atomic<bool> writer_active_{true};
    std::atomic<bool> reader_symmetric_{false}; // the reader asks for full fences (fence.hpp)
};

class pipe_pair;

// One end of a pipe pair, used by the thread of the socket (or connection driver) that owns it.
// Writes go to the peer; reads come from the peer.
class pipe {
public:
    // ---- data plane (owner thread) ----

    // Writes one frame towards the peer; false at the high-water mark (first frame only,
    // and not when `past_hwm`) and, for every frame, once the peer is known to be gone
    // (mark_write_closed()).
    bool write(message& m, bool past_hwm = false);
    bool writable() noexcept { return !write_closed_ && out().writable(); }
    // True when everything written to the peer has been read by it (see flow::drained).
    bool out_drained() const noexcept { return out().drained(); }
    bool write_closed() const noexcept { return write_closed_; }
    // Owner: the peer closed, so writing is pointless from now on.
    void mark_write_closed() noexcept { write_closed_ = true; }
    void rollback() noexcept { out().rollback(); }
    // Reads one frame from the peer; false when none is waiting.
    bool read(message& m) noexcept;
    bool readable() noexcept { return in().readable(); }
    bool reading_message() const noexcept;

    bool park_reader(bool symmetric = false) noexcept { return in().park_reader(symmetric); }
    bool unpark_reader() noexcept { return in().unpark_reader(); }
    void park_writer() noexcept { out().park_writer(); }
    bool unpark_writer() noexcept { return out().unpark_writer(); }

    // ---- control plane ----

    // The owner's mailbox, told of this end's events. Set before the end is handed over.
    void set_owner(std::shared_ptr<mailbox> owner) noexcept;
    // Owner: closes this end. Messages already written stay readable by the peer until
    // `linger_deadline`; the peer is told (peer_closed). Drops the owner's reference:
    // the caller must not touch this end afterwards.
    void close(clock::time_point linger_deadline) noexcept;
    // Owner: tells the peer that the connection behind this end was replaced (a reconnect):
    // what the peer told the old one (subscriptions) must be told again.
    void hiccup() noexcept { post_to_peer(event_kind::hiccup); }
    // Owner: tells the peer that the connection behind this end ended (the end is kept for
    // the next one): what went out on it may be lost.
    void connection_lost() noexcept { post_to_peer(event_kind::connection_lost); }
    // True once the peer closed its end.
    bool peer_closed() const noexcept;
    // True when the peer closed and its linger period is over: what is left is dropped.
    bool peer_linger_expired(clock::time_point now) const noexcept;
    // When the peer's linger period ends (meaningful once peer_closed()).
    clock::time_point peer_linger_deadline() const noexcept;
    // Any thread: sets the high-water mark of the flow this end writes (0 = none), and
    // wakes this end's owner if it sleeps at the old mark.
    void set_out_hwm(std::uint64_t hwm) noexcept {
        if (out().set_hwm(hwm)) post(event_kind::write_activated, side_);
    }

    void add_ref() noexcept;
    void release() noexcept;

    // Owner-thread bookkeeping, free for the owner's use.
    std::uint32_t owner_slot = npos;  // index in the owner's list (socket_base's links)
    pipe_handler* handler = nullptr;  // a reactor-side owner of this end
    static constexpr std::uint32_t npos = std::numeric_limits<std::uint32_t>::max();

private:
    friend class pipe_pair;
    flow& out() noexcept;
    const flow& out() const noexcept;
    flow& in() noexcept;
    const flow& in() const noexcept;
    void post_to_peer(event_kind kind) noexcept { post(kind, 1 - side_); }
    // Posts `kind` about end `side` to that end's owner, if it has one.
    void post(event_kind kind, int side) noexcept;

    pipe_pair* pair_ = nullptr;
    int side_ = 0;
    bool write_closed_ = false;
};

// Both ends and both flows of one connection. Created with two references, one per end.
class pipe_pair {
public:
    // hwm0: high-water mark of flow 0 (end 0 -> end 1); hwm1: of flow 1 (end 1 -> end 0).
    static pipe_pair* create(std::uint64_t hwm0, std::uint64_t hwm1);
    pipe& end(int side) noexcept { return ends_[side]; }

private:
    friend class pipe;
    pipe_pair(std::uint64_t hwm0, std::uint64_t hwm1) noexcept;

    flow flows_[2];
    pipe ends_[2];
    std::atomic<int> refs_{2};
    std::mutex mutex_;                        // guards owners_ against close / set_owner
    std::shared_ptr<mailbox> owners_[2];
    std::atomic<bool> closed_[2] = {false, false};
    std::atomic<clock::rep> linger_deadline_[2] = {0, 0};
};

inline flow& pipe::out() noexcept { return pair_->flows_[side_]; }
inline const flow& pipe::out() const noexcept { return pair_->flows_[side_]; }
inline flow& pipe::in() noexcept { return pair_->flows_[1 - side_]; }
inline const flow& pipe::in() const noexcept { return pair_->flows_[1 - side_]; }
inline bool pipe::reading_message() const noexcept { return in().reading_message(); }

inline bool pipe::write(message& m, bool past_hwm) {
    if (write_closed_) return false;
    const auto st = out().write(m, past_hwm);
    if (st == flow::write_status::full) return false;
    if (st == flow::write_status::ok_wake_reader) post_to_peer(event_kind::read_activated);
    return true;
}

inline bool pipe::read(message& m) noexcept {
    bool wake = false;
    const bool got = in().read(m, wake); // finding the flow empty may report progress too
    if (wake) post_to_peer(event_kind::write_activated);
    return got;
}

} // namespace volley::detail
