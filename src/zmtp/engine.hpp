// SPDX-License-Identifier: MPL-2.0
// engine: one ZMTP connection over a stream socket (tcp or ipc). It runs on
// its reactor's thread: it sends the greeting and READY, checks the peer's,
// then moves frames between the file descriptor and its end of a pipe whose
// other end belongs to the socket. Many small messages leave in one writev
// and arrive from one read; large bodies go out from their own buffers and
// come in straight into the message the application will receive.
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
// Two threads may move the bytes, one at a time (io_mutex_): the reactor,
// and the socket's own thread through the pipe_driver hooks. That is what
// keeps thread hand-offs off the common path:
// - output: after the socket writes a message, its thread sends it at once
//   ("app output") unless sends come in a burst, which the reactor then
//   drains, many messages per writev ("reactor output"). In app output the
//   pipe's reader stays active, so writes post no events.
// - input: a socket with an empty pipe reads the connection itself and
//   decodes only what its pipe has room for ("app input"); meanwhile the
//   reactor does not watch the descriptor. It takes input back when the
//   socket is about to sleep, or when the socket has not polled for a while.
// Whatever only the reactor may do (close, timers) is posted to it.
//
// Closing: once the socket is gone and everything it queued is written, the
// engine ends its stream with a half-close and keeps the connection until
// the peer closes its end (or linger ends). A receiver that closes at once
// would make the kernel discard what it has not read yet on a reset, and
// libzmq drops unread input when an ipc connection hangs up (libzmq #4660);
// after a half-close both read everything first, then see the end.
#pragma once

#include "mailbox.hpp"
#include "options.hpp"
#include "pipe.hpp"
#include "reactor.hpp"
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

class monitor_queue;
class pipe;

// What a connection needs to know of its socket, copied when the endpoint was made.
struct session_info {
    socket_type type;
    socket_options options;
    std::shared_ptr<mailbox> socket_mailbox;
    std::shared_ptr<monitor_queue> monitor;
    std::uint64_t endpoint_id;
    std::string endpoint; // resolved URI, for monitor events
};

class engine;

// The listener or connector an engine reports to.
class engine_owner {
public:
    virtual ~engine_owner() = default;
    // Reactor thread: `e` closed and is about to be destroyed. `established`: it had
    // completed the handshake. A borrowed pipe end is handed back to its owner before this.
    virtual void engine_closed(engine& e, bool established, std::error_code why) noexcept = 0;
};

class engine_lock;

