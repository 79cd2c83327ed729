// SPDX-License-Identifier: MPL-2.0
// PUB (RFC 29, PUBSUB): publishes to every subscriber whose subscriptions
// match a message (see publisher.hpp). It never receives; what subscribers
// send besides their subscriptions is dropped.
#include "publisher.hpp"

namespace volley::detail {
namespace {

class pub final : public publisher {
public:
    using publisher::publisher;

private:
    errc on_recv(message&) override { return errc::not_supported; }
};

} // namespace

std::unique_ptr<socket_base> make_pub(context_core& ctx, socket_type type) {
    return std::make_unique<pub>(ctx, type);
}

} // namespace volley::detail
