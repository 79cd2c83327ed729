// SPDX-License-Identifier: MPL-2.0
// link: a socket's side of one connection, what the routing policies hold.
// It is the pipe end plus the two things the pipe must not know about: the
// connection's channel (the explicit fast path, channel.hpp) and what the
// peer told about itself (peer.hpp). The data path reads as a straight line:
//
//   pattern -> policy -> link::write -> channel::try_send (nothing queued ahead)
//                                    \-> pipe::write      (else; the I/O thread drains it)
//
// While the context is crowded (crowding.hpp), links leave the channel alone:
// the I/O thread does all the I/O.
//
// A link is used only on its socket's thread. It holds one reference to its
// pipe end, which socket_base closes when the link goes.
#pragma once

#include "channel.hpp"
#include "crowding.hpp"
#include "peer.hpp"
#include "pipe.hpp"

#include <limits>
#include <memory>
#include <new>

namespace volley::detail {

class link {
public:
    link(pipe& p, std::shared_ptr<const attachment> a, std::uint64_t endpoint, send_clock& clock,
         const crowding& crowd) noexcept
        : endpoint_id(endpoint), routing_id(a->peer.routing_id), pipe_(p), attachment_(std::move(a)), clock_(clock),
          crowd_(crowd), channelled_(attachment_->channel != nullptr) {
        if (channelled_) clock_.used = true;
    }
    link(const link&) = delete;
    link& operator=(const link&) = delete;

    // ---- data plane ----

    // Sends one frame toward the peer: through the channel when nothing of this link's
    // output waits in the pipe and the connection takes it, else into the pipe. False at
    // the high-water mark (first frame only; never for a one-frame marker sent `past_hwm`,
    // which changes how the connection reads what follows) or once the peer is gone.
    bool write(message& m, bool past_hwm = false) {
        if (direct_) { // earlier frames of this message went through the channel
            direct_ = m.more();
            channel_.cached()->try_send(m, false); // always takes the rest of a message
            return true;
        }
        if (channelled_ && drained() && !pipe_.write_closed() && !crowd_.crowded()) {
            const bool more = m.more();
            if (channel* c = current_channel()) {
                const channel::taken t = c->try_send(m, clock_.burst());
                if (t != channel::taken::no) {
                    direct_ = more;
                    if (t == channel::taken::sent)
                        clock_.went_direct();
                    else
                        clock_.batched();
                    return true;
                }
            }
        }
        if (!pipe_.write(m, past_hwm)) return false;
        pipe_drained_ = false;
        return true;
    }
    bool writable() noexcept { return direct_ || pipe_.writable(); }
    // The socket is about to wait: what the connection batched of ours goes out now.
    void write_batch() noexcept {
        if (channel* c = current_channel()) c->write_batch();
    }
    // Drops the frames of an unfinished message (those the channel took, it drops itself
    // if the message never ends; see channel::try_send).
    void rollback() noexcept {
        if (!direct_) pipe_.rollback();
    }
    // Takes one frame from the peer: what the channel batched first, then the pipe; when
    // both are empty, lets the channel bring in what the connection has (unless the context
    // is crowded: then the I/O thread reads, and a channel this link read from is handed
    // back to it once).
    bool read(message& m) noexcept {
        if (batch_ != nullptr && !batch_->empty()) {
            batch_->pop(m);
            return true;
        }
        if (pipe_.read(m)) return true;
        channel* c = current_channel();
        if (c == nullptr) return false;
        if (crowd_.crowded()) {
            if (polled_) c->before_sleep();
            polled_ = false;
            return false;
        }
        polled_ = true;
        if (batch_ == nullptr) batch_.reset(new (std::nothrow) input_batch); // none: the pipe does
        switch (c->poll_input(batch_.get())) {
        case channel::input::direct: batch_->pop(m); return true;
        case channel::input::queued: return pipe_.read(m);
        case channel::input::nothing: break;
        }
        return false;
    }
    bool readable() noexcept { return (batch_ != nullptr && !batch_->empty()) || pipe_.readable(); }
    bool reading_message() const noexcept { return pipe_.reading_message(); }

    // True when the socket must run heavy_fence() before its re-checks (see pipe.hpp).
    bool park_reader(bool symmetric = false) noexcept {
        if (channel* c = current_channel()) c->before_sleep();
        return pipe_.park_reader(symmetric);
    }
    bool unpark_reader() noexcept { return pipe_.unpark_reader(); }
    void park_writer() noexcept { pipe_.park_writer(); }
    bool unpark_writer() noexcept { return pipe_.unpark_writer(); }

    // ---- what the peer told ----
    const peer_properties& peer() const noexcept { return attachment_->peer; }
    pipe& pipe_end() noexcept { return pipe_; }

    // ---- socket-thread bookkeeping, free for the socket's and the policies' use ----
    static constexpr std::uint32_t npos = std::numeric_limits<std::uint32_t>::max();
    const std::uint64_t endpoint_id;    // the endpoint that made this connection
    std::uint32_t in_slot = npos;       // index in the inbound routing policy
    std::uint32_t out_slot = npos;      // index in the outbound routing policy
    bool closing = false;               // socket_base closes it once a message being read ends
    std::uint64_t dropped = 0;          // messages the pattern dropped for this peer (PUB at HWM, ...)
    std::string routing_id;             // the id the socket knows the peer by (ROUTER may assign one)
    void* pattern_data = nullptr;       // per-peer state of the pattern (ROUTER's entry, ...)

private:
    // True when the I/O side has taken everything this link wrote into the pipe. Once seen,
    // it holds until the link writes there again (only link::write writes the pipe), so a
    // socket whose messages all go through the channel does not load the reader's progress
    // counter per message (4% of 64-byte tcp throughput).
    bool drained() noexcept { return pipe_drained_ || (pipe_drained_ = pipe_.out_drained()); }
    channel* current_channel() noexcept {
        return attachment_->channel ? channel_.get(*attachment_->channel) : nullptr;
    }

    pipe& pipe_;
    std::shared_ptr<const attachment> attachment_;
    channel_slot::reader channel_;
    send_clock& clock_; // the socket's
    const crowding& crowd_; // the context's
    // The connection has a channel (tcp, ipc; not inproc). Without one every message goes
    // into the pipe, and drained() would load the reader's progress counter per message
    // for nothing: an inproc PUB a step ahead of its SUB pulled that cache line across
    // cores on every send (a fifth of its time).
    const bool channelled_;
    bool direct_ = false; // the message being sent goes through the channel
    bool polled_ = false; // read() called poll_input since input was last handed back
    std::unique_ptr<input_batch> batch_; // made at the first poll_input
    bool pipe_drained_ = false; // see drained()
};

} // namespace volley::detail
