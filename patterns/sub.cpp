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
    std::error_code on_action(option_id id) override {
        try {
            if (id == option_id::subscribe)
                subscribe(options().subscribe);
            else
                unsubscribe(options().unsubscribe);
        } catch (const std::bad_alloc&) {
            return std::make_error_code(std::errc::not_enough_memory);
        }
        return {};
    }
    errc on_send(message&) override { return errc::not_supported; }
};

} // namespace

std::unique_ptr<socket_base> make_sub(context_core& ctx, socket_type type) {
    return std::make_unique<sub>(ctx, type);
}

} // namespace volley::detail
