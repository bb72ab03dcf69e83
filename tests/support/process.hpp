// Runs the real auditbot binary from tests: with a given environment and stdin, capturing
// its output and exit status, or in the background to be signalled later.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace auditbot::test {

struct ProcessResult {
  int exit_code = -1;  // -1 when killed by a signal
  std::string out;
  std::string err;
};

// Runs `args` (args[0] is the program) to completion with `input` on stdin.
ProcessResult run_process(const std::vector<std::string>& args,
                          const std::map<std::string, std::string>& env, const std::string& input);

// A background process whose stdout+stderr go to a file.
class BackgroundProcess {
 public:
  BackgroundProcess(const std::vector<std::string>& args,
                    const std::map<std::string, std::string>& env, std::string log_path);
  ~BackgroundProcess();  // SIGKILL if still running
  void signal(int sig);
  int wait();  // exit code, or -signal
  bool running();
  std::string log() const;

 private:
  int pid_ = -1;
  int status_ = 0;
  bool reaped_ = false;
  std::string log_path_;
};

// Writes `content` to `path`.
void write_file(const std::string& path, const std::string& content);
std::string read_file(const std::string& path);

}  // namespace auditbot::test
