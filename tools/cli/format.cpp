// SPDX-License-Identifier: MPL-2.0
// Printing a message in each --format. See format.hpp.
#include "format.hpp"

namespace volley::cli {
namespace {

constexpr char digits[] = "0123456789abcdef";

void append_hex(std::string& out, unsigned char b) {
    out += digits[b >> 4];
    out += digits[b & 15];
}

void append_quoted(std::string& out, std::string_view bytes) {
    out += '"';
    for (const char ch : bytes) {
        const auto b = static_cast<unsigned char>(ch);
        switch (ch) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default:
            if (b >= 0x20 && b < 0x7f) {
                out += ch;
            } else {
                out += "\\x";
                append_hex(out, b);
            }
        }
    }
    out += '"';
}

} // namespace

std::string format_message(const multipart& m, output_format f) {
    std::string out;
    if (f == output_format::multipart) {
        for (std::size_t i = 0; i < m.size(); ++i) {
            if (i > 0) out += ' ';
            append_quoted(out, m[i].view());
        }
        return out;
    }
    std::string joined;
    for (const auto& frame : m) joined += frame.view();
    switch (f) {
    case output_format::raw: return joined;
    case output_format::quoted: append_quoted(out, joined); return out;
    case output_format::hex:
        out.reserve(joined.size() * 2);
        for (const char ch : joined) append_hex(out, static_cast<unsigned char>(ch));
        return out;
    case output_format::multipart: break;
    }
    return out;
}

} // namespace volley::cli
