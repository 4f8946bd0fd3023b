// Writes bench/RESULTS.md from a folder of scenario JSON files: the generated parts sit
// between marker comments (the scenarios' figures; the abuse runs' figures) and each is
// replaced when the folder has figures for it; text outside them is kept.
#pragma once

#include <string>

namespace holomush::loadgen {

struct ReportConfig {
  std::string results_dir;
  std::string out_path;
};

void WriteReport(const ReportConfig& config);

// The file's new text: `main_block` and `abuse_block` (each with its marker comments) put in
// place of their old blocks, or appended when the file has none; an empty block leaves its
// old one as it was.
std::string MergeReport(const std::string& existing, const std::string& main_block,
                        const std::string& abuse_block);

}  // namespace holomush::loadgen
