// One throwaway PostgreSQL cluster per test binary (label db and system tests).
#pragma once

#include <memory>
#include <string>

#include "holomush/common/local_postgres.hpp"

namespace holomush::testing {

// Started on first use in a temp directory on a free port; removed at exit.
common::LocalPostgres& SharedPostgres();
// A fresh, empty database on the shared cluster; returns its URL.
std::string FreshDatabase(const std::string& prefix = "t");

}  // namespace holomush::testing
