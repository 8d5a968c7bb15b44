#!/usr/bin/env bash
# Install the Debian/Ubuntu packages Billbridge needs outside Python, skipping those already present.
#
#   scripts/install_system_packages.sh            # runtime packages
#   scripts/install_system_packages.sh --docs     # also the tools that regenerate docs/samples/*.png
#   scripts/install_system_packages.sh --test     # also Chromium for the browser tests
#   scripts/install_system_packages.sh --bench    # also wrk, the load tool of bench/api.py
#
# Runtime: weasyprint (bill templates, billers/bill_pdf.py) loads Pango, HarfBuzz and fontconfig
# through ctypes/cffi, and the bill templates name real fonts (Liberation Sans, DejaVu as fallback).
# Docs: pdftoppm (poppler-utils) turns a rendered bill into the PNG under docs/samples/.
# Idempotent: prints "nothing to install" when every package is there; runs apt-get only otherwise.
set -euo pipefail

RUNTIME_PACKAGES=(
  libpango-1.0-0        # weasyprint: text layout
  libpangoft2-1.0-0     # weasyprint: Pango's fontconfig/FreeType backend
  libharfbuzz0b         # weasyprint: text shaping
  libharfbuzz-subset0   # weasyprint: font subsetting in PDFs
  libfontconfig1        # weasyprint: font lookup
  fonts-liberation      # bill templates: "Liberation Sans"
  fonts-dejavu-core     # fallback font (weasyprint's own default)
)
TEST_PACKAGES=(
  chromium              # browser tests drive the admin in headless Chromium (tests/browser/)
)
BENCH_PACKAGES=(
  wrk                   # bench/api.py drives the API from a second process
)
DOCS_PACKAGES=(
  poppler-utils         # pdftoppm, pdftotext: docs/samples/bill_utility_default.png
)

packages=("${RUNTIME_PACKAGES[@]}")
for arg in "$@"; do
  case "$arg" in
    --docs) packages+=("${DOCS_PACKAGES[@]}") ;;
    --test) packages+=("${TEST_PACKAGES[@]}") ;;
    --bench) packages+=("${BENCH_PACKAGES[@]}") ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) echo "unknown option: $arg (see --help)" >&2; exit 2 ;;
  esac
done

if ! command -v dpkg-query >/dev/null 2>&1; then
  echo "dpkg-query not found: install the equivalents of ${packages[*]} with your system's package manager" >&2
  exit 1
fi

missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done

if [ "${#missing[@]}" -eq 0 ]; then
  echo "system packages: nothing to install (${#packages[@]} present)"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "need root (or sudo) to install: ${missing[*]}" >&2
    exit 1
  fi
fi
echo "system packages: installing ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
