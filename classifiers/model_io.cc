#include "classifiers/model_io.h"

#include <fmt/format.h>

#include <bit>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

namespace switchyard::classifiers {
namespace {

static_assert(std::endian::native == std::endian::little, "model files are little-endian");

constexpr std::string_view kMagic = "SWYCLSF\n";
constexpr uint32_t kMaxHashBits = 20;
constexpr size_t kMaxDescription = 4096;

uint64_t Fnv1a64(std::string_view bytes) {
  uint64_t h = 14695981039346656037ull;
  for (char c : bytes) {
    h ^= static_cast<uint8_t>(c);
    h *= 1099511628211ull;
  }
  return h;
}

// Fingerprint of the dense feature list: a model trained on another list is refused.
uint32_t SchemaFingerprint() {
  uint32_t h = 2166136261u;
  for (int i = 0; i < kDenseFeatureCount; ++i) {
    h = Fnv1a32(DenseFeatureName(i), h);
    h = Fnv1a32("\n", h);
  }
  return h;
}

template <typename T>
void Put(std::string* out, const T& value) {
  out->append(reinterpret_cast<const char*>(&value), sizeof(T));
}
void PutFloats(std::string* out, const float* values, size_t n) {
  out->append(reinterpret_cast<const char*>(values), n * sizeof(float));
}

class Reader {
 public:
  explicit Reader(std::string_view bytes) : bytes_(bytes) {}
  template <typename T>
  bool Get(T* value) {
    if (bytes_.size() - pos_ < sizeof(T)) return false;
    std::memcpy(value, bytes_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return true;
  }
  bool GetFloats(float* values, size_t n) {
    if ((bytes_.size() - pos_) / sizeof(float) < n) return false;
    std::memcpy(values, bytes_.data() + pos_, n * sizeof(float));
    pos_ += n * sizeof(float);
    return true;
  }
  bool GetString(size_t n, std::string* s) {
    if (bytes_.size() - pos_ < n) return false;
    s->assign(bytes_.data() + pos_, n);
    pos_ += n;
    return true;
  }
  size_t pos() const { return pos_; }

 private:
  std::string_view bytes_;
  size_t pos_ = 0;
};

bool AllFinite(const float* v, size_t n) {
  for (size_t i = 0; i < n; ++i)
    if (!std::isfinite(v[i])) return false;
  return true;
}

}  // namespace

const char* DefaultModelPath() {
#ifdef SWITCHYARD_CLASSIFIER_MODEL
  return SWITCHYARD_CLASSIFIER_MODEL;
#else
  return "classifiers/model/router-v1.model";
#endif
}

std::string SerializeModel(const ModelParams& params) {
  std::string out;
  out.reserve(64 + params.description.size() + (params.hashed.size() + 4 * kDenseFeatureCount) * 4);
  out.append(kMagic);
  Put(&out, kModelFormatVersion);
  Put(&out, static_cast<uint32_t>(kDenseFeatureCount));
  Put(&out, SchemaFingerprint());
  Put(&out, params.hash_bits);
  Put(&out, static_cast<uint32_t>(params.description.size()));
  out.append(params.description);
  Put(&out, params.bias);
  Put(&out, params.score_center);
  Put(&out, params.score_scale);
  Put(&out, params.learned_weight);
  Put(&out, params.rules_weight);
  Put(&out, params.blend_center);
  Put(&out, params.blend_scale);
  PutFloats(&out, params.mean.data(), kDenseFeatureCount);
  PutFloats(&out, params.inv_scale.data(), kDenseFeatureCount);
  PutFloats(&out, params.dense.data(), kDenseFeatureCount);
  std::vector<float> hashed = params.hashed;
  hashed.resize(size_t{1} << params.hash_bits, 0.0f);
  PutFloats(&out, hashed.data(), hashed.size());
  Put(&out, Fnv1a64(out));
  return out;
}

Status ParseModel(std::string_view bytes, std::shared_ptr<const Model>* out) {
  auto fail = [](std::string_view why) {
    return Status::Error(fmt::format("invalid classifier model: {}", why));
  };
  if (bytes.size() < kMagic.size() || bytes.substr(0, kMagic.size()) != kMagic)
    return fail("not a switchyard classifier model (bad magic)");
  if (bytes.size() < kMagic.size() + 8) return fail("truncated header");
  uint64_t stored_checksum = 0;
  std::memcpy(&stored_checksum, bytes.data() + bytes.size() - 8, 8);
  const std::string_view body = bytes.substr(0, bytes.size() - 8);
  Reader r(body);
  std::string magic;
  uint32_t version = 0, dense_count = 0, fingerprint = 0, description_size = 0;
  ModelParams params;
  r.GetString(kMagic.size(), &magic);
  if (!r.Get(&version)) return fail("truncated header");
  if (version != kModelFormatVersion)
    return fail(fmt::format(
        "format version {} (this build reads version {} only; {} with this build's "
        "`switchyard train`)",
        version, kModelFormatVersion, version < kModelFormatVersion ? "retrain it" : "rebuild it"));
  if (!r.Get(&dense_count) || !r.Get(&fingerprint) || !r.Get(&params.hash_bits) ||
      !r.Get(&description_size))
    return fail("truncated header");
  if (dense_count != kDenseFeatureCount || fingerprint != SchemaFingerprint())
    return fail(
        fmt::format("trained for another feature set ({} dense features; this build has {})",
                    dense_count, static_cast<int>(kDenseFeatureCount)));
  if (params.hash_bits < 1 || params.hash_bits > kMaxHashBits)
    return fail(fmt::format("hash_bits {} out of range", params.hash_bits));
  if (description_size > kMaxDescription) return fail("description too long");
  const size_t hashed_count = size_t{1} << params.hash_bits;
  const size_t expected =
      r.pos() + description_size + 4 * (7 + 3 * kDenseFeatureCount + hashed_count);
  if (body.size() != expected)
    return fail(fmt::format("size {} bytes, expected {} (truncated or padded file)", bytes.size(),
                            expected + 8));
  if (Fnv1a64(body) != stored_checksum) return fail("checksum mismatch (corrupt file)");
  params.hashed.resize(hashed_count);
  if (!r.GetString(description_size, &params.description) || !r.Get(&params.bias) ||
      !r.Get(&params.score_center) || !r.Get(&params.score_scale) ||
      !r.Get(&params.learned_weight) || !r.Get(&params.rules_weight) ||
      !r.Get(&params.blend_center) || !r.Get(&params.blend_scale) ||
      !r.GetFloats(params.mean.data(), kDenseFeatureCount) ||
      !r.GetFloats(params.inv_scale.data(), kDenseFeatureCount) ||
      !r.GetFloats(params.dense.data(), kDenseFeatureCount) ||
      !r.GetFloats(params.hashed.data(), hashed_count))
    return fail("truncated body");
  if (!std::isfinite(params.bias) || !std::isfinite(params.score_center) ||
      !std::isfinite(params.score_scale) || !std::isfinite(params.learned_weight) ||
      !std::isfinite(params.rules_weight) || !std::isfinite(params.blend_center) ||
      !std::isfinite(params.blend_scale) || !AllFinite(params.mean.data(), kDenseFeatureCount) ||
      !AllFinite(params.inv_scale.data(), kDenseFeatureCount) ||
      !AllFinite(params.dense.data(), kDenseFeatureCount) ||
      !AllFinite(params.hashed.data(), hashed_count))
    return fail("non-finite weight");
  *out = std::make_shared<const Model>(std::move(params));
  return Status::Ok();
}

Status SaveModel(const ModelParams& params, const std::string& path) {
  const std::string bytes = SerializeModel(params);
  const std::string temp = path + ".tmp";
  {
    std::ofstream file(temp, std::ios::binary | std::ios::trunc);
    if (!file) return Status::Error(fmt::format("cannot write {}", temp));
    file.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!file.flush()) return Status::Error(fmt::format("cannot write {}", temp));
  }
  if (std::rename(temp.c_str(), path.c_str()) != 0)
    return Status::Error(fmt::format("cannot rename {} to {}", temp, path));
  return Status::Ok();
}

extern "C" const char switchyard_classifier_router_v1_begin[];
extern "C" const char switchyard_classifier_router_v1_end[];

std::string_view EmbeddedModelBytes() {
  return {switchyard_classifier_router_v1_begin,
          static_cast<std::size_t>(switchyard_classifier_router_v1_end -
                                   switchyard_classifier_router_v1_begin)};
}

Status LoadEmbeddedModel(std::shared_ptr<const Model>* out) {
  Status status = ParseModel(EmbeddedModelBytes(), out);
  if (!status.ok()) return Status::Error(fmt::format("the embedded model: {}", status.message()));
  return status;
}

Status LoadModel(const std::string& path, std::shared_ptr<const Model>* out) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return Status::Error(fmt::format("cannot open classifier model {}", path));
  std::ostringstream contents;
  contents << file.rdbuf();
  Status status = ParseModel(contents.str(), out);
  if (!status.ok()) return Status::Error(fmt::format("{}: {}", path, status.message()));
  return status;
}

}  // namespace switchyard::classifiers
