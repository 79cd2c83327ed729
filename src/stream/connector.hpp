// SPDX-License-Identifier: MPL-2.0
// connector: a connected stream endpoint on a reactor. It makes connections
// for its session (session.hpp), which owns the socket's pipe and linger:
// while the session wants a connection, failed or lost ones are retried
// after reconnect_ivl, doubling up to reconnect_ivl_max, with jitter; host
// names are resolved again for every retry (on the reactor thread, blocking,
// as libzmq's I/O thread does). Each connection is a ZMTP engine.
#pragma once

#include "reactor.hpp"
#include "session.hpp"
#include "stream/stream_family.hpp"

#include <memory>
#include <optional>
#include <random>

namespace volley::detail {

class connector final : public io_handler, public session_owner {
public:
    // `address`: the endpoint after "<scheme>://", resolved again before each attempt after
    // the first; `peer`: what it resolved to at connect(), if it did. Makes its session
    // (and with it the socket's pipe) at once: call on the socket's thread, then start()
    // on the reactor's. Throws std::bad_alloc.
    connector(reactor& r, const stream_family& family, std::string address, std::optional<resolved_address> peer,
              std::shared_ptr<const endpoint_info> info);
    ~connector() override;

    // Reactor thread.
    void start();
    // Stops reconnecting. At context end (`context_end`) the session delivers what is
    // queued within the socket's linger; on disconnect the socket closes the pipe next,
    // with its linger, and that decides.
    void stop(stop_reason why) noexcept;

    void on_io(std::uint32_t events) noexcept override;
    void connection_lost(session& s, bool established, std::error_code why, std::string detail) noexcept override;
    void session_ended(session& s) noexcept override;

private:
    void attempt() noexcept;
    void connected() noexcept;
    void retry(std::error_code why, std::string detail) noexcept;
    void finish() noexcept;
    void abandon_attempt() noexcept;

    reactor& reactor_;
    const stream_family& family_;
    std::string address_;
    std::optional<resolved_address> peer_; // empty: resolve before the next attempt
    std::shared_ptr<const endpoint_info> info_;
    std::shared_ptr<session> session_;     // null once it ended
    int fd_ = -1;                          // a connect in progress
    reactor::timer_id retry_timer_;
    std::chrono::milliseconds next_ivl_;
    bool stopped_ = false;
    bool finished_ = false;
    std::minstd_rand jitter_;
};

} // namespace volley::detail
