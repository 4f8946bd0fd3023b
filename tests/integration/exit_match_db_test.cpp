// The seam between core's in-memory exit matching and what PostgreSQL's pg_trgm computed
// before it: the same similarity for every pair, so the threshold means what it meant.
#include <gtest/gtest.h>

#include <pqxx/pqxx>
#include <string>
#include <utility>
#include <vector>

#include "game/exit_match.hpp"
#include "support/postgres.hpp"

namespace holomush::core {
namespace {

TEST(ExitMatchDbTest, TrigramSimilarityAgreesWithPgTrgm) {
  pqxx::connection conn(testing::FreshDatabase("trgm"));
  pqxx::nontransaction txn(conn);
  txn.exec0("CREATE EXTENSION pg_trgm");
  const std::vector<std::pair<std::string, std::string>> pairs = {
      {"north", "north"},
      {"north", "nroth"},
      {"north", "northh"},
      {"north", "noth"},
      {"North", "NORTH"},
      {"n", "north"},
      {"ne", "northeast"},
      {"northeast", "norhteast"},
      {"b12", "b1"},
      {"b12", "b125"},
      {"b12", "b21"},
      {"out", "ouy"},
      {"go-north", "go north"},
      {"the old oak door", "old door"},
      {"Door 7", "door7"},
      {"---", "north"},
      {"", ""},
      {"a", "a"},
      {"aaa", "aaaa"},
      {"up the stairs", "stairs up"},
      {"x1y2z3", "x1 y2 z3"},
      {"elevator", "elevatro"},
      {"sw", "southwest"},
      {"  spaced  out  ", "spaced out"},
  };
  for (const auto& [a, b] : pairs) {
    const float theirs = txn.exec_params1("SELECT similarity($1, $2)", a, b)[0].as<float>();
    EXPECT_FLOAT_EQ(TrigramSimilarity(a, b), theirs) << "similarity('" << a << "', '" << b << "')";
  }
}

}  // namespace
}  // namespace holomush::core
