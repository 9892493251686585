// The classifier's command-line tools, registered on the switchyard CLI by AddCommands(app):
//   train     fit the learned scorer on labelled data and write the model file
//   eval      RouteLLM protocol on held-out subjects (or with a given model), with baselines
//   classify  score OpenAI chat request bodies read one per line from stdin
// The commands run from CLI11 callbacks during app.parse(); a failing command throws
// CLI::RuntimeError(exit code), which CLI11_PARSE turns into the process's exit code.
#pragma once

#include <iosfwd>
#include <span>

#include "classifiers/model.h"

namespace CLI {
class App;
}

namespace switchyard::classifiers {

void AddCommands(CLI::App& app);

// `classify` on streams: one request body per input line, one JSON object per output line
// ({"score", "tier", "logit", "estimated_prompt_tokens", "features": [...]} or {"error"}).
// Returns the number of lines that failed to parse.
int ClassifyStream(std::istream& in, std::ostream& out, const Model& model,
                   std::span<const double> tier_thresholds);

}  // namespace switchyard::classifiers
