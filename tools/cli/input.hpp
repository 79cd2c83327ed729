// SPDX-License-Identifier: MPL-2.0
// The messages the volley tool sends: --data (or --file's contents) again and
// again, or one message per line of standard input. Reading stdin either
// blocks (senders) or takes what a poll found ready (pair, dealer, which
// print what arrives meanwhile).
#pragma once

#include "args.hpp"

#include <optional>
#include <string>

namespace volley::cli {

class input {
public:
    // `repeat`: --data / --file is sent more than once (--count or --interval given).
    input(const command& c, bool repeat);

    // True when the messages come from standard input.
    bool from_stdin() const noexcept { return !data_; }
    // True once there is nothing more to send.
    bool ended() const noexcept { return ended_ && buffer_.empty(); }

    // The next message, waiting for a line of stdin; nullopt once there are no more.
    std::optional<std::string> next();
    // A message ready now, without waiting: a line already read (call fill() when a poll
    // finds stdin readable), or --data; nullopt when none is ready yet (or none is left).
    std::optional<std::string> ready();
    // Reads what stdin has (once; it blocks only if stdin has nothing). Throws
    // std::system_error when reading fails.
    void fill();

private:
    std::optional<std::string> line();

    std::optional<std::string> data_;
    bool repeat_;
    bool ended_ = false;
    std::string buffer_; // stdin bytes read but not yet a whole line
};

} // namespace volley::cli
