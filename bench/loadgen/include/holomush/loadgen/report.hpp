// Writes bench/RESULTS.md from a folder of scenario JSON files: the generated part sits
// between two marker comments and is replaced on every run; text outside them is kept.
#pragma once

#include <string>

namespace holomush::loadgen {

struct ReportConfig {
  std::string results_dir;
  std::string out_path;
};

void WriteReport(const ReportConfig& config);

}  // namespace holomush::loadgen
