// Labelled routing data: prompts with whether the weak and the strong model answered them
// correctly, read from RouteLLM-style CSV files (prompt, weak correct, strong correct; RFC 4180
// quoting). A directory is searched for *.csv (and responses/*.csv); a
// contaminated_prompts.jsonl beside them lists prompts to drop. Plain functions, no shared state.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "classifiers/status.h"

namespace switchyard::classifiers {

struct LabeledPrompt {
  std::string group;  // the subject: the CSV file's stem without a "mmlu_" prefix
  std::string prompt;
  bool weak_correct = false;
  bool strong_correct = false;
};

struct LoadReport {
  int files = 0;
  int rows = 0;
  int contaminated_dropped = 0;
};

// Parses RFC 4180 CSV text into rows of fields.
Status ParseCsv(std::string_view text, std::vector<std::vector<std::string>>* rows);

// Loads every path (a CSV file or a directory) into `out`, sorted by (group, file order), and
// drops prompts listed in any contaminated_prompts.jsonl found beside the data.
Status LoadLabeledData(const std::vector<std::string>& paths, std::vector<LabeledPrompt>* out,
                       LoadReport* report);

}  // namespace switchyard::classifiers
