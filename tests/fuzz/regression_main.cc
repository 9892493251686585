// The corpus runner used where libFuzzer is not (g++): feeds every file of the folders (or
// the files) given on the command line to LLVMFuzzerTestOneInput once, in name order, so the
// seeds and every crash the fuzzers found stay regression tests under ctest. A timeout or
// out-of-memory input (a hang that allocates) fails within seconds and a bounded amount of
// memory instead of taking the machine down: each input gets kSecondsPerInput, the process
// kMemoryLimit of address space.
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "tests/fuzz/fuzz_check.h"

namespace fs = std::filesystem;

constexpr unsigned kSecondsPerInput = 10;
constexpr rlim_t kMemoryLimit = rlim_t{2} << 30;

// AddressSanitizer (-DSWITCHYARD_SANITIZE=ON) maps terabytes of shadow: no address-space limit.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kAddressSanitizer = true;
#elif defined(__has_feature)
constexpr bool kAddressSanitizer = __has_feature(address_sanitizer);
#else
constexpr bool kAddressSanitizer = false;
#endif

int main(int argc, char** argv) {
  if (!kAddressSanitizer) {
    const rlimit memory{kMemoryLimit, kMemoryLimit};
    setrlimit(RLIMIT_AS, &memory);
  }
  std::vector<fs::path> inputs;
  for (int i = 1; i < argc; ++i) {
    const fs::path arg = argv[i];
    if (fs::is_directory(arg)) {
      for (const auto& entry : fs::directory_iterator(arg))
        if (entry.is_regular_file()) inputs.push_back(entry.path());
    } else {
      inputs.push_back(arg);
    }
  }
  std::sort(inputs.begin(), inputs.end());
  for (const fs::path& path : inputs) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      std::fprintf(stderr, "cannot read %s\n", path.c_str());
      return 1;
    }
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    // Named before the run, so a crash says which input caused it.
    std::fprintf(stderr, "running %s (%zu bytes)\n", path.c_str(), bytes.size());
    alarm(kSecondsPerInput);  // SIGALRM's default action ends the process
    LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
    alarm(0);
  }
  std::printf("%zu inputs passed\n", inputs.size());
  return 0;
}
