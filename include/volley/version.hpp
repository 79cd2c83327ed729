// SPDX-License-Identifier: MPL-2.0
// The version of volley: the headers' at compile time (macros), the library's at run
// time (version()). CMake reads the project version from the three macros below, so
// this file is the one place it is kept.
#pragma once

#define VOLLEY_VERSION_MAJOR 0
#define VOLLEY_VERSION_MINOR 1
#define VOLLEY_VERSION_PATCH 0

#define VOLLEY_MAKE_VERSION(major, minor, patch) ((major) * 10000 + (minor) * 100 + (patch))
/// The headers' version as one number (10000 x major + 100 x minor + patch), as ZMQ_VERSION.
#define VOLLEY_VERSION VOLLEY_MAKE_VERSION(VOLLEY_VERSION_MAJOR, VOLLEY_VERSION_MINOR, VOLLEY_VERSION_PATCH)

namespace volley {

/// A version of volley.
struct version_info {
    int major;
    int minor;
    int patch;
    /// "major.minor.patch".
    const char* text;
};

/// The version of the library the program runs with. With the shared library this can
/// differ from the headers it was compiled against (VOLLEY_VERSION_*); within one major
/// version (and, while it is 0, one minor version) the two are compatible.
version_info version() noexcept;

} // namespace volley
