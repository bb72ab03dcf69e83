// A small JSON Schema validator for the published manifest schemas the deploy tests check
// (Slack: draft-07, Teams: draft-04): the keywords those schemas use, errors with their path.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>
#include <vector>

namespace auditbot::test {

class JsonSchema {
 public:
  explicit JsonSchema(nlohmann::json root) : root_(std::move(root)) {}
  // Reads a schema file; throws std::runtime_error naming the path when it is missing.
  static JsonSchema load(const std::string& path);

  // Every violation as "<path>: <what>"; empty when `doc` is valid.
  std::vector<std::string> validate(const nlohmann::json& doc);

 private:
  const nlohmann::json& resolve(const std::string& ref);
  bool matches(const std::string& pattern, const std::string& s);
  void fail(const std::string& where, const std::string& what);
  bool passes(const nlohmann::json& schema, const nlohmann::json& v);
  void check(const nlohmann::json& schema, const nlohmann::json& v, const std::string& at);

  nlohmann::json root_;
  std::vector<std::string> errors_;
  std::map<std::string, std::regex> regex_cache_;
};

}  // namespace auditbot::test
