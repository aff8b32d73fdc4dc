# SPDX-License-Identifier: LGPL-2.1-or-later
# The front doors of kith. Each target installs the Debian packages it needs
# (listed once, in data/debian-packages.txt), then hands over to meson.

BUILD       ?= build
BUILD_ASAN  ?= build-asan
BUILD_CLANG ?= build-clang
MESON_EXTRA ?=
PACKAGES    := $(shell grep -v '^\#' data/debian-packages.txt)
SUDO        := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: all deps build check check-asan check-clang demo bench clean

all: build

deps:
	@missing=$$(for p in $(PACKAGES); do \
	    dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; \
	  done); \
	if [ -n "$$missing" ]; then \
	  echo "Installing missing Debian packages:" $$missing; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi

$(BUILD)/build.ninja: | deps
	meson setup $(BUILD) $(MESON_EXTRA)

build: deps $(BUILD)/build.ninja
	meson compile -C $(BUILD)

check: build
	meson test -C $(BUILD) --verbose --num-processes 2

$(BUILD_ASAN)/build.ninja: | deps
	meson setup $(BUILD_ASAN) $(MESON_EXTRA) -Db_sanitize=address,undefined -Db_lundef=false

check-asan: deps $(BUILD_ASAN)/build.ninja
	meson compile -C $(BUILD_ASAN)
	meson test -C $(BUILD_ASAN) --verbose --num-processes 2 --timeout-multiplier 3

# the same tests built by clang: the code must stay warning-free under both compilers
$(BUILD_CLANG)/build.ninja: | deps
	CC=clang meson setup $(BUILD_CLANG) $(MESON_EXTRA)

check-clang: deps $(BUILD_CLANG)/build.ninja
	meson compile -C $(BUILD_CLANG)
	meson test -C $(BUILD_CLANG) --print-errorlogs --num-processes 2

demo: build
	tests/demo.sh $(BUILD)
	tests/demo-upload.sh $(BUILD)

bench: build
	bench/run.sh $(BUILD)

clean:
	rm -rf $(BUILD) $(BUILD_ASAN) $(BUILD_CLANG)
