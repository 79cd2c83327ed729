// SPDX-License-Identifier: MPL-2.0
// The connection driver's definitions, for a transport's one explicit
// instantiation of driver<its wire> (see driver.hpp). Include it in that one
// file only: `template class driver<stream_wire>;`.
#pragma once

#include "driver/driver.hpp"
#include "monitor_queue.hpp"
#include "peer_text.hpp"
#include "pipe.hpp"
#include "precise_timer.hpp"
#include "registry.hpp"
#include "zmtp/commands.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <sys/epoll.h>

#include "driver/driver_life.ipp"
#include "driver/driver_input.ipp"
#include "driver/driver_output.ipp"
