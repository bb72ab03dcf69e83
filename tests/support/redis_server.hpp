// Test fixture: a real redis-server on a free loopback port with its own temp directory,
// started for a test and stopped (SIGTERM, then SIGKILL) afterwards. No mock store.
#pragma once

#include <memory>
#include <string>

#include "integrations/redis/redis_client.hpp"

namespace auditbot::test {

class RedisServer {
 public:
  struct Options {
    bool appendonly = true;  // AOF on, appendfsync always, so a restart keeps everything
  };
  RedisServer();
  explicit RedisServer(Options options);
  ~RedisServer();  // stops the server and removes its directory

  int port() const { return port_; }
  std::string url() const;  // redis://127.0.0.1:<port>/0
  redis::Options client_options() const;

  void stop();     // SIGTERM and wait (data stays in the directory)
  void kill();     // SIGKILL (simulates a crash)
  void restart();  // start again on the same port and directory
  bool running() const { return pid_ > 0; }
  const std::string& dir() const { return dir_; }

 private:
  void launch();
  Options options_;
  std::string dir_;
  int port_ = 0;
  int pid_ = -1;
};

// A free TCP port on 127.0.0.1 (bound then released).
int free_loopback_port();
// A fresh empty directory under the system temp dir; the caller removes it.
std::string make_temp_dir(const std::string& tag);

}  // namespace auditbot::test
