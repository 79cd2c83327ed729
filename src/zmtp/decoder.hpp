// SPDX-License-Identifier: MPL-2.0
// The ZMTP frame decoder. Bytes arrive into read_target(): normally the
// decoder's own buffer, so that one read() brings many small frames; but a
// frame body of at least direct_threshold bytes that is not fully there yet
// gets its message allocated at once, and read_target() then points into
// that message, so a large body is read from the socket straight into the
// allocation the application receives, with no second copy.
//
// Every header is checked before it is trusted, and refused with a reason,
// never an assert: reserved flag bits, MORE on a command, a size that cannot
// be allocated, a frame larger than the handshake allows, and a message over
// its bounds (see set_limits). Nothing is allocated for a declared size
// before these checks pass, so a peer's claim alone never costs memory.
#pragma once

#include <volley/error.hpp>
#include <volley/message.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

namespace volley::zmtp {

class decoder {
public:
    struct frame {
        message body; // body.more() is the MORE flag
        bool command = false;
    };
    enum class status { frame, need_more, error };

    static constexpr std::size_t default_buffer = 64 * 1024;
    // Measured like the encoder's: 16 KiB is best or tied at 8 and 32 KiB bodies (32 KiB:
    // 187-212 k msg/s, vs 161-188 k when such bodies are copied out of the buffer).
    static constexpr std::size_t default_direct_threshold = 16 * 1024;

    explicit decoder(std::size_t buffer_size = default_buffer,
                     std::size_t direct_threshold = default_direct_threshold);

    // What one frame of an unfinished message costs us besides its body: the message
    // object that holds it in the pipe until the last frame comes.
    static constexpr std::size_t frame_cost = sizeof(message);
    // During the handshake no frame may be larger than this (READY is small; so are the
    // security mechanisms' commands): larger ones are refused before a byte of their
    // body is read or allocated.
    static constexpr std::size_t handshake_frame_limit = 64 * 1024;

    // The bounds of one message, checked at each frame's header before anything is
    // allocated for it; a message over either is refused as message_too_large.
    // - `max_message` (maxmsgsize; negative = none): the bodies of all frames of a
    //   multipart message together, as libzmq documents ZMQ_MAXMSGSIZE (its decoder checks
    //   each frame alone); and the memory the unfinished message holds, each frame costing
    //   frame_cost besides a body too large to live inside it, at most 2 x max_message +
    //   1 KiB: so a peer cannot hold memory with endless empty frames, while a message of
    //   frames of 64 bytes or more (frame_cost is 128; 121-127 byte bodies, pooled, cost up
    //   to 7 bytes more than twice their size) meets only the body bound.
    // - `budget` (input_budget; negative = none): the memory the unfinished message holds,
    //   counted the same way, including the frame being read. It bounds what a peer can
    //   make us hold when maxmsgsize is not set.
    // Commands are checked alone.
    void set_limits(std::int64_t max_message, std::int64_t budget) noexcept {
        max_message_ = max_message;
        budget_ = budget;
        update_bounds();
    }
    // While on, frames over handshake_frame_limit are refused (protocol_error).
    void set_handshake(bool on) noexcept {
        handshake_ = on;
        update_bounds();
    }
    // The memory a frame of `size` body bytes holds while its message is unfinished.
    static constexpr std::uint64_t cost(std::uint64_t size) noexcept {
        return frame_cost + (size > message::inline_capacity ? size : 0);
    }

    // Where the next read may put bytes; never empty after next() returned need_more.
    std::span<std::byte> read_target() noexcept;
    // `n` bytes were read into read_target().
    void received(std::size_t n) noexcept;
    // Decodes the next frame from the bytes received so far.
    status next(frame& out) noexcept { return next(out.body, out.command); }
    // The same, into a message of the caller's (a slot of a queue, say: the frame is built
    // in its place, not moved there).
    status next(message& body, bool& command) noexcept;

    // After status::error: the code and a sentence naming the cause.
    errc error_code() const noexcept { return error_; }
    const std::string& error_reason() const noexcept { return reason_; }
    // True between the first and the last frame of a message (a MORE frame was handed out).
    bool in_message() const noexcept { return message_frames_ != 0; }
    // True when no bytes of an unfinished frame are held.
    bool idle() const noexcept { return !direct_ && read_ == written_; }
    // True while a large body is being read in place.
    bool reading_large_body() const noexcept { return direct_; }
    // Bytes of the large body still to come (0 when none is being read).
    std::size_t large_body_remaining() const noexcept { return direct_ ? direct_body_.size() - direct_filled_ : 0; }

private:
    status fail(errc code, std::string reason) noexcept;
    // True when a frame of `size` bytes may be taken now (one comparison per bound).
    bool within_bounds(std::uint64_t size, bool command) const noexcept {
        const std::uint64_t earlier_bytes = command ? 0 : message_bytes_; // a command stands alone
        const std::uint64_t earlier_cost = command ? 0 : message_cost_;
        return size <= max_frame_ && earlier_bytes + size <= max_bytes_ && earlier_cost + cost(size) <= max_held_;
    }
    // Why within_bounds() said no.
    std::string bounds_reason(std::uint64_t size, bool command) const;
    void update_bounds() noexcept;
    // A frame is handed out: counts it toward its message (see set_limits).
    void account(const message& body, bool command) noexcept {
        if (command) return;
        if (!body.more()) {
            message_bytes_ = message_cost_ = message_frames_ = 0;
            return;
        }
        message_bytes_ += body.size();
        message_cost_ += cost(body.size());
        ++message_frames_;
    }
    void compact() noexcept;

    std::unique_ptr<std::byte[]> buf_;
    std::size_t capacity_;
    std::size_t direct_threshold_;
    std::size_t read_ = 0;    // next unparsed byte
    std::size_t written_ = 0; // end of received bytes
    std::int64_t max_message_ = -1;
    std::int64_t budget_ = -1;
    bool handshake_ = false;
    // Derived by update_bounds() from the three above: the largest frame, body bytes of a
    // message, and memory a message may hold (UINT64_MAX: no bound).
    std::uint64_t max_frame_ = UINT64_MAX;
    std::uint64_t max_bytes_ = UINT64_MAX;
    std::uint64_t max_held_ = UINT64_MAX;
    // The earlier frames of the message under way: body bytes, memory held, count.
    std::uint64_t message_bytes_ = 0;
    std::uint64_t message_cost_ = 0;
    std::uint64_t message_frames_ = 0;
    // A large body being read in place.
    bool direct_ = false;
    bool direct_command_ = false;
    message direct_body_;
    std::size_t direct_filled_ = 0;
    errc error_{};
    std::string reason_;
};

} // namespace volley::zmtp
