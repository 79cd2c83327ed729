#!/usr/bin/env python3
# SPDX-License-Identifier: MPL-2.0
"""Compiles every ```cpp block of one Markdown file, and runs those that are programs.

    snippets.py FILE.md --cxx g++ --include DIR --lib LIBVOLLEY.so --work DIR [--flags "..."]

A block holding `int main(` is a whole program: compiled, linked against libvolley and run
(at most 20 s; it must exit 0), unless its first line is `// doc: compile-only`. Any other
block is a fragment: its #include lines go to the top, the rest becomes the body of a
function, and all fragments of the file are compiled together as one translation unit,
checked but not linked. `#line` directives point the compiler's messages at the Markdown
file's own lines. Exit 0 when every block passed, 1 otherwise (each failure printed).
"""

import argparse
import concurrent.futures
import os
import pathlib
import re
import subprocess
import sys

RUN_TIMEOUT_S = 20
COMPILE_ONLY = "// doc: compile-only"
WARNINGS = ["-Wall", "-Wextra", "-Werror"]
FRAGMENT_PRELUDE = """#include <volley/volley.hpp>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>
using namespace std::chrono_literals;
"""


class Block:
    def __init__(self, path, line, text):
        self.path, self.line, self.text = path, line, text  # line: of the block's first code line

    @property
    def program(self):
        return re.search(r"\bint\s+main\s*\(", self.text) is not None

    @property
    def runs(self):
        return self.program and not self.text.lstrip().startswith(COMPILE_ONLY)

    def where(self):
        return f"{self.path}:{self.line}"


def cpp_blocks(path):
    """The ```cpp fenced blocks of a Markdown file, with the line each starts on."""
    blocks, current, start, fence = [], None, 0, ""
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        stripped = line.strip()
        if current is None:
            m = re.match(r"^(`{3,}|~{3,})\s*(\S*)", stripped)
            if m:
                fence = m.group(1)
                current = [] if m.group(2) == "cpp" else False
                start = number + 1
        elif stripped.startswith(fence) and stripped.strip(fence[0]) == "":
            if current is not False:
                blocks.append(Block(path, start, "\n".join(current) + "\n"))
            current = None
        elif current is not False:
            current.append(line)
    if current not in (None, False):
        raise SystemExit(f"{path}:{start}: a ```cpp block is never closed")
    return blocks


def line_directive(block, offset=0):
    return f'#line {block.line + offset} "{block.path}"\n'


def fragments_source(blocks):
    """One translation unit: each fragment the body of its own function."""
    includes, bodies = [], []
    for i, b in enumerate(blocks):
        body = []
        for n, line in enumerate(b.text.splitlines()):
            if line.lstrip().startswith("#include"):
                includes.append(line_directive(b, n) + line + "\n")
                body.append("")  # keeps the #line numbering of what follows
            else:
                body.append(line)
        bodies.append(f"[[maybe_unused]] static void doc_fragment_{i}() {{\n"
                      + line_directive(b) + "\n".join(body) + "\n}\n")
    return FRAGMENT_PRELUDE + "".join(includes) + "".join(bodies)


def compile_cmd(args, src, out, link):
    cmd = [args.cxx, "-std=c++20", *WARNINGS, *args.flags.split(), "-I", args.include, str(src)]
    if link:
        lib = pathlib.Path(args.lib)
        cmd += ["-o", str(out), str(lib), f"-Wl,-rpath,{lib.parent}", "-pthread"]
    else:
        cmd += ["-fsyntax-only", "-Wno-unused"]
    return cmd


def check_program(args, index, block):
    """Compiles one whole program and runs it; returns a failure text or None."""
    work = pathlib.Path(args.work)
    src, exe = work / f"program_{index}.cpp", work / f"program_{index}"
    src.write_text(line_directive(block) + block.text, encoding="utf-8")
    built = subprocess.run(compile_cmd(args, src, exe, link=True), capture_output=True, text=True)
    if built.returncode != 0:
        return f"{block.where()}: the program does not compile:\n{built.stderr}"
    if not block.runs:
        return None
    try:
        ran = subprocess.run([str(exe)], capture_output=True, text=True, timeout=RUN_TIMEOUT_S, cwd=work)
    except subprocess.TimeoutExpired:
        return f"{block.where()}: the program did not end within {RUN_TIMEOUT_S} s"
    if ran.returncode != 0:
        return (f"{block.where()}: the program exited with {ran.returncode}\n"
                f"--- stdout\n{ran.stdout}--- stderr\n{ran.stderr}")
    return None


def check_fragments(args, blocks):
    if not blocks:
        return None
    src = pathlib.Path(args.work) / "fragments.cpp"
    src.write_text(fragments_source(blocks), encoding="utf-8")
    built = subprocess.run(compile_cmd(args, src, None, link=False), capture_output=True, text=True)
    if built.returncode != 0:
        return f"{blocks[0].path}: fragments do not compile:\n{built.stderr}"
    return None


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("markdown")
    p.add_argument("--cxx", required=True)
    p.add_argument("--include", required=True)
    p.add_argument("--lib", required=True, help="libvolley.so to link programs against")
    p.add_argument("--work", required=True, help="a folder for sources and programs")
    p.add_argument("--flags", default="", help="more compiler flags (sanitizers)")
    args = p.parse_args()

    path = pathlib.Path(args.markdown)
    os.makedirs(args.work, exist_ok=True)
    blocks = cpp_blocks(path)
    programs = [b for b in blocks if b.program]
    fragments = [b for b in blocks if not b.program]

    with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        jobs = [pool.submit(check_fragments, args, fragments)]
        jobs += [pool.submit(check_program, args, i, b) for i, b in enumerate(programs)]
        failures = [f for f in (j.result() for j in jobs) if f]

    ran = sum(1 for b in programs if b.runs)
    print(f"{path}: {len(fragments)} fragments, {len(programs)} programs ({ran} run)"
          + (f"; {len(failures)} failed" if failures else ""))
    for f in failures:
        print(f, file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
