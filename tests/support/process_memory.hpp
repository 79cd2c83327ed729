// SPDX-License-Identifier: MPL-2.0
// This process's memory as the kernel counts it (/proc/self/status), for
// tests that assert a bound on what a hostile peer can make us hold: the
// resident set (pages touched) and the virtual size (address space reserved,
// which a host with strict overcommit charges as real).
#pragma once

#include <cstddef>
#include <fstream>
#include <string>

namespace support {

// The value of a "Vm...:  N kB" line of /proc/self/status, in bytes; 0 if absent.
inline std::size_t proc_status_bytes(const std::string& field) {
    std::ifstream in("/proc/self/status");
    std::string line;
    while (std::getline(in, line)) {
        if (line.compare(0, field.size() + 1, field + ":") == 0) return std::stoull(line.substr(field.size() + 1)) * 1024;
    }
    return 0;
}

inline std::size_t resident_bytes() { return proc_status_bytes("VmRSS"); }
inline std::size_t virtual_bytes() { return proc_status_bytes("VmSize"); }

inline constexpr std::size_t mib = std::size_t{1} << 20;

// ThreadSanitizer keeps shadow memory for every byte the program touches, and it shows in
// the resident set: several bytes of it per byte we hold. Memory bounds are multiplied by
// this, so that under TSan they still tell a bound from growth without one.
#if defined(__SANITIZE_THREAD__)
inline constexpr std::size_t sanitizer_memory_factor = 8;
#else
inline constexpr std::size_t sanitizer_memory_factor = 1;
#endif

} // namespace support
