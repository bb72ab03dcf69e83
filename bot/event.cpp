#include "bot/event.hpp"

namespace auditbot {

std::string_view to_string(Platform p) {
  switch (p) {
    case Platform::console:
      return "console";
    case Platform::slack:
      return "slack";
    case Platform::teams:
      return "teams";
  }
  return "unknown";
}

}  // namespace auditbot
