#!/bin/sh
# SPDX-License-Identifier: MPL-2.0
# consumer_test.sh <volley build dir> <scratch dir> <c++ compiler> [sanitizers]
# Installs the build into a scratch prefix, then builds and runs an outside project
# against it: with find_package (shared and static) and with pkg-config (shared and
# --static), as Debian packages (cpack), and as a subproject built from source. Fails, naming the step, if any of it
# does not work.
set -eu
build=$1 work=$2 cxx=$3 san=${4:-}
here=$(cd "$(dirname "$0")" && pwd)
prefix=$work/prefix
rm -rf "$work" && mkdir -p "$work"
flags=""
[ -n "$san" ] && flags="-fsanitize=$san -fno-omit-frame-pointer"
step() { echo "consumer: $*"; }

step "cmake --install $build --prefix $prefix"
cmake --install "$build" --prefix "$prefix" >"$work/install.log"
for f in include/volley/volley.hpp include/volley/version.hpp lib/libvolley.a lib/pkgconfig/volley.pc \
         lib/cmake/volley/volleyConfig.cmake lib/cmake/volley/volleyConfigVersion.cmake; do
  [ -e "$prefix/$f" ] || { echo "consumer: $f was not installed"; exit 1; }
done
ls "$prefix"/lib/libvolley.so.* >/dev/null || { echo "consumer: no versioned libvolley.so"; exit 1; }
version=$(sed -n 's/^#define VOLLEY_VERSION_\(MAJOR\|MINOR\|PATCH\) //p' "$prefix/include/volley/version.hpp" | paste -sd.)

step "the installed library exports the public API only (cmake/volley.map)"
exports=$(nm -D --defined-only -C "$prefix/lib/libvolley.so")
echo "$exports" | grep -q "volley::socket::send" || { echo "consumer: libvolley.so does not export volley::socket"; exit 1; }
if echo "$exports" | grep -E "[TWV] (volley::(detail|transport)::|std::)"; then
  echo "consumer: libvolley.so exports internals (above)"; exit 1
fi

step "the installed volley tool runs, on the installed library"
[ "$("$prefix/bin/volley" --version)" = "volley $version" ] || { echo "consumer: $prefix/bin/volley --version fails"; exit 1; }
# (through its rpath, $ORIGIN/../lib: ldd shows "$prefix/bin/../lib/libvolley.so...")
ldd "$prefix/bin/volley" | grep -q "$prefix/bin/../lib/libvolley.so" ||
  { echo "consumer: $prefix/bin/volley does not load $prefix/lib/libvolley.so"; exit 1; }

step "find_package(volley) from an outside project"
gen=""
command -v ninja >/dev/null && gen="-G Ninja"
cmake -S "$here/project" -B "$work/cmake" $gen -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_CXX_COMPILER="$cxx" \
      -DCMAKE_CXX_FLAGS="$flags" -DCMAKE_EXE_LINKER_FLAGS="$flags" >"$work/configure.log"
cmake --build "$work/cmake" >"$work/build.log"
"$work/cmake/hello_shared"
"$work/cmake/hello_static"
# The shared one really uses the installed library (found through its rpath).
ldd "$work/cmake/hello_shared" | grep -q "$prefix/lib/libvolley.so" ||
  { echo "consumer: hello_shared does not load $prefix/lib/libvolley.so"; exit 1; }

step "find_package(volley 9.0) is refused (the package is $version)"
if cmake -S "$here/project" -B "$work/cmake-9" $gen -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_CXX_COMPILER="$cxx" \
         -DVOLLEY_WANT=9.0 >"$work/configure-9.log" 2>&1; then
  echo "consumer: find_package(volley 9.0) succeeded"; exit 1
fi
grep -q 'requested version "9.0"' "$work/configure-9.log" ||
  { echo "consumer: find_package(volley 9.0) failed for another reason:"; cat "$work/configure-9.log"; exit 1; }

