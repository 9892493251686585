#include "classifiers/dataset.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

namespace switchyard::classifiers {
namespace {

namespace fs = std::filesystem;

Status ReadFile(const fs::path& path, std::string* out) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return Status::Error(fmt::format("cannot open {}", path.string()));
  std::ostringstream contents;
  contents << file.rdbuf();
  *out = contents.str();
  return Status::Ok();
}

Status ParseBool(const std::string& field, const fs::path& path, size_t row, bool* out) {
  if (field == "True" || field == "true" || field == "1" || field == "1.0") {
    *out = true;
  } else if (field == "False" || field == "false" || field == "0" || field == "0.0") {
    *out = false;
  } else {
    return Status::Error(
        fmt::format("{}: row {}: expected True/False, got '{}'", path.string(), row, field));
  }
  return Status::Ok();
}

Status LoadContaminated(const fs::path& path, std::set<std::string>* out) {
  std::ifstream file(path);
  if (!file) return Status::Error(fmt::format("cannot open {}", path.string()));
  simdjson::dom::parser parser;
  std::string line;
  int number = 0;
  while (std::getline(file, line)) {
    ++number;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    simdjson::dom::element doc;
    std::string_view prompt;
    if (parser.parse(line).get(doc) || doc["eval_prompt"].get_string().get(prompt))
      return Status::Error(
          fmt::format("{}:{}: expected a JSON object with eval_prompt", path.string(), number));
    out->emplace(prompt);
  }
  return Status::Ok();
}

Status LoadCsv(const fs::path& path, std::vector<LabeledPrompt>* out, LoadReport* report) {
  std::string text;
  if (Status s = ReadFile(path, &text); !s.ok()) return s;
  std::vector<std::vector<std::string>> rows;
  if (Status s = ParseCsv(text, &rows); !s.ok())
    return Status::Error(fmt::format("{}: {}", path.string(), s.message()));
  if (rows.empty()) return Status::Error(fmt::format("{}: empty file", path.string()));
  std::string group = path.stem().string();
  if (group.rfind("mmlu_", 0) == 0) group = group.substr(5);
  for (size_t i = 1; i < rows.size(); ++i) {
    if (rows[i].size() == 1 && rows[i][0].empty()) continue;
    if (rows[i].size() < 3)
      return Status::Error(fmt::format("{}: row {}: expected 3 columns (prompt, weak, strong)",
                                       path.string(), i + 1));
    LabeledPrompt p;
    p.group = group;
    p.prompt = std::move(rows[i][0]);
    if (Status s = ParseBool(rows[i][1], path, i + 1, &p.weak_correct); !s.ok()) return s;
    if (Status s = ParseBool(rows[i][2], path, i + 1, &p.strong_correct); !s.ok()) return s;
    out->push_back(std::move(p));
    ++report->rows;
  }
  ++report->files;
  return Status::Ok();
}

}  // namespace

Status ParseCsv(std::string_view text, std::vector<std::vector<std::string>>* rows) {
  rows->clear();
  std::vector<std::string> row;
  std::string field;
  bool quoted = false, field_started = false;
  size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    if (quoted) {
      if (c == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') {
          field.push_back('"');
          i += 2;
          continue;
        }
        quoted = false;
      } else {
        field.push_back(c);
      }
      ++i;
      continue;
    }
    if (c == '"' && !field_started) {
      quoted = field_started = true;
    } else if (c == ',') {
      row.push_back(std::move(field));
      field.clear();
      field_started = false;
    } else if (c == '\n' || c == '\r') {
      row.push_back(std::move(field));
      field.clear();
      field_started = false;
      rows->push_back(std::move(row));
      row.clear();
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
    } else {
      field.push_back(c);
      field_started = true;
    }
    ++i;
  }
  if (quoted) return Status::Error("unterminated quoted field");
  if (field_started || !row.empty()) {
    row.push_back(std::move(field));
    rows->push_back(std::move(row));
  }
  return Status::Ok();
}

Status LoadLabeledData(const std::vector<std::string>& paths, std::vector<LabeledPrompt>* out,
                       LoadReport* report) {
  out->clear();
  *report = LoadReport();
  std::vector<fs::path> csvs;
  std::set<fs::path> contamination_files;
  for (const std::string& p : paths) {
    std::error_code ec;
    const fs::path path(p);
    if (fs::is_directory(path, ec)) {
      for (const fs::path& dir : {path, path / "responses"}) {
        if (!fs::is_directory(dir, ec)) continue;
        for (const auto& entry : fs::directory_iterator(dir, ec))
          if (entry.path().extension() == ".csv") csvs.push_back(entry.path());
        if (fs::exists(dir / "contaminated_prompts.jsonl", ec))
          contamination_files.insert(dir / "contaminated_prompts.jsonl");
      }
    } else if (fs::is_regular_file(path, ec)) {
      csvs.push_back(path);
      for (const fs::path& dir : {path.parent_path(), path.parent_path().parent_path()})
        if (fs::exists(dir / "contaminated_prompts.jsonl", ec))
          contamination_files.insert(dir / "contaminated_prompts.jsonl");
    } else {
      return Status::Error(fmt::format("no such file or directory: {}", p));
    }
  }
  if (csvs.empty()) return Status::Error("no CSV files found in the --data paths");
  std::sort(csvs.begin(), csvs.end());
  csvs.erase(std::unique(csvs.begin(), csvs.end()), csvs.end());
  for (const fs::path& csv : csvs)
    if (Status s = LoadCsv(csv, out, report); !s.ok()) return s;
  std::set<std::string> contaminated;
  for (const fs::path& file : contamination_files)
    if (Status s = LoadContaminated(file, &contaminated); !s.ok()) return s;
  const size_t before = out->size();
  std::erase_if(*out, [&](const LabeledPrompt& p) { return contaminated.count(p.prompt) > 0; });
  report->contaminated_dropped = static_cast<int>(before - out->size());
  std::stable_sort(out->begin(), out->end(), [](const LabeledPrompt& a, const LabeledPrompt& b) {
    return a.group < b.group;
  });
  return Status::Ok();
}

}  // namespace switchyard::classifiers
