// switchyard-mock: runs the OpenAI-compatible mock upstream until SIGINT or SIGTERM.
// Prints one line, "switchyard-mock listening on ADDRESS:PORT", once it accepts
// connections (scripts wait for it), and exits 0 on a signal.
#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdio>
#include <exception>
#include <iostream>

#include "bench/mock_upstream.h"

int main(int argc, char** argv) {
  switchyard::mock::MockOptions options;
  options.port = 9101;
  options.max_recorded = 0;  // nobody can read them out of this process
  int latency_ms = 0, ttfb_ms = 0, gap_ms = 0;

  CLI::App app{"switchyard-mock: an OpenAI-compatible mock upstream for tests and benchmarks"};
  app.add_option("--address", options.address, "Address to listen on")->capture_default_str();
  app.add_option("--port", options.port, "Port to listen on (0: ephemeral)")->capture_default_str();
  app.add_option("--threads", options.threads, "Threads serving connections")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  app.add_option("--latency-ms", latency_ms, "Delay before each response's headers")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--ttfb-ms", ttfb_ms, "Streaming: delay before the first event")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--gap-ms", gap_ms, "Streaming: delay between events")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--tokens", options.output_tokens,
                 "Completion length in tokens (unless max_tokens is smaller)")
      ->check(CLI::Range(0, 100000))
      ->capture_default_str();
  app.add_option("--tls-cert", options.tls_cert_file, "PEM certificate chain (serve HTTPS)")
      ->check(CLI::ExistingFile);
  app.add_option("--tls-key", options.tls_key_file, "PEM private key (serve HTTPS)")
      ->check(CLI::ExistingFile);
  CLI11_PARSE(app, argc, argv);
  if (options.tls_cert_file.empty() != options.tls_key_file.empty()) {
    std::cerr << "switchyard-mock: --tls-cert and --tls-key go together\n";
    return 2;
  }
  options.latency = std::chrono::milliseconds(latency_ms);
  options.ttfb = std::chrono::milliseconds(ttfb_ms);
  options.gap = std::chrono::milliseconds(gap_ms);

  // Block the signals before any thread starts, so only sigwait() below receives them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  switchyard::mock::MockUpstream mock(options);
  try {
    mock.Start();
  } catch (const std::exception& e) {
    std::cerr << "switchyard-mock: cannot start: " << e.what() << "\n";
    return 1;
  }
  std::printf("switchyard-mock listening on %s:%u\n", options.address.c_str(),
              static_cast<unsigned>(mock.port()));
  std::fflush(stdout);

  int signal = 0;
  sigwait(&signals, &signal);
  mock.Stop();
  return 0;
}
