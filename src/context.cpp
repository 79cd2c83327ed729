// SPDX-License-Identifier: MPL-2.0
// volley::context, the public face of context_core.
#include <volley/context.hpp>

#include "context_core.hpp"

namespace volley {

context::context() : core_(std::make_shared<detail::context_core>()) {}

context::~context() {
    if (!core_) return;
    core_->shutdown(false);
    core_->join_io(); // connected peers get what is queued within linger, then the I/O thread ends
}

context::context(context&&) noexcept = default;

context& context::operator=(context&& other) noexcept {
    if (this != &other) {
        if (core_) { // the context assigned over ends as if destroyed
            core_->shutdown(false);
            core_->join_io();
        }
        core_ = std::move(other.core_);
    }
    return *this;
}

void context::shutdown() noexcept {
    if (core_) core_->shutdown(true);
}

bool context::is_shut_down() const noexcept {
    return !core_ || core_->is_shut_down();
}

} // namespace volley
