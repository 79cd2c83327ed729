// SPDX-License-Identifier: MPL-2.0
// Endpoint URI splitting.
#include "uri.hpp"

#include <volley/error.hpp>

namespace volley::detail {

std::error_code parse_endpoint(std::string_view uri, endpoint& out, std::string& why) {
    const auto sep = uri.find("://");
    if (sep == std::string_view::npos || sep == 0)
        return endpoint_error(why, errc::invalid_endpoint, "not of the form <scheme>://<address>");
    const auto scheme = uri.substr(0, sep);
    if (sep + 3 == uri.size())
        return endpoint_error(why, errc::invalid_endpoint, "nothing after '" + std::string(scheme) + "://'");
    for (char c : scheme) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.';
        if (!ok)
            return endpoint_error(why, errc::invalid_endpoint,
                                  "the scheme '" + std::string(scheme) + "' has characters a scheme cannot have");
    }
    out.uri = std::string(uri);
    out.scheme = std::string(scheme);
    out.address = std::string(uri.substr(sep + 3));
    return {};
}

} // namespace volley::detail
