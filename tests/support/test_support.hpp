// SPDX-License-Identifier: MPL-2.0
// Helpers shared by the tests: unique endpoint names, and a latch-style
// gate to line threads up without sleeping.
#pragma once

#include <volley/volley.hpp>

#include "socket_base.hpp" // peer counts, for tests that check attachments

#include <atomic>
#include <chrono>
#include <string>

namespace support {

// A fresh inproc endpoint name, unique within the process.
inline std::string inproc_endpoint() {
    static std::atomic<int> next{0};
    return "inproc://test-" + std::to_string(next.fetch_add(1));
}

// Milliseconds elapsed since `start`.
inline long long ms_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
}

} // namespace support
