// SPDX-License-Identifier: MPL-2.0
// The ZMTP greeting: writing ours, checking the peer's. See wire.hpp.
#include "zmtp/wire.hpp"

#include <cstring>

namespace volley::zmtp {

void write_greeting(std::byte (&out)[greeting_size], std::string_view mechanism, bool as_server) noexcept {
    std::memset(out, 0, greeting_size);
    out[0] = std::byte{0xFF};
    out[8] = std::byte{0x01}; // as libzmq: a ZMTP 1.0 peer reads bytes 1..8 as an identity length
    out[9] = std::byte{0x7F};
    out[10] = std::byte{3};
    out[11] = std::byte{1};
    std::memcpy(out + 12, mechanism.data(), mechanism.size() < 20 ? mechanism.size() : 20);
    out[32] = std::byte{as_server ? std::uint8_t{1} : std::uint8_t{0}};
}

std::string check_greeting_prefix(const std::byte* in, std::size_t n) {
    if (n >= 1 && in[0] != std::byte{0xFF})
        return "not a ZMTP peer (greeting does not start with 0xFF)";
    if (n >= 10 && (std::to_integer<unsigned>(in[9]) & 1) == 0)
        return "ZMTP 1.0 peer (unsupported; volley speaks ZMTP 3.x)";
    if (n >= 11 && std::to_integer<unsigned>(in[10]) < 3) // revisions 1 and 2 are ZMTP 2.0 (RFC 15/13)
        return "ZMTP 2.0 peer (revision " + std::to_string(std::to_integer<unsigned>(in[10])) +
               "; unsupported, volley speaks ZMTP 3.x)";
    return {};
}

std::string parse_greeting(const std::byte (&in)[greeting_size], greeting& out) {
    if (auto reason = check_greeting_prefix(in, greeting_size); !reason.empty()) return reason;
    out.major = std::to_integer<std::uint8_t>(in[10]);
    out.minor = std::to_integer<std::uint8_t>(in[11]);
    const char* mech = reinterpret_cast<const char*>(in + 12);
    out.mechanism.assign(mech, strnlen(mech, 20));
    for (std::size_t i = out.mechanism.size(); i < 20; ++i) {
        if (in[12 + i] != std::byte{0}) return "malformed greeting (mechanism not NUL-padded)";
    }
    out.as_server = in[32] != std::byte{0};
    return {};
}

} // namespace volley::zmtp
