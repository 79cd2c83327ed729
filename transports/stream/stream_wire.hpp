// SPDX-License-Identifier: MPL-2.0
// stream_wire: what a connection driver (driver/driver.hpp) moves ZMTP frames
// over on a byte stream (tcp, ipc): a connected non-blocking socket and the
// ZMTP stream codec (greeting + frames, zmtp/stream_codec.hpp). The driver
// holds one by value and calls it directly (no virtual call per frame); a
// message transport brings its own wire with the same members. It does the
// system calls; the driver decides what they mean:
//
//   driver  --add()/write()-->  codec (encoder) --sendmsg--> fd
//           <--next()---------  codec (decoder) <--recv----- fd (receive())
//           --watch(in, out)--> epoll (reactor)  --on_io---> driver
//
// Large transfers move in pieces (transfer_piece_bytes), and while a large
// body arrives the socket's receive low-water mark (set_read_mark) keeps it
// from waking the reactor for every segment.
//
// Not thread-safe: the driver's lock is held around every call.
#pragma once

#include "reactor.hpp"
#include "zmtp/stream_codec.hpp"

#include <cstdint>
#include <string>
#include <system_error>
#include <utility>

namespace volley::detail {

class stream_wire final {
public:
    // `fd`: a connected, non-blocking stream socket, owned from here.
    stream_wire(reactor& r, int fd) noexcept : reactor_(r), fd_(fd) {}
    ~stream_wire();
    // Before start() only (the driver takes it over): the descriptor moves along.
    stream_wire(stream_wire&& o) noexcept
        : reactor_(o.reactor_), fd_(std::exchange(o.fd_, -1)), registered_(o.registered_), lowat_(o.lowat_),
          codec_(std::move(o.codec_)) {}
    stream_wire& operator=(stream_wire&&) = delete;

    // ---- set-up ----
    // Queues our greeting. Throws std::bad_alloc.
    void start(std::string_view mechanism, bool as_server) { codec_.start(mechanism, as_server); }
    // The decoder's bounds (decoder.hpp): maxmsgsize, input_budget; the handshake's frame limit.
    void set_limits(std::int64_t max_message, std::int64_t budget) noexcept { codec_.in().set_limits(max_message, budget); }
    void set_handshake(bool on) noexcept { codec_.in().set_handshake(on); }
    // Which readiness the driver wants reported to `h` (on_io with EPOLLIN / EPOLLOUT).
    // Wanting neither takes the descriptor out of epoll. The epoll error, if it refused.
    std::error_code watch(io_handler& h, bool in, bool out) noexcept;

    // ---- input ----
    using status = zmtp::stream_codec::status;
    status next(message& body, bool& command) noexcept { return codec_.next(body, command); }
    const zmtp::greeting& peer_greeting() const noexcept { return codec_.peer_greeting(); }
    errc error_code() const noexcept { return codec_.error_code(); }
    const std::string& error_reason() const noexcept { return codec_.error_reason(); }
    bool in_message() const noexcept { return codec_.in().in_message(); }
    bool idle() const noexcept { return codec_.in().idle(); }
    bool reading_large_body() const noexcept { return codec_.in().reading_large_body(); }
    // What one receive() did.
    enum class received { bytes, none, ended, failed };
    // One read into the codec; `err` is the errno when it failed.
    received receive(int& err) noexcept;
    // Nothing more to read for now: asks to be woken when what the decoder waits for came
    // (SO_RCVLOWAT: a byte, or the rest of a large body, or a transfer piece of it).
    void set_read_mark() noexcept;
    // Input below the mark set for a large body may sit unread (see set_read_mark).
    bool input_below_mark() const noexcept { return lowat_ > 1; }
    // Bytes the kernel holds for us, unread.
    bool unread_input() const noexcept;
    // The handshake failed on a write: a peer that refused us (a ZMTP ERROR in place of its
    // READY) may have closed before our READY reached it. Its reason, quoted, if it waits
    // to be read; empty otherwise.
    std::string refusal_waiting() noexcept;

    // ---- output ----
    void add(message&& body, bool command) { codec_.out().add(std::move(body), command); } // throws std::bad_alloc
    std::size_t pending() const noexcept { return codec_.out().pending(); }
    bool empty() const noexcept { return codec_.out().empty(); }
    std::uint64_t end() const noexcept { return codec_.out().end(); }
    std::uint64_t written() const noexcept { return codec_.out().written(); }
    enum class wrote { all, would_block, failed };
    // Writes what is queued until done or the socket is full; `err` is the errno on failure.
    wrote write(int& err) noexcept;
    // One write of what is queued, whatever comes of it (the ERROR of a refusal).
    void write_once() noexcept;

    // ---- the end ----
    // Ends our direction (a half-close); false when the peer is gone already.
    bool end_output() noexcept;
    enum class drained { more_later, ended, failed };
    // Reads and drops what the peer still sends (a few reads): until it ends its direction.
    drained discard_input(int& err) noexcept;
    // Stops watching and closes the descriptor.
    void close() noexcept;

private:
    reactor& reactor_;
    int fd_;
    bool registered_ = false; // in the reactor's epoll set
    int lowat_ = 1;           // SO_RCVLOWAT, see set_read_mark()
    zmtp::stream_codec codec_;
};

} // namespace volley::detail
