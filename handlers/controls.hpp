// Controls as the other capabilities see them: lookup by id, the start-up seeding of the
// control matrix, and its import/export as CSV and YAML (validated whole before any write).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bot/errors.hpp"
#include "handlers/services.hpp"

namespace auditbot {

struct Control {
  std::string id;
  std::string title;
  std::vector<std::string> criteria;  // TSC ids: CC6.1, ...
  std::string owner;                  // person id
  std::vector<ControlRequirementConfig> requirements;
  std::string test_procedure;        // how the auditor (or we) test it
  std::string status = "operating";  // planned | implemented | operating | retired
  bool operator==(const Control&) const = default;
};

// One bad row or field in an import: "row 4 (AC-04), field owner: unknown person 'zed'".
class ImportError : public UserError {
 public:
  using UserError::UserError;
};

// Reads a list of controls from YAML; throws ConfigError naming the entry and field.
std::vector<Control> load_controls_file(const std::string& path, const Directory& people);

// Whole-file parsers: every row validated (ids, criteria against the TSC catalog, owner,
// cadence, status, duplicates) before anything is returned. Throw ImportError.
std::vector<Control> parse_controls_yaml(std::string_view text, const Directory& people);
std::vector<Control> parse_controls_csv(std::string_view text, const Directory& people);
std::string controls_to_yaml(const std::vector<Control>& controls);
std::string controls_to_csv(const std::vector<Control>& controls);
// By file name: .csv is CSV, anything else YAML.
std::vector<Control> parse_controls(std::string_view text, std::string_view format,
                                    const Directory& people);

// The TSC category a control mainly belongs to (the category of its first criterion).
std::string control_category(const Control& c);

class ControlCatalog {
 public:
  explicit ControlCatalog(Services& s) : s_(s) {}
  std::optional<Control> find(std::string_view id) const;
  // Every control, sorted by id.
  std::vector<Control> all() const;
  // A control id, or a TSC criterion that exactly one control maps (CC6.1 -> AC-01).
  // Throws NotFound / UserError naming the candidates.
  Control resolve(std::string_view id_or_criterion) const;
  // Writes `controls` (with one audit entry) only when the store has no controls yet.
  // Returns how many were written.
  std::size_t seed_if_empty(const std::vector<Control>& controls);
  // Adds or replaces each control (others stay) in one transaction with one audit entry.
  std::size_t import(const std::vector<Control>& controls, const std::string& actor);

 private:
  void write(Txn& txn, const Control& c, const std::optional<Control>& before) const;
  Services& s_;
};

}  // namespace auditbot
