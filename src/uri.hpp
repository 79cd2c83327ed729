// SPDX-License-Identifier: MPL-2.0
// Endpoint URIs: "<scheme>://<address>". The scheme picks the transport;
// the address is the transport's business.
#pragma once

#include <string>
#include <string_view>
#include <system_error>

namespace volley::detail {

struct endpoint {
    std::string uri;     // as given
    std::string scheme;  // lower-case letters, digits, '+', '-', '.'
    std::string address; // everything after "://", never empty
};

// Splits `uri`; errc::invalid_endpoint when it is not "<scheme>://<address>".
std::error_code parse_endpoint(std::string_view uri, endpoint& out);

} // namespace volley::detail
