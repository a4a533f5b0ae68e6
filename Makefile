# accelbench: the README's two commands.
#   make run    installs missing Debian packages, builds in release, runs the default (quick) suite
#   make test   installs missing Debian packages, runs the test suite
# Extra arguments: make run ARGS="--suite standard --format csv"; make test TEST_ARGS="--filter Stream"

SWIFT ?= swift
APT_PACKAGES := libopenblas-dev libhwloc-dev pkg-config openssl
ARGS ?=
TEST_ARGS ?=

.PHONY: all deps build run test bench clean

all: build

# apt-get only when something is missing; as root directly, otherwise through sudo.
deps:
	@missing=""; \
	for p in $(APT_PACKAGES); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then sudo=""; \
	  elif command -v sudo >/dev/null 2>&1; then sudo="sudo"; \
	  else echo "error: missing Debian packages:$$missing. Install them as root: apt-get install$$missing" >&2; exit 1; fi; \
	  echo "installing Debian packages:$$missing"; \
	  $$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq $$missing; \
	fi

build: deps
	$(SWIFT) build -c release

run: build
	.build/release/accelbench run $(ARGS)

test: deps
	$(SWIFT) test --disable-xctest $(TEST_ARGS)

# Side-by-side comparisons (ratios in one run); see bench/README.md.
bench: build
	.build/release/accelbench run --suite standard --no-ceilings $(ARGS)

clean:
	rm -rf .build
