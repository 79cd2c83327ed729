// SPDX-License-Identifier: MPL-2.0
// Endpoint URIs: "<scheme>://<address>". The scheme picks the transport;
// the address is the transport's business.
#pragma once

#include <string>
#include <string_view>
#include <system_error>
#include <utility>

namespace volley::detail {

struct endpoint {
    std::string uri;     // as given
    std::string scheme;  // lower-case letters, digits, '+', '-', '.'
    std::string address; // everything after "://", never empty
};

// How the endpoint calls (parse, resolve, bind, connect) fail: `why` gets a sentence
// naming the cause ("port 99999 is out of range 1-65535"), which the exception and the
// monitor event carry, and the caller gets `code` to test.
inline std::error_code endpoint_error(std::string& why, std::error_code code, std::string reason) {
    why = std::move(reason);
    return code;
}

// Splits `uri`; errc::invalid_endpoint when it is not "<scheme>://<address>".
std::error_code parse_endpoint(std::string_view uri, endpoint& out, std::string& why);

} // namespace volley::detail
