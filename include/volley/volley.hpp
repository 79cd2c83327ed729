// SPDX-License-Identifier: MPL-2.0
// The whole public API of volley in one include.
#pragma once

#include <volley/context.hpp>
#include <volley/error.hpp>
#include <volley/message.hpp>
#include <volley/options.hpp>
#include <volley/poller.hpp>
#include <volley/proxy.hpp>
#include <volley/result.hpp>
#include <volley/socket.hpp>
#include <volley/version.hpp>

/// \namespace volley
/// volley's public API: a context, the sockets made from it, the messages they carry,
/// and the poller and proxy built on them. Everything in volley::detail is internal.
