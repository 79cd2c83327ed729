// SPDX-License-Identifier: MPL-2.0
// The version of volley: the headers' at compile time (macros), the library's at run
// time (version()). CMake reads the project version from the three macros below, so
// this file is the one place it is kept.
#pragma once

/// \file
/// The headers' version (VOLLEY_VERSION_*) and the library's (volley::version()).

/// The headers' major version.
#define VOLLEY_VERSION_MAJOR 0
/// The headers' minor version.
#define VOLLEY_VERSION_MINOR 1
/// The headers' patch version.
#define VOLLEY_VERSION_PATCH 0

/// A version as one number, to compare with VOLLEY_VERSION:
/// `#if VOLLEY_VERSION >= VOLLEY_MAKE_VERSION(0, 2, 0)`.
#define VOLLEY_MAKE_VERSION(major, minor, patch) ((major) * 10000 + (minor) * 100 + (patch))
/// The headers' version as one number (10000 x major + 100 x minor + patch), as ZMQ_VERSION.
#define VOLLEY_VERSION VOLLEY_MAKE_VERSION(VOLLEY_VERSION_MAJOR, VOLLEY_VERSION_MINOR, VOLLEY_VERSION_PATCH)

namespace volley {

/// A version of volley.
struct version_info {
    int major; ///< incremented for incompatible changes
    int minor; ///< incremented for additions (while major is 0, for incompatible changes too)
    int patch; ///< incremented for fixes
    /// "major.minor.patch".
    const char* text;
};

/// The version of the library the program runs with. With the shared library this can
/// differ from the headers it was compiled against (VOLLEY_VERSION_*); within one major
/// version (and, while it is 0, one minor version) the two are compatible.
version_info version() noexcept;

} // namespace volley
