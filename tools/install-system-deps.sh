#!/bin/sh
# The Debian/Ubuntu packages Desktop BP needs, in one place: the README's two commands and
# .ci/run all call this script, so the list cannot drift between them.
#
#   sh tools/install-system-deps.sh           what the app needs to open its window
#   sh tools/install-system-deps.sh --test    ... and what the test suite needs (a real X server)
#   sh tools/install-system-deps.sh --ci      ... and a full-size IDX data set for the loader tests
#
# Works as root (no sudo needed) and as a user with sudo; installs only what is missing and
# updates the package lists only when an install needs it (a fresh machine has none).
# On a system without apt-get (macOS, Windows, other Linux families) it prints a note and exits 0:
# Qt's wheels bring their own libraries there, and on other Linux families the names differ.
set -eu

# What Qt's xcb platform plugin (PySide6/Qt/plugins/platforms/libqxcb.so) and the Qt libraries
# it loads link against, found with `ldd` and mapped to packages with `dpkg -S`. A fresh
# Debian 12, Ubuntu 22.04 or 24.04 lacks most of them; without fonts every glyph is a box.
# The Wayland client libraries are for Qt's wayland plugin, which a Wayland session (WSLg too)
# tries before xcb.
# Keep in step with desktop_bp/display_check.py (the soname -> package table for the error
# message at start).
QT_PACKAGES="libegl1 libgl1 libglib2.0-0|libglib2.0-0t64 libfontconfig1 libfreetype6 libdbus-1-3
  libxkbcommon0 libxkbcommon-x11-0 libx11-6 libx11-xcb1 libxcb1 libxcb-cursor0 libxcb-glx0
  libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-randr0 libxcb-render0 libxcb-render-util0
  libxcb-shape0 libxcb-shm0 libxcb-sync1 libxcb-util1 libxcb-xfixes0 libxcb-xkb1
  libwayland-client0 libwayland-cursor0 libwayland-egl1
  fonts-dejavu-core"
# The real-display test starts an X server, drives the window with X input events and reads
# its pixels back.
TEST_PACKAGES="xvfb xdotool imagemagick"
# CI also tests the IDX loader on Debian's full-size Fashion-MNIST files.
CI_PACKAGES="dataset-fashion-mnist"

wanted="$QT_PACKAGES"
for arg in "$@"; do
  case "$arg" in
    --test) wanted="$wanted $TEST_PACKAGES" ;;
    --ci) wanted="$wanted $TEST_PACKAGES $CI_PACKAGES" ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "install-system-deps: unknown option $arg (see --help)" >&2; exit 2 ;;
  esac
done

if ! command -v apt-get >/dev/null 2>&1 || ! command -v dpkg-query >/dev/null 2>&1; then
  echo "install-system-deps: no apt-get here; skipping system packages (on Linux, install" \
    "Qt 6's xcb libraries and a font with your package manager)" >&2
  exit 0
fi

missing=""
for entry in $wanted; do
  # "a|b": installed when either name is (Ubuntu 24.04 renamed libglib2.0-0 to libglib2.0-0t64,
  # and the old name is only a virtual one that dpkg never reports installed); install the first,
  # which apt-get resolves on every release.
  found=""
  for package in $(echo "$entry" | tr '|' ' '); do
    status=$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)
    case "$status" in *"install ok installed"*) found=1 ;; esac
  done
  [ -n "$found" ] || missing="$missing ${entry%%|*}"
done
# Debian and Ubuntu ship Python without ensurepip: `python3 -m venv` needs python3-venv.
if ! python3 -c "import ensurepip, venv" >/dev/null 2>&1; then
  missing="$missing python3-venv"
fi
[ -n "$missing" ] || exit 0

if [ "$(id -u)" = 0 ]; then
  as_root=""
elif command -v sudo >/dev/null 2>&1; then
  as_root="sudo"
else
  echo "install-system-deps: these packages are missing and there is no sudo; as root run:" >&2
  echo "  apt-get update && apt-get install -y$missing" >&2
  exit 1
fi

install() {
  # shellcheck disable=SC2086  # the package list is meant to split into words
  $as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
    $missing
}
update() {
  $as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
}
echo "install-system-deps: installing$missing" >&2
# A fresh machine (or container image) has no package lists: fetch them first instead of letting
# apt-get print "Unable to locate package" for every name. Old lists may point at files the
# mirror no longer holds, so a failed install is retried once after an update.
if ls /var/lib/apt/lists/ 2>/dev/null | grep -q '_Packages'; then
  install || { update && install; }
else
  update && install
fi
