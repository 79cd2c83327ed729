// SPDX-License-Identifier: MPL-2.0
// engine: one ZMTP connection over a stream socket (tcp or ipc), under the
// session that owns its pipe (session.hpp). It sends the greeting and READY,
// checks the peer's, tells the session the peer's properties, then moves
// frames between the file descriptor and the session's pipe. Many small
// messages leave in one writev and arrive from one read; large bodies go
// out from their own buffers and come in straight into the message the
// application will receive.
//
// Anything wrong on the wire (a bad greeting, an impossible frame, a
// message over maxmsgsize or input_budget, a silent peer) closes only this
// connection, with a monitor event that names the cause, quoting at most a
// short, escaped prefix of what the peer sent (peer_text.hpp).
//
// What a peer can make us hold is bounded. Input: the decoder's buffer, and
// one unfinished message within maxmsgsize and input_budget (decoder.hpp);
// nothing is allocated for a size the peer merely declares beyond that, and
// during the handshake no frame over 64 KiB is accepted. Output: at most a
// batch of the socket's messages (batch_bytes) plus one PONG and one PING:
// a peer that never reads gets no second PONG while the first is unwritten.
//
// Two threads may move the bytes, one at a time (io_lock_): the reactor,
// and the socket's own thread through the channel the session publishes.
// That is what keeps thread hand-offs off the common path:
// - output: a message the socket sends while nothing waits in the pipe goes
//   straight into the encoder from the socket's thread (try_send): alone, it
//   leaves at once with one sendmsg; in a burst it is batched, and the
//   socket's thread writes the batch once it holds app_batch_bytes or is
//   batch_age old, or before it waits; the batch timer (precise_timer.hpp,
//   armed once per batch) has the reactor write it when the burst stopped
//   short and the socket went on with something else. What
//   goes into the pipe (the socket found the engine busy, or back-pressured)
//   wakes the reactor, which drains many messages per writev until the pipe
//   is empty again.
// - input: a socket with an empty pipe reads the connection itself and
//   decodes only what its pipe has room for (poll_input), the first whole
//   one-frame messages straight into the link's input_batch; meanwhile the
//   reactor does not watch the descriptor. It takes input back when the
//   socket is about to sleep, or when the socket has not read the descriptor
//   for a while.
// Whatever only the reactor may do (close, timers) is posted to it.
//
// Closing: once the socket is gone and everything it queued is written, the
// engine ends its stream with a half-close and keeps the connection until
// the peer closes its end (or linger ends). A receiver that closes at once
// would make the kernel discard what it has not read yet on a reset, and
// libzmq drops unread input when an ipc connection hangs up (libzmq #4660);
// after a half-close both read everything first, then see the end.
#pragma once

#include "channel.hpp"
#include "fence.hpp"
#include "reactor.hpp"
#include "session.hpp"
#include "spin_lock.hpp"
#include "zmtp/decoder.hpp"
#include "zmtp/encoder.hpp"
#include "zmtp/wire.hpp"

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>

