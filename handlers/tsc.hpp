// The SOC 2 Trust Services Criteria catalog (the 61 ids of SPEC C1 with short titles in our
// own words); config/tsc_catalog.yaml is the same list for people to read.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace auditbot::tsc {

struct Criterion {
  std::string_view id;        // CC6.1
  std::string_view category;  // security | availability | processing_integrity | ...
  std::string_view title;
};

const std::vector<Criterion>& catalog();
const Criterion* find(std::string_view id);  // case-sensitive canonical id
// The category names in catalog order, and a readable name ("Processing integrity").
const std::vector<std::string_view>& categories();
std::string_view category_name(std::string_view category);

}  // namespace auditbot::tsc
