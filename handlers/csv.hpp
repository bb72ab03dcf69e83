// RFC 4180 CSV as spreadsheets write it (quotes, doubled quotes, CRLF, a UTF-8 BOM) for
// the control-matrix and request-list imports and exports.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace auditbot::csv {

using Row = std::vector<std::string>;

// Parses the whole text. Throws UserError naming the line on an unterminated quote.
// Blank lines are skipped.
std::vector<Row> parse(std::string_view text);
// One field, quoted only when it needs to be.
std::string field(std::string_view v);
// One line ending in "\r\n".
std::string line(const Row& fields);

}  // namespace auditbot::csv
