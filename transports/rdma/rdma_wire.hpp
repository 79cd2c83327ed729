// SPDX-License-Identifier: MPL-2.0
// rdma_wire: what the connection driver (driver/driver.hpp) moves ZMTP frames
// over on rdma://: a frame channel on an RC queue pair, no byte codec. The
// peer's hello (rdma_hello.hpp) stands for its greeting; then every frame,
// ZMTP commands (READY, PING, SUBSCRIBE) and messages alike, travels as a
// record in an eager buffer:
//
//   record: u32 length (big-endian), u8 flags (more, command, first, piece), 3 zero bytes,
//           [u64 whole frame size, for `first`], body bytes
//
// Several records share one buffer, so a burst of small messages leaves in
// one send work request (inline when it fits the device's max_inline).
//
// Rendezvous: a message frame of rendezvous_min bytes or more, when the peer
// reads (its hello's `reads`), stays in the sender's memory, registered
// (rdma_mr_cache.hpp), and a `first` + `remote` record carries its
// descriptor (u64 address, u32 rkey, u32 zero) in place of the body. The
// receiver allocates the frame, RDMA-READs the body straight into it (up to
// `reads` at once; frames after it wait behind it, so order holds), and
// acknowledges each read done in the immediate data of its next send, which
// frees the sender's copy. The sender offers at most exposed_max bodies at
// once, and ends the stream only once every one is acknowledged.
//
// Otherwise a frame larger than a buffer goes as a `first` record and
// `piece` records in the buffers after it, received straight into the
// frame's allocation (a peer that reads no bodies, a body that could not be
// registered, a frame above the device's largest READ).
//
// Flow control: each side posts its receive buffers and tells the peer how
// many (the hello's credits). A send takes a credit; every send carries, in
// its immediate data, the credits the receiver has freed since it last told
// the peer (it reposts a buffer once the driver took every record of it). A
// side with nothing to send returns credits in an empty send once half of
// them are owed, or at once when the peer may be out of them. The last
// credit is kept for such a message: a receiver never runs out of posted
// buffers (no RNR), and two sides both out of credits always free one.
// Immediate data: bits 0-15 credits, 16-23 rendezvous reads acknowledged,
// bit 31 ends the stream (the half-close the driver asks for).
//
// Wake-ups: the completion channel and the connection's CM channel are on
// the reactor (rdma_link.hpp); either wakes the driver with the readiness it
// asked for. The driver's reads poll the completion queue, so the socket's
// thread busy-polls it when it reads input itself; meanwhile completions
// raise no events (the reactor is not woken per message), until the driver
// wants input or output again (watch) or a write waits (write arms first).
//
// Not thread-safe: the driver's lock is held around every call.
#pragma once

#include "rdma_link.hpp"
#include "zmtp/stream_codec.hpp"
#include "zmtp/wire.hpp"

#include <volley/error.hpp>
#include <volley/message.hpp>

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <system_error>

namespace volley::detail {

class rdma_wire final : public rdma_link_target {
public:
    // `l`: a connected link with its queue pair; `peer`: the peer's hello.
    rdma_wire(std::unique_ptr<rdma_link> l, const rdma_hello& peer) noexcept;
    ~rdma_wire() override;
    // Before start() only (the driver takes it over).
    rdma_wire(rdma_wire&& o) noexcept;
    rdma_wire& operator=(rdma_wire&&) = delete;

    // ---- set-up ----
    void start(std::string_view, bool) noexcept {} // the hello went with the connection
    void set_limits(std::int64_t max_message, std::int64_t budget) noexcept {
        max_message_ = max_message;
        budget_ = budget;
    }
    void set_handshake(bool on) noexcept { handshake_ = on; }
    std::error_code watch(io_handler& h, bool in, bool out) noexcept;

    // ---- input ----
    using status = zmtp::stream_codec::status;
    status next(message& body, bool& command) noexcept;
    const zmtp::greeting& peer_greeting() const noexcept { return greeting_; }
    errc error_code() const noexcept { return error_code_; }
    const std::string& error_reason() const noexcept { return error_reason_; }
    bool in_message() const noexcept { return in_message_; }
    // Nothing taken in and not decoded: nor news in the completion queue since the last poll
    // (a completion the reactor was told of while the driver did not read).
    bool idle() const noexcept { return ready_.empty() && !landed() && !failed_ && !cq_news_.load(); }
    bool reading_large_body() const noexcept { return false; }
    enum class received { bytes, none, ended, failed };
    received receive(int& err) noexcept;
    void set_read_mark() noexcept {}
    bool input_below_mark() const noexcept { return false; }
    bool unread_input() const noexcept { return !ready_.empty() || !landing_.empty(); }
    std::string refusal_waiting() noexcept;

    // ---- output ----
    void add(message&& body, bool command); // throws std::bad_alloc
    std::size_t pending() const noexcept { return pending_bytes_; }
    bool empty() const noexcept { return out_.empty(); }
    std::uint64_t end() const noexcept { return frames_added_; }
    std::uint64_t written() const noexcept { return frames_posted_; }
    enum class wrote { all, would_block, failed };
    wrote write(int& err) noexcept;
    void write_once() noexcept {
        int err = 0;
        (void)write(err);
    }

