// SPDX-License-Identifier: MPL-2.0
// XPUB (RFC 29, PUBSUB): a PUB (see publisher.hpp) that also hands the
// application its subscribers' subscriptions, as libzmq does: a message of
// 0x01 then the topic for a subscription (the first to that topic, or every
// one with xpub_verbose), 0x00 then the topic when the last subscription to a
// topic goes (cancelled, or its subscriber gone). Other messages subscribers
// send are delivered as they are. A proxy forwards these upstream through an
// XSUB. While the application does not read them, at most rcvhwm (1000 when
// 0) wait here; the rest wait in the subscribers' pipes, unread.
#include "publisher.hpp"

#include <cstring>
#include <deque>

namespace volley::detail {
namespace {

class xpub final : public publisher {
public:
    using publisher::publisher;

private:
    void subscribed(std::string_view topic, bool first) override {
        if (first || options().xpub_verbose) notice(1, topic);
    }
    void unsubscribed(std::string_view topic, bool last) override {
        if (last) notice(0, topic);
    }
    void peer_frame(message&& m) override {
        if (!m.more()) ++queued_;
        frames_.push_back(std::move(m));
    }
    bool room() const noexcept override {
        const int hwm = options().rcvhwm;
        return queued_ < static_cast<std::size_t>(hwm > 0 ? hwm : 1000);
    }

    void notice(std::uint8_t kind, std::string_view topic) {
        message m(topic.size() + 1);
        m.data()[0] = std::byte{kind};
        if (!topic.empty()) std::memcpy(m.data() + 1, topic.data(), topic.size());
        frames_.push_back(std::move(m));
        ++queued_;
    }

    errc on_recv(message& m) override {
        if (frames_.empty()) return errc::would_block;
        m = std::move(frames_.front());
        frames_.pop_front();
        if (!m.more()) {
            --queued_;
            resume(); // subscribers' input that waited for room
        }
        return {};
    }

    std::deque<message> frames_; // subscriptions and subscribers' messages, for the application
    std::size_t queued_ = 0;     // whole messages in frames_
};

} // namespace

std::unique_ptr<socket_base> make_xpub(context_core& ctx, socket_type type) {
    return std::make_unique<xpub>(ctx, type);
}

} // namespace volley::detail
