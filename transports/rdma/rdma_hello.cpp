// SPDX-License-Identifier: MPL-2.0
// The volley hello in rdma_cm private data. See rdma_hello.hpp.
#include "rdma_hello.hpp"

#include <algorithm>
#include <cstring>

namespace volley::detail {
namespace {

constexpr std::uint8_t hello_version = 1;
constexpr std::size_t mechanism_bytes = 20;
// What a peer may ask of us: buffers we could register, credits we could track.
constexpr std::uint32_t min_buffer = 256, max_buffer = 16u << 20;
constexpr std::uint32_t min_credits = 2, max_credits = 4096;

void put32(std::byte* p, std::uint32_t v) noexcept {
    for (int i = 3; i >= 0; --i, v >>= 8) p[i] = std::byte(v & 0xff);
}
std::uint32_t get32(const std::byte* p) noexcept {
    std::uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v = (v << 8) | std::to_integer<std::uint32_t>(p[i]);
    return v;
}

} // namespace

void write_hello(const rdma_hello& h, std::span<std::byte, rdma_hello_size> out) noexcept {
    std::memset(out.data(), 0, out.size());
    std::memcpy(out.data(), "VLY", 3);
    out[3] = std::byte{hello_version};
    out[4] = std::byte(static_cast<std::uint8_t>(h.type));
    out[5] = std::byte{h.zmtp_major};
    out[6] = std::byte{h.zmtp_minor};
    out[7] = std::byte(h.as_server ? 1 : 0);
    put32(out.data() + 8, h.buffer_bytes);
    put32(out.data() + 12, h.credits);
    std::memcpy(out.data() + 16, h.mechanism.data(), std::min(h.mechanism.size(), mechanism_bytes));
    out[36] = std::byte{h.reads};
}

std::optional<rdma_hello> read_hello(std::span<const std::byte> data, std::string& why) {
    if (data.size() < rdma_hello_size || std::memcmp(data.data(), "VLY", 3) != 0) {
        why = "not a volley peer: its rdma_cm private data (" + std::to_string(data.size()) +
              " bytes) holds no volley hello";
        return std::nullopt;
    }
    const auto version = std::to_integer<unsigned>(data[3]);
    if (version != hello_version) {
        why = "the peer speaks volley rdma hello version " + std::to_string(version) + "; this side speaks " +
              std::to_string(hello_version);
        return std::nullopt;
    }
    rdma_hello h;
    const auto type = std::to_integer<unsigned>(data[4]);
    if (type > static_cast<unsigned>(socket_type::router)) {
        why = "the peer's hello names an unknown socket type (" + std::to_string(type) + ")";
        return std::nullopt;
    }
    h.type = static_cast<socket_type>(type);
    h.zmtp_major = std::to_integer<std::uint8_t>(data[5]);
    h.zmtp_minor = std::to_integer<std::uint8_t>(data[6]);
    h.as_server = (std::to_integer<unsigned>(data[7]) & 1) != 0;
    h.buffer_bytes = get32(data.data() + 8);
    h.credits = get32(data.data() + 12);
    if (h.buffer_bytes < min_buffer || h.buffer_bytes > max_buffer || h.credits < min_credits ||
        h.credits > max_credits) {
        why = "the peer's hello asks for " + std::to_string(h.credits) + " buffers of " +
              std::to_string(h.buffer_bytes) + " bytes, outside " + std::to_string(min_credits) + "-" +
              std::to_string(max_credits) + " of " + std::to_string(min_buffer) + "-" + std::to_string(max_buffer);
        return std::nullopt;
    }
    const char* m = reinterpret_cast<const char*>(data.data() + 16);
    h.mechanism.assign(m, strnlen(m, mechanism_bytes));
    h.reads = std::to_integer<std::uint8_t>(data[36]);
    return h;
}

} // namespace volley::detail
