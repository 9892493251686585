// The model file: a versioned little-endian binary format ("SWYCLSF\n" magic, format version,
// feature-schema fingerprint, sizes, weights, then a 64-bit FNV-1a checksum of everything
// before it). A corrupt, truncated or mismatched file is reported as a Status error, never a
// crash. Stateless functions, safe from any thread.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "classifiers/model.h"
#include "classifiers/status.h"

namespace switchyard::classifiers {

// 2: the learned/rules blend; 3: emphatic negations and statements features, chit-chat cues
// only in short messages; 4: proof cues (prove, derive, "show that") as their own feature. The
// layout is unchanged since 2, but weights mean something only with the features they were
// trained on, so older files are refused (retrain with `switchyard train`).
inline constexpr uint32_t kModelFormatVersion = 4;

// The committed model in the source tree (compile definition SWITCHYARD_CLASSIFIER_MODEL):
// where `switchyard train` writes by default.
const char* DefaultModelPath();

// The committed model as embedded in the binary at build time; what routing uses unless
// given another file, so an installed binary needs no model file beside it.
std::string_view EmbeddedModelBytes();
Status LoadEmbeddedModel(std::shared_ptr<const Model>* out);

std::string SerializeModel(const ModelParams& params);
Status ParseModel(std::string_view bytes, std::shared_ptr<const Model>* out);

Status SaveModel(const ModelParams& params, const std::string& path);
Status LoadModel(const std::string& path, std::shared_ptr<const Model>* out);

}  // namespace switchyard::classifiers
