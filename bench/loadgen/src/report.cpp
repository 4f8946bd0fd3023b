#include "holomush/loadgen/report.hpp"

#include <stdexcept>

namespace holomush::loadgen {

void WriteReport(const ReportConfig&) { throw std::runtime_error("report: not written yet"); }

}  // namespace holomush::loadgen
