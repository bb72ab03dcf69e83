#include "handlers/controls.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <map>

#include "bot/text.hpp"
#include "handlers/csv.hpp"
#include "handlers/tsc.hpp"

namespace auditbot {
namespace {

const std::set<std::string> kCadences{"continuous", "monthly", "quarterly", "annual", "one-time"};
const std::set<std::string> kStatuses{"planned", "implemented", "operating", "retired"};

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

bool valid_control_id(const std::string& id) {
  if (id.empty() || id.size() > 32) return false;
  return std::all_of(id.begin(), id.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '-' || c == '_' || c == '.';
  });
}

// "row 4 (AC-04), field owner: ..." — the one shape every import error has.
[[noreturn]] void bad(std::size_t row, const std::string& id, const std::string& field,
                      const std::string& problem) {
  std::string where = "row " + std::to_string(row);
  if (!id.empty()) where += " (" + id + ")";
  throw ImportError(where + ", field " + field + ": " + problem);
}

void validate(Control& c, std::size_t row, const Directory& people) {
  c.id = trim(c.id);
  c.title = trim(c.title);
  if (c.id.empty()) bad(row, "", "id", "missing");
  if (!valid_control_id(c.id)) {
    bad(row, "", "id", "'" + c.id + "' is not an id (letters, digits, '-', '_', '.')");
  }
  if (c.title.empty()) bad(row, c.id, "title", "missing");
  for (auto& crit : c.criteria) {
    crit = trim(crit);
    if (!tsc::find(crit)) bad(row, c.id, "criteria", "'" + crit + "' is not a TSC criterion");
  }
  c.owner = trim(c.owner);
  if (!c.owner.empty() && c.owner.front() == '@') c.owner.erase(0, 1);
  if (!c.owner.empty()) {
    const Person* p = people.resolve_mention(c.owner);
    if (!p) bad(row, c.id, "owner", "unknown person '" + c.owner + "'");
    c.owner = p->id;
  }
  for (auto& r : c.requirements) {
    r.artifact = trim(r.artifact);
    r.cadence = lower(trim(r.cadence));
    if (r.artifact.empty()) bad(row, c.id, "evidence", "an evidence requirement has no artifact");
    if (r.artifact.find('\n') != std::string::npos) {
      bad(row, c.id, "evidence", "an artifact must fit on one line");
    }
    if (!kCadences.count(r.cadence)) {
      bad(row, c.id, "evidence",
          "unknown cadence '" + r.cadence +
              "' (expected continuous, monthly, quarterly, annual or one-time)");
    }
  }
  c.status = lower(trim(c.status));
  if (c.status.empty()) c.status = "operating";
  if (!kStatuses.count(c.status)) {
    bad(row, c.id, "status",
        "unknown status '" + c.status + "' (expected planned, implemented, operating or retired)");
  }
}

void check_duplicates(const std::vector<Control>& controls, std::size_t first_row) {
  std::map<std::string, std::size_t> seen;
  for (std::size_t i = 0; i < controls.size(); ++i) {
    auto [it, fresh] = seen.emplace(controls[i].id, first_row + i);
    if (!fresh) {
      bad(first_row + i, controls[i].id, "id", "duplicate of row " + std::to_string(it->second));
    }
  }
}

std::vector<std::string> split_cell(const std::string& cell) {
  std::vector<std::string> out;
  std::string cur;
  for (char ch : cell) {
    if (ch == ',' || ch == ';' || ch == ' ' || ch == '\n' || ch == '\r' || ch == '\t') {
      if (!cur.empty()) out.push_back(std::move(cur));
      cur.clear();
    } else {
      cur += ch;
    }
  }
  if (!cur.empty()) out.push_back(std::move(cur));
  return out;
}

// "quarterly: Access review export" per line (or separated by ';' when on one line).
std::vector<ControlRequirementConfig> parse_requirements(const std::string& cell, std::size_t row,
                                                         const std::string& id) {
  std::vector<ControlRequirementConfig> out;
  const char sep = cell.find('\n') != std::string::npos ? '\n' : ';';
  for (const auto& part : split(cell, sep)) {
    const std::string p = trim(part);
    if (p.empty()) continue;
    const auto colon = p.find(':');
    if (colon == std::string::npos) {
      bad(row, id, "evidence", "'" + p + "' is not 'cadence: artifact'");
    }
    out.push_back({trim(p.substr(colon + 1)), lower(trim(p.substr(0, colon)))});
  }
  return out;
}

std::string scalar(const YAML::Node& n, std::size_t row, const std::string& id,
                   const std::string& field) {
  if (!n.IsScalar()) bad(row, id, field, "expected a single value");
  return n.Scalar();
}

}  // namespace

