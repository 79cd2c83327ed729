// SPDX-License-Identifier: MPL-2.0
// driver: one ZMTP connection, whatever carries it, under the session that
// owns its pipe (session.hpp). It runs the handshake (the ZMTP decisions are
// zmtp::protocol's: greeting check, mechanism, commands), tells the session
// the peer's properties, then moves frames between its wire and the
// session's pipe, and keeps the connection's life: heartbeats, the socket's
// thread's fast path, back-pressure, linger, closing.
//
//   socket --pipe--> session --> driver<Wire> --frames--> zmtp::protocol (no I/O)
//                                   |
//                                   +--frames--> Wire: the transport's (stream_wire: the
//                                                ZMTP byte codec on a socket, tcp and ipc;
//                                                a message transport's frame channel)
//
// The driver is a template on its wire, instantiated by each transport
// (driver_impl.hpp holds the definitions): the wire's calls on the data
// path, one per frame, are direct calls, inlined. What a Wire provides is
// what stream_wire declares (transports/stream/stream_wire.hpp): watch(),
// next(), receive(), add(), write() and the few calls of the handshake and
// the end. On a byte stream many small messages leave in one writev and
// arrive from one read; large bodies go out from their own buffers and come
// in straight into the message the application will receive.
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
//   straight into the wire from the socket's thread (try_send): alone, it
//   leaves at once with one sendmsg; in a burst it is batched, and the
//   socket's thread writes the batch once it holds app_batch_bytes or is
//   batch_age old, or before it waits; the batch timer (precise_timer.hpp,
//   armed once per batch) has the reactor write it when the burst stopped
//   short and the socket went on with something else. What
//   goes into the pipe (the socket found the driver busy, or back-pressured)
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
// driver ends its stream with a half-close and keeps the connection until
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
#include "zmtp/protocol.hpp"

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace volley::detail {

class pipe;
class precise_timer;

template <class Wire>
class driver final : public io_handler, public connection, public channel,
                     public std::enable_shared_from_this<driver<Wire>> {
public:
    // `w`: the connection's wire, ready to start (a stream_wire owns its descriptor).
    driver(reactor& r, std::shared_ptr<session> s, Wire&& w);
    ~driver() override;

    // Reactor thread: starts watching the wire, tells the session, sends the greeting. On
    // failure the driver closes at once (reported to its session, and retired).
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
    struct frame {
        message body;
        bool command = false;
    };

    // All below run with io_lock_ held.
    // ---- input (driver_input.ipp) ----
    void read_input() noexcept;
    // Reads what sits below the wire's read mark, before a timer judges the peer silent.
    void read_below_mark() noexcept;
    // Decodes what the socket's thread reads into the pipe; whole one-frame messages
    // before anything else, when `batch` is given, into *batch instead.
    input app_read(input_batch* batch) noexcept;
    // One read of the wire: true when bytes came; false when none are there yet, or when
    // the connection ended (closed, or its close posted: failing_).
    bool receive() noexcept;
    void take_input(bool app) noexcept;
    void arm_watchdog() noexcept;
    bool handle_frame(frame& f) noexcept;
    // A command of the peer's after the handshake; false when the connection failed. A
    // subscription for a socket that takes them becomes the data frame `f` (its body the
    // topic, marked subscribe / cancel): *as_data is then set.
    bool handle_command(frame& f, bool* as_data) noexcept;
    bool deliver(frame& f) noexcept;
    void resume_input() noexcept;
    // ---- output (driver_output.ipp) ----
    // Moves messages from the pipe into the wire, up to a batch; false if that failed.
    bool fill_wire() noexcept;
    void pump_output() noexcept;
    // Writes what the wire holds (EPOLLOUT for what cannot go now), keeping for every
    // caller the invariant of the output side: it is parked on the pipe (a write there wakes
    // us), or EPOLLOUT or a running pump_output() will drain it. False once closed.
    bool flush() noexcept;
    // flush() without the invariant: the writes alone.
    bool write_out() noexcept;
    // Queues one frame from the socket: data as it is, a control frame as the protocol
    // says (a subscription). Throws std::bad_alloc.
    void encode(message&& m);
    // The socket's message (its last frame) is in the wire: writes it out, or keeps it
    // in the batch under way (direct_batch_), writing the batch when it is full or old.
    void end_direct_message() noexcept;
    // Writes out the socket's batch, if one is open and the connection can write.
    void flush_batch() noexcept;
    // True once the batch timer exists (made on first use: most connections never batch).
    bool batch_timer_ready() noexcept;
    // Adds a command unless a message is half in the wire (a command must not split it).
    bool add_command(message&& body) noexcept;
    // ---- handshake and life (driver_life.ipp) ----
    bool on_reactor() const noexcept { return reactor_.in_thread(); }
    // The peer's greeting came: checks it, asks the session, sends our first commands.
    bool on_greeting() noexcept;
    // Sends what the protocol wants sent (handshake commands); false if the connection failed.
    bool send_commands(std::vector<message>& out) noexcept;
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
    void on_established(peer_properties peer) noexcept;
    void linger(clock::time_point deadline) noexcept;
    void arm_linger_timer(clock::time_point deadline) noexcept;
    // Lingering, and everything is written: ends our stream (a half-close) and waits for
    // the peer's end, reading and discarding what it still sends (half_closed).
    void end_stream() noexcept;
    void read_to_end() noexcept;
    void set_events(bool in, bool out) noexcept;
    void send_ping() noexcept;
    void arm_ttl(std::chrono::milliseconds ttl) noexcept;
    // True when the peer may have spoken and we did not listen (see send_ping()): its
    // silence does not count against it.
    bool silence_is_ours() const noexcept;
    void fail(errc code, std::string detail) noexcept;
    // Closes now on the reactor; from the socket's thread, marks the driver failed and
    // posts the close.
    void close(std::error_code why, std::string detail) noexcept;
    void close_now(std::error_code why, std::string detail) noexcept;

    reactor& reactor_;
    std::shared_ptr<session> session_;
    std::shared_ptr<const endpoint_info> info_;
    pipe* pipe_ = nullptr; // the session's, from the handshake on
    state state_ = state::greeting;
    bool handshake_done_ = false;

    Wire wire_;
    zmtp::protocol protocol_;
    std::optional<frame> held_; // decoded, waiting for room in the pipe
    bool in_enabled_ = false;
    bool out_enabled_ = false;
    bool input_paused_ = false;  // the pipe to the socket is full
    bool output_parked_ = true;  // the pipe's reader is parked: a write there posts read_activated
    fence_mode output_fence_;    // the pairing asked of the socket when the pipe's reader parks
    std::uint64_t frames_out_ = 0; // frames taken from the pipe, for output_fence_
    bool failing_ = false;       // a close is posted to the reactor
    bool pumping_ = false;       // pump_output() is running (flush() does not start it again)
    bool encoding_message_ = false; // the wire holds the first frames of a message, not its last
    bool direct_message_ = false;   // the socket's thread: try_send took the first frames of a message
    bool direct_batch_ = false;     // the socket's message under way joins the batch
    bool batch_open_ = false;       // the wire holds a batch of the socket's, not yet written
    std::uint32_t batch_messages_ = 0;
    std::uint64_t batch_started_ = 0; // fast_clock ticks
    std::unique_ptr<precise_timer> batch_timer_; // fires on the reactor: writes a batch the socket left
    bool batch_timer_failed_ = false;

    spin_lock io_lock_;
    std::uint64_t next_poll_ticks_ = 0;   // the socket's thread only
    std::uint64_t poll_backoff_ = 0;      // the socket's thread only
    bool app_input_ = false;              // the socket's thread reads (see above)
    std::uint64_t last_app_poll_ = 0; // fast_clock ticks: read on every poll of the socket's thread
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
    // wire_.end() after our last PONG and PING: while written() is below it, that command
    // is still queued, and another of its kind is not added (see handle_command).
    std::uint64_t pong_end_ = 0;
    std::uint64_t ping_end_ = 0;
};

// Shared by the driver's files.
namespace driver_detail {
// Reads per readiness event before other connections get a turn (epoll is level-triggered).
inline constexpr int reads_per_turn = 16;
inline std::error_code system_error_code(int err) noexcept {
    return {err, std::system_category()};
}
inline std::string ms_text(std::chrono::milliseconds d) {
    return std::to_string(d.count()) + " ms";
}
} // namespace driver_detail

} // namespace volley::detail
