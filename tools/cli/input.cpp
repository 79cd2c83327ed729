// SPDX-License-Identifier: MPL-2.0
// The messages the volley tool sends. See input.hpp.
#include "input.hpp"

#include <cerrno>
#include <system_error>
#include <unistd.h>

namespace volley::cli {

input::input(const command& c, bool repeat) : data_(c.data), repeat_(repeat) {}

std::optional<std::string> input::next() {
    if (data_) return ready();
    while (true) {
        if (auto l = line()) return l;
        if (ended_) return std::nullopt;
        fill();
    }
}

std::optional<std::string> input::ready() {
    if (!data_) return line();
    if (ended_) return std::nullopt;
    if (!repeat_) ended_ = true;
    return data_;
}

std::optional<std::string> input::line() {
    if (const auto nl = buffer_.find('\n'); nl != std::string::npos) {
        std::string l = buffer_.substr(0, nl);
        buffer_.erase(0, nl + 1);
        return l;
    }
    if (ended_ && !buffer_.empty()) return std::exchange(buffer_, {}); // a last line without '\n'
    return std::nullopt;
}

void input::fill() {
    if (ended_) return;
    char chunk[65536];
    ssize_t n;
    do {
        n = ::read(STDIN_FILENO, chunk, sizeof chunk);
    } while (n < 0 && errno == EINTR);
    if (n < 0) throw std::system_error(errno, std::system_category(), "reading standard input");
    if (n == 0)
        ended_ = true;
    else
        buffer_.append(chunk, static_cast<std::size_t>(n));
}

} // namespace volley::cli
