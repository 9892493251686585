#include "classifiers/commands.h"

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <cmath>
#include <fstream>
#include <iostream>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "classifiers/chat_request.h"
#include "classifiers/dataset.h"
#include "classifiers/evaluation.h"
#include "classifiers/model_io.h"
#include "classifiers/tiers.h"
#include "classifiers/trainer.h"
#include "config/config_loader.h"

namespace switchyard::classifiers {
namespace {

struct CommandOptions {
  std::vector<std::string> data;
  std::string out = DefaultModelPath();
  std::string model;
  std::string config;
  uint64_t seed = 1;
  int folds = 5;
  bool json = false;
  std::string scores_out;
  TrainOptions train;
  std::string target = "gain";
};

// JSON string contents: escapes quotes, backslashes and control bytes; invalid UTF-8 (such as
// a token cut mid-character) becomes U+FFFD.
std::string JsonEscape(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size();) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(c));
      ++i;
    } else if (c < 0x20) {
      out += fmt::format("\\u{:04x}", c);
      ++i;
    } else if (c < 0x80) {
      out.push_back(static_cast<char>(c));
      ++i;
    } else {
      const size_t len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 ? 2 : 0;
      bool valid = len > 0 && i + len <= s.size() && c < 0xF5;
      for (size_t k = 1; valid && k < len; ++k)
        valid = (static_cast<unsigned char>(s[i + k]) & 0xC0) == 0x80;
      if (valid) {
        out.append(s.substr(i, len));
        i += len;
      } else {
        out += "\xEF\xBF\xBD";
        ++i;
      }
    }
  }
  return out;
}

std::string Percent(double fraction) {
  return std::isnan(fraction) ? "n/a" : fmt::format("{:.1f}%", 100.0 * fraction);
}
std::string JsonNumber(double v) { return std::isnan(v) ? "null" : fmt::format("{:.6f}", v); }

Status ParseTarget(const std::string& name, Target* target) {
  if (name == "weak-wrong")
    *target = Target::kWeakWrong;
  else if (name == "strong-gain")
    *target = Target::kStrongGain;
  else if (name == "gain")
    *target = Target::kGain;
  else
    return Status::Error(fmt::format("unknown --target '{}'", name));
  return Status::Ok();
}

Status LoadData(const CommandOptions& o, std::vector<LabeledPrompt>* data) {
  LoadReport report;
  if (Status s = LoadLabeledData(o.data, data, &report); !s.ok()) return s;
  std::set<std::string> groups;
  for (const LabeledPrompt& p : *data) groups.insert(p.group);
  fmt::print(stderr, "loaded {} prompts from {} files ({} subjects); dropped {} contaminated\n",
             data->size(), report.files, groups.size(), report.contaminated_dropped);
  return Status::Ok();
}

int Fail(const Status& s) {
  fmt::print(stderr, "switchyard: {}\n", s.message());
  return 1;
}

int RunTrain(CommandOptions o) {
  if (Status s = ParseTarget(o.target, &o.train.target); !s.ok()) return Fail(s);
  o.train.seed = o.seed;
  std::vector<LabeledPrompt> data;
  if (Status s = LoadData(o, &data); !s.ok()) return Fail(s);
  ModelParams params = Fit(EncodeExamples(data, o.train), {}, o.train);
  params.description = fmt::format(
      "switchyard train: {} prompts, target {}, seed {}, epochs {}, hash_bits {}, lr {}, "
      "l2_dense {}, l2_hashed {}, learned_weight {}, rules_weight {}",
      data.size(), TargetName(o.train.target), o.seed, o.train.epochs, o.train.hash_bits,
      o.train.learning_rate, o.train.l2_dense, o.train.l2_hashed, o.train.learned_weight,
      o.train.rules_weight);
  if (Status s = SaveModel(params, o.out); !s.ok()) return Fail(s);
  fmt::print(stderr, "wrote {} ({} hashed weights)\n", o.out, params.hashed.size());
  return 0;
}

void PrintJsonMetrics(const std::string& name, const RoutingMetrics& m, bool last) {
  fmt::print("    \"{}\": {{\"apgr\": {}, \"cpt50\": {}, \"cpt80\": {}, \"curve\": [", name,
             JsonNumber(m.apgr), JsonNumber(m.cpt50), JsonNumber(m.cpt80));
  for (size_t i = 0; i < m.curve.size(); ++i)
    fmt::print("{}{{\"strong_share\": {}, \"accuracy\": {}}}", i ? ", " : "",
               JsonNumber(m.curve[i].strong_share), JsonNumber(m.curve[i].accuracy));
  fmt::print("]}}{}\n", last ? "" : ",");
}

