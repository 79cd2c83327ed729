// SPDX-License-Identifier: MPL-2.0
// The "volley" error category: one sentence per errc, naming the cause.
#include <volley/error.hpp>

namespace volley {
namespace {

class category final : public std::error_category {
public:
    const char* name() const noexcept override { return "volley"; }
    std::string message(int ev) const override {
        switch (static_cast<errc>(ev)) {
        case errc::would_block: return "operation would block";
        case errc::timed_out: return "operation timed out";
        case errc::closed: return "socket is closed";
        case errc::terminated: return "context was shut down";
        case errc::invalid_argument: return "invalid argument";
        case errc::invalid_endpoint: return "malformed endpoint URI";
        case errc::unknown_scheme: return "unknown transport scheme in endpoint URI";
        case errc::address_in_use: return "endpoint is already bound";
        case errc::endpoint_not_found: return "socket has no such endpoint";
        case errc::incompatible_socket_type: return "peer socket type is incompatible";
        case errc::not_supported: return "operation not supported by this socket type";
        case errc::protocol_error: return "peer broke the wire protocol";
        case errc::message_too_large: return "message exceeds maxmsgsize or input_budget";
        case errc::connection_refused: return "connection refused";
        case errc::host_unreachable: return "host unreachable";
        case errc::wrong_state: return "operation not allowed in the socket's current state";
        case errc::cannot_resolve: return "host name does not resolve";
        }
        return "unknown volley error " + std::to_string(ev);
    }
};

} // namespace

const std::error_category& error_category() noexcept {
    static const category instance;
    return instance;
}

} // namespace volley
