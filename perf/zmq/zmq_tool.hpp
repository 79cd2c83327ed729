// SPDX-License-Identifier: MPL-2.0
// What the libzmq builds of the perf tools share: reporting a failed call
// with zmq_strerror, as libzmq's own tools do, and a wrong size.
#pragma once

#include <zmq.h>

#include <cstdio>

namespace perf {

inline int fail(const char* what) {
    std::printf("error in %s: %s\n", what, zmq_strerror(zmq_errno()));
    return 1;
}

inline int wrong_size() {
    std::printf("message of incorrect size received\n");
    return 1;
}

} // namespace perf