    // ---- the end ----
    bool end_output() noexcept;
    enum class drained { more_later, ended, failed };
    drained discard_input(int& err) noexcept;
    void close() noexcept;

    // rdma_link_target (reactor thread, without the driver's lock: they only wake it).
    void on_cm_event(rdma_link& l, rdma_cm_note& n) noexcept override;
    void on_completions(rdma_link& l) noexcept override;
    bool wants_completions() const noexcept override {
        return want_in_.load() || want_out_.load() || blocked_.load();
    }

private:
    struct out_frame {
        message body;
        bool command = false;
        bool pieces = false;  // in eager pieces even if large (its registration failed)
        std::size_t sent = 0; // body bytes already in buffers (a frame in pieces)
    };
    struct exposed { // a body the peer reads from our memory
        message body;
        std::uint32_t registration = 0;
    };
    struct landing { // a frame decoded behind a body being read, or that body
        message body;
        std::uint32_t registration = 0;
        bool command = false;
        bool more = false;
        bool done = false; // here (a read finished, or an eager frame)
    };
    struct arrived {
        std::uint32_t slot = 0;
        std::uint32_t length = 0;
        std::uint32_t offset = 0;
        bool ends = false; // the peer's end of stream
    };
    // Takes what completed: received buffers into ready_, freed send slots, credits, reads
    // done and the peer's acknowledgements of ours.
    void poll() noexcept;
    void read_done(const ibv_wc& c) noexcept;
    void acknowledged(std::uint32_t n) noexcept;
    bool landed() const noexcept { return !landing_.empty() && landing_.front().done; }
    // A frame to the driver (`out`), or behind those still being read; false when it waits.
    bool hand(message& out, bool& command, message&& body, bool cmd, bool more);
    // Starts reading a remote body of `size` bytes; a failure is the connection's.
    status start_read(std::uint64_t size, const std::byte* descriptor, bool cmd, bool more) noexcept;
    // Writes a rendezvous record for `f` at `at`; false when it goes in pieces instead.
    bool expose(out_frame& f, std::byte* at, std::uint8_t kind) noexcept;
    // Fills and posts buffers from out_ while slots and credits allow.
    bool post_data(int& err) noexcept;
    bool post_send(std::uint32_t slot, std::uint32_t length, bool ends) noexcept;
    // Returns owed credits in an empty send when the peer may need them.
    void return_credits() noexcept;
    void recycle(std::uint32_t slot) noexcept;
    void send_end() noexcept;
    status fail(errc code, std::string reason) noexcept;

    std::unique_ptr<rdma_link> link_;
    zmtp::greeting greeting_;
    std::int64_t max_message_ = -1;
    std::int64_t budget_ = -1;
    bool handshake_ = true;
    std::atomic<io_handler*> handler_{nullptr};
    std::atomic<bool> want_in_{false};
    std::atomic<bool> want_out_{false};
    std::atomic<bool> disconnected_{false}; // the CM said so
    std::atomic<bool> cq_news_{false};      // a completion event since the last poll
    std::atomic<bool> blocked_{false};      // write() waits for a slot or a credit
    bool watching_ = false;
    bool closed_ = false;

    // input
    bool greeted_ = false; // next() said so
    std::deque<arrived> ready_;
    bool in_message_ = false;
    std::uint64_t message_bytes_ = 0;
    message large_;            // a frame arriving in pieces
    std::uint64_t large_filled_ = 0;
    bool large_command_ = false;
    bool large_more_ = false;
    bool large_open_ = false;
    bool peer_ended_ = false;
    std::deque<landing> landing_;
    std::uint32_t reads_busy_ = 0;
    std::uint32_t acks_owed_ = 0; // reads done, not yet told
    bool discarding_ = false; // discard_input(): closing, nothing more is taken
    bool failed_ = false;
    errc error_code_{};
    std::string error_reason_;

    // credits
    std::uint32_t peer_credits_ = 0;     // sends we may make
    std::uint32_t owed_ = 0;             // receive buffers reposted, not yet told
    std::uint64_t granted_ = 0;          // credits we told the peer about, in all
    std::uint64_t received_ = 0;         // sends of the peer's we took, in all
    std::uint32_t peer_start_credits_ = 0;

    // output
    std::deque<out_frame> out_;
    std::size_t pending_bytes_ = 0;
    std::uint64_t frames_added_ = 0;
    std::uint64_t frames_posted_ = 0;
    std::uint32_t next_slot_ = 0;    // the send slot the next buffer fills
    std::uint32_t slots_busy_ = 0;   // data slots posted, not completed
    std::uint32_t sends_busy_ = 0;   // work requests posted, not completed (data and control)
    std::deque<bool> send_kinds_;    // per posted send, in order: true for a data slot
    std::deque<exposed> exposed_;    // in the order offered (and acknowledged)
    std::uint8_t reads_ = 0;         // rendezvous reads at once, both ways (0: eager only)
    std::uint64_t max_read_ = 0;
    bool end_wanted_ = false;
    bool end_sent_ = false;
};

} // namespace volley::detail
