// SPDX-License-Identifier: MPL-2.0
// ZMTP frame encoding. See encoder.hpp and wire.hpp.
#include "zmtp/encoder.hpp"

#include "zmtp/wire.hpp"

#include <algorithm>
#include <cstring>

namespace volley::zmtp {

std::byte* encoder::extend(std::size_t n) {
    const std::size_t at = buf_.size();
    const bool merge = !segments_.empty() && segments_.back().in_buffer && segments_.back().end == at;
    room_for_segments(1);   // may throw: nothing changed yet
    std::byte* p = buf_.grow(n); // likewise
    if (merge)
        segments_.back().end += n;
    else
        segments_.push_back({at, at + n, message(), true}); // room was made: cannot throw
    pending_ += n;
    return p;
}

void encoder::room_for_segments(std::size_t n) {
    if (segments_.size() + n > segments_.capacity()) segments_.reserve(std::max<std::size_t>(16, segments_.capacity() * 2));
}

void encoder::add_raw(const void* data, std::size_t n) {
    if (n != 0) std::memcpy(extend(n), data, n);
}

void encoder::add_any(message&& body, bool command) {
    const std::size_t size = body.size();
    std::uint8_t header[9];
    std::uint8_t flags = command ? flag_command : (body.more() ? flag_more : 0);
    std::size_t header_size;
    if (size <= 255) {
        header[1] = static_cast<std::uint8_t>(size);
        header_size = 2;
    } else {
        flags |= flag_long;
        for (int i = 0; i < 8; ++i) header[1 + i] = static_cast<std::uint8_t>(static_cast<std::uint64_t>(size) >> (56 - 8 * i));
        header_size = 9;
    }
    header[0] = flags;
    // All or nothing: a frame is queued whole, or (std::bad_alloc) not at all.
    if (size < copy_threshold_) {
        std::byte* p = extend(header_size + size);
        std::memcpy(p, header, header_size);
        if (size != 0) std::memcpy(p + header_size, body.data(), size);
        return;
    }
    room_for_segments(2);
    std::memcpy(extend(header_size), header, header_size);
    segments_.push_back({0, size, std::move(body), false}); // room was made: cannot throw
    pending_ += size;
}

int encoder::gather(iovec* out, int max, std::size_t max_bytes) const noexcept {
    int n = 0;
    for (std::size_t i = head_; i < segments_.size() && n < max && max_bytes > 0; ++i) {
        const segment& s = segments_[i];
        const std::byte* base = s.in_buffer ? buf_.data() : s.held.data();
        out[n].iov_base = const_cast<std::byte*>(base + s.begin);
        out[n].iov_len = std::min(s.end - s.begin, max_bytes);
        max_bytes -= out[n].iov_len;
        ++n;
    }
    return n;
}

void encoder::consumed(std::size_t n) noexcept {
    pending_ -= n;
    written_ += n;
    while (n > 0) {
        segment& s = segments_[head_];
        const std::size_t left = s.end - s.begin;
        if (n < left) {
            s.begin += n;
            break;
        }
        n -= left;
        s.held.reset(); // a large body is released as soon as it is written
        ++head_;
    }
    if (pending_ == 0) {
        buf_.clear();
        segments_.clear();
        head_ = 0;
        return;
    }
    // A peer that keeps up only just never lets the encoder run empty while more is added
    // (the socket's thread asks for a flush whenever it writes): drop the written prefix
    // once it is most of the buffer, so the buffer stays near what is still unwritten.
    const std::size_t first = first_unwritten_offset();
    if (first >= compact_min_bytes && first >= buf_.size() / 2) compact(first);
}

std::size_t encoder::first_unwritten_offset() const noexcept {
    for (std::size_t i = head_; i < segments_.size(); ++i) {
        if (segments_[i].in_buffer) return segments_[i].begin; // buffer segments are in buffer order
    }
    return buf_.size();
}

void encoder::compact(std::size_t first) noexcept {
    std::memmove(buf_.data(), buf_.data() + first, buf_.size() - first);
    buf_.shrink(buf_.size() - first);
    for (std::size_t i = head_; i < segments_.size(); ++i) {
        if (!segments_[i].in_buffer) continue;
        segments_[i].begin -= first;
        segments_[i].end -= first;
    }
    segments_.erase(segments_.begin(), segments_.begin() + static_cast<std::ptrdiff_t>(head_));
    head_ = 0;
}

} // namespace volley::zmtp
