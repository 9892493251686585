// Helpers shared by the classifier tests: a small synthetic labelled data set whose "needs the
// strong model" signal is carried by a few words, and a model trained on it.
#pragma once

#include <string>
#include <vector>

#include "classifiers/dataset.h"
#include "classifiers/trainer.h"

namespace switchyard::classifiers::testing {

// Prompts in `groups` subjects; prompts mentioning "tensor" or "manifold" are answered only by
// the strong model, the rest by both.
inline std::vector<LabeledPrompt> SyntheticData(int groups = 4, int per_group = 60) {
  static const char* kHard[] = {"tensor", "manifold"};
  static const char* kEasy[] = {"apple", "river", "garden", "music"};
  std::vector<LabeledPrompt> data;
  for (int g = 0; g < groups; ++g) {
    for (int i = 0; i < per_group; ++i) {
      const bool hard = i % 3 == 0;
      LabeledPrompt p;
      p.group = "subject" + std::to_string(g);
      p.prompt = std::string("Question ") + std::to_string(i) + " about the " +
                 (hard ? kHard[i % 2] : kEasy[i % 4]) + " of topic " + std::to_string(g) + "?";
      p.weak_correct = !hard;
      p.strong_correct = true;
      data.push_back(p);
    }
  }
  return data;
}

inline TrainOptions SmallOptions() {
  TrainOptions o;
  o.hash_bits = 12;
  o.epochs = 5;
  o.l2_hashed = 1e-3;
  return o;
}

}  // namespace switchyard::classifiers::testing