namespace volley::detail {

class pipe;
class precise_timer;

class engine final : public io_handler, public connection, public channel,
                     public std::enable_shared_from_this<engine> {
public:
    // `fd`: a connected, non-blocking stream socket, now owned by the engine.
    engine(reactor& r, int fd, std::shared_ptr<session> s);
    ~engine() override;

    // Reactor thread: registers the descriptor, tells the session, sends the greeting. On
    // failure the engine closes at once (reported to its session, and retired).
    void start() noexcept;

    void on_io(std::uint32_t events) noexcept override;

    // connection (reactor thread, called by the session).
    void pipe_readable() noexcept override;
    void pipe_writable() noexcept override;
    void drain(clock::time_point deadline) noexcept override;

    // channel (the socket's thread).
    taken try_send(message& m, bool burst) noexcept override;
    input poll_input(input_batch* batch) noexcept override;
    void before_sleep() noexcept override;
    void write_batch() noexcept override;

private:
    // In this order: a state >= lingering takes no more input for the socket.
    enum class state { greeting, handshake, active, lingering, half_closed, closed };

    // All below run with io_lock_ held.
    // ---- input (engine_input.cpp) ----
    void read_input() noexcept;
    // Keeps SO_RCVLOWAT at what the decoder waits for (1 byte, or the rest of a large body).
    void set_read_lowat() noexcept;
    // Reads what sits below the low-water mark, before a timer judges the peer silent.
    void read_below_lowat() noexcept;
    // Decodes what the socket's thread reads into the pipe; whole one-frame messages
    // before anything else, when `batch` is given, into *batch instead.
    input app_read(input_batch* batch) noexcept;
    // One recv() into the decoder: true when bytes came; false when none are there yet, or
    // when the connection ended (closed, or its close posted: failing_).
    bool receive() noexcept;
    void take_input(bool app) noexcept;
    void arm_watchdog() noexcept;
    bool handle_frame(zmtp::decoder::frame& f) noexcept;
    bool handle_command(const message& body) noexcept;
    // A SUBSCRIBE or CANCEL command, for a socket that takes subscriptions, becomes the
    // frame the pipe carries (marked subscribe / cancel, its body the topic). False when
    // `f` stays a command (another one, or the connection failed).
    bool take_subscription(zmtp::decoder::frame& f) noexcept;
    bool deliver(zmtp::decoder::frame& f) noexcept;
    void resume_input() noexcept;
    // ---- output (engine_output.cpp) ----
    // Moves messages from the pipe into the encoder, up to a batch; false if that failed.
    bool fill_encoder() noexcept;
    void pump_output() noexcept;
    // Writes what the encoder holds (EPOLLOUT for what cannot go now), keeping for every
    // caller the invariant of the output side: it is parked on the pipe (a write there wakes
    // us), or EPOLLOUT or a running pump_output() will drain it. False once closed.
    bool flush() noexcept;
    // flush() without the invariant: the writes alone.
    bool write_out() noexcept;
    // Queues one frame from the socket: data as it is, a subscription as SUBSCRIBE / CANCEL
    // (ZMTP 3.1) or as the 0x01 / 0x00-prefixed message (3.0). Throws std::bad_alloc.
    void encode(message&& m);
    // The socket's message (its last frame) is in the encoder: writes it out, or keeps it
    // in the batch under way (direct_batch_), writing the batch when it is full or old.
    void end_direct_message() noexcept;
    // Writes out the socket's batch, if one is open and the connection can write.
    void flush_batch() noexcept;
    // True once the batch timer exists (made on first use: most connections never batch).
    bool batch_timer_ready() noexcept;
    // Adds a command unless a message is half in the encoder (a command must not split it).
    bool add_command(message&& body) noexcept;
    // ---- handshake and life (engine.cpp) ----
    bool on_reactor() const noexcept { return reactor_.in_thread(); }
    bool take_greeting() noexcept;
    bool handle_ready(std::span<const std::byte> data) noexcept; // READY's property list
    // Refuses the peer in the handshake: tells it `reason` in a ZMTP ERROR, then fails with
    // `why` and `detail` (handshake_failed).
    void refuse(errc why, const std::string& reason, const std::string& detail) noexcept;
    // Arms a reactor timer (reactor thread). Out of memory, the connection closes, naming
    // the `what` timer, rather than going on without the deadline it relies on.
    template <class F>
    void arm_timer(reactor::timer_id& id, const char* what, clock::time_point when, F&& fn) noexcept {
        id = reactor_.add_timer(when, std::forward<F>(fn));
        if (!id)
            close(make_error_code(std::errc::not_enough_memory),
                  std::string("out of memory arming the ") + what + " timer");
    }
    // A write failed in the handshake: a peer that refused us (a ZMTP ERROR in place of its
    // READY) may have closed before our READY reached it. Its reason, quoted, if it waits
    // to be read; empty otherwise.
    std::string refusal_waiting() noexcept;
    void on_established(peer_properties peer) noexcept;
    void linger(clock::time_point deadline) noexcept;
    void arm_linger_timer(clock::time_point deadline) noexcept;
    // Lingering, and everything is written: ends our stream (shutdown SHUT_WR) and waits
    // for the peer's end, reading and discarding what it still sends (half_closed).
    void end_stream() noexcept;
    void read_to_end() noexcept;
    void set_events(bool in, bool out) noexcept;
    void send_ping() noexcept;
    void arm_ttl(std::chrono::milliseconds ttl) noexcept;
    // True when the peer may have spoken and we did not listen (see send_ping()): its
    // silence does not count against it.
    bool silence_is_ours() const noexcept;
    void fail(errc code, std::string detail) noexcept;
    // Closes now on the reactor; from the socket's thread, marks the engine failed and
    // posts the close.
    void close(std::error_code why, std::string detail) noexcept;
    void close_now(std::error_code why, std::string detail) noexcept;

    reactor& reactor_;
    int fd_;
    std::shared_ptr<session> session_;
    std::shared_ptr<const endpoint_info> info_;
    pipe* pipe_ = nullptr; // the session's, from the handshake on
    state state_ = state::greeting;
    bool handshake_done_ = false;

    std::byte peer_greeting_[zmtp::greeting_size];
    std::size_t greeting_received_ = 0;
    std::uint8_t peer_minor_ = 0;

    zmtp::decoder decoder_;
    int lowat_ = 1; // SO_RCVLOWAT of the descriptor, see set_read_lowat()
    zmtp::encoder encoder_;
    std::optional<zmtp::decoder::frame> held_; // decoded, waiting for room in the pipe
    bool registered_ = false; // the descriptor is in the reactor's epoll set
    bool in_enabled_ = false;
    bool out_enabled_ = false;
    bool input_paused_ = false;  // the pipe to the socket is full
    bool output_parked_ = true;  // the pipe's reader is parked: a write there posts read_activated
    fence_mode output_fence_;    // the pairing asked of the socket when the pipe's reader parks
    std::uint64_t frames_out_ = 0; // frames taken from the pipe, for output_fence_
    bool failing_ = false;       // a close is posted to the reactor
    bool pumping_ = false;       // pump_output() is running (flush() does not start it again)
    bool encoding_message_ = false; // the encoder holds the first frames of a message, not its last
    bool direct_message_ = false;   // the socket's thread: try_send took the first frames of a message
    bool awaiting_reset_ = false;   // subscriptions are dropped until the socket's reset marker
    bool direct_batch_ = false;     // the socket's message under way joins the batch
    bool batch_open_ = false;       // the encoder holds a batch of the socket's, not yet written
    std::uint32_t batch_messages_ = 0;
    std::uint64_t batch_started_ = 0; // fast_clock ticks
    std::unique_ptr<precise_timer> batch_timer_; // fires on the reactor: writes a batch the socket left
    bool batch_timer_failed_ = false;

    spin_lock io_lock_;
    std::uint64_t next_poll_ticks_ = 0;   // the socket's thread only
    std::uint64_t poll_backoff_ = 0;      // the socket's thread only
    bool app_input_ = false;              // the socket's thread reads (see above)
    clock::time_point last_app_poll_{};
    reactor::timer_id watchdog_timer_;

    clock::time_point last_received_;
    clock::time_point ping_sent_;
    reactor::timer_id handshake_timer_;
    reactor::timer_id heartbeat_timer_;
    reactor::timer_id heartbeat_timeout_timer_;
    reactor::timer_id ttl_timer_;
    reactor::timer_id linger_timer_;
    std::chrono::milliseconds peer_ttl_{0};
    bool ttl_posted_ = false; // the socket's thread asked the reactor to arm ttl_timer_
    // encoder_.end() after our last PONG and PING: while written() is below it, that
    // command is still queued, and another of its kind is not added (see handle_command).
    std::uint64_t pong_end_ = 0;
    std::uint64_t ping_end_ = 0;
};

// Shared by the engine's files.
namespace engine_detail {
// Reads per readiness event before other connections get a turn (epoll is level-triggered).
inline constexpr int reads_per_turn = 16;
// Large transfers move in pieces of this size: each write at most, and the receiver's
// low-water mark at most. One sendmsg() of a whole 1 MiB body hands the peer nothing until
// the kernel pushes, and a receiver that waits for the whole body copies nothing until
// then: the two copies run one after the other. In pieces they overlap. tcp 1 MiB, medians
// of 7: latency 218 us one-way against 361 us whole (libzmq 230 us); throughput 4.63 k
// msg/s against 4.66 k (libzmq 4.13 k); 4 MiB 904 msg/s against 751. 256 KiB pieces cost
// 1 MiB throughput (4.01 k).
inline constexpr std::size_t transfer_piece_bytes = 512 * 1024;
std::error_code system_error_code(int err) noexcept;
std::string ms_text(std::chrono::milliseconds d);
// The reason an ERROR command gives, quoted for a monitor detail.
std::string error_reason(std::span<const std::byte> error_data);
} // namespace engine_detail

} // namespace volley::detail
