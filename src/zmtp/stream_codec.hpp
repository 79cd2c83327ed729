// SPDX-License-Identifier: MPL-2.0
// stream_codec: ZMTP on a byte stream, with no I/O: the greeting both ways,
// then frames (decoder.hpp, encoder.hpp). Bytes the stream brought go into
// read_target(); next() hands out what they make, first the peer's greeting
// (status::greeted, once), then its frames. What we send (our greeting, then
// frames) waits in the encoder until the stream takes it (gather/consumed).
//
// The greeting is read on its own: read_target() offers exactly the bytes it
// still lacks, so the frames behind it are never read into the greeting, and
// its first bytes are checked as they come (a non-ZMTP peer is refused after
// one byte, a ZMTP 2.0 peer after eleven; wire.hpp).
#pragma once

#include "zmtp/decoder.hpp"
#include "zmtp/encoder.hpp"
#include "zmtp/wire.hpp"

#include <span>
#include <string>
#include <string_view>

namespace volley::zmtp {

class stream_codec {
public:
    enum class status { frame, need_more, greeted, error };

    // Queues our greeting, naming `mechanism`. Throws std::bad_alloc.
    void start(std::string_view mechanism, bool as_server);

    // ---- input ----
    std::span<std::byte> read_target() noexcept {
        if (greeted_) [[likely]] return decoder_.read_target();
        return {peer_greeting_ + greeting_received_, greeting_size - greeting_received_};
    }
    void received(std::size_t n) noexcept {
        if (greeted_) [[likely]]
            decoder_.received(n);
        else
            greeting_received_ += n;
    }
    // The next thing the bytes received so far make.
    status next(message& body, bool& command) noexcept {
        if (!greeted_) [[unlikely]] return next_greeting();
        switch (decoder_.next(body, command)) {
        case decoder::status::frame: return status::frame;
        case decoder::status::need_more: return status::need_more;
        case decoder::status::error: break;
        }
        return status::error;
    }
    // After status::greeted: the peer's greeting.
    const greeting& peer_greeting() const noexcept { return greeting_; }
    bool greeted() const noexcept { return greeted_; }
    // After status::error: the code and a sentence naming the cause.
    errc error_code() const noexcept { return greeting_failed_ ? errc::protocol_error : decoder_.error_code(); }
    const std::string& error_reason() const noexcept {
        return !greeting_failed_ ? decoder_.error_reason() : reason_oom_ != nullptr ? *reason_oom_ : reason_;
    }

    decoder& in() noexcept { return decoder_; }
    const decoder& in() const noexcept { return decoder_; }
    encoder& out() noexcept { return encoder_; }
    const encoder& out() const noexcept { return encoder_; }

private:
    status next_greeting() noexcept;

    decoder decoder_;
    encoder encoder_;
    std::byte peer_greeting_[greeting_size];
    std::size_t greeting_received_ = 0;
    bool greeted_ = false;
    bool greeting_failed_ = false;
    greeting greeting_;
    std::string reason_;
    const std::string* reason_oom_ = nullptr; // the reason when reason_ could not be made
};

} // namespace volley::zmtp
