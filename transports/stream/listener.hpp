// SPDX-License-Identifier: MPL-2.0
// listener: a bound stream endpoint on a reactor. It accepts connections
// and gives each one a session and a stream connection; the session makes its pipe to
// the socket only once the peer's handshake succeeded, so a bad peer never
// reaches the socket. Stopping (unbind, close, context end) closes the
// listening socket and the connections still in handshake; established ones
// end with their pipes, which the socket closes.
#pragma once

#include "reactor.hpp"
#include "stream/stream_family.hpp"
#include "session.hpp"

#include <memory>
#include <unordered_set>

namespace volley::detail {

class listener final : public io_handler, public session_owner {
public:
    listener(reactor& r, const stream_family& family, int fd, resolved_address bound,
             std::shared_ptr<const endpoint_info> info);
    ~listener() override;

    // Reactor thread: watches the listening socket; the error when epoll refuses it.
    std::error_code start() noexcept;
    // Stops accepting and closes connections still in the handshake. At context end
    // (`context_end`) established connections too flush within the socket's linger and
    // close; on unbind they end with their pipes, which the socket closes.
    void stop(stop_reason why) noexcept;

    void on_io(std::uint32_t events) noexcept override;
    void connection_lost(session&, bool, std::error_code, std::string) noexcept override {} // accepted: never
    void session_ended(session& s) noexcept override;

private:
    void retire_if_done() noexcept;
    void resume_accepting() noexcept;

    reactor& reactor_;
    const stream_family& family_;
    int fd_;
    resolved_address bound_;
    std::shared_ptr<const endpoint_info> info_;
    std::unordered_set<session*> sessions_;
    reactor::timer_id backoff_timer_;
    bool stopped_ = false;
};

} // namespace volley::detail
