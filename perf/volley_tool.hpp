// SPDX-License-Identifier: MPL-2.0
// What the volley builds of the perf tools share: reporting a failure the
// way libzmq's tools do ("error in <call>: <reason>", naming the endpoint for bind and
// connect) and a wrong size.
#pragma once

#include <volley/volley.hpp>

#include <cstdio>
#include <string>
#include <system_error>

namespace perf {

inline int fail(const char* what, const std::error_code& ec) {
    std::printf("error in %s: %s\n", what, ec.message().c_str());
    return 1;
}

inline int fail(const char* what, volley::errc e) {
    return fail(what, volley::make_error_code(e));
}

// bind or connect `s` at `endpoint`; on failure prints "error in bind: volley: bind
// '<endpoint>': <the cause>: <the code's message>" and returns false.
inline bool attach(volley::socket& s, bool bind, const std::string& endpoint) {
    try {
        if (bind)
            s.bind(endpoint);
        else
            s.connect(endpoint);
        return true;
    } catch (const std::system_error& e) {
        std::printf("error in %s: %s\n", bind ? "bind" : "connect", e.what());
        return false;
    }
}

inline int wrong_size() {
    std::printf("message of incorrect size received\n");
    return 1;
}

} // namespace perf