int RunEval(CommandOptions o) {
  if (Status s = ParseTarget(o.target, &o.train.target); !s.ok()) return Fail(s);
  o.train.seed = o.seed;
  std::vector<LabeledPrompt> data;
  if (Status s = LoadData(o, &data); !s.ok()) return Fail(s);
  std::vector<double> scores;
  int folds = 0;
  if (!o.model.empty()) {
    std::shared_ptr<const Model> model;
    if (Status s = LoadModel(o.model, &model); !s.ok()) return Fail(s);
    scores = ModelScores(*model, data);
    fmt::print(stderr,
               "note: scored with {}: figures are held-out only if it never saw this data\n",
               o.model);
  } else {
    if (Status s = CrossValidatedScores(data, o.folds, o.train, &scores); !s.ok()) return Fail(s);
    folds = o.folds;
  }
  if (!o.scores_out.empty()) {
    std::ofstream out(o.scores_out);
    for (size_t i = 0; i < data.size(); ++i)
      out << fmt::format("{}\t{}\t{}\t{:.6f}\n", data[i].group, int{data[i].weak_correct},
                         int{data[i].strong_correct}, scores[i]);
    if (!out) return Fail(Status::Error(fmt::format("cannot write {}", o.scores_out)));
  }
  const EvaluationReport r = Evaluate(data, scores, o.seed);
  if (o.json) {
    fmt::print("{{\n  \"prompts\": {},\n  \"folds\": {},\n  \"held_out_subjects\": {},\n",
               r.prompts, folds, folds > 0 ? "true" : "false");
    fmt::print("  \"weak_accuracy\": {},\n  \"strong_accuracy\": {},\n  \"routers\": {{\n",
               JsonNumber(r.router.weak_accuracy), JsonNumber(r.router.strong_accuracy));
    PrintJsonMetrics("switchyard", r.router, false);
    PrintJsonMetrics("prompt_length", r.length, false);
    PrintJsonMetrics("random", r.random, true);
    fmt::print("  }}\n}}\n");
    return 0;
  }
  fmt::print("RouteLLM protocol, {} prompts, {}\n", r.prompts,
             folds > 0 ? fmt::format("{}-fold leave-subjects-out (held-out subjects only)", folds)
                       : fmt::format("scored by {}", o.model));
  fmt::print("weak accuracy {:.4f}, strong accuracy {:.4f}\n\n", r.router.weak_accuracy,
             r.router.strong_accuracy);
  fmt::print("{:<22} {:>7} {:>9} {:>9}\n", "router", "APGR", "CPT(50%)", "CPT(80%)");
  auto row = [](std::string_view name, const RoutingMetrics& m) {
    fmt::print("{:<22} {:>7.3f} {:>9} {:>9}\n", name, m.apgr, Percent(m.cpt50), Percent(m.cpt80));
  };
  row("switchyard", r.router);
  row("prompt length", r.length);
  row(fmt::format("random (mean of {})", EvaluationReport::kRandomRuns), r.random);
  fmt::print("\nswitchyard curve (strong share -> accuracy):");
  for (const CurvePoint& p : r.router.curve)
    fmt::print(" {:.0f}%->{:.4f}", 100 * p.strong_share, p.accuracy);
  fmt::print("\n");
  return 0;
}

int RunClassify(const CommandOptions& o) {
  std::shared_ptr<const Model> model;
  const Status loaded = o.model.empty() ? LoadEmbeddedModel(&model) : LoadModel(o.model, &model);
  if (!loaded.ok()) return Fail(loaded);
  // The tier is the one the config's default profile ("auto", else the first) would require.
  std::vector<double> thresholds(std::begin(kDefaultTierThresholds), std::end(kDefaultTierThresholds));
  if (!o.config.empty()) {
    try {
      const config::Config cfg = config::LoadConfigFile(o.config);
      const config::Profile* profile = nullptr;
      for (const auto& p : cfg.profiles)
        if (!profile || p.name == "auto") profile = &p;
      if (!profile) return Fail(Status::Error(o.config + ": the config has no routing profile"));
      thresholds = profile->thresholds;
    } catch (const config::ConfigError& e) {
      return Fail(Status::Error(fmt::format("{}:\n{}", o.config, e.what())));
    }
  }
  std::ios::sync_with_stdio(false);
  return ClassifyStream(std::cin, std::cout, *model, thresholds) > 0 ? 1 : 0;
}

