// SPDX-License-Identifier: MPL-2.0
#include <volley/version.hpp>

namespace volley {

#define VOLLEY_STR_(x) #x
#define VOLLEY_STR(x) VOLLEY_STR_(x)

version_info version() noexcept {
    return {VOLLEY_VERSION_MAJOR, VOLLEY_VERSION_MINOR, VOLLEY_VERSION_PATCH,
            VOLLEY_STR(VOLLEY_VERSION_MAJOR) "." VOLLEY_STR(VOLLEY_VERSION_MINOR) "." VOLLEY_STR(VOLLEY_VERSION_PATCH)};
}

} // namespace volley
