#include "classifiers/evaluation.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>

namespace switchyard::classifiers {

std::vector<std::vector<std::string>> AssignFolds(const std::vector<LabeledPrompt>& data,
                                                  int folds) {
  std::map<std::string, size_t> sizes;
  for (const LabeledPrompt& p : data) ++sizes[p.group];
  std::vector<std::pair<std::string, size_t>> groups(sizes.begin(), sizes.end());
  std::stable_sort(groups.begin(), groups.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  std::vector<std::vector<std::string>> out(std::max(folds, 1));
  std::vector<size_t> load(out.size(), 0);
  for (const auto& [group, size] : groups) {
    const size_t f = std::min_element(load.begin(), load.end()) - load.begin();
    out[f].push_back(group);
    load[f] += size;
  }
  return out;
}

Status CrossValidatedScores(const std::vector<LabeledPrompt>& data, int folds,
                            const TrainOptions& options, std::vector<double>* scores) {
  std::map<std::string, size_t> group_count;
  for (const LabeledPrompt& p : data) ++group_count[p.group];
  if (folds < 2) return Status::Error("--folds must be at least 2");
  if (group_count.size() < static_cast<size_t>(folds))
    return Status::Error(fmt::format("{} folds need at least {} subjects; the data has {}", folds,
                                     folds, group_count.size()));
  const auto assignment = AssignFolds(data, folds);
  std::map<std::string, int> fold_of;
  for (int f = 0; f < folds; ++f)
    for (const std::string& g : assignment[f]) fold_of[g] = f;
  const std::vector<EncodedExample> encoded = EncodeExamples(data, options);
  scores->assign(data.size(), 0.0);
  for (int f = 0; f < folds; ++f) {
    std::vector<size_t> train;
    for (size_t i = 0; i < data.size(); ++i)
      if (fold_of[data[i].group] != f) train.push_back(i);
    const Model model(Fit(encoded, train, options));
    for (size_t i = 0; i < data.size(); ++i)
      if (fold_of[data[i].group] == f)
        (*scores)[i] = model.Score(SingleUserRequest(data[i].prompt)).evidence;
  }
  return Status::Ok();
}

std::vector<double> ModelScores(const Model& model, const std::vector<LabeledPrompt>& data) {
  std::vector<double> scores;
  scores.reserve(data.size());
  for (const LabeledPrompt& p : data)
    scores.push_back(model.Score(SingleUserRequest(p.prompt)).evidence);
  return scores;
}

EvaluationReport Evaluate(const std::vector<LabeledPrompt>& data, const std::vector<double>& scores,
                          uint64_t seed) {
  EvaluationReport report;
  report.prompts = static_cast<int>(data.size());
  std::vector<bool> weak, strong;
  std::vector<double> lengths;
  for (const LabeledPrompt& p : data) {
    weak.push_back(p.weak_correct);
    strong.push_back(p.strong_correct);
    lengths.push_back(static_cast<double>(p.prompt.size()));
  }
  report.router = ComputeRoutingMetrics(scores, weak, strong);
  report.length = ComputeRoutingMetrics(lengths, weak, strong);
  SplitMix64 rng(seed);
  double apgr = 0, cpt50 = 0, cpt80 = 0;
  for (int run = 0; run < EvaluationReport::kRandomRuns; ++run) {
    std::vector<double> random(data.size());
    for (double& r : random) r = rng.Uniform();
    RoutingMetrics m = ComputeRoutingMetrics(random, weak, strong);
    apgr += m.apgr;
    cpt50 += m.cpt50;
    cpt80 += m.cpt80;
    if (run == 0) report.random = m;
  }
  report.random.apgr = apgr / EvaluationReport::kRandomRuns;
  report.random.cpt50 = cpt50 / EvaluationReport::kRandomRuns;
  report.random.cpt80 = cpt80 / EvaluationReport::kRandomRuns;
  return report;
}

}  // namespace switchyard::classifiers