class engine final : public io_handler, public pipe_handler, public pipe_driver,
                     public std::enable_shared_from_this<engine> {
public:
    // `fd`: a connected, non-blocking stream socket, now owned by the engine.
    // `borrowed`: the connector's pipe end (kept across reconnects), or nullptr for an
    // accepted connection, whose pipe is made when the handshake succeeds.
    engine(reactor& r, int fd, std::shared_ptr<const session_info> info, pipe* borrowed, engine_owner& owner);
    ~engine() override;

    // Reactor thread: registers the descriptor and sends the greeting. On failure the engine
    // closes at once (reported to its owner, and retired).
    void start() noexcept;
    // Reactor thread: the owner stops the connection (unbind, disconnect, context end): what
    // the socket queued is flushed until `deadline`, then the connection closes.
    void stop(clock::time_point deadline) noexcept;

    void on_io(std::uint32_t events) noexcept override;
    void on_pipe_event(event_kind kind, pipe& p) noexcept override;
    // True once the handshake succeeded (the connection has a pipe to the socket).
    bool established() const noexcept { return handshake_done_; }

    // pipe_driver: the socket's thread.
    void after_write(std::size_t last_frame) noexcept override;
    bool poll_input() noexcept override;
    void before_sleep() noexcept override;

private:
    friend class engine_lock;
    // In this order: a state >= lingering takes no more input for the socket.
    enum class state { greeting, handshake, active, lingering, half_closed, closed };

    // All below run with io_mutex_ held.
    void unlock_io() noexcept;
    void read_input() noexcept;
    // Keeps SO_RCVLOWAT at what the decoder waits for (1 byte, or the rest of a large body).
    void set_read_lowat() noexcept;
    // Reads what sits below the low-water mark, before a timer judges the peer silent.
    void read_below_lowat() noexcept;
    bool app_read() noexcept;
    // One recv() into the decoder: true when bytes came; false when none are there yet, or
    // when the connection ended (closed, or its close posted: failing_).
    bool receive() noexcept;
    void app_flush() noexcept;
    void take_input(bool app) noexcept;
    void arm_watchdog() noexcept;
    bool on_reactor() const noexcept { return reactor_.in_thread(); }
    bool take_greeting() noexcept;
    bool handle_frame(zmtp::decoder::frame& f) noexcept;
    bool handle_ready(std::span<const std::byte> data) noexcept; // READY's property list
    bool handle_command(const message& body) noexcept;
    bool deliver(zmtp::decoder::frame& f) noexcept;
    void resume_input() noexcept;
    // Moves messages from the pipe into the encoder, up to a batch; false if that failed.
    bool fill_encoder() noexcept;
    void pump_output() noexcept;
    void yield_to_producer() noexcept;
    bool flush() noexcept;
    void on_established() noexcept;
    void linger(clock::time_point deadline) noexcept;
    // Lingering, and everything is written: ends our stream (shutdown SHUT_WR) and waits
    // for the peer's end, reading and discarding what it still sends (half_closed).
    void end_stream() noexcept;
    void read_to_end() noexcept;
    void arm_linger_timer(clock::time_point deadline) noexcept;
    void set_events(bool in, bool out) noexcept;
    void update_draining() noexcept {
        reactor_draining_.store(!app_output_ && !output_parked_ && state_ == state::active, std::memory_order_relaxed);
    }
    void send_ping() noexcept;
    void arm_ttl(std::chrono::milliseconds ttl) noexcept;
    void fail(errc code, std::string detail) noexcept;
    // Closes now on the reactor; from the socket's thread, marks the engine failed and
    // posts the close.
    void close(std::error_code why, std::string detail) noexcept;
    void close_now(std::error_code why, std::string detail) noexcept;

    reactor& reactor_;
    int fd_;
    std::shared_ptr<const session_info> info_;
    engine_owner& owner_;
    pipe* pipe_;
    const bool borrowed_;
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
    bool output_parked_ = false; // the pipe from the socket was empty: it posts when it fills
    bool failing_ = false;       // a close is posted to the reactor

    std::mutex io_mutex_;
    std::atomic<bool> flush_requested_{false}; // the socket wrote while the lock was taken
    bool app_output_ = false;                  // the socket's thread sends (see above)
    // The reactor owns output and its reader is not parked: it sends whatever the socket
    // writes, so after_write() need not even take the lock. Written under io_mutex_.
    std::atomic<bool> reactor_draining_{false};
    std::uint64_t last_write_ticks_ = 0;        // the socket's thread only
    std::uint64_t next_poll_ticks_ = 0;         // the socket's thread only
    std::uint64_t poll_backoff_ = 0;            // the socket's thread only
    bool app_input_ = false;                   // the socket's thread reads (see above)
    clock::time_point last_app_poll_{};
    reactor::timer_id watchdog_timer_;

    clock::time_point last_received_;
    clock::time_point ping_sent_;
    reactor::timer_id handshake_timer_;
    reactor::timer_id heartbeat_timer_;
    reactor::timer_id heartbeat_timeout_timer_;
    reactor::timer_id ttl_timer_;
    reactor::timer_id linger_timer_;
    clock::time_point drain_deadline_ = clock::time_point::max(); // stopped before the handshake
    std::chrono::milliseconds peer_ttl_{0};
    bool ttl_posted_ = false; // the socket's thread asked the reactor to arm ttl_timer_
    // encoder_.end() after our last PONG and PING: while written() is below it, that
    // command is still queued, and another of its kind is not added (see handle_command).
    std::uint64_t pong_end_ = 0;
    std::uint64_t ping_end_ = 0;
};

} // namespace volley::detail
