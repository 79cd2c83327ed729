// SPDX-License-Identifier: MPL-2.0
// Validation of socket option values.
#include "options.hpp"

namespace volley::detail {
namespace {

bool valid_duration(std::chrono::milliseconds d) noexcept {
    return d.count() >= -1;
}

} // namespace

std::error_code socket_options::set(option_id id, const option_value& value) noexcept {
    switch (id) {
    case option_id::sndhwm:
    case option_id::rcvhwm: {
        const int* v = std::get_if<int>(&value);
        if (v == nullptr || *v < 0) return errc::invalid_argument;
        (id == option_id::sndhwm ? sndhwm : rcvhwm) = *v;
        return {};
    }
    case option_id::linger:
    case option_id::sndtimeo:
    case option_id::rcvtimeo: {
        const auto* v = std::get_if<std::chrono::milliseconds>(&value);
        if (v == nullptr || !valid_duration(*v)) return errc::invalid_argument;
        (id == option_id::linger ? linger : id == option_id::sndtimeo ? sndtimeo : rcvtimeo) = *v;
        return {};
    }
    case option_id::routing_id: {
        const auto* v = std::get_if<std::string>(&value);
        if (v == nullptr || v->size() > 255 || (!v->empty() && (*v)[0] == '\0')) return errc::invalid_argument;
        try {
            routing_id = *v;
        } catch (...) {
            return std::make_error_code(std::errc::not_enough_memory);
        }
        return {};
    }
    }
    return errc::invalid_argument;
}

option_value socket_options::get(option_id id) const {
    switch (id) {
    case option_id::sndhwm: return sndhwm;
    case option_id::rcvhwm: return rcvhwm;
    case option_id::linger: return linger;
    case option_id::sndtimeo: return sndtimeo;
    case option_id::rcvtimeo: return rcvtimeo;
    case option_id::routing_id: return routing_id;
    }
    return 0;
}

} // namespace volley::detail