std::string control_category(const Control& c) {
  if (c.criteria.empty()) return "security";
  const auto* crit = tsc::find(c.criteria.front());
  return crit ? std::string(crit->category) : "security";
}

std::vector<Control> parse_controls_yaml(std::string_view text, const Directory& people) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::ParserException& e) {
    throw ImportError("line " + std::to_string(e.mark.line + 1) + ": not valid YAML: " + e.msg);
  }
  const YAML::Node list = root.IsMap() ? root["controls"] : YAML::Node();
  if (!list || !list.IsSequence()) throw ImportError("expected a 'controls:' list");
  std::vector<Control> out;
  std::size_t row = 0;
  for (const auto& node : list) {
    ++row;
    Control c;
    if (!node.IsMap()) bad(row, "", "id", "expected a map of fields");
    if (node["id"] && node["id"].IsScalar()) c.id = node["id"].Scalar();
    for (const auto& kv : node) {
      const auto key = kv.first.Scalar();
      const YAML::Node& v = kv.second;
      if (key == "id") {
        c.id = scalar(v, row, "", "id");
      } else if (key == "title") {
        c.title = scalar(v, row, c.id, key);
      } else if (key == "owner") {
        c.owner = v.IsNull() ? "" : scalar(v, row, c.id, key);
      } else if (key == "test_procedure") {
        c.test_procedure = v.IsNull() ? "" : scalar(v, row, c.id, key);
      } else if (key == "status") {
        c.status = scalar(v, row, c.id, key);
      } else if (key == "criteria") {
        if (v.IsScalar()) {
          c.criteria = split_cell(v.Scalar());
        } else if (v.IsSequence()) {
          for (const auto& x : v)
            c.criteria.push_back(scalar(x, row, c.id, key));
        } else if (!v.IsNull()) {
          bad(row, c.id, key, "expected a list of criteria");
        }
      } else if (key == "evidence") {
        if (!v.IsNull() && !v.IsSequence()) bad(row, c.id, key, "expected a list");
        for (const auto& r : v) {
          if (!r.IsMap()) bad(row, c.id, key, "expected {artifact, cadence}");
          ControlRequirementConfig req;
          for (const auto& f : r) {
            const auto k = f.first.Scalar();
            if (k == "artifact") {
              req.artifact = scalar(f.second, row, c.id, key);
            } else if (k == "cadence") {
              req.cadence = scalar(f.second, row, c.id, key);
            } else {
              bad(row, c.id, key, "unknown key '" + k + "' (expected artifact, cadence)");
            }
          }
          c.requirements.push_back(std::move(req));
        }
      } else {
        bad(row, c.id, key, "unknown field");
      }
    }
    validate(c, row, people);
    out.push_back(std::move(c));
  }
  check_duplicates(out, 1);
  return out;
}

