// Controls as the other capabilities see them: lookup by id and the start-up seeding of
// the control matrix from a YAML file when the store holds none yet.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "handlers/services.hpp"

namespace auditbot {

struct Control {
  std::string id;
  std::string title;
  std::vector<std::string> criteria;  // TSC ids: CC6.1, ...
  std::string owner;                  // person id
  std::vector<ControlRequirementConfig> requirements;
};

// Reads a list of controls from YAML; throws ConfigError naming the entry and field.
std::vector<Control> load_controls_file(const std::string& path, const Directory& people);

class ControlCatalog {
 public:
  explicit ControlCatalog(Services& s) : s_(s) {}
  std::optional<Control> find(std::string_view id) const;
  // A control id, or a TSC criterion that exactly one control maps (CC6.1 -> AC-01).
  // Throws NotFound / UserError naming the candidates.
  Control resolve(std::string_view id_or_criterion) const;
  // Writes `controls` (with one audit entry) only when the store has no controls yet.
  // Returns how many were written.
  std::size_t seed_if_empty(const std::vector<Control>& controls);

 private:
  Services& s_;
};

}  // namespace auditbot
