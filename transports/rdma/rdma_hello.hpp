// SPDX-License-Identifier: MPL-2.0
// The volley hello: what an rdma:// connection's two sides tell each other in
// the rdma_cm private data (the connect request, and the accept), in place of
// the ZMTP greeting a byte stream sends. The connect side has 56 bytes there
// (rdma_cm takes the rest of the CM REQ's 92), so the hello is 40:
//
//   off 0   "VLY" magic, then the hello's version (1)
//   off 4   socket type (volley::socket_type), ZMTP major and minor (3, 1), flags (bit 0: as-server)
//   off 8   eager buffer size, bytes (u32, big-endian)
//   off 12  receive buffers posted for the peer: its first credits (u32, big-endian)
//   off 16  the security mechanism, 20 bytes NUL-padded, as in the ZMTP greeting
//   off 36  RDMA READs of rendezvous bodies this side issues and serves at once (0: none, a
//           side that takes large frames only in eager pieces)
//   off 37  reserved, zero
//
// The transport reads the rest of private data as padding (the kernel hands the whole 56
// or 196 bytes over). A peer whose private data is not a hello is not volley, and is
// refused with a reason (rdma_reject carries it).
#pragma once

#include <volley/socket.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>

namespace volley::detail {

struct rdma_hello {
    socket_type type = socket_type::pair;
    std::uint8_t zmtp_major = 3;
    std::uint8_t zmtp_minor = 1;
    bool as_server = false;
    std::uint32_t buffer_bytes = 0; // each eager buffer
    std::uint32_t credits = 0;      // receive buffers posted for the peer
    std::string mechanism = "NULL";
    std::uint8_t reads = 0;         // RDMA READs at once (rendezvous), 0: eager only
};

inline constexpr std::size_t rdma_hello_size = 40;

// Writes `h` into `out` (rdma_hello_size bytes).
void write_hello(const rdma_hello& h, std::span<std::byte, rdma_hello_size> out) noexcept;
// Reads a hello from a peer's private data: the hello, or nothing with `why` naming what is
// wrong (not volley, another version, impossible buffer parameters).
std::optional<rdma_hello> read_hello(std::span<const std::byte> data, std::string& why);

} // namespace volley::detail
