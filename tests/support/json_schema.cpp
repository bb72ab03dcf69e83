// JSON Schema keywords of draft-04 and draft-07 as the Slack and Teams manifest schemas use
// them. "format" is an annotation here (Slack's draft-07 says so; Teams' URLs are checked by
// their "pattern"); unknown keywords are ignored, as validators do.
#include "tests/support/json_schema.hpp"

#include <fstream>
#include <set>
#include <stdexcept>

namespace auditbot::test {

using nlohmann::json;

namespace {

bool is_type(const json& v, const std::string& t) {
  if (t == "object") return v.is_object();
  if (t == "array") return v.is_array();
  if (t == "string") return v.is_string();
  if (t == "boolean") return v.is_boolean();
  if (t == "null") return v.is_null();
  if (t == "integer") return v.is_number_integer() || v.is_number_unsigned();
  if (t == "number") return v.is_number();
  return false;
}

std::size_t utf8_length(const std::string& s) {
  std::size_t n = 0;
  for (unsigned char c : s)
    if ((c & 0xC0) != 0x80) ++n;
  return n;
}

}  // namespace

JsonSchema JsonSchema::load(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("schema file is missing: " + path);
  return JsonSchema(json::parse(in));
}

std::vector<std::string> JsonSchema::validate(const json& doc) {
  errors_.clear();
  check(root_, doc, "$");
  return errors_;
}

const json& JsonSchema::resolve(const std::string& ref) {
  if (ref.rfind("#/", 0) != 0) throw std::runtime_error("unsupported $ref " + ref);
  const json* at = &root_;
  std::size_t pos = 2;
  while (pos <= ref.size()) {
    auto slash = ref.find('/', pos);
    if (slash == std::string::npos) slash = ref.size();
    at = &at->at(ref.substr(pos, slash - pos));
    pos = slash + 1;
  }
  return *at;
}

bool JsonSchema::matches(const std::string& pattern, const std::string& s) {
  auto it = regex_cache_.find(pattern);
  if (it == regex_cache_.end()) {
    it = regex_cache_.emplace(pattern, std::regex(pattern, std::regex::ECMAScript)).first;
  }
  return std::regex_search(s, it->second);
}

void JsonSchema::fail(const std::string& where, const std::string& what) {
  errors_.push_back(where + ": " + what);
}

bool JsonSchema::passes(const json& schema, const json& v) {
  auto saved = std::move(errors_);
  errors_.clear();
  check(schema, v, "");
  const bool ok = errors_.empty();
  errors_ = std::move(saved);
  return ok;
}

void JsonSchema::check(const json& schema, const json& v, const std::string& at) {
  if (schema.is_boolean()) {
    if (!schema.get<bool>()) fail(at, "not allowed");
    return;
  }
  if (schema.contains("$ref")) {  // draft-07: $ref ignores its siblings
    check(resolve(schema["$ref"]), v, at);
    return;
  }
  if (schema.contains("type")) {
    const json& t = schema["type"];
    bool ok = false;
    if (t.is_string()) ok = is_type(v, t);
    for (const auto& one : t.is_array() ? t : json::array())
      ok = ok || is_type(v, one);
    if (!ok) {
      fail(at, "expected type " + t.dump() + ", got " + v.dump());
      return;
    }
  }
  if (schema.contains("enum")) {
    bool found = false;
    for (const auto& e : schema["enum"])
      found = found || e == v;
    if (!found) fail(at, v.dump() + " not in " + schema["enum"].dump());
  }
  if (schema.contains("const") && schema["const"] != v) {
    fail(at, v.dump() + " is not " + schema["const"].dump());
  }
  for (const auto& s : schema.value("allOf", json::array()))
    check(s, v, at);
  if (schema.contains("oneOf")) {
    int n = 0;
    for (const auto& s : schema["oneOf"])
      n += passes(s, v) ? 1 : 0;
    if (n != 1) fail(at, "matches " + std::to_string(n) + " of oneOf, not exactly one");
  }
  if (v.is_number()) {
    const double x = v.get<double>();
    if (schema.contains("minimum") && x < schema["minimum"].get<double>())
      fail(at, "below minimum");
    if (schema.contains("maximum") && x > schema["maximum"].get<double>())
      fail(at, "above maximum");
  }
  if (schema.contains("anyOf")) {
    bool any = false;
    for (const auto& s : schema["anyOf"])
      any = any || passes(s, v);
    if (!any) fail(at, "matches none of anyOf");
  }
  if (v.is_string()) {
    const std::string s = v;
    if (schema.contains("minLength") && utf8_length(s) < schema["minLength"].get<std::size_t>())
      fail(at, "shorter than minLength");
    if (schema.contains("maxLength") && utf8_length(s) > schema["maxLength"].get<std::size_t>())
      fail(at, "longer than maxLength");
    if (schema.contains("pattern") && !matches(schema["pattern"], s))
      fail(at, "'" + s + "' does not match " + schema["pattern"].get<std::string>());
  }
  if (v.is_array()) {
    if (schema.contains("minItems") && v.size() < schema["minItems"].get<std::size_t>())
      fail(at, "fewer than minItems");
    if (schema.contains("maxItems") && v.size() > schema["maxItems"].get<std::size_t>())
      fail(at, "more than maxItems");
    if (schema.value("uniqueItems", false)) {
      std::set<std::string> seen;
      for (const auto& e : v)
        if (!seen.insert(e.dump()).second) fail(at, "duplicate item " + e.dump());
    }
    if (schema.contains("items") && schema["items"].is_object()) {
      for (std::size_t i = 0; i < v.size(); ++i)
        check(schema["items"], v[i], at + "[" + std::to_string(i) + "]");
    }
  }
  if (v.is_object()) {
    if (schema.contains("minProperties") && v.size() < schema["minProperties"].get<std::size_t>())
      fail(at, "fewer than minProperties");
    if (schema.contains("maxProperties") && v.size() > schema["maxProperties"].get<std::size_t>())
      fail(at, "more than maxProperties");
    for (const auto& r : schema.value("required", json::array()))
      if (!v.contains(r.get<std::string>())) fail(at, "missing required " + r.dump());
    // draft-04/07 "dependencies": a present property requires others, or a schema.
    const json dependencies = schema.value("dependencies", json::object());
    for (const auto& [key, dep] : dependencies.items()) {
      if (!v.contains(key)) continue;
      if (dep.is_array()) {
        for (const auto& r : dep)
          if (!v.contains(r.get<std::string>())) fail(at, "'" + key + "' requires " + r.dump());
      } else {
        check(dep, v, at);
      }
    }
    const json props = schema.value("properties", json::object());
    const json patterns = schema.value("patternProperties", json::object());
    for (const auto& [key, value] : v.items()) {
      bool known = false;
      if (props.contains(key)) {
        known = true;
        check(props[key], value, at + "." + key);
      }
      for (const auto& [pattern, sub] : patterns.items()) {
        if (matches(pattern, key)) {
          known = true;
          check(sub, value, at + "." + key);
        }
      }
      if (!known && schema.contains("additionalProperties")) {
        const json& extra = schema["additionalProperties"];
        if (extra.is_boolean() && !extra.get<bool>()) {
          fail(at, "unknown property '" + key + "'");
        } else if (extra.is_object()) {
          check(extra, value, at + "." + key);
        }
      }
    }
  }
}

}  // namespace auditbot::test
