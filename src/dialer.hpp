// SPDX-License-Identifier: MPL-2.0
// dialer: the connect side of an endpoint, the same for every connection-oriented
// transport (nng's dialer.c is the model). It owns the endpoint's session (and with it
// the socket's pipe, made at once so that sends queue before the first connection) and
// the policy of reconnecting: while the session wants a connection, a failed attempt or a
// lost connection is tried again after a back-off (backoff.hpp); reconnect_ivl -1 ends the
// endpoint with its first connection (monitor: closed). What one attempt is belongs to the
// transport: a subclass implements attempt() and abandon(), and reports a failed attempt
// with attempt_failed(); a connection it makes goes to the session, which reports its end
// back here (connection_lost).
//
// Reactor thread, except the constructor (the socket's thread, in connect()).
#pragma once

#include "backoff.hpp"
#include "reactor.hpp"
#include "session.hpp"

#include <memory>
#include <string>

namespace volley::detail {

class dialer : public io_handler, public session_owner {
public:
    ~dialer() override = default;

    // Adopts the session and makes the first attempt. Throws std::bad_alloc.
    void start();
    // Stops reconnecting. At context end the session delivers what is queued within the
    // socket's linger; on disconnect the socket closes the pipe next, with its linger, and
    // that decides.
    void stop(stop_reason why) noexcept;

    void connection_lost(session& s, bool established, std::error_code why, std::string detail) noexcept override;
    void session_ended(session& s) noexcept override;

protected:
    // Makes the session (and the socket's pipe). Throws std::bad_alloc.
    dialer(reactor& r, std::shared_ptr<const endpoint_info> info);

    // One attempt to connect; called only while the session wants a connection. The
    // transport reports a failure with attempt_failed().
    virtual void attempt() noexcept = 0;
    // Drops an attempt in progress: the dialer is finishing.
    virtual void abandon() noexcept = 0;
    // The attempt failed: tries again after the back-off, or ends the endpoint.
    void attempt_failed(std::error_code why, std::string detail) noexcept;

    reactor& reactor_;
    const std::shared_ptr<const endpoint_info> info_;
    std::shared_ptr<session> session_;

private:
    void next_attempt() noexcept;
    void finish() noexcept;

    backoff backoff_;
    reactor::timer_id retry_timer_;
    bool stopped_ = false;
    bool finished_ = false;
};

} // namespace volley::detail
