// The Lua script behind Store::commit: checks preconditions, writes, appends to the
// hash-chained audit stream and queues outbox entries in one atomic EVALSHA.
#pragma once

#include "integrations/redis/redis_client.hpp"

namespace auditbot {

// KEYS = every key the transaction touches; ARGV[1] = Txn::encode's JSON.
// Returns {"committed", last_hash_or_empty, seq...} | {"duplicate"} | {"conflict", why}.
const redis::Script& transaction_script();

// Only the SHA-256 part, as `return sha256_hex(ARGV[1])`, so tests can compare it with C++.
const redis::Script& lua_sha256_script();

}  // namespace auditbot