std::vector<Control> parse_controls_csv(std::string_view text, const Directory& people) {
  const auto rows = csv::parse(text);
  if (rows.empty()) throw ImportError("the file is empty (expected a header row)");
  static const std::map<std::string, std::string> kHeaders{{"id", "id"},
                                                           {"control id", "id"},
                                                           {"control", "id"},
                                                           {"title", "title"},
                                                           {"name", "title"},
                                                           {"control title", "title"},
                                                           {"criteria", "criteria"},
                                                           {"tsc", "criteria"},
                                                           {"tsc criteria", "criteria"},
                                                           {"owner", "owner"},
                                                           {"control owner", "owner"},
                                                           {"evidence", "evidence"},
                                                           {"evidence requirements", "evidence"},
                                                           {"test procedure", "test_procedure"},
                                                           {"test_procedure", "test_procedure"},
                                                           {"status", "status"}};
  std::map<std::string, std::size_t> col;
  for (std::size_t i = 0; i < rows[0].size(); ++i) {
    const auto h = lower(trim(rows[0][i]));
    auto it = kHeaders.find(h);
    if (it == kHeaders.end()) bad(1, "", rows[0][i], "unknown column");
    if (!col.emplace(it->second, i).second) bad(1, "", rows[0][i], "column appears twice");
  }
  for (const char* need : {"id", "title"}) {
    if (!col.count(need)) bad(1, "", need, "the header has no such column");
  }
  std::vector<Control> out;
  for (std::size_t r = 1; r < rows.size(); ++r) {
    const auto& row = rows[r];
    const std::size_t row_no = r + 1;
    if (row.size() > rows[0].size()) {
      bad(row_no, "", "-",
          "has " + std::to_string(row.size()) + " cells, the header has " +
              std::to_string(rows[0].size()));
    }
    auto get = [&](const char* name) -> std::string {
      auto it = col.find(name);
      if (it == col.end() || it->second >= row.size()) return {};
      return row[it->second];
    };
    Control c;
    c.id = trim(get("id"));
    c.title = get("title");
    c.criteria = split_cell(get("criteria"));
    c.owner = get("owner");
    c.requirements = parse_requirements(get("evidence"), row_no, c.id);
    c.test_procedure = get("test_procedure");
    c.status = get("status");
    validate(c, row_no, people);
    out.push_back(std::move(c));
  }
  check_duplicates(out, 2);
  return out;
}

std::vector<Control> parse_controls(std::string_view text, std::string_view format,
                                    const Directory& people) {
  if (format == "csv") return parse_controls_csv(text, people);
  return parse_controls_yaml(text, people);
}

std::string controls_to_csv(const std::vector<Control>& controls) {
  std::string out =
      csv::line({"id", "title", "criteria", "owner", "evidence", "test_procedure", "status"});
  for (const auto& c : controls) {
    std::string ev;
    for (const auto& r : c.requirements) {
      if (!ev.empty()) ev += '\n';
      ev += r.cadence + ": " + r.artifact;
    }
    out +=
        csv::line({c.id, c.title, join(c.criteria, ' '), c.owner, ev, c.test_procedure, c.status});
  }
  return out;
}

std::string controls_to_yaml(const std::vector<Control>& controls) {
  YAML::Emitter e;
  e << YAML::BeginMap << YAML::Key << "controls" << YAML::Value << YAML::BeginSeq;
  for (const auto& c : controls) {
    e << YAML::BeginMap;
    e << YAML::Key << "id" << YAML::Value << c.id;
    e << YAML::Key << "title" << YAML::Value << YAML::DoubleQuoted << c.title;
    e << YAML::Key << "criteria" << YAML::Value << YAML::Flow << c.criteria;
    e << YAML::Key << "owner" << YAML::Value << c.owner;
    e << YAML::Key << "evidence" << YAML::Value << YAML::BeginSeq;
    for (const auto& r : c.requirements) {
      e << YAML::Flow << YAML::BeginMap << YAML::Key << "artifact" << YAML::Value
        << YAML::DoubleQuoted << r.artifact << YAML::Key << "cadence" << YAML::Value << r.cadence
        << YAML::EndMap;
    }
    e << YAML::EndSeq;
    e << YAML::Key << "test_procedure" << YAML::Value << YAML::DoubleQuoted << c.test_procedure;
    e << YAML::Key << "status" << YAML::Value << c.status;
    e << YAML::EndMap;
  }
  e << YAML::EndSeq << YAML::EndMap;
  return std::string(e.c_str()) + "\n";
}

