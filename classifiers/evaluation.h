// Leave-subjects-out evaluation: subjects (LabeledPrompt::group) are split into K folds
// balanced by size; for each fold a model is trained on the other folds and scores the held-out
// prompts; the pooled held-out scores are then scored with the RouteLLM protocol, next to the
// random and prompt-length baselines. Prompts are ranked by ScoreResult::evidence (the logit
// without the intercept): within one model that is the same order as the score, and it keeps
// the folds' different intercepts (their training base rates) from shifting the pooled ranking.
// Single-threaded; no shared state.
#pragma once

#include <string>
#include <vector>

#include "classifiers/dataset.h"
#include "classifiers/model.h"
#include "classifiers/routing_metrics.h"
#include "classifiers/status.h"
#include "classifiers/trainer.h"

namespace switchyard::classifiers {

// Fold of each distinct group: greedy by size (largest first, ties by name) onto the fold
// with the fewest prompts so far. Deterministic.
std::vector<std::vector<std::string>> AssignFolds(const std::vector<LabeledPrompt>& data,
                                                  int folds);

struct EvaluationReport {
  int prompts = 0;
  int folds = 0;          // 0 when a given model scored the data (no held-out guarantee)
  RoutingMetrics router;  // the classifier
  RoutingMetrics length;  // prompt length in bytes as the score
  RoutingMetrics random;  // mean over kRandomRuns seeded random routers (curve of the first)
  static constexpr int kRandomRuns = 20;
};

// Held-out scores of every prompt (same order as `data`) by K-fold leave-subjects-out.
Status CrossValidatedScores(const std::vector<LabeledPrompt>& data, int folds,
                            const TrainOptions& options, std::vector<double>* scores);

// Scores every prompt with `model` (the caller vouches the data was not trained on).
std::vector<double> ModelScores(const Model& model, const std::vector<LabeledPrompt>& data);

// Router metrics for `scores` plus the baselines.
EvaluationReport Evaluate(const std::vector<LabeledPrompt>& data, const std::vector<double>& scores,
                          uint64_t seed);

}  // namespace switchyard::classifiers
