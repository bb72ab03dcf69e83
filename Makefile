# auditbot: the two commands a newcomer needs.
#   make run   installs what is missing, builds, starts a local Redis (data in var/) and the
#              bot: the console chat when no Slack/Teams credentials are set, else `serve`.
#   make test  installs what is missing, builds (warnings are errors) and runs every test.

BUILD_DIR   ?= build
BUILD_TYPE  ?= RelWithDebInfo
JOBS        ?= $(shell nproc)
REDIS_PORT  ?= 6399
CONFIG      ?= config/auditbot.yaml
CMAKE_FLAGS ?=

.PHONY: run test deps build build-test redis stop-redis format tidy bench clean

deps:
	@scripts/install-deps.sh

build: deps
	@cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) -DAUDITBOT_TESTS=OFF $(CMAKE_FLAGS) >/dev/null
	@cmake --build $(BUILD_DIR) --target auditbot -j $(JOBS)

build-test: deps
	@cmake -S . -B $(BUILD_DIR)-test -G Ninja -DCMAKE_BUILD_TYPE=Debug -DAUDITBOT_TESTS=ON -DAUDITBOT_WERROR=ON $(CMAKE_FLAGS) >/dev/null
	@cmake --build $(BUILD_DIR)-test -j $(JOBS)

# A local Redis with AOF on, its data kept in var/redis between runs.
redis: deps
	@mkdir -p var/redis
	@if redis-cli -p $(REDIS_PORT) ping >/dev/null 2>&1; then echo "redis: already running on 127.0.0.1:$(REDIS_PORT)"; \
	else redis-server --port $(REDIS_PORT) --bind 127.0.0.1 --dir $(CURDIR)/var/redis --appendonly yes \
	  --appendfsync everysec --save "" --daemonize yes --logfile $(CURDIR)/var/redis/redis.log \
	  --pidfile $(CURDIR)/var/redis/redis.pid && echo "redis: started on 127.0.0.1:$(REDIS_PORT), data in var/redis"; fi

stop-redis:
	@redis-cli -p $(REDIS_PORT) shutdown 2>/dev/null || true

run: build redis
	@if [ -n "$$SLACK_BOT_TOKEN$$SLACK_BOT_TOKEN_FILE$$SLACK_APP_TOKEN$$TEAMS_APP_ID" ]; then \
	  REDIS_URL=$${REDIS_URL:-redis://127.0.0.1:$(REDIS_PORT)/0} $(BUILD_DIR)/auditbot serve --config $(CONFIG); \
	else \
	  REDIS_URL=$${REDIS_URL:-redis://127.0.0.1:$(REDIS_PORT)/0} $(BUILD_DIR)/auditbot console --config $(CONFIG); \
	fi

test: build-test
	@cd $(BUILD_DIR)-test && ctest --output-on-failure -j $(JOBS) --timeout 600

format:
	@git ls-files '*.cpp' '*.hpp' | xargs clang-format -i

# clang-tidy cannot read GCC's precompiled headers, so it gets its own compile database.
tidy: deps
	@cmake -S . -B $(BUILD_DIR)-tidy -G Ninja -DCMAKE_DISABLE_PRECOMPILE_HEADERS=ON >/dev/null
	@git ls-files 'bot/*.cpp' 'handlers/*.cpp' 'integrations/*.cpp' 'config/*.cpp' | xargs clang-tidy -p $(BUILD_DIR)-tidy --quiet

clean:
	@rm -rf $(BUILD_DIR) $(BUILD_DIR)-test