std::vector<Control> load_controls_file(const std::string& path, const Directory& people) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError(path + ": cannot read controls");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  try {
    const bool is_csv = path.size() > 4 && lower(path.substr(path.size() - 4)) == ".csv";
    return parse_controls(text, is_csv ? "csv" : "yaml", people);
  } catch (const UserError& e) {
    throw ConfigError(path + ": " + e.what());
  }
}

std::optional<Control> ControlCatalog::find(std::string_view id) const {
  auto h = s_.store.hgetall(s_.store.keys().control(id));
  if (!h) return std::nullopt;
  Control c;
  c.id = (*h)["id"];
  c.title = (*h)["title"];
  c.owner = (*h)["owner"];
  c.criteria = split((*h)["criteria"], ',');
  c.test_procedure = (*h)["test_procedure"];
  c.status = h->count("status") && !(*h)["status"].empty() ? (*h)["status"] : "operating";
  if (auto it = h->find("requirements"); it != h->end() && !it->second.empty()) {
    for (const auto& r : nlohmann::json::parse(it->second)) {
      c.requirements.push_back({r.value("artifact", ""), r.value("cadence", "")});
    }
  }
  return c;
}

std::vector<Control> ControlCatalog::all() const {
  auto ids = s_.store.smembers(s_.store.keys().controls());
  std::sort(ids.begin(), ids.end());
  std::vector<Control> out;
  for (const auto& id : ids) {
    if (auto c = find(id)) out.push_back(std::move(*c));
  }
  return out;
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

void ControlCatalog::write(Txn& txn, const Control& c, const std::optional<Control>& before) const {
  nlohmann::json reqs = nlohmann::json::array();
  for (const auto& r : c.requirements)
    reqs.push_back({{"artifact", r.artifact}, {"cadence", r.cadence}});
  txn.hset(s_.store.keys().control(c.id), {{"id", c.id},
                                           {"title", c.title},
                                           {"owner", c.owner},
                                           {"criteria", join(c.criteria, ',')},
                                           {"requirements", reqs.dump()},
                                           {"test_procedure", c.test_procedure},
                                           {"status", c.status}});
  txn.sadd(s_.store.keys().controls(), c.id);
  if (before) {
    for (const auto& crit : before->criteria) {
      if (std::find(c.criteria.begin(), c.criteria.end(), crit) == c.criteria.end()) {
        txn.srem(s_.store.keys().key("criterion:" + crit), c.id);
      }
    }
  }
  for (const auto& crit : c.criteria)
    txn.sadd(s_.store.keys().key("criterion:" + crit), c.id);
}

std::size_t ControlCatalog::seed_if_empty(const std::vector<Control>& controls) {
  if (controls.empty() || !s_.store.smembers(s_.store.keys().controls()).empty()) return 0;
  Txn txn;
  // Two replicas starting together must not both seed.
  txn.expect_absent(s_.store.keys().controls(), "controls already present");
  std::vector<std::string> ids;
  for (const auto& c : controls) {
    write(txn, c, std::nullopt);
    ids.push_back(c.id);
  }
  txn.audit("system", "controls.seeded", "", {{"controls", ids}});
  return s_.store.commit(txn).ok() ? controls.size() : 0;
}

std::size_t ControlCatalog::import(const std::vector<Control>& controls, const std::string& actor) {
  if (controls.empty()) throw ImportError("the file holds no controls");
  Txn txn;
  std::vector<std::string> added, changed;
  for (const auto& c : controls) {
    auto before = find(c.id);
    if (before && *before == c) continue;
    write(txn, c, before);
    (before ? changed : added).push_back(c.id);
  }
  if (added.empty() && changed.empty()) return 0;
  txn.audit(actor, "controls.imported", "", {{"added", added}, {"changed", changed}});
  const auto r = s_.store.commit(txn);
  if (!r.ok()) throw Conflict("The control matrix changed meanwhile; nothing was imported.");
  return added.size() + changed.size();
}

}  // namespace auditbot