step "pkg-config"
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
[ "$(pkg-config --modversion volley)" = "$version" ] ||
  { echo "consumer: volley.pc says $(pkg-config --modversion volley), version.hpp $version"; exit 1; }
# shellcheck disable=SC2046
"$cxx" -std=c++20 $flags -o "$work/hello_pc" "$here/project/hello.cpp" $(pkg-config --cflags --libs volley) \
       -Wl,-rpath,"$prefix/lib"
"$work/hello_pc"
# shellcheck disable=SC2046
"$cxx" -std=c++20 $flags -o "$work/hello_pc_static" "$here/project/hello.cpp" \
       $(pkg-config --cflags volley) "$prefix/lib/libvolley.a" $(pkg-config --libs-only-other --static volley) \
       $(pkg-config --libs-only-l --static volley | sed 's/-lvolley\b//') # what it needs besides (rdma)
"$work/hello_pc_static"
if ldd "$work/hello_pc_static" | grep -q libvolley.so; then echo "consumer: hello_pc_static loads libvolley.so"; exit 1; fi
step "cpack -G DEB: libvolley, libvolley-dev and volley-tools"
(cd "$work" && cpack -G DEB --config "$build/CPackConfig.cmake" -B "$work/deb" >"$work/cpack.log" 2>&1) ||
  { tail -20 "$work/cpack.log"; exit 1; }
runtime=$(ls "$work"/deb/libvolley_"$version"_*.deb) && dev=$(ls "$work"/deb/libvolley-dev_"$version"_*.deb) ||
  { echo "consumer: cpack made $(ls "$work/deb")"; exit 1; }
dpkg-deb -c "$runtime" >"$work/runtime.list" && dpkg-deb -c "$dev" >"$work/dev.list"
grep -q "libvolley.so.$version" "$work/runtime.list" || { echo "consumer: $runtime lacks the library"; exit 1; }
if grep -q "include/volley" "$work/runtime.list"; then echo "consumer: $runtime holds headers"; exit 1; fi
for f in include/volley/volley.hpp libvolley.a volleyConfig.cmake volley.pc "libvolley.so ->"; do
  grep -q "$f" "$work/dev.list" || { echo "consumer: $dev lacks $f"; exit 1; }
done
dpkg-deb -f "$dev" Depends | grep -q "libvolley (= $version)" || { echo "consumer: $dev does not depend on libvolley"; exit 1; }
tools=$(ls "$work"/deb/volley-tools_"$version"_*.deb) || { echo "consumer: cpack made no volley-tools"; exit 1; }
dpkg-deb -c "$tools" | grep -q "bin/volley$" || { echo "consumer: $tools lacks bin/volley"; exit 1; }
dpkg-deb -f "$tools" Depends | grep -q "libvolley (= $version)" || { echo "consumer: $tools does not depend on libvolley"; exit 1; }

step "add_subdirectory(volley) from an outside project, without the test and perf packages"
cmake -S "$here/subproject" -B "$work/sub" $gen --no-warn-unused-cli -DVOLLEY_SOURCE_DIR="$here/../.." -DCMAKE_CXX_COMPILER="$cxx" \
      -DCMAKE_CXX_FLAGS="$flags" -DCMAKE_EXE_LINKER_FLAGS="$flags" -DCMAKE_SHARED_LINKER_FLAGS="$flags" \
      -DCMAKE_DISABLE_FIND_PACKAGE_doctest=ON -DCMAKE_DISABLE_FIND_PACKAGE_benchmark=ON \
      -DCMAKE_DISABLE_FIND_PACKAGE_cppzmq=ON -DCMAKE_DISABLE_FIND_PACKAGE_PkgConfig=ON >"$work/sub-configure.log" ||
  { cat "$work/sub-configure.log"; exit 1; }
cmake --build "$work/sub" --target hello >"$work/sub-build.log" || { tail -20 "$work/sub-build.log"; exit 1; }
"$work/sub/hello"
step "all passed"
