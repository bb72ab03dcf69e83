#include "handlers/controls.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>

#include "bot/errors.hpp"

namespace auditbot {
namespace {

const std::set<std::string> kCadences{"continuous", "monthly", "quarterly", "annual", "one-time"};

std::string join(const std::vector<std::string>& v, char sep) {
  std::string out;
  for (const auto& s : v) {
    if (!out.empty()) out += sep;
    out += s;
  }
  return out;
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= s.size() && !s.empty()) {
    auto end = s.find(sep, start);
    if (end == std::string::npos) end = s.size();
    if (end > start) out.push_back(s.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

}  // namespace

std::vector<Control> load_controls_file(const std::string& path, const Directory& people) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::Exception& e) {
    throw ConfigError(path + ": cannot read controls: " + e.msg);
  }
  const YAML::Node list = root["controls"];
  if (!list || !list.IsSequence()) throw ConfigError(path + ": expected a 'controls:' list");
  std::vector<Control> out;
  std::set<std::string> seen;
  std::size_t index = 0;
  for (const auto& node : list) {
    const std::string where = path + ": controls[" + std::to_string(index++) + "]";
    Control c;
    try {
      for (const auto& kv : node) {
        const auto key = kv.first.as<std::string>();
        if (key == "id") {
          c.id = kv.second.as<std::string>();
        } else if (key == "title") {
          c.title = kv.second.as<std::string>();
        } else if (key == "owner") {
          c.owner = kv.second.as<std::string>();
        } else if (key == "criteria") {
          c.criteria = kv.second.as<std::vector<std::string>>();
        } else if (key == "evidence") {
          for (const auto& r : kv.second) {
            ControlRequirementConfig req;
            req.artifact = r["artifact"].as<std::string>("");
            req.cadence = r["cadence"].as<std::string>("");
            if (!kCadences.count(req.cadence)) {
              throw ConfigError(where + ".evidence: unknown cadence '" + req.cadence + "'");
            }
            c.requirements.push_back(req);
          }
        } else {
          throw ConfigError(where + ": unknown key '" + key + "'");
        }
      }
    } catch (const YAML::Exception& e) {
      throw ConfigError(where + ": " + e.msg);
    }
    if (c.id.empty()) throw ConfigError(where + ".id: missing");
    if (!seen.insert(c.id).second) throw ConfigError(where + ".id: duplicate '" + c.id + "'");
    if (!c.owner.empty() && !people.find(c.owner)) {
      throw ConfigError(where + " (" + c.id + ").owner: unknown person '" + c.owner + "'");
    }
    out.push_back(std::move(c));
  }
  return out;
}

std::optional<Control> ControlCatalog::find(std::string_view id) const {
  auto h = s_.store.hgetall(s_.store.keys().control(id));
  if (!h) return std::nullopt;
  Control c;
  c.id = (*h)["id"];
  c.title = (*h)["title"];
  c.owner = (*h)["owner"];
  c.criteria = split((*h)["criteria"], ',');
  if (auto it = h->find("requirements"); it != h->end() && !it->second.empty()) {
    for (const auto& r : nlohmann::json::parse(it->second)) {
      c.requirements.push_back({r.value("artifact", ""), r.value("cadence", "")});
    }
  }
  return c;
}

Control ControlCatalog::resolve(std::string_view id) const {
  if (auto c = find(id)) return *c;
  auto ids = s_.store.smembers(s_.store.keys().key("criterion:" + std::string(id)));
  std::sort(ids.begin(), ids.end());
  if (ids.size() == 1) {
    if (auto c = find(ids.front())) return *c;
  }
  if (ids.size() > 1) {
    throw UserError(std::string(id) + " is covered by several controls (" + join(ids, ',') +
                    "); name one of them.");
  }
  throw NotFound("There is no control " + std::string(id) + " in the matrix.");
}

std::size_t ControlCatalog::seed_if_empty(const std::vector<Control>& controls) {
  if (controls.empty() || !s_.store.smembers(s_.store.keys().controls()).empty()) return 0;
  Txn txn;
  // Two replicas starting together must not both seed.
  txn.expect_absent(s_.store.keys().controls(), "controls already present");
  std::vector<std::string> ids;
  for (const auto& c : controls) {
    nlohmann::json reqs = nlohmann::json::array();
    for (const auto& r : c.requirements)
      reqs.push_back({{"artifact", r.artifact}, {"cadence", r.cadence}});
    txn.hset(s_.store.keys().control(c.id), {{"id", c.id},
                                             {"title", c.title},
                                             {"owner", c.owner},
                                             {"criteria", join(c.criteria, ',')},
                                             {"requirements", reqs.dump()}});
    txn.sadd(s_.store.keys().controls(), c.id);
    for (const auto& crit : c.criteria)
      txn.sadd(s_.store.keys().key("criterion:" + crit), c.id);
    ids.push_back(c.id);
  }
  txn.audit("system", "controls.seeded", "", {{"controls", ids}});
  return s_.store.commit(txn).ok() ? controls.size() : 0;
}

}  // namespace auditbot
