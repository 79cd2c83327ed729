// SPDX-License-Identifier: MPL-2.0
// SUB (RFC 29, PUBSUB): receives what its publishers send to the prefixes it
// subscribed to with opt::subscribe (see subscriber.hpp). With no
// subscription it receives nothing. It never sends.
#include "subscriber.hpp"

namespace volley::detail {
namespace {

class sub final : public subscriber {
public:
    using subscriber::subscriber;

private:
    errc on_send(message&) override { return errc::not_supported; }
};

} // namespace

std::unique_ptr<socket_base> make_sub(context_core& ctx, socket_type type) {
    return std::make_unique<sub>(ctx, type);
}

} // namespace volley::detail
