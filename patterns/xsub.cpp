// SPDX-License-Identifier: MPL-2.0
// XSUB (RFC 29, PUBSUB): a SUB (see subscriber.hpp) whose subscriptions the
// application sends as messages, as libzmq's XSUB takes them: one frame of
// 0x01 then the topic subscribes, 0x00 then the topic cancels. Any other
// message goes to every publisher as it is. opt::subscribe works too. A proxy
// puts an XSUB toward the publishers and an XPUB toward the subscribers.
#include "subscriber.hpp"

namespace volley::detail {
namespace {

class xsub final : public subscriber {
public:
    using subscriber::subscriber;

private:
    errc on_send(message& m) override {
        try {
            if (!sending_ && !m.more() && !m.empty() &&
                (m.data()[0] == std::byte{1} || m.data()[0] == std::byte{0})) {
                const auto topic = m.view().substr(1);
                if (m.data()[0] == std::byte{1})
                    subscribe(topic);
                else
                    unsubscribe(topic);
                m.reset();
                return {};
            }
        } catch (const std::bad_alloc&) {
            return errc::would_block; // the message stays with the caller
        }
        sending_ = m.more();
        send_to_all(m);
        return {};
    }

    bool can_send() noexcept override { return true; } // to every publisher, dropping at HWM

    bool sending_ = false; // frames of an application message are being sent
};

} // namespace

std::unique_ptr<socket_base> make_xsub(context_core& ctx, socket_type type) {
    return std::make_unique<xsub>(ctx, type);
}

} // namespace volley::detail
