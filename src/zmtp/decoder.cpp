// SPDX-License-Identifier: MPL-2.0
// ZMTP frame decoding. See decoder.hpp and wire.hpp.
#include "zmtp/decoder.hpp"

#include "zmtp/wire.hpp"

#include <algorithm>
#include <cstring>
#include <new>

namespace volley::zmtp {

decoder::decoder(std::size_t buffer_size, std::size_t direct_threshold)
    : buf_(new std::byte[buffer_size]), capacity_(buffer_size),
      direct_threshold_(std::min(direct_threshold, buffer_size - 9)) {}

std::span<std::byte> decoder::read_target() noexcept {
    if (direct_) return {direct_body_.data() + direct_filled_, direct_body_.size() - direct_filled_};
    if (written_ == capacity_) compact();
    return {buf_.get() + written_, capacity_ - written_};
}

void decoder::received(std::size_t n) noexcept {
    if (direct_)
        direct_filled_ += n;
    else
        written_ += n;
}

void decoder::compact() noexcept {
    if (read_ == 0) return;
    std::memmove(buf_.get(), buf_.get() + read_, written_ - read_);
    written_ -= read_;
    read_ = 0;
}

decoder::status decoder::fail(errc code, std::string reason) noexcept {
    error_ = code;
    reason_ = std::move(reason);
    return status::error;
}

void decoder::update_bounds() noexcept {
    const auto max = static_cast<std::uint64_t>(max_message_);
    max_frame_ = handshake_ ? handshake_frame_limit : UINT64_MAX;
    max_bytes_ = max_message_ >= 0 ? max : UINT64_MAX;
    max_held_ = budget_ >= 0 ? static_cast<std::uint64_t>(budget_) : UINT64_MAX;
    if (max_message_ >= 0 && max <= (UINT64_MAX - 1024) / 2) max_held_ = std::min(max_held_, 2 * max + 1024);
}

std::string decoder::bounds_reason(std::uint64_t size, bool command) const {
    using std::to_string;
    if (size > max_frame_)
        return "frame of " + to_string(size) + " bytes during the handshake (at most " +
               to_string(handshake_frame_limit) + ")";
    const std::uint64_t earlier_bytes = command ? 0 : message_bytes_;
    const std::uint64_t held = (command ? 0 : message_cost_) + cost(size);
    const std::uint64_t frames = (command ? 0 : message_frames_) + 1;
    const auto holds = [&] {
        return "multipart message of " + to_string(frames) + " frames would hold " + to_string(held) + " bytes";
    };
    if (max_message_ >= 0) {
        const auto max = static_cast<std::uint64_t>(max_message_);
        if (size > max) return "frame of " + to_string(size) + " bytes exceeds maxmsgsize " + to_string(max);
        if (earlier_bytes + size > max)
            return "multipart message of " + to_string(earlier_bytes + size) + " bytes so far exceeds maxmsgsize " +
                   to_string(max);
        if (held > max_held_ && (budget_ < 0 || held <= static_cast<std::uint64_t>(budget_)))
            return holds() + ", more than maxmsgsize " + to_string(max) +
                   " allows (2 x maxmsgsize + 1024; each frame costs " + to_string(frame_cost) +
                   " bytes besides its body)";
    }
    if (frames == 1) return "frame of " + to_string(size) + " bytes exceeds input_budget " + to_string(budget_);
    return holds() + ", more than input_budget " + to_string(budget_);
}

decoder::status decoder::next(message& out, bool& out_command) noexcept {
    if (error_ != errc{}) return status::error;
    if (direct_) {
        if (direct_filled_ < direct_body_.size()) return status::need_more;
        out = std::move(direct_body_);
        out_command = direct_command_;
        direct_ = false;
        account(out, out_command);
        return status::frame;
    }
    const std::size_t avail = written_ - read_;
    if (avail == 0) {
        read_ = written_ = 0;
        return status::need_more;
    }
    const std::byte* p = buf_.get() + read_;
    const auto flags = std::to_integer<std::uint8_t>(p[0]);
    if ((flags & 0xF8) != 0) return fail(errc::protocol_error, "malformed frame (reserved flag bits set)");
    const bool command = (flags & flag_command) != 0;
    const bool more = (flags & flag_more) != 0;
    if (command && more) return fail(errc::protocol_error, "malformed frame (command with MORE set)");
    const std::size_t header = (flags & flag_long) ? 9 : 2;
    if (avail < header) {
        compact();
        return status::need_more;
    }
    std::uint64_t size = 0;
    if (header == 2) {
        size = std::to_integer<std::uint64_t>(p[1]);
    } else {
        for (int i = 1; i <= 8; ++i) size = (size << 8) | std::to_integer<std::uint64_t>(p[i]);
    }
    if (size > (std::uint64_t{1} << 62))
        return fail(errc::protocol_error, "malformed frame (impossible size " + std::to_string(size) + ")");
    if (!within_bounds(size, command))
        return fail(size > max_frame_ ? errc::protocol_error : errc::message_too_large, bounds_reason(size, command));

    const std::size_t body = static_cast<std::size_t>(size);
    if (avail - header >= body) { // the whole frame is here
        // Built in place: a temporary moved in would be written with small stores and read
        // back with wide ones at once (a store-forwarding stall per frame).
        out.~message();
        try {
            new (&out) message(p + header, body);
        } catch (const std::bad_alloc&) {
            new (&out) message();
            return fail(errc::message_too_large, "cannot allocate a frame of " + std::to_string(body) + " bytes");
        }
        out.set_more(more);
        out_command = command;
        read_ += header + body;
        account(out, command);
        return status::frame;
    }
    if (body < direct_threshold_) { // small: wait for the rest in the buffer
        compact();
        return status::need_more;
    }
    // Large: allocate the message now and read the rest of the body straight into it.
    try {
        direct_body_ = message(body);
    } catch (const std::bad_alloc&) {
        return fail(errc::message_too_large, "cannot allocate a frame of " + std::to_string(body) + " bytes");
    }
    direct_body_.set_more(more);
    direct_command_ = command;
    direct_filled_ = avail - header;
    std::memcpy(direct_body_.data(), p + header, direct_filled_);
    read_ = written_ = 0;
    direct_ = true;
    return status::need_more;
}

} // namespace volley::zmtp
