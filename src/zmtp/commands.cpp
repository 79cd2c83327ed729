// SPDX-License-Identifier: MPL-2.0
// ZMTP command bodies. See commands.hpp and wire.hpp.
#include "zmtp/commands.hpp"

#include <algorithm>
#include <cstring>

namespace volley::zmtp {
namespace {

// Appends raw bytes to a growing body.
struct body_writer {
    std::string bytes;
    void u8(std::uint8_t v) { bytes.push_back(static_cast<char>(v)); }
    void u16(std::uint16_t v) {
        u8(static_cast<std::uint8_t>(v >> 8));
        u8(static_cast<std::uint8_t>(v));
    }
    void u32(std::uint32_t v) {
        for (int shift = 24; shift >= 0; shift -= 8) u8(static_cast<std::uint8_t>(v >> shift));
    }
    void raw(const void* p, std::size_t n) { bytes.append(static_cast<const char*>(p), n); }
    void name(std::string_view n) {
        u8(static_cast<std::uint8_t>(n.size()));
        raw(n.data(), n.size());
    }
    message done() const { return message(bytes.data(), bytes.size()); }
};

bool iequals(std::string_view a, std::string_view b) noexcept {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return (x >= 'A' && x <= 'Z' ? x + 32 : x) == (y >= 'A' && y <= 'Z' ? y + 32 : y);
           });
}

bool valid_property_name(std::string_view n) noexcept {
    return !n.empty() && std::all_of(n.begin(), n.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
               c == '.' || c == '+';
    });
}

} // namespace

std::optional<command> parse_command(const message& body) noexcept {
    const auto* p = body.data();
    const std::size_t n = body.size();
    if (n < 1) return std::nullopt;
    const std::size_t len = std::to_integer<std::size_t>(p[0]);
    if (len == 0 || 1 + len > n) return std::nullopt;
    return command{{reinterpret_cast<const char*>(p + 1), len}, {p + 1 + len, n - 1 - len}};
}

message make_ready(socket_type type, const std::string* identity) {
    body_writer w;
    w.name("READY");
    const auto type_name = to_string(type);
    w.name("Socket-Type");
    w.u32(static_cast<std::uint32_t>(type_name.size()));
    w.raw(type_name.data(), type_name.size());
    if (identity != nullptr) {
        w.name("Identity");
        w.u32(static_cast<std::uint32_t>(identity->size()));
        w.raw(identity->data(), identity->size());
    }
    return w.done();
}

std::string parse_properties(std::span<const std::byte> data, properties& out) {
    std::size_t at = 0;
    while (at < data.size()) {
        const std::size_t name_len = std::to_integer<std::size_t>(data[at++]);
        if (name_len == 0 || at + name_len > data.size()) return "malformed READY (property name length)";
        const std::string_view name(reinterpret_cast<const char*>(data.data() + at), name_len);
        if (!valid_property_name(name)) return "malformed READY (property name has invalid characters)";
        at += name_len;
        if (at + 4 > data.size()) return "malformed READY (property value length)";
        std::uint32_t value_len = 0;
        for (int i = 0; i < 4; ++i) value_len = (value_len << 8) | std::to_integer<std::uint32_t>(data[at++]);
        if (value_len > data.size() - at) return "malformed READY (property value runs past the command)";
        out.emplace_back(std::string(name), std::string(reinterpret_cast<const char*>(data.data() + at), value_len));
        at += value_len;
    }
    return {};
}

bool same_property_name(std::string_view a, std::string_view b) noexcept {
    return iequals(a, b);
}

const std::string* find_property(const properties& props, std::string_view name) noexcept {
    for (const auto& [n, v] : props) {
        if (iequals(n, name)) return &v;
    }
    return nullptr;
}

message make_error(std::string_view reason) {
    body_writer w;
    w.name("ERROR");
    w.name(reason.substr(0, 255));
    return w.done();
}

std::optional<std::string> parse_error(std::span<const std::byte> data) {
    if (data.empty()) return std::nullopt;
    const std::size_t len = std::to_integer<std::size_t>(data[0]);
    if (1 + len > data.size()) return std::nullopt;
    return std::string(reinterpret_cast<const char*>(data.data() + 1), len);
}

message make_ping(std::uint16_t ttl_deciseconds, std::span<const std::byte> context) {
    body_writer w;
    w.name("PING");
    w.u16(ttl_deciseconds);
    w.raw(context.data(), std::min<std::size_t>(context.size(), 16));
    return w.done();
}

std::optional<ping> parse_ping(std::span<const std::byte> data) noexcept {
    if (data.size() < 2) return std::nullopt;
    const auto ttl = static_cast<std::uint16_t>((std::to_integer<unsigned>(data[0]) << 8) | std::to_integer<unsigned>(data[1]));
    return ping{ttl, data.subspan(2, std::min<std::size_t>(data.size() - 2, 16))};
}

message make_pong(std::span<const std::byte> context) {
    body_writer w;
    w.name("PONG");
    w.raw(context.data(), std::min<std::size_t>(context.size(), 16));
    return w.done();
}

message make_subscription(bool subscribe, std::string_view topic) {
    body_writer w;
    w.name(subscribe ? "SUBSCRIBE" : "CANCEL");
    w.raw(topic.data(), topic.size());
    return w.done();
}

message make_subscription_message(bool subscribe, std::string_view topic) {
    body_writer w;
    w.u8(subscribe ? 1 : 0);
    w.raw(topic.data(), topic.size());
    return w.done();
}

std::optional<socket_type> socket_type_from_name(std::string_view name) noexcept {
    for (auto t : {socket_type::pair, socket_type::push, socket_type::pull, socket_type::pub, socket_type::sub,
                   socket_type::xpub, socket_type::xsub, socket_type::req, socket_type::rep, socket_type::dealer,
                   socket_type::router}) {
        if (to_string(t) == name) return t;
    }
    return std::nullopt;
}

} // namespace volley::zmtp
