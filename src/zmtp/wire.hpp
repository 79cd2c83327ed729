// SPDX-License-Identifier: MPL-2.0
// ZMTP 3.1 on the wire (ZeroMQ RFC 37; RFC 23 for 3.0): the greeting, the
// frame header and the NULL mechanism's commands, as volley writes and reads
// them. Facts from the RFCs and from what libzmq does (see
// ../shared/REFERENCE.md); the code is ours.
//
// Greeting, 64 bytes, sent by both peers at once:
//
//    0      1                        9      10     11     12                   32     33          63
//   +------+------------------------+------+------+------+--------------------+------+-------------+
//   | 0xFF | padding (8 bytes)      | 0x7F | 0x03 | 0x01 | mechanism "NULL"   | as-  | filler      |
//   |      | libzmq: uint64 BE 1    |      | major| minor| NUL-padded to 20   |server| 31 x 0x00   |
//   +------+------------------------+------+------+------+--------------------+------+-------------+
//   bit 0 of byte 9 set = a versioned (>= 2.0) peer; major < 3 is refused; minor 0 = ZMTP 3.0
//   (no PING/PONG); minor >= 1, or major > 3, = ZMTP 3.1.
//
// Frame, after the greeting:
//
//   +-------+--------------------------------+---------------------------+
//   | flags | size: 1 byte, or 8 bytes BE    | body: size bytes          |
//   +-------+--------------------------------+---------------------------+
//   flags: bit 0 MORE (another frame of this message follows)
//          bit 1 LONG (size is 8 bytes; libzmq uses it only when size > 255)
//          bit 2 COMMAND (a command frame; MORE must then be 0)
//          bits 7..3 must be 0
//
// Command body: name-length (1 byte) name data. The NULL handshake is one
// READY each way, sent without waiting for the peer's:
//
//   READY  = 0x05 "READY" *property
//   property = name-length(1) name value-length(4, BE) value
//              names: "Socket-Type" (always), "Identity" (REQ, DEALER, ROUTER)
//   ERROR  = 0x05 "ERROR" reason-length(1) reason        (fatal; then close)
//   PING   = 0x04 "PING" ttl(2, BE, deciseconds) context(0..16 bytes)
//   PONG   = 0x04 "PONG" context (echoes the PING's)
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace volley::zmtp {

inline constexpr std::size_t greeting_size = 64;
// Bytes of a greeting after which the peer's version is known.
inline constexpr std::size_t greeting_version_size = 11;

inline constexpr std::uint8_t flag_more = 0x01;
inline constexpr std::uint8_t flag_long = 0x02;
inline constexpr std::uint8_t flag_command = 0x04;

struct greeting {
    std::uint8_t major = 0;
    std::uint8_t minor = 0;
    std::string mechanism;
    bool as_server = false;
};

// Writes volley's greeting (ZMTP 3.1, `mechanism`) into `out`.
void write_greeting(std::byte (&out)[greeting_size], std::string_view mechanism, bool as_server) noexcept;

// Checks the first bytes of a peer's greeting as they arrive: returns an empty string while
// they are acceptable, else the reason to refuse the peer. `n` is how many bytes are valid.
std::string check_greeting_prefix(const std::byte* in, std::size_t n);
// Parses a complete 64-byte greeting; returns the reason to refuse it, or an empty string.
std::string parse_greeting(const std::byte (&in)[greeting_size], greeting& out);

} // namespace volley::zmtp
