// SPDX-License-Identifier: MPL-2.0
// Validation of socket option values.
#include "options.hpp"

#include <limits>
#include <string>

namespace volley::detail {

namespace {

// A value check and the words for what it allows, for the error when it says no.
template <class T>
struct rule {
    bool (*valid)(const T&);
    const char* allowed;
};
// Typed access to one field for set/get: the field's pointer, its name and its rule.
template <class T>
struct field {
    T socket_options::*member;
    const char* name;
    rule<T> check;
};

using ms = std::chrono::milliseconds;
// Deadlines (linger, timeouts) may be any length: deadline_after() saturates. Intervals that
// arm reactor timers stay within libzmq's int range, so that doubling one cannot overflow.
constexpr long long max_interval_ms = std::numeric_limits<int>::max();
constexpr rule<int> never{[](const int&) { return false; }, "nothing"};
constexpr rule<int> non_negative{[](const int& v) { return v >= 0; }, "0 or more"};
constexpr rule<int> tristate{[](const int& v) { return v >= -1 && v <= 1; }, "-1 (the system's), 0 or 1"};
constexpr rule<int> minus_one_or_more{[](const int& v) { return v >= -1; }, "-1 (the system's) or more"};
constexpr rule<int> buffer_size{[](const int& v) { return v == -1 || v > 0; }, "-1 (the system's) or more than 0"};
constexpr rule<int> busy_poll_range{[](const int& v) { return v >= -1 && v <= 1'000'000; },
                                    "-1 (the socket's choice) or 0 to 1000000 microseconds"};
constexpr rule<ms> duration_or_infinite{[](const ms& v) { return v.count() >= -1; },
                                        "0 ms or more, or volley::infinite"};
constexpr rule<ms> interval_or_infinite{[](const ms& v) { return v.count() >= -1 && v.count() <= max_interval_ms; },
                                        "0 to 2147483647 ms, or volley::infinite"};
constexpr rule<ms> interval{[](const ms& v) { return v.count() >= 0 && v.count() <= max_interval_ms; },
                            "0 to 2147483647 ms"};
constexpr rule<ms> ttl_range{[](const ms& v) { return v.count() >= 0 && v.count() <= 6'553'599; },
                             "0 to 6553599 ms (ZMTP carries it in deciseconds, 16 bits)"};
constexpr rule<std::int64_t> size_or_unlimited{[](const std::int64_t& v) { return v >= -1; },
                                               "-1 (no limit) or 0 bytes or more"};
constexpr rule<bool> any_bool{[](const bool&) { return true; }, "true or false"};
constexpr rule<std::string> routing_id_rule{
    [](const std::string& v) { return v.size() <= 255 && (v.empty() || v[0] != '\0'); },
    "at most 255 bytes, not starting with a zero byte"};
constexpr rule<std::string> any_string{[](const std::string&) { return true; }, "any bytes"};

std::string shown(int v) { return std::to_string(v); }
std::string shown(std::int64_t v) { return std::to_string(v); }
std::string shown(const ms& v) { return std::to_string(v.count()) + " ms"; }
std::string shown(bool v) { return v ? "true" : "false"; }
std::string shown(const std::string& v) { return std::to_string(v.size()) + " bytes"; }

template <class T>
std::error_code store(socket_options& o, const option_value& value, field<T> f, std::string& why) noexcept {
    const T* v = std::get_if<T>(&value);
    try {
        if (v == nullptr) {
            why = std::string(f.name) + ": a value of the wrong type";
            return errc::invalid_argument;
        }
        if (!f.check.valid(*v)) {
            why = std::string(f.name) + " takes " + f.check.allowed + ", not " + shown(*v);
            return errc::invalid_argument;
        }
        o.*f.member = *v;
    } catch (...) {
        return std::make_error_code(std::errc::not_enough_memory);
    }
    return {};
}

// Visits the field for `id` with `fn(field<T>)`.
template <class Fn>
auto with_field(option_id id, Fn&& fn) {
    using o = socket_options;
    switch (id) {
    case option_id::sndhwm: return fn(field<int>{&o::sndhwm, "sndhwm", non_negative});
    case option_id::rcvhwm: return fn(field<int>{&o::rcvhwm, "rcvhwm", non_negative});
    case option_id::linger: return fn(field<ms>{&o::linger, "linger", duration_or_infinite});
    case option_id::sndtimeo: return fn(field<ms>{&o::sndtimeo, "sndtimeo", duration_or_infinite});
    case option_id::rcvtimeo: return fn(field<ms>{&o::rcvtimeo, "rcvtimeo", duration_or_infinite});
    case option_id::routing_id: return fn(field<std::string>{&o::routing_id, "routing_id", routing_id_rule});
    case option_id::reconnect_ivl: return fn(field<ms>{&o::reconnect_ivl, "reconnect_ivl", interval_or_infinite});
    case option_id::reconnect_ivl_max: return fn(field<ms>{&o::reconnect_ivl_max, "reconnect_ivl_max", interval});
    case option_id::handshake_ivl: return fn(field<ms>{&o::handshake_ivl, "handshake_ivl", interval});
    case option_id::maxmsgsize: return fn(field<std::int64_t>{&o::maxmsgsize, "maxmsgsize", size_or_unlimited});
    case option_id::heartbeat_ivl: return fn(field<ms>{&o::heartbeat_ivl, "heartbeat_ivl", interval});
    case option_id::heartbeat_timeout: return fn(field<ms>{&o::heartbeat_timeout, "heartbeat_timeout", interval});
    case option_id::heartbeat_ttl: return fn(field<ms>{&o::heartbeat_ttl, "heartbeat_ttl", ttl_range});
    case option_id::tcp_keepalive: return fn(field<int>{&o::tcp_keepalive, "tcp_keepalive", tristate});
    case option_id::tcp_keepalive_idle:
        return fn(field<int>{&o::tcp_keepalive_idle, "tcp_keepalive_idle", minus_one_or_more});
    case option_id::tcp_keepalive_cnt:
        return fn(field<int>{&o::tcp_keepalive_cnt, "tcp_keepalive_cnt", minus_one_or_more});
    case option_id::tcp_keepalive_intvl:
        return fn(field<int>{&o::tcp_keepalive_intvl, "tcp_keepalive_intvl", minus_one_or_more});
    case option_id::ipv6: return fn(field<bool>{&o::ipv6, "ipv6", any_bool});
    case option_id::sndbuf: return fn(field<int>{&o::sndbuf, "sndbuf", buffer_size});
    case option_id::rcvbuf: return fn(field<int>{&o::rcvbuf, "rcvbuf", buffer_size});
    case option_id::input_budget: return fn(field<std::int64_t>{&o::input_budget, "input_budget", size_or_unlimited});
    case option_id::busy_poll: return fn(field<int>{&o::busy_poll, "busy_poll", busy_poll_range});
    case option_id::subscribe: return fn(field<std::string>{&o::subscribe, "subscribe", any_string});
    case option_id::unsubscribe: return fn(field<std::string>{&o::unsubscribe, "unsubscribe", any_string});
    case option_id::xpub_verbose: return fn(field<bool>{&o::xpub_verbose, "xpub_verbose", any_bool});
    case option_id::req_relaxed: return fn(field<bool>{&o::req_relaxed, "req_relaxed", any_bool});
    case option_id::req_correlate: return fn(field<bool>{&o::req_correlate, "req_correlate", any_bool});
    case option_id::req_resend_ivl: return fn(field<ms>{&o::req_resend_ivl, "req_resend_ivl", interval});
    case option_id::router_mandatory: return fn(field<bool>{&o::router_mandatory, "router_mandatory", any_bool});
    case option_id::router_handover: return fn(field<bool>{&o::router_handover, "router_handover", any_bool});
    case option_id::connect_routing_id:
        return fn(field<std::string>{&o::connect_routing_id, "connect_routing_id", routing_id_rule});
    }
    return fn(field<int>{&o::sndhwm, "unknown option", never}); // unreachable (every id is listed); set() refuses
}

} // namespace

std::error_code socket_options::set(option_id id, const option_value& value, std::string& why) noexcept {
    return with_field(id, [&](auto f) { return store(*this, value, f, why); });
}

option_value socket_options::get(option_id id) const {
    return with_field(id, [&](auto f) { return option_value(this->*f.member); });
}

const char* option_name(option_id id) noexcept {
    return with_field(id, [](auto f) { return f.name; });
}

} // namespace volley::detail
