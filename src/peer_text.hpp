// SPDX-License-Identifier: MPL-2.0
// Bytes a peer sent, made safe to quote in a monitor detail: applications
// print those details and log them, so a hostile peer must not be able to
// write megabytes into them, nor control characters (a forged log line, a
// terminal escape). Only a short prefix is kept, printable ASCII as is and
// every other byte as \xHH, between single quotes; a longer value says how
// long it was.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace volley::detail {

// How much of a peer's value a detail quotes.
inline constexpr std::size_t quoted_peer_bytes = 40;

inline std::string quote_peer(std::string_view bytes, std::size_t max = quoted_peer_bytes) {
    static constexpr char hex[] = "0123456789abcdef";
    std::string out(1, '\'');
    for (std::size_t i = 0; i < bytes.size() && i < max; ++i) {
        const auto c = static_cast<unsigned char>(bytes[i]);
        if (c >= 0x20 && c < 0x7f && c != '\\' && c != '\'') {
            out.push_back(static_cast<char>(c));
        } else {
            out += "\\x";
            out.push_back(hex[c >> 4]);
            out.push_back(hex[c & 15]);
        }
    }
    out.push_back('\'');
    if (bytes.size() > max) out += "... (" + std::to_string(bytes.size()) + " bytes)";
    return out;
}

} // namespace volley::detail
