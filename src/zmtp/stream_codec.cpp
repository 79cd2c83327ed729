// SPDX-License-Identifier: MPL-2.0
// ZMTP on a byte stream: the greeting part. See stream_codec.hpp.
#include "zmtp/stream_codec.hpp"

#include <new>

namespace volley::zmtp {

void stream_codec::start(std::string_view mechanism, bool as_server) {
    std::byte ours[greeting_size];
    write_greeting(ours, mechanism, as_server);
    encoder_.add_raw(ours, sizeof ours);
}

stream_codec::status stream_codec::next_greeting() noexcept {
    if (greeting_failed_) return status::error;
    try {
        if (reason_ = check_greeting_prefix(peer_greeting_, greeting_received_); reason_.empty()) {
            if (greeting_received_ < greeting_size) return status::need_more;
            reason_ = parse_greeting(peer_greeting_, greeting_);
        }
    } catch (const std::bad_alloc&) {
        static const std::string out_of_memory = "out of memory reading the greeting";
        reason_.clear();
        greeting_failed_ = true;
        reason_oom_ = &out_of_memory;
        return status::error;
    }
    if (!reason_.empty()) {
        greeting_failed_ = true;
        return status::error;
    }
    greeted_ = true;
    return status::greeted;
}

} // namespace volley::zmtp
