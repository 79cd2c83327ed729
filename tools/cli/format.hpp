// SPDX-License-Identifier: MPL-2.0
// How the volley tool prints a received message: one message per line, in
// the --format the user chose. Only raw passes the bytes through unchanged;
// the others can show any byte (and multipart the frame boundaries) on one line.
#pragma once

#include "args.hpp"

#include <volley/message.hpp>

#include <string>

namespace volley::cli {

// `m` as one line (without the newline) in format `f`:
//   raw        the frames' bytes, joined
//   quoted     "..." with \" \\ \n \r \t and \xHH for any other byte outside printable ASCII
//   hex        two lower-case hex digits per byte, frames joined
//   multipart  each frame quoted, separated by one space ("" for an empty frame)
std::string format_message(const multipart& m, output_format f);

} // namespace volley::cli
