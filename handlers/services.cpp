#include "handlers/services.hpp"

#include "bot/errors.hpp"

namespace auditbot {

std::string display(const Person& p) {
  return (p.name.empty() ? p.id : p.name) + " (@" + p.id + ")";
}

const Person& require_person(const Directory& people, std::string_view mention) {
  if (const Person* p = people.resolve_mention(mention)) return *p;
  throw NotFound("I don't know anyone called '@" + std::string(mention) + "'.");
}

bool looks_like_url(std::string_view s) {
  auto starts = [&](std::string_view p) { return s.substr(0, p.size()) == p; };
  return (starts("https://") || starts("http://")) && s.size() > 10 &&
         s.find_first_of(" \t\r\n") == std::string_view::npos;
}

bool has_any_role(const Person& p, std::initializer_list<Role> roles) {
  for (Role r : roles) {
    if (Directory::has_role(p, r)) return true;
  }
  return false;
}

void require_role(const Person& p, std::initializer_list<Role> roles, std::string_view doing) {
  if (has_any_role(p, roles)) return;
  std::string who;
  for (Role r : roles) {
    if (!who.empty()) who += " or ";
    who += std::string(to_string(r));
  }
  throw Forbidden("Only a " + who + " can " + std::string(doing) + ".");
}

}  // namespace auditbot