template <typename Fn>
void RunOrThrow(Fn fn) {
  if (int rc = fn(); rc != 0) throw CLI::RuntimeError(rc);
}

}  // namespace

int ClassifyStream(std::istream& in, std::ostream& out, const Model& model,
                   std::span<const double> tier_thresholds) {
  int failures = 0;
  std::string line;
  ChatRequest request;
  while (std::getline(in, line)) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    if (Status s = ParseChatRequest(line, &request); !s.ok()) {
      ++failures;
      out << "{\"error\":\"" << JsonEscape(s.message()) << "\"}\n";
      continue;
    }
    const ScoreResult r = model.Score(request);
    std::string json = fmt::format(
        "{{\"score\":{:.6f},\"tier\":{},\"logit\":{:.6f},\"estimated_prompt_tokens\":{},"
        "\"features\":[",
        r.score, TierFor(r.score, tier_thresholds), r.logit, r.estimated_prompt_tokens);
    for (int i = 0; i < r.contribution_count; ++i)
      json += fmt::format("{}{{\"name\":\"{}\",\"contribution\":{:.4f}}}", i ? "," : "",
                          JsonEscape(r.contributions[i].name()), r.contributions[i].value);
    json += "]}\n";
    out << json;
  }
  out.flush();
  return failures;
}

void AddCommands(CLI::App& app) {
  auto o = std::make_shared<CommandOptions>();
  auto tuning = [o](CLI::App* sub) {
    sub->add_option("--epochs", o->train.epochs, "SGD epochs")->capture_default_str();
    sub->add_option("--hash-bits", o->train.hash_bits, "log2 of the hashed weights")
        ->capture_default_str();
    sub->add_option("--learning-rate", o->train.learning_rate, "AdaGrad step")
        ->capture_default_str();
    sub->add_option("--l2-dense", o->train.l2_dense, "L2 towards the priors")
        ->capture_default_str();
    sub->add_option("--l2-hashed", o->train.l2_hashed, "L2 on n-gram weights")
        ->capture_default_str();
    sub->add_option("--learned-weight", o->train.learned_weight,
                    "Weight of the learned model's calibrated logit in the blend")
        ->capture_default_str();
    sub->add_option("--rules-weight", o->train.rules_weight,
                    "Weight of the hand-set rules' evidence in the blend (0: learned only)")
        ->capture_default_str();
    sub->add_option("--target", o->target, "gain, weak-wrong or strong-gain")
        ->capture_default_str();
    sub->add_option("--seed", o->seed, "Seed for shuffling and baselines")->capture_default_str();
  };

  auto* train = app.add_subcommand("train", "Train the complexity classifier on labelled data");
  train->add_option("--data", o->data, "CSV files or directories (RouteLLM format)")->required();
  train->add_option("--out", o->out, "Model file to write")->capture_default_str();
  tuning(train);
  train->callback([o] { RunOrThrow([&] { return RunTrain(*o); }); });

  auto* eval = app.add_subcommand("eval", "Score the classifier with the RouteLLM protocol");
  eval->add_option("--data", o->data, "CSV files or directories (RouteLLM format)")->required();
  eval->add_option("--model", o->model, "Score with this model instead of cross-validating");
  eval->add_option("--folds", o->folds, "Leave-subjects-out folds")->capture_default_str();
  eval->add_flag("--json", o->json, "JSON output");
  eval->add_option("--scores-out", o->scores_out,
                   "Write each prompt's subject, weak/strong correctness and score (TSV)");
  tuning(eval);
  eval->callback([o] { RunOrThrow([&] { return RunEval(*o); }); });

  auto* classify = app.add_subcommand(
      "classify", "Score chat request bodies (one JSON object per stdin line) -> JSON lines");
  classify->add_option("-c,--config", o->config, "Routing config: tiers follow its \"auto\" (else first) profile");
  classify->add_option("--model", o->model, "Model file (default: the committed model)");
  classify->callback([o] { RunOrThrow([&] { return RunClassify(*o); }); });
}

}  // namespace switchyard::classifiers
