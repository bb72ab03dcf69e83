#include "handlers/csv.hpp"

#include "bot/errors.hpp"

namespace auditbot::csv {

std::vector<Row> parse(std::string_view text) {
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
  std::vector<Row> rows;
  Row row;
  std::string cur;
  bool quoted = false;
  bool any = false;  // the current row has content (so blank lines are skipped)
  std::size_t line_no = 1;
  std::size_t quote_line = 0;
  auto end_row = [&] {
    if (any || !cur.empty() || !row.empty()) {
      row.push_back(std::move(cur));
      bool blank = row.size() == 1 && row[0].empty();
      if (!blank) rows.push_back(std::move(row));
    }
    row.clear();
    cur.clear();
    any = false;
  };
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') {
          cur += '"';
          ++i;
        } else {
          quoted = false;
        }
      } else {
        if (c == '\n') ++line_no;
        cur += c;
      }
      continue;
    }
    if (c == '"') {
      quoted = true;
      any = true;
      quote_line = line_no;
    } else if (c == ',') {
      row.push_back(std::move(cur));
      cur.clear();
      any = true;
    } else if (c == '\r') {
      // CRLF and lone CR both end the line.
      if (i + 1 < text.size() && text[i + 1] == '\n') ++i;
      end_row();
      ++line_no;
    } else if (c == '\n') {
      end_row();
      ++line_no;
    } else {
      cur += c;
      any = true;
    }
  }
  if (quoted) {
    throw UserError("CSV line " + std::to_string(quote_line) + ": a quote is never closed.");
  }
  end_row();
  return rows;
}

std::string field(std::string_view v) {
  if (v.find_first_of(",\"\r\n") == std::string_view::npos &&
      (v.empty() || (v.front() != ' ' && v.back() != ' '))) {
    return std::string(v);
  }
  std::string out = "\"";
  for (char c : v) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

std::string line(const Row& fields) {
  std::string out;
  for (std::size_t i = 0; i < fields.size(); ++i) {
    if (i > 0) out += ',';
    out += field(fields[i]);
  }
  out += "\r\n";
  return out;
}

}  // namespace auditbot::csv
