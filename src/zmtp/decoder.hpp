// SPDX-License-Identifier: MPL-2.0
// The ZMTP frame decoder. Bytes arrive into read_target(): normally the
// decoder's own buffer, so that one read() brings many small frames; but a
// frame body of at least direct_threshold bytes that is not fully there yet
// gets its message allocated at once, and read_target() then points into
// that message, so a large body is read from the socket straight into the
// allocation the application receives, with no second copy.
//
// Every header is checked before it is trusted: reserved flag bits, MORE on
// a command, a size over maxmsgsize (a message's frames counted together)
// or one that cannot be allocated are
// protocol errors with a reason, never an assert.
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

    // Messages larger than this, counting every frame of a multipart message (bytes;
    // negative = no limit), are refused as message_too_large: as libzmq documents
    // ZMQ_MAXMSGSIZE (its decoder checks each frame alone), and so that a peer cannot make
    // us hold an unfinished message of ever more frames. Commands are checked alone.
    void set_max_message_size(std::int64_t max) noexcept { max_message_ = max; }

    // Where the next read may put bytes; never empty after next() returned need_more.
    std::span<std::byte> read_target() noexcept;
    // `n` bytes were read into read_target().
    void received(std::size_t n) noexcept;
    // Decodes the next frame from the bytes received so far.
    status next(frame& out) noexcept;

    // After status::error: the code and a sentence naming the cause.
    errc error_code() const noexcept { return error_; }
    const std::string& error_reason() const noexcept { return reason_; }
    // True when no bytes of an unfinished frame are held.
    bool idle() const noexcept { return !direct_ && read_ == written_; }
    // True while a large body is being read in place.
    bool reading_large_body() const noexcept { return direct_; }
    // Bytes of the large body still to come (0 when none is being read).
    std::size_t large_body_remaining() const noexcept { return direct_ ? direct_body_.size() - direct_filled_ : 0; }

private:
    status fail(errc code, std::string reason) noexcept;
    // A frame is handed out: counts it toward its message (see set_max_message_size).
    void account(const frame& f) noexcept {
        if (f.command) return;
        message_bytes_ = f.body.more() ? message_bytes_ + f.body.size() : 0;
    }
    void compact() noexcept;

    std::unique_ptr<std::byte[]> buf_;
    std::size_t capacity_;
    std::size_t direct_threshold_;
    std::size_t read_ = 0;    // next unparsed byte
    std::size_t written_ = 0; // end of received bytes
    std::int64_t max_message_ = -1;
    std::uint64_t message_bytes_ = 0; // body bytes of the earlier frames of the message under way
    // A large body being read in place.
    bool direct_ = false;
    bool direct_command_ = false;
    message direct_body_;
    std::size_t direct_filled_ = 0;
    errc error_{};
    std::string reason_;
};

} // namespace volley::zmtp
