// SPDX-License-Identifier: MPL-2.0
#include <volley/version.hpp>

#include <doctest/doctest.h>

#include <string>

TEST_CASE("version(): the library's version is the headers', and its text is major.minor.patch") {
    const auto v = volley::version();
    CHECK(v.major == VOLLEY_VERSION_MAJOR);
    CHECK(v.minor == VOLLEY_VERSION_MINOR);
    CHECK(v.patch == VOLLEY_VERSION_PATCH);
    CHECK(std::string(v.text) ==
          std::to_string(v.major) + "." + std::to_string(v.minor) + "." + std::to_string(v.patch));
    CHECK(VOLLEY_VERSION == v.major * 10000 + v.minor * 100 + v.patch);
    static_assert(VOLLEY_MAKE_VERSION(1, 2, 3) == 10203);
}
